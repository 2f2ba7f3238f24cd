"""Forms in two taps through the engine, and the `elaas-bot form` command."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from bot.forms.chat import FormsFeature
from bot.ledger.entries import Lao
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say, make_lao_admin

ROOT = Path(__file__).resolve().parent.parent


def test_any_form_in_two_taps(core: Core, say: Say) -> None:
    menu = say(action="cmd:forms")[0]  # tap 1: the menu button
    assert len(menu.choices) == len(core.engine.form_labels) >= 8
    for choice in menu.choices:
        r = say(action=choice.action)[0]  # tap 2: the form
        assert r.file is not None and r.file.data.startswith(b"%PDF")
        assert "แบบช่วยบันทึก" in r.text
        x = say(action=f"formx:{choice.action.split(':', 1)[1]}")[0]
        assert x.file is not None and x.file.filename.endswith(".xlsx")


def _undated(pdf: bytes) -> bytes:
    """A PDF without its creation time and the /ID fpdf derives from it."""
    return re.sub(rb"/CreationDate \(D:\d+Z\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", pdf)


def test_serve_warms_every_blank_form_and_sends_the_same_file(core: Core, say: Say) -> None:
    from bot.forms import catalog

    catalog._blank.cache_clear()
    core.warm_up()  # serve calls it before it listens: no import or render on a clerk's request
    assert catalog._blank.cache_info().currsize == len(core.engine.form_labels)
    warmed = catalog._blank.cache_info().misses
    forms = next(f for f in core.engine.features if isinstance(f, FormsFeature))
    for action in (c.action for c in say(action="cmd:forms")[0].choices):
        r = say(action=action)[0]
        form = forms.catalog.get(action.split(":", 1)[1])
        assert form is not None and r.file is not None
        fresh = catalog._blank.__wrapped__(form, "pdf", None)  # as rendered on a request
        assert (r.file.filename, r.file.mime_type) == (fresh.filename, fresh.mime_type)
        assert _undated(r.file.data) == _undated(fresh.data)
    assert catalog._blank.cache_info().misses == warmed


def test_guide_answers_offer_their_forms(say: Say) -> None:
    r = say(action="topic:guide.receive")[0]
    assert any(c.action == "form:cash-receipts-book" for c in r.choices)


def test_filled_cash_book_matches_the_ledger(core: Core, say: Say) -> None:
    core.book.directory.add_lao(Lao("01234567", "อบต.ทดสอบ", "ลำพูน"))
    inv = core.book.directory.invite("01234567", "member", "cli", FIXED_NOW)
    say(f"เข้าร่วม {inv.code}")
    for text in ("รับ 1,500 ค่าขยะ", "รับ 250.50 ค่าเช่า", "จ่าย 99 ค่าน้ำ", "รับ 70 ค่าปรับ"):
        say(text)
    say("ยกเลิก 4 ผิด")
    r = say(action="form:cash-receipts-book")[0]
    fill = next(c for c in r.choices if c.action.startswith("formfill:"))
    filled = say(action=fill.action)[0]
    assert filled.file is not None and filled.file.data.startswith(b"%PDF")
    # the same fill as XLSX through the CLI, totals checked against the ledger
    core.store.close()
    out = core.settings.data_dir / "book.xlsx"
    res = subprocess.run([sys.executable, "-m", "handlers.cli", "form", "cash-receipts-book",
                          "--lao", "01234567", "--from", "2024-07-15", "--format", "xlsx", "-o",
                          str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"ELAAS_DATA_DIR": str(core.settings.data_dir),
                              "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    ws = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).active
    assert ws is not None
    numbers = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, float | int)]
    assert Decimal("1750.50") in {Decimal(str(v)) for v in numbers}  # the voided 70 left out


# ---------------------------------------------------------------------------- forms we lack


@pytest.mark.parametrize(("ask", "lacking"), [
    ("ขอทะเบียนเช็ค", "ทะเบียนเช็ค"),
    ("มีแบบฟอร์มงบทดลองไหม", "งบทดลอง"),
    ("ฟอร์มฎีกามีไหม", "ฎีกา"),
    ("ฎีกาใช้แบบไหน", "ฎีกา"),
    ("ใบผ่านทั่วไปมีแบบไหม", "ใบผ่านรายการบัญชีทั่วไป"),
    ("ขอฟอมใบเสดหน่อย", "ใบเสร็จรับเงิน"),
    ("มีไฟล์ excel ทะเบียนเช็คไหม", "ทะเบียนเช็ค"),
])
def test_a_form_we_lack_is_said_plainly_with_the_forms_we_have(core: Core, say: Say, ask: str,
                                                               lacking: str) -> None:
    r = say(ask)[0]
    assert r.file is None and r.text.startswith(f"บอทไม่มีแบบ{lacking}")
    assert "ว 3369" in r.text and "สถจ." in r.text
    offered = {c.action for c in r.choices}
    assert {f"form:{i}" for i in core.engine.form_labels} <= offered  # every form we have
    assert len(r.text.splitlines()) <= 4  # a phone screen


def test_a_receipt_form_is_the_official_receipt_book_and_the_register_is_offered(
        say: Say) -> None:
    r = say("ขอแบบฟอร์มใบเสร็จ")[0]
    assert r.file is None and r.text.startswith("บอทไม่มีแบบใบเสร็จรับเงิน")
    assert "เล่มใบเสร็จ" in r.text
    assert r.choices[0].action == "form:receipt-control-register"


@pytest.mark.parametrize(("ask", "topic"), [
    ("ขอทะเบียนคุมใบเสร็จ", "forms.receipt-control-register"),
    ("ขอแบบคุมเล่มใบเสร็จ", "forms.receipt-control-register"),
    ("ขอแบบสมุดจ่ายไว้ลงฎีกา", "forms.cash-payments-book"),
    ("งบทดลองทำยังไง", "guide.month_end"),
    ("รับเงินค่าขยะตอนนี้ออกใบเสร็จแบบไหนคะ", "guide.receive"),
    ("มีไฟล์ excel ให้กรอกไหม", "forms.catalog"),
    ("ส่งออกฎีกาเป็นไฟล์ excel ได้ไหม", "bot.export_howto"),
    ("Can I get the cash book in Excel?", "forms.cash-receipts-book"),
])
def test_our_forms_and_questions_about_the_work_are_answered_as_usual(say: Say, ask: str,
                                                                      topic: str) -> None:
    """Not "no such form"; and an Excel form request is the forms, not the Excel news item."""
    assert say(ask)[0].topic == topic


# ---------------------------------------------------------------------------- numbered lists


def test_the_catalog_answer_lists_the_forms_in_the_buttons_order(core: Core, say: Say) -> None:
    r = say("มีฟอร์มอะไรบ้าง")[0]
    assert r.topic == "forms.catalog"
    forms = [c for c in r.choices if c.action.startswith("form:")]
    catalog = next(f for f in core.engine.features if isinstance(f, FormsFeature)).catalog
    assert r.choices[:len(forms)] == tuple(forms) and len(forms) == len(catalog)
    listed = [line.removeprefix("• ") for line in r.text.splitlines() if line.startswith("• ")]
    assert listed == [f.name for f in catalog.all()]
    assert [c.action for c in forms] == [f"form:{f.id}" for f in catalog.all()]
    assert not any(line[:1].isdigit() for line in r.text.splitlines())  # no numbers to type


@pytest.mark.parametrize("channel", ["line", "telegram"])
def test_the_forms_list_has_no_numbers_where_a_typed_number_picks_nothing(say: Say,
                                                                          channel: str) -> None:
    r = say("แบบฟอร์ม", channel=channel)[0]
    assert len(r.choices) >= 8 and not r.meta
    assert not any(line[:1].isdigit() for line in r.text.splitlines())
    assert [line.removeprefix("• ") for line in r.text.splitlines() if line.startswith("• ")]


def test_answer_buttons_never_share_a_label(core: Core) -> None:
    """guide.budget showed "ทะเบียนคุมงบรายจ่าย" twice: the form and the form's topic."""
    for topic in core.kb.topics:
        labels = [c.label for c in core.engine.answer_topic(topic.id)[0].choices]
        assert len(labels) == len(set(labels)), (topic.id, labels)


