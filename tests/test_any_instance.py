"""Two serve-like instances on one PostgreSQL store: whichever one the proxy picks answers alike.

Each instance is a whole core (its own PgStore pool, engine, follow-up memory, console state)
and a real aiohttp app on 127.0.0.1, as two ``serve`` processes behind nginx would be.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.core.contract import FileBlob, Incoming, UserKey
from bot.core.pgstore import PgStore
from bot.core.store import MemoryStore, StoreError
from bot.ledger.entries import Lao, ParsedEntry
from bot.ledger.summary import Summaries
from bot.notices.console_auth import LoginLinks
from bot.notices.mirror import SHARED_TTL
from bot.notices.signals import FieldReports
from bot.notices.status import BANGKOK
from bot.qa.followup import StoreTopicMemory, TopicMemory, topic_memory
from bot.qa.overlay import OVERLAY_TABLE
from handlers.app import Core, build_core
from handlers.appkeys import CORE, FLOW, VAULT
from handlers.inbox import MemoryInbox
from handlers.ratelimit import RateLimiter
from handlers.settings import Settings
from handlers.web.console import OVERLAY_CHECK_SECONDS, install_console
from handlers.web.files import LinkGone, PgFileVault, vault_for
from handlers.web.server import RunningServer, create_app
from handlers.web.status_page import add_status_routes
from tests.fakes import FakeLine, line_signature, wait_for

SECRET = "line-secret-any"
FILE_SECRET = "f" * 64
USER = "U4af4980629e3c2b1a0f9e8d7c6b5a4f3"  # the user of tests/data/line/export.json
DATA = Path(__file__).parent / "data" / "line"
ADMIN = "line:Uadmin0000000000000000000000000009"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def install_status(app: web.Application) -> None:
    """The status routes exactly as ``install_notices`` adds them (without its sender)."""
    core = app[CORE]
    add_status_routes(app, core.status, core.settings.public_base_url, call=app[FLOW].call)


@dataclasses.dataclass
class Instance:
    core: Core
    server: RunningServer

    @property
    def base(self) -> str:
        return self.server.base_url


async def start_instance(url: str, data_dir: Path, fake: FakeLine) -> Instance:
    settings = Settings(data_dir=data_dir, line_channel_secret=SECRET,
                        line_channel_access_token="T", line_api_base=fake.base_url,
                        database_url=url, file_secret=FILE_SECRET,
                        admins=frozenset({UserKey.parse(ADMIN)}))
    core = build_core(settings, store=PgStore(url, max_size=4))
    app = create_app(core, extensions=[install_status, install_console], inbox=MemoryInbox())
    app[FLOW].limiter = RateLimiter(capacity=10_000)
    server = RunningServer(app)
    await server.start("127.0.0.1", 0)
    return Instance(core, server)


@pytest.fixture
async def pair(pg_url: str, tmp_path: Path, fake_line: FakeLine
               ) -> AsyncIterator[tuple[Instance, Instance]]:
    """Instances A and B: one database, separate data dirs (as on two machines)."""
    a = await start_instance(pg_url, tmp_path / "a", fake_line)
    b = await start_instance(pg_url, tmp_path / "b", fake_line)
    yield a, b
    for i in (a, b):
        await i.server.stop()
        i.core.store.close()


def line_body(text: str, event_id: str, reply_token: str) -> bytes:
    body: dict[str, Any] = json.loads((DATA / "export.json").read_text(encoding="utf-8"))
    ev = body["events"][0]
    ev.update(timestamp=int(time.time() * 1000), webhookEventId=event_id,
              replyToken=reply_token)
    ev["message"]["text"] = text
    return json.dumps(body, ensure_ascii=False).encode()


async def post_line(http: aiohttp.ClientSession, inst: Instance, raw: bytes) -> int:
    async with http.post(f"{inst.base}/line/webhook", data=raw, headers={
            "Content-Type": "application/json",
            "x-line-signature": line_signature(SECRET, raw)}) as resp:
        return resp.status


def seed_ledger(core: Core, user: str, code: str = "05510101") -> None:
    d = core.book.directory
    d.add_lao(Lao(code, "อบต.ทดลองสองเครื่อง", "ลำพูน"))
    now = datetime.now(BANGKOK)
    d.bind(user, code, "admin", "สมศรี", now)
    core.book.ledger(code).add_many(
        [(ParsedEntry("receipt", Decimal("1500"), "ค่าขยะ", now.date()), "seed-1")],
        author=user, author_name="สมศรี", channel="line", now=now)


# --------------------------------------------------------------------------- file links


async def test_export_link_made_on_a_downloads_on_b(pair: tuple[Instance, Instance],
                                                    fake_line: FakeLine) -> None:
    a, b = pair
    assert isinstance(a.server.app[VAULT], PgFileVault)
    seed_ledger(a.core, f"line:{USER}")
    async with aiohttp.ClientSession() as http:
        assert await post_line(http, a, line_body("ส่งออก", "01EXPORTONA0000000000000001",
                                                  "rt-export-a")) == 200
        call = (await wait_for(lambda: [c for c in fake_line.calls_to("/v2/bot/message/reply")
                                        if c.body.get("replyToken") == "rt-export-a"],
                               timeout=20))[0]
        text = "\n".join(m.get("text", "") for m in call.body["messages"])
        found = re.search(r"/files/(\S+)", text)
        assert found is not None, text
        token = found.group(1)
        async with http.get(f"{b.base}/files/{token}") as resp:  # the proxy picked B
            assert resp.status == 200
            data = await resp.read()
            assert data[:2] == b"PK" and resp.headers["Content-Type"] == XLSX
            assert ".xlsx" in resp.headers["Content-Disposition"]
        async with http.get(f"{b.base}/files/{token[:-3]}AAA") as resp:
            assert resp.status == 403
        b.server.app[VAULT].clock = lambda: time.time() + 3601
        async with http.get(f"{b.base}/files/{token}") as resp:
            assert resp.status == 410 and "หมดอายุ" in await resp.text()


def test_per_user_quota_and_expiry_hold_across_instances(pg_url: str) -> None:
    stores = [PgStore(pg_url, max_size=2) for _ in range(2)]
    now = [1_720_000_000.0]
    try:
        va, vb = (PgFileVault(s, FILE_SECRET.encode(), "https://bot.example",
                              clock=lambda: now[0]) for s in stores)
        tokens = [(va if i % 2 else vb).put(FileBlob(b"x%d" % i, f"{i}.csv", "text/csv"),
                                            owner="line:Uquota")
                  for i in range(6)]
        with pytest.raises(LinkGone):  # the sixth link, made on A, dropped B's first
            va.open(tokens[0])
        assert [vb.open(t).data for t in tokens[1:]] == [b"x%d" % i for i in range(1, 6)]
        other = va.put(FileBlob(b"other", "o.csv", "text/csv"), owner="line:Uother")
        assert vb.open(other).data == b"other"  # someone else's quota is untouched
        now[0] += 3601
        va.put(FileBlob(b"new", "n.csv", "text/csv"), ttl=60)  # expired rows go on a write
        with stores[0].cursor() as conn:
            row = conn.execute("SELECT count(*) FROM elaas_files").fetchone()
        assert row is not None and row[0] == 1
    finally:
        for s in stores:
            s.close()


def test_byte_budget_drops_the_oldest(pg_url: str) -> None:
    store = PgStore(pg_url, max_size=2)
    try:
        vault = PgFileVault(store, FILE_SECRET.encode(), "https://bot.example", max_bytes=100)
        first = vault.put(FileBlob(b"a" * 60, "a.bin", "application/octet-stream"))
        second = vault.put(FileBlob(b"b" * 60, "b.bin", "application/octet-stream"))
        with pytest.raises(LinkGone):
            vault.open(first)
        assert vault.open(second).data == b"b" * 60 and len(vault) == 1
    finally:
        store.close()


async def test_database_down_answers_503_not_gone(pg_url: str) -> None:
    store = PgStore(pg_url, max_size=2)
    vault = PgFileVault(store, FILE_SECRET.encode(), "https://bot.example")
    token = vault.put(FileBlob(b"kept", "k.txt", "text/plain"))
    store.close()  # the pool is gone: every query fails like a database that went away
    app = web.Application()
    app.router.add_get("/files/{token}", vault.handle)
    server = RunningServer(app)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"{server.base_url}/files/{token}") as resp:
            assert resp.status == 503
            assert "ชั่วคราว" in await resp.text()
    finally:
        await server.stop()


def test_embedded_mode_keeps_files_in_memory(tmp_path: Path) -> None:
    vault = vault_for(Settings(data_dir=tmp_path), MemoryStore())
    assert not isinstance(vault, PgFileVault)


def test_database_mode_needs_one_shared_file_secret(tmp_path: Path, pg_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg_url)
    with pytest.raises(ValueError, match="ELAAS_FILE_SECRET must be set"):
        settings.resolved_file_secret()
    assert not (tmp_path / ".file_secret").exists()  # no per-machine key was made


def test_console_link_cli_names_the_missing_secret(pg_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from handlers.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ELAAS_DATABASE_URL", pg_url)
    monkeypatch.setenv("ELAAS_ADMINS", ADMIN)
    monkeypatch.delenv("ELAAS_FILE_SECRET", raising=False)
    assert main(["console", "link", ADMIN]) == 2
    err = capsys.readouterr().err
    assert "ELAAS_FILE_SECRET must be set" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("ELAAS_FILE_SECRET", FILE_SECRET)
    assert main(["console", "link", ADMIN]) == 0
    assert "/console/login/" in capsys.readouterr().out


# --------------------------------------------------------------------------- follow-ups


def ask(core: Core, text: str, user: str, n: int) -> str | None:
    replies = core.engine.reply_to(Incoming("line", user, user, text=text, event_id=f"e{n}"))
    return replies[0].topic


def test_followup_answered_on_a_is_understood_on_b(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    assert isinstance(a.core.engine.memory, StoreTopicMemory)
    assert ask(a.core, "จ่ายเงินช่วงระบบล่มทำยังไง", "Ufollow1", 1) == "guide.pay"
    assert ask(b.core, "แล้วเงินเดือนล่ะ", "Ufollow1", 2) == "guide.payroll"
    assert ask(a.core, "จ่ายเงินช่วงระบบล่มทำยังไง", "Ufollow2", 3) == "guide.pay"
    assert ask(b.core, "แล้วถ้าเป็นเช็คล่ะ", "Ufollow2", 4) == "guide.pay"
    # Control: without a recent answer the same words match no topic, so the answer above
    # came from A's memory of Ufollow2.
    assert ask(b.core, "แล้วถ้าเป็นเช็คล่ะ", "Ufresh", 5) is None
    assert ask(a.core, "จ่ายเงินช่วงระบบล่มทำยังไง", "Ufollow3", 6) == "guide.pay"
    forms = b.core.engine.reply_to(Incoming("line", "Ufollow3", "Ufollow3",
                                            text="ขอแบบฟอร์มด้วย", event_id="e7"))[0]
    assert "form:cash-payments-book" in [c.action for c in forms.choices]


def test_store_memory_forgets_after_ttl(pg_url: str) -> None:
    store = PgStore(pg_url, max_size=2)
    try:
        memory = topic_memory(store)
        assert isinstance(memory, StoreTopicMemory)
        t0 = datetime(2024, 7, 15, 10, 0, tzinfo=BANGKOK)
        memory.remember("line:U1", "guide.pay", t0)
        assert StoreTopicMemory(store).recall("line:U1", t0 + timedelta(minutes=4)) == \
            "guide.pay"
        assert memory.recall("line:U1", t0 + timedelta(minutes=6)) is None
        memory.forget("line:U1")
        assert memory.recall("line:U1", t0) is None
    finally:
        store.close()
    assert isinstance(topic_memory(MemoryStore()), TopicMemory)  # one process: in memory


def test_followup_store_failure_still_answers(pg_url: str) -> None:
    store = PgStore(pg_url, max_size=2)
    memory = StoreTopicMemory(store)
    store.close()
    now = datetime.now(BANGKOK)
    memory.remember("line:U1", "guide.pay", now)  # logged, not raised
    assert memory.recall("line:U1", now) is None
    with pytest.raises(StoreError):
        memory.forget("line:U1")


# --------------------------------------------------------------------------- status page


async def test_status_page_on_b_shows_what_was_posted_on_a(
        pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{b.base}/status.json") as resp:
            before = await resp.json()
        a.core.status.post(state="normal", message="e-LAAS ใช้งานได้ตามปกติแล้ว (ทดสอบสองเครื่อง)",
                           by="cli")
        a.core.book.directory.add_lao(Lao("05510199", "อบต.โหวต", "ลำพูน"))
        a.core.book.directory.bind("line:Uvote1", "05510199", "member", "ก",
                                   datetime.now(BANGKOK))
        FieldReports(a.core.store).vote("line:Uvote1", True, "ลำพูน", datetime.now(BANGKOK))
        # B checks its copy of the status tables at most every SHARED_TTL seconds.
        deadline = time.monotonic() + SHARED_TTL + 2.0
        while True:
            async with http.get(f"{b.base}/status.json") as resp:
                after = await resp.json()
            async with http.get(f"{b.base}/status") as resp:
                page = await resp.text()
            seen = after["current"]["state"] == "normal" and "เข้าได้ 1" in page
            if seen or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        async with http.get(f"{b.base}/status.atom") as resp:
            feed = await resp.text()
    assert before["current"]["state"] != "normal" or before["timeline"] != after["timeline"]
    assert after["current"]["state"] == "normal"
    assert after["current"]["message"] == "e-LAAS ใช้งานได้ตามปกติแล้ว (ทดสอบสองเครื่อง)"
    assert len(after["timeline"]) == len(before["timeline"]) + 1
    assert "ทดสอบสองเครื่อง" in page and "ทดสอบสองเครื่อง" in feed
    assert "เข้าได้ 1" in page


# --------------------------------------------------------------------------- console


def login_token(inst: Instance, user: str = ADMIN) -> str:
    return LoginLinks(inst.core.settings.resolved_file_secret()).mint(user)


async def test_console_login_on_a_holds_on_b_and_a_link_works_once(
        pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    token = login_token(a)  # minted before B started counts: B did not "forget" it
    jar_a, jar_b = aiohttp.CookieJar(unsafe=True), aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar_a) as http:
        async with http.get(f"{b.base}/console/login/{token}") as resp:
            assert resp.status == 200  # a preview on B does not use it up
        async with http.post(f"{a.base}/console/login", data={"token": token},
                             allow_redirects=False) as resp:
            assert resp.status == 303
        cookie = next(c for c in jar_a if c.key == "elaas_console").value
        async with http.post(f"{b.base}/console/login", data={"token": token},
                             allow_redirects=False) as resp:
            assert resp.status == 410  # used on A, refused on B
    async with aiohttp.ClientSession(cookie_jar=jar_b,
                                     cookies={"elaas_console": cookie}) as http:
        async with http.get(f"{b.base}/console/laos") as resp:
            assert resp.status == 200  # signed in on A, known on B
            page = await resp.text()
            assert "/console/logout" in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        async with http.post(f"{b.base}/console/logout", data={"csrf": csrf.group(1)},
                             allow_redirects=False) as resp:
            assert resp.status == 303
    async with aiohttp.ClientSession(cookies={"elaas_console": cookie}) as http, \
            http.get(f"{a.base}/console/laos") as resp:
        assert resp.status == 401  # signed out on B means signed out on A


def test_summaries_count_writes_from_both_instances(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    code = "05510177"
    sa, sb = Summaries.of(a.core.store), Summaries.of(b.core.store)
    assert not [x for s in (sa, sb) for x in s.all() if x.code == code]  # both caught up once
    a.core.book.directory.add_lao(Lao(code, "อบต.สรุป", "ลำพูน"))
    now = datetime.now(BANGKOK)
    for n, core in enumerate((a.core, b.core, a.core)):
        core.book.ledger(code).add_many(
            [(ParsedEntry("payment", Decimal("10"), "ค่าน้ำมัน", now.date()), f"sum-{n}")],
            author="line:Ux", author_name="x", channel="line", now=now)
    b.core.book.ledger(code).mark_keyed([1], by="x", now=now)
    for s in (sa, sb):
        got = s.get(code)
        assert (got.logged, got.keyed, got.name) == (3, 1, "อบต.สรุป")
        assert any(x.code == code and x.logged == 3 for x in s.all())



# --------------------------------------------------------------------------- knowledge overlay


async def test_phrasing_proposed_on_a_is_answered_on_b(pair: tuple[Instance, Instance],
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str],
                                                       ) -> None:
    """The console's phrasings live in the database, so every instance answers with them (the
    file overlay, one per data dir, reached only the instance the operator happened to use)."""
    a, b = pair
    question = "ฟลามิงโก้สีชมพูโทรหาใคร"  # no topic answers it before the phrasing is added
    assert ask(a.core, question, "Uoverlay", 1) is None
    assert ask(b.core, question, "Uoverlay", 2) is None
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{a.base}/console/login", data={"token": login_token(a)},
                             allow_redirects=False) as resp:
            assert resp.status == 303
        async with http.get(f"{a.base}/console/gaps") as resp:
            page = await resp.text()
            assert "ฐานข้อมูล" in page  # the page says where the phrasing goes
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        async with http.post(f"{a.base}/console/gaps/propose", allow_redirects=False, data={
                "csrf": csrf.group(1), "topic": "contact", "phrasing": question}) as resp:
            assert resp.status == 303 and "msg=added" in resp.headers["Location"]
    assert ask(a.core, question, "Uoverlay", 3) == "contact"  # at once where it was added
    assert not (a.core.settings.data_dir / "knowledge-overlay.yaml").exists()
    deadline = time.monotonic() + OVERLAY_CHECK_SECONDS + 5.0
    n = 4
    while ask(b.core, question, "Uoverlay", n) != "contact":  # B reloads within seconds
        assert time.monotonic() < deadline, "B never took the phrasing added on A"
        await asyncio.sleep(0.2)
        n += 1
    # `kb check` on the database checks the table's phrasings, and names a bad row.
    from handlers.cli import main

    a.core.store.table(OVERLAY_TABLE).put("bad", {"topic": "no.such", "phrasing": "x"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ELAAS_DATABASE_URL", a.core.settings.database_url)
    assert main(["kb", "check"]) == 1
    out = capsys.readouterr().out
    assert f"table {OVERLAY_TABLE}" in out and "unknown topic 'no.such'" in out
    assert question not in out  # the good phrasing passes the check
