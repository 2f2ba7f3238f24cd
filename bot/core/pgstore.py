"""The store protocol on PostgreSQL (psycopg 3 with a pool): tables as JSONB rows, migrations.

Every table is rows of one ``elaas_docs`` table keyed by (table name, key), so a new LAO's
ledger needs no DDL. ``Store.transaction`` is a database transaction under an advisory lock,
which is what makes several processes numbering entries of one LAO safe. Errors name the
server, user and database of ``ELAAS_DATABASE_URL``, never its password.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
import psycopg
from psycopg import conninfo as pg_conninfo
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.core.store import (
    Doc,
    StoreError,
    StoreUnavailable,
    Update,
    UpdateEach,
    _apply_update,
    _apply_update_many,
    _check_name,
)

_ABSENT: Any = object()
_MIGRATE_LOCK = 0x656C616173  # "elaas": one advisory lock id for every migrating process
_MIGRATIONS = "migrations"


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file shipped in ``bot/core/migrations`` (``0001_name.sql``)."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The shipped migrations in version order."""
    out = []
    for f in resources.files("bot.core").joinpath(_MIGRATIONS).iterdir():
        if f.name.endswith(".sql"):
            number, _, rest = f.name.partition("_")
            out.append(Migration(int(number), rest.removesuffix(".sql"), f.read_text("utf-8")))
    return sorted(out, key=lambda m: m.version)


LATEST = max(m.version for m in migrations())


def describe_url(url: str) -> str:
    """``user@host:port/dbname`` of a connection URL, without the password."""
    try:
        p = pg_conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparseable ELAAS_DATABASE_URL)"
    host = p.get("host") or "localhost"
    return f"{p.get('user') or '-'}@{host}:{p.get('port') or 5432}/{p.get('dbname') or '-'}"


def _password(url: str) -> str:
    with contextlib.suppress(psycopg.ProgrammingError):
        return str(pg_conninfo.conninfo_to_dict(url).get("password") or "")
    return ""


def _one_line(exc: BaseException, url: str) -> str:
    """The server's reason on one line, with the password (if it ever appears) masked."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    secret = _password(url)
    return text.replace(secret, "***") if secret else text


def connect_error(url: str, exc: BaseException) -> StoreError:
    """A one-line error naming what failed (server, user, database), never the password."""
    reason = _one_line(exc, url)
    where = describe_url(url)
    low = reason.lower()
    if "password" in low or "authentication" in low:
        what = "login refused (user or password wrong)"
    elif "does not exist" in low and "database" in low:
        what = "database does not exist"
    elif "refused" in low or "timeout" in low or "could not translate" in low \
            or "no route" in low or "timed out" in low:
        what = "server not reachable"
        return StoreUnavailable(f"PostgreSQL {where}: {what}: {reason}")
    else:
        what = "cannot connect"
    return StoreError(f"PostgreSQL {where}: {what}: {reason}")


def connect(url: str, *, timeout: int = 5, autocommit: bool = True) -> psycopg.Connection[Any]:
    """One connection (migrations, checks), or a one-line StoreError."""
    try:
        return psycopg.connect(url, connect_timeout=timeout, autocommit=autocommit)
    except (psycopg.Error, OSError) as exc:
        raise connect_error(url, exc) from None


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The highest applied migration (0 on an empty database)."""
    row = conn.execute("SELECT to_regclass('elaas_schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT coalesce(max(version), 0) FROM elaas_schema_version").fetchone()
    return int(got[0]) if got else 0


