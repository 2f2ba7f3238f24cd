"""Telegram end to end: updates by webhook and by polling, answers recorded by FakeTelegram."""

from __future__ import annotations

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

from bot.core.contract import Choice, FileBlob, Reply, UserKey
from bot.core.engine import Engine
from bot.core.feature import Command, Context, Feature
from bot.core.greetings import COMMAND_DESCRIPTIONS
from handlers.app import Core, build_core
from handlers.inbox import MemoryInbox
from handlers.ratelimit import RateLimiter
from handlers.settings import Settings
from handlers.telegram.adapter import SECRET_HEADER, TelegramAdapter
from handlers.telegram.callbacks import CallbackIds
from handlers.web.server import FLOW, PIPELINE, TELEGRAM, RunningServer, create_app
from tests.conftest import make_lao_admin
from tests.fakes import Call, FakeTelegram, wait_for

DATA = Path(__file__).parent / "data" / "telegram"
TOKEN = "123:TEST"
WEBHOOK_SECRET = "wh-secret-0123456789"
CHAT = 5001
GROUP = -100123456789
PUBLIC = "https://bot.example.org"
PDF = FileBlob(b"%PDF-1.7 fake" + bytes(300), "แบบฟอร์ม ใบเสร็จรับเงิน.pdf", "application/pdf")
LONG_ACTION = "form:" + "ก" * 40  # 125 bytes in UTF-8: over Telegram's 64


def load(name: str, **changes: Any) -> dict[str, Any]:
    update: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    update.update(changes)
    return update


class Stub(Feature):
    """A feature with a file, a very long text and a button with long data."""

    name = "stub"
    action_prefixes = (LONG_ACTION.partition(":")[0],)

    def commands(self) -> list[Command]:
        return [
            Command(("export",), (), lambda ctx, a: [Reply("ไฟล์ของคุณค่ะ", file=PDF)]),
            Command(("long",), (), lambda ctx, a: [Reply("บรรทัดยาว\n" * 1000)]),
            Command(("button",), (),
                    lambda ctx, a: [Reply("กดปุ่ม", (Choice("ยาว", LONG_ACTION),))]),
        ]

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        return [Reply("ได้รับปุ่มยาวแล้ว")] if action == LONG_ACTION else None


@pytest.fixture(scope="module")
def base_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    core = build_core(Settings(data_dir=tmp_path_factory.mktemp("tg") / "data"))
    yield core
    core.store.close()


