"""Broken copies of each knowledge YAML kind: one line each, `file:line: field: what is wrong`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.yamlload import DataError, decode_yaml, line_at, load_yaml
from bot.notices.status import load_seed
from bot.qa.kbcheck import run_checks
from bot.qa.knowledge import default_knowledge_dir
from bot.qa.schema import TopicSpec
from handlers.app import Core

SHIPPED = default_knowledge_dir()
FIRST_TOPICS = sorted((SHIPPED / "topics").glob("*.yaml"))[0].name
LINE_RE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<rest>.+)$")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge folder to break."""
    root = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, root)
    return root


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in ``path``; returns the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def test_shipped_yaml_decodes_into_the_schemas() -> None:
    seed = load_seed(SHIPPED / "status.yaml")
    assert seed and seed[0].state == "down" and not seed[0].time_known
    raw = load_yaml(SHIPPED / "topics" / FIRST_TOPICS)
    spec, problems = decode_yaml(raw[0], TopicSpec)
    assert problems == [] and spec is not None and spec.id == raw[0]["id"]


def test_broken_form_is_reported_not_raised(kb: Path) -> None:
    line = edit(kb / "forms" / "daily-cash-report.yaml", "align: right", "align: middle")
    problems = [p for p in run_checks(kb) if p.file.endswith("daily-cash-report.yaml")]
    assert len(problems) == 1
    (p,) = problems
    assert p.line == line and p.topic == "daily-cash-report"
    assert p.message.startswith("columns[1].align: ") and "'middle'" in p.message


def test_broken_topic_names_its_line_and_field(kb: Path) -> None:
    path = kb / "topics" / FIRST_TOPICS
    text = path.read_text(encoding="utf-8")
    first_reviewed = re.search(r"^  reviewed: .*$", text, re.M)
    assert first_reviewed is not None
    line = edit(path, first_reviewed.group(0), "  reviewed: soon")
    tid = load_yaml(SHIPPED / "topics" / FIRST_TOPICS)[0]["id"]
    problems = [p for p in run_checks(kb) if p.file.endswith(FIRST_TOPICS) and p.topic == tid]
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [(line, "reviewed")]
    assert "date" in problems[0].message


def test_topic_missing_fields_are_all_reported(kb: Path) -> None:
    path = kb / "topics" / FIRST_TOPICS
    raw = load_yaml(path)
    first = raw[0]
    edit(path, f"  title: {first['title']}\n", "")
    problems = [p for p in run_checks(kb) if p.file.endswith(FIRST_TOPICS)
                and p.topic == first["id"]]
    assert [p.message for p in problems] == ["missing field 'title'"]
    assert problems[0].line == line_at(first, ())


def test_broken_status_seed_is_one_line(kb: Path) -> None:
    line = edit(kb / "status.yaml", "  - at: 2024-07-10", "  - at: yesterday")
    with pytest.raises(DataError) as info:
        load_seed(kb / "status.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{kb / 'status.yaml'}:{line}: status seed: updates[0].at: ")
    problems = [p for p in run_checks(kb) if p.file.endswith("status.yaml")]
    assert [p.line for p in problems] == [line] and "updates[0].at" in problems[0].message


def test_status_seed_unknown_state_and_field(kb: Path) -> None:
    line = edit(kb / "status.yaml", "state: down", "state: broken")
    with pytest.raises(DataError, match=rf":{line}: status seed: updates\[0\]\.state: "):
        load_seed(kb / "status.yaml")
    edit(kb / "status.yaml", "state: broken", "state: ขัดข้อง")  # the Thai name is fine
    assert load_seed(kb / "status.yaml")[0].state == "down"
    line = edit(kb / "status.yaml", "    by: seed", "    by: seed\n    colour: red") + 1
    with pytest.raises(DataError, match=rf":{line}: status seed: updates\[0\]: unknown field"):
        load_seed(kb / "status.yaml")


def test_kb_check_cli_prints_one_line_per_problem(kb: Path) -> None:
    edit(kb / "forms" / "daily-cash-report.yaml", "align: right", "align: middle")
    edit(kb / "status.yaml", "  - at: 2024-07-10", "  - at: yesterday")
    env = {**os.environ, "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1"}
    done = subprocess.run([sys.executable, "-m", "handlers.cli", "kb", "check", "--knowledge",
                           str(kb)], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stdout.splitlines() if LINE_RE.match(line)]
    assert any("daily-cash-report.yaml:" in x and "columns[1].align" in x for x in lines)
    assert any("status.yaml:" in x and "updates[0].at" in x for x in lines)


def test_topic_command_must_be_one_the_engine_answers(kb: Path, core: Core) -> None:
    """A misspelt ``command:`` passed kb check and only failed when a clerk asked."""
    commands = core.engine.slash_names()
    assert {"today", "edit", "entries", "start", "join"} <= commands
    line = edit(kb / "topics" / "bot.yaml", "  command: today", "  command: todya")
    problems = [p for p in run_checks(kb, commands=commands) if p.file.endswith("bot.yaml")]
    assert [(p.line, p.topic) for p in problems] == [(line, "bot.today_howto")]
    assert problems[0].message.startswith("command: ") and "'todya'" in problems[0].message
    assert "today" in problems[0].message  # the known names, to pick the right one
    edit(kb / "topics" / "bot.yaml", "  command: todya", "  command: Today")
    assert [p.topic for p in run_checks(kb, commands=commands) if p.file.endswith("bot.yaml")] == [
        "bot.today_howto"]  # looked up as written: "Today" is not found at run time either
    edit(kb / "topics" / "bot.yaml", "  command: Today", "  command: entries")
    assert [p for p in run_checks(kb, commands=commands) if p.file.endswith("bot.yaml")] == []
