"""Unanswered questions (the knowledge-gap log): bounded, aged out, markable as handled,
counted in memory and written in batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.core.store import Store, StoreError

_LOG = logging.getLogger(__name__)

GAPS_TABLE = "kb/gaps"
GAPS_LOCK = "elaas-gaps"
MAX_GAPS = 1000
"""At most this many distinct questions are kept; beyond it one-offs go first."""
GAP_RETENTION_DAYS = 90
"""A question nobody asked again for this many days is forgotten."""
MAX_GAP_TEXT = 200
FLUSH_SECONDS = 5.0
"""Buffered counts are written at most this long after the first of them was counted."""
MAX_PENDING = 200
"""...or as soon as this many distinct questions wait."""


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


def _mark(doc: dict[str, Any]) -> int:
    """The number of the question's latest mark (0: never marked)."""
    mark = doc.get("mark", 0)
    return mark if isinstance(mark, int) else 0


@dataclass
class _Pending:
    count: int
    first: str
    last: str


class GapLog:
    """The gaps table behind a small API: :meth:`record`, :meth:`top`, :meth:`mark_handled`.

    The table is capped at ``cap`` questions and a question is dropped ``retention_days`` after
    it was last asked, so free text typed by anybody cannot grow the file without limit.
    Pruning removes expired questions first, then the least asked (oldest first) down to 90 %
    of the cap, so that it runs once per many records, not on every one.

    Write-behind: :meth:`record` only counts in memory (an unanswered question cost a
    whole-file rewrite and fsync on TinyDB, ~2 ms of the engine thread, or a round trip on
    PostgreSQL). The counts go to the store in one batch (:meth:`flush`) when a record finds
    the oldest buffered count ``flush_every`` seconds old or ``max_pending`` questions
    waiting, before every read (:meth:`top`, :meth:`mark_handled`, ``len``) and at
    :meth:`close`; ``serve`` also flushes every ``flush_every`` seconds while idle. So a crash
    loses at most ``flush_every`` seconds of counts: operator statistics, with no user id,
    not clerk data. A batch adds its counts to the stored ones under one store lock
    (:data:`GAPS_LOCK`), so the instances sharing a database add up, never overwrite each
    other. One thread uses a log at a time (the engine thread).

    A question asked again after it was marked handled is back on the list, but only a mark
    this log had seen before it counted the asks is cleared: with several instances an
    instance's buffer may hold asks from before an operator marked the question through
    another one, and their flush keeps that mark (each mark is numbered; the log remembers
    the numbers it saw at its last flush, read or mark).
    """

    def __init__(self, store: Store, today: Callable[[], date], *, cap: int = MAX_GAPS,
                 retention_days: int = GAP_RETENTION_DAYS, flush_every: float = FLUSH_SECONDS,
                 max_pending: int = MAX_PENDING, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._table = store.table(GAPS_TABLE)
        self.today = today
        self.cap = cap
        self.retention_days = retention_days
        self.flush_every = flush_every
        self.max_pending = max_pending
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._due = self._retry_at = 0.0
        self._seen: dict[str, int] = {}  # handled question -> the number of the mark seen

    def record(self, normalized: str) -> None:
        """Count one more ask of ``normalized`` (cut to 200 characters)."""
        key = normalized[:MAX_GAP_TEXT]
        if not key:
            return
        today = self.today().isoformat()
        now = self._clock()
        if not self._pending:
            self._due = now + self.flush_every
        p = self._pending.get(key)
        if p is not None:
            p.count += 1
            p.last = today
        elif len(self._pending) < max(self.cap, self.max_pending):  # (a store away: bounded)
            self._pending[key] = _Pending(1, today, today)
        if now >= self._due or (len(self._pending) >= self.max_pending and now >= self._retry_at):
            self.flush()

    def flush(self) -> int:
        """Add the buffered counts to the store in one write; how many questions it wrote.

        A store that is away is logged and the counts are kept for the next flush.
        """
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        try:
            with self._store.transaction(GAPS_LOCK):
                stored = self._table.all()
                merged = {k: self._merge(stored.get(k), k, p, self._seen.get(k))
                          for k, p in pending.items()}
                self._table.put_many(merged)
        except (OSError, StoreError) as exc:
            _LOG.warning("gaps: %d question(s) not written yet: %s", len(pending), exc)
            self._pending = pending  # nothing was written: all of them next time
            self._due = self._retry_at = self._clock() + self.flush_every
            return 0
        # The marks standing now: the asks counted from here on come after them.
        self._seen = {k: _mark(d) for k, d in {**stored, **merged}.items() if d.get("handled")}
        if len(stored.keys() | merged.keys()) > self.cap:
            try:
                self.prune()
            except (OSError, StoreError) as exc:
                _LOG.warning("gaps: not pruned: %s", exc)
        return len(pending)

    @staticmethod
    def _merge(doc: dict[str, Any] | None, key: str, p: _Pending,
               seen: int | None) -> dict[str, Any]:
        doc = doc or {"text": key, "count": 0, "first": p.first}
        # Asked again after a fix: worth another look, when this log had seen the mark before
        # counting (else some of the asks may be older than it).
        handled = bool(doc.get("handled")) and _mark(doc) != seen
        return {**doc, "count": int(doc.get("count", 0)) + p.count,
                "last": max(str(doc.get("last") or ""), p.last), "handled": handled}

    def close(self) -> None:
        """Write what is buffered (at shutdown)."""
        self.flush()

    def prune(self) -> int:
        """Drop expired questions, then the least asked down to 90 % of the cap; how many."""
        self.flush()
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
        self.flush()
        docs = self._table.all()
        self._seen = {k: _mark(d) for k, d in docs.items() if d.get("handled")}
        gaps = [_gap(d) for d in docs.values()]
        if not include_handled:
            gaps = [g for g in gaps if not g.handled]
        gaps.sort(key=lambda g: (-g.count, -g.last.toordinal(), g.text))
        return gaps[:limit]

    def mark_handled(self, text: str, *, by: str = "", at: str = "") -> bool:
        """Mark a question handled (answered in the knowledge base); False when unknown."""
        self.flush()
        with self._store.transaction(GAPS_LOCK):
            doc = self._table.get(text)
            if doc is None:
                return False
            doc.update(handled=True, handled_by=by, handled_at=at, mark=_mark(doc) + 1)
            self._table.put(text, doc)
        self._seen[text] = doc["mark"]
        return True

    def __len__(self) -> int:
        self.flush()
        return len(self._table)
