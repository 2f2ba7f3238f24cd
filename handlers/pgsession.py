"""One dedicated PostgreSQL session of this process's own, outside the store's pool.

Notice claims (session advisory locks) and the shared send buckets each keep one such session:
opened on first use, opened again when the server ended it, closed once at shutdown.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from bot.core.pgstore import connect_error


class OwnSession:
    """An autocommit connection, (re)opened on demand.

    Args:
        url: ``ELAAS_DATABASE_URL``.
        setup: run on each new connection (session settings), inside the connect error handling.
        options: extra ``psycopg.connect`` keyword arguments (TCP keepalives).
    """

    def __init__(self, url: str, setup: Callable[[psycopg.Connection[Any]], object] | None = None,
                 **options: Any):
        self.url = url
        self._setup = setup
        self._options = options
        self._conn: psycopg.Connection[Any] | None = None
        self.guard = threading.RLock()

    def get(self) -> tuple[psycopg.Connection[Any], bool]:
        """The open connection, and whether it was opened just now (a new session holds no
        lock). Raises the store's one-line connect error (never the password)."""
        with self.guard:
            if self._conn is not None and not self._conn.closed and not self._conn.broken:
                return self._conn, False
            self._drop()
            try:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                       **self._options)
                if self._setup is not None:
                    self._setup(conn)
            except (psycopg.Error, OSError) as exc:
                raise connect_error(self.url, exc) from None
            self._conn = conn
            return conn, True

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self.guard:
            self._drop()
