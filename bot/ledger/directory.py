"""LAOs, their members, join codes and demo sandboxes: who may use which LAO's ledger."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Container, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from typing import Any, Literal, NoReturn, TypeVar

import msgspec

from bot.core.codec import decode, encode
from bot.core.store import Store
from bot.core.thaifmt import thai_date
from bot.ledger.entries import SANDBOX_PREFIX, Lao, is_sandbox
from bot.ledger.names import name_problem, tidy_name
from bot.ledger.summary import Summaries
from bot.notices.outbox import normalize_province

_LOG = logging.getLogger(__name__)
K = TypeVar("K", bound=msgspec.Struct)
Role = Literal["admin", "member"]
LAOS = "laos"
MEMBERS = "members"
INVITES = "invites"
JOIN_FAILURES = "join_failures"
SANDBOXES = "sandboxes"
INVITE_DAYS = 7
EXPIRED_KEPT_DAYS = 30
"""An expired join code is kept this long after its expiry, so typing it says it expired."""
NOT_A_CODE = ("รหัสเข้าร่วมไม่ถูกต้องค่ะ รหัสมี 8 ตัว เป็นตัวอักษรภาษาอังกฤษกับตัวเลข 2-9 "
              "(ไม่มี 0, O, 1, I) เช่น H4KP7W2M ตรวจแล้วพิมพ์ใหม่ได้ (ครั้งนี้ไม่นับเป็นการใส่ผิด)")
# How long a join code may live, by role, on every path that makes one (chat, console, CLI,
# spool): an admin code hands over the LAO's books, so it lives a week at most.
MAX_INVITE_DAYS: dict[Role, int] = {"member": 30, "admin": 7}
MAX_JOIN_FAILURES = 5
"""Wrong join codes a user may type per day before further tries are refused until tomorrow."""
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
_LAO_CODE = re.compile(r"^\d{4,10}$")
MAX_LAO_NAME = 120


class LedgerError(ValueError):
    """A ledger action was refused; ``str(e)`` is the Thai message for the user."""


class LastAdmin(LedgerError):
    """The user is the only admin of ``lao_code``: leaving it would leave nobody to manage it."""

    def __init__(self, lao_code: str):
        super().__init__(f"ผู้ดูแลคนเดียวของ อปท. {lao_code} ออกไม่ได้")
        self.lao_code = lao_code


class Member(msgspec.Struct, frozen=True):
    """A chat account bound to one LAO (stored under ``user``, without it)."""

    user: str
    lao_code: str
    role: Role
    name: str
    joined_at: datetime
    joined_code: str = ""  # the join code used: typing it again says "already a member"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Invite(msgspec.Struct, frozen=True):
    """A one-time join code (stored under ``code``, without it)."""

    code: str
    lao_code: str
    role: Role
    expires_at: datetime
    created_by: str = ""

def _keyed(doc: dict[str, Any], type_: type[K], key: str, table: str) -> K:
    """A stored document whose first field is the key it is stored under (older member
    documents may lack the name)."""
    first = msgspec.structs.fields(type_)[0].name
    return decode({"name": "", **doc, first: key}, type_, where=f"{table}/{key}")


def _unkeyed(value: msgspec.Struct, key_field: str) -> dict[str, Any]:
    """The document of ``value`` without the field that is its key (the shape kept on disk)."""
    doc = encode(value)
    del doc[key_field]
    return doc


def new_join_code() -> str:
    """Eight characters from an alphabet without look-alikes (0/O, 1/I)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def code_key(code: str) -> str:
    """A typed join code as stored: no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]", "", code).upper()


def check_invite_days(role: Role, days: int) -> None:
    """Raise LedgerError (Thai) unless a ``role`` join code may live ``days`` days."""
    top = MAX_INVITE_DAYS[role]
    if not 1 <= days <= top:
        raise LedgerError(f"รหัสเข้าร่วม{'ผู้ดูแล' if role == 'admin' else 'สมาชิก'}มีอายุได้ "
                          f"1-{top} วัน (ได้รับ {days})")


def valid_lao_code(code: str) -> bool:
    """A real LAO's code: DLA codes are strings of digits (leading zeros matter), never
    one reserved for the demo sandboxes."""
    return bool(_LAO_CODE.match(code)) and not is_sandbox(code)


def _locked(today: date) -> str:
    """What a user locked out of joining for ``today`` may do: wait for the next day (the lock
    stops guessing, so a good code is refused too until then)."""
    return (f"ใส่รหัสผิดครบ {MAX_JOIN_FAILURES} ครั้งแล้ววันนี้ เพื่อความปลอดภัยบอทจะไม่รับรหัสใด ๆ "
            f"จากบัญชีนี้จนถึงเที่ยงคืน ลองใหม่ได้ตั้งแต่วันที่ {thai_date(today + timedelta(days=1))} "
            "(รหัสที่ยังไม่หมดอายุใช้ได้ตามเดิม)")


def code_shaped(key: str) -> bool:
    """``key`` (see :func:`code_key`) could be a join code: eight characters of its alphabet.
    Anything else is refused without counting as a wrong try (it was never a guess)."""
    return len(key) == 8 and set(key) <= set(_CODE_ALPHABET)


def bare_join_code(text: str) -> str | None:
    """The join code when ``text`` is only something shaped like one (``DH3QFQPL``, spaces or
    dashes allowed): eight characters of the code alphabet with a letter, and a digit unless
    typed in capitals (a lower-case word such as ``statuses`` is not taken for a code)."""
    key = code_key(text)
    if not code_shaped(key) or key.isdigit():
        return None
    return key if any(c.isdigit() for c in key) or text.strip().isupper() else None


def _lao_problems(code: str, name: str) -> list[str]:
    out = [] if valid_lao_code(code) else [
        f"รหัส อปท. ต้องเป็นตัวเลข 4-10 หลัก ไม่ขึ้นต้นด้วย {SANDBOX_PREFIX} (รหัสโหมดทดลอง) "
        f"(ได้รับ {code!r})"]
    if not name.strip():
        return [*out, "ต้องมีชื่อ อปท."]
    return out if len(name.strip()) <= MAX_LAO_NAME else [
        *out, f"ชื่อ อปท. ยาวได้ไม่เกิน {MAX_LAO_NAME} ตัวอักษร"]


NO_PROVINCE = ("ต้องระบุจังหวัด เช่น --province ลำพูน "
               "(ผู้ดูแลจังหวัดเห็นเฉพาะ อปท. ในจังหวัดของตน)")


def checked_lao(code: str, name: str, province: str) -> Lao:
    """An LAO as an operator typed it, checked: a DLA code of digits, a name, and a Thai
    province folded as operators' provinces are ("จ.ลำพูน" -> "ลำพูน").

    The province is required: provincial operators see the LAOs of their provinces only, so
    an LAO without one would be seen by national admins only. It is not read from the code:
    the DLA code's layout (type, province, district, number) is an unconfirmed lead.

    Raises:
        LedgerError: every problem found, in Thai.
    """
    problems = _lao_problems(code, name)
    folded = normalize_province(province) if province.strip() else ""
    if folded is None:
        problems.append(f"ไม่รู้จักจังหวัด \"{province.strip()}\"")
    elif not folded:
        problems.append(NO_PROVINCE)
    if problems:
        raise LedgerError(" · ".join(problems))
    return Lao(code, name.strip(), folded or "")


class Directory:
    """LAOs, their members and join codes (one small table each)."""

    def __init__(self, store: Store):
        self._store = store
        self._laos = store.table(LAOS)
        self._members = store.table(MEMBERS)
        self._invites = store.table(INVITES)
        self._failures = store.table(JOIN_FAILURES)
        self._sandboxes = store.table(SANDBOXES)

    @property
    def _summaries(self) -> Summaries:
        # Looked up at write time only: read-only CLI commands open a Directory on a data dir
        # that serve owns and must not write (or rebuild) summaries there.
        return Summaries.of(self._store)

    # LAOs -----------------------------------------------------------------
    def add_lao(self, lao: Lao, *, sandbox: bool = False) -> Lao:
        """Register an LAO (or update its name/province); ``sandbox``: a demo's (its code
        must be reserved for demos, see :func:`is_sandbox`; a real LAO's must not)."""
        if sandbox:
            if not (_LAO_CODE.match(lao.code) and is_sandbox(lao.code) and lao.name.strip()):
                raise LedgerError(f"รหัสโหมดทดลองต้องขึ้นต้นด้วย {SANDBOX_PREFIX} (ได้รับ {lao.code!r})")
        elif problems := _lao_problems(lao.code, lao.name):
            raise LedgerError(problems[0])
        self._laos.put(lao.code, encode(Lao(lao.code, lao.name.strip(), lao.province.strip())))
        self._summaries.on_lao(lao.code, lao.name.strip(), lao.province.strip())
        return lao

    def lao(self, code: str) -> Lao | None:
        d = self._laos.get(code)
        return decode(d, Lao, where=f"{LAOS}/{code}") if d else None

    def laos(self) -> list[Lao]:
        """The real LAOs (no demo sandbox), by code."""
        return sorted((decode(d, Lao, where=f"{LAOS}/{k}") for k, d in self._laos.all().items()
                       if not is_sandbox(k)), key=lambda x: x.code)

    # demo sandboxes ---------------------------------------------------------
    def sandbox(self, user: str) -> str | None:
        """The code of ``user``'s own demo LAO, None if they have none yet."""
        d = self._sandboxes.get(user)
        return str(d["code"]) if d else None

    def add_sandbox(self, user: str, name: str, province: str) -> Lao:
        """``user``'s own demo LAO, made on first use (nobody else is ever bound to it)."""
        with self._store.transaction(f"sandbox:{user}"):
            code = self.sandbox(user)
            while code is None:
                code = SANDBOX_PREFIX + "".join(secrets.choice("0123456789") for _ in range(8))
                if self.lao(code) is not None:
                    code = None  # taken (by another user's demo): draw again
                else:
                    self._sandboxes.put(user, {"code": code})
            lao = self.lao(code)
            return lao or self.add_lao(Lao(code, name, province), sandbox=True)

    # members --------------------------------------------------------------
    def _shared_demo(self, user: str, lao_code: str) -> bool:
        """``lao_code`` is a demo's but not ``user``'s own: the demo old installs shared (what
        others logged there stays out of sight: such a binding is no membership)."""
        return is_sandbox(lao_code) and lao_code != self.sandbox(user)

    def member(self, user: str) -> Member | None:
        """``user``'s membership; None also for a binding to the shared demo of old installs."""
        d = self._members.get(user)
        if d is None or self._shared_demo(user, d["lao_code"]):
            return None
        return _keyed(d, Member, user, MEMBERS)

    def left_shared_demo(self, user: str) -> bool:
        """Whether ``user`` was still bound to the shared demo of old installs; that binding
        is dropped here, so this is True once (they are told once that it closed)."""
        d = self._members.get(user)
        if d is None or not self._shared_demo(user, d["lao_code"]):
            return False
        self._members.delete(user)
        return True

    def members(self, lao_code: str) -> list[Member]:
        out = []
        for user, d in self._members.all().items():
            if d["lao_code"] != lao_code or self._shared_demo(user, lao_code):
                continue
            out.append(_keyed(d, Member, user, MEMBERS))
        return sorted(out, key=lambda m: m.joined_at)

    def names(self, lao_code: str) -> dict[str, str]:
        """The members' names shown in exports and lists, by user (members without one left
        out: bot.ledger.names.shown_name labels them)."""
        return {m.user: m.name for m in self.members(lao_code) if m.name}

    def admins(self, lao_code: str) -> list[Member]:
        return [m for m in self.members(lao_code) if m.is_admin]

    def last_admin(self, user: str) -> bool:
        """``user`` is an admin of an LAO that has no other admin."""
        m = self.member(user)
        return m is not None and m.is_admin and not any(
            a.user != user for a in self.admins(m.lao_code))

    def bind(self, user: str, lao_code: str, role: Role, name: str, now: datetime,
             code: str = "") -> Member:
        """Bind ``user`` to an LAO (replacing an earlier binding). A name already known is
        kept (a move to another LAO keeps it; only :meth:`rename` changes it); else ``name``,
        the channel's, tidied (see :func:`tidy_name`)."""
        _, _, user_id = user.partition(":")
        if not user_id.strip():  # an anonymous event (no real user id) is never a member
            raise LedgerError("เข้าร่วม อปท. ได้เฉพาะในแชตส่วนตัวกับบอทค่ะ")
        if self.lao(lao_code) is None:
            raise LedgerError("ไม่พบ อปท. นี้ในระบบ")
        old = self.member(user)
        name = old.name if old is not None and old.name else tidy_name(name)
        member = Member(user, lao_code, role, name, now, code)
        self._members.put(user, _unkeyed(member, "user"))
        if old is None or old.lao_code != lao_code:
            if old is not None:
                self._summaries.on_member(old.lao_code, -1)
            self._summaries.on_member(lao_code, +1)
        return member

    def rename(self, user: str, name: str) -> Member:
        """Set the name ``user`` is shown by in reports (their own membership only).

        Raises:
            LedgerError: ``user`` is in no LAO, or ``name`` cannot be a name (see
                :func:`name_problem`).
        """
        problem = name_problem(name)
        if problem is not None:
            raise LedgerError(problem)
        old = self.member(user)
        if old is None:
            raise LedgerError("ตอนนี้ยังไม่ได้อยู่ใน อปท. ใดค่ะ")
        member = msgspec.structs.replace(old, name=tidy_name(name))
        self._members.put(user, _unkeyed(member, "user"))
        return member

    @contextmanager
    def _admins_lock(self, lao_code: str) -> Iterator[None]:
        """One transaction for a change to who administers ``lao_code`` and its checks: two
        admins leaving (or removing each other) at once cannot both pass "not the last"."""
        with self._store.transaction(f"lao-admins:{lao_code}"):
            yield

    def _refuse_last_admin(self, user: str, exempt: Container[str]) -> None:
        """Raises :class:`LastAdmin` when ``user`` is the last admin of an LAO not ``exempt``
        (call it under that LAO's :meth:`_admins_lock`)."""
        m = self.member(user)
        if (m is not None and m.lao_code not in exempt and not is_sandbox(m.lao_code)
                and self.last_admin(user)):
            raise LastAdmin(m.lao_code)

    def leave(self, user: str, *, exempt: Container[str] = ()) -> Member | None:
        """Unbind ``user`` unless they are the last admin of their LAO (checked and removed
        in one transaction); the old membership, None when there was none.

        Raises:
            LastAdmin: nothing changed (LAOs in ``exempt``, such as the demo, are not checked).
        """
        while (m := self.member(user)) is not None:
            with self._admins_lock(m.lao_code):
                now = self.member(user)
                if now is None or now.lao_code != m.lao_code:
                    continue  # moved meanwhile: lock the LAO they are in now
                self._refuse_last_admin(user, exempt)
                self.unbind(user)
                return now
        return None

    def remove(self, user: str, lao_code: str, by: str) -> Member:
        """``by``, an admin of ``lao_code``, removes ``user`` from it; one transaction with the
        checks, so two admins removing each other at once leave one of them.

        Raises:
            LedgerError: ``by`` is no admin of the LAO (any more), or ``user`` is not in it.
        """
        with self._admins_lock(lao_code):
            admin = self.member(by)
            if admin is None or admin.lao_code != lao_code or not admin.is_admin:
                raise LedgerError("ลบสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")
            target = self.member(user)
            if target is None or target.lao_code != lao_code:
                raise LedgerError("ไม่พบสมาชิกนี้แล้วค่ะ")
            self.unbind(user)
        return target

    def unbind(self, user: str) -> None:
        old = self.member(user)
        self._members.delete(user)
        if old is not None:
            self._summaries.on_member(old.lao_code, -1)

    # invites --------------------------------------------------------------
    def invite(self, lao_code: str, role: Role, by: str, now: datetime,
               days: int = INVITE_DAYS, code: str | None = None) -> Invite:
        """A new one-time join code for ``lao_code`` that expires after ``days``.

        ``code`` is one made earlier by :func:`new_join_code` (the CLI prints it before a
        running server stores it); by default a fresh one is made here.
        """
        check_invite_days(role, days)
        if self.lao(lao_code) is None:
            raise LedgerError(f"ไม่พบ อปท. รหัส {lao_code}")
        self._purge(now)
        code = code or new_join_code()
        inv = Invite(code, lao_code, role, now + timedelta(days=days), by)
        self._invites.put(code, _unkeyed(inv, "code"))
        return inv

    def redeem(self, code: str, user: str, name: str, now: datetime, *,
               exempt: Container[str] = ()) -> Member:
        """Use a join code once; raises LedgerError with a Thai reason (:class:`LastAdmin`
        when it would move the last admin of an LAO not in ``exempt`` away; the code stays).

        Wrong codes are counted per user per day; after MAX_JOIN_FAILURES the user is refused
        until the next day without the code even being looked up (no guessing at speed).
        """
        key = self._shaped(code)
        day, failed, tries = self._tries(user, now)
        # One transaction: two people typing the same code at once, on any instance, bind
        # one account; the code is gone together with the binding it made.
        with self._store.transaction(f"invite:{key}"):
            d = self._invites.get(key)
            inv = None if d is None else _keyed(d, Invite, key, INVITES)
            expired = inv is not None and inv.expires_at < now
            if inv is not None:
                if not expired:
                    old = self.member(user)
                    leaving = old is not None and old.lao_code != inv.lao_code
                    with self._admins_lock(old.lao_code) if old and leaving else nullcontext():
                        if leaving:
                            self._refuse_last_admin(user, exempt)
                        member = self.bind(user, inv.lao_code, inv.role, name, now, key)
                    self._invites.delete(key)  # an expired one is kept: see EXPIRED_KEPT_DAYS
        if d is None:
            self._wrong_code(user, day, failed)
        if expired and inv is not None:
            raise LedgerError(self._expired(inv))
        if tries:
            self._failures.delete(user)
        return member

    def peek(self, code: str, user: str, now: datetime) -> Invite:
        """The unexpired invite behind ``code``, without using it (to ask before a move).

        A wrong code counts as a failed try, as in :meth:`redeem`.
        """
        key = self._shaped(code)
        day, failed, _ = self._tries(user, now)
        d = self._invites.get(key)
        if d is None:
            self._wrong_code(user, day, failed)
        inv = _keyed(d, Invite, key, INVITES)
        if inv.expires_at < now:
            raise LedgerError(self._expired(inv))
        return inv

    @staticmethod
    def _shaped(code: str) -> str:
        """The stored form of ``code``; refuses, without counting a try, a text of another
        shape (``1234``)."""
        key = code_key(code)
        if not code_shaped(key):
            raise LedgerError(NOT_A_CODE)
        return key

    def _expired(self, inv: Invite) -> str:
        """What to say about an expired code: whose it was, when it expired, who to ask."""
        lao = self.lao(inv.lao_code)
        whose = lao.name if lao else f"อปท. รหัส {inv.lao_code}"
        return (f"รหัสเข้าร่วมนี้ของ {whose} หมดอายุแล้ว (เมื่อ {thai_date(inv.expires_at.date())}) "
                f"ขอรหัสใหม่จากผู้ดูแลของ {whose} ค่ะ")

    def _tries(self, user: str, now: datetime) -> tuple[str, int, dict[str, Any]]:
        """Today, the wrong codes ``user`` typed today, their record; refuses a locked user."""
        day = now.date().isoformat()
        tries = self._failures.get(user) or {}
        failed = int(tries.get("count", 0)) if tries.get("day") == day else 0
        if failed >= MAX_JOIN_FAILURES:
            _LOG.warning("join: %s locked out for today after %d wrong codes", user, failed)
            raise LedgerError(_locked(now.date()))
        return day, failed, tries

    def _wrong_code(self, user: str, day: str, failed: int) -> NoReturn:
        failed += 1
        self._note_failure(user, day, failed)
        _LOG.warning("join: wrong code from %s (%d of %d today)", user, failed,
                     MAX_JOIN_FAILURES)
        if failed >= MAX_JOIN_FAILURES:
            raise LedgerError(f"รหัสเข้าร่วมไม่ถูกต้องค่ะ {_locked(date.fromisoformat(day))}")
        raise LedgerError("รหัสเข้าร่วมไม่ถูกต้อง หรือถูกใช้ไปแล้ว ขอรหัสใหม่จากผู้ดูแล อปท. ค่ะ "
                          f"(วันนี้ลองได้อีก {MAX_JOIN_FAILURES - failed} ครั้ง)")

    def _note_failure(self, user: str, day: str, count: int) -> None:
        # Counts of earlier days are dropped here, so the table holds at most one day.
        stale = [k for k, v in self._failures.all().items() if v.get("day") != day]
        for k in stale:
            self._failures.delete(k)
        self._failures.put(user, {"day": day, "count": count})

    def invites(self, lao_code: str, now: datetime) -> list[Invite]:
        """Unexpired join codes of ``lao_code``, newest expiry first."""
        out = [_keyed(d, Invite, k, INVITES)
               for k, d in self._invites.all().items() if d["lao_code"] == lao_code]
        return sorted((i for i in out if i.expires_at >= now), key=lambda i: i.expires_at,
                      reverse=True)

    def revoke(self, code: str, lao_code: str) -> bool:
        """Delete join code ``code`` of ``lao_code``; whether there was one."""
        d = self._invites.get(code)
        if d is None or d["lao_code"] != lao_code:
            return False
        self._invites.delete(code)
        return True

    def _purge(self, now: datetime) -> None:
        for key, d in self._invites.all().items():
            if datetime.fromisoformat(d["expires_at"]) < now - timedelta(days=EXPIRED_KEPT_DAYS):
                self._invites.delete(key)
