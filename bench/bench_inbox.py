"""The inbox journal alone, under GIL contention: accept latency and event-loop CPU per event.

Usage: .venv/bin/python bench/bench_inbox.py [--seconds 6] [--senders 16]

``--senders`` closed-loop "webhooks" each accept one event record at a time into a FileInbox on
a temporary file (the O_DSYNC journal of ``serve``); each accepted event then gets its sending
mark (awaited) and its answered mark 2 ms later, as the pipeline's jobs do. A CPU-bound thread
stands in for the engine and holds the GIL as in ``serve`` (5 ms switch interval, uvloop).
Prints accepts/s, the accept latency percentiles, the event loop's CPU per event and the synced
writes per event. The disk and the rest of the machine set most of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.eventloop import run as run_loop  # noqa: E402
from handlers.inbox import FileInbox  # noqa: E402
from handlers.web.server import SWITCH_INTERVAL  # noqa: E402

RECORD = {"channel": "line", "event_id": "0" * 26, "to": "U" * 33, "reply_token": "r" * 40,
          "incoming": {"text": "ระบบ e-LAAS ล่มอยู่ไหม", "user_id": "U" * 33}}


async def run(seconds: float, senders: int) -> None:
    inbox = FileInbox(Path(tempfile.mkdtemp(prefix="bench-inbox-")) / "inbox.journal")
    inbox.load()
    latencies: list[float] = []
    jobs: set[asyncio.Task[None]] = set()

    async def job(key: str) -> None:
        await asyncio.sleep(0.002)  # the engine and the reply call
        await inbox.sending(key, "reply")
        inbox.answered(key)

    async def sender(s: int, end: float) -> None:
        i = 0
        while time.perf_counter() < end:
            key = f"line:{s}-{i}"
            i += 1
            started = time.perf_counter()
            await inbox.accept([(key, RECORD)])
            latencies.append(time.perf_counter() - started)
            task = asyncio.create_task(job(key))
            jobs.add(task)
            task.add_done_callback(jobs.discard)

    cpu = time.thread_time()
    await asyncio.gather(*(sender(s, time.perf_counter() + seconds) for s in range(senders)))
    cpu = time.thread_time() - cpu
    await asyncio.gather(*jobs)
    await inbox.close()
    ms = sorted(x * 1000 for x in latencies)
    n = len(ms)
    print(f"accepted               {n / seconds:.0f} events/s ({senders} senders, "
          f"{seconds:.0f} s)")
    print(f"accept latency ms      p50 {ms[n // 2]:.1f}  p90 {ms[int(n * 0.9)]:.1f}  "
          f"p99 {ms[int(n * 0.99)]:.1f}  max {ms[-1]:.1f}")
    print(f"event loop CPU         {cpu / n * 1e6:.0f} us/event (accept, sending, answered)")
    print(f"synced writes          {inbox.fsyncs} ({inbox.fsyncs / n:.2f} per event)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--senders", type=int, default=16)
    a = p.parse_args()
    sys.setswitchinterval(SWITCH_INTERVAL)
    stop = threading.Event()

    def engine() -> None:  # pure Python, holds the GIL until asked to switch
        x = 0
        while not stop.is_set():
            for i in range(1000):
                x += i

    threading.Thread(target=engine, daemon=True).start()
    try:
        run_loop(run(a.seconds, a.senders))
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
