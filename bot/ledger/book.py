"""Per-LAO manual ledger: numbered entries, voids, key-back marks (members: see directory.py)."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from msgspec.structs import replace

from bot.core.codec import decode, encode
from bot.core.store import Store
from bot.ledger.directory import (  # re-exported: the ledger's importers find them here
    INVITE_DAYS,
    INVITES,
    JOIN_FAILURES,
    LAOS,
    MAX_JOIN_FAILURES,
    MEMBERS,
    Directory,
    Invite,
    LastAdmin,
    LedgerError,
    Member,
    Role,
    code_key,
    new_join_code,
    valid_lao_code,
)
from bot.ledger.duplicates import DuplicateFound, doc_key, find_duplicates
from bot.ledger.entries import Entry, ParsedEntry, Void
from bot.ledger.summary import Summaries

__all__ = [
    "INVITES", "INVITE_DAYS", "JOIN_FAILURES", "LAOS", "MAX_JOIN_FAILURES", "MEMBERS",
    "DaySummary", "Directory", "Invite", "LastAdmin", "Ledger", "LedgerBook", "LedgerError",
    "Member", "Role",
    "code_key", "new_join_code", "parse_numbers", "valid_lao_code",
]
_RANGE = re.compile(r"(\d+)(?:\s*(?:-|–|ถึง)\s*(\d+))?")

_LOG = logging.getLogger(__name__)



@dataclass(frozen=True)
class DaySummary:
    """Totals of one day (voided entries excluded)."""

    day: date
    receipts: Decimal
    payments: Decimal
    count: int

    @property
    def net(self) -> Decimal:
        return self.receipts - self.payments


def refuse_void(e: Entry, by: str, *, may_void_any: bool) -> None:
    """The one rule of who may void ``e``: its author, or an LAO admin (``may_void_any``);
    checked when the void is asked for (before its reason) and again when it is done.

    Raises:
        LedgerError: ``e`` is voided already, or ``by`` may not void it.
    """
    if e.voided:
        raise LedgerError(f"รายการที่ {e.no} ยกเลิกไปแล้วค่ะ")
    if e.author != by and not may_void_any:
        raise LedgerError("ยกเลิกได้เฉพาะรายการที่ตัวเองบันทึก หรือผู้ดูแล อปท. เท่านั้นค่ะ")


class Ledger:
    """The entries of one LAO, in one table, with an in-memory copy kept up to date.

    Before every read the copy catches up with what was written since (``Table.since``: one
    indexed query on PostgreSQL, nothing on the embedded stores), so several processes on
    one database see each other's entries. Every change runs inside
    ``store.transaction("ledger:<code>")``: numbering and the event-id check see every
    earlier entry, and a change is written through the store before it is acknowledged.
    """

    def __init__(self, store: Store, lao_code: str):
        self.lao_code = lao_code
        self._store = store
        self._table = store.table(f"lao/{lao_code}/ledger")
        self._entries: dict[int, Entry] = {}
        self._by_event: dict[str, int] = {}
        self._by_doc: dict[tuple[str, str], list[int]] = {}  # (kind, doc_key) -> entry numbers
        self._last_no = 0  # max(self._entries) kept up to date: O(1) numbering at 100k entries
        self._rev = 0
        self._lock = threading.RLock()
        self._verified = False
        self._sync()

    def _sync(self) -> None:
        """Catch up with entries written since the last look, by this process or another."""
        with self._lock:
            docs, rev = self._table.since(self._rev)
            for key, doc in docs.items():
                self._remember(decode(doc, Entry, where=f"lao/{self.lao_code}/ledger/{key}"))
            self._rev = max(self._rev, rev)

    def _remember(self, e: Entry) -> None:
        self._entries[e.no] = e
        self._last_no = max(self._last_no, e.no)
        if e.event_id:
            self._by_event[e.event_id] = e.no
        if e.doc_no:
            nos = self._by_doc.setdefault((e.kind, doc_key(e.doc_no)), [])
            if e.no not in nos:
                nos.append(e.no)

    @contextlib.contextmanager
    def _change(self) -> Iterator[list[Entry]]:
        """Serialise a change with every other one on this LAO, in any process.

        The block appends the entries it wrote; they join the copy only once the store
        has committed them.
        """
        written: list[Entry] = []
        with self._lock:
            with self._store.transaction(f"ledger:{self.lao_code}"):
                self._sync()
                yield written
            for e in written:
                self._remember(e)

    def _summary(self) -> Summaries:
        """The store's summaries, after checking this LAO's against the entries once: a crash
        between a ledger write and its summary write is repaired by the next write (only the
        owner of the data dir writes, so read-only openers never touch the summaries)."""
        sums = Summaries.of(self._store)
        if not self._verified:
            sums.verify(self.lao_code, self._entries.values())
            self._verified = True
        return sums

    def __len__(self) -> int:
        self._sync()
        return len(self._entries)

    def get(self, no: int) -> Entry | None:
        self._sync()
        return self._entries.get(no)

    def add_many(
        self, items: Sequence[tuple[ParsedEntry, str]], *, author: str, author_name: str,
        channel: str, now: datetime, check_duplicates: bool = False,
        sent_on: date | None = None,
    ) -> list[tuple[Entry, bool]]:
        """Save parsed entries (each with its event id) in one atomic write; ``sent_on``:
        the day the clerk sent them (see ``Entry.sent_on``).

        Returns:
            ``(entry, created)`` pairs; ``created`` is False for an event id already saved
            (a redelivered webhook), which returns the earlier entry instead of a copy.

        Raises:
            DuplicateFound: with ``check_duplicates``, some new items repeat a document number
                or were sent twice (see :mod:`bot.ledger.duplicates`); nothing is saved.
        """
        with self._change() as written:
            if check_duplicates:
                found = [d for d in find_duplicates(
                    [p for p, _ in items], by_doc=self._live_by_doc, recent=self._newest(),
                    author=author, now=now) if items[d.line][1] not in self._by_event]
                if found:
                    raise DuplicateFound(found)
            out: list[tuple[Entry, bool]] = []
            fresh: dict[str, Entry] = {}
            seen: dict[str, Entry] = {}
            nxt = self._last_no + 1
            for parsed, event_id in items:
                known = self._by_event.get(event_id) if event_id else None
                if known is not None or event_id in seen:
                    out.append((self._entries[known] if known is not None
                                else seen[event_id], False))
                    continue
                e = Entry(
                    lao_code=self.lao_code, no=nxt, kind=parsed.kind, amount=parsed.amount,
                    description=parsed.description, date=parsed.date, doc_no=parsed.doc_no,
                    method=parsed.method, author=author, author_name=author_name,
                    recorded_at=now, sent_on=sent_on, event_id=event_id, channel=channel,
                )
                nxt += 1
                fresh[f"{e.no:07d}"] = e
                if event_id:
                    seen[event_id] = e
                out.append((e, True))
            if fresh:
                sums = self._summary()
                self._table.put_many({k: encode(e) for k, e in fresh.items()})
                written.extend(fresh.values())
                sums.on_entries(self.lao_code, [(None, e) for e in fresh.values()])
        return out

    def _live_by_doc(self, kind: str, key: str) -> Entry | None:
        for no in self._by_doc.get((kind, key), ()):
            e = self._entries[no]
            if not e.voided:
                return e
        return None

    def _newest(self) -> Iterator[Entry]:
        for no in range(self._last_no, 0, -1):
            e = self._entries.get(no)
            if e is not None:
                yield e

    def void(self, no: int, *, by: str, by_name: str, reason: str, now: datetime,
             may_void_any: bool) -> Entry:
        """Mark an entry void (never deleted). Its author or an LAO admin may void it;
        ``by_name``: their name as shown now (kept with the void, see ``Void.by_name``)."""
        with self._change() as written:
            e = self._entries.get(no)
            if e is None:
                raise LedgerError(f"ไม่พบรายการที่ {no}")
            refuse_void(e, by, may_void_any=may_void_any)
            voided = replace(e, void=Void(by, now, reason.strip() or "-", by_name))
            self._write([voided], written)
        return voided

    def mark_keyed(self, nos: Iterable[int], *, by: str, now: datetime) -> list[Entry]:
        """Mark entries as keyed back into e-LAAS; returns those newly marked."""
        with self._change() as written:
            changed = []
            for no in sorted(set(nos)):
                e = self._entries.get(no)
                if e is None or e.voided or e.keyed:
                    continue
                changed.append(replace(e, keyed_at=now, keyed_by=by))
            self._write(changed, written)
        return changed

    def unmark_keyed(self, nos: Iterable[int], *, by: str, now: datetime) -> list[Entry]:
        """Take the keyed mark off entries (a mark set by mistake); returns those changed.

        Anyone who may mark may unmark (any member of the LAO); the log says who did it.
        """
        with self._change() as written:
            changed = []
            for no in sorted(set(nos)):
                e = self._entries.get(no)
                if e is None or not e.keyed:
                    continue
                changed.append(replace(e, keyed_at=None, keyed_by=None))
            self._write(changed, written)
        if changed:
            _LOG.info("ledger %s: keyed mark taken off %s by %s at %s", self.lao_code,
                      [e.no for e in changed], by, now.isoformat())
        return changed

    def _write(self, entries: list[Entry], written: list[Entry]) -> None:
        if not entries:
            return
        sums = self._summary()
        changes = [(self._entries.get(e.no), e) for e in entries]
        self._table.put_many({f"{e.no:07d}": encode(e) for e in entries})
        written.extend(entries)
        sums.on_entries(self.lao_code, changes)

    def entries(self, date_from: date | None = None, date_to: date | None = None,
                *, include_void: bool = True) -> list[Entry]:
        """Entries in date order (then number), optionally within [date_from, date_to]."""
        self._sync()
        out = [
            e for e in self._entries.values()
            if (include_void or not e.voided)
            and (date_from is None or e.date >= date_from)
            and (date_to is None or e.date <= date_to)
        ]  # fmt: skip
        return sorted(out, key=lambda e: (e.date, e.no))

    def newest_live(self) -> Entry | None:
        """The newest entry not voided: what "the latest" names to void or correct."""
        self._sync()
        return next((e for e in self._newest() if not e.voided), None)

    def recent(self, n: int = 10) -> list[Entry]:
        """The last ``n`` entries by number."""
        self._sync()
        return [self._entries[k] for k in sorted(self._entries)[-n:]]

    def pending_keyback(self) -> list[Entry]:
        """Entries not voided and not yet keyed into e-LAAS, in date order."""
        return [e for e in self.entries(include_void=False) if not e.keyed]

    def day_summary(self, day: date) -> DaySummary:
        es = self.entries(day, day, include_void=False)
        return DaySummary(
            day,
            sum((e.amount for e in es if e.kind == "receipt"), Decimal(0)),
            sum((e.amount for e in es if e.kind == "payment"), Decimal(0)),
            len(es),
        )


class LedgerBook:
    """Opens each LAO's ledger once per process."""

    def __init__(self, store: Store):
        self.store = store
        self.directory = Directory(store)
        self._open: dict[str, Ledger] = {}
        self._lock = threading.Lock()

    def ledger(self, lao_code: str) -> Ledger:
        with self._lock:
            led = self._open.get(lao_code)
            if led is None:
                led = self._open[lao_code] = Ledger(self.store, lao_code)
            return led


def parse_numbers(text: str, limit: int = 5000) -> list[int]:
    """``"1-5, 8 10"`` -> [1, 2, 3, 4, 5, 8, 10]; Thai digits are cleaned by the caller."""
    out: list[int] = []
    for m in _RANGE.finditer(text):
        lo, hi = sorted((int(m.group(1)), int(m.group(2) or m.group(1))))
        if hi - lo > limit:
            raise LedgerError(f"ช่วงเลขกว้างเกินไป (ครั้งละไม่เกิน {limit:,} รายการ)")
        out.extend(range(lo, hi + 1))
    return out
