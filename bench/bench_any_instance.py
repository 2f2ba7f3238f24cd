"""What sharing per-process state through PostgreSQL costs (several instances) against keeping it
in memory (one process): follow-up memory per answered question, file links (put + download),
console sessions, and the key-back summaries the console's progress page reads.

Starts a throwaway PostgreSQL cluster (fsync on, as in production) from the machine's
packages, or uses ELAAS_DATABASE_URL when set (migrated: elaas-bot db migrate).

Run: .venv/bin/python bench/bench_any_instance.py [--runs 300] [--laos 7850]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.codec import encode  # noqa: E402
from bot.core.contract import FileBlob, Incoming  # noqa: E402
from bot.core.pgstore import PgStore, migrate  # noqa: E402
from bot.core.store import MemoryStore, Store  # noqa: E402
from bot.ledger.summary import PREFIX, LaoSummary, Summaries, shard_of  # noqa: E402
from bot.notices.console_auth import Sessions  # noqa: E402
from bot.qa.followup import StoreTopicMemory, TopicMemory  # noqa: E402
from handlers.app import build_core  # noqa: E402
from handlers.settings import Settings  # noqa: E402
from handlers.web.files import FileVault, PgFileVault  # noqa: E402

BANGKOK = timezone(timedelta(hours=7))
SECRET = b"s" * 64


def timed(fn: Callable[[int], object], runs: int) -> list[float]:
    out = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"  {label:<44} p50 {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms"


def bench_followups(store: Store, runs: int) -> None:
    core = build_core(Settings(data_dir=Path(tempfile.mkdtemp())), store=store)
    engine = core.engine
    now = datetime.now(BANGKOK)
    engine.clock = lambda: now

    def ask(prefix: str) -> Callable[[int], object]:
        return lambda i: engine.reply_to(Incoming("line", f"U{prefix}{i}", f"U{prefix}{i}",
                                                  text="จ่ายเงินช่วงระบบล่มทำยังไง",
                                                  event_id=f"{prefix}{i}"))

    for _ in range(20):  # warm the tokenizer and the matcher
        ask("warm")(0)
    in_store = engine.memory
    assert isinstance(in_store, StoreTopicMemory)
    in_memory = TopicMemory()
    shared: list[float] = []
    local: list[float] = []
    for i in range(runs):  # interleaved, so that both see the same machine load
        engine.memory = in_store
        shared += timed(lambda _, i=i: ask("s")(i), 1)
        engine.memory = in_memory
        local += timed(lambda _, i=i: ask("m")(i), 1)
    print("answering a question (Engine.reply_to, PostgreSQL store):")
    print(line("follow-up memory in memory (one process)", local))
    print(line("follow-up memory in the store (several)", shared))
    print(f"  cost of sharing it: {statistics.median(shared) - statistics.median(local):+.2f} ms"
          " per answered question (median)")


def bench_files(store: PgStore, runs: int) -> None:
    blob = FileBlob(secrets.token_bytes(60_000), "รายการ ก.ค. 2567.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    pg = PgFileVault(store, SECRET, "https://bot.example")
    mem = FileVault(SECRET, "https://bot.example")
    print("file links, a 60 KB export (put = make the link, open = download):")
    for label, vault in (("memory", mem), ("PostgreSQL", pg)):
        tokens: list[str] = []
        puts = timed(lambda i, v=vault, t=tokens: t.append(v.put(blob, owner=f"line:U{i % 50}")),
                     runs)
        opens = timed(lambda i, v=vault, t=tokens: v.open(t[-1 - (i % 5)]), runs)
        print(line(f"put, {label}", puts))
        print(line(f"open, {label}", opens))


def bench_sessions(store: PgStore, runs: int) -> None:
    print("console session lookup (every console request):")
    for label, sessions in (("memory", Sessions(SECRET)), ("PostgreSQL", Sessions(SECRET,
                                                                                  store=store))):
        cookies = [sessions.create(f"line:U{i}")[0] for i in range(50)]
        print(line(label, timed(lambda i, s=sessions, c=cookies: s.get(c[i % 50]), runs)))


def bench_summaries(store: PgStore, laos: int) -> None:
    docs: dict[str, dict[str, dict[str, object]]] = {}
    for n in range(laos):
        code = f"{10000000 + n}"
        s = LaoSummary(code, f"อบต.{code}", "ลำพูน", 3, 40, 1, 20, "2024-07-31",
                       {f"2024-07-{d:02d}": (2, 1) for d in range(1, 31)})
        docs.setdefault(shard_of(code), {})[code] = encode(s)
    for name, rows in docs.items():
        store.table(name).put_many(rows)
    mem = MemoryStore()
    for name, rows in docs.items():
        mem.table(name).put_many(rows)
    shared, local = Summaries(store), Summaries(mem)
    assert len(shared.all()) == len(local.all()) == laos and PREFIX
    print(f"key-back summaries of {laos:,} LAOs (the progress page reads all of them):")
    print(line("Summaries.all(), one process (memory)", timed(lambda i: local.all(), 20)))
    other = Summaries(store)  # a second instance writing
    print(line("Summaries.all(), several: first (full read)",
               timed(lambda i: Summaries(store).all(), 5)))
    print(line("Summaries.all(), several: nothing changed", timed(lambda i: shared.all(), 20)))

    def after_writes(i: int) -> None:
        for k in range(20):
            other.on_member(f"{10000000 + i * 20 + k}", 1)

    catch_up: list[float] = []
    for i in range(10):
        after_writes(i)
        catch_up += timed(lambda _: shared.all(), 1)
    print(line("Summaries.all(), several: 20 LAOs changed", catch_up))
    assert {x.code: x.members for x in shared.all()}[f"{10000000 + 199}"] == 4
    print(line("Summaries.on_member, several (PostgreSQL)",
               timed(lambda i: shared.on_member(f"{10000000 + i}", 1), 200)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--laos", type=int, default=7850)
    args = p.parse_args()
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the cluster is stopped
    url = os.environ.get("ELAAS_DATABASE_URL", "")
    cluster = None
    try:
        if not url:
            from tests.pgcluster import Cluster, find_bindir

            bindir = find_bindir()
            if bindir is None:
                sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
            cluster = Cluster(bindir, fsync=True)
        print(f"{os.cpu_count()} cores; PostgreSQL on loopback, fsync on")

        def fresh() -> PgStore:
            u = url or cluster.url(cluster.new_schema())  # type: ignore[union-attr]
            migrate(u)
            return PgStore(u)

        for run in (lambda s: bench_followups(s, args.runs), lambda s: bench_files(s, args.runs),
                    lambda s: bench_sessions(s, args.runs),
                    lambda s: bench_summaries(s, args.laos)):
            store = fresh()
            try:
                run(store)
            finally:
                store.close()
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
