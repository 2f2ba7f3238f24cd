"""Decoded in-memory copies of the small status tables, caught up through ``Table.since``."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from bot.core.sharing import is_shared
from bot.core.store import Doc, Store

# On a shared store (PostgreSQL) a copy is checked against the database at most this often:
# a status, probe result or field vote written by another instance shows within this bound
# (one revision query per table per second instead of loading whole tables for every answer).
# Writes through this process invalidate the copy at once. The embedded store has one owner
# and ``since`` costs a comparison there, so it is checked on every read.
SHARED_TTL = 1.0
# ``since`` reports no deletes, and on PostgreSQL two writes outside one lock may commit out
# of revision order: a full reload this often bounds both (deleted rows are old probe results
# and expired votes, which no reader counts anyway).
FULL_EVERY = 30.0


class TableMirror:
    """One table's documents, decoded by ``load``, refreshed only when the table changed.

    ``version`` grows whenever the content may have changed, so callers can keep values
    derived from :meth:`items` until it moves.
    """

    def __init__(self, store: Store, name: str, *, ttl: float | None = None,
                 full_every: float = FULL_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.table = store.table(name)
        self.ttl = (SHARED_TTL if is_shared(store) else 0.0) if ttl is None else ttl
        self.full_every = full_every
        self.clock = clock
        self.version = 0
        self._docs: dict[str, Doc] = {}
        self._rev = 0
        self._checked: float | None = None
        self._loaded: float | None = None
        self._lock = threading.Lock()
        self._derived: dict[str, tuple[int, Any]] = {}
        self._in_transaction: Callable[[], bool] = getattr(
            store, "in_transaction", lambda: False)

    def invalidate(self, *, deleted: bool = False) -> None:
        """A write went through this process: the next read asks the table again (all of
        it after a delete, which ``since`` does not report)."""
        with self._lock:
            self._checked = None
            if deleted:
                self._loaded = None

    def docs(self, *, fresh: bool = False) -> dict[str, Doc]:
        """The documents (read-only: shared between callers); ``fresh`` skips the TTL."""
        return self._read(fresh)[0]

    def _read(self, fresh: bool) -> tuple[dict[str, Doc], int]:
        if self._in_transaction():
            # Read inside a database transaction: it may see its own uncommitted writes and
            # then roll back, so it is read whole and kept out of the copy (version -1).
            return self.table.since(0)[0], -1
        with self._lock:
            now = self.clock()
            if (not fresh and self._checked is not None and now - self._checked < self.ttl
                    and self._loaded is not None and now - self._loaded < self.full_every):
                return self._docs, self.version
            if self._loaded is None or now - self._loaded >= self.full_every:
                docs, rev = self.table.since(0)
                self._docs, self._rev, self._loaded = docs, rev, now
                self.version += 1
            else:
                changed, rev = self.table.since(self._rev)
                if changed:
                    self._docs = {**self._docs, **changed}
                    self.version += 1
                self._rev = max(self._rev, rev)
            self._checked = now
            return self._docs, self.version

    def derived(self, name: str, make: Callable[[dict[str, Doc]], Any], *,
                fresh: bool = False) -> Any:
        """``make(docs)``, computed again only when the documents changed."""
        docs, version = self._read(fresh)
        with self._lock:
            hit = self._derived.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = make(docs)
        if version >= 0:
            with self._lock:
                self._derived[name] = (version, value)
        return value


_MIRRORS: weakref.WeakKeyDictionary[Any, dict[str, TableMirror]] = weakref.WeakKeyDictionary()
_MIRRORS_LOCK = threading.Lock()


def mirror(store: Store, name: str) -> TableMirror:
    """The one mirror of table ``name`` of ``store`` in this process."""
    with _MIRRORS_LOCK:
        per = _MIRRORS.setdefault(store, {})
        m = per.get(name)
        if m is None:
            m = per[name] = TableMirror(store, name)
        return m


def invalidate(store: Store, name: str, *, deleted: bool = False) -> None:
    """Tell the mirror of ``name`` (if any) that this process just wrote to it."""
    with _MIRRORS_LOCK:
        m = _MIRRORS.get(store, {}).get(name)
    if m is not None:
        m.invalidate(deleted=deleted)
