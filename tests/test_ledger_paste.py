"""Quick entries in chat as a blind tester met them: a dot for a thousands comma, the same line
pasted twice, the reply to a paste, line numbers in a paste's refusals, voice typing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.app import Core
from tests.conftest import Say
from tests.test_ledger_flows import A, said, tap
from tests.test_ledger_flows import clerk as clerk  # the same fixture


@pytest.mark.parametrize(("typed", "label", "amount"), [
    ("จ่าย 1.200 ค่าน้ำมัน", "1,200.00 บาท", Decimal("1200")),
    ("จ่าย ๑.๒๐๐ ค่าน้ำมัน", "1.20 บาท", Decimal("1.20")),
    ("รับ 2.500 บาท ค่าขยะ", "2,500.00 บาท", Decimal("2500")),
])
def test_a_dot_before_three_digits_asks_which_amount_before_saving(
        core: Core, clerk: Say, typed: str, label: str, amount: Decimal) -> None:
    ask = clerk(typed)
    assert "ยังไม่ได้บันทึก" in said(ask) and len(core.book.ledger(A)) == 3
    assert "บันทึกแล้ว" in said(tap(clerk, ask, label))
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == amount


def test_the_same_dotted_figures_typed_as_the_answer_save_nothing(core: Core, clerk: Say) -> None:
    clerk("จ่าย 12.500 ค่าวัสดุ")
    out = clerk("12.500")
    assert "บันทึกแล้ว" not in said(out) and len(core.book.ledger(A)) == 3
    assert "บันทึกแล้ว" in said(clerk("12,500"))
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == 12500 and e.description == "ค่าวัสดุ"


def test_a_dotted_amount_in_a_paste_is_refused_with_its_readings(core: Core, clerk: Say) -> None:
    out = said(clerk("รับ 200 ค่าขยะ\nจ่าย 1.200 ค่าน้ำมัน"))
    assert "บรรทัด 2" in out and "1,200.00 บาท หรือ 1.20 บาท" in out
    assert len(core.book.ledger(A)) == 3


def test_the_same_line_pasted_twice_asks_as_if_sent_twice(core: Core, clerk: Say) -> None:
    ask = clerk("จ่าย 15,000 ค่าจ้างเหมาซ่อมถนน\nจ่าย 15,000 ค่าจ้างเหมาซ่อมถนน")
    assert "บรรทัด 2" in said(ask) and "บรรทัด 1" in said(ask) and "บันทึกแล้ว" not in said(ask)
    assert len(core.book.ledger(A)) == 3
    assert "บันทึกแล้วค่ะ 2 รายการ" in said(tap(clerk, ask, "บันทึกทั้งหมด"))
    assert len(core.book.ledger(A)) == 5


def test_a_paste_is_echoed_line_by_line_with_the_amounts_in_words(clerk: Say) -> None:
    out = said(clerk("รับ 200 ค่าขยะ หมู่ 1\nรับ 300 ค่าขยะ หมู่ 2"))
    assert "รับ 200.00 บาท (สองร้อยบาทถ้วน) ค่าขยะ หมู่ 1 · 15 ก.ค. 2567" in out, out
    assert "รวมรับ 500.00 บาท (ห้าร้อยบาทถ้วน)" in out


def test_a_paste_names_its_lines_as_the_clerk_sees_them(core: Core, clerk: Say) -> None:
    out = said(clerk("สวัสดีค่ะ\n\nรับ 250 ค่าขยะ หมู่ 4\nจ่าย 1,2000 ค่าวัสดุ"))
    assert "บรรทัด 4: อ่านจำนวนเงิน" in out and "บรรทัด 2" not in out, out
    ask = clerk("ขอบคุณค่ะ\nรับ 90 ค่าน้ำ\nรับ 90 ค่าน้ำ")
    assert "บรรทัด 3: เหมือนบรรทัด 2" in said(ask), said(ask)
    assert len(core.book.ledger(A)) == 3


@pytest.mark.parametrize(("typed", "amount", "item"), [
    ("รับเงินห้าร้อยบาทค่าขยะ", 500, "ค่าขยะ"),
    ("จ่ายเงินหนึ่งพันสองร้อยบาทค่าน้ำมัน", 1200, "ค่าน้ำมัน"),
    ("จ่ายหนึ่งพันสองร้อยค่าน้ำมัน", 1200, "ค่าน้ำมัน"),
    ("รับห้าร้อยค่าขยะ", 500, "ค่าขยะ"),
])
def test_voice_typing_without_spaces_is_an_entry(core: Core, clerk: Say, typed: str,
                                                 amount: int, item: str) -> None:
    assert "บันทึกแล้ว" in said(clerk(typed))
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == amount and e.description == item
