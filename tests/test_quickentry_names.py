"""A number that is part of a name ("โครงการ 5 ส.") is never the amount; a count right after
the kind word beside such a name is asked back ("500.00 บาทใช่ไหม"), never saved as 5.00."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.contract import Reply
from bot.ledger.quickentry import EntryError, count_as_amount, parse_entry
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say, make_lao_admin

TODAY = FIXED_NOW.date()
LAO = "05510101"


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.mark.parametrize("text", ["จ่าย 500 โครงการ 5 ส.", "จ่าย 500 โครงการ 5ส.",
                                  "จ่าย 500 โครงการ 5 ส"])
def test_a_count_beside_a_name_is_not_saved_but_offered_as_the_amount(text: str) -> None:
    with pytest.raises(EntryError, match="จำนวนนับ"):
        parse_entry(text, TODAY)
    offered = count_as_amount(text, TODAY)
    assert offered is not None and offered.amount == Decimal("500")
    assert offered.description.replace(" ", "").startswith("โครงการ5ส")


@pytest.mark.parametrize(("text", "amount", "description"), [
    ("จ่าย 500 ค่าวัสดุโครงการ 5 ส.", "500", "ค่าวัสดุโครงการ 5 ส."),
    ("จ่าย 1,200 ค่าอบรม 5 ส. 3 ราย", "1200", "ค่าอบรม 5 ส. 3 ราย"),
])
def test_a_number_in_a_name_is_no_second_amount(text: str, amount: str,
                                                description: str) -> None:
    e = parse_entry(text, TODAY)
    assert e.amount == Decimal(amount) and e.description == description


def test_a_month_after_a_number_is_still_a_date() -> None:
    e = parse_entry("จ่าย 1,200 ค่าไฟ 5 มิ.ย. 67", TODAY)
    assert e.amount == Decimal("1200") and (e.date.month, e.date.day) == (6, 5)


@pytest.mark.parametrize("text", ["รับ 3 ราย", "จ่ายเงินเดือน 15 คน", "จ่าย 500 โครงการ",
                                  "จ่าย ค่าอาหาร 3 โครงการ 5 ส.", "จ่าย 20 คน ค่าอาหาร"])
def test_other_counts_are_still_refused_and_not_offered(text: str) -> None:
    with pytest.raises(EntryError, match="จำนวนนับ"):
        parse_entry(text, TODAY)
    assert count_as_amount(text, TODAY) is None


def test_the_clerk_is_asked_and_500_is_saved_on_a_tap(core: Core, say: Say) -> None:
    ledger = make_lao_admin(core, "console:u1", LAO)
    out = say("จ่าย 500 โครงการ 5 ส.")
    assert "500.00 บาท" in said(out) and "ยังไม่ได้บันทึก" in said(out)
    assert [c.label for c in out[-1].choices] == ["500.00 บาท", "ไม่บันทึก"]
    assert ledger.entries() == []
    out = say(action=out[-1].choices[0].action)
    assert "บันทึกแล้ว" in said(out)
    (e,) = ledger.entries()
    assert e.amount == Decimal("500") and e.description == "โครงการ 5 ส."


def test_the_clerk_may_type_the_amount_instead(core: Core, say: Say) -> None:
    ledger = make_lao_admin(core, "console:u1", LAO)
    say("จ่าย 500 โครงการ 5 ส.")
    assert "บันทึกแล้ว" in said(say("500"))
    assert [e.amount for e in ledger.entries()] == [Decimal("500")]
