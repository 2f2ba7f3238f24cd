"""The matcher's indexes: sparse TF-IDF over documents and a multinomial naive Bayes.

Both keep one row of values per term (the documents that have it and a weight each) and score a
query by adding its terms' rows, weighted, one after the other. Over a few documents (the
topics) a row is a row of a dense matrix and the rows are added with ``np.add.reduce`` along
the matrix's first axis; over many (the phrasings) a row is a slice of a CSR layout and the
rows' entries are added with ``np.bincount``. Both add entry after entry in the rows' order, as
a loop over the postings would (``add.reduce`` sums pairwise only along the fast axis; a
missing entry adds 0.0, which changes no float): the scores are the plain Python sums, to the
last bit. A few numpy calls per query, whatever its length: each costs microseconds.
"""

from __future__ import annotations

import itertools
import math
import operator
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


# Up to this many documents, the rows are a dense matrix (a few MB for the topics' 3-grams).
DENSE_MAX = 64


def dense(rows: list[list[tuple[int, float]]], size: int) -> Floats:
    """The rows as a matrix, one column per document (0.0 where a row has no entry)."""
    matrix = np.zeros((len(rows), size))
    count = sum(len(r) for r in rows)
    matrix[np.repeat(np.arange(len(rows)), [len(r) for r in rows]),
           np.fromiter((d for r in rows for d, _ in r), dtype=np.intp, count=count)] = np.fromiter(
        (v for r in rows for _, v in r), dtype=np.float64, count=count)
    return matrix


class Postings:
    """Per term, the documents that have it and a value each."""

    def __init__(self, rows: list[list[tuple[int, float]]], size: int):
        self.length = [len(r) for r in rows]
        self.matrix: Floats | None = None
        self.doc: list[Ints] = []
        self.value: list[Floats] = []
        if size <= DENSE_MAX:
            self.matrix = dense(rows, size)
            return
        # Views, cut once, of the flat layout: a query concatenates its few rows.
        count = sum(self.length)
        doc = np.fromiter((d for r in rows for d, _ in r), dtype=np.intp, count=count)
        value = np.fromiter((v for r in rows for _, v in r), dtype=np.float64, count=count)
        ends = list(itertools.accumulate(self.length))
        for start, end in zip([0, *ends[:-1]], ends, strict=True):
            self.doc.append(doc[start:end])
            self.value.append(value[start:end])

    def weighted(self, rows: list[int], weights: list[float], size: int) -> Floats:
        """Per document, the sum of its entries in ``rows`` times their row's weight, added
        row after row."""
        if self.matrix is not None:
            block = self.matrix.take(rows, axis=0)  # a third cheaper than matrix[rows]
            block *= np.array(weights)[:, None]
            return cast(Floats, np.add.reduce(block, axis=0))
        if not rows:
            return np.zeros(size)
        lengths = [self.length[r] for r in rows]
        return cast(Floats, np.bincount(np.concatenate([self.doc[r] for r in rows]),
                                        np.concatenate([self.value[r] for r in rows])
                                        * np.repeat(weights, lengths), minlength=size))


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
        self._postings = Postings(rows, n)
        # Per term, all a query needs of it in one look-up: its IDF, its row, the row's length.
        self._terms = {t: (self.idf[t], r, self._postings.length[r]) for t, r in self.rows.items()}

    def vector(self, terms: Iterable[str]) -> Vector:
        """The terms' TF-IDF weights, of length 1."""
        vec = self._weights(terms)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def _weights(self, terms: Iterable[str]) -> Vector:
        idf, default = self.idf.get, self.default_idf
        # (1 + log 1) * w is w: the logarithm only for repeated terms.
        return {t: idf(t, default) if c == 1 else (1.0 + math.log(c)) * idf(t, default)
                for t, c in Counter(terms).items()}

    def cosine(self, terms: list[str], max_postings: int = 0) -> Floats:
        """Cosine of the query against every document, in the documents' order (0 when they
        share no term).

        With ``max_postings``, terms found in more documents than that (อย่างไร, ระบบ) are
        left out of the dot product: they add little and cost the most.
        """
        # Terms unknown to the index cannot match but still count in the query's norm, so a
        # question full of unrelated words scores low. The weights of ``_weights``, in its order.
        terms_get, default = self._terms.get, self.default_idf
        vec: list[float] = []
        found: list[tuple[int, float]] = []
        for term, c in Counter(terms).items():
            hit = terms_get(term)
            if hit is None:
                vec.append(default if c == 1 else (1.0 + math.log(c)) * default)
                continue
            idf, row, length = hit
            v = idf if c == 1 else (1.0 + math.log(c)) * idf
            vec.append(v)
            if not max_postings or length <= max_postings:
                found.append((row, v))
        norm = math.sqrt(sum(map(operator.mul, vec, vec))) or 1.0
        return self._postings.weighted([r for r, _ in found], [v / norm for _, v in found],
                                       self.size)


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
        self._lifts = dense([[(t, lift[t, n]) for t, n in entries] for entries in seen],
                            len(self.topics))
        self._unseen: Floats = np.asarray(self.unseen)

    def posterior(self, known: list[int]) -> list[float]:
        """P(topic | features) per topic in the topics' order, uniform prior, for the features
        of ``rows`` (``known``: the query's, in its order, unknown ones left out); 0 below 1e-4
        and everywhere when no feature is known."""
        if not known:
            return [0.0] * len(self.topics)
        # n * unseen first, then the lifts feature after feature: the order of the plain sums.
        block = np.empty((len(known) + 1, len(self.topics)))
        np.multiply(len(known), self._unseen, out=block[0])
        np.take(self._lifts, known, axis=0, out=block[1:])
        logp = np.add.reduce(block, axis=0)
        # (v - top) / T the same floats in numpy; math.exp, as ever (numpy's may differ).
        exp = list(map(math.exp, ((logp - logp.max()) / NB_TEMPERATURE).tolist()))
        z = sum(exp)
        return [q if (q := v / z) > 1e-4 else 0.0 for v in exp]
