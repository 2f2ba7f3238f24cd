"""Short first answers, corrected citations, the kb check rules that keep them, JSON outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.contract import Incoming
from bot.notices.status import BANGKOK
from bot.qa.kbcheck import run_checks
from bot.qa.knowledge import MAX_FIRST, default_knowledge_dir, load_knowledge
from handlers.app import Core

LATE = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)
PRACTICE_SOURCE = "ที่มา: "
REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from handlers.cli import run; run()"]


def reply(core: Core, *, text: str | None = None, action: str | None = None) -> list:
    return core.engine.reply_to(Incoming("console", "t", "t", text=text, action=action,
                                         event_id=f"{text}{action}"))


@pytest.fixture
def late(core: Core) -> Core:
    core.engine.clock = lambda: LATE
    return core


def test_every_first_message_fits_a_phone_screen(late: Core) -> None:
    for topic in late.kb.topics:
        first = reply(late, action=f"topic:{topic.id}")[0]
        assert len(first.text) <= MAX_FIRST, (topic.id, len(first.text))
        full_choice = [c for c in first.choices if c.action == f"full:{topic.id}"]
        if topic.has_more or topic.sources:
            assert full_choice, topic.id
            full = reply(late, action=full_choice[0].action)[0]
            assert full.topic == topic.id and len(full.text) >= len(first.text)


def test_yes_no_questions_start_with_the_answer(late: Core) -> None:
    keyback = reply(late, text="ต้องเอาใบเสร็จที่เขียนมือมาคีย์เข้าelaasทุกใบมั้ย")[0]
    assert keyback.topic == "guide.keyback" and keyback.text.startswith("ต้องคีย์ทุกรายการ")
    payroll = reply(late, text="ระบบล่ม เงินเดือนพนักงานออกไหม")[0]
    # the answer first, without a bare "จ่ายได้" that reads as yes to any payroll question
    assert payroll.topic == "guide.payroll" and payroll.text.startswith(
        "เงินเดือนและค่าจ้างจ่ายด้วยมือได้")
    down = reply(late, text="ระบบล่มอยู่ไหม")[0]
    assert down.text.startswith("สถานะ e-LAAS ตอนนี้: ไม่ทราบ")  # honest: the record is old


def test_corrections_in_the_full_answers(late: Core) -> None:
    kb = late.kb
    for topic in kb.topics:
        full = reply(late, action=f"full:{topic.id}")[0].text
        assert "พ.ศ. 2547" not in full, topic.id
        if "general-practice" in topic.sources:
            cited = full.split(PRACTICE_SOURCE, 1)[1].split("\n")[0] if PRACTICE_SOURCE in full \
                else ""
            assert "0808.4/ว 3369" not in cited, (topic.id, cited)
        if topic.id.startswith("forms."):
            assert "เป็นไปตามหนังสือ ว 2431" not in full
    overview = kb.topic("guide.overview").answer
    assert overview.index("ไม่ใช่ข้อความจาก ว 3369") < overview.index("1. งบประมาณ")
    keyback = kb.topic("guide.keyback").answer
    assert "ใช้เลขที่ใบเสร็จ/ฎีกาตามกระดาษ" not in keyback and "ตาม ว 3369" not in keyback
    assert "ดูตาม ว 3369" not in kb.topic("guide.receipt_void").answer
    budget = reply(late, action="full:guide.budget")[0].text
    assert "ดูเพิ่ม: หนังสือ สถ. ที่ มท 0808.4/ว 3369" in budget
    assert len(kb.topic("status.data").answer) <= 1000


# --------------------------------------------------------------------------- kb check


def bad_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def messages(root: Path) -> list[str]:
    return [str(p) for p in run_checks(root)]


def test_kb_check_passes_on_the_real_knowledge() -> None:
    assert messages(default_knowledge_dir()) == []


def test_kb_check_fails_on_an_over_long_first_message(tmp_path: Path) -> None:
    root = bad_copy(tmp_path)
    edit(root / "topics" / "guide.yaml", "  short: |\n    คุมงบด้วยมือ",
         "  short: |\n    " + "ยาวมาก" * 80 + "คุมงบด้วยมือ")
    assert any("guide.budget: short is" in m for m in messages(root))
    root2 = bad_copy(tmp_path / "b")
    edit(root2 / "topics" / "status.yaml", "  short: |\n    {official}\n    {signals}",
         "  short: |\n    {official}\n    {signals}\n    {message}")
    assert any("status.current: first message is" in m and "when filled" in m
               for m in messages(root2))


def test_kb_check_fails_on_a_year_for_an_unconfirmed_regulation(tmp_path: Path) -> None:
    root = bad_copy(tmp_path)
    edit(root / "topics" / "contact.yaml", "การตรวจเงินขององค์กรปกครองส่วนท้องถิ่น (ฉบับที่ใช้บังคับ",
         "การตรวจเงินขององค์กรปกครองส่วนท้องถิ่น พ.ศ. 2547 (ฉบับที่ใช้บังคับ")
    assert any("refs.letters" in m and "'พ.ศ. 2547'" in m for m in messages(root))
    edit(root / "sources.yaml", "ของ อปท. (ฉบับที่ใช้บังคับ)", "ของ อปท. พ.ศ. 2547")
    assert any("moi-money" in m and "not confirmed" in m for m in messages(root))
    # once an operator confirms the year, it may be cited
    edit(root / "sources.yaml", "\n  year_confirmed: false", "\n  year_confirmed: true")
    assert not any("not confirmed" in m for m in messages(root))


def test_kb_check_fails_on_a_see_also_source_as_the_source(tmp_path: Path) -> None:
    root = bad_copy(tmp_path)
    edit(root / "topics" / "guide.yaml", "  sources: [moi-money, general-practice]\n"
         "  see_also: [dla-w3369]", "  sources: [moi-money, dla-w3369, general-practice]")
    found = [m for m in messages(root) if "marked see-also" in m]
    assert found and "dla-w3369" in found[0]


def test_kb_check_cli_exits_nonzero_on_a_bad_dir(tmp_path: Path) -> None:
    root = bad_copy(tmp_path)
    edit(root / "topics" / "guide.yaml", "  sources: [moi-money, general-practice]\n"
         "  see_also: [dla-w3369]", "  sources: [moi-money, dla-w3369, general-practice]")
    edit(root / "topics" / "bot.yaml", "  command: today", "  command: todya")
    out = subprocess.run([*CLI, "kb", "check", "--knowledge", str(root)], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 1 and "marked see-also" in out.stdout
    # the command names come from serve's own engine, built by the CLI
    assert "bot.today_howto: command: no command 'todya'" in out.stdout


def test_bot_privacy_first_message_is_split_at_a_line(late: Core) -> None:
    topic = load_knowledge().topic("bot.privacy")
    first = topic.first
    assert len(first) <= MAX_FIRST and topic.answer.startswith(first)


# --------------------------------------------------------------------------- JSON


def run_cli(tmp_path: Path, *args: str) -> dict:
    env = {**os.environ, "ELAAS_DATA_DIR": str(tmp_path / "data"), "PYTHAINLP_OFFLINE": "1"}
    out = subprocess.run([*CLI, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    doc: dict = json.loads(out.stdout)
    return doc


def test_ask_json_adds_the_replies(tmp_path: Path) -> None:
    doc = run_cli(tmp_path, "ask", "--json", "ระบบล่มอยู่ไหม")
    assert doc["topic"] == "status.current" and doc["score"] > 0
    assert isinstance(doc["alternatives"], list)
    first = doc["replies"][0]
    assert "ข้อมูลล่าสุดคือ" in first["text"] and len(first["text"]) <= MAX_FIRST
    assert {"label": "เข้าได้แล้ว", "action": "field:up"} in first["choices"]


def test_status_show_json_has_the_signals(tmp_path: Path) -> None:
    doc = run_cli(tmp_path, "status", "show", "--json")
    assert doc["state"] == "down" and doc["since"] == "2024-07-07"
    assert doc["updated_at"] == "2024-07-10" and "ว 2963" in doc["source"]
    assert doc["stale"] is True and doc["age_days"] > 14
    assert doc["probe"] is None and doc["probe_enabled"] is False
    assert doc["field"] == {"window_hours": 2.0, "up": 0, "down": 0, "provinces": []}
