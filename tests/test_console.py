"""The terminal chat: files go to the export folder, a paste is one message, choices by number."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from bot.core.store import TinyStore
from bot.ledger.book import LedgerBook
from bot.ledger.entries import SANDBOX_PREFIX
from handlers.app import Core
from handlers.cli import main
from handlers.console_adapter import PASTE_END, PASTE_ON, PASTE_START, ConsoleAdapter
from tests.conftest import make_lao_admin

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELAAS_", "LINE_", "TELEG"))}
    env.update(ELAAS_DATA_DIR=str(tmp_path / "data"), ELAAS_EXPORT_DIR=str(tmp_path / "out"),
               PYTHAINLP_OFFLINE="1", PYTHONIOENCODING="utf-8")
    return env


def _chat_cmd() -> list[str]:
    return [sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main())",
            "chat"]


def _demo_entries(tmp_path: Path) -> list[str]:
    """What the terminal's user logged in their own demo LAO."""
    store = TinyStore(tmp_path / "data")
    try:
        book = LedgerBook(store)
        demo = book.directory.sandbox("console:local")
        assert demo is not None
        return [e.description for e in book.ledger(demo).entries()]
    finally:
        store.close()


# --------------------------------------------------------------------------- in process


@pytest.fixture
def console(core: Core, tmp_path: Path) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    make_lao_admin(core, "console:local", "01234567")
    return ConsoleAdapter(core.engine, out, "local", tmp_path / "exports"), out


def test_a_sent_file_is_written_to_the_export_folder_and_its_path_shown(
    console: tuple[ConsoleAdapter, io.StringIO], tmp_path: Path,
) -> None:
    adapter, out = console
    adapter.handle("รับ 1,500 ค่าขยะ")
    adapter.handle("ส่งออก")
    adapter.handle("ส่งออก")  # a second export never overwrites the first
    paths = re.findall(r"ไฟล์: (\S+\.xlsx)", out.getvalue())
    assert len(paths) == 2 and paths[0] != paths[1]
    for p in map(Path, paths):
        assert p.parent == (tmp_path / "exports").resolve() and p.is_file()
        assert openpyxl.load_workbook(p).sheetnames[0] == "รายการทั้งหมด"
    assert not [p for p in (tmp_path / "exports").iterdir() if p.name.startswith(".part")]


def test_a_number_outside_the_choices_says_so(
    console: tuple[ConsoleAdapter, io.StringIO],
) -> None:
    adapter, out = console
    adapter.handle("เมนู")
    shown = len(adapter._choices)
    assert shown >= 2
    out.truncate(0)
    adapter.handle(str(shown + 1))  # the core answers it (tests/test_picks.py), the same way
    assert f"ไม่มีตัวเลือกที่ {shown + 1}" in out.getvalue() and f"1 ถึง {shown}" in out.getvalue()
    assert len(adapter._choices) == shown  # the same choices still work
    assert adapter.handle("๑")  # Thai digits pick too


def test_forms_list_is_printed_once(console: tuple[ConsoleAdapter, io.StringIO]) -> None:
    adapter, out = console
    adapter.handle("แบบฟอร์ม")
    text = out.getvalue()
    first = adapter._choices[0]
    assert len(re.findall(r"^\s*1[.)] ", text, re.M)) == 1, text
    assert "พิมพ์เลข 1-" in text and first.action.startswith("form:")
    out.truncate(0)
    adapter.handle("1")
    assert "ไฟล์:" in out.getvalue()


# --------------------------------------------------------------------------- real process


