"""The bot.privacy answer and the behaviour it describes, read together so they cannot drift."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core.contract import Incoming
from bot.ledger.book import INVITE_DAYS
from bot.qa.gaps import GAP_RETENTION_DAYS
from handlers.app import Core
from handlers.settings import Settings
from handlers.web.files import DEFAULT_TTL, FileVault
from tests.conftest import FIXED_NOW, Say, make_lao_admin


def answer(core: Core) -> str:
    return core.kb.topic("bot.privacy").answer


def test_privacy_answer_is_short_and_states_the_configured_periods(memory_core: Core) -> None:
    text = answer(memory_core)
    assert len(text) < 1000
    assert f"ไม่มีใครถามซ้ำ {GAP_RETENTION_DAYS} วัน" in text
    assert f"รหัสเข้าร่วมหมดอายุใน {INVITE_DAYS} วัน" in text
    assert f"ใช้ได้ {DEFAULT_TTL // 60} นาที" in text
    # every number of days or minutes in the answer is one of the configured periods
    periods = {int(n) for n in re.findall(r"(\d+) (?:วัน|นาที)", text)}
    assert periods == {GAP_RETENTION_DAYS, INVITE_DAYS, DEFAULT_TTL // 60}


def test_privacy_answer_matches_the_behaviour(core: Core, say: Say) -> None:
    text = answer(core)
    # "unanswered questions: the text only, not who asked; dropped after N days"
    say("ขอสูตรแกงเขียวหวานหน่อย", user="Usecret-asker")
    core.engine.flush()
    gaps = core.store.table("kb/gaps").all()
    assert gaps and "Usecret-asker" not in str(gaps)
    assert "ไม่เก็บว่าใครถาม" in text
    assert core.engine.gap_log.retention_days == GAP_RETENTION_DAYS
    # "join codes expire in N days"
    ledger = make_lao_admin(core, "line:admin", "05510101")
    inv = core.book.directory.invite(ledger.lao_code, "member", "line:admin", FIXED_NOW)
    assert inv.expires_at - FIXED_NOW == timedelta(days=INVITE_DAYS)
    # "download links work for N minutes, files are kept in memory"
    vault = FileVault.from_settings(Settings(data_dir=core.settings.data_dir))
    assert vault.ttl == DEFAULT_TTL
    # "in a group, no join code, member list, entries or files: they go to the 1:1 chat"
    assert "ในกลุ่ม" in text and "แชตส่วนตัว" in text
    for command in ("เชิญ", "สมาชิก", "วันนี้", "ส่งออก"):
        replies = core.engine.reply_to(Incoming("line", "admin", "Cgroup", text=command,
                                                is_group=True, event_id=command))
        assert replies and all(r.private for r in replies), command
        assert "ยังไม่ได้เชื่อม" not in replies[0].text  # a member's real answer, kept private
    # "chat text is not logged" (unless an operator turns ELAAS_LOG_TEXT on)
    assert "ไม่บันทึกข้อความแชตลงล็อก" in text and not Settings.from_env({}).log_text
