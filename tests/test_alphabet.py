"""The small alphabet of the fuzzy phrasing scan changes no rapidfuzz score."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.qa.alphabet import Alphabet

KNOWN = ["ระบบ ล่ม", "จ่ายเงิน ทำ อย่างไร", "elaas ขัดข้อง หรือไม่", "ใบเสร็จ 123"]


def test_known_characters_become_one_byte_and_others_zero():
    a = Alphabet(KNOWN)
    renamed = a.rename("ระบบ ล่มX")
    assert len(renamed) == len("ระบบ ล่มX")
    assert max(map(ord, renamed)) < 256
    assert renamed[-1] == "\0"
    assert all(ch != "\0" for text in KNOWN for ch in a.rename(text))


@given(st.text(alphabet="ระบบล่มจ่ายเงินทำอย่างไร elaXQ1", max_size=30),
       st.sampled_from(KNOWN))
def test_ratio_is_the_same_after_renaming(query: str, phrasing: str):
    a = Alphabet(KNOWN)
    assert fuzz.ratio(a.rename(query), a.rename(phrasing)) == fuzz.ratio(query, phrasing)
