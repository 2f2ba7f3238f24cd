"""Follow-up questions: the last topic each user was answered, for a few minutes."""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.sharing import is_shared, put_without_flush_wait
from bot.core.store import Store, StoreError
from bot.core.text import Normalized
from bot.qa.matching import MatchResult

FOLLOWUP_TTL = timedelta(minutes=5)
MAX_USERS = 20_000
# Marks of an elliptical question that leans on the previous answer ("แล้วเงินเดือนล่ะ",
# "ถ้าเป็นเช็คล่ะ", "what about salaries"). Tokens after normalisation.
_LEAD = frozenset({"แล้ว", "และ", "ถ้า", "กรณี", "ส่วน", "and", "also"})
_TAIL = frozenset({"ล่ะ", "หล่ะ", "ละ", "ด้วย", "อีก", "too"})
_ABOUT = (("what", "about"), ("how", "about"), ("อย่างไร", "about"), ("อะไร", "about"))
_THIS = frozenset({"นี้", "อันนี้", "เรื่องนี้", "ตัวนี้", "this", "that", "it"})
# ...except a time: "เดือนนี้" is this month, "วันนี้" today, not the thing just answered.
_TIMES = frozenset({"เดือน", "วัน", "ปี", "ตอน", "ช่วง", "สัปดาห์", "อาทิตย์", "งวด", "ครั้ง",
                    "รอบ", "เช้า", "บ่าย", "เย็น", "คืน", "month", "week", "year", "time"})
# A request for forms that names none ("ขอแบบฟอร์มด้วย", "มีฟอร์มไหม", "แบบที่ต้องใช้ล่ะ").
_FORM_WORDS = frozenset({"แบบฟอร์ม", "แบบพิมพ์", "แบบ"})
_FORM_REQUEST = frozenset({"ขอ", "มี", "ส่ง", "ดาวน์โหลด", "ใช้", "ด้วย", "ล่ะ", "หรือไม่", "ไหน",
                           "อะไร", "give", "send", "need", "which"})
# Words that may sit around such a request without naming a form or a thing ("แบบที่ต้องใช้",
# "ขอแบบฟอร์มของเรื่องนี้ด้วย"). Any other word names something: "มีแบบฟอร์มงบทดลองไหม" asks
# for a trial balance form, not for the forms of the topic answered before.
_FORM_FILLER = frozenset({"ที่", "ต้อง", "ของ", "เรื่อง", "นี้", "อันนี้", "เรื่องนี้", "ให้", "ได้",
                          "ไหม", "มั้ย", "บ้าง", "เลย", "ไว้", "อีก", "ปริ้น", "พิมพ์", "โหลด",
                          "ไฟล์", "สำหรับ", "the", "forms", "for", "this", "it", "me"})
_LOG = logging.getLogger(__name__)
SHORT = 4
TABLE = "followups"


def is_followup(q: Normalized, alone: MatchResult) -> bool:
    """True when the question reads as a continuation of the previous one.

    A follow-up mark ("แล้ว…ล่ะ", "อันนี้", "what about") makes it one. A short message with
    no mark is one only when it does not stand on its own: ``alone`` (its match without the
    previous topic) found no topic near it. "เช็ค" after the payment answer continues it;
    "ระบบล่ม" after the letters answer is a new question with topics of its own.
    """
    toks = q.tokens
    if not toks:
        return False
    pairs = list(itertools.pairwise(toks))
    this = toks[0] in _THIS or any(b in _THIS and a not in _TIMES for a, b in pairs)
    if toks[0] in _LEAD or toks[-1] in _TAIL or bool(set(pairs) & set(_ABOUT)) or this:
        return True
    return len(toks) <= SHORT and alone.outcome == "none"


def wants_forms(q: Normalized) -> bool:
    """True when the question asks for forms and names no form or thing ("ขอแบบฟอร์มด้วย",
    "มีฟอร์มไหม"); False for "มีแบบฟอร์มงบทดลองไหม" (it names what it wants)."""
    toks = set(q.tokens)
    return (bool(toks & _FORM_WORDS) and bool(toks & _FORM_REQUEST) and len(q.tokens) <= 6
            and toks <= _FORM_WORDS | _FORM_REQUEST | _FORM_FILLER)


class Memory(Protocol):
    """Where the last answered topic per user is kept (:func:`topic_memory` picks one)."""

    def remember(self, user: str, topic: str, now: datetime) -> None: ...

    def recall(self, user: str, now: datetime) -> str | None: ...

    def forget(self, user: str) -> None: ...


def topic_memory(store: Store, ttl: timedelta = FOLLOWUP_TTL) -> Memory:
    """In the store when several instances share it (the next message may reach another
    instance), else in this process's memory."""
    return StoreTopicMemory(store, ttl) if is_shared(store) else TopicMemory(ttl)


class TopicMemory:
    """The last answered topic per user, forgotten after ``ttl`` (kept in memory only).

    In memory because it is worth only a few minutes: a disk write per answer would cost more
    than a follow-up lost to a restart. Bounded: the least recently used users are dropped.
    Only for a store one process owns; see :class:`StoreTopicMemory`.
    """

    def __init__(self, ttl: timedelta = FOLLOWUP_TTL, max_users: int = MAX_USERS):
        self.ttl = ttl
        self.max_users = max_users
        self._last: OrderedDict[str, tuple[str, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, user: str, topic: str, now: datetime) -> None:
        with self._lock:
            self._last[user] = (topic, now)
            self._last.move_to_end(user)
            while len(self._last) > self.max_users:
                self._last.popitem(last=False)

    def recall(self, user: str, now: datetime) -> str | None:
        """The user's last topic if it was answered less than ``ttl`` ago."""
        with self._lock:
            hit = self._last.get(user)
        if hit is None:
            return None
        topic, at = hit
        return topic if timedelta(0) <= now - at <= self.ttl else None

    def forget(self, user: str) -> None:
        with self._lock:
            self._last.pop(user, None)


class StoreTopicMemory:
    """The last answered topic per user in the shared store (table ``followups``).

    With several ``serve`` instances a user's next message may reach another instance, so the
    topic is one row per user, overwritten by each answer (one small write on PostgreSQL) and
    judged against ``ttl`` on read: the table holds at most one row per user who ever asked.
    A follow-up is a convenience: when the database fails here the question is still
    answered, only without its context.
    """

    def __init__(self, store: Store, ttl: timedelta = FOLLOWUP_TTL):
        self.ttl = ttl
        self._store = store
        self._table = store.table(TABLE)

    def remember(self, user: str, topic: str, now: datetime) -> None:
        try:
            # Worth minutes: no wait for the disk, in one statement.
            put_without_flush_wait(self._table, user, {"topic": topic, "at": now.isoformat()})
        except StoreError as exc:
            _LOG.warning("follow-up not kept: %s", exc)

    def recall(self, user: str, now: datetime) -> str | None:
        """The user's last topic if it was answered less than ``ttl`` ago."""
        try:
            doc = self._table.get(user)
        except StoreError as exc:
            _LOG.warning("follow-up not read: %s", exc)
            return None
        if doc is None:
            return None
        try:
            at = datetime.fromisoformat(str(doc["at"]))
            topic = str(doc["topic"])
        except (KeyError, ValueError):
            return None
        if (at.tzinfo is None) != (now.tzinfo is None):
            return None
        return topic if timedelta(0) <= now - at <= self.ttl else None

    def forget(self, user: str) -> None:
        self._table.delete(user)
