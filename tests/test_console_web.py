"""The operator console in a real headless Chromium against a serve-like app on 127.0.0.1.

One server (with the fake LINE and Telegram APIs) and one browser for the whole module; the
server runs its own event loop in a thread so the tests can drive Playwright's sync API.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.core.contract import Incoming, UserKey
from bot.ledger.entries import Lao, ParsedEntry
from bot.notices.console_auth import LoginLinks
from bot.notices.operators import Operators
from bot.notices.outbox import Outbox, Subscriptions
from bot.notices.status import BANGKOK
from handlers.app import Core, build_core
from handlers.settings import Settings
from handlers.web.server import FLOW, RunningServer, create_app
from tests.fakes import FakeLine, FakeTelegram
from tests.test_serve import free_port

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("ELAAS_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

ADMIN = "line:Uadmin0000000000000000000000000001"
PROV = "line:Uprov00000000000000000000000000002"
LAO_ADMIN = "telegram:7001"
LAMPHUN_HTML = "อบต.ริมปิง <script>alert(1)</script>"
CM_NAME = "อบต.แม่ริมลับเฉพาะ"
SHOTS = Path(os.environ.get("ELAAS_SHOTS", "/tmp/elaas-console-shots"))


@dataclass
class Served:
    """The running app, its fakes and a way to run coroutines on its loop."""

    core: Core
    base: str
    line: FakeLine
    tg: FakeTelegram
    loop: asyncio.AbstractEventLoop
    server: RunningServer

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def on_engine(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.run(self.server.app[FLOW].call(fn, *args))

    def link(self, user: str, clock: Callable[[], float] = time.time) -> str:
        token = LoginLinks(self.core.settings.resolved_file_secret(), clock=clock).mint(user)
        return f"{self.base}/console/login/{token}"


def _seed(core: Core) -> None:
    d = core.book.directory
    now = datetime.now(BANGKOK)
    d.add_lao(Lao("05510101", LAMPHUN_HTML, "ลำพูน"))
    d.add_lao(Lao("05510102", "=HYPERLINK(\"http://x\")", "จังหวัดลำพูน"))
    d.add_lao(Lao("05010101", CM_NAME, "เชียงใหม่"))
    for code, n in (("05510101", 5), ("05510102", 2), ("05010101", 7)):
        items = [(ParsedEntry("receipt", Decimal(100 + i), "ค่าขยะ",
                              (now - timedelta(days=i % 3)).date()), f"{code}-{i}")
                 for i in range(n)]
        core.book.ledger(code).add_many(items, author="x", author_name="x", channel="line",
                                        now=now)
    core.book.ledger("05510101").mark_keyed([1, 2], by="x", now=now)
    Operators(core.store).add(PROV, ["ลำพูน"], by="cli", now=now)
    subs = Subscriptions(core.store)
    for key, province in (("line:Ulp1", "ลำพูน"), ("telegram:5001", "ลำพูน"),
                          ("line:Ucm1", "เชียงใหม่"), ("telegram:6001", "เชียงใหม่"),
                          ("line:Uall", None), ("telegram:5002", None),
                          ("telegram:6002", None)):
        subs.subscribe(UserKey.parse(key), now, province)
    d.bind("telegram:5002", "05510102", "member", "ก", now)  # a Lamphun LAO member
    d.bind(LAO_ADMIN, "05510102", "admin", "ผู้ดูแล", now)
    d.bind("telegram:6002", "05010101", "member", "ข", now)  # a Chiang Mai LAO member
    core.store.table("kb/gaps").put("ภาษี ป้าย ยื่น ที่ไหน", {
        "text": "ภาษี ป้าย ยื่น ที่ไหน", "count": 4, "last": "2024-07-15"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("console")
    loop = asyncio.new_event_loop()
    ready: Future[Served] = Future()
    stop = threading.Event()

    async def main() -> None:
        line, tg = FakeLine(), FakeTelegram()
        await line.start()
        await tg.start()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            data_dir=tmp / "data", line_channel_secret="linesecret",
            line_channel_access_token="line-token", line_api_base=line.base_url,
            telegram_bot_token="123:TOKEN", telegram_api_base=tg.base_url + "/bot",
            public_base_url=base, admins=frozenset({UserKey.parse(ADMIN)}))
        core = build_core(settings)
        _seed(core)
        server = RunningServer(create_app(core, poll_interval=0.05))
        await server.start("127.0.0.1", port)
        ready.set_result(Served(core, base, line, tg, loop, server))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await server.stop()
        core.store.close()
        await line.stop()
        await tg.stop()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # a server that cannot start fails the tests at once
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield ready.result(60)
    stop.set()
    thread.join(30)
    loop.close()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _login(browser: Any, served: Served, user: str, width: int = 1000) -> Any:
    ctx = browser.new_context(viewport={"width": width, "height": 812}, locale="th-TH")
    page = ctx.new_page()
    page.goto(served.link(user))
    page.get_by_role("button", name="เข้าสู่คอนโซล").click()
    page.wait_for_url(re.compile(r"/console$"))
    return page


def _csrf(page: Any) -> str:
    return str(page.locator('input[name="csrf"]').first.get_attribute("value"))


# ---------------------------------------------------------------------------- login


def test_login_by_one_time_link_then_used_expired_forged_refused(browser: Any,
                                                                 served: Served) -> None:
    # The provincial operator asks for the link in a 1:1 chat, as in real life.
    replies = served.on_engine(served.core.engine.reply_to, Incoming(
        "line", PROV.split(":")[1], PROV.split(":")[1], text="/console", event_id="c1"))
    url = re.search(r"https?://\S+/console/login/\S+", replies[0].text)
    assert url is not None
    ctx = browser.new_context()
    page = ctx.new_page()
    assert page.goto(url.group(0)).status == 200  # a preview bot fetching it does not use it
    page.get_by_role("button", name="เข้าสู่คอนโซล").click()
    page.wait_for_url(re.compile(r"/console$"))
    assert "ผู้ดูแลระดับจังหวัด" in page.inner_text("header")
    cookie = next(c for c in ctx.cookies() if c["name"] == "elaas_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]

    other = browser.new_context().new_page()
    again = other.goto(url.group(0))
    assert again.status == 410 and "ถูกใช้ไปแล้ว" in other.inner_text("main")
    expired = other.goto(served.link(PROV, clock=lambda: time.time() - 700))
    assert expired.status == 410 and "หมดอายุ" in other.inner_text("main")
    token = url.group(0).rsplit("/", 1)[1]
    forged = other.goto(f"{served.base}/console/login/{token[:-3]}abc")
    assert forged.status == 403 and "ไม่ถูกต้อง" in other.inner_text("main")
    nobody = other.goto(served.link("line:Unobody"))
    assert nobody.status == 200
    other.get_by_role("button", name="เข้าสู่คอนโซล").click()
    assert "ไม่มีสิทธิ์" in other.inner_text("main")

    # Logout ends the session on the server: the old cookie replayed elsewhere is refused.
    page.get_by_role("button", name="ออกจากระบบ").click()
    page.wait_for_url(re.compile(r"/console$"))
    assert "ยังไม่ได้เข้าสู่ระบบ" in page.inner_text("main")
    replay = browser.new_context()
    replay.add_cookies([cookie])
    rp = replay.new_page()
    resp = rp.goto(f"{served.base}/console/progress")
    assert resp.status == 401 and "ยังไม่ได้เข้าสู่ระบบ" in rp.inner_text("main")
    forged_cookie = {**cookie, "value": cookie["value"][:-2] + "xx"}
    fc = browser.new_context()
    fc.add_cookies([forged_cookie])
    assert fc.new_page().goto(f"{served.base}/console/progress").status == 401
    for c in (ctx, replay, fc, other.context):
        c.close()


# ---------------------------------------------------------------------------- scope


def test_lamphun_operator_sees_and_acts_only_on_lamphun(browser: Any, served: Served) -> None:
    page = _login(browser, served, PROV)
    page.goto(f"{served.base}/console/progress")
    text = page.inner_text("main")
    assert "05510101" in text and "05510102" in text
    assert "05010101" not in text and CM_NAME not in text
    assert LAMPHUN_HTML in text  # shown as text, escaped in the HTML
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content()
    assert page.locator("svg rect").count() > 0
    csrf = _csrf(page)

    # Forged URLs.
    for path in ("/console/progress?province=เชียงใหม่", "/console/laos/05010101",
                 "/console/progress.csv?province=เชียงใหม่", "/console/laos?province=เชียงใหม่",
                 "/console/gaps", "/console/operators"):
        resp = page.goto(served.base + path)
        assert resp.status in (403, 404), path
        assert CM_NAME not in page.content() and "ไม่" in page.inner_text("main"), path
    csv = page.request.get(f"{served.base}/console/progress.csv")
    assert csv.status == 200 and "05510101" in csv.text() and "05010101" not in csv.text()

    # Forged POST bodies, each with a valid CSRF token: refused, nothing written.
    outbox_before = len(served.on_engine(Outbox(served.core.store).entries))
    forged = [
        ("/console/laos/05010101/invite", {"role": "admin"}),
        ("/console/laos/05010101/revoke", {"ref": "0" * 20}),
        ("/console/laos/add", {"code": "05010101", "name": "ยึด", "province": "ลำพูน"}),
        ("/console/laos/add", {"code": "05019999", "name": "ใหม่", "province": "เชียงใหม่"}),
        ("/console/notices/send", {"kind": "announce", "province": "เชียงใหม่",
                                   "message": "x", "key": "20240715T103000-1a2b3c4d"}),
        ("/console/notices/send", {"kind": "announce", "province": "", "message": "x",
                                   "key": "20240715T103000-1a2b3c4d"}),
        ("/console/notices/send", {"kind": "status", "state": "normal", "province": "ลำพูน",
                                   "message": "x", "key": "20240715T103000-1a2b3c4d"}),
        ("/console/gaps/propose", {"topic": "status.current", "phrasing": "x"}),
        ("/console/operators/add", {"user": "line:Uevil", "province": "เชียงใหม่"}),
    ]
    for path, body in forged:
        resp = page.request.post(served.base + path, form={**body, "csrf": csrf})
        assert resp.status == 403, (path, body, resp.status)
        assert "ไม่" in resp.text()
    d = served.core.book.directory
    assert served.on_engine(d.invites, "05010101", datetime.now(BANGKOK)) == []
    assert served.on_engine(d.lao, "05010101").name == CM_NAME
    assert served.on_engine(d.lao, "05019999") is None
    assert len(served.on_engine(Outbox(served.core.store).entries)) == outbox_before
    assert served.on_engine(Operators(served.core.store).get, "line:Uevil") is None
    # An existing code in scope is not renamed in passing either.
    again = page.request.post(f"{served.base}/console/laos/add", form={
        "code": "05510101", "name": "อบต.ซ้ำ", "province": "ลำพูน", "csrf": csrf})
    assert again.status == 409 and "มี อปท. รหัส 05510101 แล้ว" in again.text()
    assert served.on_engine(d.lao, "05510101").name != "อบต.ซ้ำ"

    # No CSRF token, a wrong one, a huge form: refused with a Thai message.
    for form in ({"role": "member"}, {"role": "member", "csrf": _tampered(csrf)}):
        resp = page.request.post(f"{served.base}/console/laos/05510101/invite", form=form)
        assert resp.status == 403 and "แบบฟอร์มนี้หมดอายุ" in resp.text()
    huge = page.request.post(f"{served.base}/console/notices/preview",
                             form={"csrf": csrf, "message": "ก" * 100_000})
    assert huge.status == 413 and "ใหญ่เกินไป" in huge.text()

    # What is in scope works: a join code shown once, then revoked.
    page.goto(f"{served.base}/console/laos/05510101")
    page.get_by_role("button", name=re.compile("ออกรหัสเข้าร่วม")).click()
    code = page.locator(".code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{8}", code)
    page.goto(f"{served.base}/console/laos/05510101")
    assert code not in page.content() and "••••••" + code[-2:] in page.inner_text("main")
    page.get_by_role("button", name="ยกเลิกรหัส").click()
    assert "ยกเลิกรหัสแล้ว" in page.inner_text("main")
    assert served.on_engine(d.invites, "05510101", datetime.now(BANGKOK)) == []
    page.context.close()


def test_lao_admin_sees_only_their_own_lao(browser: Any, served: Served) -> None:
    page = _login(browser, served, LAO_ADMIN)
    assert "ผู้ดูแล อปท." in page.inner_text("header")
    page.goto(f"{served.base}/console/progress")
    text = page.inner_text("main")
    assert "05510102" in text and "05510101" not in text and "05010101" not in text
    csrf = _csrf(page)
    for path in ("/console/notices", "/console/subscribers", "/console/laos/05510101"):
        assert page.goto(served.base + path).status == 403, path
    admin_code = page.request.post(f"{served.base}/console/laos/05510102/invite",
                                   form={"role": "admin", "csrf": csrf})
    assert admin_code.status == 403
    member_code = page.request.post(f"{served.base}/console/laos/05510102/invite",
                                    form={"role": "member", "csrf": csrf})
    assert member_code.status == 200 and "เข้าร่วม" in member_code.text()
    page.context.close()


# ---------------------------------------------------------------------------- notices


def test_province_notice_reaches_only_that_province(browser: Any, served: Served) -> None:
    page = _login(browser, served, PROV)
    page.goto(f"{served.base}/console/notices")
    page.select_option("#province", "ลำพูน")
    page.fill("#message", "<b>ประชุม</b> ด่วน พรุ่งนี้ 9 โมง")
    page.get_by_role("button", name="ดูตัวอย่างก่อนส่ง").click()
    preview = page.locator(".preview").inner_text()
    assert "<b>ประชุม</b>" in preview and preview.startswith("ประกาศจาก สถจ.ลำพูน")
    assert "ส่งถึงผู้รับแจ้งเตือน 3 ราย" in page.inner_text("main")
    page.get_by_role("button", name="ยืนยันส่ง").click()
    page.wait_for_url(re.compile(r"/console/notices/n-"))
    # The page's own script polls the progress and updates the counts in place.
    sync_api.expect(page.locator("#c-status_th")).to_have_text("ส่งครบแล้ว", timeout=20_000)
    assert page.inner_text("#c-delivered") == "3"
    line_to = {u for u in served.line.multicast_recipients()}
    tg_to = set(served.tg.delivered_chats())
    assert line_to == {"Ulp1"}
    assert tg_to == {"5001", "5002"}
    sent = served.tg.sent_texts(5001)
    assert any(t.startswith("ประกาศจาก สถจ.ลำพูน\n") and "<b>ประชุม</b> ด่วน" in t for t in sent)
    page.goto(f"{served.base}/console/notices")
    assert "ส่งครบแล้ว" in page.inner_text("main")
    page.context.close()


# ---------------------------------------------------------------------------- national, phone


def test_national_admin_pages_at_phone_width(browser: Any, served: Served) -> None:
    page = _login(browser, served, ADMIN, width=375)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (("home", "/console"), ("progress", "/console/progress"),
                       ("notices", "/console/notices"), ("laos", "/console/laos"),
                       ("lao", "/console/laos/05510101"), ("gaps", "/console/gaps"),
                       ("subscribers", "/console/subscribers"),
                       ("operators", "/console/operators")):
        resp = page.goto(served.base + path)
        assert resp.status == 200, path
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (path, width)
        page.evaluate("document.fonts.ready.then(() => document.fonts.size)")
        page.screenshot(path=str(SHOTS / f"{name}-375.png"), full_page=True)
    # National sees every province; the totals table names both.
    page.goto(f"{served.base}/console/progress")
    assert CM_NAME in page.inner_text("main") and "เชียงใหม่" in page.inner_text("main")
    # The XLSX download keeps a formula-like LAO name as text, as typed (a string cell).
    xlsx = page.request.get(f"{served.base}/console/progress.xlsx?province=ลำพูน")
    assert xlsx.status == 200
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.body())).active
    cells = {r[1].value: r[1] for r in ws.iter_rows(min_row=2)}
    assert cells["=HYPERLINK(\"http://x\")"].data_type == "s" and CM_NAME not in cells
    # Subscribers per channel and province.
    page.goto(f"{served.base}/console/subscribers")
    assert "รับแจ้งเตือนอยู่ 7 ราย" in page.inner_text("main")
    # A proposed phrasing is checked, written to the overlay and answered at once.
    page.goto(f"{served.base}/console/gaps")
    row = page.locator("form[action='/console/gaps/propose']").first
    row.locator("select").select_option("guide.receive")
    row.locator("input[name=phrasing]").fill("ยื่นภาษีป้ายที่ไหนคะ")
    row.get_by_role("button").click()
    text = page.inner_text("main")
    overlay = served.core.settings.data_dir / "knowledge-overlay.yaml"
    if "เพิ่มวิธีถามแล้ว" in text:
        assert "ยื่นภาษีป้ายที่ไหนคะ" in overlay.read_text("utf-8")
        assert "ภาษี ป้าย" not in page.inner_text("main")  # marked handled
    else:  # the check refused it (it matches another topic better): nothing written
        assert "เพิ่มไม่ได้" in text and not overlay.exists()
    page.context.close()


def _tampered(token: str) -> str:
    """The token with its last character changed (``token[:-1] + "x"`` is the same token when
    it already ends in "x": one run in 64 failed so)."""
    return token[:-1] + ("y" if token.endswith("x") else "x")
