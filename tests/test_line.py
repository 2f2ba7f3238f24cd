"""LINE end to end: signed webhooks into the real server, replies recorded by FakeLine.

Over 500 lines: every test shares the one signed-webhook server and FakeLine fixture."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.core.contract import FileBlob, Reply
from bot.core.engine import Engine
from bot.core.feature import Command, Feature
from bot.core.greetings import RATE_LIMITED_TEXT, group_hello
from handlers import pipeline as pipeline_module
from handlers.app import Core, build_core
from handlers.inbox import MemoryInbox
from handlers.line.adapter import LineAdapter
from handlers.ratelimit import OrderedTasks, RateLimiter
from handlers.settings import Settings
from handlers.web.server import FLOW, LINE, PIPELINE, VAULT, RunningServer, create_app
from tests.conftest import make_lao_admin
from tests.fakes import Call, FakeLine, line_signature, wait_for

DATA = Path(__file__).parent / "data" / "line"
SECRET = "testsecret"
REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_BLOB = FileBlob(b"PK\x03\x04" + bytes(range(256)) * 4, "รายการ อบต.ทดสอบ ก.ค. 2567.xlsx",
                       XLSX)
WELCOME_START = "สวัสดีค่ะ ผู้ช่วย"
UNSUPPORTED_START = "ตอนนี้รับได้เฉพาะข้อความตัวอักษร"


def load(name: str, *, age: float = 0.0, **changes: Any) -> dict[str, Any]:
    """A fixture body with fresh timestamps (``age`` seconds ago); ``changes`` go to event 0."""
    body: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    for e in body["events"]:
        e["timestamp"] = int((time.time() - age) * 1000)
    if changes and body["events"]:
        body["events"][0].update(changes)
    return body


def event(body: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return body["events"][i]


class StubExport(Feature):
    """A feature handing out a file and very long texts (to test the channel, not the ledger)."""

    name = "stub"

    def commands(self) -> list[Command]:
        return [
            Command(("export",), (), lambda ctx, a: [Reply("ไฟล์ของคุณค่ะ", file=EXPORT_BLOB)]),
            Command(("long",), (), lambda ctx, a: [Reply(("ย่อหน้า " * 300 + "\n\n") * 4)]
                    + [Reply(f"ข้อความที่ {i}") for i in range(2, 6)]),
        ]


@pytest.fixture(scope="module")
def base_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    core = build_core(Settings(data_dir=tmp_path_factory.mktemp("line") / "data"))
    yield core
    core.store.close()


@pytest.fixture
def fake(fake_line: FakeLine) -> FakeLine:
    return fake_line


@dataclasses.dataclass
class Rig:
    fake: FakeLine
    core: Core
    server: RunningServer
    http: aiohttp.ClientSession

    @property
    def line(self) -> LineAdapter:
        adapter = self.server.app[LINE]
        assert adapter is not None
        return adapter

    async def post(self, body: dict[str, Any] | bytes, *, sig: str | None = "good",
                   headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        h = {"Content-Type": "application/json", **(headers or {})}
        if sig == "good":
            h["x-line-signature"] = line_signature(SECRET, raw)
        elif sig is not None:
            h["x-line-signature"] = sig
        async with self.http.post(f"{self.server.base_url}/line/webhook", data=raw,
                                  headers=h) as resp:
            await resp.read()
            return resp

    async def idle(self) -> None:
        """Wait until every queued job has finished."""
        await wait_for(lambda: self.server.app[FLOW].tasks.pending == 0)

    def replies_to(self, token: str) -> list[Call]:
        return [c for c in self.fake.calls_to(REPLY) if c.body.get("replyToken") == token]


async def start_rig(base: Core, fake: FakeLine, *, features: list[Feature] | None = None,
                    flood_limit: bool = False) -> Rig:
    settings = Settings(data_dir=base.settings.data_dir, line_channel_secret=SECRET,
                        line_channel_access_token="T", line_api_base=fake.base_url)
    core = dataclasses.replace(base, settings=settings)
    if features is not None:
        core.engine = Engine(base.kb, base.engine.pipeline, base.store, base.status,
                             features=features)
    app = create_app(core, extensions=[], inbox=MemoryInbox())  # the rigs share a data dir
    if not flood_limit:
        app[FLOW].limiter = RateLimiter(capacity=10_000)
    server = RunningServer(app)
    await server.start("127.0.0.1", 0)
    app[VAULT].base_url = server.base_url
    return Rig(fake, core, server, aiohttp.ClientSession())


@pytest.fixture
async def rig(base_core: Core, fake: FakeLine) -> AsyncIterator[Rig]:
    r = await start_rig(base_core, fake)
    yield r
    await r.http.close()
    await r.server.stop()


def texts(call: Call) -> list[str]:
    return [m["text"] for m in call.body["messages"] if m["type"] == "text"]


# ---------------------------------------------------------------------------- answers


async def test_thai_question_answered_with_quick_replies(rig: Rig) -> None:
    body = load("text")
    started = time.perf_counter()
    resp = await rig.post(body)
    assert resp.status == 200
    assert time.perf_counter() - started < 1.0  # answered before the work is done
    call = (await wait_for(lambda: rig.replies_to(event(body)["replyToken"])))[0]
    assert call.headers["Authorization"] == "Bearer T"
    text = "\n".join(texts(call))
    assert "สถานะ" in text and "e-LAAS" in text
    quick = call.body["messages"][-1]["quickReply"]["items"]
    assert 1 <= len(quick) <= 13
    for item in quick:
        action = item["action"]
        assert action["type"] == "postback"
        assert len(action["label"]) <= 20
        assert action["displayText"] and action["data"]
    assert any(i["action"]["data"] == "cmd:subscribe" for i in quick)


async def test_postback_answered(rig: Rig) -> None:
    body = load("postback")
    assert (await rig.post(body)).status == 200
    call = (await wait_for(lambda: rig.replies_to(event(body)["replyToken"])))[0]
    assert "สถานะ" in texts(call)[0]


async def test_events_of_one_user_answered_in_order(rig: Rig) -> None:
    body = load("text")
    template = event(body)
    events = []
    for i, q in enumerate(["สวัสดี", "ระบบล่มไหม", "ขอบคุณ", "วิธีปฏิบัติ", "สวัสดี"]):
        e = copy.deepcopy(template)
        e["webhookEventId"] = f"01J2ORDER{i:02d}AAAAAAAAAAAAAAA"
        e["replyToken"] = f"order-{i}"
        e["message"]["text"] = q
        events.append(e)
    rig.fake.delay = 0.03
    assert (await rig.post({"destination": body["destination"], "events": events})).status == 200
    await wait_for(lambda: len(rig.fake.calls_to(REPLY)) == 5)
    assert [c.body["replyToken"] for c in rig.fake.calls_to(REPLY)] == [
        f"order-{i}" for i in range(5)]


def user_events(template: dict[str, Any], user: int, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        e = copy.deepcopy(template)
        e["source"] = {"type": "user", "userId": f"Ubacklog{user:025d}"}
        e["webhookEventId"] = f"01J2BACKLOG{user:02d}{i:02d}AAAAAAAAAAA"
        e["replyToken"] = f"backlog-{user}-{i}"
        out.append(e)
    return out


async def test_a_full_backlog_makes_webhooks_wait_and_every_event_is_answered_in_order(
        rig: Rig) -> None:
    tasks = OrderedTasks(workers=2, backlog=3)
    rig.server.app[FLOW].tasks = tasks
    rig.fake.delay = 0.02
    body = load("text")
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, tasks.pending)
            await asyncio.sleep(0.001)

    async def sender(user: int) -> list[int]:
        statuses = []
        for e in user_events(event(body), user, 4):  # one webhook per event, one after another
            resp = await rig.post({"destination": body["destination"], "events": [e]})
            statuses.append(resp.status)
        return statuses

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(sender(u) for u in range(4)))
        await wait_for(lambda: len(rig.fake.calls_to(REPLY)) == 16)
    finally:
        watcher.cancel()
    assert results == [[200] * 4] * 4  # waited for room, not refused
    assert most <= 3  # the backlog never grew past its bound
    tokens = [c.body["replyToken"] for c in rig.fake.calls_to(REPLY)]
    assert sorted(tokens) == sorted(f"backlog-{u}-{i}" for u in range(4) for i in range(4))
    for u in range(4):
        assert [t for t in tokens if t.startswith(f"backlog-{u}-")] == [
            f"backlog-{u}-{i}" for i in range(4)]


async def test_a_webhook_that_waits_too_long_for_room_gets_503_and_its_redelivery_is_answered(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "ACCEPT_WAIT", 0.1)
    rig.server.app[FLOW].tasks = OrderedTasks(workers=1, backlog=1)
    rig.fake.delay = 0.5
    body = load("text")
    first, second = user_events(event(body), 0, 1)[0], user_events(event(body), 1, 1)[0]
    assert (await rig.post({"destination": body["destination"], "events": [first]})).status \
        == 200
    assert (await rig.post({"destination": body["destination"], "events": [second]})).status \
        == 503  # the backlog stayed full for longer than ACCEPT_WAIT: LINE redelivers later
    await rig.idle()
    assert (await rig.post({"destination": body["destination"], "events": [second]})).status \
        == 200  # the redelivery: not seen as a duplicate, since nothing was accepted
    await wait_for(lambda: len(rig.fake.calls_to(REPLY)) == 2)
    assert [c.body["replyToken"] for c in rig.fake.calls_to(REPLY)] == [
        "backlog-0-0", "backlog-1-0"]


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize(("sig", "status"), [(None, 400), ("", 400), ("bm90IGl0", 401),
                                             (line_signature("othersecret", b"{}"), 401)])
async def test_missing_or_bad_signature_refused(rig: Rig, sig: str | None, status: int) -> None:
    resp = await rig.post(load("text"), sig=sig)
    assert resp.status == status
    await rig.idle()
    assert rig.fake.calls == []
    assert rig.line.stats["events"] == 0


async def test_signature_over_raw_bytes(rig: Rig) -> None:
    """Re-serialising the JSON (other spacing) breaks the signature: raw bytes are signed."""
    body = load("text")
    raw = json.dumps(body, ensure_ascii=False).encode()
    sig = line_signature(SECRET, raw)
    resp = await rig.post(json.dumps(body, ensure_ascii=True, indent=1).encode(), sig=sig)
    assert resp.status == 401


async def test_body_over_one_megabyte_refused(rig: Rig) -> None:
    big = b'{"events": [], "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert (await rig.post(big)).status == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the read limit catches it
        for _ in range(20):
            yield b"x" * 65536

    async with rig.http.post(f"{rig.server.base_url}/line/webhook", data=chunks(),
                             headers={"x-line-signature": "abc"}) as resp:
        assert resp.status == 413
    await rig.idle()
    assert rig.fake.calls == []


async def test_not_a_payload_is_400(rig: Rig) -> None:
    assert (await rig.post(b"not json")).status == 400
    assert (await rig.post(b'{"destination": "U1"}')).status == 400


# ---------------------------------------------------------------------------- event types

ANSWERED = {
    "follow": WELCOME_START,
    "sticker": UNSUPPORTED_START,
    "image": UNSUPPORTED_START,
    "location": UNSUPPORTED_START,
    "file": UNSUPPORTED_START,
    "audio": UNSUPPORTED_START,
    "video": UNSUPPORTED_START,
    "join": group_hello("line")[:20],
    "group_text_mention": "",
    "group_text_prefix": "สถานะ",
    "room_command": "สถานะ",
}
IGNORED = ["unfollow", "leave", "member_joined", "member_left", "unsend", "video_play_complete",
           "beacon", "account_link", "unknown_type", "group_text_plain",
           "group_text_other_mention", "verify"]


@pytest.mark.parametrize("name", sorted(ANSWERED))
async def test_event_types_answered(rig: Rig, name: str) -> None:
    body = load(name)
    assert (await rig.post(body)).status == 200
    call = (await wait_for(lambda: rig.replies_to(event(body)["replyToken"])))[0]
    assert ANSWERED[name] in texts(call)[0]
    if name.startswith(("group", "room", "join")):
        assert call.body["messages"][0]["text"] != ""


@pytest.mark.parametrize("name", IGNORED)
async def test_event_types_ignored(rig: Rig, name: str) -> None:
    assert (await rig.post(load(name))).status == 200
    await rig.idle()
    assert rig.fake.calls == []


async def test_group_mention_is_stripped(rig: Rig) -> None:
    body = load("group_text_mention")
    seen: list[str | None] = []
    engine = rig.line.flow.engine
    original = engine.reply_to

    def spy(incoming: Any) -> list[Reply]:
        seen.append(incoming.text)
        assert incoming.is_group and incoming.chat_id.startswith("C")
        return original(incoming)

    engine.reply_to = spy  # type: ignore[method-assign]
    try:
        await rig.post(body)
        await wait_for(lambda: rig.replies_to(event(body)["replyToken"]))
    finally:
        del engine.reply_to
    assert seen == ["ระบบกลับมาหรือยัง"]


async def test_one_bad_event_does_not_stop_the_others(rig: Rig,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    body = load("batch")
    assert (await rig.post(body)).status == 200
    await wait_for(lambda: rig.replies_to(event(body, 0)["replyToken"]))
    await wait_for(lambda: rig.replies_to(event(body, 2)["replyToken"]))
    await rig.idle()
    assert len(rig.fake.calls) == 2
    assert event(body, 1)["webhookEventId"] in caplog.text


async def test_redelivery_is_not_processed_twice(rig: Rig) -> None:
    body = load("text")
    again = copy.deepcopy(body)
    event(again)["deliveryContext"]["isRedelivery"] = True
    await rig.post(body)
    await rig.post(again)
    await rig.post(body)
    await rig.idle()
    assert len(rig.fake.calls_to(REPLY)) == 1


async def test_quick_entry_logged_once_despite_redelivery(rig: Rig) -> None:
    body = load("quick_entry")
    book = make_lao_admin(rig.core, f"line:{event(body)['source']['userId']}", "01234567")
    before = len(book)
    await rig.post(body)
    await rig.post(load("redelivery"))
    await rig.idle()
    assert len(rig.fake.calls_to(REPLY)) == 1
    assert "บันทึกแล้ว" in texts(rig.fake.calls_to(REPLY)[0])[0]
    rig.server.app[PIPELINE].seen.clear()  # as if forgotten: only the engine's idempotency
    redelivered = load("redelivery", replyToken="rt-after-restart")
    await rig.post(redelivered)
    call = (await wait_for(lambda: rig.replies_to("rt-after-restart")))[0]
    assert "ไม่บันทึกซ้ำ" in texts(call)[0]
    assert len(book) == before + 1


# ---------------------------------------------------------------------------- API failures


async def test_reply_429_is_retried_after_retry_after(rig: Rig) -> None:
    rig.fake.fail_next(REPLY, 429, retry_after=1)
    body = load("text")
    started = time.monotonic()
    await rig.post(body)
    await wait_for(lambda: len(rig.fake.calls_to(REPLY)) == 2, timeout=5)
    assert time.monotonic() - started >= 1.0
    await rig.idle()
    assert rig.fake.calls_to(PUSH) == []


async def test_reply_500_is_pushed_instead_and_next_event_answered(rig: Rig) -> None:
    rig.fake.fail_next(REPLY, 500, times=3)
    first = load("text")
    await rig.post(first)
    await wait_for(lambda: [c for c in rig.fake.calls_to(PUSH) if c.status == 200], timeout=5)
    assert rig.line.stats["failures"] == 0 and len(rig.fake.calls_to(REPLY)) == 3
    second = load("postback")
    await rig.post(second)
    call = (await wait_for(lambda: rig.replies_to(event(second)["replyToken"])))[0]
    assert call.body["messages"]


async def test_expired_reply_token_falls_back_to_push(rig: Rig) -> None:
    rig.fake.fail_next(REPLY, 400, description="Invalid reply token")
    body = load("text")
    await rig.post(body)
    push = (await wait_for(lambda: rig.fake.calls_to(PUSH)))[0]
    assert push.body["to"] == event(body)["source"]["userId"]
    assert "สถานะ" in texts(push)[0]
    assert push.headers.get("X-Line-Retry-Key")


async def test_old_event_is_pushed_without_trying_the_token(rig: Rig) -> None:
    body = load("text", age=120)
    await rig.post(body)
    push = (await wait_for(lambda: rig.fake.calls_to(PUSH)))[0]
    assert push.body["to"] == event(body)["source"]["userId"]
    assert rig.fake.calls_to(REPLY) == []


async def test_push_429_retried_with_the_same_retry_key(rig: Rig) -> None:
    rig.fake.fail_next(PUSH, 429, retry_after=1)
    await rig.post(load("text", age=120))
    calls = await wait_for(lambda: len(rig.fake.calls_to(PUSH)) == 2 and
                           rig.fake.calls_to(PUSH), timeout=5)
    keys = {c.headers["X-Line-Retry-Key"] for c in calls}
    assert len(keys) == 1


async def test_group_push_goes_to_the_group(rig: Rig) -> None:
    body = load("group_text_prefix", age=120)
    await rig.post(body)
    push = (await wait_for(lambda: rig.fake.calls_to(PUSH)))[0]
    assert push.body["to"] == event(body)["source"]["groupId"]


# ---------------------------------------------------------------------------- limits


async def test_flood_gets_one_warning_then_silence(base_core: Core, fake: FakeLine) -> None:
    rig = await start_rig(base_core, fake, flood_limit=True)
    try:
        template = event(load("text"))
        template["message"]["text"] = "สวัสดี"
        template["source"]["userId"] = "Uflood000000000000000000000000000"
        for i in range(15):
            e = copy.deepcopy(template)
            e["webhookEventId"] = f"01J2FLOOD{i:02d}AAAAAAAAAAAAAAA"
            e["replyToken"] = f"flood-{i}"
            await rig.post({"destination": "U1", "events": [e]})
        await rig.idle()
        calls = rig.fake.calls_to(REPLY)
        assert len(calls) == 11
        warnings = [c for c in calls if texts(c)[0] == RATE_LIMITED_TEXT]
        assert [c.body["replyToken"] for c in warnings] == ["flood-10"]
    finally:
        await rig.http.close()
        await rig.server.stop()


async def test_long_texts_split_and_more_than_five_messages_pushed(base_core: Core,
                                                                    fake: FakeLine) -> None:
    rig = await start_rig(base_core, fake, features=[StubExport()])
    try:
        body = load("text")
        event(body)["message"]["text"] = "/long"
        await rig.post(body)
        await rig.idle()
        reply = rig.fake.calls_to(REPLY)
        push = rig.fake.calls_to(PUSH)
        assert len(reply) == 1 and len(reply[0].body["messages"]) == 5
        assert len(push) == 1 and len(push[0].body["messages"]) == 1
        sent = texts(reply[0]) + texts(push[0])
        assert all(len(t) <= 5000 for t in sent)
        assert sent[-4:] == [f"ข้อความที่ {i}" for i in range(2, 6)]
        assert "".join(sent[:2]).replace("\n", "").replace(" ", "") == "ย่อหน้า" * 300 * 4
    finally:
        await rig.http.close()
        await rig.server.stop()


async def test_export_as_signed_link(base_core: Core, fake: FakeLine) -> None:
    rig = await start_rig(base_core, fake, features=[StubExport()])
    try:
        body = load("export")
        await rig.post(body)
        call = (await wait_for(lambda: rig.replies_to(event(body)["replyToken"])))[0]
        text = texts(call)[0]
        assert EXPORT_BLOB.filename in text
        url = re.search(r"http://\S+/files/\S+", text)
        assert url is not None
        async with rig.http.get(url.group(0)) as resp:
            assert resp.status == 200
            assert await resp.read() == EXPORT_BLOB.data
            assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
        tampered = url.group(0)[:-3] + ("AAA" if not url.group(0).endswith("AAA") else "BBB")
        async with rig.http.get(tampered) as resp:
            assert resp.status == 403
        vault = rig.server.app[VAULT]
        vault.clock = lambda: time.time() + 3601
        async with rig.http.get(url.group(0)) as resp:
            assert resp.status == 410
    finally:
        await rig.http.close()
        await rig.server.stop()


def test_render_limits(base_core: Core) -> None:
    from bot.core.contract import Choice
    from handlers.pipeline import Pipeline
    from handlers.ratelimit import Flow
    from handlers.web.files import FileVault

    adapter = LineAdapter(base_core.settings, Pipeline(Flow(base_core.engine)),
                          FileVault(b"k" * 32, "https://x"))
    many = tuple(Choice(f"ตัวเลือกที่ยาวมากเกินยี่สิบตัวอักษร {i}", f"topic:t{i}") for i in range(20))
    msgs = adapter.render([Reply("ก" * 10_001, many), Reply("ท้าย")])
    assert [len(m["text"]) for m in msgs] == [5000, 5000, 1, 4]
    quick = msgs[-1]["quickReply"]  # the last message carries the choices
    assert len(quick["items"]) == 13 and not any("quickReply" in m for m in msgs[:-1])
    assert all(len(i["action"]["label"]) <= 20 for i in quick["items"])
    adapter.flow.close()


# ---------------------------------------------------------------------------- rich menu


def _png_size(data: bytes) -> tuple[int, int]:
    import struct

    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def test_rich_menu_definition_and_images(tmp_path: Path) -> None:
    from handlers.cli import main
    from handlers.line.richmenu import menu_image, plain_png, rich_menu_definition

    menu = rich_menu_definition()
    assert menu["size"] == {"width": 2500, "height": 1686}
    labels = [a["action"]["label"] for a in menu["areas"]]
    assert labels == ["สถานะระบบ", "วิธีปฏิบัติ", "แบบฟอร์ม", "บันทึกรายการ", "ส่งออก", "รับแจ้งเตือน"]
    assert [a["action"]["data"] for a in menu["areas"]] == [
        "cmd:status", "topic:guide.overview", "cmd:forms", "topic:bot.log_howto", "cmd:export",
        "cmd:subscribe"]
    assert sum(a["bounds"]["width"] * a["bounds"]["height"] for a in menu["areas"]) == 2500 * 1686
    for image in (menu_image(), plain_png()):
        assert _png_size(image) == (2500, 1686)
        assert len(image) < 1024 * 1024  # LINE's limit
    out = tmp_path / "menu.png"
    assert main(["line", "richmenu", "--save-image", str(out)]) == 0
    assert _png_size(out.read_bytes()) == (2500, 1686)


async def test_rich_menu_installed(fake: FakeLine, tmp_path: Path) -> None:
    from handlers.line.richmenu import install_rich_menu

    settings = Settings(data_dir=tmp_path, line_channel_secret=SECRET,
                        line_channel_access_token="T", line_api_base=fake.base_url)
    menu_id = await install_rich_menu(settings, image=b"\x89PNG fake")
    assert menu_id == "richmenu-fake-1"
    paths = [c.path for c in fake.calls]
    assert paths == ["/v2/bot/richmenu", f"/v2/bot/richmenu/{menu_id}/content",
                     f"/v2/bot/user/all/richmenu/{menu_id}"]
    created = fake.calls[0].body
    assert created["chatBarText"] == "เมนู" and len(created["areas"]) == 6
    assert created["areas"][0]["action"] == {"type": "postback", "label": "สถานะระบบ",
                                             "data": "cmd:status", "displayText": "สถานะระบบ"}
    upload = fake.calls[1]
    assert upload.headers["Content-Type"] == "image/png"
    assert upload.body == b"\x89PNG fake"


async def test_ledger_export_link_downloads_the_file(rig: Rig) -> None:
    user_id = "Uexport0000000000000000000000000"
    make_lao_admin(rig.core, f"line:{user_id}", "01234568", "อบต.ส่งออก")
    entry = load("quick_entry", webhookEventId="01J2EXPORTENTRY0000000000A", replyToken="rt-e1")
    event(entry)["source"]["userId"] = user_id
    await rig.post(entry)
    await wait_for(lambda: rig.replies_to("rt-e1"))
    export = load("export", replyToken="rt-e2")
    event(export)["source"]["userId"] = user_id
    await rig.post(export)
    call = (await wait_for(lambda: rig.replies_to("rt-e2")))[0]
    url = re.search(r"http://\S+/files/\S+", "\n".join(texts(call)))
    assert url is not None
    async with rig.http.get(url.group(0)) as resp:
        assert resp.status == 200
        data = await resp.read()
        assert data[:2] == b"PK"  # an xlsx (zip) file
        assert ".xlsx" in resp.headers["Content-Disposition"]
