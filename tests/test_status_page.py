"""The public status page: HTML (checked in headless Chromium), JSON and a valid Atom feed."""

from __future__ import annotations

import asyncio
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core.store import MemoryStore
from bot.notices.signals import FieldReports, ProbeLog, ProbeResult
from bot.notices.status import BANGKOK, StatusBoard
from bot.qa.knowledge import default_knowledge_dir
from handlers.web.status_page import add_status_routes

ATOM = "{http://www.w3.org/2005/Atom}"
FRESH_NOW = datetime(2024, 7, 23, 8, 0, tzinfo=BANGKOK)  # a day after the last update
EVIL = "<script>alert('x')</script> & \"quotes\""
BASE = "https://bot.example.go.th"


@pytest.fixture
def board() -> StatusBoard:
    b = StatusBoard(MemoryStore(), seed=default_knowledge_dir() / "status.yaml")
    b.post(state="down", phase="identified", message=f"พบสาเหตุแล้ว กำลังกู้คืนข้อมูล {EVIL}",
           expected="20 ก.ค. 2567", at=datetime(2024, 7, 12, 14, 5, tzinfo=BANGKOK))
    b.post(state="normal", phase="resolved", message="ระบบกลับมาใช้งานได้ตามปกติแล้ว",
           ref="หนังสือ สถ. (ตัวอย่างทดสอบ)", at=datetime(2024, 7, 22, 9, 30, tzinfo=BANGKOK))
    return b