def migrate(url: str) -> list[Migration]:
    """Apply the migrations not yet applied, in one transaction under an advisory lock.

    A second process migrating at the same time waits for the lock, then finds everything
    applied and does nothing.

    Returns:
        The migrations this call applied.
    """
    done: list[Migration] = []
    with connect(url) as conn:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS elaas_schema_version (version int PRIMARY KEY,"
                    " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                have = schema_version(conn)
                if have > LATEST:
                    raise StoreError(f"database schema {have} is newer than this program "
                                     f"({LATEST}): upgrade elaas-bot")
                for m in migrations():
                    if m.version > have:
                        conn.execute(m.sql.encode())
                        conn.execute("INSERT INTO elaas_schema_version (version, name) "
                                     "VALUES (%s, %s)", (m.version, m.name))
                        done.append(m)
        except psycopg.Error as exc:
            raise _store_error(exc, url) from None
    return done


def _store_error(exc: BaseException, url: str) -> StoreError:
    if isinstance(exc, (psycopg.OperationalError, PoolTimeout)):
        return StoreUnavailable(f"PostgreSQL {describe_url(url)} unavailable, nothing was "
                                f"written: {_one_line(exc, url)}")
    return StoreError(f"PostgreSQL {describe_url(url)}: {_one_line(exc, url)}")


def _configure(conn: psycopg.Connection[Any]) -> None:
    set_json_loads(orjson.loads, conn)  # ~3x faster than json.loads on a 100k-entry ledger


class _IdleCheck:
    """Ping a pooled connection before use only when it sat idle for a while.

    A database restart leaves idle connections dead; pinging those costs one round trip,
    but pinging every checkout would add one to every store call (about a quarter of the
    time of logging an entry). A connection used within ``idle`` seconds is trusted; if it
    died meanwhile the call fails with StoreUnavailable and the pool drops it.

    :meth:`used` is called by the store itself as it hands the connection back, not as the
    pool's ``reset`` hook: with a ``reset`` the pool returns every connection through one of
    its worker threads (a queue put and a thread wake-up per store call, about half the CPU
    of a session read, and the engine thread waited on the GIL for the worker).
    """

    def __init__(self, idle: float = 2.0) -> None:
        self.idle = idle
        self._last: dict[int, float] = {}

    def used(self, conn: psycopg.Connection[Any]) -> None:
        self._last[id(conn)] = time.monotonic()

    def check(self, conn: psycopg.Connection[Any]) -> None:
        if time.monotonic() - self._last.get(id(conn), 0.0) > self.idle:
            ConnectionPool.check_connection(conn)


class Primed:
    """Documents read ahead for one user's events, and the writes that can wait.

    The inbox claim that leases a user to this process reads the user's rows of a few tables
    (session, last topic) in the same statement; while the lease is held no other process
    handles that user, so the engine reads them from here instead of one round trip each.
    ``docs`` maps (table, key) to the row's JSON text, or None for a row known to be absent.
    Writes without a flush wait (:func:`bot.core.sharing.put_without_flush_wait`) made
    meanwhile wait in ``deferred`` and go with the lease's release (same durability: that
    statement does not wait for the flush either). Any other write to a key drops it from
    both (a deferred write of it is made first), so later reads go to the database.
    """

    def __init__(self, docs: Mapping[tuple[str, str], str | None] | None = None) -> None:
        self.docs: dict[tuple[str, str], str | None] = dict(docs or {})
        self.deferred: dict[tuple[str, str], str] = {}


def _deferrable(text: str) -> bool:
    """JSON text jsonb takes as it is (no NUL, no lone surrogate): a write that could fail
    must not ride on the release of a lease."""
    if "\\u0000" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PgTable:
    """One named table: rows of ``elaas_docs`` with ``tbl = name``."""

    def __init__(self, store: PgStore, name: str) -> None:
        self._store = store
        self.name = name

    def _written(self, keys: Iterable[str]) -> None:
        """Before a write to ``keys``: the deferred writes of them first, then forget them."""
        primed = self._store.primed_now()
        if primed is None:
            return
        for key in keys:
            primed.docs.pop((self.name, key), None)
            text = primed.deferred.pop((self.name, key), None)
            if text is not None:
                self._store.primed_off(self.put_many, {key: orjson.loads(text)},
                                       flush_wait=False)

    def get(self, key: str) -> Doc | None:
        primed = self._store.primed_now()
        if primed is not None and not self._store.in_transaction():
            text = primed.docs.get((self.name, key), _ABSENT)
            if text is not _ABSENT:
                return None if text is None else dict(orjson.loads(text))
        with self._store.cursor() as conn:
            row = conn.execute("SELECT doc FROM elaas_docs WHERE tbl = %s AND key = %s",
                               (self.name, key)).fetchone()
        return dict(row[0]) if row else None

    def put(self, key: str, doc: Mapping[str, Any]) -> None:
        self.put_many({key: doc})

    def put_many(self, docs: Mapping[str, Mapping[str, Any]], *,
                 flush_wait: bool = True) -> None:
        """Insert or replace ``docs``; ``flush_wait=False`` (outside a transaction only): the
        commit does not wait for the WAL flush (state worth minutes; see sharing.py)."""
        if not docs:
            return
        keys = list(docs)
        texts = [json.dumps(dict(docs[k]), ensure_ascii=False) for k in keys]  # TypeError first
        primed = self._store.primed_now()
        if primed is not None:
            if not flush_wait and not self._store.in_transaction() \
                    and all(_deferrable(t) for t in texts):
                for k, t in zip(keys, texts, strict=True):
                    primed.deferred[(self.name, k)] = primed.docs[(self.name, k)] = t
                return
            self._written(keys)
        # The setting is local to this statement's own transaction, which commits at its end
        # (the commit reads it before the setting is reset): one round trip, nothing leaks
        # into the pooled session. Inside a caller's transaction it would relax all of it.
        relaxed = not flush_wait and not self._store.in_transaction()
        with self._store.cursor() as conn:
            conn.execute(
                "INSERT INTO elaas_docs (tbl, key, doc)"
                " SELECT %s, k, d::jsonb FROM unnest(%s::text[], %s::text[]) AS u(k, d)"
                + (", (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
                   if relaxed else "")
                + " ON CONFLICT (tbl, key) DO UPDATE SET doc = EXCLUDED.doc, rev = EXCLUDED.rev",
                (self.name, keys, texts),
            )

    def delete(self, key: str) -> None:
        self._written([key])
        with self._store.cursor() as conn:
            conn.execute("DELETE FROM elaas_docs WHERE tbl = %s AND key = %s", (self.name, key))

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return
        self._written(keys)
        with self._store.cursor() as conn:
            conn.execute("DELETE FROM elaas_docs WHERE tbl = %s AND key = ANY(%s)",
                         (self.name, keys))

    def all(self) -> dict[str, Doc]:
        with self._store.cursor() as conn:
            rows = conn.execute("SELECT key, doc FROM elaas_docs WHERE tbl = %s ORDER BY ord",
                                (self.name,)).fetchall()
        return {k: d for k, d in rows}

    def __len__(self) -> int:
        with self._store.cursor() as conn:
            row = conn.execute("SELECT count(*) FROM elaas_docs WHERE tbl = %s",
                               (self.name,)).fetchone()
        return int(row[0]) if row else 0

    def update(self, key: str, fn: Update) -> Doc | None:
        self._written([key])
        sql = "SELECT 1 FROM elaas_docs WHERE tbl = %s AND key = %s FOR UPDATE"
        with self._store.begin() as conn:
            if conn.execute(sql, (self.name, key)).fetchone() is None:
                # No row to lock yet: an advisory lock on the key stands in for it, and the
                # second look sees a row another update committed meanwhile (and locks it).
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                             (f"doc:{self.name}:{key}",))
                conn.execute(sql, (self.name, key))
            return _apply_update(self, key, fn)

    def update_many(self, keys: Iterable[str], fn: UpdateEach) -> int:
        keys = list(keys)
        self._written(keys)
        with self._store.begin() as conn:
            # Row locks in key order (two callers never deadlock); absent keys are skipped.
            conn.execute("SELECT 1 FROM elaas_docs WHERE tbl = %s AND key = ANY(%s)"
                         " ORDER BY key FOR UPDATE", (self.name, sorted(set(keys))))
            return _apply_update_many(self, keys, fn)

    def since(self, rev: int) -> tuple[dict[str, Doc], int]:
        with self._store.cursor() as conn:
            rows = conn.execute(
                "SELECT key, doc, rev FROM elaas_docs WHERE tbl = %s AND rev > %s ORDER BY rev",
                (self.name, rev)).fetchall()
        return {k: d for k, d, _ in rows}, max((int(r) for _, _, r in rows), default=rev)