@pytest.mark.parametrize("channel", ["console", "line"])
def test_a_typed_button_label_is_a_press(core: Core, say: Say, channel: str) -> None:
    """Typing the label of a button just shown ("ขอเป็น Excel") presses it, as tapping would."""
    make_lao_admin(core, f"{channel}:u1", "01234567")
    say("รับ 1,500 ค่าขยะ", channel=channel)
    shown = say("แบบฟอร์ม", channel=channel)[0].choices
    say(action=shown[6].action, channel=channel)  # the daily cash report, as PDF
    x = say("ขอเป็น Excel ค่ะ", channel=channel)[0]
    assert x.file is not None and x.file.filename.endswith(".xlsx"), x.text
    pdf = say(action=shown[0].action, channel=channel)[0]
    fill = next(c for c in pdf.choices if c.action.startswith("formfill:"))
    filled = say(fill.label, channel=channel)[0]
    assert filled.file is not None and "กรอกจากรายการ" in filled.text, filled.text


def test_keyback_worksheet_fills_every_entry_still_to_key(core: Core, say: Say) -> None:
    """The tester's report: entries dated earlier and still to key were left off the sheet
    "กรอกจากรายการวันนี้"; the sheet is for everything not yet keyed into e-LAAS."""
    make_lao_admin(core, "console:u1", "01234567")
    for text in ("จ่าย 1,250 ค่าน้ำมัน 1/7/2567", "รับ 300 ค่าขยะ 10/7/2567", "รับ 99 ค่าปรับ"):
        say(text)
    say("คีย์แล้ว 3")
    blank = say(action="form:keyback-worksheet")[0]
    fill = next(c for c in blank.choices if c.action.startswith("formfill:"))
    assert fill.label == "กรอกรายการค้างคีย์"
    for action in (fill.action, "formfill:keyback-worksheet:today"):  # an old button too
        r = say(action=action)[0]
        assert r.file is not None and r.file.data.startswith(b"%PDF")
        assert "2 รายการ" in r.text and "1 ก.ค. 2567 - 10 ก.ค. 2567" in r.text, r.text
    say("คีย์แล้ว 1-2")
    r = say(action=fill.action)[0]
    assert r.file is None and "ไม่มีรายการที่ยังไม่ได้คีย์" in r.text


