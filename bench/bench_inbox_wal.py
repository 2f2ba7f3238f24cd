"""What the shared inbox writes per event: WAL records and bytes, and which updates are HOT.

Usage: .venv/bin/python bench/bench_inbox_wal.py [--users 200] [--rounds 3]

A throwaway PostgreSQL cluster; one PgInbox runs the statements of serve's drain, without the
engine or a channel, so the figures do not depend on the machine's load: each round accepts
one event per user (3 to an INSERT), then per 8 users claims, marks sending, answers and
releases with two deferred documents (a last topic and an offer, as serve writes them). A
first round makes the rows of the documents and leases exist. Prints per event: WAL records
and bytes, and per table the updates and how many of them were HOT (no new index entries).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.pgstore import migrate  # noqa: E402
from handlers.pginbox import PgInbox  # noqa: E402
from tests.pgcluster import Cluster, find_bindir  # noqa: E402

RECORD = {"type": "message", "text": "ระบบ e-LAAS ล่มอยู่ไหมครับ", "user": "U" + "f" * 32,
          "reply_token": "0123456789abcdef" * 2, "ts": 1_764_000_000_000}
DOCS = {"followups": '{"topic": "ledger.close", "at": "2026-12-02T12:00:00+07:00"}',
        "offers": '{"choices": ["a", "b", "c"], "at": "2026-12-02T12:00:00+07:00"}'}


async def rounds(url: str, users: int, n: int, tag: str) -> None:
    box = PgInbox(url, prefetch=tuple(DOCS))
    await box.open()
    keys = [f"line:U{u}" for u in range(users)]
    for r in range(n):
        rows = [(f"line:{tag}{r}-{k}", k, k, dict(RECORD), "ok") for k in keys]
        for i in range(0, len(rows), 3):
            await box.accept_judged(rows[i:i + 3])
        for i in range(0, len(keys), 8):
            group = keys[i:i + 8]
            got = await asyncio.gather(*(box.claim(k) for k in group))
            events = [c for g in got for c in (g or [])]
            await asyncio.gather(*(box.sending(c.key, "reply") for c in events))
            for c in events:
                box.answered(c.key)
            await asyncio.gather(*(box.release(k, {(t, k): d for t, d in DOCS.items()})
                                   for k in group))
    await box.close()


def counters(cluster: Cluster) -> dict[str, Any]:
    with cluster.admin("elaas") as conn:
        wal: Any = conn.execute("SELECT wal_records, wal_bytes FROM pg_stat_wal").fetchone()
        tables: Any = conn.execute("SELECT relname, n_tup_upd, n_tup_hot_upd"
                                   " FROM pg_stat_all_tables WHERE relname LIKE 'elaas_%'"
                                   ).fetchall()
    assert wal is not None
    return {"wal": (int(wal[0]), int(wal[1])), **{str(t): (int(u), int(h)) for t, u, h in tables}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (initdb not found)")
    cluster = Cluster(bindir)
    try:
        url = cluster.url(cluster.new_schema())
        migrate(url)
        asyncio.run(rounds(url, a.users, 1, "w"))
        before = counters(cluster)
        asyncio.run(rounds(url, a.users, a.rounds, "m"))
        after = counters(cluster)  # the pools are closed: their backends flushed their stats
    finally:
        cluster.stop()
    events = a.users * a.rounds
    (r0, b0), (r1, b1) = before["wal"], after["wal"]
    print(f"WAL per event: {(r1 - r0) / events:.1f} records, {(b1 - b0) / events:.0f} bytes "
          f"({events} events)")
    for table in sorted(k for k in after if k != "wal"):
        upd = after[table][0] - before.get(table, (0, 0))[0]
        hot = after[table][1] - before.get(table, (0, 0))[1]
        if upd:
            print(f"  {table:<20} {upd / events:4.1f} updates per event, {hot / upd:4.0%} HOT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
