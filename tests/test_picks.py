"""A typed list number picks a choice the bot offered, on every channel (the core decides)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.contract import Incoming, Reply
from bot.core.engine import SUGGEST_TEXT
from bot.core.picks import NO_CHOICES, PICK_MINUTES, pick_number
from handlers.app import Core, build_core
from handlers.settings import Settings
from tests.conftest import FIXED_NOW, Say, make_lao_admin

VAGUE = "เงิน"  # too vague to answer: "หมายถึงเรื่องไหนคะ" with numbered topics


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def _suggested(say: Say, user: str = "u1", channel: str = "line") -> list[str]:
    out = say(VAGUE, user=user, channel=channel)
    assert out[-1].text == SUGGEST_TEXT and len(out[-1].choices) >= 3, said(out)
    return [c.action for c in out[-1].choices]


@pytest.mark.parametrize("typed", ["2", "๒", "ข้อ 2", "2 ค่ะ", "เอาอันที่ 2", "เลือก ๒ ครับ"])
def test_a_typed_number_runs_that_choice_as_if_pressed(say: Say, typed: str) -> None:
    actions = _suggested(say)
    pressed = said(say(action=actions[1], user="u2", channel="line"))
    assert said(say(typed, channel="line")) == pressed


def test_a_number_out_of_range_names_the_valid_ones_and_keeps_the_choices(say: Say) -> None:
    actions = _suggested(say)
    out = say("9", channel="line")
    assert f"ไม่มีตัวเลือกที่ 9 ค่ะ เลือกได้ตั้งแต่ 1 ถึง {len(actions)}" in said(out)
    assert [c.action for c in out[-1].choices] == actions  # still there to tap or type
    assert said(say("1", channel="line")) == said(say(action=actions[0], user="u2",
                                                      channel="line"))


def test_a_typed_label_presses_only_a_button_still_shown(core: Core, say: Say) -> None:
    """Typing a button's label presses it while it is shown; once the choices expired, the
    same words are plain text again (no stale press)."""
    say(action="form:daily-cash-report", channel="line")
    excel = say("ขอเป็น Excel ค่ะ", channel="line")[0]
    assert excel.file is not None and excel.file.filename.endswith(".xlsx"), excel.text
    say(action="form:daily-cash-report", channel="line")
    core.engine.clock = lambda: FIXED_NOW + timedelta(minutes=PICK_MINUTES, seconds=1)
    assert say("ขอเป็น Excel", channel="line")[0].file is None


def test_an_amount_is_not_a_pick(say: Say) -> None:
    _suggested(say)
    out = said(say("500", channel="line"))
    assert "ไม่มีตัวเลือก" not in out and pick_number("500") is None
    assert pick_number("รับ 2") is None and pick_number("2 บาท") is None


def test_choices_expire_and_a_reply_without_choices_forgets_them(core: Core, say: Say) -> None:
    _suggested(say)
    core.engine.clock = lambda: FIXED_NOW + timedelta(minutes=PICK_MINUTES, seconds=1)
    assert said(say("2", channel="line")) == NO_CHOICES
    core.engine.clock = lambda: FIXED_NOW
    _suggested(say)
    out = say("ออกจาก อปท.", channel="line")  # not a member: a reply without choices
    assert not any(r.choices for r in out), said(out)
    assert said(say("2", channel="line")) == NO_CHOICES


def test_a_step_waiting_for_an_amount_takes_the_number_as_its_button(core: Core,
                                                                      say: Say) -> None:
    make_lao_admin(core, "line:u1", "05510101")
    out = say("รับ 1500 200 ค่าขยะ", channel="line")
    assert [c.label for c in out[-1].choices][:2] == ["1,500.00 บาท", "200.00 บาท"]
    out = say("2", channel="line")  # button 2, as in every list (see test_clerk_intent)
    assert "บันทึกแล้ว" in said(out)
    assert [e.amount for e in core.book.ledger("05510101").entries()] == [200]


def test_a_confirmation_may_be_answered_by_its_button_number(core: Core, say: Say) -> None:
    make_lao_admin(core, "line:u1", "05510101")
    core.book.directory.bind("line:u2", "05510101", "member", "สมชาย", FIXED_NOW)
    out = say("ออกจาก อปท.", user="u2", channel="line")
    assert out[-1].choices[0].label == "ยืนยันออก"
    assert "ออกจาก อปท. แล้ว" in said(say("1", user="u2", channel="line"))
    assert core.book.directory.member("line:u2") is None


def test_in_a_group_the_pick_is_the_typists_own(core: Core) -> None:
    def group(text: str, user: str) -> list[Reply]:
        return core.engine.reply_to(Incoming("line", user, "Cgroup", text=text,
                                             is_group=True, event_id=f"{user}{text}"))

    shown = group(VAGUE, "Ua")
    assert shown[-1].text == SUGGEST_TEXT
    picked = said(group("2", "Ua"))
    assert picked != SUGGEST_TEXT and "ไม่มีตัวเลือก" not in picked
    # another member was shown nothing: nothing new happens for them, nor for anonymous
    for user in ("Ub", ""):
        assert "ไม่มีตัวเลือก" not in said(group("2", user))
        assert said(group("2", user)) != picked


def test_a_list_is_picked_from_only_in_the_chat_it_was_shown_in(core: Core, say: Say) -> None:
    def group(text: str) -> list[Reply]:
        return core.engine.reply_to(Incoming("line", "u1", "Cgroup", text=text,
                                             is_group=True, event_id=f"g{text}"))

    shown = group(VAGUE)  # shown in the group: a "2" in the 1:1 chat picks nothing
    assert shown[-1].text == SUGGEST_TEXT
    assert said(say("2", channel="line")) == NO_CHOICES
    _suggested(say)  # shown in the 1:1 chat: a "2" in the group is not a pick of it
    in_group = said(group("2"))
    assert in_group != said(say(action=_suggested(say, user="u2")[1], user="u2",
                                channel="line"))


def test_a_pick_is_understood_by_another_instance_on_postgresql(pg_url: str,
                                                                tmp_path: Path) -> None:
    """With several instances the next message may reach another one: the offer is shared."""
    from bot.core.pgstore import PgStore

    cores = [build_core(Settings(data_dir=tmp_path / f"d{i}"), store=PgStore(pg_url, max_size=2))
             for i in range(2)]
    try:
        def say_on(i: int, text: str) -> list[Reply]:
            return cores[i].engine.reply_to(Incoming("line", "U1", "U1", text=text,
                                                     event_id=f"{i}{text}"))

        shown = say_on(0, VAGUE)
        assert shown[-1].text == SUGGEST_TEXT
        second = shown[-1].choices[1].action.removeprefix("topic:")
        assert said(say_on(1, "๒")) == said(cores[1].engine.answer_topic(second))
        assert "ไม่มีตัวเลือกที่ 99" in said(say_on(0, "99"))
    finally:
        for c in cores:
            c.store.close()
