"""Bugs a QA tester met by posting real signed webhooks: standby events, groups without a 1:1
chat, event-dated entries, invisible characters, reply failures, forwards, mentions."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.core.contract import Incoming
from bot.core.engine import BANGKOK
from bot.core.feature import Context, Session
from bot.ledger.book import Ledger
from handlers.app import Core, build_core
from handlers.settings import Settings
from tests import test_line as tl
from tests import test_telegram as tt
from tests.conftest import make_lao_admin
from tests.fakes import FakeLine, FakeTelegram, wait_for

LAO = "05510199"
CLERK = "U4af4980629e3c2b1a0f9e8d7c6b5a4f3"  # the user of the LINE fixtures
GROUP = "Ca56f94637cc4347f90a25382909b24b9"
TOO_LONG = "ข้อความยาวเกินไปค่ะ"


@pytest.fixture(scope="module")
def base_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    core = build_core(Settings(data_dir=tmp_path_factory.mktemp("qa") / "data"))
    yield core
    core.store.close()


@pytest.fixture
def ledger(base_core: Core) -> Ledger:
    make_lao_admin(base_core, f"telegram:{tt.CHAT}", LAO)
    return make_lao_admin(base_core, f"line:{CLERK}", LAO)


@pytest.fixture
async def line(base_core: Core, fake_line: FakeLine) -> AsyncIterator[tl.Rig]:
    r = await tl.start_rig(base_core, fake_line)
    yield r
    await r.http.close()
    await r.server.stop()


@pytest.fixture
async def tg(base_core: Core, fake_telegram: FakeTelegram) -> AsyncIterator[tt.Rig]:
    r = await tt.start_rig(base_core, fake_telegram)
    yield r
    await r.http.close()
    await r.server.stop()


_n = iter(range(10_000, 99_999))


def line_text(text: str, *, age: float = 0.0, group: bool = False, **changes: Any
              ) -> dict[str, Any]:
    body = tl.load("group_text_prefix" if group else "quick_entry", age=age)
    e = tl.event(body)
    n = next(_n)
    e.update(webhookEventId=f"01QAWEBHOOK{n:015d}", replyToken=f"rt-qa-{n}", **changes)
    e["message"]["text"] = text
    return body


def tg_message(text: str, *, chat: int = tt.CHAT, age: float = 0.0, **fields: Any
               ) -> dict[str, Any]:
    update = copy.deepcopy(tt.load("group_mention" if chat < 0 else "quick_entry"))
    update["update_id"] = next(_n)
    msg = update["message"]
    msg.update(text=text, date=int(time.time() - age), message_id=next(_n), **fields)
    msg.pop("entities", None)
    return update


def said_to(rig: tl.Rig, token: str, to: str) -> str:
    calls = rig.replies_to(token) + [c for c in rig.fake.calls_to(tl.PUSH)
                                     if c.body.get("to") == to]
    return "\n".join(t for c in calls for t in tl.texts(c))


def bangkok_today(age: float = 0.0) -> Any:
    return (datetime.now(BANGKOK) - timedelta(seconds=age)).date()


# ---------------------------------------------------------------------------- 1. standby


async def test_line_standby_event_is_neither_answered_nor_saved(line: tl.Rig,
                                                                ledger: Ledger) -> None:
    before = len(ledger)
    standby = line_text("รับ 505 ค่าสแตนด์บาย", mode="standby")
    tl.event(standby).pop("replyToken")
    assert (await line.post(standby)).status == 200
    active = line_text("สถานะ")
    await line.post(active)
    await wait_for(lambda: line.replies_to(tl.event(active)["replyToken"]))
    await line.idle()
    assert len(ledger) == before
    assert line.fake.calls_to(tl.PUSH) == []
    assert len(line.fake.calls_to(tl.REPLY)) == 1


# ------------------------------------------------- 2. + 8. group entry without a 1:1 chat


async def test_line_group_entry_without_1to1_chat_is_saved_once_and_said_so(
        line: tl.Rig, ledger: Ledger) -> None:
    line.fake.friends = set()  # the clerk has not added the bot: LINE refuses the push
    before = len(ledger)
    body = line_text("บอท รับ 1,234 ค่ากลุ่มไม่มีแชต", group=True)
    body["events"][0]["source"]["userId"] = CLERK
    await line.post(body)
    token = tl.event(body)["replyToken"]
    said = "\n".join(await wait_for(lambda: [t for c in line.replies_to(token)
                                             for t in tl.texts(c)]))
    assert len(ledger) == before + 1
    assert "ไม่ต้องพิมพ์ซ้ำ" in said and "อีกครั้ง" not in said, said
    assert "1,234" not in said  # no detail in the group
    assert "เพิ่มเพื่อน" in said and "https://line.me/R/ti/p/" in said


async def test_telegram_group_entry_without_started_chat_is_saved_once_and_said_so(
        tg: tt.Rig, ledger: Ledger) -> None:
    tg.fake.started = set()  # the clerk never pressed Start: Telegram refuses (403)
    before = len(ledger)
    assert await tg.post(tg_message("@elaas_test_bot รับ 2,345 ค่ากลุ่มเทเลแกรม",
                                    chat=tt.GROUP)) == 200
    said = "\n".join(await wait_for(lambda: tg.fake.sent_texts(tt.GROUP)))
    assert len(ledger) == before + 1
    assert "ไม่ต้องพิมพ์ซ้ำ" in said and "อีกครั้ง" not in said and "2,345" not in said, said
    assert "Start" in said and "เพิ่มเพื่อน" not in said, said
    assert "https://t.me/elaas_test_bot?start=private" in said


async def test_telegram_open_private_hint_names_start_not_add_friend(tg: tt.Rig,
                                                                    ledger: Ledger) -> None:
    tg.fake.started = set()
    assert await tg.post(tg_message("@elaas_test_bot วันนี้", chat=tt.GROUP)) == 200
    said = "\n".join(await wait_for(lambda: tg.fake.sent_texts(tt.GROUP)))
    assert "Start" in said and "เพิ่มเพื่อน" not in said, said


# ---------------------------------------------------------- 3. dated by the event's time


async def test_line_redelivered_entry_is_dated_by_its_timestamp(line: tl.Rig,
                                                                ledger: Ledger) -> None:
    age = 26 * 3600
    body = line_text("รับ 3,456 ค่าส่งซ้ำ", age=age, deliveryContext={"isRedelivery": True})
    await line.post(body)
    await wait_for(lambda: line.fake.calls_to(tl.PUSH))
    await line.idle()
    saved = ledger.get(len(ledger))
    assert saved is not None and saved.amount == Decimal("3456")
    assert saved.date == bangkok_today(age)


async def test_telegram_backlog_entry_is_dated_by_message_date(tg: tt.Rig,
                                                               ledger: Ledger) -> None:
    age = 25 * 3600
    await tg.post(tg_message("รับ 4,567 ค่าค้างคิว", age=age))
    await wait_for(lambda: tg.fake.sent_texts(tt.CHAT))
    await tg.idle()
    saved = ledger.get(len(ledger))
    assert saved is not None and saved.amount == Decimal("4567")
    assert saved.date == bangkok_today(age)


@pytest.mark.parametrize("timestamp", [10**18, -1, 4 * 10**12])
async def test_line_absurd_timestamp_is_answered_and_dated_today(line: tl.Rig, ledger: Ledger,
                                                                 timestamp: int) -> None:
    amount = 6000 + next(_n) % 1000
    body = line_text(f"รับ {amount} ค่าเวลาเพี้ยน", timestamp=timestamp)
    await line.post(body)
    await wait_for(lambda: line.fake.calls)
    await line.idle()
    saved = ledger.get(len(ledger))
    assert saved is not None and saved.amount == Decimal(amount)
    assert saved.date == bangkok_today()


@pytest.mark.parametrize(("sent", "expected_days_ago"), [
    (timedelta(minutes=-20), 1),  # typed at 23:50, handled after midnight
    (timedelta(hours=-26), 2),
    (timedelta(days=2), 0),      # a clock from the future: now
    (timedelta(days=-400), 0),   # absurdly old: now
    (None, 0),
])
def test_context_today_is_the_day_the_message_was_sent(sent: timedelta | None,
                                                       expected_days_ago: int) -> None:
    now = datetime(2026, 12, 2, 0, 10, tzinfo=BANGKOK)
    at = None if sent is None else (now + sent).astimezone(UTC)
    ctx = Context(Incoming("line", "U1", "U1", text="x", received_at=at), Session({}), now)
    assert ctx.today == now.date() - timedelta(days=expected_days_ago)


def test_entry_typed_before_midnight_is_dated_the_day_it_was_typed(base_core: Core,
                                                                   ledger: Ledger) -> None:
    typed = datetime.now(BANGKOK).replace(hour=23, minute=55) - timedelta(days=1)
    inc = Incoming("line", CLERK, CLERK, text="รับ 5,678 ค่าก่อนเที่ยงคืน", event_id="qa-midnight",
                   received_at=typed.astimezone(UTC))
    base_core.engine.reply_to(inc)
    saved = ledger.get(len(ledger))
    assert saved is not None and saved.amount == Decimal("5678")
    assert saved.date == typed.date()


# ----------------------------------------------------------- 4. invisible characters


@pytest.mark.parametrize(("text", "amount", "description"), [
    ("รับ\u200b 1,5\u200b00 ค่า\u200bขยะ\u200d", "1500", "ค่าขยะ"),
    ("รับ 1\u200b600 ค่าขยะ", "1600", "ค่าขยะ"),
    ("รับ 1,700 ค่า\u200bขยะ", "1700", "ค่าขยะ"),
    ("รับ 1,800 ค่า\u00adขยะ\u2060\ufeff", "1800", "ค่าขยะ"),
    ("\ufeffจ่าย 2\u200c500 ค่า\u200cน้ำมัน", "2500", "ค่าน้ำมัน"),
])
def test_invisible_characters_are_removed_not_read_as_spaces(
        base_core: Core, ledger: Ledger, text: str, amount: str, description: str) -> None:
    before = len(ledger)
    replies = base_core.engine.reply_to(Incoming("line", CLERK, CLERK, text=text,
                                                 event_id=f"qa-zw-{next(_n)}"))
    assert len(ledger) == before + 1, replies[0].text
    saved = ledger.get(len(ledger))
    assert saved is not None
    assert saved.amount == Decimal(amount) and saved.description == description


# ----------------------------------------------------------- 5. reply 5xx -> push


async def test_line_reply_failing_with_5xx_falls_back_to_push(line: tl.Rig, ledger: Ledger,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    caplog.set_level(logging.DEBUG)  # the per-event "answered ... by push" line is DEBUG
    line.fake.fail_next(tl.REPLY, 500, times=10)
    body = line_text("สถานะ")
    await line.post(body)
    pushed = await wait_for(lambda: [c for c in line.fake.calls_to(tl.PUSH)
                                     if c.body.get("to") == CLERK and c.status == 200])
    assert tl.texts(pushed[0]) and pushed[0].headers.get("X-Line-Retry-Key")
    await line.idle()
    assert "e-LAAS" in "\n".join(tl.texts(pushed[0]))
    assert any("pushing instead" in r.getMessage() for r in caplog.records)
    assert any("by push" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if "by reply" in r.getMessage()]


# ------------------------------------------------------------ 6. forwarded messages


async def test_telegram_forwarded_entry_is_not_saved(tg: tt.Rig, ledger: Ledger) -> None:
    before = len(ledger)
    forwarded = tg_message("รับ 9,999 ค่าส่งต่อ", forward_date=int(time.time()) - 60,
                           forward_origin={"type": "user", "date": int(time.time()) - 60,
                                           "sender_user": {"id": 4242, "is_bot": False,
                                                           "first_name": "คนอื่น"}})
    await tg.post(forwarded)
    said = "\n".join(await wait_for(lambda: tg.fake.sent_texts(tt.CHAT)))
    await tg.idle()
    assert len(ledger) == before
    assert "ส่งต่อ" in said and "พิมพ์เอง" in said, said


async def test_telegram_forwarded_question_is_answered(tg: tt.Rig) -> None:
    forwarded = tg_message("ระบบ e-LAAS ล่มไหม", forward_date=int(time.time()) - 60,
                           forward_origin={"type": "hidden_user", "date": int(time.time()) - 60,
                                           "sender_user_name": "คนอื่น"})
    await tg.post(forwarded)
    said = "\n".join(await wait_for(lambda: tg.fake.sent_texts(tt.CHAT)))
    assert "e-LAAS" in said and "พิมพ์เอง" not in said


# ----------------------------------------------------- 7. a mention of another bot


@pytest.mark.parametrize("entities", [True, False])
async def test_telegram_mention_of_another_bot_is_not_for_us(tg: tt.Rig,
                                                             entities: bool) -> None:
    other = tg_message("@elaas_test_bot2 ระบบล่มไหม", chat=tt.GROUP)
    if entities:
        other["message"]["entities"] = [{"offset": 0, "length": 16, "type": "mention"}]
    ours = tg_message("@elaas_test_bot ระบบล่มไหม", chat=tt.GROUP)
    if entities:
        ours["message"]["entities"] = [{"offset": 0, "length": 15, "type": "mention"}]
    await tg.post(other)
    await tg.post(ours)
    await wait_for(lambda: tg.fake.sent_texts(tt.GROUP))
    await tg.idle()
    assert len(tg.fake.sent_texts(tt.GROUP)) == 1


# ------------------------------------------------------------ 9. a too-long entry


@pytest.mark.parametrize("newline", ["\n", " "])
def test_too_long_entry_gets_the_too_long_message(base_core: Core, ledger: Ledger,
                                                  newline: str) -> None:
    text = newline.join(f"รับ {i + 1} ค่าบรรทัดที่ {i} ของวันนี้ยาวมาก" for i in range(80))
    assert len(text) > 2000
    replies = base_core.engine.reply_to(Incoming("line", CLERK, CLERK, text=text))
    assert TOO_LONG in replies[0].text


# ---------------------------------------------------- 10. anonymous members and forms


async def test_line_anonymous_member_sees_no_form_buttons_that_refuse(line: tl.Rig) -> None:
    body = line_text("บอท แบบฟอร์ม", group=True)
    body["events"][0]["source"].pop("userId", None)
    await line.post(body)
    token = tl.event(body)["replyToken"]
    calls = await wait_for(lambda: line.replies_to(token))
    messages = calls[0].body["messages"]
    actions = [i["action"].get("data", "") for m in messages
               for i in (m.get("quickReply") or {}).get("items", [])]
    assert not [a for a in actions if a.startswith(("form:", "formx:"))], actions
    said = "\n".join(tl.texts(calls[0]))
    assert "แบบฟอร์ม" in said and "https://line.me/R/ti/p/" in said
