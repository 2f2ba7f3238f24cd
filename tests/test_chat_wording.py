"""Chat transcripts: entries never silently differ from what was typed; menus and wording."""

from __future__ import annotations

import pytest

from bot.core.contract import Reply
from handlers.app import Core
from tests.conftest import Say, make_lao_admin

CODE = "01234567"


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def actions(replies: list[Reply]) -> list[str]:
    return [c.action for r in replies for c in r.choices]


def labels(replies: list[Reply]) -> list[str]:
    return [c.label for r in replies for c in r.choices]


@pytest.fixture
def clerk(core: Core, say: Say) -> Say:
    make_lao_admin(core, "console:u1", CODE)
    return say


def count(core: Core) -> int:
    return len(core.book.ledger(CODE))


# --------------------------------------------------------------------------- entries


@pytest.mark.parametrize(("typed", "day", "year"), [
    ("รับ 1,500 ค่าขยะ 10/7", "10 ก.ค. 2567", "2567"),
    ("รับ 1,500 ค่าขยะ 20/12", "20 ธ.ค. 2566", "2566"),  # December 2024 is still to come
    ("รับ 1,500 ค่าขยะ 10 ก.ค.", "10 ก.ค. 2567", "2567"),
])
def test_a_date_without_a_year_is_the_latest_such_day_and_the_echo_says_so(
    core: Core, clerk: Say, typed: str, day: str, year: str,
) -> None:
    out = said(clerk(typed))
    assert "บันทึกแล้ว" in out and day in out
    assert "ไม่ได้ระบุปี" in out and year in out


@pytest.mark.parametrize("typed", ["รับ 1500 200 ค่าขยะ", "จ่าย ค่าน้ำมัน 500 300"])
def test_two_numbers_where_the_amount_goes_are_asked_about_and_nothing_saved(
    core: Core, clerk: Say, typed: str,
) -> None:
    out = clerk(typed)
    amounts = sorted(c.label for r in out for c in r.choices if c.label.endswith("บาท"))
    assert "จำนวนเงินคือ" in said(out) and "ยังไม่ได้บันทึก" in said(out)
    assert len(amounts) == 2  # the clerk picks one (typed or tapped): see test_ledger_flows
    assert count(core) == 0


def test_plus_with_an_amount_in_words_works_like_rub(core: Core, clerk: Say) -> None:
    out = said(clerk("+ สองพันห้าร้อยบาท ค่าเช่าตลาด โอน"))
    assert "บันทึกแล้ว" in out and "2,500.00 บาท" in out and "สองพันห้าร้อยบาทถ้วน" in out
    e = core.book.ledger(CODE).get(1)
    assert e is not None and e.kind == "receipt" and e.method == "transfer"


@pytest.mark.parametrize("typed", ["รับ ค่าขยะ", "จ่าย ค่าน้ำมัน เงินสด", "รายจ่าย ค่าไฟ"])
def test_an_entry_without_amount_gets_the_parser_message_not_the_qa_menu(
    core: Core, clerk: Say, typed: str,
) -> None:
    r = clerk(typed)
    assert "จำนวนเงิน" in said(r) and "ตัวอย่าง" in said(r)
    assert r[0].topic is None and "นอกขอบเขต" not in said(r) and "หมายถึง" not in said(r)
    assert count(core) == 0


def test_amount_without_what_for_asks_without_saying_there_are_no_entries(
    core: Core, clerk: Say,
) -> None:
    clerk("รับ 100 ค่าขยะ")
    out = said(clerk("รับ 500"))
    assert "ค่าอะไร" in out and "ยังไม่มีรายการ" not in out
    assert count(core) == 1


# --------------------------------------------------------------------------- menus and wording


def test_status_answer_offers_subscribe_once(say: Say) -> None:
    r = say("ระบบล่มอยู่ไหม", channel="line")
    assert labels(r).count("รับแจ้งเตือน") == 1
    assert "รับแจ้งเตือนสถานะ" not in labels(r)
    assert len(actions(r)) == len(set(actions(r)))


def test_terminal_never_offers_subscribe(say: Say) -> None:
    for r in (say("ระบบล่มอยู่ไหม"), say("เมนู"), say("พรุ่งนี้ฝนจะตกไหม"), say("สวัสดี")):
        assert "cmd:subscribe" not in actions(r), said(r)
    assert "cmd:subscribe" in actions(say("เมนู", channel="telegram", user="t1"))


def test_pending_list_does_not_offer_itself(core: Core, clerk: Say) -> None:
    clerk("รับ 100 ค่าขยะ")
    for r in (clerk("ค้างคีย์"), clerk(action="cmd:pending")):
        assert "cmd:pending" not in actions(r) and "ยังไม่ได้คีย์" in said(r)


def test_keyed_numbers_that_do_not_exist_are_named(core: Core, clerk: Say) -> None:
    clerk("รับ 100 ค่าขยะ")
    out = said(clerk("คีย์แล้ว 50-60"))
    assert "ไม่มีรายการที่ 50-60" in out and "ทำเครื่องหมายคีย์แล้ว" not in out
    out = said(clerk("คีย์แล้ว 1 7"))
    assert "ทำเครื่องหมายคีย์แล้ว 1 รายการ" in out and "ไม่มีรายการที่ 7" in out


def test_export_of_a_month_name_names_the_period_and_the_file_carries_it(
    core: Core, clerk: Say,
) -> None:
    clerk("รับ 100 ค่าขยะ 3/7/2567")
    r = clerk("ส่งออก กรกฎาคม")[0]
    assert "1 ก.ค. 2567 - 31 ก.ค. 2567" in r.text
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240701-20240731.xlsx"
    # a month still to come this year means last year's, and an empty period says which
    r = clerk("ส่งออก ธันวาคม")[0]
    assert "1 ธ.ค. 2566 - 31 ธ.ค. 2566" in r.text and r.file is None
