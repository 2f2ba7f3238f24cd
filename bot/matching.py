"""Score a question against every topic's phrasings (rapidfuzz) and decide with cutoffs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.knowledge import KnowledgeBase
from bot.text import Normalized, TextPipeline

# Decided on tests/data/questions.tsv (see bench/bench_matching.py): a topic at or above
# CONFIDENT with a clear lead is answered; down to SUGGEST the best three are offered.
CONFIDENT = 64.0
SUGGEST = 46.0
LEAD = 4.0
KEYWORD_BONUS = 8.0
SHORTLIST = 40


@dataclass(frozen=True)
class Scored:
    """A topic and its score (0-100)."""

    topic: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided for one question."""

    outcome: Literal["answer", "suggest", "none"]
    ranked: tuple[Scored, ...]

    @property
    def topic(self) -> str | None:
        return self.ranked[0].topic if self.outcome == "answer" else None

    @property
    def score(self) -> float:
        return self.ranked[0].score if self.ranked else 0.0


class Matcher:
    """Ranks topics for a question.

    Each phrasing is scored two ways and the mean is taken: ``token_set_ratio`` on the
    newmm tokens (word order and extra words matter little) and ``ratio`` on the text
    without spaces (robust to tokenisation differences from typos). A topic's keywords
    found in the question add a bonus. ``ratio`` runs only on a token-score shortlist,
    which keeps a question well under a millisecond with 1,000 phrasings.
    """

    def __init__(self, kb: KnowledgeBase, pipeline: TextPipeline):
        self.pipeline = pipeline
        self._owner: list[str] = []
        spaced: list[str] = []
        flat: list[str] = []
        for topic in kb.topics:
            for p in (topic.title, *topic.phrasings):
                n = pipeline.normalize(p)
                if not n.tokens:
                    continue
                self._owner.append(topic.id)
                spaced.append(n.spaced)
                flat.append(n.flat)
        self._spaced = spaced
        self._flat = flat
        self._keywords: dict[str, tuple[str, ...]] = {
            t.id: tuple(k for k in (pipeline.normalize(k).flat for k in t.keywords) if len(k) > 1)
            for t in kb.topics
        }
        self._order = [t.id for t in kb.topics]

    @property
    def size(self) -> int:
        """How many phrasings are indexed."""
        return len(self._owner)

    def rank(self, question: str | Normalized) -> list[Scored]:
        """Every topic with a positive score, best first."""
        q = self.pipeline.normalize(question) if isinstance(question, str) else question
        if not q.tokens:
            return []
        best: dict[str, float] = {}
        hits = process.extract(
            q.spaced, self._spaced, scorer=fuzz.token_set_ratio, limit=SHORTLIST
        )
        for _, tok_score, idx in hits:
            raw = fuzz.ratio(q.flat, self._flat[idx])
            score = (tok_score + raw) / 2
            owner = self._owner[idx]
            if score > best.get(owner, 0.0):
                best[owner] = score
        for topic, words in self._keywords.items():
            if words and any(w in q.flat for w in words):
                best[topic] = min(100.0, best.get(topic, SUGGEST - KEYWORD_BONUS) + KEYWORD_BONUS)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], self._order.index(kv[0])))
        return [Scored(t, round(s, 1)) for t, s in ranked]

    def match(self, question: str | Normalized) -> MatchResult:
        """Answer, suggest or give up, by the cutoffs above."""
        ranked = tuple(self.rank(question))
        if not ranked or ranked[0].score < SUGGEST:
            return MatchResult("none", ranked[:3])
        top = ranked[0].score
        second = ranked[1].score if len(ranked) > 1 else 0.0
        if top >= CONFIDENT and top - second >= LEAD:
            return MatchResult("answer", ranked[:4])
        if top >= 90.0:  # near-verbatim: trust it even when a sibling is close
            return MatchResult("answer", ranked[:4])
        return MatchResult("suggest", ranked[:3])
