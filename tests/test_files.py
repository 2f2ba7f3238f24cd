"""Signed download links: tokens, expiry, eviction, and the /files route over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from bot.core.contract import FileBlob
from handlers.web.files import (
    FileVault,
    LinkExpired,
    LinkGone,
    LinkTampered,
    content_disposition,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BLOB = FileBlob(b"PK\x03\x04 fake xlsx bytes", "รายการ อบต.ตัวอย่าง ก.ค. 2567.xlsx", XLSX)


class Clock:
    def __init__(self) -> None:
        self.now = 1_720_000_000.0

    def __call__(self) -> float:
        return self.now


def make_vault(clock: Clock | None = None, **kw: int) -> FileVault:
    return FileVault(b"k" * 32, "https://bot.example.org/", clock=clock or Clock(), **kw)


def test_round_trip_and_url() -> None:
    vault = make_vault()
    token = vault.put(BLOB)
    assert vault.open(token) == BLOB
    assert vault.url(token) == f"https://bot.example.org/files/{token}"
    assert "k" * 32 not in repr(vault)


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),          # signature
    lambda t: ("x" if t[0] != "x" else "y") + t[1:],            # file id
    lambda t: t.replace(".", ".9", 1),                          # expiry pushed later
    lambda t: t + "x",
    lambda t: "",
    lambda t: "../../etc/passwd",
])  # fmt: skip
def test_tampered_tokens_are_refused(mutate: object) -> None:
    vault = make_vault()
    token = vault.put(BLOB)
    with pytest.raises(LinkTampered):
        vault.open(mutate(token))  # type: ignore[operator]


def test_other_key_is_refused() -> None:
    token = make_vault().put(BLOB)
    other = FileVault(b"z" * 32, "http://x", clock=Clock())
    with pytest.raises(LinkTampered):
        other.open(token)


def test_expiry() -> None:
    clock = Clock()
    vault = make_vault(clock)
    token = vault.put(BLOB)
    clock.now += 3599
    assert vault.open(token) == BLOB
    clock.now += 2
    with pytest.raises(LinkExpired):
        vault.open(token)
    short = vault.put(BLOB, ttl=10)
    clock.now += 11
    with pytest.raises(LinkExpired):
        vault.open(short)


def test_bounded_by_count_and_bytes() -> None:
    vault = make_vault(max_files=3, max_bytes=10_000)
    tokens = [vault.put(FileBlob(bytes(100), f"f{i}.csv", "text/csv")) for i in range(5)]
    assert len(vault) == 3
    with pytest.raises(LinkGone):
        vault.open(tokens[0])
    assert vault.open(tokens[4]).filename == "f4.csv"
    vault.put(FileBlob(bytes(9_950), "big.bin", "application/octet-stream"))
    assert len(vault) == 1  # the big one pushed the others out


def test_content_disposition_keeps_thai_name() -> None:
    value = content_disposition(BLOB.filename, XLSX)
    assert value.startswith("attachment; ")
    assert "filename*=UTF-8''" + quote(BLOB.filename, safe="") in value
    assert value.encode("ascii")  # the header itself is plain ASCII
    assert 'filename="' in value and value.split('"')[1].endswith(".xlsx")
    assert content_disposition("แบบ.pdf", "application/pdf").startswith("inline; ")


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, FileVault, Clock]]:
    clock = Clock()
    vault = make_vault(clock)
    app = web.Application()
    app.router.add_get("/files/{token}", vault.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", vault, clock
    await runner.cleanup()


async def test_download_over_http(served: tuple[str, FileVault, Clock]) -> None:
    base, vault, clock = served
    token = vault.put(BLOB)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/files/{token}") as resp:
            assert resp.status == 200
            assert await resp.read() == BLOB.data
            assert resp.headers["Content-Type"] == XLSX
            assert quote(BLOB.filename, safe="") in resp.headers["Content-Disposition"]
            assert resp.headers["Cache-Control"] == "private, no-store"
        async with http.get(f"{base}/files/{token[:-2]}xx") as resp:
            assert resp.status == 403
            page = await resp.text()
            assert "ลิงก์นี้ไม่ถูกต้อง" in page and resp.content_type == "text/html"
        clock.now += 3601
        async with http.get(f"{base}/files/{token}") as resp:
            assert resp.status == 410
            assert "หมดอายุ" in await resp.text()
