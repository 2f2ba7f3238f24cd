"""Several real ``elaas-bot serve`` processes on one PostgreSQL (multi-instance test, bench)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.crashkit import free_port, serve_command
from tests.fakes import FakeLine, line_signature

SECRET = "multi-channel-secret"


def serve_env(data_dir: Path, port: int, line_base: str, database_url: str,
              **extra: str) -> dict[str, str]:
    """The environment of one instance (instances may share ``data_dir``)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(data_dir.parent),
            "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1",
            "ELAAS_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port),
            "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": "multi-token",
            "LINE_API_BASE": line_base, "ELAAS_DATABASE_URL": database_url,
            "ELAAS_FILE_SECRET": "multi-file-secret-0123456789abcdef",
            # this checkout's code, not whatever the venv's editable install points at (a
            # second worktree sharing the venv measures or tests its own server)
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent), **extra}


@dataclass
class Instance:
    proc: asyncio.subprocess.Process
    base: str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


async def start_instances(n: int, root: Path, fake: FakeLine, database_url: str, *,
                          share_data_dir: bool = True, timeout: float = 90.0,
                          **extra: str) -> list[Instance]:
    """Start ``n`` serve processes at once and wait until every one answers /healthz."""
    procs = []
    for i in range(n):
        data_dir = root / ("data" if share_data_dir else f"data{i}")
        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log = root / f"serve{i}.log"
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *serve_command(), cwd=str(root),
                env=serve_env(data_dir, port, fake.base_url, database_url, **extra),
                stdout=out, stderr=out)
        procs.append(Instance(proc, f"http://127.0.0.1:{port}", log))
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + timeout
        pending = list(procs)
        while pending and time.monotonic() < deadline:
            for inst in list(pending):
                if inst.proc.returncode is not None:
                    await stop_instances(procs)
                    raise AssertionError(f"serve exited with {inst.proc.returncode}: "
                                         f"{inst.log.read_text()[-2000:]}")
                try:
                    async with http.get(f"{inst.base}/healthz") as resp:
                        if resp.status == 200:
                            pending.remove(inst)
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.05)
    if pending:
        await stop_instances(procs)
        raise AssertionError(f"serve did not become healthy; see {pending[0].log}")
    return procs


async def stop_instances(instances: Sequence[Instance]) -> None:
    """SIGTERM every live instance and wait (SIGKILL after 30 s)."""
    for inst in instances:
        if inst.proc.returncode is None:
            inst.proc.terminate()
    for inst in instances:
        try:
            await asyncio.wait_for(inst.proc.wait(), 30)
        except TimeoutError:
            inst.proc.kill()
            await inst.proc.wait()


def line_body(event_id: str, user: str, token: str, text: str, *,
              redelivery: bool = False) -> bytes:
    """A signed-able LINE webhook body with one text event."""
    event: dict[str, Any] = {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "webhookEventId": event_id, "deliveryContext": {"isRedelivery": redelivery},
        "source": {"type": "user", "userId": user}, "replyToken": token,
        "message": {"type": "text", "id": str(abs(hash(event_id)) % 10**17),
                    "quoteToken": "q", "text": text},
    }  # fmt: skip
    return json.dumps({"destination": "Umultibot", "events": [event]},
                      ensure_ascii=False).encode()


async def post(http: aiohttp.ClientSession, base: str, body: bytes) -> int:
    """POST a signed LINE webhook; its HTTP status."""
    async with http.post(f"{base}/line/webhook", data=body, headers={
            "Content-Type": "application/json",
            "x-line-signature": line_signature(SECRET, body)}) as resp:
        await resp.read()
        return resp.status
