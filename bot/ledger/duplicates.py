"""Entries that look like ones already saved: a reused document number, or a double send."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.thaifmt import format_baht, shorten, thai_date
from bot.ledger.entries import KIND_TH, Entry, ParsedEntry

DOUBLE_SEND = timedelta(minutes=2)
"""An identical entry without a document number from the same clerk within this time is
probably the same message sent twice; after it, repeated small receipts are ordinary."""
RECENT_READ = 1_000
"""At most this many newest entries are read for a double send (a batch imported or keyed at
one instant would otherwise be read whole on every entry: 100,000 at the same second cost
~30 ms per entry on PostgreSQL)."""


def doc_key(doc_no: str | None) -> str:
    """A document number as compared: no spaces, lower case (``12 / 345`` = ``12/345``)."""
    return re.sub(r"\s", "", doc_no or "").lower()


@dataclass(frozen=True)
class Duplicate:
    """Item ``line`` (0-based) of a batch looks like ``earlier`` (a saved entry) or like an
    earlier line ``earlier_line`` of the same batch; ``by_doc``: they share a document number
    (otherwise they are identical and sent moments apart)."""

    line: int
    earlier: Entry | None
    earlier_line: int | None
    by_doc: bool
    doc_no: str | None


class DuplicateFound(ValueError):
    """Some items look like entries already saved; nothing was saved."""

    def __init__(self, found: Sequence[Duplicate]):
        super().__init__(f"{len(found)} duplicate(s)")
        self.found = list(found)


def _key(e: ParsedEntry | Entry) -> tuple[object, ...]:
    return e.kind, e.amount, e.description, e.date, e.method


def find_duplicates(
    items: Sequence[ParsedEntry], *, by_doc: Callable[[str, str], Entry | None],
    recent: Iterable[Entry], author: str, now: datetime,
) -> list[Duplicate]:
    """The items that repeat a saved entry or an earlier item of the same batch (the same
    document number, or the same line pasted twice: asked as if it were sent twice).

    Args:
        items: The parsed entries about to be saved, in order.
        by_doc: The live (not voided) saved entry of a kind with a document number key.
        recent: Saved entries, newest first (read until one is older than ``DOUBLE_SEND``).
        author: Who is saving.
        now: When.
    """
    fresh = [e for e in _recent_until(itertools.islice(recent, RECENT_READ), now - DOUBLE_SEND)
             if e.author == author and not e.voided and not e.doc_no]
    out: list[Duplicate] = []
    seen: dict[tuple[str, str], int] = {}
    pasted: dict[tuple[object, ...], int] = {}
    for i, p in enumerate(items):
        if p.doc_no:
            key = (p.kind, doc_key(p.doc_no))
            earlier = by_doc(*key)
            if earlier is not None or key in seen:
                out.append(Duplicate(i, earlier, seen.get(key) if earlier is None else None,
                                     True, p.doc_no))
            seen.setdefault(key, i)
            continue
        twin = next((e for e in fresh if _key(e) == _key(p)), None)
        if twin is not None or _key(p) in pasted:
            out.append(Duplicate(i, twin, None if twin else pasted[_key(p)], False, None))
        pasted.setdefault(_key(p), i)
    return out


def _recent_until(entries: Iterable[Entry], since: datetime) -> list[Entry]:
    out = []
    for e in entries:
        if e.recorded_at < since:
            break
        out.append(e)
    return out


def describe_duplicate(d: Duplicate, line_nos: Sequence[int] = ()) -> str:
    """``เลขที่ 12/345 มีแล้ว (รายการที่ 1 รับ 1,500.00 บาท ค่าขยะ 2 ธ.ค. 2569)``.

    Args:
        d: The duplicate.
        line_nos: Each item's line number as the clerk sees it (by default item i is line i+1).
    """
    e = d.earlier
    if e is None:
        i = d.earlier_line or 0
        line = line_nos[i] if i < len(line_nos) else i + 1
        return f"เลขที่ {d.doc_no} ซ้ำกับบรรทัด {line}" if d.by_doc else f"เหมือนบรรทัด {line}"
    shown = (f"รายการที่ {e.no} {KIND_TH[e.kind]} {format_baht(e.amount)} "
             f"{shorten(e.description, 30)}")
    if d.by_doc:
        return f"เลขที่ {d.doc_no} มีแล้ว ({shown} {thai_date(e.date)})"
    return f"เหมือน{shown} ที่เพิ่งบันทึกเมื่อสักครู่"
