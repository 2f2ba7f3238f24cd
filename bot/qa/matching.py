"""Score a question against every topic and the off-topic class, and decide.

Over 500 lines, for a reason: the features and the decision are one model, and
``bench/fit_matcher.py`` fits the weights on exactly what ``features`` returns; the indexes live
in ``index.py``, the off-topic frames in ``offtopic.py``, the two-question rule in ``twoparts.py``.

Signals per topic, from the knowledge base's phrasings (``bot/qa/index.py``):

- **words**: TF-IDF cosine of the question's newmm tokens (synonyms folded) against each
  topic's whole bag of words (title, phrasings, keywords).
- **chars**: the same over character 3-grams of the text without spaces, which survives
  typos and tokenisation differences (``ชัดข้อง``, run-together words).
- **bayes**: the posterior of a multinomial naive Bayes model over the same words and 3-grams.
- **near**: TF-IDF cosine against the single closest phrasing of a topic.
- **fuzzy**: the best rapidfuzz score against a near-verbatim phrasing.
- **keyword**: one of the topic's keywords is in the question.

Beside them, which topic leads the words and the 3-grams, how far its closest phrasing leads the
others', and 0/1 cues that once were hand-written rules with factors: a form named in a how-to
question or without a word of asking for a file, "today" without a word of looking, the bot named
(for the bot's topics; it takes the manual guides out of the running). Round 7 measured the other
hand rules (a word of undoing against logging, a specific keyword against the overview, one payee
against the other payment guide, a named form against the catalog) as features: their weights
came out near zero and leaving them out changed the cross-validated figures by less than one
question a set, so they are gone. The off-topic class
(``knowledge/outofscope.yaml``) is one more candidate with its own signals: the same four
similarities to the off-topic phrasings, the question's coverage (the IDF-weighted share of its
words that the topics use), an off-topic frame of ``bot/qa/offtopic.py``, another system named
beside a status question.

A linear softmax over the candidates mixes them: the weights (``bot/qa/weights.py``) are learned
from every labelled question set in ``tests/data`` by ``bench/fit_matcher.py`` (multinomial
logistic regression), judged by leave-one-set-out cross-validation, not hand-tuned. The decision
too: the top candidate's probability answers above ``ANSWER_P``, suggests the top three above
``SUGGEST_P``, and gives up below; the off-topic class on top is a rejection.
A near-verbatim phrasing (fuzzy >= ``VERBATIM``) is answered directly.
"""

from __future__ import annotations

import bisect
import functools
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.text import Normalized, TextPipeline
from bot.qa import weights
from bot.qa.alphabet import Alphabet
from bot.qa.examples import normalized_examples
from bot.qa.index import NaiveBayes, TfIdf, char_ngrams
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.qa.labelled import OFF_TOPIC_LABEL
from bot.qa.offtopic import off_topic_frame
from bot.qa.spelling import Respeller

NEAR_MAX_POSTINGS = 100
OOS_NEAR_MARGIN = 0.05
COVERAGE_FULL = 0.8
VERBATIM = 95.0
FUZZY_CUTOFF = 75.0
SHORTLIST = 8
MATCH_CACHE = 4096  # decisions remembered (a few MB at most)

FORM_PREFIX = "forms."
STATUS_PREFIX = "status."
TODAY_LIST = "bot.today_howto"
LOOK_CUES = ("ดู", "สรุป", "ยอด", "รายการ", "เท่า", "กี่", "ประวัติ", "จดไป", "จดอะไร", "เช็ค",
             "เทียบ", "ล่าสุด", "บอท")
