"""Per-LAO key-back summary kept up to date on every ledger and membership write.

The console's progress page must not open thousands of ledger files per request, so every
write that changes what it shows (an entry logged, voided or keyed; a member joining or
leaving; an LAO added) also updates a small summary document for that LAO. Summaries live in
``SHARDS`` tables (``summary/s00`` ...) so that one write rewrites about 1/32 of them, and in
memory: one process owns the data directory, so the in-memory copy is the truth. On the shared
PostgreSQL store several instances write, so there each write is an atomic update of the stored
document, ``get`` reads the store and ``all`` catches up with the documents changed since.

A crash between a ledger write and its summary write leaves that LAO's summary one write
behind; :meth:`Summaries.verify` (called whenever a ledger is opened, which reads the whole
ledger anyway) recounts it and repairs the document.
"""

from __future__ import annotations

import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from msgspec.structs import replace

from bot.core.codec import decode, encode
from bot.core.sharing import is_shared
from bot.core.store import Doc, Store
from bot.ledger.entries import Entry, is_sandbox

SHARDS = 32
FULL_SECONDS = 900.0
"""Shared store: how often :meth:`Summaries.all` reads every summary again (see _catch_up)."""
PREFIX = "summary/s"
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")


class LaoSummary(msgspec.Struct, frozen=True):
    """What the progress page shows for one LAO.

    ``keyed`` counts entries keyed back and not voided; ``days`` maps an ISO date (Bangkok) to
    ``(logged, keyed)``: entries recorded that day and entries marked keyed that day (stored
    as two-item lists).
    """

    code: str
    name: str = ""
    province: str = ""
    members: int = 0
    logged: int = 0
    voided: int = 0
    keyed: int = 0
    last: str = ""
    days: dict[str, tuple[int, int]] = {}

    @property
    def pending(self) -> int:
        """Entries still to key back into e-LAAS."""
        return self.logged - self.voided - self.keyed

    def counts(self) -> tuple[int, int, int, int, str, dict[str, tuple[int, int]]]:
        """Everything but the names: what a recount must reproduce."""
        return (self.members, self.logged, self.voided, self.keyed, self.last, dict(self.days))


def _day(at: datetime) -> str:
    return at.astimezone(BANGKOK).date().isoformat()


def _live_keyed(e: Entry | None) -> bool:
    return e is not None and e.keyed and not e.voided


def _stamp(e: Entry) -> str:
    """The latest moment anything happened to ``e`` (ISO, Bangkok)."""
    times = [e.recorded_at]
    if e.keyed_at is not None:
        times.append(e.keyed_at)
    if e.void is not None:
        times.append(e.void.at)
    return max(t.astimezone(BANGKOK) for t in times).isoformat()


def apply_change(s: LaoSummary, old: Entry | None, new: Entry) -> LaoSummary:
    """``s`` after one entry went from ``old`` (None: new entry) to ``new``."""
    days = dict(s.days)
    logged, voided, keyed = s.logged, s.voided, s.keyed
    if old is None:
        logged += 1
        d = _day(new.recorded_at)
        lg, ky = days.get(d, (0, 0))
        days[d] = (lg + 1, ky)
    if new.voided and not (old is not None and old.voided):
        voided += 1
    keyed += int(_live_keyed(new)) - int(_live_keyed(old))
    if old is not None and old.keyed_at is not None and new.keyed_at != old.keyed_at:
        d = _day(old.keyed_at)  # a keyed mark taken off (or moved): that day counts one less
        lg, ky = days.get(d, (0, 0))
        if lg or ky > 1:
            days[d] = (lg, ky - 1)
        else:  # as a recount has it: no such day
            days.pop(d, None)
    if new.keyed_at is not None and (old is None or old.keyed_at != new.keyed_at):
        d = _day(new.keyed_at)
        lg, ky = days.get(d, (0, 0))
        days[d] = (lg, ky + 1)
    return replace(s, logged=logged, voided=voided, keyed=keyed,
                   last=max(s.last, _stamp(new)), days=days)


def recount(code: str, entries: Iterable[Entry], members: int, name: str = "",
            province: str = "") -> LaoSummary:
    """The summary of an LAO computed from scratch (the reference for the on-write updates)."""
    s = LaoSummary(code, name, province, members)
    for e in entries:
        s = apply_change(s, None, e)
    return s


SHARD_NAMES = tuple(f"{PREFIX}{i:02d}" for i in range(SHARDS))


def shard_of(code: str) -> str:
    return f"{PREFIX}{zlib.crc32(code.encode()) % SHARDS:02d}"


_REGISTRY: weakref.WeakKeyDictionary[Any, Summaries] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


