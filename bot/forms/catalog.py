"""The printable form catalog (knowledge/forms/*.yaml): loading, checking, blank and filled.

(Over 500 lines on purpose: the YAML schema, its file:line checks and the fillers that
turn ledger entries into form rows all follow the one form model and are read together.)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, NamedTuple

import msgspec
from msgspec import Meta

from bot.core.contract import FileBlob
from bot.core.thaifmt import (
    amount_in_words,
    fiscal_year_be,
    format_amount,
    thai_date_long,
    thai_datetime,
)
from bot.core.yamlload import NON_EMPTY, DataError, decode_yaml, line_at, load_yaml
from bot.forms.model import (
    MIME_TYPES,
    SHEET_NAME_MAX,
    Align,
    Cell,
    Column,
    ColumnKind,
    CountSection,
    Fmt,
    FormCatalog,
    FormDef,
    Layout,
    Orientation,
    Row,
)
from bot.ledger.entries import KIND_TH, METHOD_TH, Entry, Lao
from bot.ledger.names import shown_name
from bot.qa.knowledge import Problem

FORMS_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "forms"

# Header captions the renderer fills in (from the LAO and the period); other captions stay blank.
HEADER_LAO_NAME = frozenset({"อปท.", "ชื่อ อปท."})
HEADER_LAO_CODE = frozenset({"รหัส อปท."})
HEADER_PROVINCE = frozenset({"จังหวัด"})
HEADER_PERIOD = frozenset({"วันที่", "ช่วงวันที่", "ประจำวันที่", "ระหว่างวันที่"})
HEADER_FISCAL_YEAR = frozenset({"ปีงบประมาณ"})
MAX_FILL_DAYS = 400
"""The longest period a form is filled for (days after the first)."""
PENDING_ROWS = 100
"""Entries on one key-back worksheet (a few pages to key in a sitting); the rest come on the
next sheet, asked for once these are marked keyed."""

# Column keys each filler needs in a fillable form; keys a filler does not know stay blank
# (columns the clerk completes by hand, such as an account code).
FILL_KEYS: dict[str, frozenset[str]] = {
    "cash-receipts-book": frozenset({"date", "doc_no", "description", "amount", "running"}),
    "cash-payments-book": frozenset({"date", "doc_no", "description", "amount", "running"}),
    "daily-cash-report": frozenset({"date", "receipts", "payments", "net", "balance"}),
    "keyback-worksheet": frozenset(
        {"entry_no", "date", "kind", "doc_no", "description", "method", "amount"}
    ),
}
GUIDE_TOPICS = frozenset(
    {
        "guide.overview", "guide.budget", "guide.receive", "guide.deposit", "guide.pay",
        "guide.payroll", "guide.daily_report", "guide.month_end", "guide.keyback",
        "guide.mismatch",
    }
)  # fmt: skip

_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
_TOPIC_PATTERN = r"^[a-z]+(?:\.[a-z0-9_]+)+$"
_OFFICIAL_EXT = {".pdf": "pdf", ".xlsx": "xlsx"}

Text = Annotated[str, Meta(pattern=NON_EMPTY)]


class ColumnSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One item of ``columns:`` in a form file."""

    key: Annotated[str, Meta(pattern=_KEY_PATTERN)]
    title: Text
    width: Annotated[float, Meta(gt=0)]
    align: Align = "left"
    kind: ColumnKind = "text"


class CountSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``count_section:`` of a form file."""

    title: Text
    lines: Annotated[tuple[Text, ...], Meta(min_length=1)]


class FormFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The schema of ``knowledge/forms/<id>.yaml`` (see ``knowledge/forms/README.md``)."""

    id: Annotated[str, Meta(pattern=_ID_PATTERN)]
    name: Text
    purpose: Text
    guide_topics: Annotated[tuple[Annotated[str, Meta(pattern=_TOPIC_PATTERN)], ...],
                            Meta(min_length=1)]
    columns: Annotated[tuple[ColumnSpec, ...], Meta(min_length=1)]
    orientation: Orientation
    blank_rows: Annotated[int, Meta(ge=0, le=200)]
    fillable: bool
    header_fields: tuple[Text, ...]
    signatures: tuple[Text, ...]
    reviewed: date
    order: int = 1000
    official_file: Text | None = None
    count_section: CountSpec | None = None
    label: Annotated[str, Meta(max_length=20)] = ""


