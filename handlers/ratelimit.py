"""Flow control shared by the channel adapters: flood limit, duplicate ids, ordered jobs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from bot.core.contract import Incoming, Reply
from bot.core.engine import Engine
from bot.core.greetings import RATE_LIMITED_TEXT
from bot.core.splitting import chunked, split_text

_LOG = logging.getLogger(__name__)
__all__ = ["RATE_LIMITED_TEXT", "Flow", "OrderedTasks", "RateLimiter", "RecentIds", "chunked",
           "split_text"]
T = TypeVar("T")

Verdict = Literal["ok", "warn", "drop"]


@dataclass
class _Bucket:
    tokens: float
    at: float
    blocked: bool = False


class RateLimiter:
    """A token bucket per key (``channel:user``): ``capacity`` messages per ``period`` seconds.

    When a bucket runs dry the caller gets ``"warn"`` once (answer with RATE_LIMITED_TEXT),
    then ``"drop"`` until the bucket has refilled completely, so a flood costs at most one
    warning per refill instead of one per message.
    """

    def __init__(self, capacity: int = 10, period: float = 10.0, *, max_keys: int = 20_000,
                 clock: Callable[[], float] = time.monotonic):
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, key: str) -> Verdict:
        """Take one token for ``key``.

        Returns:
            ``"ok"`` to handle the message, ``"warn"`` to answer with the flood warning once,
            ``"drop"`` to ignore it silently.
        """
        now = self.clock()
        b = self._buckets.get(key)
        if b is None:
            b = _Bucket(self.capacity, now)
            self._buckets[key] = b
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            b.tokens = min(self.capacity, b.tokens + (now - b.at) * self.rate)
            b.at = now
        if b.blocked:
            if b.tokens < self.capacity:
                return "drop"
            b.blocked = False
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return "ok"
        b.blocked = True
        return "warn"


class RecentIds:
    """A bounded set of recently seen event ids (oldest forgotten first)."""

    def __init__(self, maxlen: int = 20_000):
        self.maxlen = maxlen
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        """True when ``event_id`` was seen before; otherwise remember it and return False."""
        if event_id in self._ids:
            return True
        self._ids[event_id] = None
        if len(self._ids) > self.maxlen:
            self._ids.popitem(last=False)
        return False

    def forget(self, event_id: str) -> None:
        """Forget one id (so that a delivery that failed before any work can be retried)."""
        self._ids.pop(event_id, None)

    def clear(self) -> None:
        """Forget every id (as after a restart)."""
        self._ids.clear()

    def __len__(self) -> int:
        return len(self._ids)


class OrderedTasks:
    """Background work: in arrival order for one key (one user), concurrent across keys.

    Every job runs in its own task that first waits for the previous job of the same key.
    Exceptions are logged with the job's label (an event id) and never stop other jobs.
    """

    def __init__(self, limit: int = 5_000):
        self.limit = limit
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._all: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        return len(self._all)

    @property
    def full(self) -> bool:
        """True when accepting more work would let the backlog grow without bound."""
        return len(self._all) >= self.limit

    def submit(self, key: str, job: Coroutine[Any, Any, None], label: str) -> asyncio.Task[None]:
        """Run ``job`` after the earlier jobs of ``key``; ``label`` names it in logs."""
        prev = self._tails.get(key)
        task = asyncio.get_running_loop().create_task(self._run(prev, job, label))
        self._tails[key] = task
        self._all.add(task)
        task.add_done_callback(lambda t: self._done(key, t))
        return task

    async def _run(self, prev: asyncio.Task[None] | None, job: Coroutine[Any, Any, None],
                   label: str) -> None:
        try:
            if prev is not None and not prev.done():
                await asyncio.wait([prev])
            await job
        except asyncio.CancelledError:
            job.close()
            raise
        except Exception:
            _LOG.exception("event %s failed", label)

    def _done(self, key: str, task: asyncio.Task[None]) -> None:
        self._all.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for running jobs (up to ``timeout`` seconds), then cancel what is left."""
        if not self._all:
            return
        _done, left = await asyncio.wait(set(self._all), timeout=timeout)
        for t in left:
            t.cancel()
        if left:
            _LOG.warning("cancelled %d unfinished event job(s) at shutdown", len(left))
            await asyncio.wait(left, timeout=2.0)


class Flow:
    """What the adapters share: the flood limiter, the ordered job runner and the engine thread.

    The engine is synchronous and its store has one writer, so every engine call runs on one
    dedicated thread, off the event loop. Other components that touch the engine or the store
    from async code should go through :meth:`call` too.
    """

    def __init__(self, engine: Engine, *, limiter: RateLimiter | None = None,
                 tasks: OrderedTasks | None = None):
        self.engine = engine
        self.limiter = limiter or RateLimiter()
        self.tasks = tasks or OrderedTasks()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the engine thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args))

    async def reply_to(self, incoming: Incoming) -> list[Reply]:
        """``Engine.reply_to`` on the engine thread."""
        return await self.call(self.engine.reply_to, incoming)

    def admit(self, channel: str, user_id: str, event_id: str) -> Verdict:
        """Check the flood limit for one user message and log when it bites."""
        verdict = self.limiter.check(f"{channel}:{user_id}")
        if verdict == "warn":
            _LOG.warning("%s user flooding, warned once (event %s)", channel, event_id or "-")
        elif verdict == "drop":
            _LOG.info("%s flood: dropped event %s", channel, event_id or "-")
        return verdict

    def close(self) -> None:
        """Stop the engine thread (after the jobs have drained)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
