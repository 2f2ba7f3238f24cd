"""Console login without passwords: one-time signed links, signed session ids and CSRF tokens.

A login link carries ``user``, its issue time and a nonce, signed with a key derived from the
file-link secret (so the CLI, which shares the data dir's secret, can mint links for a running
``serve``). It is valid for :data:`LINK_SECONDS`, once: the server remembers used nonces in
memory until they expire, and refuses every link issued before it started, so a restart
cannot make a used link work again. Sessions and their CSRF tokens live in memory only: a
restart logs everybody out, which costs an operator one ``/console`` message. With several
instances on one PostgreSQL store (``store=`` given) used nonces and sessions live in the store
instead, so a link is used once whichever instance redeems it and a session signed in on one
instance is known to all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bot.core.store import Store

LINK_SECONDS = 600
IDLE_SECONDS = 30 * 60
MAX_SESSIONS = 2000
USED_TABLE = "console_used_links"
SESSIONS_TABLE = "console_sessions"
TOUCH_SECONDS = 60
"""A shared session's last use is written at most this often (not on every page)."""


class LoginRefused(Exception):
    """A login link that cannot be used; ``str(e)`` is the Thai reason and ``reason`` a tag."""

    def __init__(self, reason: str, message_th: str):
        super().__init__(message_th)
        self.reason = reason


