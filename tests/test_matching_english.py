"""English side of the matcher: the English lexicon (knowledge/english.yaml) and its pipeline."""

from __future__ import annotations

import pytest

from bot.core.text import clean
from bot.qa.knowledge import load_knowledge
from bot.qa.matching import Matcher, pipeline_for
from tests.questionsets import question_set


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    kb = load_knowledge()
    return Matcher(kb, pipeline_for(kb))


def test_no_english_variant_means_two_thai_words() -> None:
    kb = load_knowledge()
    seen: dict[str, str] = {}
    clashes = []
    for canon, variants in kb.synonyms.items():
        for v in variants:
            cv = clean(v)
            if seen.setdefault(cv, clean(canon)) != clean(canon):
                clashes.append((cv, seen[cv], canon))
    assert clashes == []
    # A stop word that is also a variant would be folded before it is dropped: say which.
    assert sorted(set(kb.english_stop) & set(seen)) == []


def test_every_thai_target_is_a_word_the_topics_use(matcher: Matcher) -> None:
    kb = load_knowledge()
    english = {c for c, vs in kb.synonyms.items() if any(clean(v).isascii() for v in vs)}
    dead = [c for c in english
            if not all(t in matcher._known for t in matcher.pipeline.normalize(c).tokens)]
    assert dead == []


@pytest.mark.parametrize(("typed", "meant"), [
    ("recieve", "receive"), ("salery", "salary"), ("payrol", "payroll"),
    ("vouncher", "voucher"), ("disbursment", "disbursement"), ("keyed in", "key in"),
    ("deposited", "deposit"), ("restored", "restore"), ("reconcilliation", "reconcilliation"),
])
def test_english_inflections_and_misspellings(matcher: Matcher, typed: str, meant: str) -> None:
    norm = matcher.pipeline.normalize
    assert norm(typed) == norm(meant)


@pytest.mark.parametrize("word", ["sale", "salad", "match", "teaching", "weather"])
def test_other_english_words_are_not_corrected_into_domain_words(matcher: Matcher,
                                                                 word: str) -> None:
    assert matcher.pipeline.normalize(word).tokens == (word,)


@pytest.mark.parametrize(("question", "topic"), [
    ("Is the accounting system still offline?", "status.current"),
    ("how do i issue reciepts while elaas is down", "guide.receive"),
    ("Can I pay the contractor by cheque during the outage?", "guide.pay"),
    ("who do i phone at the provincial office", "contact"),
])
def test_english_questions_reach_their_topic(matcher: Matcher, question: str,
                                             topic: str) -> None:
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize("question", [
    "Will it rain in Khon Kaen this weekend?",
    "Which team won the Premier League?",
    "How do I apply for a home loan at my bank?",
    "What is my credit card limit?",
])
def test_off_topic_english_is_rejected(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).topic is None