# ---------------------------------------------------------------------------------------------
# Errors


class CatalogError(ValueError):
    """The catalog cannot be loaded; ``problems`` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))



# ---------------------------------------------------------------------------------------------
# Loading and checking


def load_catalog(forms_dir: Path = FORMS_DIR) -> FormCatalog:
    """Load every ``*.yaml`` form definition of a directory.

    Args:
        forms_dir: The catalog directory (``knowledge/forms``).

    Returns:
        The catalog, ordered by each form's ``order`` then id.

    Raises:
        CatalogError: A file is not valid YAML, breaks the schema, repeats an id, or a fillable
            form lacks the columns its filler needs. Unknown guide topics and missing official
            files are only reported by :func:`check_catalog`.
    """
    forms, problems = _parse_dir(forms_dir)
    problems += _check_fill_keys(forms)
    if problems:
        raise CatalogError(problems)
    return FormCatalog(tuple(sorted(forms, key=lambda f: (f.order, f.id))))


def check_catalog(forms_dir: Path, known_topics: AbstractSet[str] | None = None) -> list[Problem]:
    """Validate the catalog directory and report every problem found.

    Args:
        forms_dir: The catalog directory (``knowledge/forms``).
        known_topics: Topic ids that exist; when given, each ``guide_topics`` id must be one.

    Returns:
        The problems, in file and line order (empty when the catalog is fine).
    """
    forms, problems = _parse_dir(forms_dir)
    problems += _check_fill_keys(forms)
    for form in forms:
        where = _where(form)
        for topic in form.guide_topics:
            if known_topics is not None and topic not in known_topics:
                problems.append(Problem(*where, f"unknown guide topic {topic!r}"))
        if form.official_file:
            problems += _check_official(form)
        if form.sheet_name != form.sheet_name[:SHEET_NAME_MAX]:  # Excel would cut it mid-word
            problems.append(Problem(*where, f"name is longer than {SHEET_NAME_MAX} characters "
                                            "(an Excel sheet name): add a short label"))
    return sorted(problems, key=lambda p: (p.file, p.line))


def _where(form: FormDef) -> tuple[str, int, str]:
    return (str(form.source) if form.source else "?", form.line, form.id)


def _check_official(form: FormDef) -> list[Problem]:
    file, line, form_id = _where(form)
    rel = form.official_file or ""
    if Path(rel).is_absolute() or ".." in Path(rel).parts:
        return [Problem(file, line, form_id, "official_file must be a path inside the folder")]
    path = form.official_path
    if Path(rel).suffix.lower() not in _OFFICIAL_EXT:
        return [Problem(file, line, form_id, "official_file must be a .pdf or .xlsx file")]
    if path is None or not path.is_file():
        return [Problem(file, line, form_id, f"official_file not found: {rel}")]
    return []


def _check_fill_keys(forms: Sequence[FormDef]) -> list[Problem]:
    problems: list[Problem] = []
    for form in forms:
        if not form.fillable:
            continue
        needed = FILL_KEYS.get(form.id)
        if needed is None:
            problems.append(
                Problem(*_where(form), "fillable is true but there is no filler for this id")
            )
            continue
        missing = needed - {c.key for c in form.columns}
        if missing:
            problems.append(
                Problem(
                    *_where(form), f"fillable form lacks columns: {', '.join(sorted(missing))}"
                )
            )
    return problems


def _parse_dir(forms_dir: Path) -> tuple[list[FormDef], list[Problem]]:
    forms: list[FormDef] = []
    problems: list[Problem] = []
    if not forms_dir.is_dir():
        return [], [Problem(str(forms_dir), 1, "-", "forms directory not found")]
    seen: dict[str, FormDef] = {}
    for path in sorted(forms_dir.glob("*.yaml")):
        form, file_problems = _parse_file(path)
        problems += file_problems
        if form is None:
            continue
        first = seen.get(form.id)
        if first is not None:
            problems.append(Problem(*_where(form), f"duplicate form id (also in {first.source})"))
            continue
        seen[form.id] = form
        forms.append(form)
    return forms, problems


def _parse_file(path: Path) -> tuple[FormDef | None, list[Problem]]:
    """Parse one form file; returns the form (None if unusable) and the problems found."""
    file = str(path)
    try:
        raw = load_yaml(path)
    except DataError as e:
        return None, [Problem(file, e.line, "-", e.detail)]
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    form_id = raw_id.strip() if isinstance(raw_id, str) else "-"
    spec, found = decode_yaml(raw, FormFile)
    problems = [Problem(file, p.line, form_id, p.text()) for p in found]
    if spec is None:
        return None, problems
    keys: set[str] = set()
    for i, c in enumerate(spec.columns):
        if c.key in keys:
            problems.append(Problem(file, line_at(raw, ("columns", i)), form_id,
                                    f"columns[{i}].key: duplicate key {c.key!r}"))
        keys.add(c.key)
    if problems:
        return None, problems
    if path.stem != spec.id:  # reported, but the form is still usable
        problems.append(Problem(file, line_at(raw, ("id",)), spec.id,
                                f"file should be named {spec.id}.yaml"))
    count = spec.count_section
    form = FormDef(
        id=spec.id,
        name=spec.name.strip(),
        label=spec.label.strip(),
        purpose=spec.purpose.strip(),
        guide_topics=spec.guide_topics,
        columns=tuple(Column(c.key, c.title.strip(), c.width, c.align, c.kind)
                      for c in spec.columns),
        orientation=spec.orientation,
        blank_rows=spec.blank_rows,
        fillable=spec.fillable,
        header_fields=tuple(h.strip() for h in spec.header_fields),
        signatures=tuple(h.strip() for h in spec.signatures),
        reviewed=spec.reviewed,
        official_file=spec.official_file.strip() if spec.official_file else None,
        count_section=None if count is None else CountSection(
            count.title.strip(), tuple(x.strip() for x in count.lines)),
        order=spec.order,
        source=path,
        line=line_at(raw, ()),
    )
    return form, problems


# ---------------------------------------------------------------------------------------------
# Rendering


def render_blank(form: FormDef, fmt: Fmt, *, lao: Lao | None = None) -> FileBlob:
    """A printable blank form: header with blank lines, empty table rows, signature lines.

    When the form names an ``official_file`` that exists with the requested extension, that
    file is returned unchanged instead of the generated helper layout.

    Args:
        form: The form from the catalog.
        fmt: ``"pdf"`` or ``"xlsx"``.
        lao: When given, the LAO name, code and province are written in the header.

    Returns:
        The file to send.
    """
    _check_fmt(fmt)
    official = form.official_path
    if official is not None and official.suffix.lower() == f".{fmt}" and official.is_file():
        return FileBlob(official.read_bytes(), f"{form.id}-official.{fmt}", MIME_TYPES[fmt])
    return _blank(form, fmt, lao)


@functools.lru_cache(maxsize=256)
def _blank(form: FormDef, fmt: Fmt, lao: Lao | None) -> FileBlob:
    # A blank depends on nothing else (no date, no entries), and clerks ask for the same few:
    # one render (2-20 ms of the engine thread for a PDF) per form, format and LAO header.
    layout = Layout(form=form, header=_header(form, lao, None), blank_rows=form.blank_rows)
    code = f"-{_ascii(lao.code)}" if lao is not None else ""
    return _render(layout, fmt, f"{form.id}{code}-blank.{fmt}")


def render_filled(
    form: FormDef,
    fmt: Fmt,
    *,
    lao: Lao,
    entries: Sequence[Entry],
    date_from: date,
    date_to: date,
    opening_balance: Decimal | None = None,
    printed_at: datetime | None = None,
) -> FileBlob:
    """A form pre-filled from the entries logged in the bot.

    Cash books list the receipts (or payments) of the period, not voided, in date then entry
    number order with a running total, a total row and the total in words. The daily cash
    report has one row per day with the balance carried from ``opening_balance``, then the
    count section for the safe committee. The key-back worksheet lists every entry of the
    period that is neither voided nor keyed yet, with a tick box.

    Args:
        form: A fillable form from the catalog.
        fmt: ``"pdf"`` or ``"xlsx"``.
        lao: The LAO the entries belong to.
        entries: That LAO's entries (any order; others of the period are filtered out here).
        date_from: First day of the period (inclusive).
        date_to: Last day of the period (inclusive).
        opening_balance: Balance brought forward, used by the daily cash report, when the
            clerk gives it. By default it is unknown and the report leaves the balance brought
            forward and the balances blank, with only the receipts and payments filled: the
            ledger holds what clerks logged in the bot, never the cash the LAO had before, so
            the sum of earlier entries is not a balance to print on a form that gets signed.
        printed_at: When given, printed in the header as ``พิมพ์เมื่อ``.

    Returns:
        The file to send.

    Raises:
        ValueError: The form is not fillable, the period is reversed or longer than 400 days,
            or an entry belongs to another LAO.
    """
    _check_fmt(fmt)
    if not form.fillable or form.id not in FILL_KEYS:
        raise ValueError(f"form {form.id!r} cannot be pre-filled")
    if date_to < date_from:
        raise ValueError("date_to is before date_from")
    if (date_to - date_from).days > MAX_FILL_DAYS:
        raise ValueError("the period is longer than 400 days")
    for e in entries:
        if e.lao_code != lao.code:
            raise ValueError(f"entry {e.no} belongs to LAO {e.lao_code}, not {lao.code}")
    in_range = [e for e in entries if date_from <= e.date <= date_to]
    in_range.sort(key=lambda e: (e.date, e.no))
    if form.id == "daily-cash-report":
        rows, notes, intro = _fill_daily(form, in_range, date_from, date_to, opening_balance)
    elif lists_pending(form):
        rows, notes, intro = _fill_keyback(form, in_range), _keyback_notes(in_range), None
    else:
        kind = "receipt" if form.id == "cash-receipts-book" else "payment"
        rows, notes, intro = *_fill_book(form, in_range, kind), None
    span = f"{date_from:%Y%m%d}" + (f"-{date_to:%Y%m%d}" if date_to != date_from else "")
    return _filled(form, fmt, lao, (date_from, date_to), rows, notes, intro, printed_at,
                   f"{form.id}-{_ascii(lao.code)}-{span}.{fmt}")


class PendingSheet(NamedTuple):
    """A key-back worksheet of pending entries (:func:`render_pending`)."""

    file: FileBlob
    shown: tuple[Entry, ...]
    left: int


def lists_pending(form: FormDef) -> bool:
    """Whether ``form`` is filled with what is still to key into e-LAAS (the key-back
    worksheet): by default every such entry (:func:`render_pending`), not a day's."""
    return form.id == "keyback-worksheet"


