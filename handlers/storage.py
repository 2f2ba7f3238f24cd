"""Open the store the settings ask for: PostgreSQL when ELAAS_DATABASE_URL is set, else TinyDB."""

from __future__ import annotations

from bot.core.store import Store, TinyStore
from handlers.settings import Settings


def open_store(settings: Settings) -> Store:
    """The PostgreSQL store for ``ELAAS_DATABASE_URL``, or the embedded store in the data dir.

    Raises:
        bot.core.store.StoreError: one line naming what failed (never the password).
    """
    if settings.database_url:
        from bot.core.pgstore import PgStore

        return PgStore(settings.database_url)
    return TinyStore(settings.data_dir)