@pytest.fixture
def fake(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram


@dataclasses.dataclass
class Rig:
    fake: FakeTelegram
    core: Core
    server: RunningServer
    http: aiohttp.ClientSession

    @property
    def telegram(self) -> TelegramAdapter:
        adapter = self.server.app[TELEGRAM]
        assert adapter is not None
        return adapter

    async def post(self, update: dict[str, Any] | bytes, *,
                   secret: str | None = WEBHOOK_SECRET) -> int:
        raw = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with self.http.post(f"{self.server.base_url}/telegram/webhook", data=raw,
                                  headers=headers) as resp:
            await resp.read()
            return resp.status

    async def idle(self) -> None:
        await wait_for(lambda: self.server.app[FLOW].tasks.pending == 0
                       and self.telegram.app.update_queue.empty())
        await wait_for(lambda: self.server.app[FLOW].tasks.pending == 0)

    def sends(self) -> list[Call]:
        return [c for c in self.fake.calls if c.method in ("sendMessage", "sendDocument")]


async def start_rig(base: Core, fake: FakeTelegram, *, webhook: bool = True,
                    features: list[Feature] | None = None,
                    admins: frozenset[UserKey] = frozenset()) -> Rig:
    settings = Settings(data_dir=base.settings.data_dir, telegram_bot_token=TOKEN,
                        telegram_api_base=fake.base_url + "/bot", public_base_url=PUBLIC,
                        telegram_webhook_secret=WEBHOOK_SECRET if webhook else "",
                        admins=admins)
    core = dataclasses.replace(base, settings=settings)
    if features is not None:
        core.engine = Engine(base.kb, base.engine.pipeline, base.store, base.status,
                             features=features)
    app = create_app(core, extensions=[], poll_interval=0.05, inbox=MemoryInbox())
    app[FLOW].limiter = RateLimiter(capacity=10_000)
    server = RunningServer(app)
    await server.start("127.0.0.1", 0)
    return Rig(fake, core, server, aiohttp.ClientSession())


@pytest.fixture
async def rig(base_core: Core, fake: FakeTelegram) -> AsyncIterator[Rig]:
    r = await start_rig(base_core, fake)
    yield r
    await r.http.close()
    await r.server.stop()


def keyboard(call: Call) -> list[list[dict[str, str]]]:
    markup = call.body.get("reply_markup")
    if isinstance(markup, str):  # a multipart sendDocument carries it as JSON text
        markup = json.loads(markup)
    return markup["inline_keyboard"] if markup else []


# ---------------------------------------------------------------------------- start-up


async def test_start_up_sets_thai_commands_and_webhook(rig: Rig) -> None:
    methods = [c.method for c in rig.fake.calls]
    assert methods[:1] == ["getMe"]
    commands = json.loads(next(c for c in rig.fake.calls if c.method == "setMyCommands")
                          .body["commands"])
    names = [c["command"] for c in commands]
    assert names[:4] == ["start", "help", "status", "guide"]
    assert {"forms", "log", "today", "export", "subscribe", "unsubscribe", "join"} <= set(names)
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in c["description"]) for c in commands)
    hook = next(c for c in rig.fake.calls if c.method == "setWebhook").body
    assert hook["url"] == f"{PUBLIC}/telegram/webhook"
    assert hook["secret_token"] == WEBHOOK_SECRET
    assert "getUpdates" not in methods
    assert all(TOKEN in c.path for c in rig.fake.calls)  # token appended to TELEGRAM_API_BASE


async def test_command_menu_is_every_command_the_engine_answers(rig: Rig) -> None:
    """The menu was a list of its own and fell behind (no /edit, no /entries): it is built
    from the engine's commands, each once, under a name Telegram accepts (everyone's menu:
    all but the staff commands)."""
    sent = json.loads(next(c for c in rig.fake.calls if c.method == "setMyCommands")
                      .body["commands"])
    names = [c["command"] for c in sent]
    engine = rig.core.engine
    assert sorted(names) == sorted(c.slash[0] for c in engine.commands() if not c.staff)
    assert {"edit", "entries", "summary", "void"} <= set(names)
    assert len(names) == len(set(names)) <= 100
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", n) for n in names)
    described = {c["command"]: c["description"] for c in sent}
    assert all(0 < len(d) <= 256 for d in described.values())
    # each has its own description, not the fallback (its first Thai word)
    assert described["edit"] == COMMAND_DESCRIPTIONS["edit"]
    assert set(COMMAND_DESCRIPTIONS) == set(names) | {"console", "announce", "setstatus"}


async def test_staff_commands_are_in_the_menu_of_known_staff_only(
        base_core: Core, fake: FakeTelegram) -> None:
    """The menu showed "(เจ้าหน้าที่)" commands to every clerk. Everyone's menu (the default
    scope) has the clerk commands; national admins and operators with a Telegram account get
    the full list in their own chat (BotCommandScopeChat), set at start."""
    from bot.notices.operators import Operators
    from tests.conftest import FIXED_NOW

    operators = Operators(base_core.store)
    operators.add("telegram:7002", ["ลำพูน"], by="t", now=FIXED_NOW)
    operators.add("line:Uop", ["ลำพูน"], by="t", now=FIXED_NOW)  # not on Telegram
    admins = frozenset(UserKey.parse(u) for u in ("telegram:7001", "line:Uadmin"))
    rig = await start_rig(base_core, fake, admins=admins)
    try:
        menus = {json.dumps(json.loads(c.body["scope"]), sort_keys=True) if "scope" in c.body
                 else "default": [m["command"] for m in json.loads(c.body["commands"])]
                 for c in fake.calls if c.method == "setMyCommands"}
    finally:
        await rig.http.close()
        await rig.server.stop()
        operators.remove("telegram:7002")
        operators.remove("line:Uop")
    staff = {"console", "announce", "setstatus"}
    every = {c.slash[0] for c in base_core.engine.commands()}
    assert set(menus["default"]) == every - staff
    for chat in (7001, 7002):
        scope = json.dumps({"type": "chat", "chat_id": chat}, sort_keys=True)
        assert set(menus.pop(scope)) == every
    assert list(menus) == ["default"]  # no one else, no LINE account
    assert not any("(เจ้าหน้าที่)" in COMMAND_DESCRIPTIONS.get(n, "") for n in every - staff)