def test_keyback_worksheet_says_how_to_get_the_rest(core: Core, say: Say) -> None:
    from bot.forms.catalog import PENDING_ROWS

    ledger = make_lao_admin(core, "console:u1", "01234567")
    from bot.ledger.quickentry import parse_entry

    items = [(parse_entry(f"รับ {n} ค่าขยะ 1/7/2567", FIXED_NOW.date()), f"e{n}")
             for n in range(1, PENDING_ROWS + 4)]
    ledger.add_many(items, author="console:u1", author_name="ก", channel="console", now=FIXED_NOW)
    r = say(action="formfill:keyback-worksheet:pending")[0]
    assert r.file is not None
    assert f"{PENDING_ROWS} รายการ" in r.text and "ยังเหลืออีก 3 รายการ" in r.text
    assert f"คีย์แล้ว 1-{PENDING_ROWS}" in r.text


@pytest.mark.parametrize("channel", ["console", "line"])
def test_a_form_number_past_the_list_says_there_is_no_such_form(
    say: Say, channel: str,
) -> None:
    forms = say("แบบฟอร์ม", channel=channel)[0].choices
    r = say(f"แบบฟอร์ม {len(forms) + 1}", channel=channel)[0]
    assert f"ไม่มีแบบฟอร์มที่ {len(forms) + 1}" in r.text and r.file is None
    assert [c.action for c in r.choices] == [c.action for c in forms]
    third = say("แบบฟอร์ม ๓", channel=channel)[0]
    assert third.file is not None
    assert third.file.filename == say(action=forms[2].action, channel=channel)[0].file.filename


def test_todays_book_points_to_the_days_typed_today_for_earlier_dates(
    core: Core, say: Say,
) -> None:
    make_lao_admin(core, "console:u1", "01234567")
    say("รับ 300 ค่าขยะ 10/7/2567")
    say("รับ 50 ค่าปรับ 12/7/2567")
    r = say(action="formfill:cash-receipts-book:today")[0]
    assert "ลงวันที่ย้อนหลัง 2 รายการ (10 ก.ค. 2567 - 12 ก.ค. 2567)" in r.text, r.text
    back = next(c for c in r.choices if c.label == "กรอกวันที่ย้อนหลัง")
    filled = say(action=back.action)[0]
    assert filled.file is not None and "10 ก.ค. 2567 - 12 ก.ค. 2567" in filled.text
    assert "ลงวันที่ย้อนหลัง" not in filled.text  # that fill is of those days
