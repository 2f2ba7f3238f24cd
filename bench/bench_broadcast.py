"""Broadcast benchmark: 10,000 subscribers (half LINE, half Telegram) against the local fakes.

The fakes enforce the real limits (Telegram about 30 messages/s, LINE multicast 200 requests/s:
beyond them they answer 429 like the services do), can fail a share of calls with 500, and
record every call, so the script can count lost and duplicated deliveries afterwards.

    .venv/bin/python bench/bench_broadcast.py                  # 10,000 subscribers, ~3 min
    .venv/bin/python bench/bench_broadcast.py --scale 0.1      # 1,000, quick
    .venv/bin/python bench/bench_broadcast.py --fail-rate 0.05 # 5% of API calls answer 500
    .venv/bin/python bench/bench_broadcast.py --kind restored --laos 800
    .venv/bin/python bench/bench_broadcast.py --pg             # PostgreSQL, two sender
        # processes, kill -9 of the one sending mid-broadcast (throwaway cluster, ~3 min)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from bot.core import store as store_mod  # noqa: E402
from bot.core.codec import encode  # noqa: E402
from bot.core.store import Store, TinyStore  # noqa: E402
from bot.ledger.book import LAOS, MEMBERS, Ledger  # noqa: E402
from bot.ledger.entries import ParsedEntry  # noqa: E402
from bot.notices.board import Publisher  # noqa: E402
from bot.notices.outbox import SUBSCRIBERS, Outbox, Subscriber  # noqa: E402
from bot.notices.status import BANGKOK, StatusBoard  # noqa: E402
from bot.qa.knowledge import default_knowledge_dir  # noqa: E402
from handlers.notice_sender import Backoff, NoticeSender  # noqa: E402
from tests.fakes import FakeLine, FakeTelegram  # noqa: E402

NOW = datetime(2024, 7, 22, 9, 30, tzinfo=BANGKOK)


def seed(store: Store, n: int, laos: int, kind: str) -> tuple[list[str], list[str]]:
    """n subscribers, half on each channel, written in one go; optional LAO members."""
    line_ids = [f"U{i:032x}" for i in range(n // 2)]
    chats = [str(700_000_000 + i) for i in range(n - n // 2)]
    subs = {}
    for ch, ids in (("line", line_ids), ("telegram", chats)):
        for uid in ids:
            subs[f"{ch}:{uid}"] = encode(Subscriber(ch, uid, "", True, True, NOW, NOW))
    store.table(SUBSCRIBERS).put_many(subs)
    if kind == "restored" and laos:
        codes = [f"{10_000_000 + i}" for i in range(laos)]
        store.table(LAOS).put_many({c: {"code": c, "name": f"อบต.ทดสอบ {c}", "province": "ลำพูน"}
                                    for c in codes})
        members = {}
        for i, key in enumerate(subs):
            members[key] = {"lao_code": codes[i % laos], "role": "member", "name": "",
                            "joined_at": NOW.isoformat()}
        store.table(MEMBERS).put_many(members)
        for i, code in enumerate(codes):
            Ledger(store, code).add_many(
                [(ParsedEntry("receipt", Decimal(100), "ค่าขยะ", date(2024, 7, 10)), f"{code}-{j}")
                 for j in range(i % 7)], author="bench", author_name="", channel="line", now=NOW)
    return line_ids, chats


def max_per_second(times: list[float]) -> int:
    """Most calls in any one-second window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def run(args: argparse.Namespace) -> int:
    n = int(10_000 * args.scale)
    flushes = 0
    real_flush = store_mod.AtomicJSONStorage._flush

    def counting_flush(self: store_mod.AtomicJSONStorage, data: dict[str, object]) -> None:
        nonlocal flushes
        flushes += 1
        real_flush(self, data)

    line, tg = FakeLine(), FakeTelegram()
    await line.start()
    await tg.start()
    tg.rate_limit(30)  # Bot FAQ: about 30 messages/s overall
    line.rate_limit(200)  # multicast: 200 requests/s
    tg.fail_rate = line.fail_rate = args.fail_rate
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        store = TinyStore(data_dir)
        status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
        line_ids, chats = seed(store, n, args.laos, args.kind)
        pub = Publisher(store, status, status_url="https://bot.example/status")
        if args.kind == "restored":
            _, notice = pub.set_status(state="normal", message="ระบบกลับมาใช้งานได้แล้ว",
                                       key="bench", now=NOW)
            assert notice is not None
        else:
            notice = pub.announce(text="ทดสอบการส่งประกาศถึงผู้รับแจ้งเตือนทุกคน", key="bench",
                                  now=NOW)
        store_mod.AtomicJSONStorage._flush = counting_flush  # type: ignore[method-assign]
        sender = NoticeSender(
            store, status, data_dir, line_token="T", line_api_base=line.base_url,
            telegram_token="1:B", telegram_api_base=tg.base_url + "/bot",
            telegram_rate=args.rate, telegram_workers=args.workers, backoff=Backoff(base=1.0),
        )  # fmt: skip
        t0 = time.monotonic()
        plan = sender.plan(notice)
        planned = time.monotonic() - t0
        passes = 0
        while await sender.unfinished():
            passes += 1
            await sender.deliver_once()
        took = time.monotonic() - t0
        await sender.close()
        store_mod.AtomicJSONStorage._flush = real_flush  # type: ignore[method-assign]
        delivery = Outbox(store).delivery(notice.id)
        journal = data_dir / "notices" / notice.id / "journal.jsonl"
        journal_bytes = journal.stat().st_size
        store.close()
    await line.stop()
    await tg.stop()

    got_line = Counter(line.multicast_recipients())
    got_tg = Counter(tg.delivered_chats())
    lost = sum(1 for u in line_ids if not got_line[u]) + sum(1 for c in chats if not got_tg[c])
    dup = sum(v - 1 for v in got_line.values() if v > 1) + sum(v - 1 for v in got_tg.values()
                                                              if v > 1)
    sends = [c for c in tg.calls if c.method == "sendMessage"]
    mcs = line.calls_to("/message/multicast")
    bound = len(chats) / args.rate
    print(f"subscribers            {n:,} (LINE {len(line_ids):,}, Telegram {len(chats):,}); "
          f"notice kind {args.kind}, {len(plan.variants)} text variant(s)")
    print(f"failure injection      {args.fail_rate:.0%} of API calls answer 500")
    print(f"total time             {took:.1f} s (plan {planned:.2f} s, {passes} pass(es))")
    print(f"limit-bound minimum    {bound:.1f} s (Telegram {len(chats):,} / {args.rate:g} per s)"
          f"  -> {took / bound:.3f} x minimum")
    print(f"lost / duplicated      {lost} / {dup}")
    print(f"Telegram               {len(sends):,} sendMessage calls, "
          f"{sum(c.status == 500 for c in sends):,} answered 500, "
          f"{tg.rate_limited} answered 429; busiest 1-s window "
          f"{max_per_second([c.at for c in sends])} calls")
    print(f"LINE                   {len(mcs)} multicast calls, "
          f"{sum(c.status == 500 for c in mcs)} answered 500, {line.rate_limited} answered 429, "
          f"{sum(c.status == 409 for c in mcs)} answered 409; largest batch "
          f"{max(len(c.body['to']) for c in mcs)}")
    print(f"outbox                 {delivery.status}: delivered {delivery.delivered:,}, "
          f"unreachable {delivery.unreachable}, failed {delivery.failed}, "
          f"uncertain {delivery.uncertain}")
    print(f"store writes           {flushes} TinyDB file rewrites during delivery; journal "
          f"{journal_bytes / 1024:.0f} KiB, {sender.stats['fsyncs']:,} journal fsyncs")
    ok = lost == 0 and dup == 0 and took <= bound * 1.10 + 1.0
    print("RESULT                 " + ("OK" if ok else "NOT OK"))
    return 0 if ok else 1


