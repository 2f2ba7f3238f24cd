"""The phrase finder and the Thai normaliser do exactly what the code they replaced did."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from pathlib import Path

from pythainlp.util import normalize as th_normalize

from bot.core.text import PhraseFinder, clean, thai_normalize
from bot.qa.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parent.parent

_Trie = dict[str, "_Trie"]


def _reference_regex(phrases: Iterable[str]) -> re.Pattern[str]:
    """The regex bot/core/text.py built until the cold-start work of issue 15."""
    trie: _Trie = {}
    for phrase in sorted(set(phrases)):
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in node.items() if ch]
        if not alts:
            return ""
        if len(alts) == 1 and "" not in node:
            return alts[0]
        body = "(?:" + "|".join(alts) + ")"
        return body + "?" if "" in node else body

    return re.compile(r"(?<![a-z0-9])(?<![a-z0-9]-)(?:" + emit(trie) + r")(?![a-z0-9])")


def _both(phrases: dict[str, str], text: str) -> tuple[str, str]:
    regex = _reference_regex(phrases)
    return (PhraseFinder(phrases).sub(text),
            regex.sub(lambda m: f" {phrases[m.group(0)]} ", text))


def test_boundaries_hyphens_and_longest_variant() -> None:
    phrases = {"pay": "P", "payment": "PM", "pay in": "PI", "plan": "PL", "e-laas": "E",
               "new e-laas": "NE", "ก ข": "K", "a": "A"}
    for text in ("pay payment payments e-plan plan x-plan 9-plan -plan pay in payin pay inx",
                 "new e-laas e-laas newe-laas ก ขa ก ข a a1 1a a-a pa", "", "a", "-a", "pay"):
        mine, ref = _both(phrases, text)
        assert mine == ref, text


def test_same_as_the_regex_on_every_phrasing_and_random_text() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    phrases: dict[str, str] = {}
    for canonical, variants in kb.synonyms.items():
        for v in variants:
            cv = clean(str(v))
            if cv and cv != clean(canonical) and (" " in cv or re.search(r"[a-z0-9.\-]", cv)):
                phrases[cv] = clean(canonical)
    regex = _reference_regex(phrases)
    finder = PhraseFinder(phrases)
    texts = [clean(x) for t in kb.topics for x in (t.title, *t.phrasings, *t.keywords)]
    texts += [clean(x) for x in kb.out_of_scope]
    rng = random.Random(15)
    pool = [*phrases, "-", " ", "x", "1", "ก", "e-", "s"]
    texts += ["".join(rng.choices(pool, k=rng.randint(1, 12))) for _ in range(3000)]
    for text in texts:
        assert finder.sub(text) == regex.sub(lambda m: f" {phrases[m.group(0)]} ", text), text


def test_thai_normalize_is_pythainlps() -> None:
    kb = load_knowledge(ROOT / "knowledge")
    texts = [x for t in kb.topics for x in (t.title, *t.phrasings, *t.keywords)]
    texts += [*kb.out_of_scope, *(str(v) for vs in kb.synonyms.values() for v in vs)]
    rng = random.Random(15)
    # Every Thai code point, spaces, newlines and zero-width characters, in short random runs.
    alphabet = [chr(c) for c in range(0x0E01, 0x0E5C)] + [" ", "  ", "\n", "\u200b", "a"]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(1, 10))) for _ in range(20000)]
    texts += ["ดีีี", "เเปลก", "ก้ำ", "นานาา", " ่ก", "พ ุ่ม", "ภาพ ุ่", "ก่่่", "กํ่า", "ฤๅ ลๅ"]
    for text in texts:
        assert thai_normalize(text) == th_normalize(text), repr(text)
