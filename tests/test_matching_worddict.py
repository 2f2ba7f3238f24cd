"""The tokenizer's set-based dictionary answers exactly as pythainlp's trie does."""

from __future__ import annotations

import random

from pythainlp.corpus import thai_words
from pythainlp.tokenize.newmm import segment
from pythainlp.util.trie import Trie

from bot.core.text import WordDict


def test_same_prefixes_and_tokens_as_the_trie() -> None:
    words = sorted(thai_words())
    trie, fast = Trie(words), WordDict(words)
    rng = random.Random(15)
    text = "".join(rng.sample(words, 1500)) + "ระบบขัดข้องรับเงินอย่างไร e-laas 12/7"
    for i in range(len(text)):
        assert fast.prefixes(text, i) == trie.prefixes(text, i)
    for sentence in ("อีลาสล่มจ่ายเงินเดือนพนักงานจ้างได้ไหมคะ", text[:300]):
        assert segment(sentence, custom_dict=fast) == segment(sentence, custom_dict=trie)
    assert len(fast) == len(trie) and "ระบบ" in fast and "ระบ" not in fast


def test_added_word_is_found_and_removed_word_is_not() -> None:
    d = WordDict(["ระบบ"])
    assert d.prefixes("อีลาสล่ม") == []  # answered once before the word is added
    d.add(" อีลาส ")
    assert d.prefixes("อีลาสล่ม") == ["อีลาส"]
    d.remove("อีลาส")
    assert d.prefixes("อีลาสล่ม") == [] and list(d) == ["ระบบ"]
