"""Logging one entry through Engine.reply_to on PostgreSQL vs TinyDB: one LAO holding 100,000
entries, and 1,000 LAOs (random ones: the first message to each in this process, which
loads its ledger, then a second message to the same LAOs).

Starts a throwaway PostgreSQL cluster (fsync on, as in production) from the machine's
packages, or uses ELAAS_DATABASE_URL when set (it must be migrated: elaas-bot db migrate).

Run: .venv/bin/python bench/bench_pgstore.py [--entries 100000] [--laos 1000] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.contract import Incoming  # noqa: E402
from bot.core.pgstore import PgStore, migrate  # noqa: E402
from bot.core.store import Store, TinyStore  # noqa: E402
from bot.ledger.book import LAOS, MEMBERS  # noqa: E402
from bot.ledger.entries import ParsedEntry  # noqa: E402
from handlers.app import Core, build_core  # noqa: E402
from handlers.settings import Settings  # noqa: E402

BANGKOK = timezone(timedelta(hours=7))
NOW = datetime(2024, 7, 31, 16, 0, tzinfo=BANGKOK)


def _seed_entries(n: int, tag: str) -> list[tuple[ParsedEntry, str]]:
    return [(ParsedEntry("receipt" if i % 3 else "payment", Decimal(100 + i % 900),
                         f"ค่าธรรมเนียมเก็บขยะมูลฝอย หมู่ {i % 12 + 1}",
                         date(2024, 7, 1) + timedelta(days=i % 30), f"{i}/2567", "cash"),
             f"{tag}-seed{i}") for i in range(n)]


def _core(store: Store, tmp: str) -> Core:
    core = build_core(Settings(data_dir=Path(tmp)), store=store)
    core.engine.clock = lambda: NOW
    return core


def _add_laos(store: Store, codes: list[str]) -> None:
    """LAOs and one member each (``console:u<code>``) in two writes."""
    store.table(LAOS).put_many({c: {"code": c, "name": f"อบต.{c}", "province": "ลำพูน"}
                                for c in codes})
    store.table(MEMBERS).put_many({f"console:u{c}": {
        "lao_code": c, "role": "admin", "name": "ผู้ทดสอบ", "joined_at": NOW.isoformat()}
        for c in codes})


def _time(core: Core, pick: Callable[[int], str], runs: int, tag: str,
          first_amount: int = 1000) -> list[float]:
    """Log one entry per run; each run's amount differs (the same line again within minutes is
    asked about as a duplicate, not logged)."""
    times = []
    for i in range(runs):
        code = pick(i)
        inc = Incoming("console", f"u{code}", f"u{code}", text=f"รับ {first_amount + i} ค่าขยะ หมู่ 3",
                       event_id=f"{tag}-bench{i}", display_name="ผู้ทดสอบ")
        t = time.perf_counter()
        replies = core.engine.reply_to(inc)
        times.append((time.perf_counter() - t) * 1000)
        assert "บันทึกแล้ว" in replies[0].text, replies[0].text
    return sorted(times)


def _fmt(times: list[float]) -> str:
    return (f"p50 {statistics.median(times):6.1f} ms  p95 {times[int(len(times) * .95)]:6.1f} ms"
            f"  max {times[-1]:6.1f} ms  ({len(times)} runs)")


def one_big_lao(store: Store, tmp: str, n: int, runs: int, tag: str) -> str:
    code = "01234567"
    _add_laos(store, [code])
    core = _core(store, tmp)
    seed = _seed_entries(n, tag)
    t = time.perf_counter()
    ledger = core.book.ledger(code)
    for i in range(0, n, 5000):
        ledger.add_many(seed[i:i + 5000], author="line:Useed", author_name="seed",
                        channel="line", now=NOW)
    seeded = time.perf_counter() - t
    # A fresh process: its first message opens the 100,000-entry ledger (timed apart).
    core = _core(store, tmp)
    t = time.perf_counter()
    core.book.ledger(code)
    opened = (time.perf_counter() - t) * 1000
    times = _time(core, lambda i: code, runs, tag)
    return (f"seeded {n:,} in {seeded:.1f} s; first open {opened:,.0f} ms; "
            f"log one entry: {_fmt(times)}")


def many_laos(store: Store, tmp: str, laos: int, per_lao: int, runs: int, tag: str) -> str:
    codes = [f"{10000000 + i}" for i in range(laos)]
    _add_laos(store, codes)
    core = _core(store, tmp)
    t = time.perf_counter()
    for c in codes:
        core.book.ledger(c).add_many(_seed_entries(per_lao, f"{tag}{c}"), author="line:Useed",
                                     author_name="seed", channel="line", now=NOW)
    seeded = time.perf_counter() - t
    core = _core(store, tmp)  # a fresh process: no ledger opened yet
    picked = random.Random(13).sample(codes, min(runs, laos))
    first = _time(core, lambda i: picked[i], len(picked), f"{tag}-first")
    later = _time(core, lambda i: picked[i], len(picked), f"{tag}-later", first_amount=5000)
    return (f"{laos:,} LAOs x {per_lao} entries seeded in {seeded:.1f} s; log one entry to a "
            f"random LAO, its first message in this process: {_fmt(first)}; "
            f"a later message: {_fmt(later)}")


def commit_floor(url: str, runs: int = 200) -> str:
    """The disk's share: one single-row INSERT committed durably, nothing else."""
    import psycopg

    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (k int)")
        for i in range(runs):
            t = time.perf_counter()
            conn.execute("INSERT INTO bench_floor VALUES (%s)", (i,))
            times.append((time.perf_counter() - t) * 1000)
        conn.execute("DROP TABLE bench_floor")
    return f"one durable single-row commit (the disk's floor): {_fmt(sorted(times))}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--laos", type=int, default=1000)
    ap.add_argument("--per-lao", type=int, default=100)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--tiny-runs", type=int, default=40, help="TinyDB is slow at 100k: fewer")
    ap.add_argument("--only", choices=("postgres", "tinydb"), help="one store only")
    ap.add_argument("--scenario", choices=("big", "many"), help="one scenario only")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the cluster is stopped

    cluster = None
    url = os.environ.get("ELAAS_DATABASE_URL", "")
    if not url and args.only != "tinydb":
        from tests.pgcluster import Cluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("no PostgreSQL binaries (initdb) found; set ELAAS_DATABASE_URL")
        cluster = Cluster(bindir, fsync=True)
    try:
        for name in [args.only] if args.only else ["postgres", "tinydb"]:
            for scenario in [args.scenario] if args.scenario else ["big", "many"]:
                with tempfile.TemporaryDirectory() as tmp:
                    if name == "postgres":
                        u = url or cluster.url(cluster.new_schema())  # type: ignore[union-attr]
                        migrate(u)
                        print(f"postgres      {commit_floor(u)}", flush=True)
                        store: Store = PgStore(u)
                    else:
                        store = TinyStore(Path(tmp) / "data")
                    runs = args.runs if name == "postgres" else args.tiny_runs
                    if scenario == "big":
                        line = one_big_lao(store, tmp, args.entries, runs, f"{name}-big")
                    else:
                        line = many_laos(store, tmp, args.laos, args.per_lao, runs,
                                         f"{name}-many")
                    print(f"{name:8s} {scenario:4s} {line}", flush=True)
                    store.close()
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
