"""Status signals: dated official record, freshness, probe, field reports, admin alerts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core.contract import Incoming, Reply, UserKey
from bot.core.store import MemoryStore
from bot.ledger.entries import Lao
from bot.notices.outbox import Outbox
from bot.notices.signals import FIELD_DOWN, FIELD_UP, FieldReports, ProbeLog, ProbeResult, snapshot
from bot.notices.status import BANGKOK, StatusBoard
from bot.qa.knowledge import MAX_FIRST, default_knowledge_dir
from handlers.app import Core, build_core
from handlers.notice_sender import NoticeSender
from handlers.probe import install_watch, probe_once, watch_once
from handlers.settings import Settings
from handlers.web.server import RunningServer, create_app
from handlers.web.status_page import add_status_routes, status_json
from tests.fakes import FakeTelegram, wait_for

SEED = default_knowledge_dir() / "status.yaml"
# 1 Dec 2026: the seed (10 Jul 2567) is 874 days old.
LATE = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)
FRESH = datetime(2024, 7, 15, 10, 30, tzinfo=BANGKOK)
TG_TOKEN = "123:TEST"


def make_core(tmp_path: Path, now: datetime, **settings: object) -> Core:
    c = build_core(Settings(data_dir=tmp_path / "data", **settings))  # type: ignore[arg-type]
    c.engine.clock = lambda: now
    return c


@pytest.fixture
def late_core(tmp_path: Path) -> Iterator[Core]:
    c = make_core(tmp_path, LATE)
    yield c
    c.store.close()


def ask(core: Core, text: str | None = None, *, user: str = "u1", action: str | None = None,
        channel: str = "console") -> list[Reply]:
    return core.engine.reply_to(Incoming(channel, user, user, text=text, action=action,
                                         event_id=f"{user}{text}{action}"))


# --------------------------------------------------------------------------- official record


def test_seed_keeps_the_letters_dates_without_an_invented_time() -> None:
    board = StatusBoard(MemoryStore(), seed=SEED)
    view = board.current()
    assert view is not None
    fields = view.fields()
    assert fields["since"] == "7 ก.ค. 2567"  # the letter: unusable from 7 July
    assert fields["updated"] == "10 ก.ค. 2567"  # the letter's date, no time of day
    assert "00:00" not in json.dumps(fields, ensure_ascii=False)
    assert "นับจาก" not in fields["expected"]  # the letter does not say from when


def test_an_old_seed_with_an_invented_time_is_replaced() -> None:
    store = MemoryStore()
    store.table("status/updates").put("000001", {
        "seq": 1, "at": "2024-07-07T00:00:00+07:00", "state": "down", "message": "old",
        "by": "seed"})
    view = StatusBoard(store, seed=SEED).current()
    assert view is not None and view.fields()["updated"] == "10 ก.ค. 2567"


# --------------------------------------------------------------------------- freshness


def test_fresh_record_has_no_warning(tmp_path: Path) -> None:
    core = make_core(tmp_path, FRESH)
    first = ask(core, "ระบบล่มอยู่ไหม")[0]
    assert first.topic == "status.current"
    assert first.text.startswith("ประกาศทางการล่าสุด: e-LAAS ขัดข้อง ตั้งแต่ 7 ก.ค. 2567")
    assert "ไม่ทราบ" not in first.text and "วันก่อน" not in first.text
    doc = snapshot(core.status, core.store, FRESH).to_json()
    assert doc["stale"] is False and doc["age_days"] == 5 and doc["state_known"] is True
    core.store.close()


def test_stale_record_is_old_news_in_chat(late_core: Core) -> None:
    replies = ask(late_core, "ระบบล่มอยู่ไหม")
    first = replies[0]
    assert first.text.startswith("สถานะ e-LAAS ตอนนี้: ไม่ทราบ")
    assert "ข้อมูลล่าสุดคือ ขัดข้อง ตั้งแต่ 7 ก.ค. 2567" in first.text
    # the bot cannot know that nothing was announced since: only that it has received nothing
    assert "874 วันก่อน" in first.text and "บอทยังไม่ได้รับประกาศใหม่" in first.text
    assert "ยังไม่มีประกาศใหม่" not in first.text
    assert "สถจ./อำเภอ" in first.text
    assert "ตรวจอัตโนมัติ: ไม่ได้เปิดใช้" in first.text and "ผู้ใช้แจ้ง" in first.text
    assert len(first.text) <= MAX_FIRST
    assert first.text.count("ว 3369") <= 1
    labels = [c.label for c in first.choices]
    assert labels[:3] == ["ดูขั้นตอนเต็ม", "เข้าได้แล้ว", "ยังเข้าไม่ได้"]
    full = ask(late_core, action="full:status.current")[0]
    assert "874 วันก่อน" in full.text and "ที่มา:" in full.text
    assert full.text.count("ว 3369") == 1
    for topic in ("status.eta", "status.notify", "status.data"):
        text = ask(late_core, action=f"full:{topic}")[0].text
        assert "874 วันก่อน" in text, topic
        # "unknown" is the state now, never "the latest official state" (that was ขัดข้อง)
        assert "สถานะทางการล่าสุด: ไม่ทราบ" not in text, text


def test_stale_limit_is_configurable(tmp_path: Path) -> None:
    core = make_core(tmp_path, FRESH, status_stale_days=3)
    assert ask(core, "ระบบล่มอยู่ไหม")[0].text.startswith("สถานะ e-LAAS ตอนนี้: ไม่ทราบ")
    core.store.close()


async def test_stale_warning_on_page_and_json(late_core: Core) -> None:
    app = web.Application()
    add_status_routes(app, late_core.status, "https://bot.example", clock=lambda: LATE)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(srv.make_url("/status")) as resp:
                html = await resp.text()
            async with http.get(srv.make_url("/status.json")) as resp:
                doc = await resp.json()
    finally:
        await srv.close()
    assert "ไม่ทราบสถานะตอนนี้" in html and 'id="stale"' in html
    assert "874 วันก่อน" in html and "บอทยังไม่ได้รับประกาศใหม่" in html
    assert 'id="sig-official"' in html and 'id="sig-probe"' in html and 'id="sig-field"' in html
    assert doc["stale"] is True and doc["age_days"] == 874 and doc["state"] == "down"
    assert doc["since"] == "2024-07-07" and doc["updated_at"] == "2024-07-10"
    assert "ว 2963" in doc["source"] and "874 วันก่อน" in doc["official_th"]
    assert doc["probe"] is None and doc["field"]["up"] == 0


# --------------------------------------------------------------------------- probe


@pytest.fixture
async def elaas() -> AsyncIterator[TestServer]:
    """A stand-in for the e-LAAS web server with each way it can answer."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="<html>e-LAAS</html>", content_type="text/html")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    async def to_login(request: web.Request) -> web.Response:
        raise web.HTTPFound("/login?next=/")

    async def login(request: web.Request) -> web.Response:
        return web.Response(text='<form><input type="password" name="pw"></form>',
                            content_type="text/html")

    app = web.Application()
    for path, fn in (("/ok", ok), ("/broken", broken), ("/slow", slow), ("/app", to_login),
                     ("/login", login)):
        app.router.add_get(path, fn)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def test_probe_records_what_it_found(elaas: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        up = await probe_once(http, str(elaas.make_url("/ok")), timeout=1)
        err = await probe_once(http, str(elaas.make_url("/broken")), timeout=1)
        late = await probe_once(http, str(elaas.make_url("/slow")), timeout=0.3)
        login = await probe_once(http, str(elaas.make_url("/app")), timeout=1)
        port = elaas.port
        await elaas.close()
        refused = await probe_once(http, f"http://127.0.0.1:{port}/ok", timeout=1)
    assert (up.outcome, up.http_status, up.reachable) == ("up", 200, True)
    assert up.latency_ms is not None and up.latency_ms >= 0
    assert (err.outcome, err.http_status, err.reachable) == ("server_error", 500, False)
    assert (late.outcome, late.reachable) == ("timeout", False)
    assert late.latency_ms is not None and 250 <= late.latency_ms < 2000
    assert (login.outcome, login.reachable) == ("login", False)
    assert "/login" in login.detail
    assert (refused.outcome, refused.reachable) == ("down", False)


def test_probe_result_shows_in_chat_with_its_age(late_core: Core) -> None:
    ProbeLog(late_core.store).record(ProbeResult(LATE - timedelta(minutes=5), "server_error",
                                                 503, 840))
    text = ask(late_core, "ระบบล่มอยู่ไหม")[0].text
    assert "ตรวจอัตโนมัติ ไม่ใช่ประกาศทางการ: เซิร์ฟเวอร์ตอบว่าผิดพลาด (HTTP 503)" in text
    assert "5 นาทีก่อน" in text and "0.8 วิ" in text


# --------------------------------------------------------------------------- field reports


def test_field_votes_per_province_one_per_user_and_expiring(late_core: Core) -> None:
    directory = late_core.book.directory
    directory.add_lao(Lao("5510101", "อบต.ทดสอบ", "จังหวัดลำพูน"))
    directory.bind("line:Ua", "5510101", "member", "ก", LATE)
    directory.bind("line:Ub", "5510101", "member", "ข", LATE)
    ask(late_core, user="Ua", channel="line", action=FIELD_DOWN.action)
    for _ in range(20):  # a flood from one user counts once
        ask(late_core, user="Ub", channel="line", action=FIELD_UP.action)
    ask(late_core, user="Uc", channel="line", action=FIELD_DOWN.action)  # no LAO
    reply = ask(late_core, user="Ud", channel="line", action=FIELD_DOWN.action)[0]
    assert "ไม่ใช่ประกาศทางการ" in reply.text
    counts = {c.province: (c.up, c.down) for c in FieldReports(late_core.store).counts(LATE)}
    assert counts == {"ลำพูน": (1, 1), "ไม่ระบุจังหวัด": (0, 2)}
    # anonymous group members are not counted
    reply = late_core.engine.reply_to(Incoming("line", "", "Cgroup", action=FIELD_UP.action,
                                               event_id="anon", is_group=True))[0]
    assert "ระบุตัวได้" in reply.text
    assert sum(c.up for c in FieldReports(late_core.store).counts(LATE)) == 1
    # a changed mind replaces the vote
    ask(late_core, user="Ua", channel="line", action=FIELD_UP.action)
    counts = {c.province: (c.up, c.down) for c in FieldReports(late_core.store).counts(LATE)}
    assert counts["ลำพูน"] == (2, 0)
    text = ask(late_core, "ระบบล่มอยู่ไหม")[0].text
    assert "ผู้ใช้แจ้ง 2 ชม.ล่าสุด: เข้าได้ 2 · เข้าไม่ได้ 2" in text


def test_one_group_of_field_reports_is_counted_once(late_core: Core) -> None:
    ask(late_core, user="Uz", channel="line", action=FIELD_UP.action)  # no LAO: no province
    text = ask(late_core, "ระบบล่มอยู่ไหม")[0].text
    line = next(ln for ln in text.splitlines() if ln.startswith("ผู้ใช้แจ้ง"))
    assert line == "ผู้ใช้แจ้ง 2 ชม.ล่าสุด: เข้าได้ 1 · เข้าไม่ได้ 0", line
    # two hours later the votes no longer count
    assert FieldReports(late_core.store).counts(LATE + timedelta(hours=2)) == []


# --------------------------------------------------------------------------- alerts


async def test_disagreement_alert_reaches_each_admin_once(tmp_path: Path) -> None:
    tg = FakeTelegram()
    await tg.start()
    admins = frozenset({UserKey("telegram", "111"), UserKey("telegram", "222")})
    core = make_core(tmp_path, FRESH, admins=admins, status_alert_minutes=30,
                     probe_url="http://127.0.0.1:1/")
    try:
        up = ProbeResult(FRESH, "up", 200, 120)
        assert watch_once(core, FRESH, up) == ""  # the episode starts
        assert watch_once(core, FRESH + timedelta(minutes=10), up) == ""
        alert = watch_once(core, FRESH + timedelta(minutes=31), up)
        assert alert.startswith("alert-")
        for m in (40, 90):  # same episode: no second alert
            assert watch_once(core, FRESH + timedelta(minutes=m), up) == ""
        sender = NoticeSender(core.store, core.status, tmp_path / "data",
                              telegram_token=TG_TOKEN, telegram_api_base=tg.base_url + "/bot")
        for _ in range(3):
            await sender.deliver_once()
        await sender.close()
        for chat in ("111", "222"):
            texts = tg.sent_texts(chat)
            assert len(texts) == 1, chat
            assert "การตรวจอัตโนมัติเข้าถึง e-LAAS ได้" in texts[0] and "ขัดข้อง" in texts[0]
        # the probe agrees again: the episode ends; a new disagreement is a new episode
        down = ProbeResult(FRESH + timedelta(hours=2), "timeout", None, 5000)
        assert watch_once(core, FRESH + timedelta(hours=2), down) == ""
        later = FRESH + timedelta(hours=3)
        watch_once(core, later, ProbeResult(later, "up", 200, 90))
        again = ProbeResult(later + timedelta(minutes=31), "up", 200, 90)
        assert watch_once(core, later + timedelta(minutes=31), again)
        assert len([n for n, _ in Outbox(core.store).entries() if n.kind == "alert"]) == 2
    finally:
        core.store.close()
        await tg.stop()


def test_field_votes_also_raise_an_alert(tmp_path: Path) -> None:
    core = make_core(tmp_path, FRESH, admins=frozenset({UserKey("line", "Uadmin")}),
                     status_alert_minutes=0)
    try:
        for u in ("Ua", "Ub"):
            ask(core, user=u, channel="line", action=FIELD_UP.action)
        assert watch_once(core, FRESH) == ""  # two votes are not enough
        ask(core, user="Uc", channel="line", action=FIELD_UP.action)
        alert = watch_once(core, FRESH)
        notice = Outbox(core.store).get(alert)
        assert notice is not None and notice.to == ("line:Uadmin",)
        assert "ผู้ใช้ส่วนใหญ่แจ้งว่าเข้าได้แล้ว" in notice.text
    finally:
        core.store.close()


def test_status_json_document_keys(late_core: Core) -> None:
    snap = snapshot(late_core.status, late_core.store, LATE)
    doc = status_json(snap.view, late_core.status.timeline(), "https://x", snap)
    for key in ("state", "since", "updated_at", "source", "age_days", "stale", "probe", "field",
                "current", "timeline"):
        assert key in doc, key


async def test_serve_runs_the_probe_as_a_task(tmp_path: Path, elaas: TestServer) -> None:
    """Inside serve (the app's background tasks) the probe checks the configured address."""
    tg = FakeTelegram()
    await tg.start()
    core = make_core(tmp_path, LATE, telegram_bot_token=TG_TOKEN,
                     telegram_api_base=tg.base_url + "/bot",
                     probe_url=str(elaas.make_url("/broken")), probe_interval=0.2)
    server = RunningServer(create_app(core, extensions=[install_watch], poll_interval=0.05))
    await server.start()
    try:
        log = ProbeLog(core.store)
        await wait_for(lambda: log.latest())
        latest = log.latest()
        assert latest is not None and latest.outcome == "server_error"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.base_url}/healthz") as resp:
                assert resp.status == 200
    finally:
        await server.stop()
        core.store.close()
        await tg.stop()


