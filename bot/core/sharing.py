"""Whether a store is shared by several processes (PostgreSQL) or owned by one (embedded)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from bot.core.store import Store, Table


def is_shared(store: Store) -> bool:
    """True for the PostgreSQL store, which any number of ``serve`` instances use at once.

    State a process could keep in memory (follow-ups, console sessions, file links) must then
    live in the store, since the user's next request may reach another instance.
    """
    # Without the module loaded no PgStore exists: psycopg is not imported just to ask.
    pg = sys.modules.get("bot.core.pgstore")
    return pg is not None and isinstance(store, pg.PgStore)


@contextlib.contextmanager
def without_flush_wait(store: Store) -> Iterator[None]:
    """Writes in the block commit without waiting for the database's disk flush.

    For state worth only minutes (the last topic answered): on PostgreSQL a commit waits for
    its WAL flush (several ms with fsync on); with ``synchronous_commit`` off for this one
    transaction it does not, and a database crash can lose only the last such writes (never
    half of one). Other stores: no change.
    """
    if not is_shared(store):
        yield
        return
    with store.begin() as conn:  # type: ignore[attr-defined]
        conn.execute("SET LOCAL synchronous_commit TO off")
        yield


def put_without_flush_wait(table: Table, key: str, doc: Mapping[str, Any]) -> None:
    """``table.put(key, doc)``; on PostgreSQL committed without waiting for the disk flush,
    in one statement (no transaction of its own to open and close): for state worth only
    minutes, as :func:`without_flush_wait`. While the engine answers a user whose inbox
    claim read the row ahead (``PgStore.primed``) the write waits for the release of the
    user's lease and goes in that statement. Other stores: a plain put."""
    pg = sys.modules.get("bot.core.pgstore")
    if pg is not None and isinstance(table, pg.PgTable):
        table.put_many({key: doc}, flush_wait=False)
    else:
        table.put(key, doc)
