"""Conversations through Engine.reply_to: follow-ups, command words inside questions, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.contract import Incoming
from bot.core.engine import OUT_OF_SCOPE
from bot.ledger.chat import NO_LAO
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say


def later(core: Core, minutes: float) -> None:
    """Move the engine's clock forward."""
    now = core.engine.clock() + timedelta(minutes=minutes)
    core.engine.clock = lambda: now


# ---------------------------------------------------------------------------- follow-ups


def test_followup_salary_after_the_payment_answer(say: Say, core: Core) -> None:
    assert say("จ่ายเงินช่วงระบบล่มทำยังไง")[0].topic == "guide.pay"
    later(core, 2)
    assert say("แล้วเงินเดือนล่ะ")[0].topic == "guide.payroll"


def test_elliptical_followup_stays_on_the_topic_just_answered(say: Say, core: Core) -> None:
    assert say("จ่ายเงินช่วงระบบล่มทำยังไง")[0].topic == "guide.pay"
    later(core, 1)
    assert say("แล้วถ้าจ่ายเป็นเช็คล่ะ")[0].topic == "guide.pay"


@pytest.mark.parametrize("followup", ["แล้วถ้าเป็นเช็คล่ะ", "ถ้าเป็นเช็คล่ะ"])
def test_followup_word_with_an_everyday_sense_continues_the_topic(say: Say, core: Core,
                                                                  followup: str) -> None:
    # "เช็ค" is also "to check" (off-topic examples such as checking a parcel sit nearest).
    assert say("จ่ายเงินช่วงระบบล่มทำยังไง")[0].topic == "guide.pay"
    assert say(followup)[0].topic == "guide.pay"
    assert say("แล้วเช็คพัสดุไปรษณีย์ล่ะ")[0].text.startswith(OUT_OF_SCOPE[:20])


@pytest.mark.parametrize("question", ["สรุปยอดเดือนนี้ส่งใคร", "ปิดบัญชีวันนี้ต้องทำอะไร"])
def test_this_month_or_today_is_not_a_reference_to_the_last_answer(say: Say, core: Core,
                                                                   question: str) -> None:
    """"เดือนนี้" is "this month", not "this (topic)": a new question after the receipt-void
    answer is not answered with the receipt-void guide again."""
    assert say("ยกเลิกใบเสร็จทำยังไง")[0].topic == "guide.receipt_void"
    later(core, 1)
    assert say(question)[0].topic != "guide.receipt_void"


def test_forms_followup_gives_the_forms_of_the_guide_just_answered(say: Say, core: Core) -> None:
    assert say("รับเงินตอนระบบล่มทำยังไง")[0].topic == "guide.receive"
    later(core, 1)
    r = say("ขอแบบฟอร์มด้วย")[0]
    actions = [c.action for c in r.choices]
    # guide.receive lists three forms: all of them, and nothing from other guides
    assert actions[:3] == ["form:cash-receipts-book", "form:receipt-control-register",
                           "form:revenue-register"]
    assert "form:cash-payments-book" not in actions
    assert "รับเงิน" in r.text


def test_forms_followup_with_one_form_sends_that_form(say: Say, core: Core) -> None:
    assert say("ปิดยอดเงินสดประจำวันทำยังไง")[0].topic == "guide.daily_report"
    r = say("มีฟอร์มไหมคะ")[0]
    assert r.file is not None and r.file.filename.endswith(".pdf")


def test_followup_is_forgotten_after_a_few_minutes(say: Say, core: Core) -> None:
    say("รับเงินตอนระบบล่มทำยังไง")
    later(core, 30)
    r = say("ขอแบบฟอร์มด้วย")[0]
    assert r.topic == "forms.catalog"  # the whole catalog, not the old guide's forms


def test_followup_is_per_user(say: Say, core: Core) -> None:
    say("รับเงินตอนระบบล่มทำยังไง", user="a")
    assert say("ขอแบบฟอร์มด้วย", user="b")[0].topic == "forms.catalog"


def test_followup_after_a_button_answer(say: Say) -> None:
    assert say(action="topic:guide.pay")[0].topic == "guide.pay"
    assert "form:cash-payments-book" in [c.action for c in say("ขอแบบฟอร์มด้วย")[0].choices]


def test_off_topic_followup_is_still_off_topic(say: Say) -> None:
    say("จ่ายเงินช่วงระบบล่มทำยังไง")
    r = say("แล้วหวยงวดนี้ล่ะ")[0]
    assert r.topic is None and r.text == OUT_OF_SCOPE


def test_a_named_form_wins_over_the_followup(say: Say) -> None:
    say("รับเงินตอนระบบล่มทำยังไง")
    assert say("ขอแบบฟอร์มทะเบียนคุมงบประมาณ")[0].topic == "forms.budget-control-register"


