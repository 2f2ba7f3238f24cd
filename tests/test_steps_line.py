"""The reported void bug end to end on LINE: signed webhooks, real server, FakeLine replies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.app import Core, build_core
from handlers.settings import Settings
from tests.conftest import make_lao_admin
from tests.fakes import FakeLine, wait_for
from tests.test_line import Rig, event, load, start_rig

USER = "Ustep000000000000000000000000000"


@pytest.fixture
def line_core(tmp_path: Path) -> Iterator[Core]:
    core = build_core(Settings(data_dir=tmp_path / "data"))
    yield core
    core.store.close()


@pytest.fixture
async def line_rig(line_core: Core) -> AsyncIterator[Rig]:
    fake = FakeLine()
    await fake.start()
    rig = await start_rig(line_core, fake)
    yield rig
    await rig.http.close()
    await rig.server.stop()
    await fake.stop()


class Talk:
    """One LINE user: each message is a new signed webhook with its own ids."""

    def __init__(self, rig: Rig) -> None:
        self.rig, self.n = rig, 0

    async def send(self, *, text: str | None = None, data: str | None = None) -> dict[str, Any]:
        self.n += 1
        body = load("postback" if data else "text", webhookEventId=f"01STEP{self.n:020d}",
                     replyToken=f"rt-step-{self.n}")
        ev = event(body)
        ev["source"]["userId"] = USER
        if data:
            ev["postback"]["data"] = data
        else:
            ev["message"]["text"] = text
        await self.rig.post(body)
        call = (await wait_for(lambda: self.rig.replies_to(f"rt-step-{self.n}")))[0]
        return call.body


async def test_dont_void_then_a_later_message_never_voids_on_line(line_rig: Rig) -> None:
    book = make_lao_admin(line_rig.core, f"line:{USER}", "01234567")
    talk = Talk(line_rig)
    for typed in ("รับ 100 ค่าขยะ", "รับ 200 ค่าน้ำ"):
        await talk.send(text=typed)
    ask = await talk.send(text="ยกเลิก 2")
    items = ask["messages"][-1]["quickReply"]["items"]
    dont = next(i["action"]["data"] for i in items if i["action"]["label"] == "ไม่ยกเลิก")
    tapped = await talk.send(data=dont)
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in "\n".join(m.get("text", "") for m in tapped["messages"])
    later = await talk.send(text="ระบบกลับมายัง")
    assert any("สถานะ" in m.get("text", "") for m in later["messages"])
    # and the bot's own advice: void, then enter it again, saves the new entry, voids nothing
    await talk.send(text="ยกเลิก 2")
    again = await talk.send(text="รับ 250 ค่าน้ำ")
    said = "\n".join(m.get("text", "") for m in again["messages"])
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in said and "บันทึกแล้ว" in said
    e = book.get(2)
    assert e is not None and not e.voided and len(book) == 3
