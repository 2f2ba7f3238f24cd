"""Manual-procedure answers follow the e-LAAS status: once it works again they say so first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.contract import Reply
from bot.qa.knowledge import MAX_FIRST, load_knowledge
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say

CLI = [sys.executable, "-c", "from handlers.cli import run; run()"]
PAY = "จ่ายเงินตอนนี้ทำยังไง"


def texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]


def test_while_down_the_manual_answer_comes_alone(say: Say) -> None:
    replies = say(PAY)
    assert len(replies) == 1 and replies[0].topic == "guide.pay"
    assert replies[0].text.startswith("จ่ายเงินด้วยฎีกากระดาษ")


@pytest.mark.parametrize("question", [PAY, "รับเงินค่าขยะตอนนี้ทำไง", "ระบบล่มต้องทำอะไรบ้าง",
                                      "ปิดยอดประจำวันยังไง"])
def test_once_normal_the_answer_says_so_first(core: Core, say: Say, question: str) -> None:
    core.status.post(state="normal", message="ใช้งานได้ตามปกติ", at=FIXED_NOW - timedelta(hours=2))
    note, answer = say(question)
    assert note.text.startswith("e-LAAS กลับมาใช้งานได้ปกติแล้ว")
    assert "15 ก.ค. 2567" in note.text  # the date of the latest status
    assert "คีย์" in note.text and "ย้อนหลัง" in note.text and "\n" not in note.text
    assert len(note.text) <= MAX_FIRST and not note.choices
    assert answer.topic and answer.topic.startswith("guide.") and answer.choices


def test_partial_says_what_to_do_in_both_parts(core: Core, say: Say) -> None:
    core.status.post(state="partial", message="ใช้ได้เฉพาะรับเงิน", at=FIXED_NOW)
    note, answer = say(PAY)
    assert note.text.startswith("e-LAAS กลับมาใช้งานได้บางส่วน") and "ทำมือ" in note.text
    assert "ใช้ได้เฉพาะรับเงิน" in note.text  # which part works: the operators' words
    assert answer.topic == "guide.pay"
    core.status.post(state="partial", message="รายละเอียด " * 40, at=FIXED_NOW)
    note, _ = say(PAY)
    assert "รายละเอียด" not in note.text and len(note.text) <= MAX_FIRST  # too long for a line


def test_an_old_normal_record_is_said_to_be_old(core: Core, say: Say) -> None:
    core.status.post(state="normal", message="ใช้งานได้ตามปกติ", at=FIXED_NOW - timedelta(days=40))
    note, _ = say(PAY)
    assert "40 วันก่อน" in note.text and not note.text.startswith("e-LAAS กลับมา")


@pytest.mark.parametrize("state", ["down", "maintenance"])
def test_no_note_while_it_is_not_working(core: Core, say: Say, state: str) -> None:
    core.status.post(state=state, message="ขัดข้อง", at=FIXED_NOW)
    assert len(say(PAY)) == 1


def test_only_manual_topics_carry_the_note(core: Core, say: Say) -> None:
    core.status.post(state="normal", message="ใช้งานได้ตามปกติ", at=FIXED_NOW)
    for question in ("จดรายการในบอทยังไง", "ระบบกลับมายัง", "หลังระบบกลับมาต้องคีย์ย้อนหลังยังไง"):
        replies = say(question)
        assert len(replies) == 1, (question, texts(replies))
    # the full steps, one tap after the note, do not repeat it
    full = say(action="full:guide.pay")
    assert len(full) == 1 and full[0].topic == "guide.pay"


def test_the_manual_topics_are_marked_in_the_data() -> None:
    kb = load_knowledge()
    manual = {t.id for t in kb.topics if t.manual}
    assert {"guide.overview", "guide.budget", "guide.receive", "guide.deposit", "guide.pay",
            "guide.payroll", "guide.daily_report", "guide.month_end"} <= manual
    # not the status itself, the time after restoration, or the news of the 2025 closure
    assert not manual & {"guide.keyback", "guide.excel"}
    assert not any(t.is_status for t in kb.topics if t.manual)


def test_ask_reads_the_status_the_operators_set(tmp_path: Path) -> None:
    env = {**os.environ, "ELAAS_DATA_DIR": str(tmp_path / "data"), "PYTHAINLP_OFFLINE": "1"}

    def cli(*args: str) -> str:
        return subprocess.run([*CLI, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=True).stdout

    cli("status", "set", "--state", "normal", "--message", "ใช้งานได้ตามปกติ")
    doc = json.loads(cli("ask", "--json", PAY))
    assert doc["topic"] == "guide.pay"
    assert doc["replies"][0]["text"].startswith("e-LAAS กลับมาใช้งานได้ปกติแล้ว")
    status = json.loads(cli("ask", "--json", "ระบบกลับมายัง"))
    assert "ใช้งานได้ปกติ" in status["replies"][0]["text"]


def test_a_new_state_does_not_borrow_the_old_letter(core: Core, say: Say) -> None:
    # The seed's letter (ว 2963) announced the outage, not the restoration.
    core.status.post(state="normal", message="ใช้งานได้ตามปกติ", at=FIXED_NOW)
    view = core.status.current()
    assert view is not None and view.ref == ""
    assert "2963" not in say("ระบบกลับมายัง")[0].text
    core.status.post(state="normal", message="ยืนยัน", ref="หนังสือ สถ. ฉบับใหม่", at=FIXED_NOW)
    core.status.post(state="normal", message="ปกติดี", at=FIXED_NOW)
    view = core.status.current()
    # Each announcement carries only its own letter (``status set --help``), even in one state.
    assert view is not None and view.ref == ""


# --------------------------------------------------------------------------- the latest letter

NEW_REF = "หนังสือ สถ. ที่ มท 0808.4/ว 9999 ลงวันที่ 1 ธ.ค. 2569"


@pytest.mark.parametrize("question", ["อ้างอิงหนังสือฉบับไหน", "มีหนังสือสั่งการเลขที่อะไร"])
def test_letters_lead_with_the_operators_latest_reference(core: Core, say: Say,
                                                          question: str) -> None:
    # qa11 item 3: during a new outage the 2567 letter alone was cited as "the" letter.
    core.status.post(state="down", message="e-LAAS ขัดข้องอีกครั้ง", ref=NEW_REF,
                     at=FIXED_NOW - timedelta(hours=3))
    note, answer = say(question)
    assert answer.topic == "refs.letters" and "2963" in answer.text  # background follows
    assert NEW_REF in note.text  # quoted as given
    assert "ประกาศล่าสุด" in note.text and "15 ก.ค. 2567" in note.text  # labelled and dated
    assert "2963" not in note.text and len(note.text) <= MAX_FIRST


def test_letters_alone_when_the_latest_announcement_names_no_letter(core: Core,
                                                                    say: Say) -> None:
    # The seed's own letter is the topic's text: no note to repeat it.
    assert [r.topic for r in say("อ้างอิงหนังสือฉบับไหน")] == ["refs.letters"]
    core.status.post(state="down", message="ขัดข้อง", at=FIXED_NOW)
    assert [r.topic for r in say("อ้างอิงหนังสือฉบับไหน")] == ["refs.letters"]


def test_an_old_reference_is_told_with_its_age(core: Core, say: Say) -> None:
    core.status.post(state="down", message="ขัดข้อง", ref=NEW_REF,
                     at=FIXED_NOW - timedelta(days=40))
    note, _ = say("อ้างอิงหนังสือฉบับไหน")
    assert NEW_REF in note.text and "40 วันก่อน" in note.text


def test_the_letters_topic_is_marked_in_the_data() -> None:
    kb = load_knowledge()
    assert {t.id for t in kb.topics if t.latest_ref} == {"refs.letters"}
