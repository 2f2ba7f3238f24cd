"""Composition root: settings -> stores -> features -> Engine (and, for serve, the web app)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot.engine import Engine
from bot.feature import Feature
from bot.forms import FormCatalog, load_catalog
from bot.forms_chat import FormsFeature
from bot.knowledge import KnowledgeBase, default_knowledge_dir
from bot.ledger import LedgerBook
from bot.ledger_chat import LedgerFeature
from bot.matching import load_language
from bot.notices import NoticesFeature
from bot.status import StatusBoard
from bot.store import MemoryStore, Store
from handlers.settings import Settings
from handlers.storage import open_store


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
    if store is None:
        store = MemoryStore() if memory else open_store(settings)
    status = StatusBoard(store, seed=root / "status.yaml")
    book = LedgerBook(store)
    catalog = form_catalog(root.resolve())
    notices = NoticesFeature(store, status, {str(a) for a in settings.admins},
                             status_url=settings.public_base_url.rstrip("/") + "/status")
    features: list[Feature] = [
        LedgerFeature(book, offer_demo=True),
        FormsFeature(catalog, book),
        notices,
    ]
    labels = {f.id: f.button for f in catalog.all()}
    engine = Engine(kb, pipeline, store, status, features, form_labels=labels)
    return Core(settings, store, kb, engine, status, book)