def test_new_english_questions_floor(matcher: Matcher) -> None:
    """questions_english_dev2.tsv, written before the lexicon (68.7% top-1 then)."""
    right = total = rejected = oos = wrong = 0
    lines = question_set("questions_english_dev2.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        q, topic = line.split("\t")
        got = matcher.match(q).topic
        if topic == "none":
            oos += 1
            rejected += got is None
        else:
            total += 1
            right += got == topic
            wrong += got is not None and got != topic
    assert 100 * right / total >= FLOOR_TOP1
    assert 100 * rejected / oos >= 90.0
    assert 100 * wrong / total <= WRONG_CEILING


FLOOR_TOP1 = 94.0  # measured 94.0 after issue 15 round 4 (89.6 before it), 95.5 after round 5
WRONG_CEILING = 4.0  # measured 3.0 after rounds 4 and 5


# Round 4 (issue 15): English words of the topics that had no Thai word to fold to (treasury,
# adjust, cross out, categories, end of the day), in questions written for this test.
@pytest.mark.parametrize(("question", "topic"), [
    ("which documents go with money sent to the treasury", "guide.deposit"),
    ("how do we close the cash at the end of the day", "guide.daily_report"),
    ("is it ok to adjust the figures with a journal voucher", "guide.mismatch"),
    ("can I cross out a mistake on a receipt", "guide.receipt_void"),
    ("how do we split the budget into categories during the outage", "guide.budget"),
])
def test_round4_english_words(matcher: Matcher, question: str, topic: str) -> None:
    assert matcher.match(question).topic == topic


def test_english_dev4_parity(matcher: Matcher) -> None:
    """questions_english_dev4.tsv: English 75.0% top-1 when written, Thai 100.0%."""
    right = {0: 0, 1: 0}
    total = 0
    lines = question_set("questions_english_dev4.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        thai, english, topic = line.split("\t")
        if topic == "-":
            assert matcher.match(english).topic is None, english
            continue
        total += 1
        right[0] += matcher.match(thai).topic == topic
        right[1] += matcher.match(english).topic == topic
    assert 100 * right[1] / total >= 93.0  # measured 90.0 after round 4, 95.0 after round 5
    assert right[0] - right[1] <= 4  # 3 after round 5


def test_a_word_joined_to_a_system_name_by_a_hyphen_is_not_folded(matcher: Matcher) -> None:
    """"e-Budget" and "e-plan" name other systems: their "budget" and "plan" are not ours."""
    tokens = matcher.pipeline.normalize("ระบบ e-Budget ปิดรับวันไหน").tokens
    assert "งบประมาณ" not in tokens
    assert "e-budget" in tokens
    assert "งบประมาณ" in matcher.pipeline.normalize("ระบบ budget ปิดรับวันไหน").tokens


# Round 5 (issue 15 item 5): words of the topics listed from knowledge-topics.md, in questions
# written for this test (not taken from a question set).
@pytest.mark.parametrize(("question", "topic"), [
    ("how many more weeks before e-laas is back", "status.eta"),
    ("is it down nationwide or just us", "status.current"),
    ("do we have a backup of the data from before the crash", "status.data"),
    ("sign me up so I hear when it is back", "status.notify"),
    ("who has to sign off the money count in the evening", "guide.daily_report"),
    ("can councillors still get their allowances this month", "guide.payroll"),
    ("how do I reconcile the bank account at month-end by hand", "guide.month_end"),
    ("can I plug the difference with a general journal entry", "guide.mismatch"),
    ("I want to tear out a spoiled receipt, is that allowed", "guide.receipt_void"),
    ("what does e-laas stand for", "refs.elaas"),
    ("can colleagues from another municipality read my entries", "bot.privacy"),
])
def test_round5_english_words(matcher: Matcher, question: str, topic: str) -> None:
    assert matcher.match(question).topic == topic


@pytest.mark.parametrize("question", [
    "my phone won't turn on, what should I do",
    "who is the new mayor of Bangkok",
    "best place to buy a used car",
    "my laptop is slow, how to fix",  # was answered with the outage guide (laptop, slow)
])
def test_more_off_topic_english_is_rejected(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).topic is None


# Real English words one letter away from a domain word ("ready" from "read", "serve" from
# "server", "stuff" from "staff") are words of their own, not misspellings to correct.
@pytest.mark.parametrize("word", ["ready", "point", "stuff", "serve", "black", "small", "score",
                                  "court", "protect", "mouth"])
def test_plain_english_words_are_not_read_as_misspellings(matcher: Matcher, word: str) -> None:
    assert matcher.pipeline.normalize(word).tokens == (word,)


# Round 6 (issue 15 item 5): structure, not words. A negation is a word of its own however it
# is typed ("don't forget" is "ไม่ลืม"), a possessive or "it's" leaves its word whole ("payer's"
# was "payer s"), an adverb is its adjective (wrongly: wrong), an irregular past its verb (froze).
@pytest.mark.parametrize(("typed", "meant"), [
    ("don't forget", "do not forget"), ("doesnt work", "does not work"),
    ("can't log in", "cannot log in"), ("won't load", "will not load"),
    ("isn\u2019t working", "is not working"), ("the cashier's receipt", "the cashier receipt"),
    ("the amount is shown wrongly", "the amount is shown wrong"), ("we froze it", "we freeze it"),
    ("temporarily", "temporary"),
])
def test_contractions_adverbs_and_irregular_verbs(matcher: Matcher, typed: str,
                                                  meant: str) -> None:
    norm = matcher.pipeline.normalize
    assert norm(typed) == norm(meant)
    assert norm("so I don't forget").tokens == ("ไม่", "ลืม")


@pytest.mark.parametrize("word", ["cantaloupe", "canteen", "nationality", "only", "early"])
def test_words_that_only_look_like_contractions_or_adverbs_stay_whole(matcher: Matcher,
                                                                        word: str) -> None:
    assert matcher.pipeline.normalize(word).tokens in ((word,), ())


# Concepts an unseen question had no word for, asked in words of this test's own.
@pytest.mark.parametrize(("question", "topic"), [
    ("the receipt I wrote has a misspelled name", "guide.receipt_void"),
    ("the cashier is away today, who signs the daily report", "guide.daily_report"),
])
def test_round6_english_words(matcher: Matcher, question: str, topic: str) -> None:
    assert matcher.match(question).topic == topic


# "six months" is "6 เดือน" in the Thai twin: a count in words folds to its digits, not "one",
# which names a thing as often as a count ("issue a new one").
@pytest.mark.parametrize(("typed", "meant"), [("six months", "6 months"),
                                               ("two weeks", "2 weeks"), ("twelve", "12")])
def test_english_counts_in_words_are_digits(matcher: Matcher, typed: str, meant: str) -> None:
    norm = matcher.pipeline.normalize
    assert norm(typed) == norm(meant)
    assert norm("a new one") == norm("a new")


# A form asked for by the English name on its header (not phrasings of any question set).
@pytest.mark.parametrize(("question", "topic"), [
    ("I need the expenditure register", "forms.budget-control-register"),
    ("send me the receipt register", "forms.receipt-control-register"),
])
def test_forms_by_their_english_names(matcher: Matcher, question: str, topic: str) -> None:
    assert matcher.match(question).topic == topic


# "key" alone is keying in, like "key in"; "in this chat" is the bot a clerk is talking to.
def test_bare_key_and_this_chat(matcher: Matcher) -> None:
    norm = matcher.pipeline.normalize
    assert norm("key everything again").tokens[0] == norm("คีย์").tokens[0]
    assert norm("can I note it in this chat").tokens[-1] == norm("บอท").tokens[0]
