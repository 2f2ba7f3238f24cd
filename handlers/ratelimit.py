"""Flow control shared by the channel adapters: flood limit, duplicate ids, ordered jobs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from bot.core.contract import Incoming, Reply
from bot.core.engine import Engine
from bot.core.greetings import RATE_LIMITED_TEXT
from bot.core.splitting import chunked, split_text
from handlers.callthread import CallThread

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

    Jobs wait in a queue per key; at most ``workers`` jobs run at once (None: every key with
    work runs at once), each worker taking the next key in turn, so a user's second event goes
    after the other users' first. No task per job: a backlog of thousands costs queue entries,
    not tasks the event loop must step through. ``reserve`` makes an accept wait (first come,
    first served) while ``backlog`` jobs are pending, so a saturated server slows its
    acknowledgements down instead of piling up answers it gives late. Exceptions are logged
    with the job's label (an event id) and never stop other jobs.
    """

    def __init__(self, limit: int = 5_000, *, workers: int | None = None,
                 backlog: int | None = None):
        self.limit = limit
        self.workers = workers
        self.backlog = limit if backlog is None else backlog
        self._queues: dict[str, deque[tuple[Coroutine[Any, Any, None], str]]] = {}
        self._ready: deque[str] = deque()
        self._runners: set[asyncio.Task[None]] = set()
        self._working = 0
        self._jobs = 0
        self._reserved = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._idle: asyncio.Event | None = None

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        return self._jobs

    @property
    def full(self) -> bool:
        """True when accepting more work would let the backlog grow without bound."""
        return self._jobs >= self.limit

    def submit(self, key: str, job: Coroutine[Any, Any, None], label: str) -> None:
        """Run ``job`` after the earlier jobs of ``key``; ``label`` names it in logs."""
        self._jobs += 1
        queue = self._queues.get(key)
        if queue is not None:  # the key is queued or running: its worker takes this one next
            queue.append((job, label))
            return
        self._queues[key] = deque(((job, label),))
        self._ready.append(key)
        if self.workers is None or self._working < self.workers:
            self._working += 1
            task = asyncio.get_running_loop().create_task(self._work())
            self._runners.add(task)
            task.add_done_callback(self._runners.discard)

    async def _work(self) -> None:
        try:
            await self._work_on()
        finally:
            # Counted here, not in a done callback: a key submitted between this worker's
            # last look at the queue and its callback would otherwise wait for a next submit.
            self._working -= 1

    async def _work_on(self) -> None:
        ready, queues = self._ready, self._queues
        while ready:
            key = ready.popleft()
            queue = queues[key]
            job, label = queue.popleft()
            try:
                await job
            except asyncio.CancelledError:
                self._jobs -= 1
                if not queue:
                    del queues[key]
                raise
            except Exception:
                _LOG.exception("event %s failed", label)
            self._jobs -= 1
            if queue:
                ready.append(key)
            else:
                del queues[key]
            if self._waiters:
                self._grant()
            if not self._jobs and self._idle is not None:
                self._idle.set()

    async def reserve(self, n: int, timeout: float) -> None:
        """Wait until ``n`` more jobs fit in the backlog and hold room for them (give it back
        with :meth:`release` once they are submitted or dropped). First come, first served;
        a batch larger than the backlog gets in when nothing is pending.

        Raises:
            TimeoutError: no room within ``timeout`` seconds (nothing is held).
        """
        if not self._waiters and self._fits(n):
            self._reserved += n
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((n, waiter))
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._reserved -= n  # granted just as the wait ended: give the room back
            else:
                waiter.cancel()
            self._waiters = deque(w for w in self._waiters if w[1] is not waiter)
            self._grant()
            raise

    def release(self, n: int) -> None:
        """Give back room held by :meth:`reserve` (its jobs now count as pending)."""
        self._reserved -= n
        if self._waiters:
            self._grant()

    def _fits(self, n: int) -> bool:
        held = self._jobs + self._reserved
        return held + n <= self.backlog or held == 0

    def _grant(self) -> None:
        while self._waiters and self._fits(self._waiters[0][0]):
            n, waiter = self._waiters.popleft()
            if not waiter.done():
                self._reserved += n
                waiter.set_result(None)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for pending jobs (up to ``timeout`` seconds), then cancel what is left."""
        if self._jobs:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                self._idle = None
        left = self._jobs
        for queue in self._queues.values():
            for job, _ in queue:
                job.close()  # never started: nothing to clean up but the coroutine
            queue.clear()
        runners = set(self._runners)
        for t in runners:
            t.cancel()
        if runners:
            await asyncio.wait(runners, timeout=2.0)
        self._queues.clear()
        self._ready.clear()
        self._jobs = 0
        if left:
            _LOG.warning("cancelled %d unfinished event job(s) at shutdown", left)


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
        self._executor = CallThread("engine")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the engine thread and return its result."""
        return await self._executor.run(fn, *args)

    def reply_to(self, incoming: Incoming, primed: Any = None) -> asyncio.Future[list[Reply]]:
        """``Engine.reply_to`` on the engine thread: a future to await (no coroutine around
        it, once per event). With ``primed`` (see :meth:`prime`) its store reads and writes go
        through that read-ahead."""
        if primed is None:
            return self._executor.run(self.engine.reply_to, incoming)
        return self._executor.run(self._reply_primed, incoming, primed)

    def _reply_primed(self, incoming: Incoming, primed: Any) -> list[Reply]:
        with self.engine.store.primed(primed):  # type: ignore[attr-defined]
            return self.engine.reply_to(incoming)

    def prime(self, docs: dict[tuple[str, str], str | None]) -> Any:
        """A read-ahead (bot.core.pgstore.Primed) of ``docs`` for the engine's store, or None
        when the store keeps none (embedded) or nothing was read ahead."""
        make = getattr(self.engine.store, "prime", None)
        return make(docs) if make is not None and docs else None

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
