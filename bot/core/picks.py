"""Typed list numbers: "2", "๒", "ข้อ 2", "เอาอันที่ 2 ค่ะ" pick the 2nd choice last offered;
a typed button label ("ขอเป็น Excel ค่ะ") picks that button.

The engine remembers, per conversation (channel + user), the choices of the last reply that
offered any (what LINE shows as quick replies and what the terminal numbers), for
``PICK_MINUTES``; a reply without choices forgets them. A message that is only a pick then
runs that choice's action as if its button was pressed. A number of three digits or more
("500") is never a pick.

Like the follow-up memory (bot.qa.followup) the offer is kept in this process's memory when
one process owns the store, and in the store (table ``offers``, no wait for the disk flush)
when several instances share it: not in the session document, whose write on every reply
tripled the cost of an answer on TinyDB (the whole file is rewritten).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

import msgspec

from bot.core.codec import encode
from bot.core.contract import Choice, Incoming, Reply
from bot.core.sharing import is_shared, put_without_flush_wait
from bot.core.store import Store, StoreError
from bot.core.text import bare_text, command_text

_LOG = logging.getLogger(__name__)
OFFERS_TABLE = "offers"
MAX_USERS = 20_000  # the in-memory offers: the least recently offered users are dropped

PICK_MINUTES = 10
MAX_LABEL = 40  # longer texts are never a typed label (LINE shows at most 20 characters)
_PICK_RE = re.compile(
    r"(?P<word>(?:(?:เอา|เลือก)\s?)?(?:(?:ข้อ|อัน|ตัวเลือก|หมายเลข|เลข|ตัว)\s?(?:ที่)?|ที่)?)\s?"
    r"(?P<n>\d{1,2})"
    r"(?:\s?(?:ค่ะ|คะ|ค่า|ครับ|คับ|จ้า|จ้ะ|นะ|เลย|[.!)]))*"
)
NO_CHOICES = "ตอนนี้ไม่มีตัวเลือกให้เลือกด้วยเลขค่ะ พิมพ์ข้อความได้เลย หรือพิมพ์ เมนู"


class Offered(msgspec.Struct, frozen=True, kw_only=True):
    """The choices a conversation was last offered, in the order shown, until ``expires_at``."""

    labels: tuple[str, ...]
    actions: tuple[str, ...]
    expires_at: datetime
    chat: str = ""  # where they were shown: a "2" typed in another chat picks none of them

    @property
    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(label, action) for label, action in zip(self.labels, self.actions,
                                                                   strict=True))

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at or not self.actions

    @classmethod
    def of(cls, choices: Sequence[Choice], now: datetime, chat: str = "") -> Offered:
        return cls(labels=tuple(c.label for c in choices),
                   actions=tuple(c.action for c in choices),
                   expires_at=now + timedelta(minutes=PICK_MINUTES), chat=chat)

    def labelled(self, text: str) -> int | None:
        """The 1-based number of the choice whose label ``text`` is (spaces and polite
        endings aside), or None."""
        bare = bare_text(text)
        return next((i for i, label in enumerate(self.labels, 1)
                     if bare and bare_text(label) == bare), None)

    def usable(self, chat: str, now: datetime) -> bool:
        """Not expired, and shown in ``chat``."""
        return not self.expired(now) and self.chat == chat


def offered_choices_of(replies: Sequence[Reply]) -> tuple[Choice, ...]:
    """The choices a typed number refers to: those of the last reply that offers any (LINE
    shows only those as quick replies; the terminal numbers those)."""
    return next((r.choices for r in reversed(replies) if r.choices), ())


def shown_in(incoming: Incoming, replies: Sequence[Reply]) -> str:
    """The chat the choices of ``replies`` are shown in: a private reply to a group goes to
    the user's 1:1 chat (whose id is the user's on LINE, Telegram and the terminal)."""
    last = next((r for r in reversed(replies) if r.choices), None)
    private = incoming.is_group and last is not None and last.private
    return incoming.user_id if private else incoming.chat_id


def pick_number(text: str) -> int | None:
    """The number of a message that is only a pick ("2", "๒", "ข้อ 2", "เอาอันที่ 2 ค่ะ")."""
    m = _PICK_RE.fullmatch(command_text(text))
    return int(m["n"]) if m else None


def names_item(text: str) -> bool:
    """A pick that says it is one in words ("ข้อ 2", "เลือก 2"): never an amount of 2."""
    m = _PICK_RE.fullmatch(command_text(text))
    return bool(m and m["word"])


def out_of_range(n: int, count: int) -> str:
    """Said for a typed number that picks none of ``count`` choices."""
    valid = "เฉพาะ 1" if count == 1 else f"ตั้งแต่ 1 ถึง {count}"
    return f"ไม่มีตัวเลือกที่ {n} ค่ะ เลือกได้{valid} หรือพิมพ์ข้อความได้เลย"


class Offers(Protocol):
    """Where the last offered choices of each user are kept (see :func:`offer_memory`)."""

    def offer(self, user: str, choices: Sequence[Choice], now: datetime, chat: str) -> None:
        """Remember ``choices`` as just offered to ``user`` in ``chat`` (none: forget the
        earlier ones)."""

    def offered(self, user: str, chat: str, now: datetime) -> Offered | None:
        """The choices last offered to ``user`` in ``chat``, unless they expired, were
        forgotten or were shown in another chat."""


class OfferMemory:
    """The offers in this process's memory (a store one process owns), bounded."""

    def __init__(self, max_users: int = MAX_USERS):
        self.max_users = max_users
        self._offers: OrderedDict[str, Offered] = OrderedDict()
        self._lock = threading.Lock()

    def offer(self, user: str, choices: Sequence[Choice], now: datetime, chat: str) -> None:
        with self._lock:
            if not choices:
                self._offers.pop(user, None)
                return
            self._offers[user] = Offered.of(choices, now, chat)
            self._offers.move_to_end(user)
            while len(self._offers) > self.max_users:
                self._offers.popitem(last=False)

    def offered(self, user: str, chat: str, now: datetime) -> Offered | None:
        with self._lock:
            offer = self._offers.get(user)
        return offer if offer is not None and offer.usable(chat, now) else None


class StoreOfferMemory:
    """The offers in the shared store, one row per user overwritten by each reply (the next
    message may reach another instance). A convenience: a failing database only loses it."""

    def __init__(self, store: Store):
        self._table = store.table(OFFERS_TABLE)

    def offer(self, user: str, choices: Sequence[Choice], now: datetime, chat: str) -> None:
        try:  # none offered: an empty offer, read back as nothing
            put_without_flush_wait(self._table, user, encode(Offered.of(choices, now, chat)))
        except StoreError as exc:
            _LOG.warning("offered choices not kept: %s", exc)

    def offered(self, user: str, chat: str, now: datetime) -> Offered | None:
        try:
            doc = self._table.get(user)
            offer = msgspec.convert(doc, Offered) if doc is not None else None
        except StoreError as exc:
            _LOG.warning("offered choices not read: %s", exc)
            return None
        except msgspec.ValidationError:
            return None
        return offer if offer is not None and offer.usable(chat, now) else None


def note_offer(offers: Offers, incoming: Incoming, replies: Sequence[Reply],
               now: datetime) -> None:
    """Remember what ``replies`` offer ``incoming``'s user (an anonymous event has no user)."""
    if not incoming.anonymous:
        offers.offer(str(incoming.user), offered_choices_of(replies), now,
                     shown_in(incoming, replies))


def offer_memory(store: Store) -> Offers:
    """In the store when several instances share it, else in this process's memory."""
    return StoreOfferMemory(store) if is_shared(store) else OfferMemory()