CATALOG = "forms.catalog"
BOT_WORD = "บอท"
BOT_PREFIX = "bot."
WORK_PREFIXES = ("guide.", "refs.", "contact")
# Keying back what was logged in the bot is the key-back guide's own question ("จดในบอทไว้แล้ว
# ยังต้องคีย์เข้าอีลาสอีกไหม"): its answer lists the bot's helpers.
BOT_EXEMPT = "guide.keyback"
# Words that ask how to do the work, and words that ask for a file (after normalisation).
HOWTO_CUES = frozenset("ต้อง อย่างไร ใคร เซ็น ลงนาม ทำ ทำยังไง ควร how who should must".split())
REQUEST_CUES = frozenset(
    "ขอ แบบฟอร์ม แบบ ไฟล์ ดาวน์โหลด ปริ้น ส่ง อยากได้ ตัวอย่าง excel pdf template form".split()
)

OUT_OF_SCOPE = "_out_of_scope"
# Features of a topic candidate and of the off-topic candidate (bench/fit_matcher.py learns one
# weight each; "bias:<topic>" weights are per-topic offsets).
TOPIC_FEATURES = (
    "words", "chars", "bayes", "near", "fuzzy", "keyword",
    "words_top", "chars_top", "near_lead", "today_no_look", "bot_topic", "howto_form",
    "bare_form",
)
OOS_FEATURES = (
    "oos_bias", "oos_words", "oos_chars", "oos_bayes", "oos_near", "oos_fuzzy", "oos_near_lead",
    "oos_near_flag", "oos_frame", "oos_other_system", "oos_uncovered",
)
# The off-topic cues that reject outright (and are features of the class's ranking too).
OFF_TOPIC_RULES = frozenset({"oos_frame", "oos_other_system"})
# Not a feature: a candidate whose features have it is out of the running (see ``features``).
MASKED = "masked"
Features = dict[str, float]


@dataclass(frozen=True)
class Scored:
    """A topic and its score (0-100: the model's probability in percent)."""

    topic: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided for one question."""

    outcome: Literal["answer", "suggest", "none"]
    ranked: tuple[Scored, ...]
    off_topic: bool = False  # "none" because the question is closer to off-topic examples

    @property
    def topic(self) -> str | None:
        return self.ranked[0].topic if self.outcome == "answer" else None

    @property
    def score(self) -> float:
        return self.ranked[0].score if self.ranked else 0.0


@functools.lru_cache(maxsize=4)
def load_language(root: Path) -> tuple[KnowledgeBase, TextPipeline]:
    """The knowledge base and its warmed-up text pipeline (immutable: built once per process)."""
    kb = load_knowledge(root)
    pipeline = pipeline_for(kb)
    pipeline.warm_up()
    return kb, pipeline


def pipeline_for(kb: KnowledgeBase) -> TextPipeline:
    """The text pipeline with the knowledge base's synonyms, and its keywords as words."""
    return TextPipeline(kb.synonyms, extra_words={k for t in kb.topics for k in t.keywords},
                        stop_words=kb.english_stop, plain_words=kb.english_plain)


def _features(n: Normalized) -> list[str]:
    """The naive Bayes features: the words, then the 3-grams."""
    return [*n.tokens, *("c:" + g for g in char_ngrams(n.flat))]


def _first(scores: list[float]) -> int | None:
    """Where the highest score is (the first of equals); None when every score is 0."""
    best = max(scores, default=0.0)
    return scores.index(best) if best > 0 else None


