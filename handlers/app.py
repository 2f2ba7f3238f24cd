"""Composition root: settings -> stores -> features -> Engine (and, for serve, the web app)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core.engine import Engine
from bot.core.feature import Feature
from bot.core.store import MemoryStore, Store
from bot.forms.catalog import FormCatalog, load_catalog
from bot.forms.chat import FormsFeature
from bot.ledger.book import LedgerBook
from bot.ledger.chat import LedgerFeature
from bot.notices.board import NoticesFeature
from bot.notices.console_chat import ConsoleFeature
from bot.notices.signals import FieldReportsFeature
from bot.notices.status import StatusBoard
from bot.qa.knowledge import KnowledgeBase, default_knowledge_dir
from bot.qa.matching import load_language
from bot.qa.overlay import OVERLAY_NAME, apply_overlay, read_overlay
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


@functools.lru_cache(maxsize=4)
def form_catalog(root: Path) -> FormCatalog:
    """The form catalog of knowledge/forms (immutable data: loaded once per process)."""
    return load_catalog(root / "forms")


def with_overlay(kb: KnowledgeBase, path: Path) -> KnowledgeBase:
    """``kb`` plus the console's proposed phrasings; bad items are logged and left out."""
    if not path.exists():
        return kb
    items, problems = read_overlay(path, kb.ids)
    for p in problems:
        _LOG.warning("knowledge overlay: %s (left out)", p)
    return apply_overlay(kb, items)


def build_core(
    settings: Settings,
    *,
    store: Store | None = None,
    knowledge_dir: Path | None = None,
    memory: bool = False,
) -> Core:
    """Build the engine and its stores (the caller owns the data-dir lock when it writes)."""
    root = knowledge_dir or default_knowledge_dir()
    kb, pipeline = load_language(root.resolve())
    kb = with_overlay(kb, settings.data_dir / OVERLAY_NAME)
    if store is None:
        store = MemoryStore() if memory else open_store(settings)
    status = StatusBoard(store, seed=root / "status.yaml",
                         stale_days=settings.status_stale_days,
                         probe_enabled=bool(settings.probe_url))
    book = LedgerBook(store)
    catalog = form_catalog(root.resolve())
    notices = NoticesFeature(store, status, {str(a) for a in settings.admins},
                             status_url=settings.public_base_url.rstrip("/") + "/status")
    features: list[Feature] = [
        LedgerFeature(book, offer_demo=True),
        FormsFeature(catalog, book),
        notices,
        ConsoleFeature(store, {str(a) for a in settings.admins}, settings.resolved_file_secret,
                       settings.public_base_url),
        FieldReportsFeature(store, status, probe_on=bool(settings.probe_url)),
    ]
    labels = {f.id: f.button for f in catalog.all()}
    engine = Engine(kb, pipeline, store, status, features, form_labels=labels)
    return Core(settings, store, kb, engine, status, book)
