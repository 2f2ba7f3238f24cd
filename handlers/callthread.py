"""One thread running blocking calls for the event loop, in order: a lean single-worker pool."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class CallThread:
    """Runs ``fn(*args)`` calls one after the other on its own thread.

    What ``loop.run_in_executor`` with a one-worker ThreadPoolExecutor does, without its
    per-call locks (an idle semaphore and a shutdown lock taken by both threads, which under
    load made the event loop wait for the GIL behind the worker) and without a second future
    chained to the first: a C queue in, one ``call_soon_threadsafe`` out.
    """

    def __init__(self, name: str):
        self.name = name
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(*args)``; the returned future (of the running loop) gets its outcome.

        Raises:
            RuntimeError: after :meth:`shutdown`.
        """
        if self._closed:
            raise RuntimeError(f"{self.name}: cannot run calls after shutdown")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            # A daemon: an owner that forgets shutdown() must not hang the interpreter's exit.
            self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
            self._thread.start()
        self._queue.put((loop, future, fn, args))
        return future

    def _main(self) -> None:
        get = self._queue.get
        while True:
            job = get()
            if job is None:
                return
            loop, future, fn, args = job
            del job
            if future.cancelled():  # the caller gave up before the call started
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the caller, as an executor does
                _settle_from_thread(loop, future, None, exc)
            else:
                _settle_from_thread(loop, future, result, None)
            del loop, future, fn, args

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
                    loop, future = job[0], job[1]
                    if not loop.is_closed():
                        loop.call_soon_threadsafe(future.cancel)
        self._queue.put(None)
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()


def _settle_from_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any],
                        result: Any, exc: BaseException | None) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, result, exc)
    except RuntimeError:  # the loop is closed: nobody waits for this result any more
        pass


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
