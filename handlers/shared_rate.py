"""Channel send budgets shared by every instance: a token bucket row in PostgreSQL.

Why a bucket in the database rather than splitting the rate by live instances: a broadcast is
sent by one instance at a time (it holds the notice), so an even split would halve its speed
while the other instance idles. With one shared bucket the sender gets the whole budget
when it is alone and a fair share when two send at once, and the sum never exceeds the
channel's limit. Each instance draws a few tokens per round trip (``batch``), so the cost is
one small function call (``elaas_take_tokens``, migration 0003) per ``batch`` messages; the
local :class:`~handlers.telegram.client.Pacer` still spaces the calls evenly.

Replies to a user's own message (``handlers/telegram/adapter.py``) keep their local pacer and
stay outside the bucket: each one answers a message the user just sent, so their volume is
bounded by the inbound flood limits, a database round trip would sit on every answer's
critical path, and if replies and a broadcast together ever exceed Telegram's allowance the
channel answers 429 with ``retry_after``, which both paths honour (the broadcast pauses, the
reply is retried); a chat waiting on its answer matters more than a broadcast's pace.
"""

from __future__ import annotations

import asyncio
import time

import psycopg

from bot.core.pgstore import connect_error
from handlers.pgsession import OwnSession
from handlers.telegram.client import Pacer


class SharedPacer:
    """A :class:`Pacer` whose budget comes from the shared bucket ``name``.

    Args:
        url: ``ELAAS_DATABASE_URL``.
        name: the bucket (``telegram``, ``line``): one per channel limit.
        rate: tokens per second for all instances together.
        burst: most tokens the bucket holds (default: a fifth of a second's worth, at least
            ``batch``), which bounds how far over ``rate`` any one second can go.
        batch: tokens taken per round trip.
    """

    def __init__(self, url: str, name: str, rate: float, *, burst: float | None = None,
                 batch: int = 3):
        self.url = url
        self.name = name
        self.rate = rate
        self.batch = max(1, batch)
        self.burst = burst if burst is not None else max(float(self.batch), rate / 5)
        self.local = Pacer(rate)
        self._held = 0
        self._draw = asyncio.Lock()
        self._session = OwnSession(url)
        self.draws = 0
        self.draw_seconds = 0.0
        self.waits = 0

    @property
    def interval(self) -> float:
        return self.local.interval

    def _take(self) -> tuple[int, float]:
        with self._session.guard:
            conn, _ = self._session.get()
            t0 = time.perf_counter()
            try:
                row = conn.execute(
                    "SELECT granted, wait FROM elaas_take_tokens(%s, %s, %s, %s)",
                    (self.name, self.rate, self.burst, self.batch)).fetchone()
            except psycopg.Error as exc:
                raise connect_error(self.url, exc) from None
            self.draw_seconds += time.perf_counter() - t0
            self.draws += 1
        assert row is not None
        return int(row[0]), float(row[1] or 0.0)

    async def slot(self) -> None:
        """Wait for this instance's spacing and for a token of the shared budget."""
        await self.local.slot()
        async with self._draw:
            while self._held <= 0:
                granted, wait = await asyncio.to_thread(self._take)
                if granted:
                    self._held += granted
                    break
                self.waits += 1
                await asyncio.sleep(min(max(wait, 0.002), 1.0))
            self._held -= 1

    def pause(self, seconds: float) -> None:
        """A flood wait from the channel: this instance pauses (the others learn by 429)."""
        self.local.pause(seconds)

    def close(self) -> None:
        self._session.close()
