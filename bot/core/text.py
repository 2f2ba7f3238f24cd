"""Thai text pipeline: one normalisation for knowledge phrasings and user questions alike.

Just over 500 lines, for a reason: every cleaning rule (digits, particles, spelling folds,
tokens, the bare form of a short answer) lives here once, so the matcher, the steps and the
button picks read text the same way.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pythainlp import (
    thai_above_vowels,
    thai_below_vowels,
    thai_consonants,
    thai_follow_vowels,
    thai_lead_vowels,
    thai_tonemarks,
    thai_vowels,
)
from pythainlp.corpus import thai_words
from pythainlp.tokenize.newmm import segment
from pythainlp.util.trie import Trie
from rapidfuzz import process
from rapidfuzz.distance import OSA

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Anything that is not Thai, Latin, a digit or a few joiners becomes a space (emoji, symbols).
_JUNK = re.compile(r"[^\u0e00-\u0e7fA-Za-z0-9./\-ๆ ]+")
_SPACES = re.compile(r"\s+")
# Invisible format characters that keyboards and copy-paste leave in a message: zero-width
# space, non-joiner and joiner, direction marks and embeddings, word joiner and invisible
# operators, BOM, soft hyphen, Mongolian vowel separator. Removed, never read as a space:
# "1,5\u200b00" is 1,500 and "ค่า\u200bขยะ" is ค่าขยะ.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def visible(text: str) -> str:
    """``text`` without invisible characters: the one place both the questions and the quick
    entries (and the knowledge side) drop them."""
    return _INVISIBLE.sub("", text)


# English contractions, with or without the apostrophe (clerks type "dont", "doesnt"): the
# negation is a word of its own ("don't forget" is "ไม่ลืม"), the rest are frames ("it's").
# "can't", "won't" and "cannot" keep their verb; the bare "n't" is cut from the others.
_NEGATIONS = re.compile(
    r"\b(?:(can)(?:['\u2019]?t|not)|(wo)n['\u2019]?t|(ca)n['\u2019]t"
    r"|(do|does|did|is|are|was|were|could|would|should|have|has|had|must|need)n['\u2019]?t)\b",
    re.IGNORECASE)
_CLITICS = re.compile(r"(?<=[A-Za-z])['\u2019](?:s|re|ve|ll|d|m)\b", re.IGNORECASE)
# Letters repeated three or more times are emphasis ("ล่มมมม", "อะไรรร"): keep one. Not when a
# vowel or tone mark follows: the last letter then starts the next word (ระบบ|บัญชี, รูปแบบ|บัญชี).
_REPEAT = re.compile(r"([\u0e01-\u0e2eA-Za-z])\1{2,}(?![\u0e30-\u0e3a\u0e47-\u0e4e])")
# Entries of pythainlp's word list that split common sequences wrongly on a tie (แล้|วจะ for
# แล้ว|จะ, ก่อ|นคะ for ก่อน|คะ, บอ|ทว่า for บอท|ว่า): rare or not words at all.
NOT_WORDS = frozenset("แล้ วจะ นคะ นค่ะ วค่ะ วคะ ไห บอ ทว่า แอ ถู ปจด".split())
# Words clerks type that the list lacks.
MORE_WORDS = frozenset("แอป แอพ บอท อัปเดต อัพเดท อัพเดต เซิร์ฟเวอร์ เซิฟเวอร์ สเปรดชีต แหน่".split())
# Polite particles and fillers carry no meaning for matching.
PARTICLES = frozenset(
    "ครับ คับ ครัช ค่ะ คะ ค่า คร้า ค้า ขา นะ น้า นะคะ นะครับ จ้า จ้ะ จ๊ะ ฮะ ฮับ อะ อ่ะ เนอะ "
    "หน่อย ที ทีครับ ทีค่ะ จ้ะ เลย ๆ".split()
    # Regional and casual endings (Isan, northern, southern; chat spellings), and the "พี่" a
    # clerk addresses the bot with: unknown to every topic, they only lowered the coverage.
    # (Not ล่ะ: "แล้วถ้าเป็นเช็คล่ะ" is a follow-up, left to the follow-up rules.)
    + "ครับผม คร้าบ ค้าบ ครัฟ งับ ค๊ะ คร่า จ่ะ นะจ๊ะ เจ้า เจ้าค่ะ เด้อ เด้ เน้อ เนอ เนาะ แหน่ แน "
    "โลด สิ หนา หนอ นอ หนิ นิ วะ ว่ะ อ่า พี่".split()
)

# English function words: dropped like the particles, so that an English question is judged by
# its content words (a question made of "the", "we", "to" is not off-topic, nor on-topic).
ENGLISH_STOP = frozenset(
    "a an the to of in on at for with by from is are was were be been being do does did done i "
    "we you they he she our ours my me us your it its this that these those there here and or but "
    "if so can could would will shall may might have has had get got any all some just still yet "
    "also very please about into than then as up over same right ve ll re d s t m im".split()
)
# English forms clerks write that the synonym list has in another form (paid for pay).
ENGLISH_IRREGULAR = {"paid": "pay", "lost": "lose", "kept": "keep", "sent": "send", "went": "go",
                     "made": "make", "done": "do", "gone": "go", "bought": "buy", "spent": "spend",
                     "written": "write", "wrote": "write", "gave": "give", "given": "give",
                     "forgot": "forget", "forgotten": "forget", "took": "take", "taken": "take",
                     "began": "begin", "begun": "begin", "broke": "break", "froze": "freeze",
                     "frozen": "freeze", "held": "hold", "told": "tell", "found": "find",
                     "left": "leave", "brought": "bring", "sold": "sell", "got": "get"}
# Counts written as words are the digits a Thai question would have ("six months": 6 เดือน).
# Not "one": it stands for a thing as often as for a count ("a new one").
ENGLISH_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero _ two three four five six seven eight nine ten eleven twelve".split()) if w != "_"}
_LATIN_WORD = re.compile(r"[a-z]+")
# A polite opening before the question ("ขอโทษนะคะ", "รบกวนสอบถามหน่อยครับ", "พี่คะ หนู…",
# "ขอบคุณค่ะ แล้ว…"): its words belong to no topic and only dilute the question's score.
_OPENER = re.compile(
    r"^(?:(?:ขอโทษ|ขออภัย|ขอรบกวน|รบกวน|ขอสอบถาม|อยากสอบถาม|สอบถาม|ขอถาม|อยากถาม|ขอบคุณ|สวัสดี"
    r"|พี่|หนู)(?:มาก|ตอนเช้า|หน่อย|นิดนึง|นิดหนึ่ง|ด้วย)*(?:นะ)?"
    r"(?:ครับผม|ครับ|คับ|ค่ะ|คะ|ค่า|จ้า|จ้ะ|เจ้า)?[\s,.!]*)+(?:ถามว่า|ว่า)?\s*")
# A misspelt English word (recieve, payrol, vouncher) is read as the known word one edit away;
# two edits from words of this length or more. Shorter words are left alone (too many near
# neighbours: "sale" is not "safe").
SPELL_MIN = 5
SPELL_TWO_EDITS = 9


# Letters and digits that glue a phrase to its neighbour: no phrase starts or ends next to one.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

_Trie = dict[str, "_Trie"]


class PhraseFinder:
    """Replaces phrases on word boundaries, the longest at each place, left to right.

    Not after a hyphen that joins a variant to a name ("plan" inside "e-plan", another system).
    What a regex of the phrases as a prefix tree, ``(?<![a-z0-9])(?<![a-z0-9]-)(?:pay(?:ment|
    ing)?|...)(?![a-z0-9])``, did with ``sub``, by walking the tree in Python: compiling that
    regex over two thousand variants took 0.15 s of every cold start, and the walk costs about
    as much as the regex per question (tests/test_matching_phrases.py compares the two).
    """

    def __init__(self, phrases: Mapping[str, str]) -> None:
        self._canon = dict(phrases)
        self._trie: _Trie = {}
        for phrase in self._canon:
            node = self._trie
            for ch in phrase:
                node = node.setdefault(ch, {})
            node[""] = {}  # a phrase ends here

    def __bool__(self) -> bool:
        return bool(self._canon)

    def sub(self, text: str) -> str:
        """``text`` with each phrase found replaced by `` canonical ``."""
        trie, glue = self._trie, _WORD_CHARS
        out: list[str] = []
        done = i = 0
        size = len(text)
        while i < size:
            node = trie.get(text[i])
            if node is None or (i and (text[i - 1] in glue or (
                    text[i - 1] == "-" and i > 1 and text[i - 2] in glue))):
                i += 1
                continue
            best = 0
            j = i + 1
            while True:
                # The longest phrase not followed by a letter or digit.
                if "" in node and (j == size or text[j] not in glue):
                    best = j
                if j == size:
                    break
                nxt = node.get(text[j])
                if nxt is None:
                    break
                node = nxt
                j += 1
            if not best:
                i += 1
                continue
            out.append(text[done:i])
            out.append(f" {self._canon[text[i:best]]} ")
            done = i = best
        if not out:
            return text
        out.append(text[done:])
        return "".join(out)


def english_stems(word: str) -> list[str]:
    """Candidate base forms of an English word, most likely first (logged: log, logg, logge)."""
    out = [ENGLISH_IRREGULAR[word]] if word in ENGLISH_IRREGULAR else []
    # Adverbs come back to their adjective: wrongly, manually, temporarily (-ily: -y).
    if word.endswith("ily") and len(word) >= 6:
        out.append(word[:-3] + "y")
    elif word.endswith("ly") and len(word) >= 6:
        out.append(word[:-2])
    for suffix in ("ies", "es", "s", "ed", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix == "ies":
                out.append(base + "y")
                continue
            out.append(base)
            if suffix in ("ed", "ing"):
                out.append(base + "e")  # stored, storing: store
                if len(base) > 3 and base[-1] == base[-2]:
                    out.append(base[:-1])  # logged, logging: log
    return out


@dataclass(frozen=True)
class Normalized:
    """A text after normalisation: ``tokens`` joined by spaces, and ``flat`` without spaces."""

    tokens: tuple[str, ...]

    @property
    def spaced(self) -> str:
        return " ".join(self.tokens)

    @property
    def flat(self) -> str:
        return "".join(self.tokens)


@lru_cache(maxsize=4096)
def clean(text: str) -> str:
    """Character-level clean-up: Unicode NFC, zero-width, Thai digits, junk, case, spaces.

    Cached: one message is cleaned by several readers in turn (the nod, the yes/no words, the
    greetings, the commands, the pipeline), each about 0.03 ms of Thai normalising.
    """
    if not text.isascii():  # the Thai steps change nothing in ASCII and cost the most
        text = unicodedata.normalize("NFC", text)
        text = visible(text).translate(_THAI_DIGITS)
        text = thai_normalize(text)
    if "n" in text or "N" in text or "'" in text or "\u2019" in text:  # skips pure Thai
        text = _CLITICS.sub("", _NEGATIONS.sub(_negation, text))
    text = _JUNK.sub(" ", text).lower()
    text = _REPEAT.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


# pythainlp.util.normalize's rules, compiled once: it passes some 30 patterns to re.sub by
# string on every call (a cache lookup each), 0.1 s over the knowledge base at every cold start.
# Same rules in the same order; tests/test_matching_phrases.py compares the two.
_DANGLING = f"{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}\u0e3a\u0e4c\u0e4d\u0e4e"
_TH_NEWLINES = re.compile("[ \n]*\n[ \n]*")
_TH_SPACE_BEFORE_MARK = re.compile(
    f"([{thai_consonants}])(?<![{thai_vowels}][{thai_consonants}]) ([{_DANGLING}])")
_TH_REORDER = tuple((re.compile(pattern), repl) for pattern, repl in (
    ("\u0e40\u0e40", "\u0e41"),
    (f"([{thai_tonemarks}\u0e4c]+)([{thai_above_vowels}{thai_below_vowels}]+)", "\\2\\1"),
    (f"\u0e4d([{thai_tonemarks}]*)\u0e32", "\\1\u0e33"),
    (f"([{thai_follow_vowels}]+)([{thai_tonemarks}]+)", "\\2\\1"),
    ("([^\u0e24\u0e26])\u0e45", "\\1\u0e32"),
))
# A repeated vowel or sign ("ดีีี"): only a character found twice can repeat.
_TH_NOREPEAT = tuple((ch, re.compile(f"({ch}[ ]*)+{ch}")) for ch in (
    f"{thai_follow_vowels}{thai_lead_vowels}{thai_above_vowels}{thai_below_vowels}"
    "\u0e3a\u0e4c\u0e4d\u0e4e"))
_TH_TONEMARKS = re.compile(f"[{thai_tonemarks}]+")
_TH_DANGLING_START = re.compile(f"^[{_DANGLING}]+")
_TH_DANGLING_AFTER_SPACE = re.compile(f" +[{_DANGLING}]+")


def thai_normalize(text: str) -> str:
    """What ``pythainlp.util.normalize`` returns, with its patterns compiled once."""
    text = visible(text)
    while "  " in text:
        text = text.replace("  ", " ")
    if "\n" in text:
        text = _TH_NEWLINES.sub("\n", text)
    text = text.strip()
    if " " in text:
        text = _TH_SPACE_BEFORE_MARK.sub(r"\1\2", text)
    for pattern, repl in _TH_REORDER:
        text = pattern.sub(repl, text)
    for ch, pattern in _TH_NOREPEAT:
        if text.count(ch) > 1:
            text = pattern.sub(ch, text)
    text = _TH_TONEMARKS.sub(_last_char, text)
    text = _TH_DANGLING_START.sub("", text)
    return _TH_DANGLING_AFTER_SPACE.sub(" ", text)


def _last_char(m: re.Match[str]) -> str:
    return m.group(0)[-1]


def _negation(m: re.Match[str]) -> str:
    verb = next(g for g in m.groups() if g)
    return {"wo": "will", "ca": "can"}.get(verb.lower(), verb) + " not"


@lru_cache(maxsize=4096)
def command_text(text: str) -> str:
    """A light clean-up for commands and their arguments (join codes, numbers, dates).

    Unlike :func:`clean` it keeps punctuation and repeated letters, which a join code such as
    ``KKK2M3PQ`` needs; it only unifies Unicode, drops zero-width characters, turns Thai
    digits into Arabic ones and collapses white space. Cached like :func:`clean`: the list
    number, the command and the entry readers each ask for it.
    """
    text = visible(unicodedata.normalize("NFC", text)).translate(_THAI_DIGITS)
    return _SPACES.sub(" ", text).strip()


CONTINUES_LIMIT = 200_000  # pieces whose answer WordDict keeps (a few MB)


class WordDict(Trie):
    """The tokenizer's dictionary as a hash set and a sorted list instead of pythainlp's trie.

    Same ``prefixes`` answers (newmm's only query), built several times faster with a fraction
    of the memory: the 62,000-word trie took about 0.5 s of every cold start and 60 MB, a set of
    every word's prefixes still 0.2 s; sorting the words takes 0.04 s.
    """

    def __init__(self, words: Iterable[str]) -> None:  # no super(): no node trie to build
        self._words = {w.strip() for w in words} - {""}
        # A piece is a proper prefix of some word when the first word sorted after it starts
        # with it: a walk stops as soon as no word can continue.
        self._sorted = sorted(self._words)
        # Answers of that search, by piece: the same pieces come back word after word.
        self._continues: dict[str, bool] = {}

    def add(self, word: str) -> None:
        word = word.strip()
        if word and word not in self._words:
            self._words.add(word)
            bisect.insort(self._sorted, word)
            self._continues.clear()  # its prefixes may have been answered "no word continues"

    def remove(self, word: str) -> None:
        # Left in the sorted list: its prefixes may be other words' prefixes (harmless).
        self._words.discard(word)

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        """The words of the dictionary that ``text`` has at ``start``, shortest first."""
        found = []
        words, continues = self._words, self._continues
        if len(continues) > CONTINUES_LIMIT:  # a long-running server meets new text forever
            continues.clear()
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            if piece in words:
                found.append(piece)
            more = continues.get(piece)
            if more is None:
                ordered = self._sorted
                after = bisect.bisect_right(ordered, piece)
                more = continues[piece] = (after < len(ordered)
                                           and ordered[after].startswith(piece))
            if not more:
                break
        return found

    def __contains__(self, key: str) -> bool:
        return key in self._words

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


class TextPipeline:
    """Normalise, tokenise (newmm with domain words) and fold synonyms.

    Args:
        synonyms: canonical word -> variants. Variants of several words or with Latin letters
            are replaced in the cleaned text before tokenising; single-word variants are folded
            token by token (so ``ดับ`` inside ``ระดับ`` is left alone).
        extra_words: domain words added to the tokeniser's dictionary.
        stop_words: more English words dropped like the particles (question frames, fillers).
        plain_words: real English words, never corrected into a known word one letter away
            ("ready" is not "read", "stuff" is not "staff").
    """

    def __init__(self, synonyms: Mapping[str, Iterable[str]], extra_words: Iterable[str] = (),
                 stop_words: Iterable[str] = (), plain_words: Iterable[str] = ()):
        token_map: dict[str, str] = {}
        phrase_map: dict[str, str] = {}
        words = set(extra_words)
        for canonical, variants in synonyms.items():
            canon = clean(canonical)
            if " " not in canon:  # "ช่วง ขัดข้อง" stands for two words, not a new one
                words.add(canon)
            for v in variants:
                cv = clean(str(v))
                if not cv or cv == canon:
                    continue
                if " " in cv or re.search(r"[a-z0-9.\-]", cv):
                    phrase_map[cv] = canon
                else:
                    token_map[cv] = canon
                    words.add(cv)
        self._token_map = token_map
        # Longest first so "new e-laas" wins over "e-laas"; Latin variants on word boundaries.
        self._phrases = PhraseFinder(phrase_map)
        # Multi-word variants as written, looked for before words are brought to base forms:
        # "supporting documents" is a phrase even though "supporting" alone is "support".
        self._multi = PhraseFinder({p: c for p, c in phrase_map.items() if " " in p})
        # Single English words the synonyms know: an inflected form (entered, deposits) is
        # brought back to one of them so one variant covers every form.
        self._latin_known = {w for w in phrase_map if " " not in w and w.isalpha()}
        self._latin_known |= {clean(c) for c in synonyms if clean(c).isalpha()
                              and clean(c).isascii()}
        # Words of multi-word variants too, so "keyed in" is brought back to "key in".
        self._latin_parts = {w for p in phrase_map for w in p.split() if w.isalpha()}
        self._stop = ENGLISH_STOP | {clean(w) for w in stop_words}
        self._plain = frozenset(clean(w) for w in plain_words)
        self._spell_targets = sorted(
            w for w in self._latin_known | self._stop if w.isascii() and len(w) >= SPELL_MIN - 1)
        # Words with a space inside ("ดี ๆ ชั่ว ๆ") are left out: a space always ends a token,
        # so the text can be tokenised chunk by chunk.
        dictionary = {w for w in thai_words() if " " not in w} - NOT_WORDS | MORE_WORDS
        dictionary |= {w for w in words if w and " " not in w}
        self._trie = WordDict(dictionary)
        self._split_variants = self._variants_split_by_tokenizer()

    def _variants_split_by_tokenizer(self) -> dict[tuple[str, ...], str]:
        """Variants the tokenizer still splits (compounds): fold them as token sequences."""
        out: dict[tuple[str, ...], str] = {}
        for v, canon in self._token_map.items():
            toks = tuple(self._tokenize(v))
            if len(toks) > 1:
                out[toks] = canon
        return out

    def _tokenize(self, text: str) -> list[str]:
        """newmm over our dictionary, chunk by chunk between spaces (no word spans one)."""
        out: list[str] = []
        for chunk in text.split():
            out.extend(self._segment(chunk))
        return out

    @lru_cache(maxsize=16384)  # noqa: B019 - one pipeline lives as long as the process
    def _segment(self, chunk: str) -> tuple[str, ...]:
        """One chunk's tokens: the same chunks come back question after question (half the
        cost of normalising the labelled examples). Not Tokenizer: it would rebuild the trie."""
        return tuple(t for t in segment(chunk, custom_dict=self._trie) if t.strip())

    def warm_up(self) -> None:
        """Load the tokenizer's dictionary now rather than on the first user message."""
        self.normalize("ระบบขัดข้องรับเงินอย่างไร")

    def normalize(self, text: str) -> Normalized:
        """The normalised form of ``text`` (cached: the same question is normalised once)."""
        return self._normalize_cached(text[:2000])

    @lru_cache(maxsize=4096)  # noqa: B019 - one pipeline lives as long as the process
    def _normalize_cached(self, text: str) -> Normalized:
        cleaned = clean(text)
        rest = _OPENER.sub("", cleaned)
        if len(rest) >= 3:  # "สวัสดีค่ะ", "ขอบคุณครับ" alone stay what they are
            cleaned = rest
        if self._multi and _LATIN_WORD.search(cleaned):  # only Latin is stemmed
            cleaned = self._multi.sub(cleaned)
        cleaned = _LATIN_WORD.sub(self._english_base, cleaned)
        if self._phrases:  # then phrases in other forms: "keyed in" as "key in"
            cleaned = self._phrases.sub(cleaned)
        tokens: list[str] = []
        for tok in self._tokenize(cleaned):
            tok = tok.strip()
            if not tok or tok in PARTICLES or tok in self._stop or tok in {".", "-", "/"}:
                continue
            tokens.append(self._token_map.get(tok, tok))
        return Normalized(tuple(self._fold_sequences(tokens)))

    def _english_base(self, m: re.Match[str]) -> str:
        return self._english_word(m.group(0))

    @lru_cache(maxsize=8192)  # noqa: B019 - one pipeline lives as long as the process
    def _english_word(self, word: str) -> str:
        """The known form of an English word: itself, its base form, or a misspelling fixed."""
        known, parts = self._latin_known, self._latin_parts
        if word in known or word in self._stop:
            return word
        if word in ENGLISH_NUMBERS:
            return ENGLISH_NUMBERS[word]
        stems = english_stems(word)
        # A base form that is a variant of its own beats the word as part of a phrase.
        base = next((b for b in stems if b in known), None)
        if base is None and word not in parts:
            base = next((b for b in stems if b in parts), None)
        if base is not None or word in parts:
            return base or word
        if len(word) < SPELL_MIN or word in self._plain or any(s in self._plain for s in stems):
            return word
        limit = 2 if len(word) >= SPELL_TWO_EDITS else 1
        # Same first letter: misspellings keep it, and it keeps "salad" away from "salary".
        # OSA distance: a swapped pair of letters (recieve) is one edit.
        hit = process.extractOne(word, [w for w in self._spell_targets if w[0] == word[0]],
                                 scorer=OSA.distance, score_cutoff=limit)
        if hit is None:
            return word
        return self._english_word(hit[0]) if hit[0] != word else word

    def _fold_sequences(self, tokens: list[str]) -> list[str]:
        if not self._split_variants:
            return tokens
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for seq, canon in self._split_variants.items():
                if tuple(tokens[i : i + len(seq)]) == seq:
                    out.append(canon)
                    i += len(seq)
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


# Polite endings an answer may carry ("เลย" stays: "ยกเลิกเลย" is not "ยกเลิก").
_POLITE_TAIL = re.compile("(?:" + "|".join(sorted(
    map(re.escape, PARTICLES - {"เลย", "หน่อย", "ที", "ๆ", "สิ", "พี่"}),
    key=len, reverse=True)) + ")+$")


@lru_cache(maxsize=4096)
def bare_text(text: str) -> str:
    """``text`` cleaned, without spaces and polite endings ("ได้ ครับ" -> "ได้").

    Cached: every short message is compared with each label just offered, the same few dozen
    labels all day.
    """
    word = clean(text).replace(" ", "")
    return _POLITE_TAIL.sub("", word) or word