class Summaries:
    """All LAO summaries of one store (use :meth:`of`: one instance per store)."""

    def __init__(self, store: Store):
        self._store = weakref.ref(store)  # the registry is keyed weakly by the store
        self._lock = threading.RLock()
        self._by_code: dict[str, LaoSummary] = {}
        self._shared = is_shared(store)
        self._revs: dict[str, tuple[int, int]] = {}  # shard: (asked from, newest seen)
        self._full_at = float("-inf")
        if self._shared:  # read from the store on every call: other instances write too
            if store.tables("laos") and not store.tables(PREFIX):
                self.rebuild()
            return
        for name in store.tables(PREFIX):
            for code, doc in store.table(name).all().items():
                self._by_code[code] = decode(doc, LaoSummary, where=f"{name}/{code}")
        if not self._by_code and store.tables("laos"):
            self.rebuild()

    @property
    def store(self) -> Store:
        store = self._store()
        assert store is not None, "the store was closed and dropped"
        return store

    @classmethod
    def of(cls, store: Store) -> Summaries:
        """The summaries of ``store``, loaded once per process."""
        with _REGISTRY_LOCK:
            s = _REGISTRY.get(store)
            if s is None:
                s = _REGISTRY[store] = cls(store)
            return s

    def rebuild(self) -> None:
        """Recount every LAO from its ledger and the member list (data made before summaries)."""
        from bot.ledger.book import LAOS, MEMBERS  # the ledger module imports this one

        laos = self.store.table(LAOS).all()
        members: dict[str, int] = {}
        for d in self.store.table(MEMBERS).all().values():
            members[d["lao_code"]] = members.get(d["lao_code"], 0) + 1
        codes = set(laos) | {n.split("/")[1] for n in self.store.tables("lao/")
                             if n.endswith("/ledger")}
        for code in sorted(codes):
            entries = [decode(d, Entry, where=f"lao/{code}/ledger/{k}")
                       for k, d in self.store.table(f"lao/{code}/ledger").all().items()]
            lao = laos.get(code, {})
            self._save(recount(code, entries, members.get(code, 0), lao.get("name", ""),
                               lao.get("province", "")))

    # ------------------------------------------------------------------ reads

    def get(self, code: str) -> LaoSummary:
        if self._shared:
            doc = self.store.table(shard_of(code)).get(code)
            return (decode(doc, LaoSummary, where=f"{shard_of(code)}/{code}") if doc
                    else LaoSummary(code))
        with self._lock:
            return self._by_code.get(code) or LaoSummary(code)

    def all(self) -> list[LaoSummary]:
        """Every real LAO's summary, no demo sandbox's (a snapshot; the objects are
        immutable): what every operator view and export counts."""
        with self._lock:
            if self._shared:
                self._catch_up()
            return [s for code, s in self._by_code.items() if not is_sandbox(code)]

    def _catch_up(self) -> None:
        """Shared store: fetch the summaries other instances changed since the last call.

        Reading all 7,850 documents takes one to three seconds; ``Table.since`` returns only
        the changed ones. A write that took its revision before another but committed after
        it would be skipped by asking from the newest revision seen, so each call asks from
        the revision the call before last saw (the docs changed over two calls are read
        again), and everything is read again every ``FULL_SECONDS``.
        """
        now = time.monotonic()
        if now - self._full_at > FULL_SECONDS:
            self._revs.clear()
            self._full_at = now
        for name in SHARD_NAMES:  # not store.tables(): on PostgreSQL that scans every row
            before, last = self._revs.get(name, (0, 0))
            docs, newest = self.store.table(name).since(before)
            self._revs[name] = (newest, newest) if not before else (last, max(newest, last))
            for code, doc in docs.items():
                self._by_code[code] = decode(doc, LaoSummary, where=f"{name}/{code}")

    # ------------------------------------------------------------------ writes

    def _save(self, s: LaoSummary) -> None:
        self.store.table(shard_of(s.code)).put(s.code, encode(s))
        if not self._shared:
            self._by_code[s.code] = s

    def _change(self, code: str, fn: Callable[[LaoSummary, bool], LaoSummary | None]) -> bool:
        """Apply ``fn(current, known)`` to ``code``'s summary (None: no change); True if saved.

        Shared store: a read-modify-write of the stored document, atomic across instances
        (another instance's copy in memory would be stale). One owner: the in-memory copy.
        """
        if not self._shared:
            with self._lock:
                new = fn(self.get(code), code in self._by_code)
                if new is not None:
                    self._save(new)
                return new is not None
        changed = False
        where = f"{shard_of(code)}/{code}"

        def update(old: Doc | None) -> Mapping[str, Any] | None:
            nonlocal changed
            new = fn(decode(old, LaoSummary, where=where) if old else LaoSummary(code),
                     old is not None)
            changed = new is not None
            return encode(new) if new is not None else old

        self.store.table(shard_of(code)).update(code, update)
        return changed

    def on_entries(self, code: str, changes: Iterable[tuple[Entry | None, Entry]]) -> None:
        """Entries of ``code`` were written: ``(before, after)`` pairs, before None if new."""
        pairs = list(changes)

        def apply(s: LaoSummary, known: bool) -> LaoSummary:
            for old, new in pairs:
                s = apply_change(s, old, new)
            return s

        self._change(code, apply)

    def on_lao(self, code: str, name: str, province: str) -> None:
        def rename(s: LaoSummary, known: bool) -> LaoSummary | None:
            if (s.name, s.province) != (name, province) or not known:
                return replace(s, name=name, province=province)
            return None

        self._change(code, rename)

    def on_member(self, code: str, delta: int) -> None:
        if not delta:
            return
        self._change(code, lambda s, known: replace(s, members=max(0, s.members + delta)))

    def verify(self, code: str, entries: Iterable[Entry]) -> bool:
        """Repair ``code``'s entry counts if they differ from ``entries``; True if repaired."""
        listed = list(entries)

        def recheck(s: LaoSummary, known: bool) -> LaoSummary | None:
            fresh = recount(code, listed, s.members, s.name, s.province)
            return None if fresh.counts()[1:] == s.counts()[1:] else fresh

        return self._change(code, recheck)
