"""The command line refuses bad input with a message and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    (["lao", "add", "99123456", "อบต.ทดลอง"], "not starting with 99"),  # the demos' codes
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
