"""Console pages over real HTTP on 127.0.0.1 (no browser): the menu per role, the progress
downloads."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openpyxl
import pytest

from bot.core.contract import UserKey
from bot.ledger.summary import LaoSummary
from bot.notices.console_auth import LoginLinks
from bot.notices.operators import Operators
from handlers.app import Core
from handlers.settings import Settings
from handlers.web.console import install_console
from handlers.web.progress import to_csv, to_xlsx
from handlers.web.server import RunningServer, build_web_app
from tests.conftest import FIXED_NOW, make_lao_admin

NATIONAL = "line:Unational"
PROVINCIAL = "line:Uprovince"
LAO_ADMIN = "telegram:7001"
MENU = ("/console/notices", "/console/progress", "/console/laos", "/console/gaps",
        "/console/subscribers", "/console/operators")


@pytest.fixture
async def served(core: Core, tmp_path: Path) -> AsyncIterator[tuple[Core, str]]:
    settings = Settings(data_dir=tmp_path / "data", file_secret="s" * 32,
                        admins=frozenset({UserKey.parse(NATIONAL)}))
    core = dataclasses.replace(core, settings=settings)
    Operators(core.store).add(PROVINCIAL, ["ลำพูน"], by="t", now=FIXED_NOW)
    make_lao_admin(core, LAO_ADMIN, "05510101")
    server = RunningServer(build_web_app(core, line=None, telegram=None,
                                         extensions=[install_console]))
    await server.start()
    try:
        yield core, server.base_url
    finally:
        await server.stop()


async def _menu_and_status(core: Core, base: str, user: str) -> tuple[set[str], dict[str, int]]:
    """The console links ``user`` is shown, and the status each menu page answers them."""
    token = LoginLinks(core.settings.resolved_file_secret()).mint(user)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/console/login", data={"token": token}) as resp:
            home = await resp.text()
        shown = set(re.findall(r'href="(/console/[a-z]+)"', home))
        status = {}
        for url in MENU:
            async with http.get(base + url, allow_redirects=False) as resp:
                status[url] = resp.status
    return shown, status


@pytest.mark.parametrize("user", [NATIONAL, PROVINCIAL, LAO_ADMIN])
async def test_the_menu_shows_only_pages_the_role_may_open(served: tuple[Core, str],
                                                           user: str) -> None:
    # qa11 item 15: a provincial operator saw the gaps link, an LAO admin notices and
    # subscribers, and each got a 403 page.
    core, base = served
    shown, status = await _menu_and_status(core, base, user)
    assert shown == {url for url, code in status.items() if code == 200}
    assert shown and all(code in (200, 403) for code in status.values())


def test_progress_xlsx_keeps_text_as_typed_and_csv_neutralises_formulas() -> None:
    # qa11 item 15: progress.xlsx showed a literal '- (never used) and '=1+2 (a name).
    rows = [LaoSummary("05510101", "=1+2", "ลำพูน"), LaoSummary("05510102", "-ลบ", "ลำพูน")]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows))).active
    assert sheet is not None
    cells = {(r, c): sheet.cell(r, c) for r in (2, 3) for c in (2, 9)}
    assert [cells[2, 2].value, cells[3, 2].value] == ["=1+2", "-ลบ"]
    assert cells[2, 9].value == "-" and cells[3, 9].value == "-"
    assert all(c.data_type == "s" for c in cells.values())  # text, never a formula
    csv = to_csv(rows).decode("utf-8")
    assert "'=1+2" in csv and "'-ลบ" in csv  # a CSV cannot say "text": the apostrophe stays



@pytest.mark.parametrize("code, name", [("0551-01", "อบต.รหัสผิด"), ("05510177", "ก" * 121)])
async def test_the_console_adds_an_lao_by_the_rule_the_cli_and_spool_use(
        served: tuple[Core, str], code: str, name: str) -> None:
    """The console's LAO form is checked by ``checked_lao``: the same Thai reason as
    ``elaas-bot lao add`` and a spooled ``lao_add``, and nothing written."""
    from html import unescape

    from bot.ledger.book import Directory, LedgerError
    from bot.ledger.directory import checked_lao

    core, base = served
    with pytest.raises(LedgerError) as rule:
        checked_lao(code, name, "ลำพูน")
    token = LoginLinks(core.settings.resolved_file_secret()).mint(NATIONAL)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/console/login", data={"token": token}) as resp:
            assert resp.status == 200
        async with http.get(f"{base}/console/laos") as resp:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
        assert csrf
        form = {"csrf": csrf.group(1), "code": code, "name": name, "province": "ลำพูน"}
        async with http.post(f"{base}/console/laos/add", data=form,
                             allow_redirects=False) as resp:
            assert resp.status == 400
            assert str(rule.value) in unescape(await resp.text())
    assert Directory(core.store).lao(code) is None


@pytest.mark.parametrize("user, signed", [
    (PROVINCIAL, "ประกาศจาก สถจ.ลำพูน\n"),
    (NATIONAL, "ประกาศจากผู้ดูแลระบบ (เฉพาะจังหวัดลำพูน)\n"),
])
async def test_a_notice_is_signed_by_who_sends_it_in_preview_and_delivery(
        served: tuple[Core, str], user: str, signed: str) -> None:
    """QA r3: a provincial operator's announcement was signed "ประกาศจากผู้ดูแลระบบ"; it comes
    from the provincial office (สถจ.), the same words in the preview and in what is sent."""
    from html import unescape

    from bot.notices.outbox import Outbox

    core, base = served
    token = LoginLinks(core.settings.resolved_file_secret()).mint(user)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/console/login", data={"token": token}) as resp:
            assert resp.status == 200
        async with http.get(f"{base}/console/notices") as resp:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
        assert csrf
        form = {"csrf": csrf.group(1), "kind": "announce", "province": "ลำพูน",
                "message": "ขอให้ส่งรายงานเงินคงเหลือภายในวันศุกร์"}
        async with http.post(f"{base}/console/notices/preview", data=form) as resp:
            assert resp.status == 200
            page = await resp.text()
        preview = re.search(r'<div class="preview">(.*?)</div>', page, re.S)
        key = re.search(r'name="key" value="([^"]+)"', page)
        assert preview and key
        async with http.post(f"{base}/console/notices/send", data={**form, "key": key[1]},
                             allow_redirects=False) as resp:
            assert resp.status == 303
    (notice, _), = Outbox(core.store).entries()
    # the same text, but for the minute of posting (preview and send each read the clock)
    assert unescape(preview[1]).splitlines()[:-1] == notice.text.splitlines()[:-1]
    assert notice.text.startswith(signed)
