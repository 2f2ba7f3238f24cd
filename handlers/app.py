"""Composition root: settings -> stores -> features -> Engine (and, for serve, the web app)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.engine import Engine
from bot.feature import Feature
from bot.knowledge import KnowledgeBase, default_knowledge_dir, load_knowledge
from bot.status import StatusBoard
from bot.store import MemoryStore, Store, TinyStore
from bot.text import TextPipeline
from handlers.settings import Settings


@dataclass
class Core:
    """Everything built from the settings, shared by every adapter in one process."""

    settings: Settings
    store: Store
    kb: KnowledgeBase
    engine: Engine
    status: StatusBoard


def build_pipeline(kb: KnowledgeBase) -> TextPipeline:
    """The text pipeline with the knowledge base's synonyms and keywords as dictionary words."""
    words = {k for t in kb.topics for k in t.keywords}
    return TextPipeline(kb.synonyms, extra_words=words)


def build_core(
    settings: Settings,
    *,
    store: Store | None = None,
    knowledge_dir: Path | None = None,
    memory: bool = False,
) -> Core:
    """Build the engine and its stores (the caller owns the data-dir lock when it writes)."""
    root = knowledge_dir or default_knowledge_dir()
    kb = load_knowledge(root)
    pipeline = build_pipeline(kb)
    pipeline.warm_up()
    if store is None:
        store = MemoryStore() if memory else TinyStore(settings.data_dir)
    status = StatusBoard(store, seed=root / "status.yaml")
    features: list[Feature] = []
    engine = Engine(kb, pipeline, store, status, features)
    return Core(settings, store, kb, engine, status)