# ---------------------------------------------------------------------------- answers


async def test_thai_question_answered_with_buttons(rig: Rig) -> None:
    assert await rig.post(load("text")) == 200
    sent = await wait_for(lambda: rig.fake.sent_texts(CHAT))
    assert "สถานะ" in sent[0] and "e-LAAS" in sent[0]
    call = rig.sends()[0]
    buttons = [b for row in keyboard(call) for b in row]
    assert buttons and all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert any(b["callback_data"] == "cmd:subscribe" for b in buttons)


async def test_button_press_answered(rig: Rig) -> None:
    assert await rig.post(load("callback_query")) == 200
    sent = await wait_for(lambda: rig.fake.sent_texts(CHAT))
    assert "สถานะ" in sent[0]
    answered = [c for c in rig.fake.calls if c.method == "answerCallbackQuery"]
    assert answered and answered[0].body["callback_query_id"] == "4382bfdwdsb323b2d9"
    first_answer = rig.fake.calls.index(answered[0])
    first_send = rig.fake.calls.index(rig.sends()[0])
    assert first_answer < first_send  # the spinner stops before the work


async def test_duplicate_update_id_handled_once(rig: Rig) -> None:
    update = load("text")
    for _ in range(3):
        assert await rig.post(update) == 200
    await rig.idle()
    assert len(rig.fake.sent_texts(CHAT)) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong"])
async def test_webhook_secret_checked(rig: Rig, secret: str | None) -> None:
    before = len(rig.fake.calls)
    assert await rig.post(load("text"), secret=secret) == 403
    await rig.idle()
    assert len(rig.fake.calls) == before
    assert rig.telegram.stats["updates"] == 0


async def test_body_over_one_megabyte_refused(rig: Rig) -> None:
    big = b'{"update_id": 1, "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert await rig.post(big) == 413
    assert await rig.post(b"not json") == 400


@pytest.mark.parametrize(("name", "chat", "expect"), [
    ("start", CHAT, "สวัสดีค่ะ ผู้ช่วย"),
    ("sticker", CHAT, "ตอนนี้รับได้เฉพาะข้อความตัวอักษร"),
    ("photo", CHAT, "ตอนนี้รับได้เฉพาะข้อความตัวอักษร"),
    ("location", CHAT, "ตอนนี้รับได้เฉพาะข้อความตัวอักษร"),
    ("group_command", GROUP, "สถานะ"),
    ("group_mention", GROUP, ""),
    ("group_added", GROUP, "ขอบคุณที่ชวนเข้ากลุ่ม"),
])  # fmt: skip
async def test_update_kinds_answered(rig: Rig, name: str, chat: int, expect: str) -> None:
    assert await rig.post(load(name)) == 200
    sent = await wait_for(lambda: rig.fake.sent_texts(chat))
    assert expect in sent[0]


@pytest.mark.parametrize("name", ["group_plain", "group_command_other_bot", "blocked",
                                  "edited_message", "new_members"])
async def test_update_kinds_ignored(rig: Rig, name: str) -> None:
    before = len(rig.fake.calls)
    assert await rig.post(load(name)) == 200
    await rig.idle()
    assert rig.fake.calls[before:] == []


async def test_group_mention_is_stripped(rig: Rig) -> None:
    update = load("group_mention")
    planned = rig.telegram.plan(__import__("telegram").Update.de_json(update, rig.telegram.bot))
    assert planned is not None
    incoming = planned.incoming
    assert incoming is not None and incoming.text == "ระบบกลับมาหรือยัง" and incoming.is_group


# ---------------------------------------------------------------------------- files, limits


