"""``elaas-bot kb check``: every problem of knowledge/ as ``file:line: topic: message``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.yamlload import DataError
from bot.notices.signals import sample_snapshot
from bot.notices.status import load_seed
from bot.qa.knowledge import (
    MAX_ANSWER,
    MAX_FIRST,
    KnowledgeBase,
    Problem,
    check_knowledge,
    citations,
    default_knowledge_dir,
)
from bot.qa.matching import Matcher, pipeline_for
from bot.qa.overlay import phrasing_problem

if TYPE_CHECKING:
    from collections.abc import Collection

    from bot.qa.overlay import Overlay


def run_checks(root: Path | None = None, overlay: Path | Overlay | None = None,
               commands: Collection[str] | None = None) -> list[Problem]:
    """Schema, ids, references, lengths, the form catalog, and phrasings that match elsewhere.

    ``overlay`` is the console's phrasings (``bot.qa.overlay``): a file, checked when it
    exists, or an :class:`~bot.qa.overlay.Overlay` (the database's table when shared).
    ``commands``: the slash names the engine answers (``Engine.slash_names``; the composition
    root builds the engine), to check each topic's ``command:`` against; None: not checked.
    """
    root = root or default_knowledge_dir()
    form_ids: set[str] | None = None
    problems: list[Problem] = []
    try:
        from bot.forms.catalog import CatalogError, check_catalog, load_catalog
    except ImportError:  # the forms module is optional for a bare knowledge check
        check_catalog = None  # type: ignore[assignment]
    else:
        try:
            form_ids = {f.id for f in load_catalog(root / "forms").all()}
        except CatalogError:
            pass  # check_catalog below reports each problem
    kb, kb_problems = check_knowledge(root, form_ids)
    problems.extend(kb_problems)
    if check_catalog is not None:
        problems.extend(check_catalog(root / "forms", kb.ids if kb else None))
    problems.extend(_check_status_seed(root / "status.yaml"))
    from bot.forms.paper import check_paper_forms

    problems.extend(check_paper_forms(root, form_ids, kb.ids if kb else None))
    if kb is None:
        return problems
    if overlay is not None:
        from bot.qa.overlay import check_overlay

        problems.extend(check_overlay(overlay, kb))
    # Status answers are measured filled from long realistic records (stale and fresh, probe,
    # votes): the longer of the two counts.
    samples = [sample_snapshot(stale=stale).fields() for stale in (True, False)]
    for t in kb.topics:
        if t.is_status:
            try:
                first = max((t.first.format(**s) for s in samples), key=len)
                full = max((t.answer.format(**s) for s in samples), key=len)
            except (KeyError, IndexError, ValueError):
                continue  # reported by check_knowledge as a bad placeholder
            if len(first) > MAX_FIRST:
                problems.append(Problem(t.file, t.line, t.id,
                                        f"first message is {len(first)} characters when filled"
                                        f" (at most {MAX_FIRST})"))
            full += citations(kb, t)
            if len(full) > MAX_ANSWER:
                problems.append(Problem(t.file, t.line, t.id,
                                        f"full answer is {len(full)} characters when filled"
                                        f" (at most {MAX_ANSWER})"))
    if commands is not None:
        problems.extend(_check_commands(kb, commands))
    # Phrasings judged against each other: the labelled examples (knowledge/examples/) are the
    # writers' questions, not the knowledge base's own ways of asking.
    matcher = Matcher(kb, pipeline_for(kb), ())
    for t in kb.topics:
        for phrasing, line in zip(t.phrasings, t.phrasing_lines, strict=False):
            problem = phrasing_problem(matcher, t.id, phrasing)
            if problem:
                problems.append(Problem(t.file, line, t.id, problem))
    return problems


def _check_commands(kb: KnowledgeBase, commands: Collection[str]) -> list[Problem]:
    """A topic's ``command:`` is a slash name the engine answers, as written (the engine looks
    it up as is when a member's question matches the topic)."""
    named = [t for t in kb.topics if t.command]
    if not named:
        return []
    known = sorted(commands)
    return [Problem(t.file, t.command_line or t.line, t.id,
                    f"command: no command '{t.command}' (known: {', '.join(known)})")
            for t in named if t.command not in known]


def _check_status_seed(path: Path) -> list[Problem]:
    """The status seed decodes (it is loaded into the store on first start)."""
    if not path.exists():
        return []
    try:
        load_seed(path)
    except DataError as exc:
        return [Problem(str(path), exc.line, "-", exc.detail or str(exc))]
    return []