def test_settings_for_the_signals() -> None:
    s = Settings.from_env({}, dotenv=Path("/nonexistent"))
    assert (s.status_stale_days, s.probe_url, s.status_alert_minutes) == (14, "", 30)
    s = Settings.from_env({"ELAAS_STATUS_STALE_DAYS": "7", "ELAAS_PROBE_URL": "https://e.x/ok",
                           "ELAAS_PROBE_INTERVAL": "60", "ELAAS_STATUS_ALERT_MINUTES": "45"},
                          dotenv=Path("/nonexistent"))
    assert (s.status_stale_days, s.probe_url, s.probe_interval, s.status_alert_minutes) == \
        (7, "https://e.x/ok", 60.0, 45)
    with pytest.raises(ValueError) as err:
        Settings.from_env({"ELAAS_PROBE_URL": "e-laas.go.th", "ELAAS_PROBE_INTERVAL": "1",
                           "ELAAS_STATUS_STALE_DAYS": "two"}, dotenv=Path("/nonexistent"))
    for name in ("ELAAS_PROBE_URL", "ELAAS_PROBE_INTERVAL", "ELAAS_STATUS_STALE_DAYS"):
        assert name in str(err.value)


# --------------------------------------------------------------------------- own letter only

NEW_REF = "หนังสือ สถ. ที่ มท 0808.4/ว 9999"


