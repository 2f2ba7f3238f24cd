"""The ledger through chat (as every channel reaches it) and its on-disk promises."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from bot.core.store import TinyStore
from bot.ledger.book import LedgerBook
from bot.ledger.entries import Lao
from handlers.app import Core
from tests.conftest import FIXED_NOW, STORE_KINDS, Say, core_on

ROOT = Path(__file__).resolve().parent.parent

core = pytest.fixture(params=STORE_KINDS[1:])(core_on)  # the chat tests on TinyDB and PostgreSQL


def _join(core: Core, say: Say, user: str, code: str = "01234567", admin: bool = False) -> None:
    d = core.book.directory
    if d.lao(code) is None:
        d.add_lao(Lao(code, f"อบต.ทดสอบ {code}", "ลำพูน"))
    inv = d.invite(code, "admin" if admin else "member", "cli", FIXED_NOW)
    assert "ในฐานะ" in say(f"เข้าร่วม {inv.code}", user=user)[0].text


def test_no_lao_is_told_how_to_join(say: Say) -> None:
    r = say("รับ 1500 ค่าขยะ")[0]
    assert "เข้าร่วม" in r.text
    assert any(c.action == "demo:create" for c in r.choices)  # console offers the demo LAO


def test_join_code_is_one_time_and_expires(core: Core, say: Say) -> None:
    d = core.book.directory
    d.add_lao(Lao("01234567", "อบต.ทดสอบ", "ลำพูน"))
    inv = d.invite("01234567", "member", "cli", FIXED_NOW)
    assert "ในฐานะ" in say(f"/join {inv.code.lower()}", user="a")[0].text
    assert "ไม่ถูกต้อง" in say(f"เข้าร่วม {inv.code}", user="b")[0].text
    old = d.invite("01234567", "member", "cli", datetime(2024, 7, 1, tzinfo=FIXED_NOW.tzinfo),
                   days=1)
    assert "หมดอายุ" in say(f"เข้าร่วม {old.code}", user="c")[0].text
    assert d.member("console:b") is None and d.member("console:c") is None


def test_log_echo_amount_in_words_and_be_date(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    r = say("รับ 1,500 ค่าขยะ เลขที่ 12/345 เงินสด", user="u1")[0]
    assert "รายการที่ 1" in r.text and "1,500.00 บาท" in r.text
    assert "หนึ่งพันห้าร้อยบาทถ้วน" in r.text and "15 ก.ค. 2567" in r.text
    assert r.choices[0].action == "void:01234567:1"


def test_bad_entry_refused_with_example_nothing_saved(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    for text in ("รับ 0 ค่าขยะ", "จ่าย 1,500.555 ค่าน้ำมัน", "รับ 1500 ค่าขยะ 20/7/2567",
                 "รับ 1,000,000,000 ค่าที่ดิน", "รับ 100 ค่าขยะ 31/2/2567"):
        r = say(text, user="u1")[0]
        assert "ตัวอย่าง" in r.text, text
    assert len(core.book.ledger("01234567")) == 0


def test_redelivered_event_logged_once(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    first = say("จ่าย 3,200 ค่าน้ำมัน", user="u1", event_id="evt-123")[0]
    again = say("จ่าย 3,200 ค่าน้ำมัน", user="u1", event_id="evt-123")[0]
    assert "รายการที่ 1" in first.text and "บันทึกไว้แล้ว" in again.text
    assert len(core.book.ledger("01234567")) == 1


def test_several_lines_all_or_nothing(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    r = say("รับ 100 ค่าขยะ\nจ่าย abc ค่าน้ำ\nรับ 200 ค่าเช่า", user="u1")[0]
    assert "บรรทัด 2" in r.text and len(core.book.ledger("01234567")) == 0
    r = say("รับ 100 ค่าขยะ\nจ่าย 50 ค่าน้ำ\nรับ 200 ค่าเช่า เมื่อวาน", user="u1")[0]
    assert "3 รายการ" in r.text and len(core.book.ledger("01234567")) == 3


def test_today_summary_void_keyed_pending(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    say("รับ 1500 ค่าขยะ", user="u1")
    say("จ่าย 200 ค่าน้ำ", user="u1")
    say("รับ 300 ค่าเช่า เมื่อวาน", user="u1")
    today = say("วันนี้", user="u1")[0].text
    assert "รวมรับ 1,500.00 บาท" in today and "รวมจ่าย 200.00 บาท" in today
    # void via the button: asks for a reason, then marks it, never deletes
    assert "เหตุผล" in say(action="void:01234567:2", user="u1")[0].text
    assert "ยกเลิกรายการที่ 2 แล้ว" in say("พิมพ์ซ้ำ", user="u1")[0].text
    e = core.book.ledger("01234567").get(2)
    assert e is not None and e.void is not None and e.void.reason == "พิมพ์ซ้ำ"
    assert "รวมจ่าย 0.00 บาท" in say("สรุป", user="u1")[0].text
    assert "2 รายการ" in say("คีย์แล้ว 1-3", user="u1")[0].text  # the voided one is skipped
    assert "ไม่มีรายการค้างคีย์" in say("ค้างคีย์", user="u1")[0].text


def test_only_author_or_admin_may_void(core: Core, say: Say) -> None:
    _join(core, say, "author")
    _join(core, say, "other")
    _join(core, say, "boss", admin=True)
    say("รับ 100 ค่าขยะ", user="author")
    assert "เฉพาะ" in say("ยกเลิก 1 ผิด", user="other")[0].text
    assert "ยกเลิกรายการที่ 1 แล้ว" in say("ยกเลิก 1 ผิด", user="boss")[0].text


def test_every_void_confirmation_repeats_the_entry(core: Core, say: Say) -> None:
    # With several clerks logging, "ยกเลิกรายการที่ 3 แล้วค่ะ" alone lets numbers get mixed up:
    # the typed void, the button's question and its confirmation all show the entry itself.
    _join(core, say, "u1")
    _join(core, say, "boss", admin=True)
    say("รับ 100 ค่าขยะ", user="u1")
    say("จ่าย 250 ค่าน้ำ", user="u1")
    typed = say("ยกเลิก 1 บันทึกผิดคน", user="boss")[0].text
    assert "ยกเลิกรายการที่ 1 แล้ว" in typed
    assert "รับ 100.00 บาท (หนึ่งร้อยบาทถ้วน) ค่าขยะ" in typed
    asked = say(action="void:01234567:2", user="u1")[0].text
    assert "จ่าย 250.00 บาท (สองร้อยห้าสิบบาทถ้วน) ค่าน้ำ" in asked and "เหตุผล" in asked
    done = say("จดซ้ำ", user="u1")[0].text
    assert "ยกเลิกรายการที่ 2 แล้ว" in done
    assert "จ่าย 250.00 บาท (สองร้อยห้าสิบบาทถ้วน) ค่าน้ำ" in done


def test_isolation_between_laos(core: Core, say: Say) -> None:
    _join(core, say, "a", code="01111111", admin=True)
    _join(core, say, "b", code="02222222", admin=True)
    say("รับ 999 ค่าลับของ A", user="a")
    # B can't see, void, mark or export A's entry through any command or forged button
    for text in ("วันนี้", "ล่าสุด", "สรุป", "ค้างคีย์", "ส่งออก"):
        for r in say(text, user="b"):
            assert "ค่าลับของ A" not in r.text
            assert r.file is None or b"999" not in r.file.data
    assert "ใช้ไม่ได้" in say(action="void:01111111:1", user="b")[0].text
    say("ยกเลิก 1 แกล้ง", user="b")
    say("คีย์แล้ว 1", user="b")
    e = core.book.ledger("01111111").get(1)
    assert e is not None and not e.voided and not e.keyed
    assert "ใช้ไม่ได้" in say(action="kick:01111111:console:a", user="b")[0].text
    assert core.book.directory.member("console:a") is not None


def test_export_xlsx_from_chat_totals_and_formulas(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    say("รับ 1,500.50 =HYPERLINK(\"http://x\") ค่าขยะ", user="u1")
    say("รับ 100 ค่าเช่า", user="u1")
    say("จ่าย 300 @SUM(A1) ค่าน้ำ", user="u1")
    say("ยกเลิก 2 ผิด", user="u1")
    r = say("ส่งออก", user="u1")[0]
    assert r.file is not None and r.file.filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(r.file.data), data_only=True)
    assert wb.sheetnames == ["รายการทั้งหมด", "เงินสดรับ", "เงินสดจ่าย", "สรุปรายวัน"]
    rows = [[c.value for c in row] for row in wb["รายการทั้งหมด"].iter_rows(min_row=5)]
    assert [row[0] for row in rows if isinstance(row[0], int)] == [1, 2, 3]
    assert rows[1][8].startswith("ยกเลิก")  # voided: visible, marked
    # no user formulas: typed text stays as typed, in string cells (never evaluated)
    typed = openpyxl.load_workbook(io.BytesIO(r.file.data))["รายการทั้งหมด"]
    texts = {c.value: c.data_type for row in typed.iter_rows(min_row=5) for c in row
             if c.column_letter == "E" and isinstance(c.value, str)
             and c.value.startswith(("=", "@"))}
    assert texts == {'=HYPERLINK("http://x") ค่าขยะ': "s", "@SUM(A1) ค่าน้ำ": "s"}
    receipts = [[c.value for c in row] for row in wb["เงินสดรับ"].iter_rows(min_row=5)]
    total_row = next(row for row in receipts if row[4] == "รวม")
    assert Decimal(str(total_row[5])) == Decimal("1500.50")  # the voided 100 is not counted


def test_export_csv_has_bom_and_thai(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    say("รับ 100 ค่าขยะ", user="u1")
    r = say("ส่งออก csv", user="u1")[0]
    assert r.file is not None and r.file.data.startswith(b"\xef\xbb\xbf")
    assert "ค่าขยะ" in r.file.data.decode("utf-8-sig")


def test_leave_and_admin_remove(core: Core, say: Say) -> None:
    _join(core, say, "boss", admin=True)
    _join(core, say, "clerk")
    members = say("สมาชิก", user="boss")[0]
    kick = next(c for c in members.choices if "console:clerk" in c.action)
    ask = say(action=kick.action, user="boss")[0]
    assert "ใช่ไหม" in ask.text  # removing a member is confirmed first
    assert core.book.directory.member("console:clerk") is not None
    say(action=next(c.action for c in ask.choices if c.label == "ยืนยันลบ"), user="boss")
    assert core.book.directory.member("console:clerk") is None
    leave = say("/leave", user="boss")[0]  # the only admin hands over first
    assert "ผู้ดูแลคนเดียว" in leave.text and not leave.choices
    _join(core, say, "deputy", admin=True)
    leave = say("/leave", user="boss")[0]
    say(action=leave.choices[0].action, user="boss")
    assert core.book.directory.member("console:boss") is None


# ------------------------------------------------------------------ process-level promises


WRITER = """
import sys, datetime
from decimal import Decimal
from pathlib import Path
from bot.core.store import TinyStore, lock_data_dir
from bot.ledger.book import LedgerBook
from bot.ledger.entries import Lao, ParsedEntry
d = Path(sys.argv[1]); lock = lock_data_dir(d)
book = LedgerBook(TinyStore(d)); book.directory.add_lao(Lao("01234567", "x"))
led = book.ledger("01234567"); now = datetime.datetime.now(datetime.timezone.utc)
for i in range(100000):
    p = ParsedEntry("receipt", Decimal(i + 1), f"รายการ {i}", datetime.date(2024, 7, 1))
    led.add_many([(p, f"ev{i}")], author="line:U", author_name="x", channel="line", now=now)
    print(i, flush=True)  # acknowledged only after the atomic write returned
