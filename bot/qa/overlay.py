"""Phrasings proposed from the console: a YAML overlay on knowledge/ that the bot loads and
``kb check`` validates (the same own-topic-first rule as phrasings in topic files)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.store import atomic_write
from bot.core.yamlload import DataError, line_of, load_yaml, strip_lines
from bot.qa.knowledge import KnowledgeBase, Problem
from bot.qa.matching import Matcher

OVERLAY_NAME = "knowledge-overlay.yaml"
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
    items: list[OverlayPhrasing] = []
    problems: list[Problem] = []
    for raw in data:
        at = line_of(raw)
        if not isinstance(raw, dict):
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
    """Why ``phrasing`` would fail ``kb check`` for ``topic`` with ``matcher`` (None: fine)."""
    ranked = matcher.rank(phrasing, leave_out=True)
    if not ranked:
        return f"phrasing has no words: {phrasing}"
    own = next((s.score for s in ranked if s.topic == topic), 0.0)
    best = ranked[0]
    if best.topic != topic and best.score > own:
        return (f"phrasing matches {best.topic} ({best.score}) better than its own ({own}):"
                f" {phrasing}")
    return None


def check_overlay(path: Path, kb: KnowledgeBase, matcher_for: type[Matcher] = Matcher,
                  ) -> list[Problem]:
    """Every problem of the overlay file, judged with the overlay applied."""
    from bot.qa.matching import pipeline_for

    items, problems = read_overlay(path, kb.ids)
    if not items:
        return problems
    merged = apply_overlay(kb, items)
    matcher = matcher_for(merged, pipeline_for(merged))
    for it in items:
        msg = phrasing_problem(matcher, it.topic, it.phrasing)
        if msg:
            problems.append(Problem(str(path), it.line, it.topic, msg))
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
