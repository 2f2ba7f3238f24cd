"""Move an embedded (TinyDB) data folder into another store and prove nothing was lost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.core.codec import decode
from bot.core.store import Store
from bot.ledger.entries import Entry

_CHUNK = 2000
_LEDGER = "lao/{}/ledger"


@dataclass(frozen=True)
class LaoTotals:
    """What must agree per LAO: entries, voids, and the receipt and payment totals."""

    entries: int = 0
    voided: int = 0
    receipts: Decimal = Decimal(0)
    payments: Decimal = Decimal(0)


@dataclass
class ImportReport:
    """Counts per table and totals per LAO, on both sides."""

    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    laos: dict[str, tuple[LaoTotals, LaoTotals]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(a == b for a, b in self.tables.values()) and \
            all(a == b for a, b in self.laos.values())

    def lines(self) -> list[str]:
        """A Thai/English summary table, one row per LAO, then the table counts."""
        out = [f"{'อปท. LAO':<12} {'รายการ entries':>17} {'ยกเลิก void':>13} "
               f"{'รับ receipts':>29} {'จ่าย payments':>29}  ผล result"]
        for code, (a, b) in sorted(self.laos.items()):
            out.append(
                f"{code:<12} {f'{a.entries:,}→{b.entries:,}':>17} "
                f"{f'{a.voided:,}→{b.voided:,}':>13} "
                f"{f'{a.receipts:,.2f}→{b.receipts:,.2f}':>29} "
                f"{f'{a.payments:,.2f}→{b.payments:,.2f}':>29}  "
                + ("ตรงกัน OK" if a == b else "ไม่ตรง MISMATCH"))
        docs = [sum(v) for v in zip(*self.tables.values(), strict=True)] or [0, 0]
        bad = [n for n, (a, b) in self.tables.items() if a != b]
        out.append(f"ตาราง tables: {len(self.tables):,}, เอกสาร documents: "
                   f"{docs[0]:,}→{docs[1]:,}"
                   + (f"; ไม่ตรง mismatch: {', '.join(bad)}" if bad else ""))
        out.append("ย้ายข้อมูลครบถ้วน: import verified" if self.ok
                   else "ข้อมูลไม่ตรงกัน: import NOT verified")
        return out


def lao_totals(docs: Mapping[str, Mapping[str, Any]]) -> LaoTotals:
    """Totals of one ledger table (voided entries counted apart, not in the sums)."""
    entries = [decode(d, Entry, where=f"ledger/{k}") for k, d in docs.items()]
    live = [e for e in entries if not e.voided]
    return LaoTotals(
        len(entries), len(entries) - len(live),
        sum((e.amount for e in live if e.kind == "receipt"), Decimal(0)),
        sum((e.amount for e in live if e.kind == "payment"), Decimal(0)),
    )


def _lao_code(table: str) -> str | None:
    parts = table.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "lao" and parts[2] == "ledger" else None


def import_store(src: Store, dst: Store) -> ImportReport:
    """Copy every table of ``src`` into ``dst`` in one transaction, then compare both sides.

    Running it again rewrites the same keys (no duplicates); documents already in ``dst``
    that ``src`` lacks show up as a count mismatch.
    """
    names = src.tables()
    with dst.transaction("elaas-import"):
        for name in names:
            docs = src.table(name).all()
            keys = list(docs)
            table = dst.table(name)
            for i in range(0, len(keys), _CHUNK):
                table.put_many({k: docs[k] for k in keys[i:i + _CHUNK]})
    return verify(src, dst, names)


def verify(src: Store, dst: Store, names: list[str]) -> ImportReport:
    """Compare document counts per table and totals per LAO, reading ``dst`` afresh."""
    report = ImportReport()
    for name in names:
        a, b = src.table(name).all(), dst.table(name).all()
        report.tables[name] = (len(a), len(b))
        code = _lao_code(name)
        if code is not None:
            report.laos[code] = (lao_totals(a), lao_totals(b))
    return report