@pytest.fixture
async def server(board: StatusBoard) -> AsyncIterator[TestServer]:
    app = web.Application()
    add_status_routes(app, board, BASE + "/", clock=lambda: FRESH_NOW)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def get(srv: TestServer, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(srv.make_url(path)) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def test_html_shows_state_timeline_and_escapes(server: TestServer) -> None:
    status, ctype, html = await get(server, "/status")
    assert status == 200 and ctype.startswith("text/html") and "utf-8" in ctype
    assert '<html lang="th">' in html and 'name="viewport"' in html
    assert "<script" not in html  # no JavaScript, and the injected tag is escaped
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert "ใช้งานได้ปกติ" in html and "22 ก.ค. 2567 09:30 น." in html
    assert html.index('id="u3"') < html.index('id="u2"') < html.index('id="u1"')  # newest first
    assert "รับแจ้งเตือน" in html and "/subscribe" in html
    assert f'href="{BASE}/status.atom"' in html
    assert "ใบผ่านทั่วไป" in html  # restored: the key-back steps


async def test_json(server: TestServer) -> None:
    status, ctype, body = await get(server, "/status.json")
    assert status == 200 and ctype.startswith("application/json")
    doc = json.loads(body)
    assert doc["current"]["state"] == "normal" and doc["current"]["state_th"] == "ใช้งานได้ปกติ"
    assert doc["current"]["since"] == "2024-07-22T09:30:00+07:00"
    assert [u["seq"] for u in doc["timeline"]] == [3, 2, 1]
    assert EVIL in doc["timeline"][1]["message"]


async def test_atom_feed_is_valid(server: TestServer) -> None:
    status, ctype, body = await get(server, "/status.atom")
    assert status == 200 and ctype.startswith("application/atom+xml")
    feed = ET.fromstring(body.encode())
    assert feed.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{child}") is not None, child
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": f"{BASE}/status.atom", "alternate": f"{BASE}/status"}
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 3 and all(i and i.startswith("urn:uuid:") for i in ids)
    for e in entries:
        updated = e.findtext(f"{ATOM}updated")
        assert updated and datetime.fromisoformat(updated).tzinfo is not None
        assert e.findtext(f"{ATOM}title")
    assert entries[0].findtext(f"{ATOM}title") == "ใช้งานได้ปกติ · แก้ไขแล้ว"
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")
    assert EVIL in (entries[1].findtext(f"{ATOM}content") or "")
    _, _, again = await get(server, "/status.atom")
    assert [e.findtext(f"{ATOM}id") for e in ET.fromstring(again.encode())
            .findall(f"{ATOM}entry")] == ids  # ids are permanent


async def test_empty_record_and_font_route() -> None:
    app = web.Application()
    add_status_routes(app, StatusBoard(MemoryStore()), BASE)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        status, _, html = await get(srv, "/status")
        assert status == 200 and "ยังไม่มีข้อมูลสถานะ" in html
        _, _, atom = await get(srv, "/status.atom")
        assert ET.fromstring(atom.encode()).findall(f"{ATOM}entry") == []
        status, _, _ = await get(srv, "/status/fonts/nope.ttf")
        assert status == 404
        async with aiohttp.ClientSession() as http, \
                http.get(srv.make_url("/status/fonts/sarabun-regular.ttf")) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "font/ttf"
            assert len(await resp.read()) > 10_000
    finally:
        await srv.close()


async def _chromium(*args: str) -> tuple[int, bytes]:
    proc = await asyncio.create_subprocess_exec(
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium not installed (CI installs it: apt-get install chromium)")
async def test_page_in_headless_chromium(server: TestServer, tmp_path: Path) -> None:
    url = str(server.make_url("/status"))
    shot = tmp_path / "status.png"
    code, _ = await _chromium(f"--user-data-dir={tmp_path / 'p1'}", f"--screenshot={shot}",
                              "--window-size=412,900", url)
    assert code == 0
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    code, dom = await _chromium(f"--user-data-dir={tmp_path / 'p2'}", "--dump-dom", url)
    text = dom.decode()
    assert code == 0
    assert "ใช้งานได้ปกติ" in text  # the state
    assert "พบสาเหตุแล้ว กำลังกู้คืนข้อมูล" in text and "กำลังตรวจสอบ" in text  # the timeline
    assert "<script>alert" not in text


@pytest.fixture
async def signals_server() -> AsyncIterator[TestServer]:
    """The seed record long after (stale), a probe result and field votes."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)
    store = MemoryStore()
    board = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml", probe_enabled=True)
    ProbeLog(store).record(ProbeResult(now - timedelta(minutes=4), "login", 200, 640))
    reports = FieldReports(store)
    for i, (province, up) in enumerate([("ลำพูน", False), ("ลำพูน", False), ("ลำพูน", True),
                                        ("เชียงใหม่", True)]):
        reports.vote(f"line:U{i}", up, province, now - timedelta(minutes=10 * i))
    app = web.Application()
    add_status_routes(app, board, BASE, clock=lambda: now)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium not installed (CI installs it: apt-get install chromium)")
async def test_three_signals_with_ages_at_phone_width(signals_server: TestServer,
                                                       tmp_path: Path) -> None:
    url = str(signals_server.make_url("/status"))
    shot = tmp_path / "signals.png"
    code, _ = await _chromium(f"--user-data-dir={tmp_path / 'p1'}", f"--screenshot={shot}",
                              "--window-size=412,900", url)
    assert code == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, dom = await _chromium(f"--user-data-dir={tmp_path / 'p2'}", "--dump-dom", url)
    text = dom.decode()
    assert code == 0
    assert "ไม่ทราบสถานะตอนนี้" in text and "874 วันก่อน" in text  # official: stale, dated
    assert "ตรวจอัตโนมัติ ไม่ใช่ประกาศทางการ" in text and "4 นาทีก่อน" in text  # probe
    assert "ถูกพาไปหน้าเข้าสู่ระบบ" in text and "0.6 วินาที" in text  # not counted as up
    assert "เข้าได้ 2 · ยังเข้าไม่ได้ 2" in text and "2 ชม.ล่าสุด" in text  # field
    # the three signals come before the timeline (on the first screen of a phone)
    assert text.index('id="sig-field"') < text.index('class="tl"')


@pytest.mark.parametrize("state", ["partial", "down"])
async def test_the_advice_does_not_contradict_a_partial_status(board: StatusBoard,
                                                                state: str) -> None:
    # qa11 item 9: "only receiving works" was followed by "do receiving ... by hand".
    board.post(state=state, message="ใช้งานได้บางส่วน เฉพาะเมนูรับเงิน",
               at=FRESH_NOW - timedelta(hours=1))
    app = web.Application()
    add_status_routes(app, board, BASE, clock=lambda: FRESH_NOW)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        _, _, html = await get(srv, "/status")
    finally:
        await srv.close()
    advice = html.split('class="next warn">', 1)[1].split("</div>", 1)[0]
    blanket = "รับเงิน จ่ายเงิน" in advice
    assert blanket == (state == "down")
    if state == "partial":
        assert "ตามที่ประกาศ" in advice and "ใช้ไม่ได้" in advice and "ด้วยมือ" in advice
