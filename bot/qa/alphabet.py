"""Strings renumbered into a small alphabet, for rapidfuzz's fast one-byte path.

rapidfuzz compares strings of one-byte characters much faster than Thai ones (the phrasing
scan of ``Matcher._fuzzy`` took a third of the matching time). Edit distances, LCS and so
``fuzz.ratio`` depend only on which characters are equal: renaming the characters one to one
changes no score. The phrasings' characters (about 100) are numbered from 1; every other
character of a question becomes 0, which no phrasing has, so it still matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable


class Alphabet(dict[int, int]):
    """A ``str.translate`` table: the known characters to 1, 2, ...; any other one to 0."""

    def __init__(self, texts: Iterable[str]):
        super().__init__((ord(ch), i) for i, ch in enumerate(sorted(set("".join(texts))), 1))

    def __missing__(self, key: int) -> int:
        return 0

    def rename(self, text: str) -> str:
        """``text`` in the small alphabet (the same length)."""
        return text.translate(self)