async def test_export_sent_as_document_with_thai_name(base_core: Core,
                                                      fake: FakeTelegram) -> None:
    rig = await start_rig(base_core, fake, features=[Stub()])
    try:
        assert await rig.post(load("export")) == 200
        doc = (await wait_for(lambda: [c for c in fake.calls if c.method == "sendDocument"]))[0]
        name, data = doc.files["document"]
        assert name == PDF.filename
        assert data == PDF.data
        assert doc.body["caption"] == "ไฟล์ของคุณค่ะ"
        assert str(doc.body["chat_id"]) == str(CHAT)
    finally:
        await rig.http.close()
        await rig.server.stop()


async def test_long_text_split_at_4096(base_core: Core, fake: FakeTelegram) -> None:
    rig = await start_rig(base_core, fake, features=[Stub()])
    try:
        assert await rig.post(load("text", message={**load("text")["message"],
                                                    "text": "/long"})) == 200
        await rig.idle()
        sent = fake.sent_texts(CHAT)
        assert len(sent) == 3 and all(len(t) <= 4096 for t in sent)
        assert "".join(sent).count("บรรทัดยาว") == 1000
    finally:
        await rig.http.close()
        await rig.server.stop()


async def test_long_callback_data_mapped_through_short_id(base_core: Core,
                                                          fake: FakeTelegram) -> None:
    rig = await start_rig(base_core, fake, features=[Stub()])
    try:
        await rig.post(load("text", message={**load("text")["message"], "text": "/button"}))
        call = (await wait_for(rig.sends))[0]
        data = keyboard(call)[0][0]["callback_data"]
        assert data.startswith("k:") and len(data.encode()) <= 64
        press = load("callback_query")
        press["callback_query"] = {**press["callback_query"], "data": data}
        await rig.post(press)
        assert "ได้รับปุ่มยาวแล้ว" in (await wait_for(
            lambda: fake.sent_texts(CHAT)[1:]))[0]
    finally:
        await rig.http.close()
        await rig.server.stop()


def test_callback_ids_bounded() -> None:
    ids = CallbackIds(maxlen=2)
    assert ids.encode("cmd:status") == "cmd:status"
    longs = [ids.encode(f"x:{'y' * 70}{i}") for i in range(3)]
    assert ids.decode(longs[2]).endswith("2")
    assert ids.decode(longs[0]) == longs[0]  # forgotten: the engine calls it expired


def test_long_button_pressed_on_another_instance(pg_url: str) -> None:
    # Two instances on one database: the button was drawn by A, the press reaches B.
    from bot.core.pgstore import PgStore
    from handlers.telegram.callbacks import CALLBACKS

    a_store, b_store = PgStore(pg_url, max_size=1), PgStore(pg_url, max_size=1)
    try:
        a = CallbackIds(table=a_store.table(CALLBACKS))
        b = CallbackIds(table=b_store.table(CALLBACKS))
        action = f"x:{'y' * 70}"
        data = a.encode(action)
        assert len(data.encode()) <= 64 and data != action
        assert b.decode(data) == action
        assert b.decode("k:" + "0" * 24) == "k:" + "0" * 24  # unknown: expired, as before
    finally:
        a_store.close()
        b_store.close()


async def test_429_retry_after_is_honoured(rig: Rig) -> None:
    rig.fake.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    await rig.post(load("text"))
    await wait_for(lambda: rig.fake.sent_texts(CHAT) and all(
        c.status == 200 for c in rig.sends()[-1:]) and len(rig.sends()) == 2, timeout=6)
    assert time.monotonic() - started >= 1.0


async def test_500_does_not_stop_the_next_update(rig: Rig) -> None:
    rig.fake.fail_next("sendMessage", 500, times=3)
    await rig.post(load("text"))
    await wait_for(lambda: rig.telegram.stats["failures"] == 1, timeout=6)
    await rig.post(load("callback_query"))
    await wait_for(lambda: any(c.status == 200 for c in rig.sends()))


async def test_blocked_user_is_logged_not_raised(rig: Rig) -> None:
    rig.fake.blocked.add(str(CHAT))
    await rig.post(load("text"))
    await wait_for(lambda: rig.telegram.stats["failures"] == 1)
    rig.fake.blocked.clear()
    await rig.post(load("start"))
    await wait_for(lambda: any(c.status == 200 for c in rig.sends()))


