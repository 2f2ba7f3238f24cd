"""``elaas-bot serve``: health, extension hooks, and the real process (config, lock, SIGTERM)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from handlers.app import Core
from handlers.settings import Settings
from handlers.web.server import (
    CORE,
    FLOW,
    SENDERS,
    RedactSecrets,
    RunningServer,
    add_background,
    create_app,
)
from tests.fakes import FakeLine, FakeTelegram, line_signature, wait_for

CLI = Path(sys.executable).parent / "elaas-bot"
TOKEN = "123:TEST-secret-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1",
            "ELAAS_DATA_DIR": str(tmp_path / "data"), "HOST": "127.0.0.1", **extra}


async def spawn(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "handlers.cli"]
    return await asyncio.create_subprocess_exec(
        *cmd, "serve", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def healthy(http: aiohttp.ClientSession, port: int, proc: asyncio.subprocess.Process,
                  timeout: float = 30.0) -> dict[str, object]:
    """Wait for the process's /healthz (fails early if the process died)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if proc.returncode is not None:
            raise AssertionError(f"serve exited early with {proc.returncode}")
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                if resp.status == 200:
                    return await resp.json()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("serve did not become healthy")


# ---------------------------------------------------------------------------- in process


@pytest.fixture
def fake_tg(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram


async def test_healthz_and_extension_hooks(memory_core: Core, tmp_path: Path,
                                           fake_tg: FakeTelegram) -> None:
    settings = Settings(data_dir=tmp_path, telegram_bot_token=TOKEN,
                        telegram_api_base=fake_tg.base_url + "/bot")
    core = dataclasses.replace(memory_core, settings=settings)
    ticks: list[int] = []
    stopped = asyncio.Event()

    async def ticker(app: web.Application) -> None:
        try:
            while True:
                ticks.append(len(app[SENDERS]))
                await asyncio.sleep(0.01)
        finally:
            stopped.set()

    async def hello(request: web.Request) -> web.Response:
        answer = await request.app[FLOW].call(lambda: request.app[CORE].kb.has("status.current"))
        return web.json_response({"has_status": answer})

    def install(app: web.Application) -> None:
        app.router.add_get("/hello", hello)
        add_background(app, "ticker", ticker)

    server = RunningServer(create_app(core, extensions=[install], poll_interval=0.05))
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.base_url}/healthz") as resp:
                assert resp.status == 200
                health = await resp.json()
            assert health["status"] == "ok"
            assert health["channels"] == {"line": "off", "telegram": "polling"}
            async with http.get(f"{server.base_url}/hello") as resp:
                assert await resp.json() == {"has_status": True}
            async with http.post(f"{server.base_url}/line/webhook", data=b"{}") as resp:
                assert resp.status == 404  # LINE is off
        await wait_for(lambda: ticks)
        assert ticks[0] == 1  # the Telegram sender is there for notices
    finally:
        await server.stop()
    assert stopped.is_set()


def test_secrets_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redact")
    redact = RedactSecrets([TOKEN, "short"])
    log.addFilter(redact)
    try:
        with caplog.at_level(logging.INFO):
            log.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
            try:
                raise RuntimeError(f"bad token {TOKEN}")
            except RuntimeError:
                log.exception("failed")
    finally:
        log.removeFilter(redact)
    assert TOKEN not in caplog.text
    assert "bot***/getMe" in caplog.text


# ---------------------------------------------------------------------------- processes


async def test_serve_without_channels_names_the_variables(tmp_path: Path) -> None:
    proc = await spawn(tmp_path, clean_env(tmp_path, PORT=str(free_port())))
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode not in (0, None)
    text = err.decode()
    assert "LINE_CHANNEL_SECRET" in text and "LINE_CHANNEL_ACCESS_TOKEN" in text
    assert "TELEGRAM_BOT_TOKEN" in text


async def test_second_serve_on_the_same_data_dir_refused(tmp_path: Path,
                                                         fake_tg: FakeTelegram) -> None:
    port = free_port()
    env = clean_env(tmp_path, PORT=str(port), TELEGRAM_BOT_TOKEN=TOKEN,
                    TELEGRAM_API_BASE=fake_tg.base_url + "/bot")
    first = await spawn(tmp_path, env)
    try:
        async with aiohttp.ClientSession() as http:
            await healthy(http, port, first)
        second = await spawn(tmp_path, {**env, "PORT": str(free_port())})
        _out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode not in (0, None)
        assert "another elaas-bot process already owns" in err.decode()
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.communicate(), 30)
    assert first.returncode == 0


async def test_sigterm_exits_cleanly_after_answering(tmp_path: Path,
                                                     fake_tg: FakeTelegram) -> None:
    """Polling mode from a .env file; one update answered; SIGTERM -> exit 0, no secret logged."""
    port = free_port()
    fake_line = FakeLine()
    await fake_line.start()
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_API_BASE={fake_tg.base_url}/bot\n"
        f"LINE_CHANNEL_SECRET=testsecret\nLINE_CHANNEL_ACCESS_TOKEN=line-token-abc\n"
        f"LINE_API_BASE={fake_line.base_url}\n", encoding="utf-8")
    update = json.loads((Path(__file__).parent / "data/telegram/text.json").read_text("utf-8"))
    fake_tg.updates.append(update)
    proc = await spawn(tmp_path, clean_env(tmp_path, PORT=str(port)))
    try:
        async with aiohttp.ClientSession() as http:
            health = await healthy(http, port, proc)
            assert health["channels"] == {"line": "webhook", "telegram": "polling"}
            sent = await wait_for(lambda: fake_tg.sent_texts(5001), timeout=20)
            assert "สถานะ" in sent[0]
            body = (Path(__file__).parent / "data/line/postback.json").read_bytes()
            async with http.post(f"http://127.0.0.1:{port}/line/webhook", data=body, headers={
                    "x-line-signature": line_signature("testsecret", body)}) as resp:
                assert resp.status == 200
            await wait_for(lambda: fake_line.calls_to("/v2/bot/message/push"), timeout=10)
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake_line.stop()
    log = err.decode()
    assert proc.returncode == 0, log
    assert "stopped cleanly" in log
    assert TOKEN not in log and "line-token-abc" not in log and "testsecret" not in log
    polls = len([c for c in fake_tg.calls if c.method == "getUpdates"])
    await asyncio.sleep(0.2)
    assert len([c for c in fake_tg.calls if c.method == "getUpdates"]) == polls


def test_env_example_lists_every_variable() -> None:
    import re

    root = Path(__file__).resolve().parent.parent
    example = (root / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M))
    source = (root / "handlers" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"values\.get\(\"([A-Z][A-Z0-9_]+)\"", source))
    assert read and read <= listed, read - listed
    settings = Settings.from_env({}, dotenv=root / ".env.example")
    assert settings.missing_for_serve()  # the example turns no channel on by itself
    assert settings.port == 8080 and settings.data_dir == Path("./data")


async def test_unreachable_channel_fails_start_up_without_leaking_the_token(
        tmp_path: Path) -> None:
    env = clean_env(tmp_path, PORT=str(free_port()), TELEGRAM_BOT_TOKEN=TOKEN,
                    TELEGRAM_API_BASE=f"http://127.0.0.1:{free_port()}/bot")
    proc = await spawn(tmp_path, env)
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "start-up failed" in text
    assert TOKEN not in text
    # the lock was released: the next start gets past it (and fails the same way)
    proc = await spawn(tmp_path, env)
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert "already owns" not in err.decode()
