"""Composition root: settings -> stores -> features -> Engine (and, for serve, the web app)."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.core.engine import Engine
from bot.core.feature import Feature
from bot.core.store import MemoryStore, Store
from bot.forms.catalog import FormCatalog, load_catalog
from bot.forms.chat import FormsFeature
from bot.forms.paper import load_paper_forms
from bot.ledger.book import LedgerBook
from bot.ledger.chat import LedgerFeature
from bot.notices.board import NoticesFeature
from bot.notices.console_chat import ConsoleFeature
from bot.notices.signals import FieldReportsFeature
from bot.notices.status import StatusBoard
from bot.qa.knowledge import KnowledgeBase, default_knowledge_dir
from bot.qa.matching import Matcher, load_language
from bot.qa.overlay import OVERLAY_NAME, Overlay, apply_overlay
from handlers.settings import Settings
from handlers.storage import open_store

_LOG = logging.getLogger(__name__)


@dataclass
class Core:
    """Everything built from the settings, shared by every adapter in one process."""

    settings: Settings
    store: Store
    kb: KnowledgeBase
    engine: Engine
    status: StatusBoard
    book: LedgerBook
    overlay: Overlay  # the console's phrasings, applied on top of base_kb
    base_kb: KnowledgeBase  # the knowledge files alone

    def warm_up(self) -> None:
        """Do the one-off work of the first requests now (serve, before it listens)."""
        for feature in self.engine.features:
            if isinstance(feature, FormsFeature):
                feature.warm_up()

    def close(self) -> None:
        """Write what the engine keeps in memory (gap counts), then close the store."""
        try:
            self.engine.close()
        finally:
            self.store.close()


@functools.lru_cache(maxsize=4)
def form_catalog(root: Path) -> FormCatalog:
    """The form catalog of knowledge/forms (immutable data: loaded once per process)."""
    return load_catalog(root / "forms")


def with_overlay(kb: KnowledgeBase, overlay: Overlay) -> KnowledgeBase:
    """``kb`` plus the console's proposed phrasings; bad items are logged and left out."""
    items, problems = overlay.read(kb.ids)
    for p in problems:
        _LOG.warning("knowledge overlay: %s (left out)", p)
    return apply_overlay(kb, items)


def refresh_overlay(core: Core) -> bool:
    """Reload the overlay when another instance added to it; True when it did.

    Run it on the engine thread (it swaps the engine's knowledge and matcher).
    """
    if not core.overlay.changed():
        return False
    kb = with_overlay(core.base_kb, core.overlay)
    core.engine.matcher = Matcher(kb, core.engine.pipeline)
    core.engine.kb = kb
    core.kb = kb
    return True


def build_core(
    settings: Settings,
    *,
    store: Store | None = None,
    knowledge_dir: Path | None = None,
    memory: bool = False,
) -> Core:
    """Build the engine and its stores (the caller owns the data-dir lock when it writes)."""
    with collector_paused():
        return _build_core(settings, store, knowledge_dir, memory)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (while the indexes are built, for one).

    The indexes are hundreds of thousands of acyclic dicts, tuples and strings, which the collector
    would walk again and again for nothing: some 0.06 s of every cold start.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_core(settings: Settings, store: Store | None, knowledge_dir: Path | None,
                memory: bool) -> Core:
    root = knowledge_dir or default_knowledge_dir()
    base_kb, pipeline = load_language(root.resolve())
    if store is None:
        store = MemoryStore() if memory else open_store(settings)
    overlay = Overlay(store, settings.data_dir / OVERLAY_NAME)
    kb = with_overlay(base_kb, overlay)
    status = StatusBoard(store, seed=root / "status.yaml",
                         stale_days=settings.status_stale_days,
                         probe_enabled=bool(settings.probe_url))
    book = LedgerBook(store)
    catalog = form_catalog(root.resolve())
    forms = FormsFeature(catalog, book, load_paper_forms(root.resolve()),
                         {t.id: t.title for t in kb.topics})
    notices = NoticesFeature(store, status, {str(a) for a in settings.admins},
                             status_url=settings.public_base_url.rstrip("/") + "/status")
    features: list[Feature] = [
        LedgerFeature(book, offer_demo=True),
        forms,
        notices,
        ConsoleFeature(store, {str(a) for a in settings.admins}, settings.resolved_file_secret,
                       settings.public_base_url),
        FieldReportsFeature(store, status, probe_on=bool(settings.probe_url)),
    ]
    labels = {f.id: f.button for f in catalog.all()}
    engine = Engine(kb, pipeline, store, status, features, form_labels=labels,
                    form_gap=forms.not_provided)
    return Core(settings, store, kb, engine, status, book, overlay, base_kb)
