"""A typed list number on LINE and on Telegram, end to end: it runs the choice it names."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.engine import SUGGEST_TEXT
from handlers.app import Core
from tests.fakes import FakeTelegram, wait_for
from tests.test_line import Rig as LineRig
from tests.test_picks import VAGUE
from tests.test_steps_line import Talk, line_core, line_rig  # noqa: F401 (fixtures)
from tests.test_telegram import CHAT, Rig, load, start_rig

_ids = itertools.count(1)


def _texts(body: dict[str, Any]) -> list[str]:
    return [m.get("text", "") for m in body["messages"]]


async def test_a_typed_number_on_line_runs_the_choice(line_rig: LineRig) -> None:  # noqa: F811
    talk = Talk(line_rig)
    shown = await talk.send(text=VAGUE)
    assert SUGGEST_TEXT in _texts(shown)
    items = shown["messages"][-1]["quickReply"]["items"]
    second = items[1]["action"]["data"]
    picked = await talk.send(text="๒")
    assert SUGGEST_TEXT not in _texts(picked)
    assert _texts(picked) == _texts(await talk.send(data=second))


@pytest.fixture
async def tg(line_core: Core, fake_telegram: FakeTelegram) -> AsyncIterator[Rig]:  # noqa: F811
    r = await start_rig(line_core, fake_telegram)
    yield r
    await r.http.close()
    await r.server.stop()


async def _say(rig: Rig, text: str) -> list[dict[str, Any]]:
    n = next(_ids)
    update = load("text", update_id=800000 + n)
    update["message"] = {**update["message"], "message_id": 100 + n, "text": text}
    before = len(rig.sends())
    assert await rig.post(update) == 200
    await rig.idle()
    return [c.body for c in (await wait_for(lambda: rig.sends()[before:]))]


async def test_a_typed_number_on_telegram_runs_the_choice(tg: Rig) -> None:
    shown = await _say(tg, VAGUE)
    assert shown[-1]["text"] == SUGGEST_TEXT and str(shown[-1]["chat_id"]) == str(CHAT)
    buttons = [b for row in shown[-1]["reply_markup"]["inline_keyboard"] for b in row]
    topic = next(t for t in tg.core.kb.topics if t.title == buttons[1]["text"])
    picked = await _say(tg, "ข้อ 2 ค่ะ")
    assert picked[0]["text"].startswith(tg.core.engine.answer_topic(topic.id)[0].text[:40])
