"""Per-LAO manual ledger: LAOs, membership, join codes, numbered entries, voids, key-back marks."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, NoReturn, TypeVar

import msgspec
from msgspec.structs import replace

from bot.core.codec import decode, encode
from bot.core.store import Store
from bot.ledger.duplicates import DuplicateFound, doc_key, find_duplicates
from bot.ledger.entries import Entry, Lao, ParsedEntry, Void
from bot.ledger.summary import Summaries

_LOG = logging.getLogger(__name__)
K = TypeVar("K", bound=msgspec.Struct)
Role = Literal["admin", "member"]
LAOS = "laos"
MEMBERS = "members"
INVITES = "invites"
JOIN_FAILURES = "join_failures"
INVITE_DAYS = 7
EXPIRED_CODE = "รหัสเข้าร่วมหมดอายุแล้ว ขอรหัสใหม่จากผู้ดูแล อปท. ค่ะ"
MAX_JOIN_FAILURES = 5
"""Wrong join codes a user may type per day before further tries are refused until tomorrow."""
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
_LAO_CODE = re.compile(r"^\d{4,10}$")
_RANGE = re.compile(r"(\d+)(?:\s*(?:-|–|ถึง)\s*(\d+))?")


class LedgerError(ValueError):
    """A ledger action was refused; ``str(e)`` is the Thai message for the user."""


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


@dataclass(frozen=True)
class DaySummary:
    """Totals of one day (voided entries excluded)."""

    day: date
    receipts: Decimal
    payments: Decimal
    count: int

    @property
    def net(self) -> Decimal:
        return self.receipts - self.payments


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


def valid_lao_code(code: str) -> bool:
    """DLA codes are strings of digits; leading zeros matter."""
    return bool(_LAO_CODE.match(code))


class Directory:
    """LAOs, their members and join codes (one small table each)."""

    def __init__(self, store: Store):
        self._store = store
        self._laos = store.table(LAOS)
        self._members = store.table(MEMBERS)
        self._invites = store.table(INVITES)
        self._failures = store.table(JOIN_FAILURES)

    @property
    def _summaries(self) -> Summaries:
        # Looked up at write time only: read-only CLI commands open a Directory on a data dir
        # that serve owns and must not write (or rebuild) summaries there.
        return Summaries.of(self._store)

    # LAOs -----------------------------------------------------------------
    def add_lao(self, lao: Lao) -> Lao:
        """Register an LAO (or update its name/province)."""
        if not valid_lao_code(lao.code):
            raise LedgerError(f"รหัส อปท. ต้องเป็นตัวเลข 4-10 หลัก (ได้รับ {lao.code!r})")
        if not lao.name.strip():
            raise LedgerError("ต้องมีชื่อ อปท.")
        self._laos.put(lao.code, encode(Lao(lao.code, lao.name.strip(), lao.province.strip())))
        self._summaries.on_lao(lao.code, lao.name.strip(), lao.province.strip())
        return lao

    def lao(self, code: str) -> Lao | None:
        d = self._laos.get(code)
        return decode(d, Lao, where=f"{LAOS}/{code}") if d else None

    def laos(self) -> list[Lao]:
        return sorted((decode(d, Lao, where=f"{LAOS}/{k}") for k, d in self._laos.all().items()),
                      key=lambda x: x.code)

    # members --------------------------------------------------------------
    def member(self, user: str) -> Member | None:
        d = self._members.get(user)
        return _keyed(d, Member, user, MEMBERS) if d else None

    def members(self, lao_code: str) -> list[Member]:
        out = []
        for user, d in self._members.all().items():
            if d["lao_code"] == lao_code:
                out.append(_keyed(d, Member, user, MEMBERS))
        return sorted(out, key=lambda m: m.joined_at)

    def admins(self, lao_code: str) -> list[Member]:
        return [m for m in self.members(lao_code) if m.is_admin]

    def last_admin(self, user: str) -> bool:
        """``user`` is an admin of an LAO that has no other admin."""
        m = self.member(user)
        return m is not None and m.is_admin and not any(
            a.user != user for a in self.admins(m.lao_code))

    def bind(self, user: str, lao_code: str, role: Role, name: str, now: datetime,
             code: str = "") -> Member:
        """Bind ``user`` to an LAO (replacing an earlier binding)."""
        _, _, user_id = user.partition(":")
        if not user_id.strip():  # an anonymous event (no real user id) is never a member
            raise LedgerError("เข้าร่วม อปท. ได้เฉพาะในแชตส่วนตัวกับบอทค่ะ")
        if self.lao(lao_code) is None:
            raise LedgerError("ไม่พบ อปท. นี้ในระบบ")
        old = self.member(user)
        member = Member(user, lao_code, role, name, now, code)
        self._members.put(user, _unkeyed(member, "user"))
        if old is None or old.lao_code != lao_code:
            if old is not None:
                self._summaries.on_member(old.lao_code, -1)
            self._summaries.on_member(lao_code, +1)
        return member

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
        if self.lao(lao_code) is None:
            raise LedgerError(f"ไม่พบ อปท. รหัส {lao_code}")
        self._purge(now)
        code = code or new_join_code()
        inv = Invite(code, lao_code, role, now + timedelta(days=days), by)
        self._invites.put(code, _unkeyed(inv, "code"))
        return inv

    def redeem(self, code: str, user: str, name: str, now: datetime) -> Member:
        """Use a join code once; raises LedgerError with a Thai reason.

        Wrong codes are counted per user per day; after MAX_JOIN_FAILURES the user is refused
        until the next day without the code even being looked up (no guessing at speed).
        """
        day, failed, tries = self._tries(user, now)
        key = code_key(code)
        # One transaction: two people typing the same code at once, on any instance, bind
        # one account; the code is gone together with the binding it made.
        with self._store.transaction(f"invite:{key}"):
            d = self._invites.get(key)
            inv = None if d is None else _keyed(d, Invite, key, INVITES)
            expired = inv is not None and inv.expires_at < now
            if inv is not None:
                if not expired:
                    member = self.bind(user, inv.lao_code, inv.role, name, now, key)
                self._invites.delete(key)
        if d is None:
            self._wrong_code(user, day, failed)
        if expired:
            raise LedgerError(EXPIRED_CODE)
        if tries:
            self._failures.delete(user)
        return member

    def peek(self, code: str, user: str, now: datetime) -> Invite:
        """The unexpired invite behind ``code``, without using it (to ask before a move).

        A wrong code counts as a failed try, as in :meth:`redeem`.
        """
        day, failed, _ = self._tries(user, now)
        key = code_key(code)
        d = self._invites.get(key)
        if d is None:
            self._wrong_code(user, day, failed)
        inv = _keyed(d, Invite, key, INVITES)
        if inv.expires_at < now:
            raise LedgerError(EXPIRED_CODE)
        return inv

    def _tries(self, user: str, now: datetime) -> tuple[str, int, dict[str, Any]]:
        """Today, the wrong codes ``user`` typed today, their record; refuses a locked user."""
        day = now.date().isoformat()
        tries = self._failures.get(user) or {}
        failed = int(tries.get("count", 0)) if tries.get("day") == day else 0
        if failed >= MAX_JOIN_FAILURES:
            _LOG.warning("join: %s locked out for today after %d wrong codes", user, failed)
            raise LedgerError(f"ใส่รหัสเข้าร่วมผิดครบ {MAX_JOIN_FAILURES} ครั้งแล้ววันนี้ "
                              "ลองใหม่พรุ่งนี้ หรือขอรหัสใหม่จากผู้ดูแล อปท. ค่ะ")
        return day, failed, tries

    def _wrong_code(self, user: str, day: str, failed: int) -> NoReturn:
        failed += 1
        self._note_failure(user, day, failed)
        _LOG.warning("join: wrong code from %s (%d of %d today)", user, failed,
                     MAX_JOIN_FAILURES)
        raise LedgerError("รหัสเข้าร่วมไม่ถูกต้อง หรือถูกใช้ไปแล้ว ขอรหัสใหม่จากผู้ดูแล อปท. ค่ะ")

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
            if datetime.fromisoformat(d["expires_at"]) < now:
                self._invites.delete(key)


class Ledger:
    """The entries of one LAO, in one table, with an in-memory copy kept up to date.

    Before every read the copy catches up with what was written since (``Table.since``: one
    indexed query on PostgreSQL, nothing on the embedded stores), so several processes on
    one database see each other's entries. Every change runs inside
    ``store.transaction("ledger:<code>")``: numbering and the event-id check see every
    earlier entry, and a change is written through the store before it is acknowledged.
    """

    def __init__(self, store: Store, lao_code: str):
        self.lao_code = lao_code
        self._store = store
        self._table = store.table(f"lao/{lao_code}/ledger")
        self._entries: dict[int, Entry] = {}
        self._by_event: dict[str, int] = {}
        self._by_doc: dict[tuple[str, str], list[int]] = {}  # (kind, doc_key) -> entry numbers
        self._last_no = 0  # max(self._entries) kept up to date: O(1) numbering at 100k entries
        self._rev = 0
        self._lock = threading.RLock()
        self._verified = False
        self._sync()

    def _sync(self) -> None:
        """Catch up with entries written since the last look, by this process or another."""
        with self._lock:
            docs, rev = self._table.since(self._rev)
            for key, doc in docs.items():
                self._remember(decode(doc, Entry, where=f"lao/{self.lao_code}/ledger/{key}"))
            self._rev = max(self._rev, rev)

    def _remember(self, e: Entry) -> None:
        self._entries[e.no] = e
        self._last_no = max(self._last_no, e.no)
        if e.event_id:
            self._by_event[e.event_id] = e.no
        if e.doc_no:
            nos = self._by_doc.setdefault((e.kind, doc_key(e.doc_no)), [])
            if e.no not in nos:
                nos.append(e.no)

    @contextlib.contextmanager
    def _change(self) -> Iterator[list[Entry]]:
        """Serialise a change with every other one on this LAO, in any process.

        The block appends the entries it wrote; they join the copy only once the store
        has committed them.
        """
        written: list[Entry] = []
        with self._lock:
            with self._store.transaction(f"ledger:{self.lao_code}"):
                self._sync()
                yield written
            for e in written:
                self._remember(e)

    def _summary(self) -> Summaries:
        """The store's summaries, after checking this LAO's against the entries once: a crash
        between a ledger write and its summary write is repaired by the next write (only the
        owner of the data dir writes, so read-only openers never touch the summaries)."""
        sums = Summaries.of(self._store)
        if not self._verified:
            sums.verify(self.lao_code, self._entries.values())
            self._verified = True
        return sums

    def __len__(self) -> int:
        self._sync()
        return len(self._entries)

    def get(self, no: int) -> Entry | None:
        self._sync()
        return self._entries.get(no)

    def add_many(
        self, items: Sequence[tuple[ParsedEntry, str]], *, author: str, author_name: str,
        channel: str, now: datetime, check_duplicates: bool = False,
    ) -> list[tuple[Entry, bool]]:
        """Save parsed entries (each with its event id) in one atomic write.

        Returns:
            ``(entry, created)`` pairs; ``created`` is False for an event id already saved
            (a redelivered webhook), which returns the earlier entry instead of a copy.

        Raises:
            DuplicateFound: with ``check_duplicates``, some new items repeat a document number
                or were sent twice (see :mod:`bot.ledger.duplicates`); nothing is saved.
        """
        with self._change() as written:
            if check_duplicates:
                found = [d for d in find_duplicates(
                    [p for p, _ in items], by_doc=self._live_by_doc, recent=self._newest(),
                    author=author, now=now) if items[d.line][1] not in self._by_event]
                if found:
                    raise DuplicateFound(found)
            out: list[tuple[Entry, bool]] = []
            fresh: dict[str, Entry] = {}
            seen: dict[str, Entry] = {}
            nxt = self._last_no + 1
            for parsed, event_id in items:
                known = self._by_event.get(event_id) if event_id else None
                if known is not None or event_id in seen:
                    out.append((self._entries[known] if known is not None
                                else seen[event_id], False))
                    continue
                e = Entry(
                    lao_code=self.lao_code, no=nxt, kind=parsed.kind, amount=parsed.amount,
                    description=parsed.description, date=parsed.date, doc_no=parsed.doc_no,
                    method=parsed.method, author=author, author_name=author_name,
                    recorded_at=now, event_id=event_id, channel=channel,
                )
                nxt += 1
                fresh[f"{e.no:07d}"] = e
                if event_id:
                    seen[event_id] = e
                out.append((e, True))
            if fresh:
                sums = self._summary()
                self._table.put_many({k: encode(e) for k, e in fresh.items()})
                written.extend(fresh.values())
                sums.on_entries(self.lao_code, [(None, e) for e in fresh.values()])
        return out

    def _live_by_doc(self, kind: str, key: str) -> Entry | None:
        for no in self._by_doc.get((kind, key), ()):
            e = self._entries[no]
            if not e.voided:
                return e
        return None

    def _newest(self) -> Iterator[Entry]:
        for no in range(self._last_no, 0, -1):
            e = self._entries.get(no)
            if e is not None:
                yield e

    def void(self, no: int, *, by: str, reason: str, now: datetime, may_void_any: bool) -> Entry:
        """Mark an entry void (never deleted). Its author or an LAO admin may void it."""
        with self._change() as written:
            e = self._entries.get(no)
            if e is None:
                raise LedgerError(f"ไม่พบรายการที่ {no}")
            if e.voided:
                raise LedgerError(f"รายการที่ {no} ยกเลิกไปแล้วค่ะ")
            if e.author != by and not may_void_any:
                raise LedgerError("ยกเลิกได้เฉพาะรายการที่ตัวเองบันทึก หรือผู้ดูแล อปท. เท่านั้นค่ะ")
            voided = replace(e, void=Void(by, now, reason.strip() or "-"))
            self._write([voided], written)
        return voided

    def mark_keyed(self, nos: Iterable[int], *, by: str, now: datetime) -> list[Entry]:
        """Mark entries as keyed back into e-LAAS; returns those newly marked."""
        with self._change() as written:
            changed = []
            for no in sorted(set(nos)):
                e = self._entries.get(no)
                if e is None or e.voided or e.keyed:
                    continue
                changed.append(replace(e, keyed_at=now, keyed_by=by))
            self._write(changed, written)
        return changed

    def _write(self, entries: list[Entry], written: list[Entry]) -> None:
        if not entries:
            return
        sums = self._summary()
        changes = [(self._entries.get(e.no), e) for e in entries]
        self._table.put_many({f"{e.no:07d}": encode(e) for e in entries})
        written.extend(entries)
        sums.on_entries(self.lao_code, changes)

    def entries(self, date_from: date | None = None, date_to: date | None = None,
                *, include_void: bool = True) -> list[Entry]:
        """Entries in date order (then number), optionally within [date_from, date_to]."""
        self._sync()
        out = [
            e for e in self._entries.values()
            if (include_void or not e.voided)
            and (date_from is None or e.date >= date_from)
            and (date_to is None or e.date <= date_to)
        ]  # fmt: skip
        return sorted(out, key=lambda e: (e.date, e.no))

    def recent(self, n: int = 10) -> list[Entry]:
        """The last ``n`` entries by number."""
        self._sync()
        return [self._entries[k] for k in sorted(self._entries)[-n:]]

    def pending_keyback(self) -> list[Entry]:
        """Entries not voided and not yet keyed into e-LAAS, in date order."""
        return [e for e in self.entries(include_void=False) if not e.keyed]

    def day_summary(self, day: date) -> DaySummary:
        es = self.entries(day, day, include_void=False)
        return DaySummary(
            day,
            sum((e.amount for e in es if e.kind == "receipt"), Decimal(0)),
            sum((e.amount for e in es if e.kind == "payment"), Decimal(0)),
            len(es),
        )


class LedgerBook:
    """Opens each LAO's ledger once per process."""

    def __init__(self, store: Store):
        self.store = store
        self.directory = Directory(store)
        self._open: dict[str, Ledger] = {}
        self._lock = threading.Lock()

    def ledger(self, lao_code: str) -> Ledger:
        with self._lock:
            led = self._open.get(lao_code)
            if led is None:
                led = self._open[lao_code] = Ledger(self.store, lao_code)
            return led


def parse_numbers(text: str, limit: int = 5000) -> list[int]:
    """``"1-5, 8 10"`` -> [1, 2, 3, 4, 5, 8, 10]; Thai digits are cleaned by the caller."""
    out: list[int] = []
    for m in _RANGE.finditer(text):
        lo, hi = sorted((int(m.group(1)), int(m.group(2) or m.group(1))))
        if hi - lo > limit:
            raise LedgerError(f"ช่วงเลขกว้างเกินไป (ครั้งละไม่เกิน {limit:,} รายการ)")
        out.extend(range(lo, hi + 1))
    return out
