"""Follow-up memory writes on PostgreSQL: one relaxed statement vs a transaction per answer.

Usage: .venv/bin/python bench/bench_followup.py [--writes 3000]

Starts a throwaway cluster (tests/pgcluster.py, fsync on) and writes ``--writes`` follow-up
rows (2,000 users) both ways: the old path (BEGIN, SET LOCAL synchronous_commit off, INSERT,
COMMIT in pipeline mode: ``sharing.without_flush_wait``) and the one statement of
``sharing.put_without_flush_wait``. Prints wall and this process's CPU per write, and the
PostgreSQL CPU per write, with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import cluster_cpu, loadavg  # noqa: E402
from bot.core.pgstore import PgStore, migrate  # noqa: E402
from bot.core.sharing import put_without_flush_wait, without_flush_wait  # noqa: E402
from tests.pgcluster import Cluster, find_bindir  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--writes", type=int, default=3000)
    a = p.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed")
    cluster = Cluster(bindir, fsync=True)
    try:
        url = cluster.url(cluster.new_schema())
        migrate(url)
        store = PgStore(url, max_size=2)
        table = store.table("followups")
        now = datetime.now().isoformat()

        def old(i: int) -> None:
            with without_flush_wait(store):
                table.put(f"line:U{i % 2000}", {"topic": "guide.pay", "at": now})

        def new(i: int) -> None:
            put_without_flush_wait(table, f"line:U{i % 2000}", {"topic": "guide.pay", "at": now})

        for name, fn in (("transaction", old), ("one statement", new),
                         ("transaction", old), ("one statement", new)):
            for i in range(200):  # warm-up
                fn(i)
            db0, cpu0, t0 = cluster_cpu(cluster), time.process_time(), time.perf_counter()
            for i in range(a.writes):
                fn(i)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            db = cluster_cpu(cluster) - db0
            n = a.writes
            print(f"{name:14} wall {wall / n * 1000:.3f} ms  client CPU {cpu / n * 1000:.3f} ms"
                  f"  PostgreSQL CPU {db / n * 1000:.3f} ms per write  load average {loadavg()}",
                  flush=True)
        store.close()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
