"""Scale-out: one vs two `elaas-bot serve` instances on one PostgreSQL, closed-loop LINE load.

Usage: .venv/bin/python bench/bench_scale.py [--events 4000] [--concurrency 16] [--users 2000]
       .venv/bin/python bench/bench_scale.py --modes embedded,one,two --repeat 3
       .venv/bin/python bench/bench_scale.py --modes one --statements   # SQL per event
       .venv/bin/python bench/bench_scale.py --kill        # kill -9 one of two mid-load
       .venv/bin/python bench/bench_scale.py --idle 20 --modes two  # background statements/s

Starts a throwaway PostgreSQL cluster (tests/pgcluster.py, fsync on), FakeLine in this process
and the instances as subprocesses; the load generator sends signed webhooks (one event each,
text questions and every 5th a button press, ``--users`` users) from ``--concurrency`` senders
in a closed loop, round-robin over the instances (the balancer). A 503 (backlog full) is sent
again after a second, as LINE redelivers. Each mode gets a fresh schema and a warm-up. Prints
per mode: end-to-end events/s (until the last reply), webhook latency of the accepted
requests, CPU per event of the serve processes, of PostgreSQL and of this process (the load
generator, a plain keep-alive HTTP client, and FakeLine: it shares the cores, so its CPU is
part of the figure, alike for every mode), cores busy with other processes (another job on
the machine disturbs the run when that is over a few hundredths), the delay from a webhook's
200 to its reply reaching LINE (p99, max: the backlog a burst leaves), the HTTP statuses; then
the ratio two/one per run. ``--statements`` loads pg_stat_statements and prints the statements
per event. Targets: two >= 1.25x one, webhook p99 <= 50 ms (--rate: paced, open loop). Kill
mode: acknowledged events lost, answered twice, longest gap between answers (targets 0, 0,
<= 2 s). The machine is shared: the load average is printed beside the figures; repeat runs.
Over 500 lines: the modes, the kill test and the statement counts share one cluster setup
and one load generator; split, each script would copy them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_serve import QUESTIONS, mix_questions, pct, proc_cpu  # noqa: E402
from bench.bench_serve import make_body as serve_body  # noqa: E402
from bench.cpukit import (  # noqa: E402
    cluster_cpu,
    cluster_pids,
    machine_ticks,
    run_delays,
    sys_cpu,
    waited,
)
from bench.loadkit import LeanLine, Poster  # noqa: E402
from handlers import eventloop  # noqa: E402
from tests.fakes import FakeLine, line_signature  # noqa: E402
from tests.multikit import (  # noqa: E402
    SECRET,
    Instance,
    line_body,
    start_instances,
    stop_instances,
)
from tests.pgcluster import Cluster, find_bindir  # noqa: E402

TARGET_RATIO = 1.25
TARGET_P99_MS = 50.0
TARGET_GAP_S = 2.0
REDELIVER_S = 1.0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


MIX = {"questions": QUESTIONS}  # --mix sets it


def body_for(i: int, users: int) -> bytes:
    # the single-instance bench's load, with event ids of our own per run
    return serve_body(i, users, MIX["questions"])[0]


def serve_token(i: int) -> str:
    return f"bench-rt-{i:06d}"


@dataclass
class Result:
    mode: str
    events: int
    seconds: float
    latencies: list[float]
    cpu_serve: float
    cpu_db: float
    statuses: Counter[int]
    delays: list[float]  # webhook answered 200 -> its reply reached LINE, seconds
    busy: float = 0.0  # cores busy on the whole machine (any process) during the run
    wait_serve: float = 0.0  # seconds the serve processes waited for a CPU (run queue)
    wait_db: float = 0.0  # the same for PostgreSQL's processes
    cpu_bench: float = 0.0  # this process: the load generator and FakeLine
    sys_serve: float = 0.0  # the part of cpu_serve spent in the kernel (system time)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        ms = [x * 1000 for x in self.latencies]
        return (f"{self.mode:<9} {self.rate:6.0f} events/s  webhook p50 {pct(ms, 50):5.1f} "
                f"p99 {pct(ms, 99):6.1f} max {max(ms):6.1f} ms  CPU/event serve "
                f"{self.cpu_serve / self.events * 1000:5.2f} ms + PostgreSQL "
                f"{self.cpu_db / self.events * 1000:5.2f} ms  accept->reply p99 "
                f"{pct(self.delays, 99) * 1000:6.0f} max {max(self.delays, default=0) * 1000:6.0f}"
                f" ms  statuses {dict(self.statuses)}\n{'':<10}machine busy {self.busy:.2f} "
                f"cores; run-queue wait/event serve {self.wait_serve / self.events * 1000:.2f}"
                f" ms + PostgreSQL {self.wait_db / self.events * 1000:.2f} ms; CPU/event "
                f"bench (load + FakeLine) {self.cpu_bench / self.events * 1000:.2f} ms; serve "
                f"in the kernel {self.sys_serve / self.events * 1000:.2f} ms; other processes "
                f"{self.other:.2f} cores")

    @property
    def other(self) -> float:
        """Cores busy with anything but serve, PostgreSQL and this process (another job on
        the machine disturbs the run when this is more than a few hundredths)."""
        return self.busy - (self.cpu_serve + self.cpu_db + self.cpu_bench) / self.seconds


async def load(bases: list[str], bodies: list[bytes], concurrency: int, rate: float = 0.0,
               acked: dict[int, float] | None = None,
               ) -> tuple[list[float], Counter[int], float]:
    """Send every body (round-robin over ``bases``); latencies, statuses, seconds taken.
    ``acked`` gets the monotonic time each body was answered 200."""
    sigs = [line_signature(SECRET, b) for b in bodies]
    latencies: list[float] = []
    acked = {} if acked is None else acked
    statuses: Counter[int] = Counter()
    order = iter(range(len(bodies)))
    gate = asyncio.Semaphore(concurrency)
    poster = Poster(bases)

    async def fire(i: int) -> None:
        async with gate:
            while True:
                started = time.perf_counter()
                status = await poster.post(bases[i % len(bases)], "/line/webhook", bodies[i],
                                           sigs[i])
                statuses[status] += 1
                if status != 503:
                    break
                await asyncio.sleep(REDELIVER_S)  # the backlog is full: LINE redelivers later
            if status == 200:
                acked[i] = time.monotonic()
                latencies.append(time.perf_counter() - started)

    async def client() -> None:
        for i in order:
            await fire(i)

    t0 = time.perf_counter()
    try:
        if rate > 0:
            tasks = []
            for i in range(len(bodies)):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(fire(i)))
            await asyncio.gather(*tasks)
        else:
            await asyncio.gather(*(client() for _ in range(concurrency)))
    finally:
        poster.close()
    return latencies, statuses, time.perf_counter() - t0


def replied(fake: FakeLine | LeanLine) -> int:
    return sum(1 for c in fake.calls if c.status == 200 and (
        c.path.endswith("/message/reply") or c.path.endswith("/message/push")))


def answer_delays(fake: FakeLine | LeanLine, acked: dict[int, float], offset: int) -> list[float]:
    """Seconds from each acknowledged webhook to the first call that answered it (a reply
    with its token or, when the token had gone stale, a push to its user)."""
    first: dict[str, float] = {}  # pushes (tokens gone stale) are left out: no token
    for c in fake.calls:
        if c.status != 200 or not isinstance(c.body, dict):
            continue
        if c.path.endswith("/message/reply"):
            first.setdefault(str(c.body.get("replyToken")), c.at)
    out = []
    for i, at in acked.items():
        token = serve_token(offset + i)
        if token in first:
            out.append(first[token] - at)
    return out


def enable_statements(cluster: Cluster) -> None:
    """Restart the cluster with pg_stat_statements loaded (--statements)."""
    cluster.stop_server()
    cluster._opts += " -c shared_preload_libraries=pg_stat_statements"
    cluster.start_server()
    with cluster.admin("elaas") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def print_statements(cluster: Cluster, events: int) -> None:
    """Statements run per event since the last reset, the most frequent first."""
    with cluster.admin("elaas") as conn:
        rows = conn.execute(
            "SELECT calls, total_exec_time, wal_bytes, shared_blks_hit + shared_blks_read, query"
            " FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
            " WHERE r.rolname = 'elaas' ORDER BY calls DESC").fetchall()
    total = sum(int(r[0]) for r in rows)
    print(f"  statements: {total / events:.2f} per event "
          f"(server time {sum(float(r[1]) for r in rows) / events:.2f} ms, WAL "
          f"{sum(int(r[2]) for r in rows) / events:.0f} bytes, buffers "
          f"{sum(int(r[3]) for r in rows) / events:.0f} per event)")
    for calls, ms, wal, blks, query in rows[:25]:
        n = max(int(calls), 1)
        print(f"  {int(calls) / events:6.3f}/event {float(ms) / n:6.3f} ms {int(wal) / n:7.0f} B "
              f"{int(blks) / n:5.0f} buf  {' '.join(str(query).split())[:90]}")


async def run_mode(mode: str, cluster: Cluster, root: Path, events: int, concurrency: int,
                   users: int, rate: float, offset: int, statements: bool = False,
                   lean: bool = True) -> Result:
    from bot.core.pgstore import migrate

    url = cluster.url(cluster.new_schema())
    migrate(url)
    fake = LeanLine() if lean else FakeLine()
    await fake.start()
    n = 2 if mode == "two" else 1
    extra = {"ELAAS_DATABASE_URL": ""} if mode == "embedded" else {}
    instances = await start_instances(n, root / mode, fake, url, share_data_dir=False, **extra)
    try:
        bases = [i.base for i in instances]
        warm = [body_for(offset + 900_000 + i, users) for i in range(300)]
        await load(bases, warm, concurrency)
        while replied(fake) < len(warm):
            await asyncio.sleep(0.05)
        bodies = [body_for(offset + i, users) for i in range(events)]
        spy = None
        if os.environ.get("BENCH_PROFILE"):  # py-spy (pip install py-spy) on instance 0
            # BENCH_PROFILE_ARGS: py-spy's sampling flags (default --gil; e.g. "-r 200"
            # samples every thread that runs, with or without the GIL)
            spy = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                "--pid", str(instances[0].pid), "--threads", "--nonblocking",
                *os.environ.get("BENCH_PROFILE_ARGS", "--gil").split(),
                "-o", f"{os.environ['BENCH_PROFILE']}.{mode}.txt")
        if statements:
            with cluster.admin("elaas") as conn:
                conn.execute("SELECT pg_stat_statements_reset()")
        cpu0 = sum(proc_cpu(i.pid) for i in instances)
        sys0 = sum(sys_cpu(i.pid) for i in instances)
        db0 = cluster_cpu(cluster) if mode != "embedded" else 0.0
        dbpids = cluster_pids(cluster) if mode != "embedded" else []
        ticks0, wait0, dbwait0 = machine_ticks(), run_delays([i.pid for i in instances]), \
            run_delays(dbpids)
        me0 = proc_cpu(os.getpid())
        t0 = time.perf_counter()
        acked: dict[int, float] = {}
        latencies, statuses, _ = await load(bases, bodies, concurrency, rate, acked)
        deadline = time.monotonic() + 60
        while replied(fake) < len(warm) + events and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        took = time.perf_counter() - t0
        me = proc_cpu(os.getpid()) - me0
        cpu = sum(proc_cpu(i.pid) for i in instances) - cpu0
        kernel = sum(sys_cpu(i.pid) for i in instances) - sys0
        db = cluster_cpu(cluster) - db0 if mode != "embedded" else 0.0
        ticks1 = machine_ticks()
        busy = (ticks1[0] - ticks0[0]) / max(ticks1[1] - ticks0[1], 1) * (os.cpu_count() or 1)
        wait_serve = waited(wait0, run_delays([i.pid for i in instances]))
        wait_db = waited(dbwait0, run_delays(
            cluster_pids(cluster) if mode != "embedded" else []))
        done = replied(fake) - len(warm)
        delays = answer_delays(fake, acked, offset)
        if statements and mode != "embedded":
            print_statements(cluster, events)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
    finally:
        await stop_instances(instances)
        await fake.stop()
    if done != events:
        print(f"  {mode}: only {done}/{events} replied")
    return Result(mode, done, took, latencies, cpu, db, statuses, delays, busy, wait_serve,
                  wait_db, me, kernel)


async def run_idle(cluster: Cluster, root: Path, n: int, seconds: float) -> int:
    """``n`` instances with no traffic: the statements their background work costs a second."""
    from bot.core.pgstore import migrate

    url = cluster.url(cluster.new_schema())
    migrate(url)
    fake = FakeLine()
    await fake.start()
    instances = await start_instances(n, root / "idle", fake, url, share_data_dir=False)
    try:
        await asyncio.sleep(3.0)  # past the start-up reads
        with cluster.admin("elaas") as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        db0 = cluster_cpu(cluster)
        await asyncio.sleep(seconds)
        db = cluster_cpu(cluster) - db0
        with cluster.admin("elaas") as conn:
            rows = conn.execute(
                "SELECT calls, query FROM pg_stat_statements s JOIN pg_roles r"
                " ON r.oid = s.userid WHERE r.rolname = 'elaas' ORDER BY calls DESC").fetchall()
    finally:
        await stop_instances(instances)
        await fake.stop()
    total = sum(int(r[0]) for r in rows)
    print(f"idle, {n} instance(s)    {total / seconds:.1f} statements/s, PostgreSQL CPU "
          f"{db / seconds * 1000:.1f} ms/s; load average {loadavg()}")
    for calls, query in rows[:10]:
        print(f"  {int(calls) / seconds:6.2f}/s  {' '.join(str(query).split())[:100]}")
    return 0


async def run_kill(cluster: Cluster, root: Path, concurrency: int, seconds: float) -> int:
    """Two instances under closed-loop load; kill -9 one half-way; count answers."""
    from bot.core.pgstore import migrate

    url = cluster.url(cluster.new_schema())
    migrate(url)
    fake = FakeLine()
    fake.single_use_tokens = True
    await fake.start()
    a, b = instances = await start_instances(2, root / "kill", fake, url)
    acked: set[int] = set()
    to_a: set[int] = set()
    sent = 0
    counter = itertools.count()
    dead = asyncio.Event()
    killed_at = 0.0
    try:
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=concurrency * 2)) as http:

            async def sender() -> None:
                nonlocal sent
                while True:
                    i = next(counter)
                    target: Instance = b if dead.is_set() or i % 2 else a
                    if target is a:
                        to_a.add(i)
                    body = line_body(f"01SCALEKILL{i:010d}", f"Uk{i:031d}", f"k-rt-{i}",
                                     "ระบบ e-LAAS ล่มอยู่ไหม")
                    sent += 1
                    try:
                        async with http.post(f"{target.base}/line/webhook", data=body, headers={
                                "Content-Type": "application/json",
                                "x-line-signature": line_signature(SECRET, body)}) as resp:
                            await resp.read()
                            if resp.status == 200:
                                acked.add(i)
                    except (aiohttp.ClientError, TimeoutError):
                        pass

            t0 = time.monotonic()
            senders = [asyncio.create_task(sender()) for _ in range(concurrency)]
            await asyncio.sleep(seconds / 2)
            a.proc.kill()
            killed_at = time.monotonic()
            await a.proc.wait()
            dead.set()
            await asyncio.sleep(seconds / 2)
            for t in senders:
                t.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            stop_load = time.monotonic()

            def counts() -> Counter[int]:
                out: Counter[int] = Counter()
                for c in fake.calls:
                    if c.status == 200 and c.path.endswith("/message/reply"):
                        out[int(str(c.body["replyToken"]).removeprefix("k-rt-"))] += 1
                    elif c.status == 200 and c.path.endswith("/message/push"):
                        out[int(str(c.body["to"]).removeprefix("Uk"))] += 1
                return out

            deadline = time.monotonic() + 30
            def unanswered() -> bool:
                # counts() once per look: once per acknowledged event, it held this process
                # (and the fake LINE in it) for seconds, which showed as late answers
                got = counts()
                return any(got[i] == 0 for i in acked)

            while unanswered() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            got = counts()
            answer_times = sorted(c.at for c in fake.calls if c.status == 200
                                  and c.at >= t0 and c.at <= stop_load)
            gaps = [y - x for x, y in itertools.pairwise(answer_times)]
            gap = max(gaps, default=0.0)
            late = [c.at - killed_at for c in fake.calls if c.status == 200
                    and c.at > killed_at]
            first: dict[int, float] = {}
            for c in fake.calls:
                if c.status == 200 and c.path.endswith("/message/reply"):
                    first.setdefault(int(str(c.body["replyToken"]).removeprefix("k-rt-")), c.at)
            takeover = max((first[i] - killed_at for i in to_a & acked if i in first),
                           default=0.0)
    finally:
        await stop_instances(instances)
        await fake.stop()
    lost = [i for i in acked if got[i] == 0]
    twice = [i for i, n in got.items() if n > 1]
    print(f"kill -9 one of two     after {seconds / 2:.1f} s of closed-loop load, "
          f"{concurrency} senders; load average {loadavg()}")
    print(f"events                 {sent} sent, {len(acked)} acknowledged, {len(got)} answered")
    print(f"acknowledged, lost     {len(lost)}")
    print(f"answered twice         {len(twice)}")
    print(f"longest gap in answers {gap:.2f} s (first answer after the kill: "
          f"{min(late, default=float('nan')):.2f} s)")
    print(f"dead one's work done   {takeover:.2f} s after the kill (its acknowledged events, "
          f"answered by the survivor; it also carries the whole load)")
    ok = not lost and not twice and gap <= TARGET_GAP_S
    print("targets               ", "met" if ok else "NOT met",
          f"(0 lost, 0 twice, gap <= {TARGET_GAP_S:.0f} s)")
    return 0 if ok else 1


async def main_async(a: argparse.Namespace) -> int:
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (initdb not found)")
    cluster = Cluster(bindir, fsync=True)
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        if a.statements or a.idle:
            enable_statements(cluster)
        if a.idle:
            return await run_idle(cluster, root, 2 if "two" in a.modes else 1, a.idle)
        if a.kill:
            return await run_kill(cluster, root, a.concurrency, a.seconds)
        modes = a.modes.split(",")
        runs: list[dict[str, Result]] = []
        for r in range(a.repeat):
            results: dict[str, Result] = {}
            for k, mode in enumerate(modes):
                res = await run_mode(mode, cluster, root / f"run{r}", a.events, a.concurrency,
                                     a.users, a.rate, offset=(r * len(modes) + k) * 1_000_000,
                                     statements=a.statements, lean=a.fake == "lean")
                results[mode] = res
                print(res.line(), f" load average {loadavg()}", flush=True)
            runs.append(results)
        ok = True
        for results in runs:
            if "one" in results and "two" in results:
                ratio = results["two"].rate / results["one"].rate
                ok = ok and ratio >= TARGET_RATIO
                print(f"two / one              {ratio:.2f}x (target >= {TARGET_RATIO}x)")
            if "embedded" in results and "one" in results:
                e, o = results["embedded"], results["one"]
                print(f"CPU/event PG vs embedded  serve {o.cpu_serve / o.events * 1000:.2f} vs "
                      f"{e.cpu_serve / e.events * 1000:.2f} ms; plus PostgreSQL "
                      f"{o.cpu_db / o.events * 1000:.2f} ms")
        results_all = [r for results in runs for r in results.values()]
        p99 = max((pct([x * 1000 for x in r.latencies], 99) for r in results_all), default=0.0)
        ok = ok and p99 <= TARGET_P99_MS
        print(f"webhook p99 (worst run{f', paced at {a.rate:.0f}/s' if a.rate else ''}) "
              f"{p99:.1f} ms (target <= {TARGET_P99_MS:.0f} ms)")
        print(f"serve logs             {root}")
        return 0 if ok else 1
    finally:
        cluster.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=4_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--users", type=int, default=2_000)
    p.add_argument("--modes", default="one,two", help="embedded, one, two (comma-separated)")
    p.add_argument("--rate", type=float, default=0.0,
                   help="offered events/s (open loop) instead of the closed loop")
    p.add_argument("--repeat", type=int, default=1, help="run the modes this many times")
    p.add_argument("--statements", action="store_true",
                   help="print the SQL statements per event (pg_stat_statements)")
    p.add_argument("--fake", choices=("lean", "aiohttp"), default="lean",
                   help="the fake LINE API: bench/loadkit.py's LeanLine, or tests/fakes.py's "
                        "FakeLine (aiohttp; more CPU in this process per reply)")
    p.add_argument("--kill", action="store_true", help="kill -9 one of two mid-load")
    p.add_argument("--idle", type=float, default=0.0, metavar="SECONDS",
                   help="no load: statements per second of the background work (--modes "
                        "one or two)")
    p.add_argument("--seconds", type=float, default=8.0, help="kill mode: load duration")
    p.add_argument("--mix", choices=("seven", "varied"), default="seven",
                   help="seven everyday questions (default), or ~1,300 varied held-out ones")
    a = p.parse_args()
    MIX["questions"] = mix_questions(a.mix)
    # uvloop, as serve runs: the load generator and FakeLine share the machine's two cores
    # with the instances, and uvloop's C transports cut this process's CPU per event
    return eventloop.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