def render_pending(
    form: FormDef,
    fmt: Fmt,
    *,
    lao: Lao,
    pending: Sequence[Entry],
    printed_at: datetime,
) -> PendingSheet:
    """The key-back worksheet of the entries still to key into e-LAAS, whatever their date.

    Args:
        form: A form for which :func:`lists_pending` is true.
        fmt: ``"pdf"`` or ``"xlsx"``.
        lao: The LAO the entries belong to.
        pending: Its entries neither voided nor keyed (``Ledger.pending_keyback``). The
            oldest :data:`PENDING_ROWS` are listed, oldest first; the sheet says how many
            more there are and how to get them.
        printed_at: When it is printed (also names the file).

    Returns:
        The file, the entries on it and how many it left off.
    """
    _check_fmt(fmt)
    if not lists_pending(form):
        raise ValueError(f"form {form.id!r} does not list pending entries")
    todo = sorted((e for e in pending if not e.voided and not e.keyed),
                  key=lambda e: (e.date, e.no))
    shown, left = todo[:PENDING_ROWS], len(todo) - len(todo[:PENDING_ROWS])
    notes = _keyback_notes(shown, empty="ไม่มีรายการที่ยังไม่ได้คีย์เข้า e-LAAS")
    if left:
        notes.insert(0, f"ใบนี้มี {len(shown)} รายการที่เก่าที่สุด ยังเหลืออีก {left} รายการ "
                        "คีย์ใบนี้ให้ครบ บันทึกว่าคีย์แล้วในบอท แล้วขอใบงานอีกครั้ง")
    day = printed_at.date()
    period = (shown[0].date, shown[-1].date) if shown else (day, day)
    blob = _filled(form, fmt, lao, period, _fill_keyback(form, shown), notes, None, printed_at,
                   f"{form.id}-{_ascii(lao.code)}-pending-{day:%Y%m%d}.{fmt}")
    return PendingSheet(blob, tuple(shown), left)


