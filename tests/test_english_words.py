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