async def test_quick_entry_once_despite_duplicate(rig: Rig) -> None:
    book = make_lao_admin(rig.core, f"telegram:{CHAT}", "07654321", "อบต.ทดสอบสอง")
    update = load("quick_entry")
    await rig.post(update)
    await rig.post(copy.deepcopy(update))
    await rig.idle()
    assert len(rig.fake.sent_texts(CHAT)) == 1
    rig.server.app[PIPELINE].seen.clear()  # as if forgotten: the engine's idempotency
    await rig.post(update)
    sent = await wait_for(lambda: rig.fake.sent_texts(CHAT)[1:])
    assert "ไม่บันทึกซ้ำ" in sent[0]
    assert len(book) == 1


# ---------------------------------------------------------------------------- polling


async def test_polling_mode_answers_a_queued_update(base_core: Core, fake: FakeTelegram) -> None:
    fake.updates.append(load("text"))
    rig = await start_rig(base_core, fake, webhook=False)
    try:
        sent = await wait_for(lambda: fake.sent_texts(CHAT))
        assert "สถานะ" in sent[0]
        methods = [c.method for c in fake.calls]
        assert "deleteWebhook" in methods and "getUpdates" in methods
        assert "setWebhook" not in methods
        assert await rig.post(load("start")) == 404  # no webhook route in polling mode
    finally:
        await rig.http.close()
        await rig.server.stop()
    assert rig.server.app[TELEGRAM] is not None
    polls = len([c for c in fake.calls if c.method == "getUpdates"])
    await __import__("asyncio").sleep(0.2)
    assert len([c for c in fake.calls if c.method == "getUpdates"]) == polls  # stopped


async def test_polling_waits_out_a_full_backlog_instead_of_dropping_updates(
        base_core: Core, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram never redelivers a polled update (the next poll confirms it), so the 503 a
    webhook gets from a full backlog cannot be the answer here: the update must wait."""
    from handlers import pipeline as pipeline_module
    from handlers.ratelimit import OrderedTasks

    monkeypatch.setattr(pipeline_module, "ACCEPT_WAIT", 0.05)
    fake.delay = 0.2  # a slow Telegram: one worker answers about five updates a second
    rig = await start_rig(base_core, fake, webhook=False)
    try:
        rig.server.app[FLOW].tasks = OrderedTasks(workers=1, backlog=1)
        fake.updates.extend(load("text", update_id=870_000 + i) for i in range(5))
        await wait_for(lambda: len(fake.sent_texts(CHAT)) >= 5, timeout=20)
        await rig.idle()
        assert len(fake.sent_texts(CHAT)) == 5  # each once, none dropped
    finally:
        await rig.http.close()
        await rig.server.stop()


async def test_flood_gets_one_warning_then_silence(rig: Rig) -> None:
    from bot.core.greetings import RATE_LIMITED_TEXT

    rig.server.app[FLOW].limiter = RateLimiter()  # the real limit: 10 per 10 s
    base = load("start")
    for i in range(13):
        await rig.post({**base, "update_id": 900_000 + i})
    await rig.idle()
    sent = rig.fake.sent_texts(CHAT)
    assert len(sent) == 11
    assert sent.count(RATE_LIMITED_TEXT) == 1 and sent[-1] == RATE_LIMITED_TEXT


async def test_ledger_export_sent_as_document(rig: Rig) -> None:
    code = "07654322"
    make_lao_admin(rig.core, f"telegram:{CHAT}", code, "อบต.ส่งออกสอง")
    await rig.post(load("quick_entry", update_id=880_001))
    await wait_for(lambda: rig.fake.sent_texts(CHAT))
    await rig.post(load("export", update_id=880_002))
    doc = (await wait_for(lambda: [c for c in rig.fake.calls if c.method == "sendDocument"]))[0]
    name, data = doc.files["document"]
    assert name.startswith(f"elaas-{code}-") and name.endswith(".xlsx")
    assert data[:2] == b"PK"  # an xlsx (zip) file
