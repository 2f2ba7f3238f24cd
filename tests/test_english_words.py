"""English questions meet the same Thai words: inflected forms fold through the synonyms."""

from __future__ import annotations

from bot.core.text import english_stems
from bot.qa.knowledge import load_knowledge
from bot.qa.matching import pipeline_for


def test_english_stems_candidates() -> None:
    assert "log" in english_stems("logged")
    assert "store" in english_stems("stored")
    assert "deposit" in english_stems("deposits")
    assert english_stems("paid")[0] == "pay"
    assert "entry" in english_stems("entries")
    assert english_stems("bus") == []  # too short to strip


def test_inflected_english_folds_to_the_thai_word() -> None:
    pipeline = pipeline_for(load_knowledge())
    assert pipeline.normalize("we deposited the cash").tokens == (
        pipeline.normalize("deposit cash").tokens)
    assert "จ่ายเงิน" in pipeline.normalize("has the salary been paid").tokens
    assert "บันทึก" in pipeline.normalize("entries I've logged").tokens
    # An unknown English word is left as it is, not cut to a stem that means something else.
    assert "running" in pipeline.normalize("running").tokens


def test_a_phrase_is_found_before_its_words_are_brought_to_base_forms() -> None:
    # "supporting" alone is "support" (a contact word), but "supporting documents" is a phrase
    # of its own; so are "backed up data" and "who sees".
    pipeline = pipeline_for(load_knowledge())
    assert pipeline.normalize("supporting documents").tokens == ("เอกสาร",)
    assert pipeline.normalize("backed up data").tokens == ("สำรอง",)
    assert pipeline.normalize("who sees").tokens == ("เห็น",)


def test_the_longest_variant_wins_on_a_word_boundary() -> None:
    # "new e-laas" over "e-laas"; "cash book" over "cash"; "payments" stays one word.
    pipeline = pipeline_for(load_knowledge())
    assert pipeline.normalize("new e-laas").tokens == pipeline.normalize("e-laas").tokens
    assert pipeline.normalize("cash book").tokens == ("สมุด",)
    assert pipeline.normalize("payments").tokens == pipeline.normalize("payment").tokens