@pytest.mark.parametrize(("before", "ask", "lacking"), [
    ("จ่ายเงินเดือนยังไง", "มีแบบฟอร์มงบทดลองไหม", "งบทดลอง"),
    ("ขอแบบฟอร์มใบเสร็จ", "มีฟอร์มฎีกาไหม", "ฎีกา"),
    ("รับเงินทำยังไง", "ขอแบบฟอร์มทะเบียนเช็คหน่อย", "ทะเบียนเช็ค"),
])
def test_a_named_form_we_lack_is_not_the_last_topics_form(say: Say, before: str, ask: str,
                                                          lacking: str) -> None:
    """The tester's reports: a follow-up that names a form we have no layout for got the
    previous topic's form (as a file, or as "แบบฟอร์มสำหรับเรื่อง …")."""
    say(before)
    r = say(ask)[0]
    assert r.file is None
    assert f"ไม่มีแบบ{lacking}" in r.text and "แบบฟอร์มสำหรับเรื่อง" not in r.text
    assert "สถจ." in r.text


@pytest.mark.parametrize("ask", ["ขอแบบฟอร์มของเรื่องนี้ด้วย", "มีแบบฟอร์มไหม", "แบบที่ต้องใช้ล่ะ"])
def test_a_forms_request_naming_nothing_is_still_a_followup(say: Say, ask: str) -> None:
    say("จ่ายเงินช่วงระบบล่มทำยังไง")
    r = say(ask)[0]
    assert "จ่ายเงิน" in r.text and "form:cash-payments-book" in [c.action for c in r.choices]


def test_a_forms_request_naming_something_else_is_not_a_followup(say: Say) -> None:
    # no paper form by that name either: the catalog, not the payment guide's form
    say("จ่ายเงินช่วงระบบล่มทำยังไง")
    r = say("มีแบบฟอร์มภาษีป้ายไหม")[0]
    assert r.file is None and r.topic == "forms.catalog"


# ---------------------------------------------------------------------------- commands


@pytest.mark.parametrize(("question", "topic"), [
    ("เข้าร่วม อปท. ในบอทต้องทำยังไง", "bot.join_howto"),
    ("ยกเลิก รายการที่จดผิดไปทำยังไงคะ", "bot.void_howto"),
    ("วันนี้ระบบกลับมาหรือยัง", "status.current"),
    ("วันนี้ e-laas ใช้ได้ยังคะ", "status.current"),
    ("ส่งออก excel ได้ไหม", "bot.export_howto"),
    ("คีย์แล้ว ต้องกดตรงไหนคะ", "bot.keyed_howto"),
    ("รับแจ้งเตือน ต้องสมัครยังไง", "status.notify"),
    ("แบบฟอร์ม ทะเบียนรายได้ มีไหม", "forms.revenue-register"),
])
def test_command_word_inside_a_question_is_a_question(say: Say, question: str,
                                                      topic: str) -> None:
    assert say(question)[0].topic == topic


@pytest.mark.parametrize("question", ["สรุปยอดเดือนนี้ส่งใคร", "สรุปผลการประชุมสภาให้หน่อย",
                                      "ส่งออกไฟล์ยังไง"])
def test_text_glued_to_a_command_word_is_a_command_only_when_it_is_a_period(
        say: Say, question: str) -> None:
    assert not say(question)[0].text.startswith(NO_LAO[:20])


@pytest.mark.parametrize("question", [
    "เข้าร่วมกลุ่มไลน์ชมรมปลัดได้ไหม",
    "เข้าร่วม งานกาชาดจังหวัดปีนี้ไหม",
    "ประกาศ ผลสอบท้องถิ่นออกวันไหน",
    "วันนี้ ราคาทองเท่าไหร่",
])
def test_off_topic_question_with_a_command_word_is_out_of_scope(say: Say, question: str) -> None:
    r = say(question)[0]
    assert r.topic is None and r.text == OUT_OF_SCOPE


@pytest.mark.parametrize("command", [
    "ยกเลิก 12 พิมพ์ยอดผิด", "ยกเลิก 12", "คีย์แล้ว 1-20", "คีย์แล้ว 3 5 8", "ส่งออก",
    "ส่งออก csv", "ส่งออก 1/7/67-31/7/67", "สรุป เดือนนี้", "วันนี้", "วันนี้ค่ะ", "/today",
    "สรุป 1/13/67",
    # found by a tester: a period glued to the word, a polite or request tail
    "สรุปเดือนนี้", "ส่งออกเดือนนี้", "สรุปให้หน่อย", "สรุป เดือนนี้ค่ะ", "ส่งออกให้ที",
])
def test_real_commands_still_run(say: Say, command: str) -> None:
    assert say(command)[0].text.startswith(NO_LAO[:20])  # a ledger command: asks to join first