"""


def test_crash_keeps_every_acknowledged_entry(tmp_path: Path) -> None:
    for attempt in range(3):
        d = tmp_path / f"run{attempt}"
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(d)], stdout=subprocess.PIPE,
                                cwd=ROOT, text=True)
        assert proc.stdout is not None
        acked = -1
        deadline = time.monotonic() + 0.3 + attempt * 0.4
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line:
                acked = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for line in proc.stdout:  # what was printed before the kill was acknowledged too
            acked = int(line)
        led = LedgerBook(TinyStore(d)).ledger("01234567")
        assert acked >= 0
        assert len(led) >= acked + 1
        assert {e.event_id for e in led.entries()} >= {f"ev{i}" for i in range(acked + 1)}
        json.loads((d / "lao/01234567/ledger.json").read_text(encoding="utf-8"))


def test_second_writer_refused(tmp_path: Path) -> None:
    env = {**os.environ, "ELAAS_DATA_DIR": str(tmp_path)}
    first = subprocess.Popen([sys.executable, "-m", "handlers.cli", "chat"], cwd=ROOT, env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.2)
        deadline = time.monotonic() + 20
        while not (tmp_path / ".owner.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        second = subprocess.run([sys.executable, "-m", "handlers.cli", "chat"], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=60, input="")
        assert second.returncode == 2
        assert "already owns" in second.stderr
    finally:
        first.kill()
        first.wait()


def test_cli_lao_invite_export(tmp_path: Path) -> None:
    env = {**os.environ, "ELAAS_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "handlers.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    assert cli("lao", "add", "00123456", "อบต.เลขศูนย์นำ", "--province", "ลำพูน").returncode == 0
    assert "00123456" in cli("lao", "list").stdout  # leading zeros kept
    out = cli("lao", "invite", "00123456", "--admin").stdout
    assert "join code (admin)" in out
    book = LedgerBook(TinyStore(tmp_path))
    from bot.ledger.entries import ParsedEntry

    book.ledger("00123456").add_many(
        [(ParsedEntry("receipt", Decimal("10"), "ค่าขยะ", date(2024, 7, 3)), "e1"),
         (ParsedEntry("payment", Decimal("4"), "ค่าน้ำ", date(2024, 7, 20)), "e2")],
        author="line:U", author_name="x", channel="line", now=FIXED_NOW)
    target = tmp_path / "july.csv"
    res = cli("export", "00123456", "--from", "2024-07-01", "--to", "2024-07-10", "--format",
              "csv", "-o", str(target))
    assert res.returncode == 0, res.stderr
    text = target.read_text(encoding="utf-8-sig")
    assert "ค่าขยะ" in text and "ค่าน้ำ" not in text


@pytest.mark.parametrize(("text", "code"), [
    ("รับ 1,500 ค่าขยะ", 0), ("จ่าย 0 ค่าน้ำ", 2), ("ระบบล่มไหม", 1),
])
def test_cli_parse_exit_codes(text: str, code: int) -> None:
    res = subprocess.run([sys.executable, "-m", "handlers.cli", "parse", "--json", "--today",
                          "2024-07-15", text], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == code, res.stderr
    if code == 0:
        assert json.loads(res.stdout) == {"kind": "receipt", "amount": "1500.00",
                                          "description": "ค่าขยะ", "date": "2024-07-15",
                                          "doc_no": None, "method": None}
    if code == 2:
        assert "ตัวอย่าง" in res.stderr


def test_lao_changes_spooled_while_the_data_dir_is_owned(tmp_path: Path) -> None:
    """`lao add` / `lao invite` hand their change to the owner (serve applies the spool)."""
    from bot.core.store import lock_data_dir
    from bot.notices.board import Publisher
    from bot.notices.status import StatusBoard
    from handlers.spool import SpoolRequest, apply_spool, post_request

    lock = lock_data_dir(tmp_path)  # stands in for a running serve
    try:
        add = SpoolRequest("r1", "lao_add", FIXED_NOW, "cli", lao_code="00123456",
                           lao_name="อบต.ก", province="ลำพูน")
        invite = SpoolRequest("r2", "lao_invite", FIXED_NOW, "cli", lao_code="00123456",
                              role="admin", join_code="ABCD2345")
        assert post_request(tmp_path, add, wait=0).how == "queued"
        assert post_request(tmp_path, invite, wait=0).how == "queued"
        store = TinyStore(tmp_path)
        assert apply_spool(tmp_path, Publisher(store, StatusBoard(store))) == ["r1", "r2"]
        member = LedgerBook(store).directory.redeem("abcd-2345", "line:U1", "ก",
                                                    FIXED_NOW)
        assert member.lao_code == "00123456" and member.is_admin
    finally:
        lock.release()


@pytest.mark.parametrize("code", ["KKK2M3PQ", "AAAABBBB", "XY2ZZZZ9"])
def test_join_codes_with_repeated_letters(core: Core, say: Say, code: str) -> None:
    """Codes are random: letters repeat; the clean-up for questions must not touch them."""
    core.book.directory.add_lao(Lao("01234567", "อบต.ทดสอบ", "ลำพูน"))
    core.book.directory.invite("01234567", "member", "cli", FIXED_NOW, code=code)
    assert "ในฐานะ" in say(f"เข้าร่วม {code}")[0].text


def test_a_reused_document_number_is_asked_about_on_every_store(core: Core, say: Say) -> None:
    _join(core, say, "u1")
    assert "รายการที่ 1" in say("รับ 1500 ค่าขยะ เลขที่ 12/345", user="u1")[0].text
    ask = say("รับ 1500 ค่าขยะ เลขที่ 12/345", user="u1")[0]
    assert "เลขที่ 12/345 มีแล้ว (รายการที่ 1" in ask.text
    assert len(core.book.ledger("01234567")) == 1
    say(action=next(c.action for c in ask.choices if c.label == "บันทึกซ้ำ"), user="u1")
    assert len(core.book.ledger("01234567")) == 2