class Matcher:
    """Ranks topics for a question and decides with cutoffs."""

    def __init__(self, kb: KnowledgeBase, pipeline: TextPipeline,
                 examples: Iterable[tuple[str, str]] | None = None,
                 example_signals: frozenset[str] = frozenset({"words", "chars", "bayes"}),
                 remember: int = MATCH_CACHE):
        """``examples``: (question, topic or the off-topic class) pairs added to the classes'
        bags of the signals named in ``example_signals`` (never to the closest phrasing);
        by default the knowledge base's labelled questions (``knowledge/examples/``).
        ``remember``: how many decisions :meth:`match` keeps (0: none, to time deciding)."""
        classes = [(t.id, (t.title, *t.phrasings), t.keywords) for t in kb.topics]
        if kb.out_of_scope:
            classes.append((OUT_OF_SCOPE, kb.out_of_scope, ()))
        labelled: list[tuple[Normalized, str]]
        known: dict[str, Normalized] = {}
        if examples is None:  # the knowledge base's, normalised once for every process
            questions = [q for q, _ in kb.examples]
            own = [x for _, texts, keywords in classes for x in (*texts, *keywords)]
            norms = normalized_examples(kb, pipeline, questions + own)
            labelled = list(zip(norms[:len(questions)],
                                (OUT_OF_SCOPE if t == OFF_TOPIC_LABEL else t
                                 for _, t in kb.examples), strict=True))
            known = dict(zip(own, norms[len(questions):], strict=True))
        else:
            labelled = [(pipeline.normalize(q), t) for q, t in examples]

        def normalize(text: str) -> Normalized:
            return known[text] if text in known else pipeline.normalize(text)
        self.pipeline = pipeline
        self._order = {t.id: i for i, t in enumerate(kb.topics)}
        self._owner: list[str] = []
        self._normalized: list[Normalized] = []
        self._spaced: list[str] = []
        self._sorted: list[str] = []
        self._flat: list[str] = []
        words: dict[str, list[str]] = {}
        chars: dict[str, list[str]] = {}
        feats: dict[str, list[str]] = {}
        self._order[OUT_OF_SCOPE] = len(self._order)
        for topic_id, texts, keywords in classes:
            w: list[str] = []
            c: list[str] = []
            f: list[str] = []
            for text in texts:
                n = normalize(text)
                if not n.tokens:
                    continue
                f += _features(n)
                self._owner.append(topic_id)
                self._normalized.append(n)
                self._spaced.append(n.spaced)
                self._sorted.append(" ".join(sorted(n.tokens)))
                self._flat.append(n.flat)
                w += n.tokens
                c += char_ngrams(n.flat)
            for k in keywords:
                n = normalize(k)
                w += list(n.tokens) * 2
                c += char_ngrams(n.flat)
                f += _features(n)
            words[topic_id] = w
            chars[topic_id] = c
            feats[topic_id] = f
        # Words the topics use: a question made mostly of other words is about something else.
        self._known = {w for topic_id, w_list in words.items() if topic_id != OUT_OF_SCOPE
                       for w in w_list}
        self._respeller = Respeller(
            (w for topic_id, w_list in words.items() if topic_id != OUT_OF_SCOPE for w in w_list),
            (*(w for w_list in words.values() for w in w_list),
             *(w for n, _ in labelled for w in n.tokens)))
        for n, topic_id in labelled:
            if topic_id not in words or not n.tokens:
                continue
            if "words" in example_signals:
                words[topic_id] += n.tokens
            if "chars" in example_signals:
                chars[topic_id] += char_ngrams(n.flat)
            if "bayes" in example_signals:
                feats[topic_id] += _features(n)
            if "near" in example_signals:  # the closest way of asking, and near-verbatim
                self._owner.append(topic_id)
                self._normalized.append(n)
                self._spaced.append(n.spaced)
                self._sorted.append(" ".join(sorted(n.tokens)))
                self._flat.append(n.flat)
        self._words = TfIdf(words)
        self._length_order = sorted(range(len(self._sorted)), key=lambda i: len(self._sorted[i]))
        self._alphabet = Alphabet(self._sorted)  # the fuzzy scan's one-byte characters
        self._by_length = [self._alphabet.rename(self._sorted[i]) for i in self._length_order]
        self._lengths = [len(s) for s in self._by_length]
        # One document per phrasing: the single closest way of asking, not the topic's whole bag.
        self._near = TfIdf({str(i): list(n.tokens) for i, n in enumerate(self._normalized)})
        # The phrasings grouped by their class, for the best of each group in one reduceat.
        owners = np.array([self._order[o] for o in self._owner], dtype=np.intp)
        self._near_order = np.argsort(owners, kind="stable")
        grouped = owners[self._near_order]
        self._near_starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        self._near_groups = grouped[self._near_starts]
        self._chars = TfIdf(chars)
        self._bayes = NaiveBayes(feats)
        # The 3-grams' rows by the 3-gram itself: a question's are looked up without their
        # "c:" (see ``_features``).
        self._gram_rows = {f[2:]: r for f, r in self._bayes.rows.items() if f.startswith("c:")}
        # The status topics speak of e-LAAS only: a question naming another system (GFMIS,
        # e-GP) and not e-LAAS is not answered with e-LAAS's state.
        self._other_systems = tuple(
            f for f in (pipeline.normalize(s).flat for s in kb.other_systems) if f)
        self._elaas = pipeline.normalize("e-laas").flat
        # The topics' keywords by their first three characters: a question can only hold a
        # keyword whose first three are one of its own 3-grams (two-character ones, under
        # themselves, are looked for in every question).
        self._keywords: dict[str, list[tuple[str, str]]] = {}
        for t in kb.topics:
            for k in (pipeline.normalize(k).flat for k in t.keywords):
                if len(k) > 1:
                    self._keywords.setdefault(k[:3], []).append((k, t.id))
        self._short_keywords = [kt for kts in self._keywords.values() for kt in kts
                                if len(kt[0]) == 2]

        self._topics = [t.id for t in kb.topics]
        # Every signal is a list with one score per class: the topics in order, then the
        # off-topic class (0 everywhere when the knowledge base has no off-topic phrasings).
        self._oos = len(self._topics)
        # Per topic: a manual guide (out of the running when the bot is named), a bot topic, a
        # form.
        self._kinds = [(t, t.startswith(WORK_PREFIXES) and t != BOT_EXEMPT,
                        t.startswith(BOT_PREFIX), t.startswith(FORM_PREFIX))
                       for t in self._topics]
        # Every feature has a weight here (0 when the fit left it out).
        self._weights = dict.fromkeys((*TOPIC_FEATURES, *OOS_FEATURES, MASKED), 0.0)
        self._weights.update(weights.WEIGHTS)
        self._bias = {t: weights.WEIGHTS.get("bias:" + t, 0.0) for t in self._topics}
        self._bias[OUT_OF_SCOPE] = 0.0
        # A decision depends on the question alone (the indexes never change once built):
        # everyday questions come back all day, and one message may be matched several times
        # (the forms follow-up, the answer, the second part).
        self._decided = functools.lru_cache(maxsize=remember)(self._decide)

    @property
    def size(self) -> int:
        """How many phrasings (titles included) are indexed."""
        return len(self._owner)

    def _names_other_system(self, q: Normalized) -> bool:
        flat = q.flat
        return self._elaas not in flat and any(name in flat for name in self._other_systems)

    def coverage(self, q: Normalized) -> float:
        """The share of the question's words (IDF-weighted) that the topics use."""
        idf, default = self._words.idf, self._words.default_idf
        total = known = 0.0
        for t in q.tokens:
            w = idf.get(t, default)
            total += w
            if t in self._known:
                known += w
        return known / total if total else 0.0

    def _fuzzy(self, q: Normalized, leave_out: bool = False) -> dict[str, float]:
        best: dict[str, float] = {}
        # token_sort_ratio is ratio on sorted tokens: the phrasings are sorted once, at build,
        # and renamed into one-byte characters. Only a near-verbatim phrasing matters here.
        query = " ".join(sorted(q.tokens))
        # ratio >= cutoff needs lengths within a factor (2 - c) / c of each other (c = cutoff as
        # a share): only that band of the phrasings, kept sorted by length, is scanned.
        share = FUZZY_CUTOFF / 100
        lo = bisect.bisect_left(self._lengths, math.ceil(len(query) * share / (2 - share)))
        hi = bisect.bisect_right(self._lengths, math.floor(len(query) * (2 - share) / share))
        hits = process.extract(self._alphabet.rename(query), self._by_length[lo:hi],
                               scorer=fuzz.ratio, limit=SHORTLIST, score_cutoff=FUZZY_CUTOFF)
        for _, _, pos in hits:
            idx = self._length_order[lo + pos]
            if leave_out and self._flat[idx] == q.flat:
                continue
            score = (fuzz.token_set_ratio(q.spaced, self._spaced[idx])
                     + fuzz.ratio(q.flat, self._flat[idx])) / 2
            owner = self._owner[idx]
            if score > best.get(owner, 0.0):
                best[owner] = score
        return best

    def _classwise(self, scores: list[float]) -> list[float]:
        """An index's scores padded to one per class (an index has no off-topic document when
        the knowledge base has no off-topic phrasings)."""
        return scores + [0.0] * (self._oos + 1 - len(scores))

    def _closest(self, q: Normalized, leave_out: bool) -> list[float]:
        """Per class, the cosine of its closest phrasing (``leave_out``: not the question's
        own)."""
        cosines = self._near.cosine(list(q.tokens), NEAR_MAX_POSTINGS)
        if leave_out:
            cosines[[i for i, flat in enumerate(self._flat) if flat == q.flat]] = 0.0
        best = np.zeros(self._oos + 1)
        best[self._near_groups] = np.maximum.reduceat(cosines[self._near_order], self._near_starts)
        return best.tolist()

    def features(self, q: Normalized, raw: str = "", leave_out: bool = False,
                 verbatim: dict[str, float] | None = None) -> dict[str, Features]:
        """Per candidate (every topic, then the off-topic class), its non-zero features.

        ``leave_out``: the question is one of the phrasings (``kb check``): the closest-phrasing
        and fuzzy signals ignore phrasings identical to it, so a misfiled phrasing cannot vote
        for itself.
        """
        words = self._classwise(self._words.cosine(list(q.tokens)).tolist())
        grams = char_ngrams(q.flat)
        chars = self._classwise(self._chars.cosine(grams).tolist())
        rows, gram_rows = self._bayes.rows, self._gram_rows
        bayes = self._classwise(self._bayes.posterior(  # the rows of _features(q)
            [r for f in q.tokens if (r := rows.get(f)) is not None]
            + [r for g in grams if (r := gram_rows.get(g)) is not None]))
        near = self._closest(q, leave_out)
        fuzzy = self._fuzzy(q, leave_out) if verbatim is None else verbatim
        flat = q.flat  # a property: joined once, not once per keyword
        toks = set(q.tokens)
        howto = bool(toks & HOWTO_CUES) and not toks & REQUEST_CUES
        request = bool(toks & REQUEST_CUES)
        keywords = self._keywords.get
        keyed = {t for g in grams for k, t in keywords(g, ()) if k in flat}
        keyed.update(t for k, t in self._short_keywords if k in flat)
        no_look = not any(w in flat for w in LOOK_CUES)
        bot = BOT_WORD in flat
        oos = self._oos
        tw, tc = _first(words[:oos]), _first(chars[:oos])
        ranked_near = sorted([v for v in near[:oos] if v], reverse=True)
        out: dict[str, Features] = {}
        # The topic the plain signals put first (their sum): the off-topic frames depend on it.
        first, first_sum = None, -1.0
        best_near = ranked_near[0] if ranked_near else 0.0
        second_near = ranked_near[1] if len(ranked_near) > 1 else best_near
        # The topics (the signals' lists have the off-topic class last, left out here).
        for i, (t, work, bot_topic, form), v_words, v_chars, v_bayes, v in zip(
                range(oos), self._kinds, words, chars, bayes, near, strict=False):
            f: Features = {}
            plain = 0.0
            if v_words:
                f["words"] = v_words
                plain += v_words
            if tw == i:
                f["words_top"] = 1.0
            if v_chars:
                f["chars"] = v_chars
                plain += v_chars
            if tc == i:
                f["chars_top"] = 1.0
            if v_bayes:
                f["bayes"] = v_bayes
                plain += v_bayes
            if v:
                f["near"] = v
                plain += v
                f["near_lead"] = v - (second_near if v == best_near else best_near)
            if plain > first_sum:
                first, first_sum = t, plain
            if t in fuzzy:
                f["fuzzy"] = fuzzy[t] / 100
            if t in keyed:
                f["keyword"] = 1.0
            if bot:
                # Naming the bot asks how to do something in the bot, not how to do the work
                # by hand: of the 263 labelled questions naming it, none is about the work.
                if work:
                    f[MASKED] = 1.0
                elif bot_topic:
                    f["bot_topic"] = 1.0
            if form and t != CATALOG:  # a form's name in a how-to question asks about the work
                if howto:
                    f["howto_form"] = 1.0
                elif t not in keyed and not request:
                    f["bare_form"] = 1.0
            out[t] = f
        if no_look and TODAY_LIST in out:
            out[TODAY_LIST]["today_no_look"] = 1.0
        # The off-topic class. Its phrasings are too varied to add up as one bag: one of them
        # being clearly closer than any topic's closest phrasing is a sign of its own.
        closest_topic = ranked_near[0] if ranked_near else 0.0
        oos_near = near[oos]
        elaas = self._elaas in flat and not any(n in flat for n in self._other_systems)
        o: Features = {"oos_bias": 1.0, "oos_near_lead": oos_near - closest_topic,
                       "oos_uncovered": 1.0 - min(1.0, self.coverage(q) / COVERAGE_FULL)}
        for name, sig in (("oos_words", words), ("oos_chars", chars), ("oos_bayes", bayes),
                          ("oos_near", near)):
            if sig[oos]:
                o[name] = sig[oos]
        if OUT_OF_SCOPE in fuzzy:
            o["oos_fuzzy"] = fuzzy[OUT_OF_SCOPE] / 100
        if oos_near - closest_topic > OOS_NEAR_MARGIN and not elaas:
            o["oos_near_flag"] = 1.0
        # A question naming e-LAAS is never off-topic: of the labelled questions, 443 named it
        # (and no other system), none off-topic ("อีลาสล่มอีกแล้วเหรอ" is close to the example
        # "e-gp ล่มอีกแล้วเหรอ"); "อีลาสกับ gfmis ล่มทั้งคู่ไหม" asks about e-LAAS too.
        if self._elaas in flat:
            o[MASKED] = 1.0
        if first is not None:
            if off_topic_frame(q, raw or q.spaced, first):
                o["oos_frame"] = 1.0
            if first.startswith(STATUS_PREFIX) and self._names_other_system(q):
                o["oos_other_system"] = 1.0
        out[OUT_OF_SCOPE] = o
        return out

    def _probabilities(self, feats: dict[str, Features]) -> dict[str, float]:
        w = self._weights.__getitem__
        bias = self._bias
        # Each candidate's features times their weights, added in the features' order.
        logits = {c: sum(map(operator.mul, map(w, f), f.values())) + bias[c]
                  for c, f in feats.items() if MASKED not in f}
        top = max(logits.values())
        exp = list(map(math.exp, [v - top for v in logits.values()]))
        z = sum(exp)
        return {c: v / z for c, v in zip(logits, exp, strict=True)}

    def rank(self, question: str | Normalized, *, leave_out: bool = False) -> list[Scored]:
        """Every candidate, best first (the off-topic class included); scores in percent.

        ``leave_out``: the question is one of the phrasings (``kb check``), see ``features``.
        """
        q = self.pipeline.normalize(question) if isinstance(question, str) else question
        raw = question if isinstance(question, str) else q.spaced
        return self._rank(q, raw, leave_out)

    def _rank(self, q: Normalized, raw: str, leave_out: bool = False,
              verbatim: dict[str, float] | None = None) -> list[Scored]:
        return self._ranked(self.features(q, raw, leave_out, verbatim)) if q.tokens else []

    def _ranked(self, feats: dict[str, Features], limit: int = 0) -> list[Scored]:
        """Candidates best first; with ``limit``, only that many topics (and the off-topic
        class where it stands)."""
        probs = self._probabilities(feats)
        # Ties keep the candidates' order (the topics', then the off-topic class): a stable sort.
        ranked = sorted(probs.items(), key=operator.itemgetter(1), reverse=True)
        if limit:
            ranked = [kv for kv in ranked if kv[0] == OUT_OF_SCOPE or (limit := limit - 1) >= 0]
        return [Scored(t, round(100 * p, 1)) for t, p in ranked]

    def match(self, question: str | Normalized) -> MatchResult:
        """Answer, suggest or give up, by the learned probability cutoffs; a question left
        unanswered is read once more with its slips of one letter respelled (bot/qa/spelling).
        The last ``MATCH_CACHE`` decisions are remembered."""
        q = self.pipeline.normalize(question) if isinstance(question, str) else question
        return self._decided(q, question if isinstance(question, str) else q.spaced)

    def _decide(self, q: Normalized, raw: str) -> MatchResult:
        result = self._match(q, raw)
        return result if result.outcome == "answer" else self._respelled(q, result)

    def _respelled(self, q: Normalized, plain: MatchResult) -> MatchResult:
        """The answer to ``q`` with its unknown words respelled, or ``plain``."""
        tokens = self._respeller.respelled(q.tokens)
        again = self._match(Normalized(tokens), " ".join(tokens)) if tokens else plain
        return again if again.outcome == "answer" else plain

    def _match(self, q: Normalized, raw: str) -> MatchResult:
        if not q.tokens:
            return MatchResult("none", ())
        verbatim = self._fuzzy(q)
        feats = self.features(q, raw, verbatim=verbatim)
        every = self._ranked(feats, limit=4)
        ranked = tuple(s for s in every if s.topic != OUT_OF_SCOPE)
        if not ranked:
            return MatchResult("none", ())
        near = max(verbatim.items(), key=lambda kv: kv[1], default=("", 0.0))
        if near[1] >= VERBATIM and near[0] == OUT_OF_SCOPE:
            return MatchResult("none", ranked[:3], off_topic=True)
        if near[1] >= VERBATIM:  # (almost) exactly a known phrasing: that topic, first
            ranked = (Scored(near[0], max(near[1], ranked[0].score)),
                      *(s for s in ranked if s.topic != near[0]))
            return MatchResult("answer", ranked[:4])
        # Someone's pay, a career, another organisation (bot/qa/offtopic.py): 121 labelled
        # questions in these frames were off-topic, 2 not. The status of another system: 22, 0.
        if OFF_TOPIC_RULES & feats[OUT_OF_SCOPE].keys():
            return MatchResult("none", ranked[:3], off_topic=True)
        return decide(every)


def decide(every: list[Scored]) -> MatchResult:
    """The outcome from the ranked candidates' probabilities (percent): the top topic answered
    when it is likely enough and the off-topic class unlikely enough; else the top three
    suggested, or nothing (off-topic when that class is the first or too likely)."""
    ranked = tuple(s for s in every if s.topic != OUT_OF_SCOPE)
    if not ranked:
        return MatchResult("none", ())
    oos = next((s.score for s in every if s.topic == OUT_OF_SCOPE), 0.0) / 100
    if every[0].topic == OUT_OF_SCOPE:
        return MatchResult("none", ranked[:3], off_topic=True)
    top = ranked[0].score / 100
    if top >= weights.ANSWER_P and oos <= weights.OOS_P:
        return MatchResult("answer", ranked[:4])
    # Not answered, but a topic likely enough is offered as a choice ("did you mean"), even
    # when the off-topic class is likely too: the fitted cutoffs answer nearly everything else.
    if top >= weights.SUGGEST_P:
        return MatchResult("suggest", ranked[:3])
    return MatchResult("none", ranked[:3], off_topic=oos > weights.OOS_P)
