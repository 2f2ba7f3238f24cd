"""Serve throughput: signed LINE text events through a real `elaas-bot serve` against FakeLine.

Usage: .venv/bin/python bench/bench_serve.py [--events 10000] [--rate 400] [--concurrency 16]
       .venv/bin/python bench/bench_serve.py --rate 0      # capacity: as fast as it answers
       .venv/bin/python bench/bench_serve.py --kill 10     # kill -9 under load, 10 rounds
       .venv/bin/python bench/bench_serve.py --rate 0 --mix varied  # ~1,300 distinct questions

Starts FakeLine in a process of its own (as LINE is: its work on the reply calls must not
delay the loop that times the webhooks), runs ``elaas-bot serve`` as a subprocess on a
temporary data dir with LINE_API_BASE pointing at the fake, fires signed webhook requests
(one event each, 2,000 users, a mix of questions and button presses) at ``--rate`` events/s
with at most ``--concurrency`` in flight, and prints: webhook latency percentiles, the
accepted and the end-to-end rate (until the fake has every reply), the accept -> reply delay
(from the 200 to the reply call reaching the fake: how old the backlog gets), CPU per event
(serve, the load generator, the fake), and the serve process's memory (VmRSS / VmHWM from
/proc/<pid>/status) after all events.
Targets: 400 events/s with webhook p99 <= 50 ms; RSS <= 200 MB after 10,000 events.
Exit code 0 when they are met. The figures depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeLine, line_signature  # noqa: E402

SECRET = "bench-channel-secret"
QUESTIONS = (
    "ระบบ e-LAAS ล่มอยู่ไหม",
    "สวัสดีค่ะ",
    "จ่ายเงินตอนนี้ทำยังไง",
    "ระบบกลับมาหรือยัง",
    "ขอบคุณค่ะ",
    "ออกใบเสร็จด้วยมือได้ไหม",
    "วิธีปฏิบัติ",
)
# ``--mix varied``: the held-out Thai question sets (blind6-8, ~1,300 distinct questions, a
# quarter off-topic), shuffled once: every text is new to the process's caches for a while.
VARIED_SETS = ("questions_blind6.tsv", "questions_blind7.tsv", "questions_blind8.tsv")
TARGET_RATE = 400.0
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 200.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def mix_questions(mix: str) -> tuple[str, ...]:
    """The texts the events ask: the seven everyday questions, or the varied held-out sets."""
    if mix == "seven":
        return QUESTIONS
    texts: list[str] = []
    for name in VARIED_SETS:
        with (ROOT / "tests" / "data" / name).open(encoding="utf-8") as f:
            next(f)  # header
            texts += [line.split("\t", 1)[0] for line in f if line.strip()]
    random.Random(7).shuffle(texts)
    return tuple(texts)


def make_body(i: int, users: int, questions: tuple[str, ...] = QUESTIONS) -> tuple[bytes, str]:
    """One webhook body with one text (or, every 5th, a postback) event; returns its token."""
    token = f"bench-rt-{i:06d}"
    event: dict[str, object] = {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "webhookEventId": f"01BENCH{i:019d}", "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": f"Ubench{i % users:026d}"}, "replyToken": token,
        "message": {"type": "text", "id": str(10**17 + i), "quoteToken": "q",
                    "text": questions[i % len(questions)]},
    }  # fmt: skip
    if i % 5 == 4:
        event["type"] = "postback"
        event.pop("message")
        event["postback"] = {"data": "cmd:status"}
    body = json.dumps({"destination": "Ubenchbot", "events": [event]},
                      ensure_ascii=False).encode()
    return body, token


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, tuple[float, float]]:
    """(user, system) CPU seconds used so far by each thread of ``pid``: "loop" (the main
    thread) and the others by thread id (Python does not name the OS threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, tuple[float, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = "loop" if task.name == str(pid) else f"t{task.name}"
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[name] = (int(fields[11]) / tick, int(fields[12]) / tick)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def wait_healthy(http: aiohttp.ClientSession, url: str, proc: asyncio.subprocess.Process,
                       timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise SystemExit(f"serve exited early with {proc.returncode}")
        try:
            async with http.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("serve did not become healthy")


class CountingLine(FakeLine):
    """FakeLine that also answers the bench's two questions over HTTP (it runs in its own
    process): ``/_bench/count`` (replies and pushes so far) and ``/_bench/replies`` (each
    reply call's token and arrival time, ``time.monotonic``, which is one clock for every
    process on Linux)."""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/_bench/count":
            return web.json_response({"reply": len(self.calls_to("/message/reply")),
                                      "push": len(self.calls_to("/message/push"))})
        if request.path == "/_bench/replies":
            return web.json_response([[(c.body or {}).get("replyToken"), c.at]
                                      for c in self.calls_to("/message/reply")])
        return await super()._dispatch(request)


async def fake_child() -> None:
    """``--fake-child``: serve a CountingLine until killed; its port goes to stdout."""
    fake = CountingLine()
    await fake.start()
    print(fake.port, flush=True)
    await asyncio.Event().wait()


class OutsideLine:
    """The fake LINE API in a process of its own, as LINE is: its work on the reply calls
    does not delay the load generator's event loop, which times the webhooks."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.base_url = ""
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--fake-child",
            stdout=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        port = int((await self.proc.stdout.readline()).decode().strip())
        self.base_url = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()

    async def counts(self) -> tuple[int, int]:
        assert self.http is not None
        async with self.http.get(f"{self.base_url}/_bench/count") as resp:
            got = await resp.json()
        return got["reply"], got["push"]

    async def replies(self) -> list[tuple[str, float]]:
        assert self.http is not None
        async with self.http.get(f"{self.base_url}/_bench/replies") as resp:
            return [(t, at) for t, at in await resp.json()]

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def run(events: int, concurrency: int, users: int, max_seconds: float,
              rate: float, mix: str = "seven") -> int:
    questions = mix_questions(mix)
    fake = OutsideLine()
    await fake.start()
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-serve-")
    log_path = Path(data) / "serve.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": data,
           "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1",
           "ELAAS_DATA_DIR": str(Path(data) / "data"), "HOST": "127.0.0.1", "PORT": str(port),
           "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "bench-token",
           "LINE_API_BASE": fake.base_url}
    if os.environ.get("PYTHONPATH"):  # an A/B against another checkout's code
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    cli = Path(sys.executable).parent / "elaas-bot"
    cmd = [str(cli), "serve"] if cli.exists() else [sys.executable, "-m", "handlers.cli", "serve"]
    if os.environ.get("BENCH_SERVE_CMD"):  # e.g. a profiling wrapper
        cmd = os.environ["BENCH_SERVE_CMD"].split()
        env.update({k: v for k, v in os.environ.items() if k.startswith("PROF")})
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=data, env=env,
                                                    stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    acked: dict[str, float] = {}  # reply token -> when its webhook got the 200 (monotonic)
    statuses: dict[int, int] = {}
    try:
        connector = aiohttp.TCPConnector(limit=concurrency * 2)
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_healthy(http, f"{base}/healthz", proc)
            rss0, _ = proc_memory(proc.pid)
            bodies = [make_body(i, users, questions) for i in range(events)]
            sigs = [line_signature(SECRET, b) for b, _ in bodies]
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(events):
                queue.put_nowait(i)
            deadline = time.monotonic() + max_seconds

            gate = asyncio.Semaphore(concurrency)

            async def fire(i: int) -> None:
                async with gate:
                    started = time.perf_counter()
                    async with http.post(f"{base}/line/webhook", data=bodies[i][0], headers={
                            "Content-Type": "application/json",
                            "x-line-signature": sigs[i]}) as resp:
                        await resp.read()
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                        if resp.status == 200:
                            acked[bodies[i][1]] = time.monotonic()
                    latencies.append(time.perf_counter() - started)

            async def client() -> None:  # closed loop: as fast as the server answers
                while not queue.empty() and time.monotonic() < deadline:
                    await fire(queue.get_nowait())

            async def paced() -> None:  # open loop: one event every 1/rate s, <= concurrency
                pending: set[asyncio.Task[None]] = set()
                start = time.perf_counter()
                for i in range(events):
                    if time.monotonic() > deadline:
                        break
                    delay = start + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    task = asyncio.create_task(fire(i))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if pending:
                    await asyncio.wait(pending)

            # The load generator must not pause: its own cyclic GC (the bodies) stalled all 16
            # senders at once now and then, which the webhook latencies then showed as the
            # server's.
            gc.collect()
            gc.disable()
            assert fake.proc is not None
            cpu0, own0 = proc_cpu(proc.pid), time.process_time()
            fake0 = proc_cpu(fake.proc.pid)
            threads0 = thread_cpu(proc.pid)
            t0 = time.perf_counter()
            try:
                if rate > 0:
                    await paced()
                else:
                    await asyncio.gather(*(client() for _ in range(concurrency)))
            finally:
                gc.enable()
            t_sent = time.perf_counter() - t0
            sent = len(latencies)

            got, pushes = await fake.counts()
            while got < sent and time.monotonic() < deadline + 30:
                await asyncio.sleep(0.05)
                got, pushes = await fake.counts()
            t_done = time.perf_counter() - t0
            cpu_serve = proc_cpu(proc.pid) - cpu0
            cpu_bench = time.process_time() - own0
            cpu_fake = proc_cpu(fake.proc.pid) - fake0
            threads1 = thread_cpu(proc.pid)
            await asyncio.sleep(0.5)
            replies = await fake.replies()
            rss, hwm = proc_memory(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        await fake.stop()

    # Accept -> reply: from the 200 to the reply call reaching the fake (the backlog's age).
    delays = [at - acked[token] for token, at in replies if token in acked]
    ms = [x * 1000 for x in latencies]
    accept_rate = sent / t_sent if t_sent else 0.0
    e2e_rate = got / t_done if t_done else 0.0
    p99 = pct(ms, 99)
    mode = f"paced at {rate:.0f}/s" if rate > 0 else "unpaced"
    print(f"events sent            {sent} ({mode}, concurrency <= {concurrency}, {users} users)")
    print(f"webhook statuses       {statuses}")
    print(f"webhook latency ms     p50 {pct(ms, 50):.1f}  p90 {pct(ms, 90):.1f}  "
          f"p99 {p99:.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}")
    print(f"accepted               {accept_rate:.0f} events/s over {t_sent:.1f} s")
    print(f"replied (end to end)   {got}/{sent} replies, {pushes} pushes, "
          f"{e2e_rate:.0f} events/s over {t_done:.1f} s")
    if delays:
        print(f"accept -> reply ms     p50 {pct(delays, 50) * 1000:.1f}  "
              f"p99 {pct(delays, 99) * 1000:.1f}  max {max(delays) * 1000:.1f}")
    print(f"serve memory           VmRSS {rss:.0f} MB (idle {rss0:.0f} MB), VmHWM {hwm:.0f} MB")
    print(f"CPU                    serve {cpu_serve:.1f} s ({cpu_serve / t_done:.0%} of a core, "
          f"{cpu_serve / max(got, 1) * 1000:.2f} ms/event); load generator {cpu_bench:.1f} s, "
          f"fake LINE {cpu_fake:.1f} s")
    per = 1000 / max(got, 1)
    busy = sorted(((u1 - threads0.get(n, (0.0, 0.0))[0], s1 - threads0.get(n, (0.0, 0.0))[1], n)
                   for n, (u1, s1) in threads1.items()), key=lambda t: -(t[0] + t[1]))
    print("CPU per thread         " + ", ".join(
        f"{n} {(u + s_) * per:.2f} (sys {s_ * per:.2f})" for u, s_, n in busy if u + s_ > 0)
        + " ms/event")
    print(f"serve exit code        {proc.returncode}  (log: {log_path})")
    print(f"load average           {' '.join(Path('/proc/loadavg').read_text().split()[:3])} "
          f"(on {os.cpu_count()} cores; other processes skew every figure)")
    if rate > 0:  # sustained: the offered rate was accepted and replied with no backlog
        rate_ok = rate >= TARGET_RATE and accept_rate >= 0.99 * rate and t_done - t_sent < 1.0
    else:
        rate_ok = e2e_rate >= TARGET_RATE
    print(f"backlog after last     {t_done - t_sent:.2f} s until the fake had every reply")
    # Closed loop (issue 12's figure): saturated, the webhook's latency is queueing (senders /
    # rate), so p99 <= 50 ms needs the rate well above 400/s. Paced: the rate is sustained.
    ok = (rate_ok and p99 <= TARGET_P99_MS and rss <= TARGET_RSS_MB
          and got == sent and proc.returncode == 0)
    print("targets               ", "met" if ok else "NOT met",
          f"(>= {TARGET_RATE:.0f}/s{' sustained' if rate > 0 else ''}, "
          f"p99 <= {TARGET_P99_MS:.0f} ms, RSS <= {TARGET_RSS_MB:.0f} MB)")
    return 0 if ok else 1


async def run_kill(rounds: int, concurrency: int, seed: int) -> int:
    """kill -9 ``serve`` ``rounds`` times under load; every acknowledged event answered once?"""
    from tests.crashkit import crash_run

    root = Path(tempfile.mkdtemp(prefix="bench-kill-"))
    started = time.perf_counter()
    report = await crash_run(root, rounds=rounds, concurrency=concurrency, seed=seed)
    for line in report.log:
        print(f"  {line}")
    took = time.perf_counter() - started
    print(f"kill -9 rounds         {report.kills} (seed {seed}), {took:.0f} s")
    print(f"events                 {report.sent} sent, {len(report.acked)} acknowledged (200), "
          f"{len(report.answers)} answered")
    print(f"acknowledged, lost     {len(report.lost)}")
    print(f"answered twice         {len(report.twice)}  (log: {root / 'serve.log'})")
    return 0 if not report.lost and not report.twice else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--users", type=int, default=2_000)
    p.add_argument("--max-seconds", type=float, default=180.0)
    p.add_argument("--rate", type=float, default=TARGET_RATE,
                   help="offered events/s (0: as fast as the server answers)")
    p.add_argument("--kill", type=int, default=0, metavar="ROUNDS",
                   help="kill -9 serve under load ROUNDS times, then check every answer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mix", choices=("seven", "varied"), default="seven",
                   help="seven everyday questions (default), or ~1,300 varied held-out ones")
    p.add_argument("--fake-child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.fake_child:
        asyncio.run(fake_child())
        return 0
    if a.kill:
        return asyncio.run(run_kill(a.kill, a.concurrency, a.seed))
    return asyncio.run(run(a.events, a.concurrency, a.users, a.max_seconds, a.rate, a.mix))


if __name__ == "__main__":
    sys.exit(main())
