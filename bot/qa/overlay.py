"""Phrasings proposed from the console: an overlay on knowledge/ that the bot loads and
``kb check`` validates (the same own-topic-first rule as phrasings in topic files)."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.sharing import is_shared
from bot.core.store import Store, Table, atomic_write
from bot.core.yamlload import DataError, line_of, load_yaml, strip_lines
from bot.qa.knowledge import KnowledgeBase, Problem
from bot.qa.matching import OUT_OF_SCOPE, Matcher

OVERLAY_NAME = "knowledge-overlay.yaml"
OVERLAY_TABLE = "knowledge_overlay"
MAX_PHRASING = 200
HEADER = (
    "# Phrasings proposed from the operator console (elaas-bot serve writes this file).\n"
    "# Each item adds one way of asking to an existing topic; `elaas-bot kb check` validates\n"
    "# them and the bot loads them at start and when a new one is proposed.\n"
)


@dataclass(frozen=True)
class OverlayPhrasing:
    """One proposed phrasing for a topic."""

    topic: str
    phrasing: str
    by: str = ""
    at: str = ""
    line: int = 0


def read_overlay(path: Path, topic_ids: set[str]) -> tuple[list[OverlayPhrasing], list[Problem]]:
    """Valid items of the overlay and the problems of the others (a missing file is empty)."""
    if not path.exists():
        return [], []
    name = str(path)
    try:
        data = load_yaml(path)
    except DataError as exc:
        _, _, rest = str(exc).partition(":")
        where, _, msg = rest.partition(":")
        return [], [Problem(name, int(where) if where.isdigit() else 1, "-", msg.strip())]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem(name, 1, "-", "the overlay must be a YAML list")]
    return _valid_items(((line_of(raw), raw) for raw in data), name, topic_ids)


def _valid_items(raws: Iterable[tuple[int, object]], name: str, topic_ids: set[str],
                ) -> tuple[list[OverlayPhrasing], list[Problem]]:
    """The valid items of ``raws`` ((line or position, raw item) pairs) and the problems."""
    items: list[OverlayPhrasing] = []
    problems: list[Problem] = []
    for at, raw in raws:
        if not isinstance(raw, Mapping):
            problems.append(Problem(name, at, "-", "each item must be a mapping"))
            continue
        topic = str(raw.get("topic", "")).strip()
        phrasing = str(raw.get("phrasing", "")).strip()
        if topic not in topic_ids:
            problems.append(Problem(name, at, topic or "-", f"unknown topic {topic!r}"))
            continue
        if not phrasing or len(phrasing) > MAX_PHRASING:
            problems.append(Problem(name, at, topic,
                                    f"phrasing must be 1-{MAX_PHRASING} characters"))
            continue
        items.append(OverlayPhrasing(topic, phrasing, str(raw.get("by", "")),
                                     str(raw.get("at", "")), at))
    return items, problems


def apply_overlay(kb: KnowledgeBase, items: list[OverlayPhrasing]) -> KnowledgeBase:
    """``kb`` with each item's phrasing added to its topic (repeats ignored)."""
    extra: dict[str, list[OverlayPhrasing]] = {}
    for it in items:
        extra.setdefault(it.topic, []).append(it)
    if not extra:
        return kb
    topics = []
    for t in kb.topics:
        add: list[OverlayPhrasing] = []
        for it in extra.get(t.id, ()):
            if it.phrasing not in t.phrasings and all(a.phrasing != it.phrasing for a in add):
                add.append(it)
        if add:
            t = dataclasses.replace(
                t, phrasings=t.phrasings + tuple(it.phrasing for it in add),
                phrasing_lines=t.phrasing_lines + tuple(it.line for it in add))
        topics.append(t)
    return dataclasses.replace(kb, topics=tuple(topics))