def _filled(form: FormDef, fmt: Fmt, lao: Lao, period: tuple[date, date], rows: Sequence[Row],
            notes: Sequence[str], intro: str | None, printed_at: datetime | None,
            filename: str) -> FileBlob:
    layout = Layout(
        form=form,
        header=_header(form, lao, period),
        rows=tuple(rows),
        notes=tuple(notes),
        count_intro=intro,
        printed_at=f"พิมพ์เมื่อ {thai_datetime(printed_at)}" if printed_at else None,
        filled=True,
    )
    return _render(layout, fmt, filename)


def render_text_sample(text: str, *, shaping: bool = True) -> bytes:
    """A small one-line PDF in the forms' font, used to check Thai shaping by eye or in tests.

    Args:
        text: The line to draw.
        shaping: Whether to shape the text with HarfBuzz (forms always do).

    Returns:
        The PDF bytes.
    """
    # Imported here, not at the top: fpdf/fontTools take ~0.5 s to import and most starts never
    # draw a form. No circle: render.py imports only bot.forms.model.
    from bot.forms import render as form_render

    return form_render.text_sample_pdf(text, shaping=shaping)


def warm_up() -> None:
    """Import the renderers and shape one line, so the first form a clerk asks for is fast."""
    render_text_sample("ผู้ใหญ่ที่นี่ 1,234.00")


