"""The matcher's indexes: sparse TF-IDF over documents and a multinomial naive Bayes."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

NGRAM = 3
NB_ALPHA = 0.1
NB_TEMPERATURE = 2.0  # log-likelihoods divided by this before the softmax: a softer posterior

Vector = dict[str, float]


def char_ngrams(flat: str, n: int = NGRAM) -> list[str]:
    """Character n-grams of ``flat`` with boundary marks (``#ab``, ``abc``, ``bc#``)."""
    padded = f"#{flat}#"
    if len(padded) <= n:
        return [padded]
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


class TfIdf:
    """A tiny sparse TF-IDF index over one document per topic, queried by cosine."""

    def __init__(self, docs: dict[str, list[str]]):
        df: Counter[str] = Counter()
        for terms in docs.values():
            df.update(set(terms))
        n = len(docs)
        self.idf = {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
        self.default_idf = math.log(n + 1) + 1.0
        self.postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for topic, terms in docs.items():
            for term, weight in self.vector(terms).items():
                self.postings[term].append((topic, weight))

    def vector(self, terms: Iterable[str]) -> Vector:
        counts = Counter(terms)
        vec = {t: (1.0 + math.log(c)) * self.idf.get(t, self.default_idf)
               for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def cosine(self, terms: list[str], max_postings: int = 0) -> dict[str, float]:
        """Cosine of the query against every topic sharing a term with it.

        With ``max_postings``, terms found in more documents than that (อย่างไร, ระบบ) are
        left out of the dot product: they add little and cost the most.
        """
        scores: dict[str, float] = defaultdict(float)
        # Terms unknown to the index cannot match but still count in the query's norm, so a
        # question full of unrelated words scores low.
        for term, qw in self.vector(terms).items():
            postings = self.postings.get(term, ())
            if max_postings and len(postings) > max_postings:
                continue
            for topic, dw in postings:
                scores[topic] += qw * dw
        return scores


class NaiveBayes:
    """Multinomial naive Bayes over word and character features, one class per topic."""

    def __init__(self, docs: dict[str, list[str]]):
        vocab: set[str] = set()
        counts: dict[str, Counter[str]] = {}
        for topic, feats in docs.items():
            counts[topic] = Counter(feats)
            vocab.update(feats)
        size = len(vocab)
        self.vocab = vocab
        self.topics = list(docs)
        self.unseen: dict[str, float] = {}
        self._denom: dict[str, float] = {}
        # Feature -> the topics that have it and how often, in the topics' order.
        self._seen: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for topic, c in counts.items():
            denom = self._denom[topic] = sum(c.values()) + NB_ALPHA * size
            self.unseen[topic] = math.log(NB_ALPHA / denom)
            for feat, n in c.items():
                self._seen[feat].append((topic, n))
        # What a feature adds over "unseen" for the few topics that have it: the posterior then
        # touches only those (sparse) instead of every topic for every feature. Worked out for a
        # feature when a question first has it: most of the 40,000 never come up in a process.
        self._lift: dict[str, tuple[tuple[str, float], ...]] = {}

    def lift(self, feat: str) -> tuple[tuple[str, float], ...]:
        """log P(feat | topic) - log P(unseen | topic), for the topics that have ``feat``."""
        row = self._lift.get(feat)
        if row is None:
            denom, unseen = self._denom, self.unseen
            row = self._lift[feat] = tuple(
                (t, math.log((n + NB_ALPHA) / denom[t]) - unseen[t]) for t, n in self._seen[feat])
        return row

    def posterior(self, feats: list[str]) -> dict[str, float]:
        """P(topic | features), uniform prior; empty when no feature is known."""
        known = [f for f in feats if f in self.vocab]
        if not known:
            return {}
        n = len(known)
        logp = {t: n * self.unseen[t] for t in self.topics}
        for f in known:
            for t, lift in self.lift(f):
                logp[t] += lift
        top = max(logp.values())
        exp = {t: math.exp((v - top) / NB_TEMPERATURE) for t, v in logp.items()}
        z = sum(exp.values())
        return {t: v / z for t, v in exp.items() if v / z > 1e-4}
