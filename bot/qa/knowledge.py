"""Load and validate knowledge/: topics, sources, synonyms; problems as file:line.

Just over 500 lines, for a reason: the topic schema's loading and its file:line checks are
read together (each field is loaded and checked in the same place)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.core.yamlload import DataError, decode_yaml, line_of, load_yaml
from bot.qa.labelled import read_examples
from bot.qa.schema import TopicSpec, words

MAX_ANSWER = 1000
MAX_FIRST = 400  # the first message of an answer: one phone screen
MAX_TITLE = 20
MIN_PHRASINGS = 6
STATUS_FIELDS = frozenset({"state", "since", "expected", "message", "ref", "updated",
                           "official", "signals"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# The year after a regulation's name, within the same line: "... ของ อปท. พ.ศ. 2547".
# Up to the end of the line or the next regulation's name (whose year may be confirmed).
_YEAR = re.compile(r"(?:(?!ระเบียบ)[^\n]){0,160}?(พ\.ศ\.\s*[0-9๐-๙]{4}|ฉบับ(?:ปี)?\s*[0-9๐-๙]{4})")
_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_\-]+)*$")


@dataclass(frozen=True)
class Problem:
    """One problem in the data, printed as ``file:line: topic: message``."""

    file: str
    line: int
    topic: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.topic}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A letter or regulation an answer rests on."""

    id: str
    title: str
    certainty: str
    short: str = ""
    # "see-also": background reading, never shown as "ที่มา" of a practice answer;
    # "practice": general practice (marks an answer as a practice answer); "" otherwise.
    role: str = ""
    # A regulation whose year is not confirmed: ``match`` finds its name in texts, which
    # then must not carry a year (พ.ศ.) until an operator sets ``year_confirmed: true``.
    match: str = ""
    year_confirmed: bool = True

    @property
    def label(self) -> str:
        """The short citation shown under answers (the full title when none is given)."""
        return self.short or self.title