def _check_fmt(fmt: str) -> None:
    if fmt not in MIME_TYPES:
        raise ValueError(f"unknown format {fmt!r} (pdf or xlsx)")


def _render(layout: Layout, fmt: Fmt, filename: str) -> FileBlob:
    # Imported here, not at the top: fpdf/fontTools take ~0.5 s to import and most starts never
    # draw a form. No circle: render.py imports only bot.forms.model.
    from bot.forms import render as form_render

    data = form_render.pdf_bytes(layout) if fmt == "pdf" else form_render.xlsx_bytes(layout)
    return FileBlob(data, filename, MIME_TYPES[fmt])


def _ascii(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]", "", text) or "lao"


def _period_text(period: tuple[date, date]) -> str:
    start, end = period
    if start == end:
        return thai_date_long(start)
    return f"{thai_date_long(start)} ถึง {thai_date_long(end)}"


def _header(
    form: FormDef, lao: Lao | None, period: tuple[date, date] | None
) -> tuple[tuple[str, str | None], ...]:
    out: list[tuple[str, str | None]] = []
    for caption in form.header_fields:
        value: str | None = None
        if lao is not None and caption in HEADER_LAO_NAME:
            value = lao.name
        elif lao is not None and caption in HEADER_LAO_CODE:
            value = lao.code
        elif lao is not None and caption in HEADER_PROVINCE:
            value = lao.province or None
        elif period is not None and caption in HEADER_PERIOD:
            value = _period_text(period)
        elif period is not None and caption in HEADER_FISCAL_YEAR:
            first, last = fiscal_year_be(period[0]), fiscal_year_be(period[1])
            value = str(first) if first == last else f"{first}-{last}"
        out.append((caption, value))
    return tuple(out)


def _words(amount: Decimal) -> str:
    if amount < 0:
        return "ติดลบ" + amount_in_words(-amount)
    return amount_in_words(amount)


def _cells(form: FormDef, values: Mapping[str, Cell]) -> tuple[Cell, ...]:
    return tuple(values.get(c.key) for c in form.columns)


def _entry_values(e: Entry) -> dict[str, Cell]:
    return {
        "entry_no": str(e.no),
        "date": e.date,
        "kind": KIND_TH.get(e.kind, e.kind),
        "doc_no": e.doc_no or "",
        "description": e.description,
        "method": METHOD_TH.get(e.method, e.method) if e.method else "",
        "amount": e.amount,
        "author": shown_name(e.author, e.author_name),
    }


def _fill_book(form: FormDef, entries: Sequence[Entry], kind: str) -> tuple[list[Row], list[str]]:
    of_kind = [e for e in entries if e.kind == kind]
    live = [e for e in of_kind if not e.voided]
    rows: list[Row] = []
    running = Decimal(0)
    for seq, e in enumerate(live, start=1):
        running += e.amount
        values = _entry_values(e)
        values.update(seq=str(seq), running=running)
        rows.append(Row(_cells(form, values)))
    rows.append(Row(_cells(form, {"amount": running}), bold=True, label="รวม"))
    label = "รวมรับทั้งสิ้น" if kind == "receipt" else "รวมจ่ายทั้งสิ้น"
    notes = [f"{label} {len(live)} รายการ เป็นเงิน {format_amount(running)} บาท ({_words(running)})"]
    voided = len(of_kind) - len(live)
    if voided:
        notes.append(f"รายการที่ยกเลิกแล้ว {voided} รายการ ไม่รวมในสมุดนี้")
    if not live:
        notes.insert(0, "ไม่มีรายการในช่วงวันที่นี้")
    return rows, notes