async def run_pg(args: argparse.Namespace) -> int:
    """Two sender processes on one PostgreSQL; kill -9 the one holding the notice."""
    import resource
    import signal

    from bot.core.pgstore import PgStore, migrate
    from handlers.notice_state import PgDeliveryState
    from handlers.shared_rate import SharedPacer
    from tests.pgcluster import Cluster, find_bindir

    n = int(10_000 * args.scale)
    cluster = None
    url = args.database_url
    if not url:
        bindir = find_bindir()
        if bindir is None:
            print("PostgreSQL is not installed (initdb not found)")
            return 2
        cluster = Cluster(bindir)
        url = cluster.url()
    line, tg = FakeLine(), FakeTelegram()
    procs: list[asyncio.subprocess.Process] = []
    try:
        migrate(url)
        store = PgStore(url)
        status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
        line_ids, chats = seed(store, n, 0, "announce")
        notice = Publisher(store, status).announce(
            text="ทดสอบการส่งประกาศถึงผู้รับแจ้งเตือนทุกคน", key=f"pg{int(time.time())}", now=NOW)
        await line.start()
        await tg.start()
        tg.rate_limit(30)
        line.rate_limit(200)
        line.delay = args.line_delay  # a slow LINE: the kill lands mid-way through its batches
        cmd = [sys.executable, "-m", "handlers.notice_sender", "--data-dir", "/nonexistent",
               "--line-api-base", line.base_url, "--line-token", "T",
               "--telegram-api-base", tg.base_url + "/bot", "--telegram-token", "1:B",
               "--rate", str(args.rate), "--workers", str(args.workers), "--backoff", "1.0"]
        env = {**os.environ, "ELAAS_DATABASE_URL": url, "PYTHAINLP_OFFLINE": "1",
               "PYTHAINLP_READ_ONLY": "1"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        procs = [await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env,
                                                      stderr=asyncio.subprocess.DEVNULL)
                 for _ in range(2)]
        state = PgDeliveryState(url, "bench")

        def claims() -> list[tuple[str, float]]:
            return [(str(r["claim"]), datetime.fromisoformat(r["at"]).timestamp())
                    for r in state.records(notice.id) if "claim" in r]

        while not line.calls and not tg.calls:
            await asyncio.sleep(0.05)
        first_send = time.monotonic()
        await asyncio.sleep(args.kill_after)
        holder = claims()[-1][0]
        victim = next(p for p in procs if holder.endswith(f":{p.pid}"))
        victim.send_signal(signal.SIGKILL)
        killed_wall = time.time()
        await victim.wait()
        at_kill = (len(line.multicast_recipients()), len(set(tg.delivered_chats())))
        while Outbox(store).delivery(notice.id).status != "done":
            await asyncio.sleep(0.2)
        took = time.monotonic() - t0
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
                await p.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        await asyncio.sleep(args.line_delay + 0.2)  # the killed instance's last requests
        survivor, taken_wall = claims()[-1]
        records = state.records(notice.id)
        state.close()
        delivery = Outbox(store).delivery(notice.id)
        pacer = SharedPacer(url, "bench-cost", 100_000.0, batch=3)
        for _ in range(300):
            await pacer.slot()
        pacer.close()
        store.close()
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
        await line.stop()
        await tg.stop()
        if cluster is not None:
            cluster.stop()

    got_line = Counter(line.multicast_recipients())
    got_tg = Counter(tg.delivered_chats())
    line_twice = sum(v - 1 for v in got_line.values() if v > 1)
    tg_twice = sum(v - 1 for v in got_tg.values() if v > 1)
    unknown = {str(r["tg"]) for r in records if r.get("s") == "unknown"}
    lost_tg = [c for c in chats if not got_tg[c]]
    lost_line = [u for u in line_ids if not got_line[u]]
    accepted = sorted(c.at for c in line.calls + tg.calls
                      if c.status in (200, 409) and c.at >= first_send)
    longest = max((b - a for a, b in pairwise(accepted)), default=0.0)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    sends = len(tg.calls) + len(line.calls)
    mcs = line.calls_to("/message/multicast")
    load = os.getloadavg()
    print(f"mode                   PostgreSQL, 2 sender processes, kill -9 of the sender "
          f"{args.kill_after:g} s after the first send")
    print(f"subscribers            {n:,} (LINE {len(line_ids):,}, Telegram {len(chats):,})")
    print(f"at the kill            LINE {at_kill[0]:,}/{len(line_ids):,}, Telegram "
          f"{at_kill[1]:,}/{len(chats):,} delivered ({holder} killed)")
    print(f"takeover               {taken_wall - killed_wall:.2f} s until {survivor} claimed "
          f"the notice; longest gap between deliveries {longest:.2f} s")
    print(f"delivered              LINE {len(got_line):,}, Telegram {len(got_tg):,}; outbox "
          f"{delivery.status}: delivered {delivery.delivered:,}, uncertain "
          f"{delivery.uncertain}")
    print(f"sent twice             LINE {line_twice} (multicasts answered 409: "
          f"{sum(c.status == 409 for c in mcs)}), Telegram {tg_twice}")
    print(f"Telegram unknown/lost  {len(unknown)} unknown (in flight at the kill), "
          f"{len(lost_tg)} not delivered, of which {len(set(lost_tg) - unknown)} not "
          f"counted as unknown; LINE lost {len(lost_line)}")
    print(f"total time             {took:.1f} s (limit-bound minimum "
          f"{len(chats) / args.rate:.1f} s)")
    print(f"CPU                    {cpu:.1f} s in the two senders (with their start-up), "
          f"{cpu / max(sends, 1) * 1e3:.2f} ms per API call ({sends:,} calls)")
    print(f"shared bucket          {pacer.draw_seconds / pacer.draws * 1e3:.2f} ms per draw "
          f"of 3 tokens = {pacer.draw_seconds / 300 * 1e6:.0f} us per message")
    print(f"load average           {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    ok = line_twice == 0 and tg_twice == 0 and not lost_line and \
        set(lost_tg) <= unknown and delivery.status == "done"
    print("RESULT                 " + ("OK" if ok else "NOT OK"))
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = 10,000 subscribers")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of API calls failing")
    p.add_argument("--rate", type=float, default=30.0, help="Telegram messages per second")
    p.add_argument("--workers", type=int, default=16, help="Telegram requests in flight")
    p.add_argument("--kind", choices=("announce", "restored"), default="announce")
    p.add_argument("--laos", type=int, default=500, help="LAOs for --kind restored")
    p.add_argument("--pg", action="store_true",
                   help="PostgreSQL, two sender processes, kill -9 of the sending one")
    p.add_argument("--database-url", default="",
                   help="with --pg: an existing, disposable database (default: a throwaway "
                        "cluster)")
    p.add_argument("--kill-after", type=float, default=8.0,
                   help="with --pg: seconds after the first send to kill the sender")
    p.add_argument("--line-delay", type=float, default=1.5,
                   help="with --pg: seconds the fake LINE takes per request")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(run_pg(args) if args.pg else run(args))


if __name__ == "__main__":
    sys.exit(main())
