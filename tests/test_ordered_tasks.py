"""The job runner behind the pipeline: order per user, bounded workers, a backlog that waits."""

from __future__ import annotations

import asyncio

import pytest

from handlers.ratelimit import OrderedTasks
from tests.fakes import wait_for


async def test_jobs_of_one_key_run_in_order_and_keys_take_turns() -> None:
    tasks = OrderedTasks(workers=1)
    ran: list[str] = []

    async def job(name: str) -> None:
        await asyncio.sleep(0)
        ran.append(name)

    for name in ("a1", "a2", "a3", "b1", "c1"):
        tasks.submit(name[0], job(name), name)
    await wait_for(lambda: tasks.pending == 0)
    # One worker, round robin: a user's second event goes after the other users' first.
    assert ran == ["a1", "b1", "c1", "a2", "a3"]


async def test_at_most_workers_jobs_run_at_once_and_order_per_key_holds() -> None:
    tasks = OrderedTasks(workers=3)
    running = 0
    most = 0
    done: dict[str, list[int]] = {}

    async def job(key: str, n: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.001 * (n % 3))
        done.setdefault(key, []).append(n)
        running -= 1

    for n in range(60):
        key = f"u{n % 7}"
        tasks.submit(key, job(key, n), f"{key}/{n}")
    assert tasks.pending == 60
    await wait_for(lambda: tasks.pending == 0)
    assert most == 3
    assert sum(len(v) for v in done.values()) == 60
    assert all(v == sorted(v) for v in done.values())


async def test_a_key_submitted_as_the_last_worker_stops_still_runs() -> None:
    # Found by bench_serve: a job submitted between a worker's last look at the queue and the
    # end of its task waited for the next submit (forever at the end of a burst).
    tasks = OrderedTasks(workers=1)
    ran: list[str] = []
    loop = asyncio.get_running_loop()

    async def late() -> None:
        ran.append("late")

    async def first() -> None:
        ran.append("first")
        # Runs after this job and the worker's last look, before the worker task's callbacks.
        loop.call_soon(lambda: tasks.submit("b", late(), "late"))

    tasks.submit("a", first(), "first")
    await wait_for(lambda: ran == ["first", "late"], timeout=2.0)
    assert tasks.pending == 0


async def test_a_failing_job_is_logged_and_the_next_one_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    tasks = OrderedTasks(workers=2)
    ran: list[str] = []

    async def bad() -> None:
        raise ValueError("boom")

    async def good() -> None:
        ran.append("good")

    tasks.submit("u", bad(), "ev-bad")
    tasks.submit("u", good(), "ev-good")
    await wait_for(lambda: tasks.pending == 0)
    assert ran == ["good"]
    assert "event ev-bad failed" in caplog.text


async def test_reserve_waits_for_room_first_come_first_served() -> None:
    tasks = OrderedTasks(workers=2, backlog=4)
    gate = asyncio.Event()

    async def job() -> None:
        await gate.wait()

    await tasks.reserve(4, timeout=1.0)
    for n in range(4):
        tasks.submit(f"u{n}", job(), f"ev{n}")
    tasks.release(4)
    assert tasks.pending == 4
    order: list[str] = []

    async def accept(name: str, n: int) -> None:
        await tasks.reserve(n, timeout=5.0)
        order.append(name)
        for i in range(n):
            tasks.submit(f"{name}{i}", job(), name)
        tasks.release(n)

    waiting = [asyncio.create_task(accept("big", 2)), asyncio.create_task(accept("small", 1))]
    await asyncio.sleep(0.05)
    assert order == []  # the backlog is full: both accepts wait
    assert tasks.pending == 4
    gate.set()
    await asyncio.gather(*waiting)
    assert order == ["big", "small"]  # the small one did not overtake the big one
    await wait_for(lambda: tasks.pending == 0)


async def test_reserve_times_out_and_holds_nothing() -> None:
    tasks = OrderedTasks(workers=1, backlog=1)
    gate = asyncio.Event()

    async def job() -> None:
        await gate.wait()

    tasks.submit("u", job(), "ev")
    with pytest.raises(TimeoutError):
        await tasks.reserve(1, timeout=0.05)
    gate.set()
    await wait_for(lambda: tasks.pending == 0)
    await asyncio.wait_for(tasks.reserve(1, timeout=1.0), 1.0)  # the failed wait held no room
    tasks.release(1)


async def test_a_batch_larger_than_the_backlog_gets_in_when_nothing_is_pending() -> None:
    tasks = OrderedTasks(workers=1, backlog=2)
    await asyncio.wait_for(tasks.reserve(10, timeout=1.0), 1.0)
    tasks.release(10)


async def test_drain_cancels_what_is_left_and_closes_queued_jobs() -> None:
    tasks = OrderedTasks(workers=1)
    started: list[int] = []

    async def slow(n: int) -> None:
        started.append(n)
        await asyncio.sleep(60)

    for n in range(3):
        tasks.submit("u", slow(n), f"ev{n}")
    await asyncio.sleep(0.01)
    await tasks.drain(timeout=0.05)
    assert started == [0]
    assert tasks.pending == 0
