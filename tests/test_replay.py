"""Replay after a crash: an event whose sending had started is not answered a second time."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.core.contract import Incoming
from handlers.app import Core, build_core
from handlers.inbox import FileInbox, Inbox, SharedInbox
from handlers.line.adapter import _retry_key
from handlers.pipeline import Inbound
from handlers.settings import Settings
from handlers.web.server import FLOW, PIPELINE, RunningServer, create_app
from tests.fakes import FakeLine, FakeTelegram, wait_for

QUESTION = "ระบบ e-LAAS ล่มอยู่ไหม"
PUSH = "/v2/bot/message/push"
REPLY = "/v2/bot/message/reply"


@pytest.fixture(scope="module")
def base_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    core = build_core(Settings(data_dir=tmp_path_factory.mktemp("replay") / "data"))
    yield core
    core.store.close()


def line_item(n: int, *, age: float) -> Inbound:
    at = time.time() - age
    user = f"Ureplay{n:027d}"
    inc = Incoming("line", user, user, text=QUESTION, event_id=f"ev-replay-{n}",
                   received_at=datetime.fromtimestamp(at, UTC))
    return Inbound("line", f"ev-replay-{n}", user, inc, reply_token=f"rt-replay-{n}", at=at,
                   kind="message")


def telegram_item(chat: int) -> Inbound:
    inc = Incoming("telegram", str(chat), str(chat), text=QUESTION, event_id=f"u{chat}",
                   received_at=datetime.now(UTC))
    return Inbound("telegram", f"u{chat}", str(chat), inc, kind="message")


async def journal(path: Path, items: list[tuple[Inbound, str]]) -> None:
    """What a killed serve leaves: accepted records, some with a sending mark."""
    inbox = FileInbox(path)
    inbox.load()
    await inbox.accept([(i.key, i.to_record()) for i, _ in items])
    for item, how in items:
        if how:
            await inbox.sending(item.key, how)
    await inbox.close()


async def run_app(core: Core, settings: Settings, inbox: Inbox | SharedInbox,
                  until: float = 0.0) -> None:
    """Start serve's app (which replays the inbox), wait until it is idle, stop it."""
    app = create_app(dataclasses.replace(core, settings=settings), extensions=[], inbox=inbox)
    server = RunningServer(app)
    await server.start("127.0.0.1", 0)
    try:
        if until:
            await wait_for(lambda: app[PIPELINE].stats["answered"] >= until, timeout=10)
        await wait_for(lambda: app[FLOW].tasks.pending == 0)
    finally:
        await server.stop()


def line_settings(core: Core, fake: FakeLine, **kw: str) -> Settings:
    return Settings(data_dir=core.settings.data_dir, line_channel_secret="s",
                    line_channel_access_token="T", line_api_base=fake.base_url, **kw)


def pushes_to(fake: FakeLine, user: str) -> list[int]:
    return [c.status for c in fake.calls_to(PUSH) if c.body.get("to") == user]


