"""The command line refuses bad input with a message and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.notices.status import STATES
from handlers.cli import main

CODE = "05510101"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ELAAS_DATA_DIR", str(tmp_path / "data"))
    assert main(["lao", "add", CODE, "อบต.ตัวอย่าง", "--province", "ลำพูน"]) == 0
    return tmp_path / "data"


@pytest.mark.parametrize(("argv", "says"), [
    (["export", CODE, "--from", "2024-13-45"], "cannot read the date '2024-13-45'"),
    (["export", CODE, "--to", "31/2/2567"], "--to: cannot read the date"),
    (["export", CODE, "--from", "2024-07-31", "--to", "2024-07-01"], "before --from"),
    (["export", "99999998"], "no LAO with code 99999998"),
    (["form", "daily-cash-report", "--lao", CODE, "--from", "2024-07-31", "--to",
      "2024-07-01"], "before --from"),
    (["form", "cash-receipts-book", "--lao", CODE, "--from", "2023-01-01", "--to",
      "2024-07-01"], "at most 400 days"),
    (["form", "daily-cash-report", "--lao", "99999998"], "no LAO with code 99999998"),
    (["form", "daily-cash-report", "--from", "2024-02-30"], "cannot read the date"),
    (["form", "no-such-form"], "no form 'no-such-form'"),
    (["lao", "invite", "99999998"], "no LAO with code 99999998"),
    (["lao", "add", "99123456", "อบต.ทดลอง"], "ไม่ขึ้นต้นด้วย 99"),  # the demos' codes
    (["parse", "--today", "2024-99-01", "รับ 1 ค่าขยะ"], "--today"),
])
def test_bad_input_is_refused_with_exit_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str,
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not list(data_dir.parent.glob("*.xlsx")) and not list(data_dir.parent.glob("*.pdf"))


def test_parse_exit_codes_for_entry_like_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--today", "2024-07-15", "รับ ค่าขยะ"]) == 2  # an entry, malformed
    assert "จำนวนเงิน" in capsys.readouterr().err
    assert main(["parse", "--today", "2024-07-15", "รับ 1500 200 ค่าขยะ"]) == 2
    assert main(["parse", "--today", "2024-07-15", "สวัสดีครับ"]) == 1
    assert main(["parse", "--json", "--today", "2024-07-15",
                 "+ สองพันห้าร้อยบาท ค่าเช่าตลาด โอน"]) == 0
    assert '"amount": "2500.00"' in capsys.readouterr().out


def test_a_real_process_prints_no_traceback(data_dir: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main())",
         "export", CODE, "--from", "2024-07-31", "--to", "2024-07-01"],
        capture_output=True, text=True, timeout=60, check=False, cwd=data_dir.parent,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr and "before" in run.stderr
    assert not list(data_dir.parent.glob("*.xlsx"))


def test_lao_add_refuses_an_existing_code_and_renames_only_when_asked(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.ledger.book import Directory
    from handlers.settings import Settings
    from handlers.storage import open_store

    capsys.readouterr()
    assert main(["lao", "add", CODE, "อบต.ซ้ำ", "--province", "ลำพูน"]) == 2
    err = capsys.readouterr().err
    assert "05510101" in err and "อบต.ตัวอย่าง" in err and "--rename" in err
    store = open_store(Settings(data_dir=data_dir))
    lao = Directory(store).lao(CODE)
    assert lao is not None and lao.name == "อบต.ตัวอย่าง"
    store.close()
    assert main(["lao", "add", CODE, "อบต.ใหม่", "--province", "จ.ลำพูน", "--rename"]) == 0
    store = open_store(Settings(data_dir=data_dir))
    assert Directory(store).lao(CODE) == type(lao)(CODE, "อบต.ใหม่", "ลำพูน")
    store.close()
    assert main(["lao", "add", "05510102", "อบต.ไม่มี", "--rename"]) == 2
    assert "05510102" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "says"), [
    (["lao", "add", "05510199", "อบต.พิมพ์ผิด", "--province", "ลำภูน"], "ไม่รู้จักจังหวัด"),
    (["lao", "add", "0551-01", "อบต.รหัสผิด", "--province", "ลำพูน"], "รหัส อปท."),
    (["lao", "add", "05510199", " ", "--province", "ลำพูน"], "ชื่อ อปท."),
])
def test_lao_add_checks_code_name_and_province(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str,
) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err
    assert main(["lao", "list"]) == 0
    assert "05510199" not in capsys.readouterr().out


def test_export_reads_a_buddhist_era_year(data_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date, datetime

    from bot.ledger.book import LedgerBook
    from bot.ledger.quickentry import parse_entry
    from bot.notices.status import BANGKOK
    from handlers.settings import Settings
    from handlers.storage import open_store

    store = open_store(Settings(data_dir=data_dir))
    item = parse_entry("รับ 1500 ค่าขยะ 15/12/2569", date(2026, 12, 15))
    LedgerBook(store).ledger(CODE).add_many(
        [(item, "ev1")], author="console:u1", author_name="ก", channel="console",
        now=datetime(2026, 12, 15, 10, 0, tzinfo=BANGKOK))
    store.close()
    capsys.readouterr()
    for lo, hi in (("2569-12-01", "2569-12-31"), ("2026-12-01", "2026-12-31")):
        assert main(["export", CODE, "--from", lo, "--to", hi, "--format", "csv",
                     "-o", "x.csv"]) == 0
        assert "(1 entries" in capsys.readouterr().out, lo
    assert main(["export", CODE, "--from", "2569-12-31", "--to", "2026-12-01"]) == 2
    assert "before --from" in capsys.readouterr().err
    # the chat reads a period the same way ("สรุป 2569-12-01")
    from bot.ledger.quickentry import parse_period
    assert parse_period("2569-12-01", date(2026, 12, 2)) == (date(2026, 12, 1),) * 2


def test_lao_add_without_a_province_is_refused_as_no_operator_would_see_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    assert main(["lao", "add", "05510103", "อบต.ไม่มีจังหวัด"]) == 2
    err = capsys.readouterr().err
    assert "ต้องระบุจังหวัด" in err and "--province" in err and "Traceback" not in err
    assert main(["lao", "list"]) == 0
    assert "05510103" not in capsys.readouterr().out
    assert main(["lao", "add", CODE, "อบต.ชื่อใหม่", "--rename"]) == 0  # keeps its province
    assert "อบต.ชื่อใหม่ (ลำพูน)" in capsys.readouterr().out


def test_lao_list_names_an_lao_left_without_a_province_and_how_to_set_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.ledger.book import Directory
    from bot.ledger.entries import Lao
    from handlers.settings import Settings
    from handlers.storage import open_store

    store = open_store(Settings(data_dir=data_dir))
    Directory(store).add_lao(Lao("05510104", "อบต.เก่า"))  # added before --province was required
    store.close()
    capsys.readouterr()
    assert main(["lao", "list"]) == 0
    out = capsys.readouterr()
    assert "05510104\tอบต.เก่า\t-" in out.out
    assert "05510104" in out.err and "--rename --province" in out.err
    assert main(["lao", "add", "05510104", "อบต.เก่า", "--rename"]) == 2  # still none: refused
    assert "ต้องระบุจังหวัด" in capsys.readouterr().err
    assert main(["lao", "add", "05510104", "อบต.เก่า", "--rename", "--province", "ลำพูน"]) == 0
    capsys.readouterr()
    assert main(["lao", "list"]) == 0
    assert "05510104" not in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "says"), [
    (["export", CODE, "-o", "/nonexistent/x.xlsx"], "no folder /nonexistent"),
    (["export", CODE, "--format", "csv", "-o", "."], "is a folder"),
    (["form", "cash-receipts-book", "-o", "/nonexistent/x.pdf"], "no folder /nonexistent"),
    (["form", "cash-receipts-book", "--lao", CODE, "-o", "."], "is a folder"),
    (["line", "richmenu", "--save-image", "/nonexistent/menu.png"], "no folder /nonexistent"),
])
def test_a_bad_output_path_is_one_line_and_exit_2(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str,
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and err.startswith("elaas-bot: ")


def test_a_failed_write_leaves_neither_the_file_nor_a_part(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    out = data_dir.parent / "out"
    out.mkdir()

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", disk_full)
        assert main(["export", CODE, "-o", str(out / "x.xlsx")]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    assert main(["export", CODE, "-o", str(out / "x.xlsx")]) == 0
    assert [p.name for p in out.iterdir()] == ["x.xlsx"]
    assert (out / "x.xlsx").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("argv", [
    ["--days", "-3"], ["--days", "0"], ["--days", "100000"], ["--days", "31"],
    ["--admin", "--days", "8"],
])
def test_lao_invite_refuses_a_lifetime_out_of_range(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
) -> None:
    capsys.readouterr()
    assert main(["lao", "invite", CODE, *argv]) == 2
    captured = capsys.readouterr()
    assert "1-" in captured.err and "join code" not in captured.out


def test_lao_invite_accepts_the_longest_lifetimes(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.ledger.directory import MAX_INVITE_DAYS

    for role, days in (("member", MAX_INVITE_DAYS["member"]), ("admin", MAX_INVITE_DAYS["admin"])):
        extra = ["--admin"] if role == "admin" else []
        assert main(["lao", "invite", CODE, "--days", str(days), *extra]) == 0
        assert f"join code ({role})" in capsys.readouterr().out


def test_operator_remove_says_when_there_is_no_such_operator(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["operator", "remove", "line:Unobody"]) == 2
    assert "not a provincial operator" in capsys.readouterr().err
    assert main(["operator", "add", "line:Uop1", "--province", "ลำพูน"]) == 0
    assert main(["operator", "remove", "line:Uop1", "--province", "เชียงใหม่"]) == 2
    assert "เชียงใหม่" in capsys.readouterr().err
    assert main(["operator", "remove", "line:Uop1"]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["operator", "remove", "line:Uop1"]) == 2


@pytest.mark.parametrize(("word", "state"), [
    ("ปกติ", "normal"), ("ใช้งานได้ปกติ", "normal"), ("ล่ม", "down"), ("ขัดข้อง", "down"),
    ("บางส่วน", "partial"), ("ปิดปรับปรุง", "maintenance"), ("Down", "down"),
])
def test_status_set_takes_the_thai_names_the_chat_takes(
    data_dir: Path, capsys: pytest.CaptureFixture[str], word: str, state: str,
) -> None:
    from bot.notices.board import StatusArgs, parse_status_args

    assert parse_status_args(f"{word} ข้อความ") == StatusArgs(state, "ข้อความ")
    assert main(["status", "set", "--state", word, "--message", "ทดสอบ"]) == 0
    assert STATES[state] in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["status", "show", "--limit", "-2"], ["kb", "gaps", "--limit", "0"],
    ["status", "show", "--notices", "x"],
])
def test_a_count_below_one_is_a_usage_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and "not a whole number from 1" in capsys.readouterr().err


def test_form_keyback_worksheet_lists_every_entry_still_to_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import date, datetime

    from openpyxl import load_workbook

    from bot.ledger.book import LedgerBook
    from bot.ledger.quickentry import parse_entry
    from bot.notices.status import BANGKOK
    from handlers.settings import Settings
    from handlers.storage import open_store

    store = open_store(Settings(data_dir=data_dir))
    items = [(parse_entry(t, date(2026, 12, 2)), f"ev{i}")
             for i, t in enumerate(("จ่าย 1250 ค่าน้ำมัน 1/12/2569", "รับ 70 ค่าขยะ 2/12/2569"))]
    LedgerBook(store).ledger(CODE).add_many(
        items, author="console:u1", author_name="ก", channel="console",
        now=datetime(2026, 12, 2, 10, 0, tzinfo=BANGKOK))
    store.close()
    capsys.readouterr()
    assert main(["form", "keyback-worksheet", "--lao", CODE, "--format", "xlsx",
                 "-o", "k.xlsx"]) == 0
    assert "2 entries still to key" in capsys.readouterr().out
    cells = [c.value for row in load_workbook(data_dir.parent / "k.xlsx").active.iter_rows()
             for c in row]
    assert "ค่าน้ำมัน" in cells and "ค่าขยะ" in cells