@dataclass(frozen=True)
class Topic:
    """One question the bot can answer, with the ways clerks ask it."""

    id: str
    title: str
    phrasings: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    related: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    reviewed: date | None = None
    file: str = ""
    line: int = 0
    phrasing_lines: tuple[int, ...] = field(default=(), compare=False)
    short: str = ""
    see_also: tuple[str, ...] = ()
    manual: bool = False  # a manual-procedure answer: headed by a note once e-LAAS works
    latest_ref: bool = False  # about letters: headed by the letter the operators cite now
    command: str = ""  # the command showing the clerk's own data this topic asks about
    command_line: int = field(default=0, compare=False)

    @property
    def is_status(self) -> bool:
        return self.id.startswith("status.")

    @cached_property
    def first(self) -> str:
        """The first message: ``short``, else the whole answer when it fits one screen,
        else its first paragraph (an automatic split at the first blank line, or at a line
        break when that paragraph is too long)."""
        if self.short:
            return self.short
        if len(self.answer) <= MAX_FIRST:
            return self.answer
        para = self.answer.split("\n\n", 1)[0].strip()
        if len(para) <= MAX_FIRST:
            return para
        # A long first paragraph (a list): as many whole lines as fit; kb check still
        # fails when even the first line is longer than the limit.
        lines = para.split("\n")
        out = lines[0]
        for line in lines[1:]:
            if len(out) + 1 + len(line) > MAX_FIRST:
                break
            out += "\n" + line
        return out

    @cached_property
    def has_more(self) -> bool:
        """Whether the full answer says more than the first message."""
        return self.first.strip() != self.answer.strip()


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything under knowledge/ the matcher and the answers need."""

    topics: tuple[Topic, ...]
    sources: dict[str, Source]
    synonyms: dict[str, tuple[str, ...]]
    root: Path
    out_of_scope: tuple[str, ...] = ()
    other_systems: tuple[str, ...] = ()  # names of systems that are not e-LAAS (outofscope.yaml)
    english_stop: tuple[str, ...] = ()  # English words without meaning for matching (english.yaml)
    english_plain: tuple[str, ...] = ()  # real English words: never read as a misspelling
    # Labelled clerk questions (examples/*.tsv): (question, topic id or "none" for off-topic).
    examples: tuple[tuple[str, str], ...] = ()

    @cached_property
    def _by_id(self) -> dict[str, Topic]:
        # A frozen instance: built once (answers look topics up several times per event);
        # the first of a repeated id wins, as a scan would.
        by_id: dict[str, Topic] = {}
        for t in self.topics:
            by_id.setdefault(t.id, t)
        return by_id

    def topic(self, topic_id: str) -> Topic:
        """The topic with this id (KeyError if none)."""
        return self._by_id[topic_id]

    def has(self, topic_id: str) -> bool:
        return topic_id in self._by_id

    @property
    def ids(self) -> set[str]:
        return {t.id for t in self.topics}


def default_knowledge_dir() -> Path:
    """``knowledge/`` next to the packages (repository checkout or editable install)."""
    return Path(__file__).resolve().parents[2] / "knowledge"


def _as_str_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _read_topics(root: Path, problems: list[Problem]) -> list[Topic]:
    topics: list[Topic] = []
    files = sorted((root / "topics").glob("*.yaml"))
    if not files:
        problems.append(Problem(_rel(root / "topics", root), 1, "-", "no topic files"))
    for path in files:
        name = _rel(path, root)
        data = load_yaml(path)
        if not isinstance(data, list):
            problems.append(Problem(name, 1, "-", "a topic file must be a YAML list of topics"))
            continue
        for item in data:
            if not isinstance(item, dict):
                problems.append(Problem(name, 1, "-", "each topic must be a mapping"))
                continue
            t = _topic_from(item, name, problems)
            if t is not None:
                topics.append(t)
    return topics


def _topic_from(item: dict[str, Any], name: str, problems: list[Problem]) -> Topic | None:
    tid = str(item.get("id", "?"))
    line = line_of(item)
    spec, found = decode_yaml(item, TopicSpec)
    problems.extend(Problem(name, p.line, tid, p.text()) for p in found)
    if spec is None:
        return None
    phrasings = words(spec.phrasings)
    first = line_of(item, "phrasings")
    return Topic(
        id=spec.id,
        title=spec.title.strip(),
        phrasings=tuple(p.strip() for p in phrasings),
        keywords=words(spec.keywords),
        answer=spec.answer.strip(),
        sources=words(spec.sources),
        related=words(spec.related),
        forms=words(spec.forms),
        reviewed=spec.reviewed,
        file=name,
        line=line,
        phrasing_lines=tuple(first + 1 + i for i in range(len(phrasings))),
        short=(spec.short or "").strip(),
        see_also=words(spec.see_also),
        manual=spec.manual,
        latest_ref=spec.latest_ref,
        command=(spec.command or "").strip(),
        command_line=line_of(item, "command") if spec.command else 0,
    )


def _read_sources(root: Path, problems: list[Problem]) -> dict[str, Source]:
    path = root / "sources.yaml"
    name = _rel(path, root)
    if not path.exists():
        problems.append(Problem(name, 1, "-", "missing sources.yaml"))
        return {}
    data = load_yaml(path)
    out: dict[str, Source] = {}
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "-", "sources.yaml must map id -> {title, certainty}"))
        return out
    for sid, value in data.items():
        if sid in ("__line__", "__lines__"):
            continue
        if not isinstance(value, dict) or not value.get("title"):
            problems.append(Problem(name, line_of(data, sid), str(sid), "needs a title"))
            continue
        certainty = str(value.get("certainty", ""))
        if certainty not in {"S", "V", "P", "L"}:
            problems.append(Problem(name, line_of(data, sid), str(sid), "certainty: S, V, L or P"))
        role = str(value.get("role", "") or "")
        if role not in {"", "see-also", "practice"}:
            problems.append(Problem(name, line_of(data, sid), str(sid),
                                    "role: see-also or practice"))
        out[str(sid)] = Source(str(sid), str(value["title"]).strip(), certainty,
                               str(value.get("short", "")).strip(), role,
                               str(value.get("match", "") or "").strip(),
                               value.get("year_confirmed", True) is True)
    return out


def _read_synonyms(root: Path, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    path = root / "synonyms.yaml"
    if not path.exists():
        return {}
    data = load_yaml(path)
    name = _rel(path, root)
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "-", "synonyms.yaml must map canonical -> [variants]"))
        return out
    out.update(_variants(data, name, problems))
    return out


def _variants(data: dict[str, Any], name: str, problems: list[Problem]
              ) -> dict[str, tuple[str, ...]]:
    """A ``canonical -> [variants]`` mapping of synonyms.yaml or english.yaml, checked."""
    out: dict[str, tuple[str, ...]] = {}
    for canon, variants in data.items():
        if canon in ("__line__", "__lines__"):
            continue
        values = _as_str_list(variants)
        if values is None:
            problems.append(Problem(name, line_of(data, canon), str(canon), "variants: a list"))
            continue
        out[str(canon)] = tuple(values)
    return out


def _read_english(root: Path, problems: list[Problem]
                  ) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...], tuple[str, ...]]:
    """english.yaml: English variants of Thai words (merged into the synonyms), stop words, and
    plain English words (never corrected as misspellings)."""
    path = root / "english.yaml"
    if not path.exists():
        return {}, (), ()
    data = load_yaml(path)
    name = _rel(path, root)
    words = data.get("words") if isinstance(data, dict) else None
    stop = _as_str_list(data.get("stop", [])) if isinstance(data, dict) else None
    plain = _as_str_list(data.get("plain", [])) if isinstance(data, dict) else None
    if not isinstance(words, dict) or stop is None or plain is None:
        problems.append(Problem(name, 1, "-", "english.yaml needs 'words' (Thai -> [English])"
                                " and a 'stop' list ('plain', a list, is optional)"))
        return {}, (), ()
    return (_variants(words, name, problems), tuple(w.strip().lower() for w in stop if w.strip()),
            tuple(w.strip().lower() for w in plain if w.strip()))


def merge_synonyms(*maps: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """One canonical -> variants map; a canonical in several maps gets all their variants."""
    out: dict[str, tuple[str, ...]] = {}
    for m in maps:
        for canon, variants in m.items():
            have = out.get(canon, ())
            out[canon] = have + tuple(v for v in variants if v not in have)
    return out


def _read_out_of_scope(root: Path, problems: list[Problem]) -> tuple[str, ...]:
    path = root / "outofscope.yaml"
    if not path.exists():
        return ()
    data = load_yaml(path)
    values = _as_str_list(data.get("phrasings")) if isinstance(data, dict) else None
    if values is None:
        problems.append(Problem(_rel(path, root), 1, "-", "needs a 'phrasings' list"))
        return ()
    return tuple(v.strip() for v in values if v.strip())


def _read_other_systems(root: Path, problems: list[Problem]) -> tuple[str, ...]:
    path = root / "outofscope.yaml"
    data = load_yaml(path) if path.exists() else None
    if not isinstance(data, dict) or data.get("other_systems") is None:
        return ()
    values = _as_str_list(data.get("other_systems"))
    if values is None:
        problems.append(Problem(_rel(path, root), 1, "-", "'other_systems' must be a list"))
        return ()
    return tuple(v.strip() for v in values if v.strip())


def _check_topics(kb: KnowledgeBase, problems: list[Problem], form_ids: set[str] | None) -> None:
    seen: dict[str, Topic] = {}
    for t in kb.topics:
        def add(msg: str, line: int = t.line, topic: Topic = t) -> None:
            problems.append(Problem(topic.file, line, topic.id, msg))

        if not _TOPIC_ID.match(t.id):
            add("id must be lower-case words joined by dots")
        if t.id in seen:
            add(f"duplicate id (also at {seen[t.id].file}:{seen[t.id].line})")
        seen[t.id] = t
        if len(t.title) > MAX_TITLE:
            add(f"title is {len(t.title)} characters (at most {MAX_TITLE}: a button label)")
        if len(t.phrasings) < MIN_PHRASINGS:
            add(f"only {len(t.phrasings)} phrasings (at least {MIN_PHRASINGS})")
        if len(t.answer) > MAX_ANSWER:
            add(f"answer is {len(t.answer)} characters (at most {MAX_ANSWER})")
        names = set(_PLACEHOLDER.findall(t.answer + t.short))
        bare = _PLACEHOLDER.sub("", t.answer + t.short)
        if "{" in bare or "}" in bare:
            add("stray { or } in the answer")
        if names and not t.is_status:
            add("placeholders are only for status.* answers")
        if t.manual and t.is_status:
            add("manual: is for manual-procedure answers, not status.* ones")
        if t.latest_ref and t.is_status:
            add("latest_ref: is for answers about letters; status.* ones cite {ref}")
        if names - STATUS_FIELDS:
            add(f"unknown placeholder(s): {', '.join(sorted(names - STATUS_FIELDS))}")
        for s in (*t.sources, *t.see_also):
            if s not in kb.sources:
                add(f"unknown source {s!r}")
        practice = any(kb.sources[s].role == "practice" for s in t.sources if s in kb.sources)
        for s in t.sources:
            if practice and s in kb.sources and kb.sources[s].role == "see-also":
                add(f"source {s!r} is marked see-also: list it under see_also, not as the"
                    " source (ที่มา) of a practice answer")
        if t.short and len(t.short) > MAX_FIRST and not t.is_status:
            add(f"short is {len(t.short)} characters (at most {MAX_FIRST}: one phone screen)")
        if not t.is_status and len(t.first) > MAX_FIRST:
            add(f"first message is {len(t.first)} characters (at most {MAX_FIRST}): add a"
                " short: answer or a blank line after the direct answer")
        for r in t.related:
            if r == t.id or r not in kb.ids:
                add(f"related topic {r!r} does not exist" if r != t.id else "related to itself")
        if form_ids is not None:
            for f in t.forms:
                if f not in form_ids:
                    add(f"unknown form {f!r}")
        for src in kb.sources.values():
            year = unconfirmed_year(src, t.answer + "\n" + t.short)
            if year:
                add(f"{src.id}: year {year!r} on a regulation whose year is not confirmed"
                    " (sources.yaml year_confirmed)")
        dup = {p for p in t.phrasings if t.phrasings.count(p) > 1}
        if dup:
            add(f"repeated phrasing(s): {', '.join(sorted(dup))}")


def citations(kb: KnowledgeBase, topic: Topic) -> str:
    """The lines under a full answer: "ที่มา" (its sources) and "ดูเพิ่ม" (background).

    A see-also source listed as a source of a practice answer is shown under "ดูเพิ่ม":
    kb check reports such a listing, and the render never turns it into the source.
    """
    practice = any(kb.sources[s].role == "practice" for s in topic.sources if s in kb.sources)
    sources: list[str] = []
    also: list[str] = []
    for sid in topic.sources:
        src = kb.sources.get(sid)
        if src is None:
            continue
        (also if practice and src.role == "see-also" else sources).append(src.label)
    also += [kb.sources[s].label for s in topic.see_also if s in kb.sources]
    out = ""
    if sources:
        out += "\n\nที่มา: " + "; ".join(sources)
    if also:
        out += ("\n" if out else "\n\n") + "ดูเพิ่ม: " + "; ".join(dict.fromkeys(also))
    return out


def unconfirmed_year(src: Source, text: str) -> str:
    """A year (``พ.ศ. 2547``) written after the name of ``src`` in ``text`` while the
    year is not confirmed; "" when there is none."""
    if not src.match or src.year_confirmed:
        return ""
    at = text.find(src.match)
    while at >= 0:
        m = _YEAR.match(text, at + len(src.match))
        if m:
            return m.group(1)
        at = text.find(src.match, at + 1)
    return ""


def _check_sources(kb: KnowledgeBase, problems: list[Problem]) -> None:
    path = _rel(kb.root / "sources.yaml", kb.root)
    for src in kb.sources.values():
        year = unconfirmed_year(src, src.short + "\n" + src.title)
        if year:
            problems.append(Problem(path, 1, src.id, f"year {year!r} on a regulation whose year"
                                    " is not confirmed (set year_confirmed: true to allow)"))


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Load knowledge/ or raise DataError naming the first problem as ``file:line``."""
    kb, problems = _load(root or default_knowledge_dir(), strict=False)
    if problems:
        more = f" (+{len(problems) - 1} more)" if problems[1:] else ""
        raise DataError(str(problems[0]) + more)
    return kb


