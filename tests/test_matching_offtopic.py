"""Off-topic frames (bot/qa/offtopic.py): one shared word with a topic does not make a question."""

from __future__ import annotations

import pytest

from bot.qa.knowledge import load_knowledge
from bot.qa.matching import Matcher, pipeline_for


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kb = load_knowledge()
    return Matcher(kb, pipeline_for(kb))


# Written for this test, not taken from any question set: each shares a distinctive word (pay,
# a phone number, an app) with a topic but asks about something the bot does not cover.
@pytest.mark.parametrize("question", [
    "เงินเดือนนักวิชาการเงินและบัญชีเริ่มต้นเท่าไร",
    "เงินเดือนผมเดือนนี้ยังไม่เข้าบัญชีเลย",
    "ค่าจ้างรายวันของช่างไม้ตอนนี้วันละกี่บาท",
    "เงินเดือนพยาบาลออกวันที่เท่าไหร่",
    "ปีนี้จะได้เลื่อนตำแหน่งไหม",
    "ขอเบอร์ไปรษณีย์ไทย",
    "เบอร์โทรธนาคารกสิกรสาขาอำเภอ",
    "ขอคืนภาษีปีนี้ได้เมื่อไหร่",
    "ซื้อของวิธีเฉพาะเจาะจงต้องมีใบเสนอราคากี่ใบ",
    "ตั้งค่าแจ้งเตือนในไลน์ยังไง",
    "how much does a nurse earn per month",
    "when is my salary paid into my account",
    "what is the post office phone number",
])
def test_off_topic_sharing_one_word_is_rejected(matcher: Matcher, question: str) -> None:
    r = matcher.match(question)
    assert r.topic is None, (question, r.ranked)
    assert r.off_topic


# The same words inside questions about the work: still answered with their topic.
@pytest.mark.parametrize(("question", "topic"), [
    ("ค่าจ้างรายวันต้องจ่ายกี่วันครั้ง", "guide.payroll"),
    ("ผมจะจ่ายเงินเดือนพนักงานเดือนนี้ยังไง", "guide.payroll"),
    ("เงินเดือนพนักงานเดือนนี้จะออกทันไหม", "guide.payroll"),
    ("ระบบล่มแบบนี้ เงินเดือนลูกจ้างจ่ายยังไง", "guide.payroll"),
    ("ฝากเงินเข้าธนาคารกรุงไทยทุกวันไหม", "guide.deposit"),
    ("เบอร์ติดต่อท้องถิ่นจังหวัด", "contact"),
    ("ย้ายไปอยู่ อบต. ใหม่ ต้องเข้าร่วมในบอทใหม่ไหม", "bot.join_howto"),
    # English words of other organisations or apps hidden inside other words ("re-store-d",
    # "on-line") are not those organisations or apps.
    ("when will it be restored?", "status.eta"),
    ("has the service been restored yet", "status.current"),
])
def test_the_same_words_about_the_work_are_answered(matcher: Matcher, question: str,
                                                   topic: str) -> None:
    r = matcher.match(question)
    assert r.topic == topic, (question, r.ranked)