async def pre_push(fake: FakeLine, item: Inbound) -> None:
    """The push the killed run made (LINE holds on to its retry key)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}{PUSH}", json={
                "to": item.to, "messages": [{"type": "text", "text": "คำตอบแรก"}]}, headers={
                "Authorization": "Bearer T",
                "X-Line-Retry-Key": _retry_key(item, "push/0")}) as resp:
            assert resp.status == 200


async def test_line_file_inbox_replay(base_core: Core, fake_line: FakeLine,
                                      tmp_path: Path) -> None:
    marked_reply = line_item(1, age=120)  # replied before the crash; the token is stale now
    unmarked = line_item(2, age=120)  # accepted, never sent: must be answered (by push)
    marked_push = line_item(3, age=120)  # pushed before the crash: LINE drops the copy
    fresh_marked = line_item(4, age=0)  # token fresh: a second reply is refused by LINE
    await pre_push(fake_line, marked_push)
    path = tmp_path / "inbox.journal"
    await journal(path, [(marked_reply, "reply"), (unmarked, ""), (marked_push, "push"),
                         (fresh_marked, "reply")])
    await run_app(base_core, line_settings(base_core, fake_line), FileInbox(path), until=4)
    assert pushes_to(fake_line, marked_reply.to) == []
    assert pushes_to(fake_line, unmarked.to) == [200]
    assert pushes_to(fake_line, marked_push.to) == [200, 409]  # the second one deduplicated
    assert [c.status for c in fake_line.calls_to(REPLY)
            if c.body.get("replyToken") == fresh_marked.reply_token] == [200]
    assert FileInbox(path).load().pending == []


async def test_telegram_file_inbox_replay(base_core: Core, fake_telegram: FakeTelegram,
                                          tmp_path: Path) -> None:
    sent, unsent = telegram_item(7001), telegram_item(7002)
    path = tmp_path / "inbox.journal"
    await journal(path, [(sent, "send"), (unsent, "")])
    settings = Settings(data_dir=base_core.settings.data_dir, telegram_bot_token="123:T",
                        telegram_api_base=fake_telegram.base_url + "/bot",
                        public_base_url="https://bot.example.org",
                        telegram_webhook_secret="wh-secret-0123456789")
    await run_app(base_core, settings, FileInbox(path), until=2)
    assert fake_telegram.sent_texts(7001) == []  # at most once: it may have gone out
    assert len(fake_telegram.sent_texts(7002)) == 1
    assert FileInbox(path).load().pending == []


async def test_sending_mark_survives_compaction(tmp_path: Path) -> None:
    path = tmp_path / "inbox.journal"
    item = line_item(9, age=0)
    await journal(path, [(item, "reply")])
    FileInbox(path).load()  # compacts
    (_key, record), = FileInbox(path).load().pending
    assert Inbound.from_record(record).prior == "reply"


async def test_line_pg_inbox_replay(base_core: Core, fake_line: FakeLine,
                                    pg_url: str) -> None:
    """Rows a killed instance left in PostgreSQL, picked up by the sweeper of another."""
    import psycopg
    from psycopg.types.json import Jsonb

    from handlers.pginbox import PgInbox

    marked_reply, unmarked = line_item(11, age=120), line_item(12, age=120)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for item, state, how in ((marked_reply, 1, "reply"), (unmarked, 0, "")):
            conn.execute(
                "INSERT INTO elaas_inbox (key, order_key, record, state, how, attempts,"
                " accepted_at) VALUES (%s, %s, %s, %s, %s, 1, now() - interval '2 s')",
                (item.key, item.order_key, Jsonb(item.to_record()), state, how))
        conn.execute("INSERT INTO elaas_inbox_lease VALUES (%s, 'dead-instance', now())",
                     (marked_reply.order_key,))
    inbox = PgInbox(pg_url)
    await run_app(base_core, line_settings(base_core, fake_line), inbox, until=2)
    assert pushes_to(fake_line, marked_reply.to) == []
    assert pushes_to(fake_line, unmarked.to) == [200]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute("SELECT state FROM elaas_inbox").fetchall()
        assert rows == [(2,), (2,)]
        assert conn.execute("SELECT count(*) FROM elaas_inbox_lease WHERE until >"
                            " clock_timestamp()").fetchone() == (0,)


async def test_line_reply_whose_answer_was_lost_is_not_pushed_again(
        base_core: Core, fake_line: FakeLine, tmp_path: Path) -> None:
    """The reply went out, its HTTP answer was lost, the retry finds the token used: that is
    our own answer (a push now would answer twice)."""
    from tests.multikit import SECRET, line_body, post

    fake_line.single_use_tokens = True
    fake_line.lose_answers.add("lost-rt-1")
    settings = Settings(data_dir=base_core.settings.data_dir, line_channel_secret=SECRET,
                        line_channel_access_token="T", line_api_base=fake_line.base_url)
    app = create_app(dataclasses.replace(base_core, settings=settings), extensions=[],
                     inbox=FileInbox(tmp_path / "inbox.journal"))
    server = RunningServer(app)
    await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            body = line_body("01LOST0001", "U" + "l" * 32, "lost-rt-1", QUESTION)
            assert await post(http, server.base_url, body) == 200
            await wait_for(lambda: app[PIPELINE].stats["answered"] >= 1, timeout=10)
    finally:
        await server.stop()
    tries = [c.status for c in fake_line.calls_to(REPLY)]
    assert len(tries) == 2 and tries[1] == 400  # delivered, then "Invalid reply token"
    assert fake_line.calls_to(PUSH) == []
