"""The unanswered-questions log as the console sees it: most asked first, mark handled.

Reads the table the engine writes (``Engine._record_gap``) the way ``Engine.gaps`` does; the
console reaches the log only through :func:`read_gaps` and :func:`mark_handled`, so the log can
move to a module of its own by changing these two functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.engine import GAPS_TABLE
from bot.store import Store


@dataclass(frozen=True)
class Gap:
    """One normalised question the bot could not answer, and how often it was asked."""

    text: str
    count: int
    last: str
    handled_by: str = ""
    handled_at: str = ""


def read_gaps(store: Store, limit: int = 50, *, handled: bool = False) -> list[Gap]:
    """The most asked unanswered questions (``handled``: only those marked handled)."""
    docs = store.table(GAPS_TABLE).all().values()
    gaps = [Gap(str(d.get("text", "")), int(d.get("count", 0)), str(d.get("last", "")),
                str(d.get("handled_by", "")), str(d.get("handled_at", "")))
            for d in docs]
    gaps = [g for g in gaps if bool(g.handled_at) == handled and g.text]
    gaps.sort(key=lambda g: (-g.count, g.text))
    return gaps[:limit]


def mark_handled(store: Store, text: str, *, by: str, now: datetime) -> bool:
    """Mark the gap ``text`` handled; False when there is no such gap."""
    table = store.table(GAPS_TABLE)
    doc = table.get(text)
    if doc is None:
        return False
    doc.update(handled_by=by, handled_at=now.isoformat())
    table.put(text, doc)
    return True
