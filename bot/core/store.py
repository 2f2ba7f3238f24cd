"""Persistence behind one small protocol: a TinyDB store (atomic files) and an in-memory twin.

(Over 500 lines on purpose: the protocol, the in-memory twin and the TinyDB store are kept
together so the one contract and its two single-owner implementations read side by side.)

A store holds named tables; a table maps string keys to JSON documents. Table names may contain
``/`` (``lao/01234567/ledger``): the TinyDB store keeps one file per table, so each LAO's ledger
is its own file. Every write replaces the file atomically (temp file + fsync + rename), so a
crash leaves either the old or the new file, never a torn one. Exactly one process may own a
data directory: :func:`lock_data_dir` takes a lock file and a second owner is refused.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

if TYPE_CHECKING:
    from filelock import FileLock

SCHEMA_VERSION = 1
_META = "_meta"
_TABLE = "records"
_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_.\-]*(/[a-z0-9_][a-z0-9_.\-]*)*$")

Doc = dict[str, Any]


class StoreError(RuntimeError):
    """The store cannot be used (locked by another process, unreadable file, bad name)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now (down, restarting); the write did not happen.

    A webhook should answer 503 on this so that the channel redelivers the event later.
    """


Update = Callable[[Doc | None], Mapping[str, Any] | None]
"""``fn(old) -> new``: ``old`` is a copy of the stored document or None; None deletes."""

UpdateEach = Callable[[str, Doc], Mapping[str, Any]]
"""``fn(key, old) -> new`` for each existing document of ``Table.update_many``."""


class Table(Protocol):
    """A keyed collection of JSON documents."""

    def get(self, key: str) -> Doc | None:
        """The document stored under ``key`` (a copy), or None."""

    def put(self, key: str, doc: Mapping[str, Any]) -> None:
        """Store ``doc`` under ``key``, replacing what was there; durable when it returns."""

    def put_many(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        """Store several documents in one atomic write."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove several keys (those present) in one atomic write."""

    def all(self) -> dict[str, Doc]:
        """Every document by key (copies), in insertion order."""

    def __len__(self) -> int:
        """Number of documents."""

    def update(self, key: str, fn: Update) -> Doc | None:
        """Read-modify-write one document atomically: no other ``update`` (or
        ``Store.transaction``) in any process sharing the store runs between the read and
        the write. ``fn`` may raise to leave the document unchanged.

        Returns:
            The stored document after the call (None when absent).
        """

    def update_many(self, keys: Iterable[str], fn: UpdateEach) -> int:
        """Read-modify-write the existing documents among ``keys`` in one atomic write,
        serialised with ``update`` on the same keys (absent keys are skipped).

        Returns:
            How many documents changed.
        """

    def since(self, rev: int) -> tuple[dict[str, Doc], int]:
        """Documents written after revision ``rev`` (0: all) and the revision to ask next.

        Lets a process keep a copy of a table and catch up with writes made by others.
        Deletes are not reported. Exact for tables whose writes all happen inside
        ``Store.transaction`` on one lock (the ledger): then revisions commit in order.
        """


