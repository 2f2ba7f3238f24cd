"""Groups over real HTTP: anonymous members, private replies diverted to the 1:1 chat, no leaks."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import pytest

from bot.core.contract import Incoming
from bot.core.privacy import OPEN_PRIVATE, PRIVATE_ONLY, SAVED_NOT_SENT, SENT_PRIVATELY
from bot.ledger.entries import Lao
from handlers.app import Core, build_core
from handlers.settings import Settings
from tests import test_line as tl
from tests import test_telegram as tt
from tests.fakes import FakeLine, FakeTelegram, wait_for

GROUP = "Ca56f94637cc4347f90a25382909b24b9"
ROOM = "Ra8dbf4673c4c812cd491258042226c9b"
FRIEND = "U4af4980629e3c2b1a0f9e8d7c6b5a4f3"
LAO_CODE = "05510101"
ADD_FRIEND = "https://line.me/R/ti/p/%40123abcde"
CODE_RE = re.compile(r"\b[A-HJ-NP-Z2-9]{8}\b")


@pytest.fixture(scope="module")
def base_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    core = build_core(Settings(data_dir=tmp_path_factory.mktemp("groups") / "data"))
    core.book.directory.add_lao(Lao(LAO_CODE, "อบต.กลุ่มทดสอบ", "ลำพูน"))
    yield core
    core.store.close()


def admin_code(core: Core) -> str:
    return core.book.directory.invite(LAO_CODE, "admin", "cli", datetime.now().astimezone()).code


def members(core: Core) -> dict[str, dict[str, Any]]:
    return core.store.table("members").all()


def assert_no_group_membership(core: Core) -> None:
    for user in members(core):
        _, _, uid = user.partition(":")
        assert uid, user
        assert not uid.startswith(("C", "R", "-")), f"membership bound to a chat id: {user}"
        assert uid != "1087968824", "membership bound to Telegram's anonymous admin"


def assert_nothing_private(text: str) -> None:
    assert not CODE_RE.search(text), text
    assert "/files/" not in text, text
    assert "สมาชิก อปท.\n" not in text and "1,500.00" not in text, text


# ---------------------------------------------------------------------------- LINE


@pytest.fixture
def line_fake(fake_line: FakeLine) -> FakeLine:
    return fake_line


@pytest.fixture
async def line(base_core: Core, line_fake: FakeLine) -> AsyncIterator[tl.Rig]:
    r = await tl.start_rig(base_core, line_fake)
    yield r
    await r.http.close()
    await r.server.stop()


def line_event(text: str, eid: str, *, user: str | None, room: bool = False) -> dict[str, Any]:
    body = tl.load("room_command" if room else "group_text_prefix")
    e = tl.event(body)
    e["webhookEventId"] = eid
    e["replyToken"] = f"rt-{eid}"
    e["message"]["text"] = text
    if user is None:
        e["source"].pop("userId", None)
    else:
        e["source"]["userId"] = user
    return body


def line_postback(data: str, eid: str, *, user: str | None) -> dict[str, Any]:
    body = tl.load("postback")
    e = tl.event(body)
    e["webhookEventId"] = eid
    e["replyToken"] = f"rt-{eid}"
    e["postback"]["data"] = data
    e["source"] = {"type": "group", "groupId": GROUP}
    if user is not None:
        e["source"]["userId"] = user
    return body


def group_texts(rig: tl.Rig, chat: str, eid: str) -> list[str]:
    """Everything the group saw for one event: the reply-token answer and pushes to it."""
    out = [t for c in rig.replies_to(f"rt-{eid}") for t in tl.texts(c)]
    return out + [t for c in rig.fake.calls_to(tl.PUSH) if c.body.get("to") == chat
                  for t in tl.texts(c)]


@pytest.mark.parametrize("room", [False, True])
async def test_line_anonymous_member_cannot_join_or_touch_the_ledger(line: tl.Rig,
                                                                    room: bool) -> None:
    code = admin_code(line.core)
    chat = ROOM if room else GROUP
    hostile = [f"บอท เข้าร่วม {code}", f"/join {code}", "บอท เชิญ ผู้ดูแล", "บอท สมาชิก",
               "บอท รับ 1,500 ค่าขยะ", "บอท ส่งออก", "บอท วันนี้", "/announce ทดสอบ",
               "บอท ยกเลิก 1 ผิด"]
    for i, text in enumerate(hostile):
        eid = f"anon{int(room)}{i:02d}AAAAAAAAAAAAAAAAAAA"
        assert (await line.post(line_event(text, eid, user=None, room=room))).status == 200
        said = "\n".join(await wait_for(lambda eid=eid: group_texts(line, chat, eid)))
        assert PRIVATE_ONLY.splitlines()[0] in said, (text, said)
        assert ADD_FRIEND in said
        assert_nothing_private(said)
    for i, data in enumerate([f"kick:{LAO_CODE}:line:{FRIEND}", f"void:{LAO_CODE}:1",
                              "cmd:export", "demo:create", "formfill:cash-receipts-book:today"]):
        eid = f"anonpb{int(room)}{i:02d}AAAAAAAAAAAAAAAAA"
        assert (await line.post(line_postback(data, eid, user=None))).status == 200
        said = "\n".join(await wait_for(lambda eid=eid: group_texts(line, GROUP, eid)))
        assert PRIVATE_ONLY.splitlines()[0] in said, (data, said)
    await line.idle()
    assert_no_group_membership(line.core)
    assert line.core.book.directory._invites.get(code) is not None  # not used up
    assert line.core.store.table("sessions").get(f"line:{chat}") is None
    assert line.core.store.table("sessions").get("line:") is None
    assert line.fake.calls_to(tl.PUSH) == []  # nothing pushed to anybody


async def test_line_anonymous_member_still_gets_answers_and_status(line: tl.Rig) -> None:
    eid = "anonstatus0AAAAAAAAAAAAAAAA"
    await line.post(line_event("บอท สถานะ", eid, user=None))
    said = "\n".join(await wait_for(lambda: group_texts(line, GROUP, eid)))
    assert "e-LAAS" in said and PRIVATE_ONLY.splitlines()[0] not in said
    eid = "anonforms00AAAAAAAAAAAAAAAA"
    await line.post(line_event("/forms", eid, user=None))
    said = "\n".join(await wait_for(lambda: group_texts(line, GROUP, eid)))
    assert "แบบฟอร์ม" in said and "/files/" not in said
    eid = "anonform00AAAAAAAAAAAAAAAAA"  # a blank form is a file: never a link in a group
    await line.post(line_postback("form:daily-cash-report", eid, user=None))
    said = "\n".join(await wait_for(lambda: group_texts(line, GROUP, eid)))
    assert "/files/" not in said and PRIVATE_ONLY.splitlines()[0] in said


async def test_line_member_in_group_gets_private_replies_in_the_1to1_chat(line: tl.Rig) -> None:
    code = admin_code(line.core)
    steps = [f"บอท เข้าร่วม {code}", "บอท เชิญ", "บอท สมาชิก", "บอท รับ 1,500 ค่าขยะ",
             "บอท วันนี้", "บอท สรุป", "บอท ส่งออก"]
    for i, text in enumerate(steps):
        eid = f"friend{i:02d}AAAAAAAAAAAAAAAAAAA"
        before = len([c for c in line.fake.calls_to(tl.PUSH) if c.body["to"] == FRIEND])
        await line.post(line_event(text, eid, user=FRIEND))
        said = "\n".join(await wait_for(lambda eid=eid: group_texts(line, GROUP, eid)))
        assert said == SENT_PRIVATELY, (text, said)
        pushed = [c for c in line.fake.calls_to(tl.PUSH) if c.body["to"] == FRIEND]
        assert len(pushed) > before and pushed[-1].status == 200
    mine = "\n".join(t for c in line.fake.calls_to(tl.PUSH) if c.body["to"] == FRIEND
                     for t in tl.texts(c))
    assert "เข้าร่วม อบต.กลุ่มทดสอบ" in mine and CODE_RE.search(mine.split("รหัสเข้าร่วม (")[1])
    assert "1,500.00" in mine and "/files/" in mine and "สมาชิก อปท." in mine
    assert f"line:{FRIEND}" in members(line.core)
    assert_no_group_membership(line.core)


async def test_line_member_without_1to1_chat_gets_a_link_and_nothing_leaks(line: tl.Rig) -> None:
    stranger = "U0000000000000000000000000000aaa"
    line.fake.friends = {FRIEND}  # the stranger has not added the bot: LINE refuses pushes
    code = admin_code(line.core)
    eid = "stranger00AAAAAAAAAAAAAAAAA"
    await line.post(line_event(f"บอท เข้าร่วม {code}", eid, user=stranger))
    said = "\n".join(await wait_for(lambda: group_texts(line, GROUP, eid)))
    # the join was done: said so, never "type it again" (see test_clerk_intent)
    assert SAVED_NOT_SENT.splitlines()[0] in said and ADD_FRIEND in said
    assert_nothing_private(said)
    refused = [c for c in line.fake.calls_to(tl.PUSH) if c.body["to"] == stranger]
    assert refused and refused[0].status == 400  # the attempt is recorded, and refused
    # Known now: the next private reply does not even try, and still leaks nothing.
    eid2 = "stranger01AAAAAAAAAAAAAAAAA"
    await line.post(line_event("บอท เชิญ", eid2, user=stranger))
    said = "\n".join(await wait_for(lambda: group_texts(line, GROUP, eid2)))
    assert OPEN_PRIVATE.splitlines()[0] in said and not CODE_RE.search(said)
    assert len([c for c in line.fake.calls_to(tl.PUSH) if c.body["to"] == stranger]) == 1
    assert_no_group_membership(line.core)


# ---------------------------------------------------------------------------- Telegram


@pytest.fixture
def tg_fake(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram


@pytest.fixture
async def tg(base_core: Core, tg_fake: FakeTelegram) -> AsyncIterator[tt.Rig]:
    r = await tt.start_rig(base_core, tg_fake)
    yield r
    await r.http.close()
    await r.server.stop()


_uid = iter(range(800_000, 900_000))


def tg_update(text: str, *, user: int = tt.CHAT, anonymous_admin: bool = False) -> dict[str, Any]:
    update = copy.deepcopy(tt.load("group_command"))
    update["update_id"] = next(_uid)
    update["message"]["text"] = text
    update["message"].pop("entities", None)
    update["message"]["from"]["id"] = user
    if anonymous_admin:
        update["message"]["from"] = {"id": 1087968824, "is_bot": True,
                                     "first_name": "Group", "username": "GroupAnonymousBot"}
        update["message"]["sender_chat"] = dict(update["message"]["chat"])
    return update


def tg_group_said(rig: tt.Rig) -> str:
    return "\n".join(rig.fake.sent_texts(tt.GROUP))


async def test_a_refused_button_press_in_a_group_says_nothing_to_the_group(tg: tt.Rig) -> None:
    # QA r3: a non-member pressing another LAO's void button in a group got the refusal
    # privately, and the group was told "sent privately" as if something had been done.
    press = copy.deepcopy(tt.load("callback_query"))
    press["update_id"] = next(_uid)
    press["callback_query"]["message"]["chat"] = {"id": tt.GROUP, "type": "supergroup",
                                                  "title": "การเงิน อปท."}
    press["callback_query"]["data"] = f"void:{LAO_CODE}:1"
    assert await tg.post(press) == 200
    await wait_for(lambda: any("ใช้ไม่ได้" in t for t in tg.fake.sent_texts(tt.CHAT)))
    await tg.idle()
    assert tg.fake.sent_texts(tt.GROUP) == []


async def test_telegram_member_in_group_gets_private_replies_in_the_1to1_chat(
        tg: tt.Rig) -> None:
    code = admin_code(tg.core)
    for text in [f"/join {code}", "/invite", "/members", "/today", "/export"]:
        n = len(tg.fake.sent_texts(tt.GROUP))
        assert await tg.post(tg_update(text)) == 200
        await wait_for(lambda n=n: len(tg.fake.sent_texts(tt.GROUP)) > n)
    await tg.idle()
    group = tg_group_said(tg)
    assert group.count(SENT_PRIVATELY) >= 4
    assert_nothing_private(group)
    assert tg.fake.documents_to(tt.GROUP) == []
    mine = "\n".join(tg.fake.sent_texts(tt.CHAT))
    assert "เข้าร่วม อบต.กลุ่มทดสอบ" in mine and "รหัสเข้าร่วม" in mine
    assert f"telegram:{tt.CHAT}" in members(tg.core)
    assert_no_group_membership(tg.core)


async def test_telegram_member_without_1to1_chat_gets_a_start_link(tg: tt.Rig) -> None:
    tg.fake.started = set()  # nobody has started the bot: sending to a user is refused
    code = admin_code(tg.core)
    assert await tg.post(tg_update(f"/join {code}", user=7007)) == 200
    await wait_for(lambda: tg.fake.sent_texts(tt.GROUP))
    group = tg_group_said(tg)
    assert SAVED_NOT_SENT.splitlines()[0] in group  # the join was done: said so
    assert "https://t.me/elaas_test_bot?start=private" in group
    assert_nothing_private(group)
    refused = [c for c in tg.fake.calls if str(c.body.get("chat_id")) == "7007"]
    assert refused and refused[0].status == 403


async def test_telegram_anonymous_admin_is_nobody(tg: tt.Rig) -> None:
    code = admin_code(tg.core)
    for text in [f"/join {code}", "/invite", "/export", "/announce ทดสอบ"]:
        n = len(tg.fake.sent_texts(tt.GROUP))
        assert await tg.post(tg_update(text, anonymous_admin=True)) == 200
        await wait_for(lambda n=n: len(tg.fake.sent_texts(tt.GROUP)) > n)
    await tg.idle()
    group = tg_group_said(tg)
    assert group.count(PRIVATE_ONLY.splitlines()[0]) == 4
    assert_nothing_private(group)
    assert tg.core.book.directory._invites.get(code) is not None
    assert_no_group_membership(tg.core)


@pytest.mark.parametrize("body", [b"[1, 2]", b"\"text\"", b"42", b"null"])
async def test_telegram_non_object_body_is_400(tg: tt.Rig, body: bytes) -> None:
    assert await tg.post(body) == 400


def test_core_never_binds_an_anonymous_event(base_core: Core) -> None:
    code = admin_code(base_core)
    inc = Incoming("line", "", GROUP, text=f"เข้าร่วม {code}", is_group=True, event_id="x")
    assert inc.anonymous
    replies = base_core.engine.reply_to(inc)
    assert replies[0].open_private and PRIVATE_ONLY in replies[0].text
    assert_no_group_membership(base_core)
    with pytest.raises(ValueError):
        base_core.book.directory.bind("line:", LAO_CODE, "admin", "x", datetime.now())




async def test_line_flood_limits_are_per_real_user_and_per_group_for_anonymous(
        base_core: Core, line_fake: FakeLine) -> None:
    rig = await tl.start_rig(base_core, line_fake, flood_limit=True)
    try:
        for i in range(12):  # anonymous flood in one group: the group's anonymous bucket
            await rig.post(line_event("บอท สถานะ", f"floodanon{i:02d}AAAAAAAAAAAAAAA", user=None))
        await rig.idle()
        eid = "floodfriend0AAAAAAAAAAAAAAA"  # a real user in the same group is not silenced
        await rig.post(line_event("บอท สถานะ", eid, user=FRIEND))
        eid_room = "floodroom00AAAAAAAAAAAAAAAA"  # nor anonymous members of another chat
        await rig.post(line_event("บอท สถานะ", eid_room, user=None, room=True))
        await rig.idle()
        anon = [t for i in range(12) for c in rig.replies_to(f"rt-floodanon{i:02d}AAAAAAAAAAAAAAA")
                for t in tl.texts(c)]
        assert anon.count(tl.RATE_LIMITED_TEXT) == 1 and len(anon) == 11
        assert "e-LAAS" in "\n".join(group_texts(rig, GROUP, eid))
        assert "e-LAAS" in "\n".join(group_texts(rig, ROOM, eid_room))
    finally:
        await rig.http.close()
        await rig.server.stop()
