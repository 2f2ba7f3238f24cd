"""One thread running blocking calls for the event loop, in order: a lean single-worker pool."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple["Handover", "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


class Handover:
    """Outcomes waiting to be handed to one event loop, and whether a hand-over is scheduled.

    The worker appends and schedules one hand-over only when none is pending; the loop clears
    the flag before it takes what is there. So a burst of calls finished while the loop was
    busy costs one wake-up of the loop (``call_soon_threadsafe``), not one per call.
    """

    __slots__ = ("items", "loop", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.items: deque[Outcome] = deque()
        self.scheduled = False

    def put(self, outcome: Outcome) -> None:
        """(worker thread) Queue ``outcome``; wake the loop unless a wake-up is pending."""
        self.items.append(outcome)
        if self.scheduled:
            return
        self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self.settle)
        except RuntimeError:  # the loop is closed: nobody waits for these results any more
            self.items.clear()

    def settle(self) -> None:
        """(loop thread) Hand every queued outcome to its future."""
        self.scheduled = False  # before taking: an outcome added after this schedules again
        items = self.items
        while items:
            future, result, exc = items.popleft()
            if future.cancelled():
                continue
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)


class Handovers:
    """One :class:`Handover` per event loop, for a thread whose callers' futures belong to
    whichever loop called it (a thread outlives the loops of tests that share it)."""

    def __init__(self) -> None:
        self._by_loop: dict[asyncio.AbstractEventLoop, Handover] = {}

    def of(self, loop: asyncio.AbstractEventLoop) -> Handover:
        """(loop thread) The hand-over to ``loop``; closed loops' ones go when a new loop comes."""
        handover = self._by_loop.get(loop)
        if handover is None:
            for old in [k for k in self._by_loop if k.is_closed()]:
                del self._by_loop[old]
            handover = self._by_loop[loop] = Handover(loop)
        return handover


class CallThread:
    """Runs ``fn(*args)`` calls one after the other on its own thread.

    What ``loop.run_in_executor`` with a one-worker ThreadPoolExecutor does, without its
    per-call locks (an idle semaphore and a shutdown lock taken by both threads, which under
    load made the event loop wait for the GIL behind the worker) and without a second future
    chained to the first: a C queue in; out, one ``call_soon_threadsafe`` per batch of calls
    that finished while the loop was busy (see :class:`Handover`).
    """

    def __init__(self, name: str):
        self.name = name
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._handovers = Handovers()

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(*args)``; the returned future (of the running loop) gets its outcome.

        Raises:
            RuntimeError: after :meth:`shutdown`.
        """
        if self._closed:
            raise RuntimeError(f"{self.name}: cannot run calls after shutdown")
        loop = asyncio.get_running_loop()
        outbox = self._handovers.of(loop)
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            # A daemon: an owner that forgets shutdown() must not hang the interpreter's exit.
            self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
            self._thread.start()
        self._queue.put((outbox, future, fn, args))
        return future

    def _main(self) -> None:
        get = self._queue.get
        while True:
            job = get()
            if job is None:
                return
            outbox, future, fn, args = job
            del job
            if future.cancelled():  # the caller gave up before the call started
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the caller, as an executor does
                outbox.put((future, None, exc))
            else:
                outbox.put((future, result, None))
            del outbox, future, fn, args

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = False) -> None:
        """Refuse new calls; run (or, with ``cancel_futures``, cancel) the queued ones; stop."""
        self._closed = True
        if cancel_futures:
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    loop, future = job[0].loop, job[1]
                    if not loop.is_closed():
                        loop.call_soon_threadsafe(future.cancel)
        self._queue.put(None)
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
