"""CallThread: calls in order on one thread, outcomes handed back to the calling loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from handlers.callthread import CallThread


async def test_calls_run_in_order_on_one_thread_and_return_their_results():
    worker = CallThread("t")
    seen: list[tuple[int, str]] = []

    def call(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        return i * 2

    try:
        results = await asyncio.gather(*(worker.run(call, i) for i in range(200)))
    finally:
        worker.shutdown()
    assert results == [i * 2 for i in range(200)]
    assert [i for i, _ in seen] == list(range(200))
    assert {name for _, name in seen} == {"t"}


async def test_an_exception_reaches_the_caller_and_later_calls_still_run():
    worker = CallThread("t")

    def boom() -> None:
        raise ValueError("no")

    try:
        failing = worker.run(boom)
        after = worker.run(lambda: "after")
        with pytest.raises(ValueError, match="no"):
            await failing
        assert await after == "after"
    finally:
        worker.shutdown()


async def test_outcomes_finished_while_the_loop_is_busy_wake_it_once():
    worker = CallThread("t")
    loop = asyncio.get_running_loop()
    wakeups = 0
    original = loop.call_soon_threadsafe

    def counting(*args, **kwargs):
        nonlocal wakeups
        wakeups += 1
        return original(*args, **kwargs)

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    try:
        futures = [worker.run(time.sleep, 0) for _ in range(50)]
        time.sleep(0.3)  # the loop is busy (blocked) while the worker finishes all 50
        await asyncio.gather(*futures)
    finally:
        del loop.call_soon_threadsafe
        worker.shutdown()
    assert all(f.done() for f in futures)
    assert wakeups <= 2  # one for the batch (at most one more, a race with the first call)


async def test_a_cancelled_caller_is_skipped():
    worker = CallThread("t")
    gate = threading.Event()
    ran: list[str] = []
    try:
        first = worker.run(gate.wait, 5)
        second = worker.run(ran.append, "second")
        second.cancel()
        third = worker.run(ran.append, "third")
        gate.set()
        await first
        await third
    finally:
        worker.shutdown()
    assert ran == ["third"]


def test_one_thread_serves_loops_one_after_another():
    worker = CallThread("t")
    try:
        for i in range(3):
            assert asyncio.run(_once(worker, i)) == i
    finally:
        worker.shutdown()


async def _once(worker: CallThread, value: int) -> int:
    return await worker.run(lambda: value)


async def test_no_calls_after_shutdown():
    worker = CallThread("t")
    worker.shutdown()
    with pytest.raises(RuntimeError):
        worker.run(lambda: None)
