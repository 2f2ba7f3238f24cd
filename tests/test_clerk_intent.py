"""What a clerk meant: a typed list number at the amount choice, a write done in a group, the
day a message was sent, a question typed after an entry. Nothing not meant is ever saved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.app import Core
from tests.conftest import Say
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