def test_a_new_status_cites_only_what_was_given_with_it(tmp_path: Path) -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=BANGKOK)
    core = make_core(tmp_path, now)
    core.status.post(state="partial", message="ใช้ได้บางเมนู", ref=NEW_REF,
                     at=now - timedelta(hours=2))
    full = ask(core, action="full:status.current")[0].text
    sources = full[full.index("ที่มา:"):].splitlines()[0]
    assert "ว 9999" in sources and "ว 2963" not in sources  # the seed letter is background
    core.status.post(state="normal", message="ใช้งานได้ตามปกติ", at=now - timedelta(hours=1))
    back = ask(core, "ระบบกลับมายัง")[0].text
    assert "ว 9999" not in back and "ว 2963" not in back
    doc = snapshot(core.status, core.store, now).to_json()
    assert doc["source"] in ("", None)
    core.status.post(state="down", message="ขัดข้องอีกครั้ง", at=now)
    eta = ask(core, "ระบบจะกลับมาเมื่อไหร่")[0].text
    assert eta.splitlines()[1] == "กำหนดที่ประกาศ: ยังไม่มีการประกาศ"
    assert "2 สัปดาห์" not in eta
    view = core.status.current()
    assert view is not None and (view.ref, view.expected) == ("", "")
    core.store.close()


def test_since_is_only_what_the_letter_in_force_states() -> None:
    board = StatusBoard(MemoryStore(), seed=SEED)
    at = datetime(2024, 7, 20, 9, 0, tzinfo=BANGKOK)
    board.post(state="down", message="พบสาเหตุแล้ว", phase="identified", at=at)
    view = board.current()
    assert view is not None and view.fields()["since"] == "7 ก.ค. 2567"  # the seed's letter
    board.post(state="down", message="ขัดข้องอีกครั้ง", ref=NEW_REF, at=at + timedelta(days=1))
    view = board.current()
    assert view is not None and view.since is None and view.since_part == ""
    assert view.fields()["since"] == "ไม่ได้ระบุ"
    back = at + timedelta(days=2)
    board.post(state="normal", message="กลับมาแล้ว", ref=NEW_REF + " ฉบับที่ 2", at=back)
    view = board.current()  # a change of state: the record dates it, letter or not
    assert view is not None and view.since == back and "ตั้งแต่" in view.since_part
