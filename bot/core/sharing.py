"""Whether a store is shared by several processes (PostgreSQL) or owned by one (embedded)."""

from __future__ import annotations

import sys

from bot.core.store import Store


def is_shared(store: Store) -> bool:
    """True for the PostgreSQL store, which any number of ``serve`` instances use at once.

    State a process could keep in memory (follow-ups, console sessions, file links) must then
    live in the store, since the user's next request may reach another instance.
    """
    # Without the module loaded no PgStore exists: psycopg is not imported just to ask.
    pg = sys.modules.get("bot.core.pgstore")
    return pg is not None and isinstance(store, pg.PgStore)
