"""Console progress page: server render time for a province of 1,000 LAOs and the nation (7,850).

Usage: .venv/bin/python bench/bench_console.py [--sample 8] [--entries 1000] [--runs 15]
       [--tinydb]   # write the sample to TinyDB files in a temp dir (default: in-memory twin)

How the data is built (honestly): ``--sample`` LAOs each get ``--entries`` real entries through
the ordinary write path (``Ledger.add_many`` in batches of 20 over 30 days, then some voids and
key-back marks), which keeps their summaries up to date on write exactly as in ``serve``; the
script checks each against a full recount. Writing 1,000 x 1,000 (or 7,850 x 1,000) real
entries would take hours with one atomic write per batch, so the other LAOs' summaries are
**copies** of these sampled summaries under new codes, names and provinces. The page only ever
reads summaries, so its cost depends on the number of LAOs and days, not on where the numbers
came from. The set: 7,850 LAOs, of which 1,000 are in ลำพูน and the rest spread over the other
76 provinces.

Prints: the cost of the on-write summary per entry, then for the Lamphun provincial operator
(1,000 LAOs in scope, the other 6,850 filtered out) and for a national admin (7,850): the
median and p95 of (a) the render function alone and (b) a real ``GET /console/progress`` over
HTTP on 127.0.0.1 through the console's handler (session, engine thread, escaping, response).
Targets: province <= 300 ms, national <= 1 s (server time). Exit 0 when both are met.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.store import MemoryStore  # noqa: E402
from bot.ledger.book import Directory, Ledger  # noqa: E402
from bot.ledger.entries import Lao, ParsedEntry  # noqa: E402
from bot.ledger.summary import LaoSummary, Summaries, recount  # noqa: E402
from bot.notices.operators import Actor  # noqa: E402
from bot.notices.outbox import PROVINCES  # noqa: E402
from bot.notices.status import BANGKOK  # noqa: E402
from handlers.web.progress import Query, render_progress  # noqa: E402

NATIONAL = 7850
PROVINCE = "ลำพูน"
IN_PROVINCE = 1000


def sample_summaries(n: int, entries: int, tinydb: bool) -> tuple[list[LaoSummary], float]:
    """``n`` real LAOs with ``entries`` entries each, written through the ledger."""
    import tempfile

    from bot.core.store import Store, TinyStore

    store: Store = TinyStore(Path(tempfile.mkdtemp(prefix="bench-sum-"))) if tinydb \
        else MemoryStore()
    d = Directory(store)
    rng = random.Random(14)
    start = datetime(2024, 7, 1, 9, 0, tzinfo=BANGKOK)
    t0 = time.perf_counter()
    for i in range(n):
        code = f"0551{i:04d}"
        d.add_lao(Lao(code, f"ตัวอย่าง {i}", PROVINCE))
        led = Ledger(store, code)
        for b in range(entries // 20):
            now = start + timedelta(days=b * 30 // max(1, entries // 20), minutes=b)
            items = [(ParsedEntry("receipt" if rng.random() < 0.6 else "payment",
                                  Decimal(rng.randint(100, 90000)), "ค่าธรรมเนียม",
                                  now.date()), f"{code}-{b}-{k}") for k in range(20)]
            led.add_many(items, author="u", author_name="u", channel="line", now=now)
        for no in rng.sample(range(1, entries + 1), entries // 50):
            led.void(no, by="u", by_name="u", reason="ผิด",
                     now=start + timedelta(days=30), may_void_any=True)
        led.mark_keyed(range(1, entries // 3), by="u", now=start + timedelta(days=31))
        for m in range(rng.randint(1, 6)):
            d.bind(f"line:U{i}-{m}", code, "member", "ก", start)
    per_entry = (time.perf_counter() - t0) / (n * entries)
    sums = Summaries.of(store)
    for i in range(n):
        code = f"0551{i:04d}"
        fresh = recount(code, Ledger(store, code).entries(), len(d.members(code)))
        assert sums.get(code).counts() == fresh.counts(), code
    return [sums.get(f"0551{i:04d}") for i in range(n)], per_entry


def national_set(samples: list[LaoSummary]) -> list[LaoSummary]:
    others = [p for p in PROVINCES if p != PROVINCE]
    out = []
    for i in range(NATIONAL):
        base = samples[i % len(samples)]
        province = PROVINCE if i < IN_PROVINCE else others[i % len(others)]
        out.append(dataclasses.replace(base, code=f"{10000000 + i}",
                                       name=f"อบต.ทดสอบที่ {i}", province=province))
    return out


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


async def over_http(rows: list[LaoSummary], actors: dict[str, Actor],
                    runs: int) -> dict[str, tuple[float, float, int]]:
    from handlers.app import build_core
    from handlers.settings import Settings
    from handlers.web.console import CONSOLE, COOKIE, install_console
    from handlers.web.server import RunningServer, build_web_app

    with_dir = Path(__import__("tempfile").mkdtemp(prefix="bench-console-"))
    settings = Settings(data_dir=with_dir)
    core = build_core(settings, memory=True)
    prov_user = actors["province"].user
    from bot.notices.operators import Operators

    Operators(core.store).add(prov_user, [PROVINCE], by="bench", now=datetime.now(BANGKOK))
    sums = Summaries.of(core.store)
    for s in rows:  # in memory only: what serve holds after loading the summary tables
        sums._by_code[s.code] = s
    app = build_web_app(core, line=None, telegram=None, extensions=[install_console])
    st = app[CONSOLE]
    st.admins = frozenset({actors["national"].user})
    server = RunningServer(app)
    await server.start()
    out = {}
    try:
        async with aiohttp.ClientSession() as http:
            for label, actor in actors.items():
                cookie, _ = st.sessions.create(actor.user)
                times = []
                size = 0
                for _ in range(runs):
                    t0 = time.perf_counter()
                    async with http.get(f"{server.base_url}/console/progress",
                                        cookies={COOKIE: cookie}) as resp:
                        body = await resp.read()
                        assert resp.status == 200, resp.status
                    times.append((time.perf_counter() - t0) * 1000)
                    size = len(body)
                times.sort()
                out[label] = (statistics.median(times),
                              times[max(0, int(len(times) * 0.95) - 1)], size)
    finally:
        await server.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=8, help="LAOs written for real")
    ap.add_argument("--entries", type=int, default=1000, help="entries per sampled LAO")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--tinydb", action="store_true", help="sample on TinyDB files")
    args = ap.parse_args()
    t0 = time.perf_counter()
    samples, per_entry = sample_summaries(args.sample, args.entries, args.tinydb)
    where = "TinyDB files" if args.tinydb else "the in-memory store"
    print(f"sample: {args.sample} LAOs x {args.entries:,} entries written to {where} "
          f"in {time.perf_counter() - t0:.1f} s ({per_entry * 1e6:.0f} us per entry incl. the "
          "summary update); each matches a full recount")
    rows = national_set(samples)
    today = datetime(2024, 8, 1, tzinfo=BANGKOK).date()
    actors = {"province": Actor("line:Uprov", "provincial", frozenset({PROVINCE})),
              "national": Actor("line:Uadmin", "national")}
    ok = True
    targets = {"province": 300.0, "national": 1000.0}
    for label, actor in actors.items():
        med, p95 = timed(functools.partial(render_progress, actor, rows, Query(), today),
                         args.runs)
        print(f"{label:9s} render only: median {med:6.1f} ms  p95 {p95:6.1f} ms")
    http = asyncio.run(over_http(rows, actors, args.runs))
    for label, (med, p95, size) in http.items():
        scope = IN_PROVINCE if label == "province" else NATIONAL
        hit = p95 <= targets[label]
        ok &= hit
        print(f"{label:9s} GET /console/progress ({scope:,} LAOs in scope of {NATIONAL:,}): "
              f"median {med:6.1f} ms  p95 {p95:6.1f} ms  page {size / 1024:.0f} KiB  "
              f"target <= {targets[label]:.0f} ms: {'met' if hit else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
