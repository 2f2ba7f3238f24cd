"""Value types of the manual ledger: a parsed quick entry and a saved, numbered entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["receipt", "payment"]
Method = Literal["cash", "cheque", "transfer"]

KIND_TH: dict[str, str] = {"receipt": "รับ", "payment": "จ่าย"}
METHOD_TH: dict[str, str] = {"cash": "เงินสด", "cheque": "เช็ค", "transfer": "โอน"}
MAX_AMOUNT = Decimal("999999999.99")


class EntryError(ValueError):
    """The text is meant as an entry but is malformed; ``str(e)`` is the Thai message to show."""


class NotAnEntry(ValueError):
    """The text is not a quick entry at all (no kind word / amount)."""


@dataclass(frozen=True)
class ParsedEntry:
    """What a clerk typed in one quick-entry line, validated."""

    kind: Kind
    amount: Decimal
    description: str
    date: date
    doc_no: str | None = None
    method: Method | None = None
    # the date was typed without a year (10/7, 10 ก.ค.): the echo names the year it took
    year_assumed: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The shape printed by ``elaas-bot parse --json``."""
        return {
            "kind": self.kind,
            "amount": f"{self.amount:.2f}",
            "description": self.description,
            "date": self.date.isoformat(),
            "doc_no": self.doc_no,
            "method": self.method,
        }


@dataclass(frozen=True)
class Void:
    """Who voided an entry, when and why. Entries are never deleted."""

    by: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Entry:
    """A saved ledger entry of one LAO, with its per-LAO running number."""

    lao_code: str
    no: int
    kind: Kind
    amount: Decimal
    description: str
    date: date
    doc_no: str | None
    method: Method | None
    author: str
    author_name: str
    recorded_at: datetime
    event_id: str
    channel: str = ""
    void: Void | None = None
    keyed_at: datetime | None = None
    keyed_by: str | None = None

    @property
    def voided(self) -> bool:
        return self.void is not None

    @property
    def keyed(self) -> bool:
        return self.keyed_at is not None

    def to_doc(self) -> dict[str, Any]:
        """JSON-safe document for the store (Decimal as string, dates ISO)."""
        return {
            "lao_code": self.lao_code,
            "no": self.no,
            "kind": self.kind,
            "amount": f"{self.amount:.2f}",
            "description": self.description,
            "date": self.date.isoformat(),
            "doc_no": self.doc_no,
            "method": self.method,
            "author": self.author,
            "author_name": self.author_name,
            "recorded_at": self.recorded_at.isoformat(),
            "event_id": self.event_id,
            "channel": self.channel,
            "void": None
            if self.void is None
            else {"by": self.void.by, "at": self.void.at.isoformat(), "reason": self.void.reason},
            "keyed_at": self.keyed_at.isoformat() if self.keyed_at else None,
            "keyed_by": self.keyed_by,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Entry:
        """Inverse of :meth:`to_doc`."""
        v = doc.get("void")
        return cls(
            lao_code=doc["lao_code"],
            no=int(doc["no"]),
            kind=doc["kind"],
            amount=Decimal(doc["amount"]),
            description=doc["description"],
            date=date.fromisoformat(doc["date"]),
            doc_no=doc.get("doc_no"),
            method=doc.get("method"),
            author=doc["author"],
            author_name=doc.get("author_name", ""),
            recorded_at=datetime.fromisoformat(doc["recorded_at"]),
            event_id=doc.get("event_id", ""),
            channel=doc.get("channel", ""),
            void=None
            if not v
            else Void(by=v["by"], at=datetime.fromisoformat(v["at"]), reason=v.get("reason", "")),
            keyed_at=datetime.fromisoformat(doc["keyed_at"]) if doc.get("keyed_at") else None,
            keyed_by=doc.get("keyed_by"),
        )


@dataclass(frozen=True)
class Lao:
    """A local administrative organisation: DLA code (digits, leading zeros kept), name."""

    code: str
    name: str
    province: str = ""
