"""Console core: roles and scope, the on-write LAO summary against a full recount, login links,
sessions, the phrasing overlay, and the ``/console`` chat command."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.store import MemoryStore, Store, TinyStore
from bot.ledger.book import Directory, Ledger
from bot.ledger.entries import Lao, ParsedEntry
from bot.ledger.summary import Summaries, recount
from bot.notices.console_auth import LoginLinks, LoginRefused, Sessions
from bot.notices.operators import OperatorError, Operators, resolve_actor
from bot.qa.kbcheck import run_checks
from bot.qa.knowledge import default_knowledge_dir
from bot.qa.overlay import OverlayPhrasing, append_phrasing, read_overlay
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say

SECRET = b"test-secret-0123456789"


@pytest.fixture(params=["memory", "tinydb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else TinyStore(tmp_path)


def _entry(rng: random.Random, day: int) -> ParsedEntry:
    return ParsedEntry(rng.choice(("receipt", "payment")), Decimal(rng.randint(1, 9999)),
                       "ค่าขยะ", (FIXED_NOW - timedelta(days=day)).date())


def test_summary_kept_on_write_matches_a_full_recount(store: Store, tmp_path: Path) -> None:
    rng = random.Random(7)
    d = Directory(store)
    codes = ["05510101", "05510102", "05510103"]
    for c in codes:
        d.add_lao(Lao(c, f"อบต.{c}", "ลำพูน"))
    ledgers = {c: Ledger(store, c) for c in codes}
    users = [f"line:U{i}" for i in range(8)]
    for step in range(300):
        c = rng.choice(codes)
        led = ledgers[c]
        now = FIXED_NOW + timedelta(hours=step)
        op = rng.random()
        if op < 0.5:
            items = [(_entry(rng, rng.randint(0, 5)), f"ev{step}-{k}")
                     for k in range(rng.randint(1, 3))]
            led.add_many(items, author="line:U1", author_name="ก", channel="line", now=now)
            if rng.random() < 0.2:  # a redelivered event changes nothing
                led.add_many(items[:1], author="line:U1", author_name="ก", channel="line",
                             now=now)
        elif op < 0.65 and len(led):
            no = rng.randint(1, len(led))
            e = led.get(no)
            if e is not None and not e.voided:
                led.void(no, by="line:U1", by_name="ก", reason="ผิด", now=now,
                         may_void_any=True)
        elif op < 0.85 and len(led):
            led.mark_keyed(rng.sample(range(1, len(led) + 1), min(3, len(led))), by="x", now=now)
        elif op < 0.95:
            d.bind(rng.choice(users), c, "member", "ก", now)
        else:
            d.unbind(rng.choice(users))
    sums = Summaries.of(store)
    for c in codes:
        fresh = recount(c, ledgers[c].entries(), len(d.members(c)))
        assert sums.get(c).counts() == fresh.counts()
        assert sums.get(c).name == f"อบต.{c}" and sums.get(c).province == "ลำพูน"
        assert sums.get(c).pending == len(ledgers[c].pending_keyback())
    assert sum(s.logged for s in sums.all()) > 100
    if isinstance(store, TinyStore):  # and the files hold the same as memory
        reread = Summaries(TinyStore(tmp_path))
        assert {s.code: s.counts() for s in reread.all()} == \
            {s.code: s.counts() for s in sums.all()}


def test_stale_summary_is_repaired_by_the_next_write(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    d = Directory(store)
    d.add_lao(Lao("05510101", "อบต.ก", "ลำพูน"))
    led = Ledger(store, "05510101")
    led.add_many([(_entry(random.Random(1), 0), "e1")], author="a", author_name="a",
                  channel="line", now=FIXED_NOW)
    # A crash between the ledger write and its summary write leaves the summary one behind.
    other = TinyStore(tmp_path)
    sums = Summaries.of(other)
    sums._save(recount("05510101", [], 0, "อบต.ก", "ลำพูน"))
    assert sums.get("05510101").logged == 0
    Ledger(other, "05510101").add_many([(_entry(random.Random(3), 0), "e2")], author="a",
                                       author_name="a", channel="line", now=FIXED_NOW)
    assert sums.get("05510101").logged == 2  # the lost write recounted, then the new one
    assert sums.get("05510101").counts() == recount(
        "05510101", Ledger(other, "05510101").entries(), 0).counts()


def test_summaries_are_rebuilt_for_data_from_before_them(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    Directory(store).add_lao(Lao("05510101", "อบต.ก", "ลำพูน"))
    Ledger(store, "05510101").add_many([(_entry(random.Random(2), 1), "e1")], author="a",
                                       author_name="a", channel="line", now=FIXED_NOW)
    for name in store.tables("summary/"):
        (tmp_path / f"{name}.json").unlink()
    again = Summaries(TinyStore(tmp_path))
    assert again.get("05510101").logged == 1 and again.get("05510101").name == "อบต.ก"


def test_read_only_openers_write_no_summaries(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    Directory(store).add_lao(Lao("05510101", "อบต.ก", "ลำพูน"))
    Ledger(store, "05510101").add_many([(_entry(random.Random(2), 1), "e1")], author="a",
                                       author_name="a", channel="line", now=FIXED_NOW)
    for name in store.tables("summary/"):
        (tmp_path / f"{name}.json").unlink()
    reader = TinyStore(tmp_path)  # like `elaas-bot lao list` while serve owns the dir
    Directory(reader).laos()
    Ledger(reader, "05510101").entries()
    assert reader.tables("summary/") == []


def test_roles_and_scope() -> None:
    store = MemoryStore()
    ops = Operators(store)
    d = Directory(store)
    d.add_lao(Lao("05510101", "อบต.ลำพูน", "จังหวัดลำพูน"))
    d.add_lao(Lao("05010101", "อบต.เชียงใหม่", "เชียงใหม่"))
    ops.add("line:Uprov", ["จ.ลำพูน"], by="cli", now=FIXED_NOW)
    d.bind("telegram:9", "05010101", "admin", "ก", FIXED_NOW)
    with pytest.raises(OperatorError):
        ops.add("line:Ux", ["ลำพูนใต้"], by="cli", now=FIXED_NOW)
    with pytest.raises(OperatorError):
        ops.add("nochannel", ["ลำพูน"], by="cli", now=FIXED_NOW)
    national = resolve_actor("line:Uadmin", {"line:Uadmin"}, ops, d)
    prov = resolve_actor("line:Uprov", set(), ops, d)
    lao_admin = resolve_actor("telegram:9", set(), ops, d)
    assert resolve_actor("line:Unobody", set(), ops, d) is None
    assert national and prov and lao_admin
    lamphun, chiangmai = d.lao("05510101"), d.lao("05010101")
    assert national.sees_lao(lamphun) and national.sees_lao(chiangmai)
    assert prov.sees_lao(lamphun) and not prov.sees_lao(chiangmai)
    assert prov.may_notify("ลำพูน") and not prov.may_notify("เชียงใหม่")
    assert not prov.may_notify("") and not prov.may_set_status
    assert lao_admin.sees_lao(chiangmai) and not lao_admin.sees_lao(lamphun)
    assert not lao_admin.may_notify("เชียงใหม่")
    ops.remove("line:Uprov")
    assert resolve_actor("line:Uprov", set(), ops, d) is None


def test_login_links_are_one_time_expire_and_refuse_forgeries() -> None:
    now = [1_000_000.0]
    links = LoginLinks(SECRET, clock=lambda: now[0], not_before=now[0] - 1)
    token = links.mint("line:U1")
    assert links.check(token)[0] == "line:U1"  # looking does not use it up
    assert links.redeem(token) == "line:U1"
    with pytest.raises(LoginRefused) as used:
        links.redeem(token)
    assert used.value.reason == "used" and "ครั้งเดียว" in str(used.value)
    head, _, sig = links.mint("line:U1").partition(".")
    forged_head = head[:-2] + ("AA" if head[-2:] != "AA" else "BB")
    for bad in (f"{forged_head}.{sig}", "garbage", "", f"{head}.", "a.b.c"):
        with pytest.raises(LoginRefused) as exc:
            links.redeem(bad)
        assert exc.value.reason in ("forged", "malformed")
    other_key = LoginLinks(b"another-secret-456789", clock=lambda: now[0])
    with pytest.raises(LoginRefused):
        links.redeem(other_key.mint("line:Uadmin"))
    late = links.mint("line:U1")
    now[0] += 601
    with pytest.raises(LoginRefused) as expired:
        links.redeem(late)
    assert expired.value.reason == "expired"
    restarted = LoginLinks(SECRET, clock=lambda: now[0], not_before=now[0] + 5)
    with pytest.raises(LoginRefused):  # a restart cannot revive a link issued before it
        restarted.redeem(links.mint("line:U1"))


def test_sessions_sign_idle_timeout_and_csrf() -> None:
    now = [0.0]
    sessions = Sessions(SECRET, idle=60, clock=lambda: now[0])
    cookie, s = sessions.create("line:U1")
    assert sessions.get(cookie) is s
    sid, _, mac = cookie.partition(".")
    assert sessions.get(f"{sid}.{mac[:-1]}x") is None
    assert sessions.get(f"{sid}x.{mac}") is None
    assert Sessions.csrf_ok(s, s.csrf) and not Sessions.csrf_ok(s, "") \
        and not Sessions.csrf_ok(s, s.csrf + "x")
    now[0] += 59
    assert sessions.get(cookie) is s  # using it keeps it alive
    now[0] += 61
    assert sessions.get(cookie) is None


def test_overlay_is_loaded_and_checked(tmp_path: Path) -> None:
    root = default_knowledge_dir()
    overlay = tmp_path / "overlay.yaml"
    ids = {"status.current", "guide.overview"}
    append_phrasing(overlay, OverlayPhrasing("status.current", "อีลาสใช้ได้แล้วหรือยังคะพี่",
                                             "line:U1", "2024-07-15"))
    items, problems = read_overlay(overlay, ids)
    assert [i.phrasing for i in items] == ["อีลาสใช้ได้แล้วหรือยังคะพี่"] and not problems
    assert run_checks(root, overlay=overlay) == []
    overlay.write_text("- topic: no.such\n  phrasing: x\n- topic: status.current\n"
                       "  phrasing: วิธีกรอกสมุดเงินสดจ่ายทำอย่างไร\n", encoding="utf-8")
    found = [str(p) for p in run_checks(root, overlay=overlay) if str(overlay) in str(p)]
    assert any(":1: no.such: unknown topic" in p for p in found)
    assert any(":3: status.current: phrasing matches" in p for p in found)
    append_phrasing(overlay, OverlayPhrasing("guide.overview", "ตอนนี้ต้องทำอะไรบ้าง"))
    kept = overlay.read_text("utf-8")
    assert "no.such" in kept and "ตอนนี้ต้องทำอะไรบ้าง" in kept  # nothing typed by hand lost


def test_console_chat_command(core: Core, say: Say) -> None:
    assert "เฉพาะ" in say("/console", user="nobody")[0].text
    Operators(core.store).add("console:op", ["ลำพูน"], by="cli", now=FIXED_NOW)
    reply = say("/console", user="op")[0].text
    assert "/console/login/" in reply and "ครั้งเดียว" in reply and "จังหวัด" in reply
    token = reply.split("/console/login/")[1].split()[0]
    links = LoginLinks(core.settings.resolved_file_secret())
    assert links.redeem(token) == "console:op"
    from bot.core.contract import Incoming

    group = core.engine.reply_to(Incoming("line", "op", "G1", text="/console", event_id="g",
                                          is_group=True))
    assert "ส่วนตัว" in group[0].text and "/console/login/" not in group[0].text


def test_cli_operator_and_console_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from handlers.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ELAAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://bot.example.org")
    monkeypatch.setenv("ELAAS_ADMINS", "line:Uadmin")
    assert main(["operator", "add", "line:Uop", "--province", "จ.ลำพูน",
                 "--province", "เชียงใหม่"]) == 0
    assert main(["operator", "add", "line:Uop", "--province", "ลำพูนเหนือ"]) == 2
    assert "ไม่รู้จักจังหวัด" in capsys.readouterr().err
    assert main(["operator", "list"]) == 0
    out = capsys.readouterr().out
    assert "line:Uadmin\tnational" in out and "line:Uop\tลำพูน, เชียงใหม่" in out
    assert main(["console", "link", "line:Uop"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://bot.example.org/console/login/")
    secret = (tmp_path / "data" / ".file_secret").read_text().strip().encode()
    assert LoginLinks(secret).redeem(url.rsplit("/", 1)[1]) == "line:Uop"
    assert main(["console", "link", "line:Ustranger"]) == 2
    assert main(["operator", "remove", "line:Uop", "--province", "เชียงใหม่"]) == 0
    assert Operators(TinyStore(tmp_path / "data")).get("line:Uop").provinces == ("ลำพูน",)
    assert main(["operator", "remove", "line:Uop"]) == 0
    assert Operators(TinyStore(tmp_path / "data")).get("line:Uop") is None


async def test_session_cookie_is_secure_under_https(memory_core: Core, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    import dataclasses

    import aiohttp

    from handlers.settings import Settings
    from handlers.web.console import install_console
    from handlers.web.server import RunningServer, build_web_app

    settings = Settings(data_dir=tmp_path, public_base_url="https://bot.example.org",
                        file_secret="s" * 32)
    core = dataclasses.replace(memory_core, settings=settings)
    server = RunningServer(build_web_app(core, line=None, telegram=None,
                                         extensions=[install_console]))
    await server.start()
    try:
        Operators(core.store).add("line:Usec", ["ลำพูน"], by="t", now=FIXED_NOW)
        token = LoginLinks(settings.resolved_file_secret()).mint("line:Usec")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.base_url}/console/login", data={"token": token},
                                 allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/console"
                cookie = resp.headers["Set-Cookie"]
            for part in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/console"):
                assert part in cookie, part
            async with http.get(f"{server.base_url}/console/login/{token}") as resp:
                assert resp.status == 410
    finally:
        await server.stop()
    assert token not in caplog.text and "login link used" in caplog.text