class Store(Protocol):
    """A set of named tables."""

    def table(self, name: str) -> Table:
        """The table called ``name`` (created empty on first write)."""

    def tables(self, prefix: str = "") -> list[str]:
        """Names of existing tables starting with ``prefix``."""

    def transaction(self, lock: str) -> AbstractContextManager[None]:
        """Run a block of reads and writes serialised with every other block on ``lock``.

        On PostgreSQL the block is one database transaction under an advisory lock: every
        process sharing the database waits its turn and the writes commit together or not
        at all. The embedded stores have a single owner process, so a per-process lock
        gives the same ordering; each write in the block is atomic on its own, so callers
        order their writes so that a crash between two of them loses nothing.
        """

    def close(self) -> None:
        """Release files and locks."""


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new, never a mix.

    Writes a temp file in the same folder, fsyncs it, renames it over ``path`` and fsyncs the
    folder (so the rename itself survives a power cut). The temp file is removed on failure.
    """
    folder = path.parent
    if not folder.is_dir():  # mkdir(parents=True) would give the parents the umask's mode
        for p in [*reversed(folder.parents), folder]:
            if not p.is_dir():
                p.mkdir(mode=0o700, exist_ok=True)
    # mkstemp creates the file 0600 and the rename keeps that mode: data is owner-only.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(folder, os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name) or ".." in name:
        raise StoreError(f"bad table name: {name!r}")


# --------------------------------------------------------------------------- in memory


class _Revisions:
    """Per-table write counter for :meth:`Table.since` in the single-owner stores."""

    def __init__(self) -> None:
        self.rev = 0
        self.of: dict[str, int] = {}
        self.lock = threading.RLock()

    def bump(self, keys: list[str]) -> None:
        self.rev += 1
        for k in keys:
            self.of[k] = self.rev

    def changed(self, rev: int, docs: Callable[[], dict[str, Doc]]) -> tuple[dict[str, Doc], int]:
        if rev >= self.rev:
            return {}, self.rev
        return {k: d for k, d in docs().items() if self.of.get(k, 0) > rev}, self.rev


class _OwnedTable:
    """``update``/``update_many``/``since`` of the single-owner tables (memory, TinyDB): a
    per-table lock in the one owning process serialises read-modify-write."""

    _revs: _Revisions

    def update(self, key: str, fn: Update) -> Doc | None:
        with self._revs.lock:
            return _apply_update(self, key, fn)  # type: ignore[arg-type]

    def update_many(self, keys: Iterable[str], fn: UpdateEach) -> int:
        with self._revs.lock:
            return _apply_update_many(self, keys, fn)  # type: ignore[arg-type]

    def since(self, rev: int) -> tuple[dict[str, Doc], int]:
        return self._revs.changed(rev, self.all)  # type: ignore[attr-defined]


class MemoryTable(_OwnedTable):
    """In-memory twin of :class:`TinyTable`, same semantics, for tests and dry runs."""

    def __init__(self) -> None:
        self._docs: dict[str, Doc] = {}
        self._revs = _Revisions()

    def get(self, key: str) -> Doc | None:
        doc = self._docs.get(key)
        return copy.deepcopy(doc) if doc is not None else None

    def put(self, key: str, doc: Mapping[str, Any]) -> None:
        self.put_many({key: doc})

    def put_many(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        fresh = {k: _roundtrip(d) for k, d in docs.items()}  # validate all before changing any
        self._docs.update(fresh)
        self._revs.bump(list(fresh))

    def delete(self, key: str) -> None:
        self._docs.pop(key, None)

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._docs.pop(key, None)

    def all(self) -> dict[str, Doc]:
        return copy.deepcopy(self._docs)

    def __len__(self) -> int:
        return len(self._docs)


class MemoryStore:
    """A store that lives and dies with the process."""

    def __init__(self) -> None:
        self._tables: dict[str, MemoryTable] = {}

    def table(self, name: str) -> MemoryTable:
        _check_name(name)
        return self._tables.setdefault(name, MemoryTable())

    def tables(self, prefix: str = "") -> list[str]:
        return sorted(n for n, t in self._tables.items() if n.startswith(prefix) and len(t))

    def transaction(self, lock: str) -> AbstractContextManager[None]:
        return _local_locks.hold(f"{id(self)}:{lock}")

    def close(self) -> None:
        self._tables.clear()


def _roundtrip(doc: Mapping[str, Any]) -> Doc:
    """Copy through JSON so both stores accept and return exactly the same values."""
    loaded: Doc = json.loads(json.dumps(dict(doc), ensure_ascii=False))
    return loaded


def _apply_update(table: Table, key: str, fn: Update) -> Doc | None:
    """The read-modify-write of ``Table.update`` for a caller that holds the table's lock."""
    old = table.get(key)
    new = fn(copy.deepcopy(old) if old is not None else None)
    if new is None:
        if old is not None:
            table.delete(key)
        return None
    fresh = _roundtrip(new)
    if fresh != old:  # an unchanged document costs no write (a whole-file one on TinyDB)
        table.put(key, fresh)
    return fresh


