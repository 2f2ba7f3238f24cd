"""Ledger chat flows a clerk meets: moving between LAOs, leaving, duplicates, voids, ask-backs.

Over 500 lines: each flow is a whole conversation on the same clerk fixtures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.contract import Reply
from bot.ledger.book import LedgerError
from bot.ledger.entries import Lao
from bot.ledger.quickentry import parse_entry
from bot.ledger.summary import Summaries
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say, make_lao_admin

A, B = "05510101", "05510102"


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def tap(say: Say, replies: list[Reply], label: str, user: str = "u1") -> list[Reply]:
    action = next(c.action for r in replies for c in r.choices if c.label == label)
    return say(action=action, user=user)


@pytest.fixture
def two_laos(core: Core) -> Core:
    d = core.book.directory
    d.add_lao(Lao(A, "อบต.เอ", "ลำพูน"))
    d.add_lao(Lao(B, "อบต.บี", "ลำพูน"))
    return core


def _code(core: Core, lao: str, admin: bool = False) -> str:
    return core.book.directory.invite(lao, "admin" if admin else "member", "cli", FIXED_NOW).code


def _member_of(core: Core, user: str) -> str | None:
    m = core.book.directory.member(f"console:{user}")
    return None if m is None else m.lao_code


@pytest.fixture
def clerk(core: Core, say: Say) -> Say:
    make_lao_admin(core, "console:u1", A, "อบต.เอ")
    for line in ("รับ 1,500 ค่าขยะ", "รับ 200 ค่าน้ำ", "จ่าย 300 ค่าน้ำมัน"):
        assert "บันทึกแล้ว" in said(say(line))
    return say


def _voided(core: Core, no: int) -> bool:
    e = core.book.ledger(A).get(no)
    assert e is not None
    return e.voided


# --------------------------------------------------------------------------- 1. moving, leaving


def test_the_only_admin_is_refused_a_move_and_the_code_stays_usable(two_laos: Core,
                                                                    say: Say) -> None:
    code_a, code_b = _code(two_laos, A, admin=True), _code(two_laos, B)
    assert "ในฐานะผู้ดูแล" in said(say(f"เข้าร่วม {code_a}"))
    out = say(f"เข้าร่วม {code_b}")
    assert "ผู้ดูแลคนเดียวของ อบต.เอ" in said(out) and "เชิญ ผู้ดูแล" in said(out)
    assert _member_of(two_laos, "u1") == A
    assert "ในฐานะสมาชิก" in said(say(f"เข้าร่วม {code_b}", user="u2"))  # not used up


def test_a_member_moving_is_asked_naming_both_laos_and_the_code_waits(two_laos: Core,
                                                                      say: Say) -> None:
    make_lao_admin(two_laos, "console:boss", A, "อบต.เอ")
    assert "ในฐานะสมาชิก" in said(say(f"เข้าร่วม {_code(two_laos, A)}"))
    code_b = _code(two_laos, B)
    ask = say(f"เข้าร่วม {code_b}")
    assert "อบต.เอ" in said(ask) and "อบต.บี" in said(ask) and "ใช่ไหม" in said(ask)
    assert _member_of(two_laos, "u1") == A
    out = tap(say, ask, "ไม่ย้าย")
    assert "ยังไม่ได้ย้าย" in said(out) and _member_of(two_laos, "u1") == A
    ask = say(f"เข้าร่วม {code_b}")  # the code was not used up by asking
    assert "ในฐานะสมาชิก" in said(tap(say, ask, "ย้าย"))
    assert _member_of(two_laos, "u1") == B
    assert "บันทึกแล้ว" in said(say("รับ 100 ค่าธรรมเนียม"))
    assert len(two_laos.book.ledger(B)) == 1 and len(two_laos.book.ledger(A)) == 0


def test_a_typed_yes_moves_a_member_with_another_admin_left(two_laos: Core, say: Say) -> None:
    make_lao_admin(two_laos, "console:boss", A, "อบต.เอ")
    make_lao_admin(two_laos, "console:u1", A, "อบต.เอ")
    say(f"เข้าร่วม {_code(two_laos, B)}")
    assert "เข้าร่วม อบต.บี" in said(say("ใช่ค่ะ"))
    assert _member_of(two_laos, "u1") == B


def test_the_last_admin_cannot_leave_a_member_can(two_laos: Core, say: Say) -> None:
    make_lao_admin(two_laos, "console:u1", A, "อบต.เอ")
    two_laos.book.directory.bind("console:u2", A, "member", "สมชาย", FIXED_NOW)
    out = say("ออกจาก อปท.")
    assert "ผู้ดูแลคนเดียว" in said(out) and not any(c.label == "ยืนยันออก" for r in out
                                                        for c in r.choices)
    assert "ยังไม่ได้ทำ" not in said(out)
    # an old "leave" button is refused too
    assert "ผู้ดูแลคนเดียว" in said(say(action=f"leave:{A}"))
    assert _member_of(two_laos, "u1") == A
    out = say("ออกจาก อปท.", user="u2")
    assert "ออกจาก อปท. แล้ว" in said(tap(say, out, "ยืนยันออก", user="u2"))
    assert _member_of(two_laos, "u2") is None


def test_an_admin_can_leave_once_another_admin_joined(two_laos: Core, say: Say) -> None:
    make_lao_admin(two_laos, "console:u1", A, "อบต.เอ")
    code = say("เชิญ ผู้ดูแล")[0].text.split("เข้าร่วม ")[-1].strip()
    assert "ในฐานะผู้ดูแล" in said(say(f"เข้าร่วม {code}", user="u2"))
    out = say("ออกจาก อปท.")
    assert "ออกจาก อปท. แล้ว" in said(tap(say, out, "ยืนยันออก"))


def test_the_demo_never_silently_replaces_a_real_lao(two_laos: Core, say: Say) -> None:
    make_lao_admin(two_laos, "console:u1", A, "อบต.เอ")
    assert "อบต.เอ" in said(say("ทดลองใช้"))
    assert _member_of(two_laos, "u1") == A


def test_a_demo_user_may_join_a_real_lao(two_laos: Core, say: Say) -> None:
    say("ทดลองใช้")
    ask = say(f"เข้าร่วม {_code(two_laos, A)}")
    assert "อบต.ตัวอย่าง" in said(ask) and "อบต.เอ" in said(ask)
    tap(say, ask, "ย้าย")
    assert _member_of(two_laos, "u1") == A


def test_each_user_tries_the_demo_in_a_sandbox_nobody_else_sees(two_laos: Core,
                                                                 say: Say) -> None:
    say("ทดลองใช้", user="u5")
    assert "บันทึกแล้ว" in said(say("จ่าย 4,321 ค่าซ่อมท่อประปา นายสมชาย 081-234-5678",
                                    user="u5"))
    say("ทดลองใช้", user="u6")
    demo5, demo6 = _member_of(two_laos, "u5"), _member_of(two_laos, "u6")
    assert demo5 and demo6 and demo5 != demo6
    assert "นายสมชาย" not in said(say("ล่าสุด", user="u6"))
    say("ยกเลิก 1 ลองลบของคนอื่น", user="u6")
    members = say("สมาชิก", user="u6")
    assert "สมศรี" in said(members) and said(members).count("(ผู้ดูแล)") == 1
    assert not any(c.action.startswith("kick:") for r in members for c in r.choices)
    entry = two_laos.book.ledger(demo5).get(1)
    assert entry is not None and not entry.voided
    # operators never count a demo as an LAO
    assert {s.code for s in Summaries.of(two_laos.store).all()} == {A, B}
    assert [lao.code for lao in two_laos.book.directory.laos()] == [A, B]
    # a demo left and tried again is the same sandbox, with what was tried there
    tap(say, say("ออกจาก อปท.", user="u5"), "ยืนยันออก", user="u5")
    assert _member_of(two_laos, "u5") is None
    say("ทดลองใช้", user="u5")
    assert _member_of(two_laos, "u5") == demo5 and "นายสมชาย" in said(say("ล่าสุด", user="u5"))
    assert "รหัสเข้าร่วม" not in said(say("เชิญ", user="u5"))  # nobody else may come in
    assert not two_laos.book.directory.invites(demo5, FIXED_NOW)


def test_the_demo_old_installs_shared_shows_nobody_what_others_logged(two_laos: Core,
                                                                      say: Say) -> None:
    d = two_laos.book.directory
    d.add_lao(Lao("99999999", "อบต.ตัวอย่าง (ทดลองใช้)", "ทดลอง"), sandbox=True)
    for user in ("console:u5", "console:u6"):
        d.bind(user, "99999999", "admin", "ผู้ทดลอง", FIXED_NOW)
    logged = parse_entry("จ่าย 4,321 ค่าซ่อม นายสมชาย 081-234-5678", FIXED_NOW.date())
    two_laos.book.ledger("99999999").add_many([(logged, "ev1")], author="console:u5",
                                              author_name="ผู้ทดลอง", channel="console",
                                              now=FIXED_NOW)
    assert _member_of(two_laos, "u6") is None
    assert "นายสมชาย" not in said(say("ล่าสุด", user="u6"))
    say("ทดลองใช้", user="u6")
    assert _member_of(two_laos, "u6") not in (None, "99999999")
    assert "นายสมชาย" not in said(say("ล่าสุด", user="u6"))
    assert d.members("99999999") == []
    with pytest.raises(LedgerError):
        d.add_lao(Lao("99123456", "อบต.จริง", "ลำพูน"))  # the demos' codes are reserved


@pytest.mark.parametrize("channel", ["console", "line"])
@pytest.mark.parametrize("first", ["รับ 1,500 ค่าขยะ", "วันนี้", "ล่าสุด"])
def test_a_user_of_the_old_shared_demo_is_told_once_it_closed_and_what_to_do(
        two_laos: Core, say: Say, first: str, channel: str) -> None:
    d = two_laos.book.directory
    d.add_lao(Lao("99999999", "อบต.ตัวอย่าง (ทดลองใช้)", "ทดลอง"), sandbox=True)
    d.bind(f"{channel}:u6", "99999999", "admin", "ผู้ทดลอง", FIXED_NOW)
    out = say(first, user="u6", channel=channel)
    text = said(out)
    assert "อปท.ตัวอย่างที่ใช้ร่วมกัน" in text and "ปิดแล้ว" in text and "เข้าร่วม" in text
    demo_offered = "demo:create" in [c.action for r in out for c in r.choices]
    assert demo_offered == ("ทดลองใช้" in text) == (channel == "console")  # the demo is local
    assert len(two_laos.book.ledger("99999999")) == 0  # nothing saved there
    again = said(say(first, user="u6", channel=channel))
    assert "ปิดแล้ว" not in again and "ยังไม่ได้เชื่อมกับ อปท." in again  # told once


# --------------------------------------------------------------------------- 6. join wording


@pytest.mark.parametrize("form", ["เข้าร่วม {c} ค่ะ", "เข้าร่วม: {c}", "เข้าร่วมรหัส {c}",
                                  "เข้าร่วม รหัส {c} ครับ", "เข้าร่วม {c}"])
def test_join_wordings(two_laos: Core, say: Say, form: str) -> None:
    code = _code(two_laos, A)
    assert "ในฐานะสมาชิก" in said(say(form.format(c=code))), form
    assert _member_of(two_laos, "u1") == A


def test_resending_your_own_used_code_says_already_a_member_and_counts_nothing(
        two_laos: Core, say: Say) -> None:
    code = _code(two_laos, A)
    say(f"เข้าร่วม {code}")
    for _ in range(6):  # more than the daily limit of wrong codes
        out = said(say(f"เข้าร่วม {code}"))
        assert "อยู่แล้ว" in out and "ไม่ถูกต้อง" not in out
    assert not two_laos.book.directory._failures.get("console:u1")
    assert "ในฐานะสมาชิก" not in said(say(f"เข้าร่วม {_code(two_laos, A)}"))  # not locked out


def test_a_fresh_code_of_your_own_lao_is_not_used_up_and_an_admin_code_promotes(
        two_laos: Core, say: Say) -> None:
    say(f"เข้าร่วม {_code(two_laos, A)}")
    again = _code(two_laos, A)
    assert "อยู่แล้ว" in said(say(f"เข้าร่วม {again}"))
    assert "ในฐานะสมาชิก" in said(say(f"เข้าร่วม {again}", user="u2"))
    assert "ในฐานะผู้ดูแล" in said(say(f"เข้าร่วม {_code(two_laos, A, admin=True)}"))


def test_the_help_example_code_has_eight_characters(core: Core, say: Say) -> None:
    for text in (said(say("เข้าร่วม")), core.engine.kb.topic("bot.join_howto").answer):
        for word in text.replace('"', " ").split():
            if word.isascii() and word.isalnum() and word.isupper() and any(
                    ch.isdigit() for ch in word):
                assert len(word) == 8, word


# --------------------------------------------------------------------------- 2. duplicates


def test_same_document_number_asks_first_yes_saves(clerk: Say, core: Core) -> None:
    assert "รายการที่ 4" in said(clerk("รับ 1500 ค่าขยะ เลขที่ 12/345"))
    ask = clerk("รับ 1500 ค่าขยะ เลขที่ 12/345")
    assert "เลขที่ 12/345 มีแล้ว (รายการที่ 4" in said(ask) and "บันทึกซ้ำไหม" in said(ask)
    assert len(core.book.ledger(A)) == 4
    assert "รายการที่ 5" in said(tap(clerk, ask, "บันทึกซ้ำ"))
    assert len(core.book.ledger(A)) == 5


def test_same_document_number_no_saves_nothing(clerk: Say, core: Core) -> None:
    clerk("รับ 1500 ค่าขยะ เลขที่ 12/345")
    clerk("รับ 900 ค่าปรับ เลขที่ 12/345")
    assert "ยังไม่ได้บันทึก" in said(clerk("ไม่ครับ"))
    assert len(core.book.ledger(A)) == 4


def test_a_voided_entry_or_another_kind_does_not_count_as_a_duplicate(clerk: Say,
                                                                       core: Core) -> None:
    clerk("รับ 1500 ค่าขยะ เลขที่ 12/345")
    assert "บันทึกแล้ว" in said(clerk("จ่าย 1500 ค่าวัสดุ เลขที่ 12/345"))  # another kind
    clerk("ยกเลิก 4 พิมพ์ผิด")
    assert "บันทึกแล้ว" in said(clerk("รับ 1500 ค่าขยะ เลขที่ 12/345"))


def test_a_redelivered_message_is_still_just_the_same_entry(clerk: Say, core: Core) -> None:
    first = clerk("รับ 1500 ค่าขยะ เลขที่ 12/345", event_id="evt-9")
    again = clerk("รับ 1500 ค่าขยะ เลขที่ 12/345", event_id="evt-9")
    assert "รายการที่ 4" in said(first) and "บันทึกไว้แล้ว" in said(again)
    assert len(core.book.ledger(A)) == 4


def test_a_batch_pasted_twice_is_refused_whole_and_lists_the_duplicates(clerk: Say,
                                                                         core: Core) -> None:
    batch = "รับ 100 ค่าขยะ เลขที่ 1/1\nรับ 200 ค่าขยะ เลขที่ 1/2\nจ่าย 50 ค่าไปรษณีย์"
    assert "บันทึกแล้วค่ะ 3 รายการ" in said(clerk(batch))
    ask = clerk(batch)
    text = said(ask)
    assert "ยังไม่ได้บันทึก" in text and "บรรทัด 1" in text and "บรรทัด 2" in text
    assert "บรรทัด 3" in text  # identical and sent moments ago
    assert len(core.book.ledger(A)) == 6
    assert "ยังไม่ได้บันทึกทั้ง 3 รายการ" in said(tap(clerk, ask, "ไม่บันทึก"))
    ask = clerk("รับ 300 ค่าขยะ เลขที่ 1/3\nรับ 100 ค่าขยะ เลขที่ 1/1")
    assert "บรรทัด 2" in said(ask) and "บรรทัด 1:" not in said(ask)
    assert "บันทึกแล้วค่ะ 2 รายการ" in said(tap(clerk, ask, "บันทึกทั้งหมด"))
    assert len(core.book.ledger(A)) == 8


ASKED = "รับ 300 ค่าน้ำ\nรับ 100 ค่าขยะ เลขที่ 1/1"  # line 2 repeats entry 4 below


@pytest.fixture
def asked(clerk: Say, core: Core) -> list[Reply]:
    """Entry 4 has document 1/1; a paste repeating it waits on "บันทึกทั้งหมด?"."""
    assert "รายการที่ 4" in said(clerk("รับ 100 ค่าขยะ เลขที่ 1/1"))
    ask = clerk(ASKED)
    assert "บันทึกทั้ง 2 บรรทัด" in said(ask) and len(core.book.ledger(A)) == 4
    return ask


def _descriptions(core: Core) -> list[str]:
    return [e.description for e in core.book.ledger(A).entries()]


def test_a_new_paste_while_the_duplicate_question_waits_gets_one_reply_for_both(
        clerk: Say, core: Core, asked: list[Reply]) -> None:
    out = clerk("รับ 500 ค่าปรับ\nจ่าย 50 ค่าไปรษณีย์")
    assert len(out) == 1, said(out)
    text = said(out)
    assert "บันทึกแล้วค่ะ 2 รายการ" in text and "ค่าปรับ" in text
    head = text.split("บันทึกแล้วค่ะ")[0]  # what became of the question: not saved, each named
    assert "ยังไม่ได้บันทึก" in head and "ค่าน้ำ" in head and "เลขที่ 1/1" in head
    assert _descriptions(core)[3:] == ["ค่าขยะ", "ค่าปรับ", "ค่าไปรษณีย์"]
    assert "หมดอายุ" in said(tap(clerk, asked, "บันทึกทั้งหมด"))  # the old question is over
    assert len(core.book.ledger(A)) == 6


def test_lines_of_the_question_pasted_again_are_not_reported_as_dropped(
        clerk: Say, core: Core, asked: list[Reply]) -> None:
    out = clerk("รับ 300 ค่าน้ำ\nจ่าย 50 ค่าไปรษณีย์")
    assert len(out) == 1 and "บันทึกแล้วค่ะ 2 รายการ" in said(out)
    head = said(out).split("บันทึกแล้วค่ะ")[0]
    assert "เลขที่ 1/1" in head and "ค่าน้ำ" not in head
    again = clerk(ASKED)  # the whole question pasted again: asked again, nothing else said
    assert len(again) == 1 and "ยังไม่ได้บันทึกค่ะ มีรายการที่อาจซ้ำ" in said(again)


def test_the_same_paste_again_is_asked_again_and_its_buttons_work(
        clerk: Say, core: Core, asked: list[Reply]) -> None:
    again = clerk(ASKED)
    assert len(again) == 1 and said(again).startswith("ยังไม่ได้บันทึกค่ะ มีรายการที่อาจซ้ำ")
    assert "บันทึกแล้วค่ะ 2 รายการ" in said(tap(clerk, again, "บันทึกทั้งหมด"))
    assert _descriptions(core)[4:] == ["ค่าน้ำ", "ค่าขยะ"]


def test_a_new_paste_with_its_own_duplicate_asks_once_about_the_new_lines_only(
        clerk: Say, core: Core, asked: list[Reply]) -> None:
    out = clerk("รับ 700 ค่าเช่า\nรับ 100 ค่าขยะ เลขที่ 1/1")
    assert len(out) == 1
    assert "ค่าน้ำ" in said(out) and "บันทึกทั้ง 2 บรรทัด" in said(out)
    assert "ยังไม่ได้บันทึกทั้ง 2 รายการ" in said(tap(clerk, out, "ไม่บันทึก"))
    assert len(core.book.ledger(A)) == 4


@pytest.mark.parametrize(("answer", "saved"), [
    ("บันทึกซ้ำ", ["ค่าน้ำ", "ค่าขยะ", "ค่าปรับ"]), ("ใช่ค่ะ", ["ค่าน้ำ", "ค่าขยะ", "ค่าปรับ"]),
    ("ไม่บันทึก", ["ค่าปรับ"]), ("ไม่ค่ะ", ["ค่าปรับ"]),
])  # fmt: skip
def test_an_answer_on_the_first_line_of_a_new_paste_answers_the_question(
        clerk: Say, core: Core, asked: list[Reply], answer: str, saved: list[str]) -> None:
    out = clerk(f"{answer}\nรับ 500 ค่าปรับ")
    assert len(out) == 1, said(out)
    assert _descriptions(core)[4:] == saved
    text = said(out)
    assert "ค่าปรับ" in text and "ไม่ใช่รายการ" not in text
    assert ("ยังไม่ได้บันทึกทั้ง 2 รายการ" in text) == (len(saved) == 1)


def test_a_batch_repeating_a_document_number_inside_itself_asks(clerk: Say, core: Core) -> None:
    ask = clerk("รับ 100 ค่าขยะ เลขที่ 5/1\nรับ 100 ค่าน้ำ เลขที่ 5/1")
    assert "บรรทัด 2: เลขที่ 5/1 ซ้ำกับบรรทัด 1" in said(ask)
    assert len(core.book.ledger(A)) == 3


def test_an_identical_entry_without_number_asks_only_within_two_minutes(
        core: Core, clerk: Say) -> None:
    assert "บันทึกแล้ว" in said(clerk("รับ 20 ค่าขยะ"))
    ask = clerk("รับ 20 ค่าขยะ")
    assert "เพิ่งบันทึก" in said(ask) and len(core.book.ledger(A)) == 4
    assert "บันทึกแล้ว" in said(clerk("ใช่"))
    assert len(core.book.ledger(A)) == 5
    core.engine.clock = lambda: FIXED_NOW + timedelta(minutes=3)
    assert "บันทึกแล้ว" in said(clerk("รับ 20 ค่าขยะ"))  # a later small receipt is ordinary


def test_another_clerk_sending_the_same_small_receipt_is_not_asked(core: Core,
                                                                   clerk: Say) -> None:
    core.book.directory.bind("console:u2", A, "member", "สมชาย", FIXED_NOW)
    clerk("รับ 20 ค่าขยะ")
    assert "บันทึกแล้ว" in said(clerk("รับ 20 ค่าขยะ", user="u2"))


# --------------------------------------------------------------------------- 3, 5. voids


def _void_buttons(replies: list[Reply]) -> list[str]:
    return [c.action.rsplit(":", 1)[1] for r in replies for c in r.choices
            if c.action.startswith("void:")]


def test_several_numbers_to_void_name_the_missing_and_offer_only_those_named(
    core: Core, clerk: Say,
) -> None:
    none = clerk("ยกเลิก 68,69")
    assert "ไม่พบรายการที่ 68-69" in said(none) and "กดทีละปุ่ม" not in said(none)
    assert _void_buttons(none) == [] and none[0].choices
    some = clerk("ยกเลิก 2,99 ทดสอบ")
    assert "ไม่พบรายการที่ 99" in said(some) and _void_buttons(some) == ["2"]
    counted = clerk("ยกเลิก 3 2 รายการ")  # "2 รายการ" counts: names no entry 2, nor a reason
    assert "2" not in _void_buttons(counted) and "ยกเลิกรายการที่ 3:" in said(counted)
    assert not _voided(core, 3)
    clerk("ไม่ยกเลิก")
    clerk("ยกเลิก 3 ผิด")
    voided = clerk("ยกเลิก 1,3")
    assert "รายการที่ 3 ยกเลิกไปแล้ว" in said(voided) and _void_buttons(voided) == ["1"]
    assert not any(_voided(core, n) for n in (1, 2))


def test_the_latest_to_void_is_the_newest_entry_still_active(core: Core, clerk: Say) -> None:
    clerk("ยกเลิก 3 ผิด")
    ask = clerk("ยกเลิกรายการล่าสุด")
    assert "รายการที่ 2" in said(ask) and "ยกเลิกไปแล้ว" not in said(ask)
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk("พิมพ์ผิด")) and _voided(core, 2)


@pytest.mark.parametrize("text", ["ยกเลิก 2 รายการ", "ยกเลิก 2 บาท", "ยกเลิก 2 อัน", "ยกเลิก 2 ครั้ง",
                                  "ยกเลิก 2 ค่ะ", "ยกเลิก 2 รายการค่ะ", "ยกเลิกรายการที่ 2 ด้วยครับ"])
def test_a_unit_or_counter_word_is_no_reason(core: Core, clerk: Say, text: str) -> None:
    ask = clerk(text)
    assert not _voided(core, 2), said(ask)
    assert "ยกเลิกรายการที่ 2: รับ 200.00 บาท (สองร้อยบาทถ้วน) ค่าน้ำ" in said(ask)
    assert "เหตุผล" in said(ask)
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk("จดซ้ำ"))


def test_a_unit_word_is_no_reason_while_the_reason_is_awaited(core: Core, clerk: Say) -> None:
    clerk("ยกเลิก 2")
    out = clerk("รายการ")
    assert not _voided(core, 2) and "เหตุผล" in said(out)


@pytest.mark.parametrize("text", ["ยกเลิกรายการที่ 2 ยอดผิด", "ยกเลิกรายการ 2 ยอดผิด",
                                  "ยกเลิก รายการที่ 2 ยอดผิด", "ยกเลิก 2 ยอดผิด", "ยกเลิกที่ 2 ยอดผิด"])
def test_void_wordings(core: Core, clerk: Say, text: str) -> None:
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk(text))
    e = core.book.ledger(A).get(2)
    assert e is not None and e.void is not None and e.void.reason == "ยอดผิด"


def test_the_same_void_again_while_waiting_just_asks_again(core: Core, clerk: Say) -> None:
    clerk("ยกเลิก 1")
    out = clerk("ยกเลิก 1")
    assert "ยังไม่ได้ยกเลิก" not in said(out) and "เหตุผล" in said(out)
    assert "ยกเลิกรายการที่ 1 แล้ว" in said(clerk("จดซ้ำ"))
    clerk("ยกเลิก 2")
    out = clerk("ยกเลิก 2 ยอดผิด")
    assert said(out).startswith("ยกเลิกรายการที่ 2 แล้ว")
    clerk("ยกเลิก 3")
    out = clerk("ยกเลิก 1")  # another entry: the first step ends, and says so
    assert "ยังไม่ได้ยกเลิกรายการที่ 3" in said(out)


# --------------------------------------------------------------------------- 4. asking back


def test_the_description_asked_for_is_taken(core: Core, clerk: Say) -> None:
    ask = clerk("รับ 1800")
    assert "เป็นค่าอะไร" in said(ask) and len(core.book.ledger(A)) == 3
    out = clerk("ค่าขยะ")
    assert "บันทึกแล้ว" in said(out) and "ค่าขยะ" in said(out)
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == 1800 and e.description == "ค่าขยะ"


def test_the_description_keeps_the_date_and_number_typed_first(core: Core, clerk: Say) -> None:
    clerk("จ่าย 800 เมื่อวาน เลขที่ 3/21")
    clerk("ค่าวัสดุสำนักงาน")
    e = core.book.ledger(A).get(4)
    assert e is not None and e.description == "ค่าวัสดุสำนักงาน" and e.doc_no == "3/21"
    assert e.date == FIXED_NOW.date() - timedelta(days=1) and e.kind == "payment"


def test_no_description_in_the_answer_asks_again(core: Core, clerk: Say) -> None:
    clerk("รับ 1800")
    out = clerk("เงินสด")
    assert "เป็นค่าอะไร" in said(out) and len(core.book.ledger(A)) == 3
    clerk("ค่าขยะ")
    e = core.book.ledger(A).get(4)
    assert e is not None and e.description == "ค่าขยะ" and e.method == "cash"


def test_a_new_entry_or_command_instead_of_the_description_ends_it(core: Core,
                                                                   clerk: Say) -> None:
    clerk("รับ 1500")
    out = clerk("วันนี้")
    assert "ยังไม่ได้บันทึก รับ 1,500.00 บาท" in said(out) and "รายการวันที่" in said(out)
    clerk("ค่าขยะ")  # nothing waits any more: not a description
    assert len(core.book.ledger(A)) == 3


def test_the_amount_asked_for_is_taken_typed_or_tapped(core: Core, clerk: Say) -> None:
    ask = clerk("รับ 1500 200 ค่าปรับ")
    assert "1,500.00 บาท" in said(ask) and "200.00 บาท" in said(ask)
    out = clerk("1,500")
    assert "บันทึกแล้ว" in said(out)
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == 1500 and e.description == "ค่าปรับ"
    ask = clerk("จ่าย 300 30 ค่าน้ำมัน")
    assert "บันทึกแล้ว" in said(tap(clerk, ask, "30.00 บาท"))
    e = core.book.ledger(A).get(5)
    assert e is not None and e.amount == 30 and e.description == "ค่าน้ำมัน"


def test_another_amount_asks_again_a_sentence_ends_the_step(core: Core, clerk: Say) -> None:
    clerk("รับ 1500 200 ค่าขยะ")
    out = clerk("1700")
    assert "1,500.00 บาท หรือ 200.00 บาท" in said(out) and len(core.book.ledger(A)) == 3
    out = clerk("ส่งเงินคลังแล้ว")
    assert "ยังไม่ได้บันทึก" in said(out) and len(core.book.ledger(A)) == 3
    clerk("1500")  # nothing waits any more
    assert len(core.book.ledger(A)) == 3


# --------------------------------------------------------------------------- 6. answers to a step

# Each turns the step down or asks it to wait: never the entry's description.
REFUSALS = ["ไม่บันทึก", "ไม่ต้องบันทึก", "ไม่บันทึกแล้วค่ะ", "พอแล้ว", "ลืมไป", "ผิดค่ะ", "เดี๋ยวก่อน",
            "พิมพ์ผิด", "ขอโทษพิมพ์ผิด", "stop", "ยกเลิกรายการนี้", "ลบทิ้ง", "ไม่ใช่ค่ะ ผิด", "อ้าว",
            "ช่างมันเถอะ", "never mind", "รอแป๊บนะคะ", "ไม่เอาแล้วครับ", "จดผิดค่ะ", "ไม่ถูกต้อง",
            "no thanks", "เอาใหม่"]


@pytest.mark.parametrize("text", REFUSALS)
@pytest.mark.parametrize("start", ["รับ 2600", "รับ 2600 300 ค่าปรับ"])
def test_no_wrong_or_wait_never_saves_the_entry_asked_about(core: Core, clerk: Say,
                                                             start: str, text: str) -> None:
    clerk(start)
    out = clerk(text)
    assert len(core.book.ledger(A)) == 3, said(out)
    assert "ยังไม่ได้บันทึก" in said(out) or "รอได้" in said(out)


def test_wait_keeps_the_description_step_and_the_next_answer_completes_it(
        core: Core, clerk: Say) -> None:
    clerk("รับ 2600")
    assert "เป็นค่าอะไร" in said(clerk("เดี๋ยวก่อนนะ"))
    assert "บันทึกแล้ว" in said(clerk("ค่าขยะ"))
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == 2600 and e.description == "ค่าขยะ"


@pytest.mark.parametrize("question", ["เดี๋ยวนะ ระบบกลับมายัง", "ระบบกลับมาหรือยังคะ",
                                      "ใช้ใบเสร็จกระดาษได้ไหม"])
def test_a_question_while_the_description_waits_is_answered_and_the_entry_kept(
        core: Core, clerk: Say, question: str) -> None:
    clerk("รับ 1500")
    out = clerk(question)
    assert out[0].topic is not None and "ยังรอ" in out[-1].text and "ยังไม่ได้" not in said(out)
    assert "บันทึกแล้ว" in said(clerk("ค่าธรรมเนียม"))
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == 1500 and e.description == "ค่าธรรมเนียม"


@pytest.mark.parametrize("question", ["ต้องตอบอะไรนะ", "ให้พิมพ์อะไรคะ"])
def test_a_question_about_the_step_gets_its_prompt_again(core: Core, clerk: Say,
                                                         question: str) -> None:
    clerk("รับ 1500 200 ค่าปรับ")
    out = clerk(question)
    assert "1,500.00 บาท หรือ 200.00 บาท" in said(out) and len(core.book.ledger(A)) == 3
    assert "บันทึกแล้ว" in said(clerk("200"))
    clerk("จ่าย 800")
    assert "เช่น ค่าขยะ" in said(clerk(question))
    assert "บันทึกแล้ว" in said(clerk("ค่าวัสดุ"))


@pytest.mark.parametrize("typed", ["บันทึกซ้ำ", "ใช่ บันทึกเลย", "บันทึกซ้ำค่ะ", "ได้ค่ะ บันทึกเลย"])
def test_a_typed_button_label_or_yes_answers_the_duplicate_prompt(core: Core, clerk: Say,
                                                                  typed: str) -> None:
    clerk("รับ 2800 ค่าน้ำ")
    clerk("รับ 2800 ค่าน้ำ")
    out = clerk(typed)
    assert said(out).startswith("บันทึกแล้ว") and len(core.book.ledger(A)) == 5


def test_a_typed_dont_save_at_the_duplicate_prompt_is_just_that(core: Core, clerk: Say) -> None:
    clerk("รับ 2800 ค่าน้ำ")
    clerk("รับ 2800 ค่าน้ำ")
    out = clerk("ไม่บันทึก")
    assert len(out) == 1 and "ยังไม่ได้บันทึก" in said(out) and len(core.book.ledger(A)) == 4


# --------------------------------------------------------------------------- 7. openings


@pytest.mark.parametrize("text", ["สวัสดีค่ะ รับ 450 ค่าปรับ", "ขอบคุณค่ะ รับ 450 ค่าปรับ",
                                  "สวัสดีค่ะ\nรับ 450 ค่าปรับ", "บันทึก รับ 450 ค่าปรับ",
                                  "บันทึกรับ 450 ค่าปรับ", "ช่วยบันทึกให้หน่อยค่ะ รับ 450 ค่าปรับ",
                                  "หวัดดีครับ, บันทึก: รับ 450 ค่าปรับ"])
def test_a_greeting_thanks_or_save_word_before_an_entry_is_dropped(core: Core, clerk: Say,
                                                                   text: str) -> None:
    out = clerk(text)
    e = core.book.ledger(A).get(4)
    assert e is not None and e.amount == 450 and e.description == "ค่าปรับ", said(out)


def test_a_greeting_alone_is_still_a_greeting(core: Core, clerk: Say) -> None:
    assert "ยินดีให้บริการ" in said(clerk("สวัสดีค่ะ")) and len(core.book.ledger(A)) == 3


@pytest.mark.parametrize("start", ["รับ 2400", "รับ 2400 300 ค่าน้ำ"])
@pytest.mark.parametrize("change", ["เปลี่ยนใจ เป็นจ่าย 2400 ค่าน้ำมัน", "แก้เป็น จ่าย 2400 ค่าน้ำมัน"])
def test_a_new_entry_typed_while_one_waits_replaces_it(core: Core, clerk: Say, start: str,
                                                       change: str) -> None:
    clerk(start)
    out = clerk(change)
    assert "ยังไม่ได้บันทึก" in said(out) and len(core.book.ledger(A)) == 4
    e = core.book.ledger(A).get(4)
    assert e is not None and e.kind == "payment" and e.description == "ค่าน้ำมัน"


def test_a_correction_after_a_saved_entry_is_not_a_second_entry(core: Core, clerk: Say) -> None:
    clerk("รับ 2400 ค่าน้ำ")
    clerk("แก้เป็น รับ 2500 ค่าน้ำ")
    assert len(core.book.ledger(A)) == 4



def test_a_member_pressing_the_void_button_of_another_members_entry_is_refused_at_once(
        core: Core, clerk: Say) -> None:
    core.book.directory.bind("console:m2", A, "member", "สมชาย", FIXED_NOW)
    for out in (clerk(action=f"void:{A}:1", user="m2"), clerk("ยกเลิก 1", user="m2")):
        assert "ยกเลิกได้เฉพาะรายการที่ตัวเองบันทึก" in said(out)
        assert "เหตุผล" not in said(out)
    assert "ไม่พบสมาชิก" not in said(clerk("ยกเลิก 1 x", user="m2"))
    assert not _voided(core, 1)
    assert "เหตุผล" in said(clerk(action=f"void:{A}:1"))  # its author (an admin) is asked why
