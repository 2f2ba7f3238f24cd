"""Two real ``elaas-bot serve`` processes on one PostgreSQL database: a link made by one
downloads from the other, also after the first was killed; follow-ups cross over."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bot.core.pgstore import PgStore
from bot.ledger.book import Directory
from bot.ledger.entries import Lao
from bot.notices.status import BANGKOK
from tests.fakes import FakeLine, line_signature, wait_for
from tests.test_any_instance import USER, line_body
from tests.test_serve import clean_env, free_port, healthy, spawn

pytestmark = pytest.mark.slow
SECRET = "line-secret-two"
FILE_SECRET = "e" * 64
REPLY = "/v2/bot/message/reply"


def env_for(tmp: Path, name: str, url: str, fake: FakeLine, port: int, **extra: str
            ) -> dict[str, str]:
    return clean_env(tmp, PORT=str(port), ELAAS_DATA_DIR=str(tmp / name),
                     ELAAS_DATABASE_URL=url, LINE_CHANNEL_SECRET=SECRET,
                     LINE_CHANNEL_ACCESS_TOKEN="T", LINE_API_BASE=fake.base_url, **extra)


@pytest.fixture
async def two(pg_url: str, tmp_path: Path, fake_line: FakeLine
              ) -> AsyncIterator[list[tuple[asyncio.subprocess.Process, int]]]:
    procs = []
    for name in ("a", "b"):
        port = free_port()
        env = env_for(tmp_path, name, pg_url, fake_line, port, ELAAS_FILE_SECRET=FILE_SECRET)
        procs.append((await spawn(tmp_path, env), port))
    try:
        async with aiohttp.ClientSession() as http:
            for proc, port in procs:
                await healthy(http, port, proc, timeout=90)
        yield procs
    finally:
        for proc, _ in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.communicate(), 30)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def say(http: aiohttp.ClientSession, fake: FakeLine, port: int, text: str, n: int
              ) -> str:
    raw = line_body(text, f"01TWOSERVES{n:015d}", f"rt-two-{n}")
    async with http.post(f"http://127.0.0.1:{port}/line/webhook", data=raw, headers={
            "Content-Type": "application/json",
            "x-line-signature": line_signature(SECRET, raw)}) as resp:
        assert resp.status == 200
    calls = await wait_for(lambda: [c for c in fake.calls_to(REPLY)
                                    if c.body.get("replyToken") == f"rt-two-{n}"], timeout=30)
    return "\n".join(m.get("text", "") for m in calls[0].body["messages"])


async def test_link_from_a_downloads_on_b_after_a_is_killed(
        two: list[tuple[asyncio.subprocess.Process, int]], pg_url: str,
        fake_line: FakeLine) -> None:
    (proc_a, port_a), (_, port_b) = two
    store = PgStore(pg_url, max_size=1)
    try:
        d = Directory(store)
        d.add_lao(Lao("05510102", "อบต.สองเครื่อง", "ลำพูน"))
        d.bind(f"line:{USER}", "05510102", "admin", "สมศรี", datetime.now(BANGKOK))
    finally:
        store.close()
    async with aiohttp.ClientSession() as http:
        assert "รับ" in await say(http, fake_line, port_a, "รับ 1,500 ค่าขยะ", 1)
        text = await say(http, fake_line, port_a, "ส่งออก", 2)
        found = re.search(r"/files/(\S+)", text)
        assert found is not None, text
        pay = await say(http, fake_line, port_a, "จ่ายเงินช่วงระบบล่มทำยังไง", 3)
        proc_a.kill()  # kill -9: the instance that made the link is gone
        await proc_a.wait()
        async with http.get(f"http://127.0.0.1:{port_b}/files/{found.group(1)}") as resp:
            assert resp.status == 200
            assert (await resp.read())[:2] == b"PK"
        # A follow-up asked on B to an answer given by A (before A died) keeps its topic.
        cheque = await say(http, fake_line, port_b, "แล้วถ้าเป็นเช็คล่ะ", 4)
        assert cheque.split("\n")[0] == pay.split("\n")[0]


async def test_database_mode_without_file_secret_stops_with_one_line(
        pg_url: str, tmp_path: Path, fake_line: FakeLine) -> None:
    env = env_for(tmp_path, "a", pg_url, fake_line, free_port())
    proc = await spawn(tmp_path, env)
    _out, err = await asyncio.wait_for(proc.communicate(), 90)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "ELAAS_FILE_SECRET must be set when ELAAS_DATABASE_URL is" in text
    password = pg_url.split(":")[2].split("@")[0]
    assert password not in text
    assert not (tmp_path / "a" / ".file_secret").exists()
