"""Join codes in chat: a bare pasted code, the lock-out message, no log lines in the chat."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.ledger.book import MAX_JOIN_FAILURES
from bot.ledger.entries import Lao
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say

CODE = "05510101"


def _invite(core: Core, role: str = "member") -> str:
    if core.book.directory.lao(CODE) is None:
        core.book.directory.add_lao(Lao(CODE, "อบต.ตัวอย่าง", "ลำพูน"))
    return core.book.directory.invite(CODE, role, "cli", FIXED_NOW).code  # type: ignore[arg-type]


def test_a_bare_code_is_offered_as_a_join_and_the_button_joins(core: Core, say: Say) -> None:
    code = _invite(core)
    asked = say(code)[0]
    assert f"เข้าร่วม {code}" in asked.text and "นอกขอบเขต" not in asked.text
    assert core.book.directory.member("console:u1") is None  # asking uses no try
    join = next(c for c in asked.choices if c.label == "เข้าร่วมด้วยรหัสนี้")
    assert "อบต.ตัวอย่าง" in say(action=join.action)[0].text
    assert core.book.directory.member("console:u1") is not None


def test_words_and_entries_are_not_taken_for_codes(core: Core, say: Say) -> None:
    for text in ("สวัสดี", "status", "e-LAAS", "รับ 1500 ค่าขยะ", "12345678"):
        replies = say(text)
        assert all("เข้าร่วมด้วยรหัสนี้" not in [c.label for c in r.choices]
                   for r in replies), text


def test_the_lock_out_says_when_to_try_again_not_to_ask_for_a_new_code(
    core: Core, say: Say,
) -> None:
    good = _invite(core)
    for i in range(MAX_JOIN_FAILURES - 1):
        assert "ไม่ถูกต้อง" in say(f"เข้าร่วม ZZZZ{i + 2}{i + 2}{i + 2}{i + 2}", user="g")[0].text
    last = say("เข้าร่วม ZZZZ9999", user="g")[0].text
    assert "16 ก.ค. 2567" in last  # FIXED_NOW is 15 Jul 2567: the lock ends at midnight
    refused = say(f"เข้าร่วม {good}", user="g")[0].text
    assert "16 ก.ค. 2567" in refused and "ขอรหัสใหม่" not in refused
    assert core.book.directory.member("console:g") is None


def test_the_terminal_chat_prints_no_log_lines(tmp_path: Path) -> None:
    env = {**os.environ, "ELAAS_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run(
        [sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main())",
         "chat"], input="เข้าร่วม ZZZZ2345\n", capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "ไม่ถูกต้อง" in run.stdout
    assert "wrong code" not in run.stdout + run.stderr
    log = (tmp_path / "data" / "chat.log").read_text(encoding="utf-8")
    assert "wrong code from console:" in log  # kept, where it does not interrupt the chat


def test_typing_yes_at_the_bare_code_question_joins(core: Core, say: Say) -> None:
    for yes in ("ใช่", "ใช่ค่ะ", "ตกลง"):
        user = f"y{len(yes)}"
        say(_invite(core), user=user)
        assert "อบต.ตัวอย่าง" in say(yes, user=user)[0].text, yes
        assert core.book.directory.member(f"console:{user}") is not None, yes


def test_typing_no_at_the_bare_code_question_declines(core: Core, say: Say) -> None:
    code = _invite(core)
    for no in ("ไม่", "ไม่ใช่"):
        say(code, user="n")
        assert "ยังไม่ได้เข้าร่วม" in say(no, user="n")[0].text
    assert core.book.directory.member("console:n") is None
    assert "อบต.ตัวอย่าง" in say(f"เข้าร่วม {code}", user="n")[0].text  # the code still works


def test_an_expired_code_says_it_expired_and_who_to_ask(core: Core, say: Say) -> None:
    d = core.book.directory
    d.add_lao(Lao(CODE, "อบต.ตัวอย่าง", "ลำพูน"))
    old = d.invite(CODE, "member", "cli", FIXED_NOW - timedelta(days=10)).code
    d.invite(CODE, "member", "cli", FIXED_NOW)  # a newer code made since
    for _ in range(2):
        text = say(f"เข้าร่วม {old}", user="x")[0].text
        assert "หมดอายุ" in text and "อบต.ตัวอย่าง" in text and "ไม่ถูกต้อง" not in text


def test_a_text_that_cannot_be_a_code_uses_no_try(core: Core, say: Say) -> None:
    good = _invite(core)
    for bad in ("1234", "ABCD-EFG", "ABCDEFGHJ", "ABCD0OI1"):
        for _ in range(MAX_JOIN_FAILURES):
            text = say(f"เข้าร่วม {bad}", user="s")[0].text
            assert "8 ตัว" in text and "ลองได้อีก" not in text, bad
    assert "อบต.ตัวอย่าง" in say(f"เข้าร่วม {good}", user="s")[0].text
