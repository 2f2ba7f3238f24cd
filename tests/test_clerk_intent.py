"""What a clerk meant: a typed list number at the amount choice, a write done in a group, the
day a message was sent, a question typed after an entry. Nothing not meant is ever saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.contract import Incoming, Reply, UserKey
from bot.core.privacy import SAVED_NOT_SENT, undelivered
from bot.ledger.quickentry import parse_entry
from handlers.app import Core, build_core
from handlers.settings import Settings
from tests.conftest import BANGKOK, FIXED_NOW, Say, make_lao_admin
from tests.test_ledger_flows import A, said, tap
from tests.test_ledger_flows import clerk as clerk  # the same fixture

# --------------------------------------------------------------------------- 1. amount choice


def _amounts(core: Core) -> list[Decimal]:
    return [e.amount for e in core.book.ledger(A).entries()]


@pytest.mark.parametrize(("typed", "amount"), [("2", 200), ("๒", 200), ("1", 1500),
                                               ("ข้อ 2", 200), ("2 ค่ะ", 200),
                                               ("เอาอันที่ 1", 1500)])
def test_a_typed_list_number_picks_that_amount_button(core: Core, clerk: Say, typed: str,
                                                      amount: int) -> None:
    ask = clerk("รับ 1500 200 ค่าปรับ")
    assert [c.label for c in ask[-1].choices][:2] == ["1,500.00 บาท", "200.00 บาท"]
    out = clerk(typed)
    assert "บันทึกแล้ว" in said(out), said(out)
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == amount and e.description == "ค่าปรับ"


def test_the_number_of_the_dont_save_button_saves_nothing(core: Core, clerk: Say) -> None:
    clerk("รับ 1500 200 ค่าปรับ")
    out = clerk("3")  # 1. 1,500  2. 200  3. ไม่บันทึก
    assert "ยังไม่ได้บันทึก" in said(out) and len(core.book.ledger(A)) == 3


@pytest.mark.parametrize("typed", ["2", "๒"])
def test_a_number_that_is_both_a_button_and_an_amount_is_asked_never_saved(
        core: Core, clerk: Say, typed: str) -> None:
    ask = clerk("รับ 2 1500 ค่าปรับ")  # button 2 is 1,500; the amount 2 is button 1
    out = clerk(typed)
    assert len(core.book.ledger(A)) == 3, said(out)
    assert "1,500.00 บาท" in said(out) and "2.00 บาท" in said(out)
    assert [c.action for c in out[-1].choices] == [c.action for c in ask[-1].choices]
    assert "บันทึกแล้ว" in said(tap(clerk, out, "1,500.00 บาท"))
    assert _amounts(core)[-1] == 1500


def test_an_amount_typed_with_its_unit_is_the_amount(core: Core, clerk: Say) -> None:
    clerk("รับ 2 1500 ค่าปรับ")
    assert "บันทึกแล้ว" in said(clerk("2 บาท"))
    assert _amounts(core)[-1] == 2


def test_a_number_after_the_buttons_asks_again(core: Core, clerk: Say) -> None:
    clerk("รับ 1500 200 ค่าปรับ")
    out = clerk("7")
    assert "1,500.00 บาท หรือ 200.00 บาท" in said(out) and len(core.book.ledger(A)) == 3
    assert "บันทึกแล้ว" in said(clerk("2")) and _amounts(core)[-1] == 200


def test_the_one_amount_of_a_count_beside_a_name_is_button_1(core: Core, clerk: Say) -> None:
    ask = clerk("จ่าย 500 โครงการ 5 ส.")
    assert ask[-1].choices[0].label == "500.00 บาท", said(ask)
    assert "บันทึกแล้ว" in said(clerk("1")) and _amounts(core)[-1] == 500


# --------------------------------------------------------------------------- 2. writes in a group

GroupSay = Callable[..., list[Reply]]


@pytest.fixture
def group(core: Core) -> GroupSay:
    """Say (or tap) in LINE group g1 as ``user``; u1 is the admin of A with entries 1-3."""
    make_lao_admin(core, "line:u1", A, "อบต.เอ")
    ledger = core.book.ledger(A)
    for p in ("รับ 1,500 ค่าขยะ", "รับ 200 ค่าน้ำ", "จ่าย 300 ค่าน้ำมัน"):
        ledger.add_many([(parse_entry(p, FIXED_NOW.date()), "")], author="line:u1",
                        author_name="สมศรี", channel="line", now=FIXED_NOW)
    counter = iter(range(10**9))

    def _say(text: str | None = None, *, user: str = "u1", action: str | None = None,
             chat: str = "g1") -> list[Reply]:
        return core.engine.reply_to(Incoming("line", user, chat, text=text, action=action,
                                             event_id=f"g{next(counter)}", is_group=chat == "g1",
                                             display_name="สมชาย"))

    return _say


def _group_sees(replies: list[Reply]) -> str:
    """What the group is told when none of the private replies reached the user."""
    private = [r for r in replies if r.private]
    assert private and not [r for r in replies if not r.private], said(replies)
    return undelivered("line", private).text


def _done(text: str) -> bool:
    return text.startswith(SAVED_NOT_SENT.split("{")[0]) and "พิมพ์อีกครั้ง" not in text


def test_an_entry_done_in_a_group_says_done(core: Core, group: GroupSay) -> None:
    assert _done(_group_sees(group("รับ 450 ค่าปรับ"))) and len(core.book.ledger(A)) == 4


def test_a_void_done_in_a_group_says_done_whether_typed_or_answered(core: Core,
                                                                    group: GroupSay) -> None:
    assert _done(_group_sees(group("ยกเลิก 1 พิมพ์ยอดผิด")))
    asked = group("ยกเลิก 2")  # asks the reason: nothing done yet, ask again in 1:1
    assert not _done(_group_sees(asked))
    assert _done(_group_sees(group("จดซ้ำ")))
    assert all(e.voided for e in core.book.ledger(A).entries() if e.no in (1, 2))


def test_keyed_marks_done_in_a_group_say_done(core: Core, group: GroupSay) -> None:
    assert _done(_group_sees(group("คีย์แล้ว 1-2")))
    assert _done(_group_sees(group("ยกเลิกคีย์ 2")))
    assert [e.keyed for e in core.book.ledger(A).entries()] == [True, False, False]


def test_membership_writes_in_a_group_say_done(core: Core, group: GroupSay) -> None:
    code = core.book.directory.invite(A, "member", "line:u1", FIXED_NOW).code
    assert _done(_group_sees(group(f"เข้าร่วม {code}", user="u2")))
    ask = group(action=f"kick:{A}:line:u2")  # asks first: nothing done yet
    assert not _done(_group_sees(ask))
    assert _done(_group_sees(group("ยืนยันลบ")))
    assert core.book.directory.member("line:u2") is None
    code = core.book.directory.invite(A, "member", "line:u1", FIXED_NOW).code
    group(f"เข้าร่วม {code}", user="u3")
    assert _done(_group_sees(group(action=f"leave:{A}", user="u3")))
    assert core.book.directory.member("line:u3") is None


def test_unsubscribing_in_a_group_says_done(core: Core, group: GroupSay) -> None:
    assert "รับแจ้งเตือนแล้ว" in said(group("รับแจ้งเตือน", chat="u1"))  # in the 1:1 chat
    assert _done(_group_sees(group("เลิกรับแจ้งเตือน")))


def test_a_notice_confirmed_in_a_group_says_sent(tmp_path: Path) -> None:
    core = build_core(Settings(data_dir=tmp_path / "d", admins=frozenset({UserKey("line",
                                                                                  "boss")})))
    core.engine.clock = lambda: FIXED_NOW
    try:
        def say(text: str) -> list[Reply]:
            return core.engine.reply_to(Incoming("line", "boss", "g1", text=text,
                                                 event_id=text, is_group=True))
        assert not _done(_group_sees(say("ประกาศ คืนนี้ 20:00 น. e-LAAS ปิดปรับปรุง")))
        assert _done(_group_sees(say("ยืนยันส่ง")))
    finally:
        core.store.close()


def test_a_read_or_a_refusal_in_a_group_still_asks_to_type_again(group: GroupSay) -> None:
    for text in ("วันนี้", "ยกเลิก 9 จดซ้ำ", "คีย์แล้ว 9"):
        assert "พิมพ์อีกครั้ง" in _group_sees(group(text)), text


# --------------------------------------------------------------------------- 3. the send day

SENT = datetime(2024, 7, 14, 23, 58, tzinfo=BANGKOK)  # a backlog handled after midnight
HANDLED = datetime(2024, 7, 15, 0, 7, tzinfo=BANGKOK)


@pytest.fixture
def late(core: Core, clerk: Say) -> Callable[[str], str]:
    """Text sent at 23:58 on 14 Jul, handled at 00:07 on 15 Jul (entries 1-3 are of 15 Jul)."""
    core.engine.clock = lambda: HANDLED
    counter = iter(range(10**9))

    def _say(text: str) -> str:
        return said(core.engine.reply_to(Incoming("console", "u1", "u1", text=text,
                                                  event_id=f"late{next(counter)}",
                                                  received_at=SENT)))

    assert "14 ก.ค. 2567" in _say("รับ 450 ค่าปรับ")
    return _say


def test_today_is_the_day_the_list_was_asked_for(late: Callable[[str], str]) -> None:
    out = late("วันนี้")
    assert "รายการวันที่ 14 ก.ค. 2567" in out and "ค่าปรับ" in out and "ค่าขยะ" not in out


def test_the_summary_is_of_the_day_it_was_asked_for(late: Callable[[str], str]) -> None:
    out = late("สรุป")
    assert "14 ก.ค. 2567" in out and "รวมรับ 450.00 บาท" in out


def test_yesterday_is_the_day_before_the_send_day(late: Callable[[str], str]) -> None:
    out = late("รายการ เมื่อวาน")
    assert "13 ก.ค. 2567" in out and "ค่าปรับ" not in out


def test_recorded_today_for_an_earlier_date_counts_the_day_it_was_sent(
        late: Callable[[str], str]) -> None:
    """Sent at 23:58 on 14 Jul, handled after midnight: recorded on the 14th, not the 15th."""
    assert "13 ก.ค. 2567" in late("รับ 80 ค่าวัสดุ เมื่อวาน")
    out = late("วันนี้")
    assert "รายการวันที่ 14 ก.ค. 2567" in out and "ค่าปรับ" in out
    assert "บันทึกวันนี้ ลงวันที่ย้อนหลัง 1 รายการ" in out and "ค่าวัสดุ" in out


def test_an_entry_sent_before_midnight_is_not_listed_as_recorded_the_next_day(
        core: Core, late: Callable[[str], str]) -> None:
    next_day = datetime(2024, 7, 15, 8, 0, tzinfo=BANGKOK)
    core.engine.clock = lambda: next_day
    out = said(core.engine.reply_to(Incoming("console", "u1", "u1", text="วันนี้",
                                             event_id="morning", received_at=next_day)))
    assert "รายการวันที่ 15 ก.ค. 2567" in out and "ค่าขยะ" in out
    assert "ค่าปรับ" not in out and "ลงวันที่ย้อนหลัง" not in out  # sent and dated 14 Jul


# --------------------------------------------------------------------------- 4. entry + question

GLUED = ["จ่ายค่าน้ำ 500 บาท แล้วต้องเก็บใบเสร็จไว้ไหม", "จ่ายค่าน้ำ 500 บาท ต้องเก็บใบเสร็จไหมคะ",
         "สวัสดีค่ะ จ่ายค่าน้ำ 500 บาท แล้วต้องเก็บใบเสร็จไว้ไหม",
         "จ่ายค่าน้ำ 500 บาท\nต้องเก็บใบเสร็จไว้ไหมคะ"]


@pytest.mark.parametrize("text", GLUED)
def test_a_question_after_an_entry_is_answered_and_the_entry_offered(core: Core, clerk: Say,
                                                                     text: str) -> None:
    out = clerk(text)
    assert len(core.book.ledger(A)) == 3, said(out)  # nothing saved before the clerk says so
    assert out[0].topic is not None, said(out)  # the question answered first
    assert "ยังไม่ได้บันทึก" in out[-1].text and "500.00 บาท" in out[-1].text
    assert "ห้าร้อยบาทถ้วน" in out[-1].text and "ค่าน้ำ" in out[-1].text
    saved = tap(clerk, out, "บันทึก")
    assert "บันทึกแล้ว" in said(saved)
    e = core.book.ledger(A).get(4)
    assert e is not None and e.kind == "payment" and e.amount == 500 and e.description == "ค่าน้ำ"


@pytest.mark.parametrize(("answer", "saved"), [("1", True), ("บันทึก", True), ("ใช่ค่ะ", True),
                                               ("2", False), ("ไม่บันทึก", False)])
def test_the_offered_entry_is_saved_only_on_a_yes(core: Core, clerk: Say, answer: str,
                                                  saved: bool) -> None:
    clerk(GLUED[0])
    out = clerk(answer)
    assert len(core.book.ledger(A)) == (4 if saved else 3), said(out)


def test_a_bare_question_word_after_an_entry_is_not_a_question(core: Core, clerk: Say) -> None:
    assert "ยังไม่ได้บันทึก" not in said(clerk("รับ 1500 ค่าขยะ ไหมคะ"))


def test_without_an_lao_the_question_is_answered_and_joining_explained(say: Say) -> None:
    out = say(GLUED[0])
    assert out[0].topic is not None and "ยังไม่ได้เชื่อมกับ อปท." in out[-1].text, said(out)


def test_a_question_after_two_entries_is_not_glued_to_the_first(core: Core, clerk: Say) -> None:
    out = clerk("รับ 100 ค่าปรับ\nรับ 200 ค่าขยะ\nต้องนำส่งวันไหน")
    assert "บันทึกรายการนี้ด้วยไหม" not in said(out) and len(core.book.ledger(A)) == 3


def test_an_entry_and_question_while_an_amount_is_asked_replaces_it(core: Core,
                                                                    clerk: Say) -> None:
    clerk("รับ 2 1500 ค่าปรับ")
    out = clerk(GLUED[0])
    assert "ยังไม่ได้บันทึกรายการ ค่าปรับ" in out[0].text and "ค่าน้ำ" in out[-1].text, said(out)
    assert "บันทึกแล้ว" in said(clerk("1")) and _amounts(core)[-1] == 500


def test_the_ambiguous_number_says_how_to_type_each_reading(core: Core, clerk: Say) -> None:
    clerk("รับ 2 1500 ค่าปรับ")
    out = said(clerk("2"))
    assert "“ข้อ 2”" in out and "“2.00 บาท”" in out
    assert "บันทึกแล้ว" in said(clerk("ข้อ 2")) and _amounts(core)[-1] == 1500


def test_the_number_of_the_dont_void_button_voids_nothing(core: Core, clerk: Say) -> None:
    ask = clerk("ยกเลิก 1")
    assert [c.label for c in ask[-1].choices] == ["ไม่ยกเลิก"]  # the terminal shows "1)"
    out = clerk("1")
    assert "ยังไม่ได้ยกเลิกรายการที่ 1" in said(out)
    e = core.book.ledger(A).get(1)
    assert e is not None and not e.voided


def test_the_dont_save_number_that_is_also_an_amount_is_asked(core: Core, clerk: Say) -> None:
    clerk("รับ 3 1500 ค่าปรับ")  # 1. 3.00  2. 1,500.00  3. ไม่บันทึก
    out = said(clerk("3"))
    assert "ไม่บันทึก" in out and "3.00 บาท" in out and len(core.book.ledger(A)) == 3, out
    assert "บันทึกแล้ว" in said(clerk("3 บาท")) and _amounts(core)[-1] == 3