def _apply_update_many(table: Table, keys: Iterable[str], fn: UpdateEach) -> int:
    """``Table.update_many`` for a caller that holds the table's lock: one put_many."""
    changed: dict[str, Doc] = {}
    for key in sorted(set(keys)):
        old = table.get(key)
        if old is None:
            continue
        new = _roundtrip(fn(key, copy.deepcopy(old)))
        if new != old:
            changed[key] = new
    table.put_many(changed)
    return len(changed)


class _LocalLocks:
    """Named re-entrant locks for ``Store.transaction`` in a single-owner process."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.RLock())
        with lock:
            yield


_local_locks = _LocalLocks()


# --------------------------------------------------------------------------- TinyDB


class AtomicJSONStorage(Storage):
    """TinyDB storage: reads the file once, writes it whole and atomically on every change.

    TinyDB's own JSONStorage rewrites the file in place (a failed write corrupts it) and
    escapes Thai as ``\\uXXXX``. This one writes UTF-8 to a temp file in the same folder,
    fsyncs it, renames it over the old one and fsyncs the folder. While :meth:`batch` is
    active, writes are held and made once at the end.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._cache: Doc | None = None
        self._held = 0
        self._dirty = False

    def read(self) -> Doc | None:
        if self._cache is None:
            try:
                with open(self.path, "rb") as f:
                    self._cache = orjson.loads(f.read())
            except FileNotFoundError:
                return None
            except orjson.JSONDecodeError as exc:
                raise StoreError(f"{self.path}: not valid JSON ({exc}); the file was left "
                                 "as is: restore it from a backup or move it away") from None
            _check_shape(self.path, self._cache)
        return self._cache

    def write(self, data: Doc) -> None:
        self._cache = data
        if self._held:
            self._dirty = True
            return
        self._flush(data)

    def _flush(self, data: Doc) -> None:
        try:
            # orjson writes UTF-8 Thai as is, ~8x faster than json.dump for 10k entries.
            atomic_write(Path(self.path), orjson.dumps(data))
        except BaseException:
            self._cache = None  # memory may be ahead of disk now: reload on next read
            raise

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold writes inside the block and write once at the end (or not at all on error)."""
        self._held += 1
        try:
            yield
        except BaseException:
            self._held -= 1
            if not self._held:
                self._dirty = False
                self._cache = None
            raise
        self._held -= 1
        if not self._held and self._dirty:
            self._dirty = False
            assert self._cache is not None
            self._flush(self._cache)

    def close(self) -> None:
        self._cache = None


def _check_shape(path: str, data: Any) -> None:
    """Refuse a file that is JSON but not a table file (``{table: {id: {...}}}``) by name,
    before TinyDB fails on it somewhere deep, and before anything could be written over it."""
    ok = isinstance(data, dict) and all(
        isinstance(t, dict) and all(k.isdigit() and isinstance(d, dict) for k, d in t.items())
        for t in data.values())
    if not ok:
        raise StoreError(f"{path}: not a table file (wrong shape); the file was left as is: "
                         "restore it from a backup or move it away")


class TinyTable(_OwnedTable):
    """A table backed by one TinyDB file; keys are kept in a ``_key`` field."""

    def __init__(self, path: Path) -> None:
        self._db = TinyDB(str(path), storage=AtomicJSONStorage)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._records = self._db.table(_TABLE, cache_size=0)
        self._ids: dict[str, int] = {}
        self._next = 1
        self._revs = _Revisions()
        meta = self._db.table(_META, cache_size=0).get(doc_id=1)
        if meta is not None and int(meta.get("schema", 0)) > SCHEMA_VERSION:
            raise StoreError(f"{path}: schema {meta['schema']} is newer than this program")
        for doc in self._records.all():
            if not isinstance(doc.get("_key"), str):
                raise StoreError(f"{path}: record {doc.doc_id} has no key (wrong shape); "
                                 "the file was left as is")
            self._ids[doc["_key"]] = doc.doc_id
            self._next = max(self._next, doc.doc_id + 1)
        if self._ids:
            self._revs.bump(list(self._ids))

    def _ensure_meta(self) -> None:
        meta = self._db.table(_META, cache_size=0)
        if meta.get(doc_id=1) is None:
            meta.insert(Document({"schema": SCHEMA_VERSION}, doc_id=1))

    def get(self, key: str) -> Doc | None:
        doc_id = self._ids.get(key)
        if doc_id is None:
            return None
        doc = self._records.get(doc_id=doc_id)
        if doc is None:
            return None
        out = copy.deepcopy(dict(doc))
        out.pop("_key", None)
        return out

    def put(self, key: str, doc: Mapping[str, Any]) -> None:
        self.put_many({key: doc})

    def put_many(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        if not docs:
            return
        fresh = {k: _roundtrip({**d, "_key": k}) for k, d in docs.items()}
        ids = dict(self._ids)
        nxt = self._next
        for key in fresh:
            if key not in ids:
                ids[key] = nxt
                nxt += 1

        with self._storage.batch():
            self._ensure_meta()
            # The whole batch in one pass through our own storage (TinyDB keeps document ids
            # as strings in the file): TinyDB's public upsert would rebuild the table once
            # per document, and its table internals are not an API.
            data = self._storage.read() or {}
            records = data.setdefault(_TABLE, {})
            for key, doc in fresh.items():
                records[str(ids[key])] = doc
            self._storage.write(data)
        self._ids, self._next = ids, nxt
        self._revs.bump(list(fresh))

    def delete(self, key: str) -> None:
        doc_id = self._ids.get(key)
        if doc_id is None:
            return
        self._records.remove(doc_ids=[doc_id])
        del self._ids[key]

    def delete_many(self, keys: Iterable[str]) -> None:
        present = [k for k in dict.fromkeys(keys) if k in self._ids]
        if not present:
            return
        self._records.remove(doc_ids=[self._ids[k] for k in present])  # one write
        for k in present:
            del self._ids[k]

    def all(self) -> dict[str, Doc]:
        out: dict[str, Doc] = {}
        for doc in self._records.all():
            d = copy.deepcopy(dict(doc))
            out[d.pop("_key")] = d
        return out

    def __len__(self) -> int:
        return len(self._ids)

    def close(self) -> None:
        self._db.close()


class TinyStore:
    """The default store: one TinyDB JSON file per table under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        make_private_dir(self.data_dir)
        self._tables: dict[str, TinyTable] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.data_dir / (name + ".json")

    def table(self, name: str) -> TinyTable:
        _check_name(name)
        with self._lock:
            t = self._tables.get(name)
            if t is None:
                t = self._tables[name] = TinyTable(self._path(name))
            return t

    def tables(self, prefix: str = "") -> list[str]:
        names = {
            str(p.relative_to(self.data_dir).with_suffix(""))
            for p in self.data_dir.rglob("*.json")
            if not p.name.startswith(".")
        }
        names |= {n for n, t in self._tables.items() if len(t)}
        return sorted(n for n in names if n.startswith(prefix) and _NAME_RE.match(n))

    def transaction(self, lock: str) -> AbstractContextManager[None]:
        return _local_locks.hold(f"{self.data_dir.resolve()}:{lock}")

    def close(self) -> None:
        for t in self._tables.values():
            t.close()
        self._tables.clear()


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) and make it owner-only (0700): the data holds ledgers
    and chat ids. An existing folder is tightened too, since older versions made it 0755."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours (a mounted volume): leave it as it is
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)


def lock_data_dir(data_dir: Path) -> FileLock:
    """Take the data directory's owner lock, or raise StoreError naming the problem.

    Returns:
        The held lock; release it (``lock.release()``) when the process stops owning the data.
    """
    # Imported here: filelock costs 0.03 s, and `ask` (in memory) never takes the lock.
    from filelock import FileLock, Timeout

    make_private_dir(data_dir)
    lock = FileLock(str(data_dir / ".owner.lock"), mode=0o600)
    try:
        lock.acquire(timeout=0.2)
    except Timeout as exc:
        raise StoreError(
            f"another elaas-bot process already owns {data_dir} "
            "(stop it first, or use a different ELAAS_DATA_DIR)"
        ) from exc
    return lock