def phrasing_problem(matcher: Matcher, topic: str, phrasing: str) -> str | None:
    """Why ``phrasing`` would fail ``kb check`` for ``topic`` with ``matcher`` (None: fine).

    Among the topics only: a misfiled phrasing is one another topic claims (the off-topic
    class's cues, such as the off-topic frames, judge questions, not phrasings)."""
    ranked = [s for s in matcher.rank(phrasing, leave_out=True) if s.topic != OUT_OF_SCOPE]
    if not ranked:
        return f"phrasing has no words: {phrasing}"
    own = next((s.score for s in ranked if s.topic == topic), 0.0)
    best = ranked[0]
    if best.topic != topic and best.score > own:
        return (f"phrasing matches {best.topic} ({best.score}) better than its own ({own}):"
                f" {phrasing}")
    return None


def check_overlay(source: Path | Overlay, kb: KnowledgeBase,
                  matcher_for: type[Matcher] = Matcher) -> list[Problem]:
    """Every problem of the overlay (a file, or an :class:`Overlay`), judged with the overlay
    applied."""
    from bot.qa.matching import pipeline_for

    if isinstance(source, Overlay):
        items, problems = source.read(kb.ids)
        name = source.where
    else:
        items, problems = read_overlay(source, kb.ids)
        name = str(source)
    if not items:
        return problems
    merged = apply_overlay(kb, items)
    # Phrasings judged against phrasings, as kb check does (not against the labelled examples).
    matcher = matcher_for(merged, pipeline_for(merged), ())
    for it in items:
        msg = phrasing_problem(matcher, it.topic, it.phrasing)
        if msg:
            problems.append(Problem(name, it.line, it.topic, msg))
    return problems


def append_phrasing(path: Path, item: OverlayPhrasing) -> None:
    """Add ``item`` to the overlay file (rewritten whole and atomically; items kept as they are,
    even ones ``kb check`` complains about, so that nothing typed by hand is lost).

    Raises:
        DataError: the file exists but is not a YAML list.
    """
    docs: list[object] = []
    if path.exists():
        data = load_yaml(path)
        if data is not None and not isinstance(data, list):
            raise DataError(f"{path}:1: the overlay must be a YAML list")
        docs = strip_lines(data or [])
    docs.append({"topic": item.topic, "phrasing": item.phrasing, "by": item.by, "at": item.at})
    text = HEADER + yaml.safe_dump(docs, allow_unicode=True, sort_keys=False, width=1000)
    atomic_write(path, text.encode("utf-8"))


class Overlay:
    """Where the console's phrasings are kept.

    One process owning the data dir: the YAML file ``knowledge-overlay.yaml`` there, which
    operators can read and edit. Several instances on one database (a shared store): the
    ``knowledge_overlay`` table, so that a phrasing proposed on one instance is answered by
    all; each instance asks :meth:`changed` now and then and reloads (``Table.since``).
    """

    def __init__(self, store: Store, path: Path) -> None:
        self.path = path
        self.table: Table | None = store.table(OVERLAY_TABLE) if is_shared(store) else None
        self._rev = 0

    @property
    def where(self) -> str:
        """The file's path or the table's name (for messages)."""
        return str(self.path) if self.table is None else f"table {OVERLAY_TABLE}"

    def read(self, topic_ids: set[str]) -> tuple[list[OverlayPhrasing], list[Problem]]:
        """Valid items, oldest first, and the problems of the others."""
        if self.table is None:
            return read_overlay(self.path, topic_ids)
        docs, self._rev = self.table.since(0)
        rows = sorted(docs.items(), key=lambda kv: (int(kv[1].get("seq", 0)), kv[0]))
        return _valid_items(((n, doc) for n, (_, doc) in enumerate(rows, 1)), self.where,
                           topic_ids)

    def changed(self) -> bool:
        """True when the table holds a write this process has not read (never for a file:
        its only writer is this process, which applies what it writes at once)."""
        if self.table is None:
            return False
        docs, _ = self.table.since(self._rev)
        return bool(docs)

    def add(self, item: OverlayPhrasing) -> None:
        """Keep ``item`` (a phrasing already there is written again, not twice).

        Raises:
            DataError: the file exists but is not a YAML list.
        """
        if self.table is None:
            append_phrasing(self.path, item)
            return
        key = hashlib.sha256(f"{item.topic}\0{item.phrasing}".encode()).hexdigest()[:24]
        self.table.put(key, {"topic": item.topic, "phrasing": item.phrasing, "by": item.by,
                             "at": item.at, "seq": time.time_ns()})
