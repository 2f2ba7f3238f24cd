"""Forms in two taps through the engine, and the `elaas-bot form` command."""

from __future__ import annotations

import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl

from bot.ledger.entries import Lao
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say

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
