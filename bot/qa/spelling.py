"""A slip of one letter in a word the topics use ("ระบบกลับมายางคะ" for ยัง), read as that word.

Only for a question the plain match does not answer, and only for words no class's bag has
(a known word, an off-topic one included, is never "corrected"). Each such word becomes the
topics' word one edit away that they use most. pythainlp's spell checker (offline, 0.4 s to
load) leaves a real word alone ("ยาง", rubber, stays) and corrects towards everyday Thai, not
towards the topics' words.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

_THAI = re.compile(r"[\u0e01-\u0e4f]+")
MIN_THAI = 3  # "ยาง" -> "ยัง"; two letters are too many words one edit apart
MIN_LATIN = 5
MAX_SLIPS = 2  # more unknown words than this: another subject, not slips


class Respeller:
    """Reads unknown words as the topics' words one edit away."""

    def __init__(self, topic_words: Iterable[str], every_word: Iterable[str]):
        """``topic_words``: the topics' words, repeated as often as they are used;
        ``every_word``: every word any class knows (off-topic and examples included)."""
        counts = Counter(topic_words)
        self._counts = counts
        self._known = frozenset(every_word) | counts.keys()
        # By length, most used first: the first one edit away is the likeliest.
        self._by_length: dict[int, list[str]] = {}
        for word, _ in counts.most_common():
            self._by_length.setdefault(len(word), []).append(word)
        self.respelled = functools.lru_cache(maxsize=4096)(self._respelled)

    def _word(self, token: str) -> str | None:
        """The topics' most used word one edit from ``token``, or None."""
        n = len(token)
        found = [next((w for w in self._by_length.get(size, ())
                       if Levenshtein.distance(token, w, score_cutoff=1) <= 1), None)
                 for size in (n, n - 1, n + 1)]
        return max((w for w in found if w), key=self._counts.__getitem__, default=None)

    def _respelled(self, tokens: tuple[str, ...]) -> tuple[str, ...] | None:
        """``tokens`` with each unknown word read as a topic word (None: nothing to read)."""
        unknown = [i for i, t in enumerate(tokens) if t not in self._known and _long_enough(t)]
        if not unknown or len(unknown) > MAX_SLIPS:
            return None
        out = list(tokens)
        for i in unknown:
            word = self._word(tokens[i])
            if word is None:
                return None
            out[i] = word
        return tuple(out)


def _long_enough(token: str) -> bool:
    if _THAI.fullmatch(token):
        return len(token) >= MIN_THAI
    return token.isalpha() and token.isascii() and len(token) >= MIN_LATIN
