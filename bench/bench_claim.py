"""Claiming inbox work across instances: leased order keys (PgInbox) vs FOR UPDATE SKIP LOCKED.

Usage: .venv/bin/python bench/bench_claim.py [--events 4000] [--users 2000] [--workers 8]

A throwaway PostgreSQL cluster (fsync on); two "instances" (two connection pools in this
process) with ``--workers`` coroutines each drain the same backlog of events, keeping each
user's events in order. Per way: events/s, client CPU and PostgreSQL CPU per event, and the
latency from accepting one event to claiming it when the system is idle (the fast path).

* lease: handlers.pginbox.PgInbox as serve uses it (claim an order key, sending mark,
  answered, release with a look for newcomers; calls of concurrent workers grouped).
* skip-locked: a classic job queue; a worker takes the oldest open event whose user has no
  earlier open event (``FOR UPDATE SKIP LOCKED``), marks it sending, then answered. Workers
  poll (no LISTEN/NOTIFY), so an idle queue costs a poll interval of latency.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import cluster_cpu, loadavg  # noqa: E402
from handlers.pginbox import PgInbox  # noqa: E402
from tests.pgcluster import Cluster, find_bindir  # noqa: E402

POLL = 0.05

_TAKE = """
UPDATE elaas_inbox SET state = 1, how = 'reply', attempts = attempts + 1
WHERE key = (
    SELECT e.key FROM elaas_inbox e
    WHERE e.state = 0 AND NOT EXISTS (
        SELECT 1 FROM elaas_inbox p WHERE p.order_key = e.order_key AND p.seq < e.seq
        AND p.state < 2)
    ORDER BY e.seq FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING key, record
"""


def rows(n: int, users: int, tag: str) -> list[tuple[str, str, str, dict[str, Any], str]]:
    return [(f"line:{tag}{i}", f"line:U{i % users}", "", {"i": i, "text": "ระบบล่มอยู่ไหม"},
             "ok") for i in range(n)]


async def lease_way(url: str, events: int, users: int, workers: int) -> tuple[float, int]:
    inboxes = [PgInbox(url), PgInbox(url)]
    for box in inboxes:
        await box.open()
    await inboxes[0].accept_judged(rows(events, users, "L"))
    keys: asyncio.Queue[str] = asyncio.Queue()
    for u in range(users):
        keys.put_nowait(f"line:U{u}")
    done = 0

    async def worker(box: PgInbox) -> None:
        nonlocal done
        while not keys.empty():
            key = keys.get_nowait()
            while True:
                got = await box.claim(key)
                if got is None:
                    break
                for c in got:
                    await box.sending(c.key, "reply")
                    box.answered(c.key)
                    done += 1
                if not await box.release(key):
                    break

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(box) for box in inboxes for _ in range(workers)))
    took = time.perf_counter() - t0
    trips = sum(b._accept.round_trips + b._claim.round_trips + b._sending.round_trips
                + b._release.round_trips for b in inboxes)
    # the fast path: accept one event on an idle system, then claim it at once
    t1 = time.perf_counter()
    await inboxes[0].accept_judged([("line:fast", "line:Ufast", "", {"i": -1}, "ok")])
    await inboxes[0].claim("line:Ufast")
    fast = time.perf_counter() - t1
    for box in inboxes:
        await box.close()
    print(f"  lease: {done} handled, {trips} round trips; accept-to-claim idle "
          f"{fast * 1000:.1f} ms")
    return took, done


async def skip_locked_way(url: str, events: int, users: int, workers: int) -> tuple[float, int]:
    seed = PgInbox(url)
    await seed.open()
    await seed.accept_judged(rows(events, users, "S"))
    await seed.close()
    pools = [AsyncConnectionPool(url, min_size=1, max_size=8, open=False,
                                 kwargs={"autocommit": True}) for _ in range(2)]
    for p in pools:
        await p.open(wait=True)
    done = 0
    trips = 0

    async def worker(pool: AsyncConnectionPool[Any]) -> None:
        nonlocal done, trips
        idle = 0
        while idle < 3:
            async with pool.connection() as conn:
                cur = await conn.execute(_TAKE)
                got = await cur.fetchone()
                trips += 1
                if got is None:
                    idle += 1
                    await asyncio.sleep(POLL)
                    continue
                idle = 0
                await conn.execute("UPDATE elaas_inbox SET state = 2 WHERE key = %s", (got[0],))
                trips += 1
                done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(p) for p in pools for _ in range(workers)))
    took = time.perf_counter() - t0 - 3 * POLL  # the last idle polls are not work
    for p in pools:
        await p.close()
    print(f"  skip-locked: {done} handled, {trips} round trips; accept-to-claim idle "
          f"<= {POLL * 1000:.0f} ms poll interval (or a NOTIFY round trip)")
    return took, done


async def main_async(a: argparse.Namespace) -> int:
    from bot.core.pgstore import migrate

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (initdb not found)")
    cluster = Cluster(bindir, fsync=True)
    try:
        for name, way in (("lease", lease_way), ("skip-locked", skip_locked_way)):
            url = cluster.url(cluster.new_schema())
            migrate(url)
            cpu0, db0 = time.process_time(), cluster_cpu(cluster)
            took, done = await way(url, a.events, a.users, a.workers)
            cpu, db = time.process_time() - cpu0, cluster_cpu(cluster) - db0
            print(f"{name:<12} {done / took:7.0f} events/s  client CPU {cpu / done * 1000:.2f} "
                  f"ms/event  PostgreSQL CPU {db / done * 1000:.2f} ms/event  "
                  f"(2 x {a.workers} workers, {a.users} users; load average {loadavg()})",
                  flush=True)
    finally:
        cluster.stop()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=4_000)
    p.add_argument("--users", type=int, default=2_000)
    p.add_argument("--workers", type=int, default=8)
    return asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
