"""Close topics: the outage as the setting of a question does not pull it to the overview."""

from __future__ import annotations

import pytest

from bot.qa.knowledge import load_knowledge
from bot.qa.matching import Matcher, pipeline_for


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kb = load_knowledge()
    return Matcher(kb, pipeline_for(kb))


# Written for this test (issue 15 round 4), not taken from a question set.
@pytest.mark.parametrize(("question", "topic"), [
    ("during the outage can we still transfer budget to another line", "guide.budget"),
    ("ช่วงระบบล่ม โอนงบข้ามหมวดได้ไหม", "guide.budget"),
    ("ระหว่างที่ระบบขัดข้อง ค่าจ้างรายวันจ่ายยังไง", "guide.payroll"),
    ("Can I do the books in Excel instead of paper?", "guide.excel"),
    ("ระบบล่มต้องทำอะไรบ้าง", "guide.overview"),
    # "by the end of the month" is a deadline for the return, not the month-end close.
    ("will e-laas be working again by the end of the month", "status.eta"),
    ("cant log in to e-laas this morning, is it down for everyone", "status.current"),
    # "today" as the date of the work is not a request for the day's list.
    ("วันนี้มีคนมาจ่ายค่าน้ำประปาหมู่บ้าน ต้องออกใบเสร็จแบบไหน", "guide.receive"),
    ("วันนี้ต้องนำเงินไปฝากธนาคารไหม", "guide.deposit"),
    ("ดูรายการที่จดวันนี้", "bot.today_howto"),
    # "After the system is back" asks about keying back, "is it back" about the state.
    ("พอระบบกลับมาแล้วต้องทำอะไรกับสมุดที่จดด้วยมือ", "guide.keyback"),
    ("หลังระบบใช้ได้ ต้องเก็บใบเสร็จกระดาษไว้ไหม", "guide.keyback"),
    ("ระบบกลับมาแล้วหรือยัง", "status.current"),
    # Undoing an entry is the void, not logging.
    ("จดค่าน้ำมันในบอทซ้ำสองครั้ง ลบอันหนึ่งยังไง", "bot.void_howto"),
    ("จะจดรายจ่ายค่าน้ำมันในบอทต้องพิมพ์ยังไง", "bot.log_howto"),
])
def test_setting_words_do_not_outweigh_the_subject(matcher: Matcher, question: str,
                                                  topic: str) -> None:
    r = matcher.match(question)
    assert r.topic == topic, (question, r.ranked)


# Issue 15 round 6: siblings told apart by who is paid, by the bot being named, by the day's
# close against the month's. Written for this test from the topic descriptions, not taken from a
# question set; the first was answered with the sibling before the round.
@pytest.mark.parametrize(("question", "topic"), [
    ("จ่ายค่าจ้างคนงานตอนระบบล่มยังไง", "guide.payroll"),
    ("จ่ายเงินให้ร้านค้าโดยโอนเข้าบัญชีเขาได้ไหมช่วงนี้", "guide.pay"),
    ("ปิดบัญชีรายวันต้องทำอะไรบ้าง", "guide.daily_report"),
    ("ทำบัญชีเงินเดือนโดยไม่มีระบบได้ไหม", "guide.payroll"),
    ("new e-laas มันคือระบบอะไรกันแน่", "refs.elaas"),
    # Naming the bot does not take the key-back question away from its guide.
    ("จดในบอทไว้ครบแล้ว ระบบกลับมาต้องคีย์ทุกรายการอีกไหม", "guide.keyback"),
])
def test_the_words_that_tell_siblings_apart(matcher: Matcher, question: str, topic: str) -> None:
    r = matcher.match(question)
    assert r.topic == topic, (question, r.ranked)


# Naming the bot: before round 6 these were answered, with confidence, by the guide to the paper
# receipt (void, receiving). Logging in the bot must at least be offered.
@pytest.mark.parametrize("question", [
    "บันทึกใบเสร็จที่ออกด้วยมือไว้ในบอทได้ไหม",
    "ใบเสร็จที่ออกด้วยมือ จดลงบอทด้วยได้ไหม",
])
def test_naming_the_bot_is_not_answered_with_a_guide(matcher: Matcher, question: str) -> None:
    r = matcher.match(question)
    assert r.topic is None or r.topic.startswith("bot."), (question, r.ranked)
    assert "bot.log_howto" in [s.topic for s in r.ranked[:3]], (question, r.ranked)


def test_paying_a_supplier_this_month_is_not_the_payroll(matcher: Matcher) -> None:
    # Before round 6 the month ("เดือนนี้") answered this with the payroll guide, confidently.
    r = matcher.match("เดือนนี้จะโอนเงินให้ผู้ขายยังไงดี ระบบไม่มา")
    assert r.topic in (None, "guide.pay"), r.ranked
    assert r.ranked[0].topic == "guide.pay", r.ranked