class PgStore:
    """The store on PostgreSQL, shared by any number of processes."""

    def __init__(self, url: str, *, max_size: int = 8, timeout: float = 10.0,
                 check_schema: bool = True) -> None:
        """Connect (failing fast with a one-line StoreError) and check the schema version.

        Raises:
            StoreError: bad URL, login refused, database missing, or schema not migrated.
            StoreUnavailable: the server cannot be reached.
        """
        self.url = url
        self.where = describe_url(url)
        with connect(url) as conn:  # the real reason, which a pool timeout would hide
            have = schema_version(conn)
        if check_schema and have != LATEST:
            raise StoreError(
                f"PostgreSQL {self.where}: schema version {have}, this program needs {LATEST}"
                + (": run `elaas-bot db migrate`" if have < LATEST else ": upgrade elaas-bot"))
        self._idle = idle = _IdleCheck()
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, timeout=timeout, open=False,
            kwargs={"autocommit": True, "connect_timeout": 5}, configure=_configure,
            check=idle.check,  # drop idle connections a restart broke
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except (PoolTimeout, psycopg.Error) as exc:
            self._pool.close()
            raise _store_error(exc, url) from None
        self._local = threading.local()
        self._tables: dict[str, PgTable] = {}

    # connections -----------------------------------------------------------
    @contextlib.contextmanager
    def cursor(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection of the current transaction, or one from the pool (autocommit)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        try:
            with self._pool.connection() as conn:
                try:
                    yield conn
                finally:
                    self._idle.used(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise _store_error(exc, self.url) from None

    @contextlib.contextmanager
    def begin(self) -> Iterator[psycopg.Connection[Any]]:
        """A database transaction for the block (joins the current one when nested)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        try:
            # Pipeline mode: BEGIN, the lock and the first read travel in one round trip, the
            # writes and COMMIT in another (a read that needs its rows still waits for them,
            # and statements still run one after the other on the server).
            with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
                    self._idle.used(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise _store_error(exc, self.url) from None

    # read-ahead -------------------------------------------------------------
    def prime(self, docs: Mapping[tuple[str, str], str | None]) -> Primed:
        """A read-ahead of ``docs`` for :meth:`primed` (see :class:`Primed`)."""
        return Primed(docs)

    @contextlib.contextmanager
    def primed(self, primed: Primed) -> Iterator[None]:
        """Reads and deferred writes of the block go through ``primed`` (this thread only)."""
        self._local.primed = primed
        try:
            yield
        finally:
            self._local.primed = None

    def primed_now(self) -> Primed | None:
        """The read-ahead of the current :meth:`primed` block on this thread, if any."""
        return getattr(self._local, "primed", None)

    def primed_off(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """``fn(*args, **kwargs)`` outside the current read-ahead (straight to the database)."""
        primed = self.primed_now()
        self._local.primed = None
        try:
            fn(*args, **kwargs)
        finally:
            self._local.primed = primed

    def in_transaction(self) -> bool:
        """True inside :meth:`begin` on this thread (what is read there may roll back)."""
        return getattr(self._local, "conn", None) is not None

    @contextlib.contextmanager
    def transaction(self, lock: str) -> Iterator[None]:
        with self.begin() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
            yield

    # Store protocol ----------------------------------------------------------
    def table(self, name: str) -> PgTable:
        _check_name(name)
        t = self._tables.get(name)
        if t is None:
            t = self._tables.setdefault(name, PgTable(self, name))
        return t

    def tables(self, prefix: str = "") -> list[str]:
        with self.cursor() as conn:
            rows = conn.execute("SELECT DISTINCT tbl FROM elaas_docs WHERE starts_with(tbl, %s)",
                                (prefix,)).fetchall()
        return sorted(r[0] for r in rows)

    def close(self) -> None:
        self._pool.close()
