"""Quick entries written blind (tests/data/entries_blind1.tsv, entries_blind2.tsv).

A helper who saw only the README's quick-entry section and the outage's context wrote 286
messages the way clerks type them, each with what must happen: the entry's kind, amount, date,
document number and method (JSON), ``ERROR`` (an entry attempt that must be refused, nothing
saved) or ``NOT`` (not an entry: a question, chat). Measured when written: 92.0% on the parser
at the start of that session (21 rows saved wrongly or saved when they should have been
refused), 97.6% after the session's first fixes (counts, per-unit prices, near-future yearless
dates); its misses were then fixed (a date or document number before the kind word, tomorrow,
more counting words, entry-shaped questions). Frozen since.

entries_blind2.tsv: 276 more, by another helper, written after those fixes and measured once
before anyone read it: 97.8% (2 rows saved wrongly). Its misses were then fixed (two leads
before the kind word, ใบสำคัญรับเงิน, a bare kind word asks for the amount) except one, kept
as a known difference below. Frozen since.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.ledger.entries import EntryError, NotAnEntry
from bot.ledger.quickentry import parse_entry

DATA = Path(__file__).parent / "data"
ROWS = [line.split("\t") for name in ("entries_blind1.tsv", "entries_blind2.tsv")
        for line in (DATA / name).read_text().splitlines()[1:] if line.strip()]
# "ค่าขยะ 32/7" is refused by the writer as an impossible date; the parser keeps it in the
# description, as it does a house number ("บ้านเลขที่ 32/7"): no day 32 makes it a date.
KNOWN = {"รับ 300 ค่าขยะ 32/7"}
# Document numbers typed in Thai digits are stored in Arabic digits (what e-LAAS is keyed
# with); the writer expected them kept as typed.
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


@pytest.mark.parametrize(("text", "today", "want"), ROWS, ids=[r[0][:40] for r in ROWS])
def test_blind_quick_entry(text: str, today: str, want: str) -> None:
    t = date.fromisoformat(today)
    if text in KNOWN:  # the chosen reading: "32/7" stays in the description
        assert "32/7" in parse_entry(text, t).description
        return
    if want == "NOT":
        with pytest.raises(NotAnEntry):
            parse_entry(text, t)
        return
    if want == "ERROR":
        with pytest.raises(EntryError):
            parse_entry(text, t)
        return
    w = json.loads(want)
    e = parse_entry(text, t)
    doc = w["doc_no"].translate(THAI_DIGITS) if w["doc_no"] else None
    assert (e.kind, e.amount, e.date.isoformat(), e.doc_no, e.method) == (
        w["kind"], Decimal(w["amount"]), w["date"], doc, w["method"])


def test_the_set_is_the_frozen_one() -> None:
    assert len(ROWS) == 286 + 276
    assert sum(r[2] == "ERROR" for r in ROWS) == 53 + 55
    assert sum(r[2] == "NOT" for r in ROWS) == 32 + 32


# entries_blind3.tsv: 225 more, by a third helper (3 Dec), measured once on main (d233ef5)
# before anyone read its misses: 215 of 225 (95.6%), 2 saved with other values than the
# writer's. Not yet worked through: a floor guards it until its misses are read and fixed.
BLIND3 = [line.split("\t") for line in
          (DATA / "entries_blind3.tsv").read_text().splitlines()[1:] if line.strip()]


def _outcome(text: str, today: str) -> object:
    try:
        e = parse_entry(text, date.fromisoformat(today))
    except NotAnEntry:
        return "NOT"
    except EntryError:
        return "ERROR"
    return (e.kind, e.amount, e.date.isoformat(), e.doc_no, e.method)


def _wanted(want: str) -> object:
    if want in ("NOT", "ERROR"):
        return want
    w = json.loads(want)
    doc = w["doc_no"].translate(THAI_DIGITS) if w["doc_no"] else None
    return (w["kind"], Decimal(w["amount"]), w["date"], doc, w["method"])


def test_the_third_blind_set_stays_at_its_floor() -> None:
    assert len(BLIND3) == 225
    got = [(_outcome(text, today), _wanted(want)) for text, today, want in BLIND3]
    assert sum(g == w for g, w in got) >= 215
    assert sum(isinstance(g, tuple) and g != w for g, w in got) <= 2  # saved wrongly
