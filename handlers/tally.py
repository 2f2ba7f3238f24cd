"""The log of answered events: one INFO line per minute instead of one per event."""

from __future__ import annotations

import logging
import time

# The pipeline's logger: these lines stand for its per-event ones (DEBUG now).
_LOG = logging.getLogger("handlers.pipeline")

# Answered events are summed up in one INFO line per this many seconds.
LOG_EVERY = 60.0


class Tally:
    """The answered events behind one INFO line per ``every`` seconds (a line per event, now
    DEBUG: ``serve --verbose``, cost ~5% of serve's CPU per event under load): how many per
    channel and way of sending, and the engine's and the sending's mean and longest times."""

    def __init__(self, every: float = LOG_EVERY):
        self.every = every
        self._start()

    def _start(self, now: float | None = None) -> None:
        self.since = time.perf_counter() if now is None else now
        self.ways: dict[tuple[str, str], int] = {}
        self.n = 0
        self.engine = self.engine_max = self.sent = self.sent_max = 0.0

    def add(self, channel: str, how: str, engine: float, sent: float, now: float) -> None:
        """Count one answered event (times in seconds, ``now`` from time.perf_counter)."""
        key = (channel, how)
        self.ways[key] = self.ways.get(key, 0) + 1
        self.n += 1
        self.engine += engine
        self.sent += sent
        if engine > self.engine_max:
            self.engine_max = engine
        if sent > self.sent_max:
            self.sent_max = sent
        if now - self.since >= self.every:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Log the line for what was counted (nothing when nothing was), start again."""
        now = time.perf_counter() if now is None else now
        if self.n:
            ways = ", ".join(f"{ch} {how} {k}" for (ch, how), k in sorted(self.ways.items()))
            _LOG.info("%d event(s) answered in %.0f s (%s): engine mean %.1f ms, longest "
                      "%.0f ms; sending mean %.1f ms, longest %.0f ms", self.n,
                      now - self.since, ways, self.engine / self.n * 1000,
                      self.engine_max * 1000, self.sent / self.n * 1000, self.sent_max * 1000)
        self._start(now)