BAD_LINK_TH = "ลิงก์เข้าระบบนี้ไม่ถูกต้อง พิมพ์ /console ในแชตส่วนตัวกับบอทเพื่อขอลิงก์ใหม่ค่ะ"
USED_LINK_TH = "ลิงก์นี้ถูกใช้ไปแล้ว (ใช้ได้ครั้งเดียว) พิมพ์ /console ในแชตเพื่อขอลิงก์ใหม่ค่ะ"
EXPIRED_LINK_TH = "ลิงก์นี้หมดอายุแล้ว (ใช้ได้ 10 นาที) พิมพ์ /console ในแชตเพื่อขอลิงก์ใหม่ค่ะ"


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A separate key per purpose, so a file link can never pass as a session and back."""
    return hmac.new(secret, f"elaas-console/{purpose}/v1".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LoginLinks:
    """Mints and redeems one-time login tokens.

    Args:
        secret: the file-link secret (ELAAS_FILE_SECRET or the generated one).
        clock: seconds since the epoch.
        not_before: refuse tokens issued before this time (serve passes its start time).
        store: keep used nonces in this shared store (several instances) instead of memory.
    """

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time,
                 not_before: float = 0.0, ttl: int = LINK_SECONDS, store: Store | None = None):
        if not secret:
            raise ValueError("the console needs a non-empty secret")
        self._key = derive_key(secret, "login")
        self.clock = clock
        self.not_before = not_before
        self.ttl = ttl
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()
        self._table = store.table(USED_TABLE) if store is not None else None

    def mint(self, user: str) -> str:
        """A token for ``user`` (``channel:id``) valid for ``ttl`` seconds, once."""
        body = json.dumps({"u": user, "t": int(self.clock()), "n": secrets.token_hex(12)},
                          separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(hmac.new(self._key, body, hashlib.sha256).digest())}"

    def check(self, token: str) -> tuple[str, str, int]:
        """``(user, nonce, issued)`` of a genuine, unexpired, unused token (not consumed).

        Raises:
            LoginRefused: forged, malformed, expired or already used.
        """
        head, dot, sig = token.partition(".")
        if not dot or len(token) > 600:
            raise LoginRefused("malformed", BAD_LINK_TH)
        try:
            body = _unb64(head)
            given = _unb64(sig)
        except ValueError as exc:
            raise LoginRefused("malformed", BAD_LINK_TH) from exc
        if not hmac.compare_digest(given, hmac.new(self._key, body, hashlib.sha256).digest()):
            raise LoginRefused("forged", BAD_LINK_TH)
        try:
            doc = json.loads(body)
            user, issued, nonce = str(doc["u"]), int(doc["t"]), str(doc["n"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LoginRefused("malformed", BAD_LINK_TH) from exc
        now = self.clock()
        if issued + self.ttl < now:
            raise LoginRefused("expired", EXPIRED_LINK_TH)
        if self._table is not None:
            used = self._table.get(nonce) is not None
        else:
            with self._lock:
                used = nonce in self._used
        # Used nonces are remembered only by this process: a link older than its start
        # cannot be told apart from a used one, so it is refused as used.
        if used or issued < int(self.not_before):
            raise LoginRefused("used", USED_LINK_TH)
        return user, nonce, issued

    def redeem(self, token: str) -> str:
        """Consume ``token`` and return its user (raises LoginRefused like :meth:`check`)."""
        user, nonce, issued = self.check(token)
        if self._table is not None:
            self._redeem_shared(nonce, issued)
            return user
        with self._lock:
            if nonce in self._used:
                raise LoginRefused("used", USED_LINK_TH)
            now = self.clock()
            for n in [n for n, exp in self._used.items() if exp < now]:
                del self._used[n]
            self._used[nonce] = issued + self.ttl
        return user

    def _redeem_shared(self, nonce: str, issued: int) -> None:
        """Mark ``nonce`` used in the store: of two instances redeeming at once one wins."""
        assert self._table is not None
        table = self._table

        def mark(old: dict[str, Any] | None) -> dict[str, Any]:
            if old is not None:
                raise LoginRefused("used", USED_LINK_TH)
            return {"exp": issued + self.ttl}

        table.update(nonce, mark)
        now = self.clock()
        table.delete_many(k for k, d in table.all().items() if d.get("exp", 0) < now)


@dataclass
class ConsoleSession:
    """One signed-in browser: who, its CSRF token, when it was last used."""

    sid: str
    user: str
    csrf: str
    created: float
    last_seen: float


class Sessions:
    """Signed session ids (``sid.mac``) for the cookie with an idle timeout: in memory, or in
    a shared store (``store=``) so that every instance behind the proxy knows them."""

    def __init__(self, secret: bytes, *, idle: int = IDLE_SECONDS,
                 clock: Callable[[], float] = time.time, max_sessions: int = MAX_SESSIONS,
                 store: Store | None = None):
        self._key = derive_key(secret, "session")
        self.idle = idle
        self.clock = clock
        self.max_sessions = max_sessions
        self._by_sid: OrderedDict[str, ConsoleSession] = OrderedDict()
        self._lock = threading.Lock()
        self._table = store.table(SESSIONS_TABLE) if store is not None else None

    def _mac(self, sid: str) -> str:
        return _b64(hmac.new(self._key, sid.encode(), hashlib.sha256).digest())

    def create(self, user: str) -> tuple[str, ConsoleSession]:
        """A new session for ``user``: the cookie value and the session."""
        now = self.clock()
        s = ConsoleSession(secrets.token_urlsafe(24), user, secrets.token_urlsafe(24), now, now)
        if self._table is not None:
            self._table.put(s.sid, asdict(s))
            self._table.delete_many(k for k, d in self._table.all().items()
                                    if now - float(d.get("last_seen", 0)) > self.idle)
            return f"{s.sid}.{self._mac(s.sid)}", s
        with self._lock:
            self._by_sid[s.sid] = s
            while len(self._by_sid) > self.max_sessions:
                self._by_sid.popitem(last=False)
        return f"{s.sid}.{self._mac(s.sid)}", s

    def get(self, cookie: str) -> ConsoleSession | None:
        """The live session of a cookie value (touching it), or None (forged, idle, gone)."""
        sid, dot, mac = cookie.partition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(sid)):
            return None
        now = self.clock()
        if self._table is not None:
            return self._get_shared(sid, now)
        with self._lock:
            s = self._by_sid.get(sid)
            if s is None:
                return None
            if now - s.last_seen > self.idle:
                del self._by_sid[sid]
                return None
            s.last_seen = now
            self._by_sid.move_to_end(sid)
            return s

    def _get_shared(self, sid: str, now: float) -> ConsoleSession | None:
        assert self._table is not None
        doc = self._table.get(sid)
        if doc is None:
            return None
        try:
            s = ConsoleSession(**doc)
        except TypeError:
            return None
        if now - s.last_seen > self.idle:
            self._table.delete(sid)
            return None
        if now - s.last_seen >= TOUCH_SECONDS:
            s.last_seen = now
            self._table.put(sid, asdict(s))
        return s

    def drop(self, sid: str) -> None:
        if self._table is not None:
            self._table.delete(sid)
            return
        with self._lock:
            self._by_sid.pop(sid, None)

    def drop_user(self, user: str) -> None:
        if self._table is not None:
            self._table.delete_many(k for k, d in self._table.all().items()
                                    if d.get("user") == user)
            return
        with self._lock:
            for sid in [k for k, s in self._by_sid.items() if s.user == user]:
                del self._by_sid[sid]

    @staticmethod
    def csrf_ok(session: ConsoleSession, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), session.csrf.encode())