def _fill_daily(
    form: FormDef,
    entries: Sequence[Entry],
    date_from: date,
    date_to: date,
    opening: Decimal | None,
) -> tuple[list[Row], list[str], str]:
    """Daily totals; with ``opening`` None the balances are blank cells for the clerk."""
    live = [e for e in entries if not e.voided]
    unknown: Cell = ""  # an empty cell (not None): the label must not run over it
    rows = [Row(_cells(form, {"balance": unknown if opening is None else opening}),
                label="ยอดยกมา")]
    balance = opening
    total_in = total_out = Decimal(0)
    day = date_from
    while day <= date_to:
        got = sum((e.amount for e in live if e.date == day and e.kind == "receipt"), Decimal(0))
        paid = sum((e.amount for e in live if e.date == day and e.kind == "payment"), Decimal(0))
        balance = None if balance is None else balance + got - paid
        total_in += got
        total_out += paid
        values: dict[str, Cell] = {
            "date": day,
            "receipts": got,
            "payments": paid,
            "net": got - paid,
            "balance": unknown if balance is None else balance,
        }
        rows.append(Row(_cells(form, values)))
        day += timedelta(days=1)
    if date_to != date_from:
        totals = {"receipts": total_in, "payments": total_out, "net": total_in - total_out}
        rows.append(Row(_cells(form, totals), bold=True, label="รวม"))
    period = (f"รับ {format_amount(total_in)} บาท จ่าย {format_amount(total_out)} บาท "
              "ตามรายการที่บันทึกในบอท")
    end = f"ยอดเงินคงเหลือ ณ สิ้นวันที่ {thai_date_long(date_to)}"
    if balance is None or opening is None:
        notes = [period,
                 "บอทไม่ทราบยอดยกมา (เงินที่มีก่อนบันทึกในบอท) จึงเว้นช่องยอดยกมาและยอดคงเหลือ"
                 "ไว้ให้กรอกจากรายงานวันก่อน"]
        intro = f"{end} (ยอดยกมา + รับ - จ่าย) ............................ บาท"
    else:
        notes = [period, f"ยอดยกมา {format_amount(opening)} บาท (ตามที่ระบุ) "
                         f"ยอดคงเหลือ {format_amount(balance)} บาท"]
        intro = f"{end} ตามบันทึก {format_amount(balance)} บาท ({_words(balance)})"
    voided = len(entries) - len(live)
    if voided:
        notes.append(f"รายการที่ยกเลิกแล้ว {voided} รายการ ไม่รวมในยอดข้างต้น")
    return rows, notes, intro


def _fill_keyback(form: FormDef, entries: Sequence[Entry]) -> list[Row]:
    todo = [e for e in entries if not e.voided and not e.keyed]
    return [Row(_cells(form, _entry_values(e))) for e in todo]


def _keyback_notes(entries: Sequence[Entry],
                   empty: str = "ไม่มีรายการที่ต้องคีย์ย้อนหลังในช่วงวันที่นี้") -> list[str]:
    todo = [e for e in entries if not e.voided and not e.keyed]
    notes = []
    for kind, label in (("receipt", "รายการรับ"), ("payment", "รายการจ่าย")):
        items = [e for e in todo if e.kind == kind]
        total = sum((e.amount for e in items), Decimal(0))
        notes.append(f"{label} {len(items)} รายการ รวม {format_amount(total)} บาท")
    keyed = sum(1 for e in entries if e.keyed and not e.voided)
    if keyed:
        notes.append(f"คีย์แล้ว {keyed} รายการ (ไม่แสดงในใบงานนี้)")
    if not todo:
        notes.insert(0, empty)
    notes.append("คีย์เรียงตามวันที่ ติ๊กช่อง คีย์แล้ว และจดเลขที่เอกสารใน e-LAAS ทุกรายการ")
    return notes