def _load(root: Path, strict: bool) -> tuple[KnowledgeBase, list[Problem]]:
    problems: list[Problem] = []
    topics = _read_topics(root, problems)
    sources = _read_sources(root, problems)
    english, english_stop, english_plain = _read_english(root, problems)
    synonyms = merge_synonyms(_read_synonyms(root, problems), english)
    oos = _read_out_of_scope(root, problems)
    others = _read_other_systems(root, problems)
    examples = read_examples(
        root / "examples", {t.id for t in topics},
        lambda path, line, topic, message: problems.append(
            Problem(_rel(path, root), line, topic, message)))
    kb = KnowledgeBase(tuple(topics), sources, synonyms, root, oos, others, english_stop,
                       english_plain, examples)
    # Structural problems stop loading; content problems (length, phrasings) only fail kb check.
    structural: list[Problem] = list(problems)
    if strict:
        _check_topics(kb, problems, None)
        _check_sources(kb, problems)
    else:
        ids = [t.id for t in topics]
        for t in topics:
            if ids.count(t.id) > 1:
                structural.append(Problem(t.file, t.line, t.id, "duplicate id"))
            for r in t.related:
                if r not in ids:
                    structural.append(Problem(t.file, t.line, t.id, f"related {r!r} missing"))
        return kb, structural
    return kb, problems


def check_knowledge(
    root: Path | None = None, form_ids: Iterable[str] | None = None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Every problem in knowledge/ (schema, ids, references, lengths) without stopping early."""
    root = root or default_knowledge_dir()
    try:
        kb, problems = _load(root, strict=True)
    except DataError as exc:
        text = str(exc)
        file, _, rest = text.partition(":")
        line, _, msg = rest.partition(":")
        return None, [Problem(file, int(line) if line.isdigit() else 1, "-", msg.strip())]
    if form_ids is not None:
        fids = set(form_ids)
        for t in kb.topics:
            for f in t.forms:
                if f not in fids:
                    problems.append(Problem(t.file, t.line, t.id, f"unknown form {f!r}"))
    return kb, problems
