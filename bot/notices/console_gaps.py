"""The unanswered-questions log as the console sees it: most asked first, mark handled.

The console passes the engine's own :class:`GapLog` (on the engine thread), so that what the
engine still keeps in memory is written before it is read or marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.qa.gaps import GapLog


@dataclass(frozen=True)
class Gap:
    """One normalised question the bot could not answer, and how often it was asked."""

    text: str
    count: int
    last: str


def read_gaps(log: GapLog, limit: int = 50, *, handled: bool = False) -> list[Gap]:
    """The most asked unanswered questions (``handled``: only those marked handled)."""
    found = log.top(10**9 if handled else limit, include_handled=handled)
    return [Gap(g.text, g.count, g.last.isoformat())
            for g in found if g.handled == handled][:limit]


def mark_handled(log: GapLog, text: str, *, by: str, now: datetime) -> bool:
    """Mark the gap ``text`` handled; False when there is no such gap."""
    return log.mark_handled(text, by=by, at=now.isoformat())