def test_join_with_a_code_is_the_join_command(say: Say) -> None:
    assert "รหัสเข้าร่วมไม่ถูกต้อง" in say("เข้าร่วม AB12CD34")[0].text
    assert "รหัสเข้าร่วมไม่ถูกต้อง" in say("/join whatever code")[0].text


def test_polite_tail_keeps_a_command(say: Say) -> None:
    assert say("สถานะครับ")[0].topic == "status.current"
    assert say("เมนูค่ะ")[0].choices


def test_status_admin_command_with_a_question_is_not_refused(say: Say) -> None:
    r = say("ประกาศ สถ. เรื่องระบบล่มล่าสุดว่าอย่างไรคะ")[0]
    assert "เฉพาะผู้ดูแลระบบ" not in r.text


# ---------------------------------------------------------------------------- bad input


def test_very_long_question_is_cut_and_answered(say: Say) -> None:
    pasted = "ตามหนังสือที่แนบมา " + "ข้อความยาวจากหนังสือราชการ " * 200
    r = say(pasted + " สรุปว่าระบบ e-laas กลับมาใช้ได้หรือยังคะ")[0]
    assert r.topic == "status.current"


def test_very_long_paste_of_many_lines_is_refused_whole(say: Say) -> None:
    lines = "\n".join(f"รับ {i},000 ค่าขยะ ครั้งที่ {i} " + "x" * 60 for i in range(1, 40))
    r = say(lines)[0]
    assert "ยาวเกินไป" in r.text


@pytest.mark.parametrize(("text", "topic"), [
    ("ระบบ\u200bล่ม\u200bอยู่ไหม", "status.current"),
    ("อีลาสสสส ล่มมมมม ไหมมมม", "status.current"),
    ("🙏🙏 e-laas ยังล่มอยู่ไหมคะ 😭", "status.current"),
    ("elaas ล่ม จ่ายเงิน how", "guide.pay"),
])
def test_noisy_but_readable_questions_are_answered(say: Say, text: str, topic: str) -> None:
    assert say(text)[0].topic == topic


@pytest.mark.parametrize("text", [
    "😀😀😀", "🙏", "!!!???", "\u200b\u200c\u200d", "ㅋㅋㅋㅋ", "жжж ююю", "ααα",
    "ค" * 3000, "a" * 5000, "\ufeff\u2060", "ลลลลลลลลลลลลลลลล",
])
def test_unreadable_gets_a_polite_reply_never_an_error(say: Say, text: str) -> None:
    replies = say(text)
    assert replies and replies[0].text
    assert "ระบบขัดข้องชั่วคราว" not in replies[0].text  # the engine's error reply
    assert replies[0].topic is None


def test_sticker_gets_the_text_only_reply(core: Core) -> None:
    replies = core.engine.reply_to(Incoming("line", "u1", "u1", kind="unsupported",
                                            event_id="st1", received_at=FIXED_NOW))
    assert "ข้อความตัวอักษร" in replies[0].text


def test_topic_memory_is_bounded_and_expires() -> None:
    from bot.qa.followup import TopicMemory

    memory = TopicMemory(ttl=timedelta(minutes=5), max_users=2)
    memory.remember("a", "guide.pay", FIXED_NOW)
    memory.remember("b", "guide.pay", FIXED_NOW)
    memory.remember("c", "guide.receive", FIXED_NOW)
    assert memory.recall("a", FIXED_NOW) is None  # the oldest user was dropped
    assert memory.recall("c", FIXED_NOW + timedelta(minutes=4)) == "guide.receive"
    assert memory.recall("c", FIXED_NOW + timedelta(minutes=6)) is None
    assert memory.recall("c", FIXED_NOW - timedelta(minutes=1)) is None  # clock went back


@pytest.mark.parametrize("question", ["ระบบล่ม", "ระบบเจ๊ง"])
def test_a_message_that_stands_on_its_own_is_not_read_as_a_followup(say: Say, core: Core,
                                                                    question: str) -> None:
    """The tester's report (qa11 item 4): after the letters answer, "ระบบล่ม" got the letters
    answer again. A short message with no follow-up mark that the matcher places near topics
    of its own gets the same reply as from someone who asked nothing before."""
    fresh = say(question, user="fresh")[0]
    assert say("มีหนังสือสั่งการเลขที่อะไร")[0].topic == "refs.letters"
    later(core, 1)
    after = say(question)[0]
    assert after.topic != "refs.letters"
    assert (after.text, after.choices) == (fresh.text, fresh.choices)
