"""The matcher's indexes: sparse TF-IDF over documents and a multinomial naive Bayes.

Both keep their postings as numpy arrays in a CSR layout (one row per term: the documents that
have it and a weight each) and score a query with one ``np.bincount`` over the rows of its
terms. ``bincount`` adds the entries one after the other, in the rows' order, exactly as a loop
over the postings would: the scores are the same floats as the plain Python sums.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import cast

import numpy as np
import numpy.typing as npt

NGRAM = 3
NB_ALPHA = 0.1
NB_TEMPERATURE = 2.0  # log-likelihoods divided by this before the softmax: a softer posterior

Vector = dict[str, float]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


def char_ngrams(flat: str, n: int = NGRAM) -> list[str]:
    """Character n-grams of ``flat`` with boundary marks (``#ab``, ``abc``, ``bc#``)."""
    padded = f"#{flat}#"
    if len(padded) <= n:
        return [padded]
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


class Postings:
    """Rows of (document, value) entries in one flat CSR layout."""

    def __init__(self, rows: list[list[tuple[int, float]]]):
        lengths = [len(r) for r in rows]
        self.indptr: Ints = np.zeros(len(rows) + 1, dtype=np.intp)
        np.cumsum(lengths, out=self.indptr[1:])
        self.lengths: Ints = np.asarray(lengths, dtype=np.intp)
        self.doc: Ints = np.fromiter((d for r in rows for d, _ in r), dtype=np.intp,
                                     count=int(self.indptr[-1]))
        self.value: Floats = np.fromiter((v for r in rows for _, v in r), dtype=np.float64,
                                         count=int(self.indptr[-1]))

    def entries(self, rows: Ints) -> tuple[Ints, Ints]:
        """The positions of ``rows``' entries, row after row, and each row's length."""
        lengths = self.lengths[rows]
        ends = np.cumsum(lengths)
        # Entry k of the result is indptr[row] + (k - where that row's entries start in it).
        shift = np.repeat(self.indptr[rows] - ends + lengths, lengths)
        return shift + np.arange(int(ends[-1]) if len(ends) else 0), lengths


class TfIdf:
    """A tiny sparse TF-IDF index over documents, queried by cosine."""

    def __init__(self, docs: dict[str, list[str]]):
        df: Counter[str] = Counter()
        for terms in docs.values():
            df.update(set(terms))
        n = len(docs)
        self.size = n
        self.idf = {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
        self.default_idf = math.log(n + 1) + 1.0
        self.rows: dict[str, int] = {}
        rows: list[list[tuple[int, float]]] = []
        for doc, terms in enumerate(docs.values()):
            for term, weight in self.vector(terms).items():
                row = self.rows.setdefault(term, len(rows))
                if row == len(rows):
                    rows.append([])
                rows[row].append((doc, weight))
        self._postings = Postings(rows)

    def vector(self, terms: Iterable[str]) -> Vector:
        """The terms' TF-IDF weights, of length 1."""
        vec = self._weights(terms)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def _weights(self, terms: Iterable[str]) -> Vector:
        idf, default = self.idf, self.default_idf
        return {t: (1.0 + math.log(c)) * idf.get(t, default) for t, c in Counter(terms).items()}

    def cosine(self, terms: list[str], max_postings: int = 0) -> Floats:
        """Cosine of the query against every document, in the documents' order (0 when they
        share no term).

        With ``max_postings``, terms found in more documents than that (อย่างไร, ระบบ) are
        left out of the dot product: they add little and cost the most.
        """
        # Terms unknown to the index cannot match but still count in the query's norm, so a
        # question full of unrelated words scores low.
        vec = self._weights(terms)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        found = [(row, v) for term, v in vec.items() if (row := self.rows.get(term)) is not None]
        p = self._postings
        rows = np.fromiter((r for r, _ in found), dtype=np.intp, count=len(found))
        weights = np.fromiter((v for _, v in found), dtype=np.float64, count=len(found)) / norm
        if max_postings:
            kept = p.lengths[rows] <= max_postings
            rows, weights = rows[kept], weights[kept]
        at, lengths = p.entries(rows)
        return cast(Floats, np.bincount(p.doc[at], p.value[at] * np.repeat(weights, lengths),
                                        minlength=self.size))


class NaiveBayes:
    """Multinomial naive Bayes over word and character features, one class per topic."""

    def __init__(self, docs: dict[str, list[str]]):
        counts = [Counter(feats) for feats in docs.values()]
        self.rows: dict[str, int] = {}
        seen: list[list[tuple[int, int]]] = []  # per feature: the topics that have it, how often
        for topic, c in enumerate(counts):
            for feat, n in c.items():
                row = self.rows.setdefault(feat, len(seen))
                if row == len(seen):
                    seen.append([])
                seen[row].append((topic, n))
        size = len(seen)
        self.topics = list(docs)
        denom = [sum(c.values()) + NB_ALPHA * size for c in counts]
        self.unseen = [math.log(NB_ALPHA / d) for d in denom]
        # What a feature adds over "unseen" for the few topics that have it: the posterior then
        # adds only those (sparse). It depends on the topic and the count alone: a few thousand
        # logarithms (math.log, as ever: numpy's may differ in the last bit) for every feature.
        lift: dict[tuple[int, int], float] = {}
        for entries in seen:
            for t, n in entries:
                if (t, n) not in lift:
                    lift[t, n] = math.log((n + NB_ALPHA) / denom[t]) - self.unseen[t]
        self._postings = Postings([[(t, lift[t, n]) for t, n in entries] for entries in seen])
        self._unseen: Floats = np.asarray(self.unseen)
        self._classes: Ints = np.arange(len(self.topics), dtype=np.intp)

    def posterior(self, feats: list[str]) -> list[float]:
        """P(topic | features) per topic in the topics' order, uniform prior; 0 below 1e-4 and
        everywhere when no feature is known."""
        rows = self.rows
        known = [r for f in feats if (r := rows.get(f)) is not None]
        if not known:
            return [0.0] * len(self.topics)
        p = self._postings
        at, _ = p.entries(np.fromiter(known, dtype=np.intp, count=len(known)))
        # n * unseen first, then the lifts feature after feature: the order of the plain sums.
        logp = np.bincount(np.concatenate((self._classes, p.doc[at])),
                           np.concatenate((len(known) * self._unseen, p.value[at])),
                           minlength=len(self.topics)).tolist()
        top = max(logp)
        exp = [math.exp((v - top) / NB_TEMPERATURE) for v in logp]
        z = sum(exp)
        return [q if (q := v / z) > 1e-4 else 0.0 for v in exp]
