"""kill -9 a real ``elaas-bot serve`` under load, restart it, count answers (test and bench)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.fakes import FakeLine, line_signature

SECRET = "crash-channel-secret"
QUESTIONS = ("ระบบ e-LAAS ล่มอยู่ไหม", "จ่ายเงินตอนนี้ทำยังไง", "ระบบกลับมาหรือยัง",
             "ออกใบเสร็จด้วยมือได้ไหม", "วิธีปฏิบัติ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command() -> list[str]:
    cli = Path(sys.executable).parent / "elaas-bot"
    return [str(cli), "serve"] if cli.exists() else [sys.executable, "-m", "handlers.cli",
                                                     "serve"]


def serve_env(data_dir: Path, port: int, line_base: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(data_dir.parent),
            "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1",
            "ELAAS_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port),
            "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "crash-token",
            "LINE_API_BASE": line_base}


def event_body(i: int) -> bytes:
    """Event ``i``: its own user (so a push names the event) and its own reply token."""
    event = {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "webhookEventId": f"01CRASH{i:019d}", "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": f"Ucrash{i:026d}"}, "replyToken": f"crash-rt-{i}",
        "message": {"type": "text", "id": str(10**17 + i), "quoteToken": "q",
                    "text": QUESTIONS[i % len(QUESTIONS)]},
    }  # fmt: skip
    return json.dumps({"destination": "Ucrashbot", "events": [event]},
                      ensure_ascii=False).encode()


@dataclass
class CrashReport:
    """What a crash run saw: events acknowledged (200) and how often each event was answered."""

    sent: int = 0
    acked: set[int] = field(default_factory=set)
    answers: Counter[int] = field(default_factory=Counter)
    kills: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def lost(self) -> list[int]:
        return sorted(i for i in self.acked if self.answers[i] == 0)

    @property
    def twice(self) -> list[int]:
        return sorted(i for i, n in self.answers.items() if n > 1)


def count_answers(fake: FakeLine) -> Counter[int]:
    """Answers the fake accepted (HTTP 200), per event: replies by token, pushes by user."""
    out: Counter[int] = Counter()
    for c in fake.calls:
        if c.status != 200 or not isinstance(c.body, dict):
            continue
        if c.path.endswith("/message/reply"):
            token = str(c.body.get("replyToken", ""))
            if token.startswith("crash-rt-"):
                out[int(token.removeprefix("crash-rt-"))] += 1
        elif c.path.endswith("/message/push"):
            to = str(c.body.get("to", ""))
            if to.startswith("Ucrash"):
                out[int(to.removeprefix("Ucrash"))] += 1
    return out


async def _start(data_dir: Path, fake: FakeLine, http: aiohttp.ClientSession,
                 log: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *serve_command(), cwd=str(data_dir.parent), env=serve_env(data_dir, port,
                                                                      fake.base_url),
            stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise AssertionError(f"serve exited with {proc.returncode}; see {log}")
        try:
            async with http.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    return proc, base
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError(f"serve did not become healthy; see {log}")


async def crash_run(root: Path, *, rounds: int = 3, concurrency: int = 16, seed: int = 0,
                    kill_after: tuple[float, float] = (0.3, 1.5),
                    settle: float = 60.0) -> CrashReport:
    """``rounds`` times: start serve, load it from ``concurrency`` senders, kill -9 it at a
    random moment; then start it once more and wait until every acknowledged event is
    answered (at most ``settle`` seconds). FakeLine refuses a reply token used twice."""
    rng = random.Random(seed)
    report = CrashReport()
    data_dir = root / "data"
    log = root / "serve.log"
    fake = FakeLine()
    fake.single_use_tokens = True
    await fake.start()
    counter = iter(range(10**9))
    try:
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=concurrency * 2)) as http:
            for _ in range(rounds):
                proc, base = await _start(data_dir, fake, http, log)

                async def sender(base: str = base) -> None:
                    while True:
                        i = next(counter)
                        body = event_body(i)
                        report.sent += 1
                        try:
                            async with http.post(f"{base}/line/webhook", data=body, headers={
                                    "Content-Type": "application/json",
                                    "x-line-signature": line_signature(SECRET, body)}) as resp:
                                await resp.read()
                                if resp.status == 200:
                                    report.acked.add(i)
                        except (TimeoutError, aiohttp.ClientError):
                            return  # the server is gone

                senders = [asyncio.create_task(sender()) for _ in range(concurrency)]
                await asyncio.sleep(rng.uniform(*kill_after))
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                report.kills += 1
                await asyncio.wait(senders, timeout=10)
                for t in senders:
                    t.cancel()
                report.log.append(f"killed after {len(report.acked)} acknowledged, "
                                  f"{len(count_answers(fake))} answered")
            proc, base = await _start(data_dir, fake, http, log)
            deadline = time.monotonic() + settle
            while time.monotonic() < deadline:
                report.answers = count_answers(fake)
                if not report.lost:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # a late second answer would show up now
            report.answers = count_answers(fake)
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
    finally:
        await fake.stop()
    return report
