"""Slips of one letter (bot/qa/spelling.py): read as the topics' word, never over an answer."""

from __future__ import annotations

import pytest

from bot.qa.knowledge import load_knowledge
from bot.qa.matching import Matcher, pipeline_for
from bot.qa.spelling import Respeller


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kb = load_knowledge()
    return Matcher(kb, pipeline_for(kb))


@pytest.mark.parametrize("typed", [
    "ระบบกลับมายางคะ",  # qa11 item 7: ยาง for ยัง, out of scope before
    "อีลาสใช้ได้ยางคะ",
    "ระบบกลับมายังคะ",  # as spelt: the same answer
])
def test_a_slip_of_one_letter_in_the_status_question_is_answered(matcher: Matcher,
                                                                typed: str) -> None:
    assert matcher.match(typed).topic == "status.current"


def test_the_most_used_topic_word_one_edit_away_is_taken() -> None:
    r = Respeller(["ยัง", "ยัง", "ยัง", "ทาง", "ระบบ"], ["ยาว"])
    assert r.respelled(("ระบบ", "ยาง")) == ("ระบบ", "ยัง")


def test_known_words_short_words_and_far_words_are_left_alone() -> None:
    r = Respeller(["ยัง", "ระบบ", "ใบเสร็จ"], ["หวย", "ยาว"])
    assert r.respelled(("ระบบ", "ยัง")) is None  # nothing unknown
    assert r.respelled(("หวย",)) is None  # an off-topic word is a word, not a slip
    assert r.respelled(("ยาว",)) is None
    assert r.respelled(("ยง",)) is None  # two letters: too many words one edit away
    assert r.respelled(("ระบบ", "กระเป๋า")) is None  # nothing one edit away


def test_more_unknown_words_than_slips_is_another_subject() -> None:
    r = Respeller(["ยัง", "ระบบ", "ใบเสร็จ"], [])
    assert r.respelled(("ยาง", "ใบเสรจ", "รบบบ")) is None


@pytest.mark.parametrize("question", ["ระบบกลับมายังคะ", "รับเงินตอนระบบล่มทำยังไง",
                                      "ขอเบอร์ติดต่อ สถจ."])
def test_an_answer_is_never_respelled(matcher: Matcher, question: str) -> None:
    """The respelling runs only after the plain match did not answer."""
    q = matcher.pipeline.normalize(question)
    plain = matcher._match(q, question)
    assert plain.outcome == "answer"
    assert matcher.match(question) == plain


@pytest.mark.parametrize("question", ["แชทนี้เอาไว้ทำอะไร", "ลบแชทในไลน์ยังไง",
                                      "บันทึกรายจ่ายผ่านแชทนี้ทำได้ไหม"])
def test_chat_is_read_in_both_spellings(matcher: Matcher, question: str) -> None:
    """The replies say แชต (Royal Institute); users type แชท as often: both read the same."""
    other = question.replace("แชท", "แชต")
    assert matcher.pipeline.normalize(other).tokens == matcher.pipeline.normalize(question).tokens
    assert matcher.match(other).topic == matcher.match(question).topic
