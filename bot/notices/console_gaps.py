"""The unanswered-questions log as the console sees it: most asked first, mark handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.engine import GAPS_TABLE
from bot.core.store import Store
from bot.qa.gaps import GapLog


@dataclass(frozen=True)
class Gap:
    """One normalised question the bot could not answer, and how often it was asked."""

    text: str
    count: int
    last: str


def _log(store: Store, now: datetime | None = None) -> GapLog:
    return GapLog(store.table(GAPS_TABLE), lambda: (now or datetime.now()).date())


def read_gaps(store: Store, limit: int = 50, *, handled: bool = False) -> list[Gap]:
    """The most asked unanswered questions (``handled``: only those marked handled)."""
    found = _log(store).top(10**9 if handled else limit, include_handled=handled)
    return [Gap(g.text, g.count, g.last.isoformat())
            for g in found if g.handled == handled][:limit]


def mark_handled(store: Store, text: str, *, by: str, now: datetime) -> bool:
    """Mark the gap ``text`` handled; False when there is no such gap."""
    return _log(store, now).mark_handled(text, by=by, at=now.isoformat())
