"""Value types of the manual ledger: a parsed quick entry and a saved, numbered entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

Kind = Literal["receipt", "payment"]
Method = Literal["cash", "cheque", "transfer"]

KIND_TH: dict[str, str] = {"receipt": "รับ", "payment": "จ่าย"}
METHOD_TH: dict[str, str] = {"cash": "เงินสด", "cheque": "เช็ค", "transfer": "โอน"}
Day = date  # the type, where a field named ``date`` hides the name
MAX_AMOUNT = Decimal("999999999.99")
CENT = Decimal("0.01")


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


class Void(msgspec.Struct, frozen=True):
    """Who voided an entry, when and why. Entries are never deleted.

    ``by_name`` is the voider's name as shown when they voided it (as ``Entry.author_name``):
    the note still names them after they left the LAO. Voids of older versions lack it.
    """

    by: str
    at: datetime
    reason: str = ""
    by_name: str = ""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A saved ledger entry of one LAO, with its per-LAO running number.

    Stored through :mod:`bot.core.codec`: the amount as a string with two decimals, dates and
    times as ISO strings (the document shape is the one older versions wrote).
    """

    lao_code: str
    no: int
    kind: Kind
    amount: Decimal
    description: str
    date: date
    doc_no: str | None = None
    method: Method | None = None
    author: str
    author_name: str = ""
    recorded_at: datetime
    # The day the clerk sent the message that saved it (Context.today): "recorded today" in
    # their lists, even when it was handled after midnight; None in entries saved before it
    # was kept (their recording day stands in).
    sent_on: Day | None = None
    event_id: str = ""
    channel: str = ""
    void: Void | None = None
    keyed_at: datetime | None = None
    keyed_by: str | None = None

    def __post_init__(self) -> None:
        # Stored as "1500.00" whatever the caller passed (Decimal("1500") included).
        msgspec.structs.force_setattr(self, "amount", self.amount.quantize(CENT))

    @property
    def voided(self) -> bool:
        return self.void is not None

    @property
    def keyed(self) -> bool:
        return self.keyed_at is not None


class Lao(msgspec.Struct, frozen=True):
    """A local administrative organisation: DLA code (digits, leading zeros kept), name."""

    code: str
    name: str
    province: str = ""


SANDBOX_PREFIX = "99"
"""LAO codes starting so are demo sandboxes, one per user: no province has code 99, so no
real DLA code starts with it (the shared demo of old installs, 99999999, does too)."""


def is_sandbox(code: str) -> bool:
    """``code`` is a demo sandbox's, never a real LAO's (not counted in operators' views)."""
    return code.startswith(SANDBOX_PREFIX)
