"""The matcher remembers its last decisions: a question asked again is decided as the first
time, without scoring every topic again."""

from __future__ import annotations

import pytest

from bot.qa.knowledge import load_knowledge
from bot.qa.matching import MATCH_CACHE, Matcher, pipeline_for


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kb = load_knowledge()
    return Matcher(kb, pipeline_for(kb))


# Written for this test: an answer, a did-you-mean, an off-topic frame (decided on the raw
# text), and the same words as another raw text.
QUESTIONS = ("ระบบล่มรับเงินยังไง", "เงิน", "เงินเดือนนายกเท่าไหร่", "ระบบ ล่ม รับเงิน ยังไง",
             "ระบบกลับมาหรือยังคะ")


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_question_asked_again_is_decided_as_the_first_time(matcher: Matcher,
                                                             question: str) -> None:
    q = matcher.pipeline.normalize(question)
    first = matcher.match(question)
    assert first == matcher._decide(q, question)  # the uncached decision
    assert matcher.match(question) is first
    assert matcher.match(q) == matcher._decide(q, q.spaced)


def test_the_memory_is_bounded(matcher: Matcher) -> None:
    info = matcher._decided.cache_info()
    assert info.maxsize == MATCH_CACHE
    assert 0 < info.currsize <= MATCH_CACHE



def test_a_matcher_may_remember_nothing() -> None:
    kb = load_knowledge()
    forgetful = Matcher(kb, pipeline_for(kb), remember=0)
    first = forgetful.match(QUESTIONS[0])
    assert forgetful.match(QUESTIONS[0]) is not first
    assert forgetful.match(QUESTIONS[0]) == first
    assert forgetful._decided.cache_info().currsize == 0