def test_piped_chat_and_a_bracketed_paste_is_one_message(tmp_path: Path) -> None:
    lines = ("ทดลองใช้\n"
             f"{PASTE_START}รับ 100 ค่าขยะ\nรับ 200 ค่าน้ำ{PASTE_END}\n"
             f"{PASTE_START}รับ 300 ค่าปรับ\nรับ ค่าเช่า{PASTE_END}\n"
             "ส่งออก\n")
    run = subprocess.run(_chat_cmd(), input=lines, capture_output=True, text=True,
                         env=_env(tmp_path), cwd=tmp_path, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "บันทึกแล้วค่ะ 2 รายการ" in run.stdout
    assert "ยังไม่ได้บันทึก" in run.stdout  # one bad line: none of that paste is saved
    assert _demo_entries(tmp_path) == ["ค่าขยะ", "ค่าน้ำ"]
    path = Path(re.findall(r"ไฟล์: (\S+)", run.stdout)[0])
    assert path.parent == (tmp_path / "out").resolve() and path.is_file()


def _read_until(fd: int, pattern: str, buf: bytearray, timeout: float = 90) -> str:
    end = time.monotonic() + timeout
    while pattern not in buf.decode("utf-8", "replace"):
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {pattern!r} in:\n{buf.decode('utf-8', 'replace')}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf.extend(chunk)
    return buf.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_interactive_terminal_enables_bracketed_paste_and_reads_a_paste_whole(
    tmp_path: Path,
) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen(_chat_cmd(), stdin=slave, stdout=slave, stderr=slave,
                            env=_env(tmp_path), cwd=tmp_path, close_fds=True)
    os.close(slave)
    buf = bytearray()
    try:
        _read_until(master, "คุณ> ", buf)
        assert PASTE_ON in buf.decode()
        os.write(master, "ทดลองใช้\n".encode())
        _read_until(master, "ผู้ดูแลแล้ว", buf)
        paste = f"{PASTE_START}รับ 100 ค่าขยะ\nรับ 200 ค่าน้ำ\nจ่าย 50 ค่าน้ำดื่ม{PASTE_END}\n"
        os.write(master, paste.encode())
        text = _read_until(master, "บันทึกแล้วค่ะ 3 รายการ", buf)
        assert "บันทึกแล้วค่ะ รายการที่" not in text  # not three separate messages
        assert "^[[200~" not in text  # the brackets are not echoed as control characters
        os.write(master, "ส่งออก\n".encode())
        text = _read_until(master, ".xlsx", buf)
        os.write(master, "ออก\n".encode())
        _read_until(master, "ลาก่อน", buf)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert _demo_entries(tmp_path) == ["ค่าขยะ", "ค่าน้ำ", "ค่าน้ำดื่ม"]
    assert list((tmp_path / "out").glob(f"elaas-{SANDBOX_PREFIX}*.xlsx"))


def test_the_readme_newcomer_walk_works_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    walk = readme.split("ในแชตเทอร์มินัล ลองพิมพ์", 1)[1].split("ตัวเลือกที่แสดง", 1)[0]
    typed = re.findall(r"`([^`]+)`", walk)
    assert typed[:3] == ["ระบบล่มอยู่ไหม", "จ่ายเงินตอนนี้ทำยังไง", "ทดลองใช้"]
    assert typed[-3:] == ["รับ 1,500 ค่าขยะ", "วันนี้", "ส่งออก"]
    run = subprocess.run(_chat_cmd(), input="".join(f"{t}\n" for t in typed),
                         capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path,
                         timeout=120, check=False)
    assert run.returncode == 0 and not run.stderr, run.stderr
    out = run.stdout
    assert "ขัดข้องชั่วคราว" not in out and "นอกขอบเขต" not in out and "หมายถึง" not in out
    assert "สถานะ e-LAAS" in out and "ในฐานะผู้ดูแล" in out and "บันทึกแล้วค่ะ รายการที่ 1" in out
    assert "1,500.00 บาท" in out.split("คุณ> วันนี้", 1)[1]
    path = Path(re.findall(r"ไฟล์: (\S+\.xlsx)", out)[0])
    assert path.is_file() and path.parent == (tmp_path / "out").resolve()
    # table rows of the quick-entry section parse as the README says
    for row in re.findall(r"^\| `([^`]+)` \| (.+) \|$", readme, re.M):
        text, said = row
        code = main(["parse", text])
        assert code == (2 if ("ยังไม่บันทึก" in said or "ขาด" in said) else 0), text
