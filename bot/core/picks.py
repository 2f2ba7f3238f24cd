"""Typed list numbers: "2", "๒", "ข้อ 2", "เอาอันที่ 2 ค่ะ" pick the 2nd choice last offered.

The engine remembers, per conversation (channel + user), the choices of the last reply that
offered any (what LINE shows as quick replies and what the terminal numbers), for
``PICK_MINUTES``; a message that is only a pick then runs that choice's action as if its
button was pressed. A number of three digits or more ("500") is never a pick.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import msgspec

from bot.core.contract import Choice, Reply
from bot.core.text import command_text

PICK_MINUTES = 10
# Refresh a stored offer of the same choices only when it is older than this: a menu offered
# again on every reply does not cost a session write on every reply.
_REFRESH = timedelta(minutes=1)
_PICK_RE = re.compile(
    r"(?:(?:เอา|เลือก)\s?)?(?:(?:ข้อ|อัน|ตัวเลือก|หมายเลข|เลข|ตัว)\s?(?:ที่)?|ที่)?\s?"
    r"(?P<n>\d{1,2})"
    r"(?:\s?(?:ค่ะ|คะ|ค่า|ครับ|คับ|จ้า|จ้ะ|นะ|เลย|[.!)]))*"
)
NO_CHOICES = "ตอนนี้ไม่มีตัวเลือกให้เลือกด้วยเลขค่ะ พิมพ์ข้อความได้เลย หรือพิมพ์ เมนู"


class Offered(msgspec.Struct, frozen=True, kw_only=True):
    """The choices a conversation was last offered, in the order shown, until ``expires_at``."""

    labels: tuple[str, ...]
    actions: tuple[str, ...]
    expires_at: datetime

    @property
    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(label, action) for label, action in zip(self.labels, self.actions,
                                                                   strict=True))

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def same(self, choices: Sequence[Choice], now: datetime) -> bool:
        """These choices, offered recently enough that storing them again changes nothing."""
        return (self.actions == tuple(c.action for c in choices)
                and self.labels == tuple(c.label for c in choices)
                and self.expires_at - now > timedelta(minutes=PICK_MINUTES) - _REFRESH)

    @classmethod
    def of(cls, choices: Sequence[Choice], now: datetime) -> Offered:
        return cls(labels=tuple(c.label for c in choices),
                   actions=tuple(c.action for c in choices),
                   expires_at=now + timedelta(minutes=PICK_MINUTES))


def offered_choices_of(replies: Sequence[Reply]) -> tuple[Choice, ...]:
    """The choices a typed number refers to: those of the last reply that offers any (LINE
    shows only those as quick replies; the terminal numbers those)."""
    return next((r.choices for r in reversed(replies) if r.choices), ())


def pick_number(text: str) -> int | None:
    """The number of a message that is only a pick ("2", "๒", "ข้อ 2", "เอาอันที่ 2 ค่ะ")."""
    m = _PICK_RE.fullmatch(command_text(text))
    return int(m["n"]) if m else None


def out_of_range(n: int, count: int) -> str:
    """Said for a typed number that picks none of ``count`` choices."""
    valid = "เฉพาะ 1" if count == 1 else f"ตั้งแต่ 1 ถึง {count}"
    return f"ไม่มีตัวเลือกที่ {n} ค่ะ เลือกได้{valid} หรือพิมพ์ข้อความได้เลย"
