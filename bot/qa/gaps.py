"""Unanswered questions (the knowledge-gap log): bounded, aged out, markable as handled."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.core.store import Table

_LOG = logging.getLogger(__name__)

MAX_GAPS = 1000
"""At most this many distinct questions are kept; beyond it one-offs go first."""
GAP_RETENTION_DAYS = 90
"""A question nobody asked again for this many days is forgotten."""
MAX_GAP_TEXT = 200


@dataclass(frozen=True)
class Gap:
    """One unanswered question (normalised text only: who asked is never kept)."""

    text: str
    count: int
    first: date
    last: date
    handled: bool = False


def _gap(doc: dict[str, object]) -> Gap:
    last = date.fromisoformat(str(doc.get("last") or "1970-01-01"))
    first = date.fromisoformat(str(doc.get("first") or last.isoformat()))
    count = doc.get("count", 0)
    return Gap(str(doc.get("text", "")), int(count) if isinstance(count, int) else 0, first,
               last, bool(doc.get("handled", False)))


class GapLog:
    """The gaps table behind a small API: :meth:`record`, :meth:`top`, :meth:`mark_handled`.

    The table is capped at ``cap`` questions and a question is dropped ``retention_days`` after
    it was last asked, so free text typed by anybody cannot grow the file without limit.
    Pruning removes expired questions first, then the least asked (oldest first) down to 90 %
    of the cap, so that it runs once per many records, not on every one.
    """

    def __init__(self, table: Table, today: Callable[[], date], *, cap: int = MAX_GAPS,
                 retention_days: int = GAP_RETENTION_DAYS):
        self._table = table
        self.today = today
        self.cap = cap
        self.retention_days = retention_days

    def record(self, normalized: str) -> None:
        """Count one more ask of ``normalized`` (cut to 200 characters)."""
        key = normalized[:MAX_GAP_TEXT]
        if not key:
            return
        today = self.today().isoformat()

        def count(doc: dict[str, Any] | None) -> dict[str, Any]:
            doc = doc or {"text": key, "count": 0, "first": today}
            # asked again after a fix: worth another look
            return {**doc, "count": int(doc.get("count", 0)) + 1, "last": today,
                    "handled": False}

        self._table.update(key, count)  # atomic: several instances may count the same text
        if len(self._table) > self.cap:
            self.prune()

    def prune(self) -> int:
        """Drop expired questions, then the least asked down to 90 % of the cap; how many."""
        gaps = {k: _gap(d) for k, d in self._table.all().items()}
        cutoff = self.today() - timedelta(days=self.retention_days)
        drop = [k for k, g in gaps.items() if g.last < cutoff]
        left = sorted((k for k in gaps if k not in set(drop)),
                      key=lambda k: (gaps[k].count, gaps[k].last))
        if len(left) > self.cap:
            drop += left[:len(left) - self.cap * 9 // 10]
        self._table.delete_many(drop)
        if drop:
            _LOG.info("gaps: pruned %d question(s), %d kept", len(drop), len(gaps) - len(drop))
        return len(drop)

    def top(self, limit: int = 30, *, include_handled: bool = False) -> list[Gap]:
        """The most asked questions first (then the most recent)."""
        gaps = [_gap(d) for d in self._table.all().values()]
        if not include_handled:
            gaps = [g for g in gaps if not g.handled]
        gaps.sort(key=lambda g: (-g.count, -g.last.toordinal(), g.text))
        return gaps[:limit]

    def mark_handled(self, text: str, *, by: str = "", at: str = "") -> bool:
        """Mark a question handled (answered in the knowledge base); False when unknown."""
        doc = self._table.get(text)
        if doc is None:
            return False
        doc.update(handled=True, handled_by=by, handled_at=at)
        self._table.put(text, doc)
        return True

    def __len__(self) -> int:
        return len(self._table)
