"""The form model shared by the catalog and the renderers: forms, columns, rows, layouts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

Align = Literal["left", "right", "center"]
ColumnKind = Literal["text", "amount", "date", "check"]
Orientation = Literal["portrait", "landscape"]
Fmt = Literal["pdf", "xlsx"]

MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HELPER_LABEL = "แบบช่วยบันทึก (ไม่ใช่แบบฟอร์มทางราชการ)"

SHEET_NAME_MAX = 31  # Excel refuses longer sheet names


@dataclass(frozen=True)
class Column:
    """One table column: ``width`` is relative to the other columns of the form."""

    key: str
    title: str
    width: float
    align: Align = "left"
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class CountSection:
    """Lines ``<caption> ........ บาท`` printed under the table (e.g. the cash count)."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class FormDef:
    """One form of the catalog, as written in ``knowledge/forms/<id>.yaml``."""

    id: str
    name: str
    purpose: str
    guide_topics: tuple[str, ...]
    columns: tuple[Column, ...]
    orientation: Orientation
    blank_rows: int
    fillable: bool
    header_fields: tuple[str, ...]
    signatures: tuple[str, ...]
    reviewed: date
    official_file: str | None = None
    count_section: CountSection | None = None
    order: int = 1000
    label: str = ""
    source: Path | None = field(default=None, compare=False)
    line: int = field(default=1, compare=False)

    @property
    def button(self) -> str:
        """The short name for a button (LINE labels hold 20 characters)."""
        return (self.label or self.name)[:20]

    @property
    def sheet_name(self) -> str:
        """The Excel sheet name: the name when it fits Excel's 31 characters, else the label
        (``kb check`` requires a label then), never a name cut mid-word."""
        if len(self.name) <= SHEET_NAME_MAX or not self.label:
            return self.name
        return self.label

    @property
    def official_path(self) -> Path | None:
        """The operator's official file, resolved next to the YAML (None when not set)."""
        if not self.official_file or self.source is None:
            return None
        rel = Path(self.official_file)
        if rel.is_absolute() or ".." in rel.parts:
            return None  # only files inside the catalog folder are ever sent
        return self.source.parent / rel

    def column(self, key: str) -> Column | None:
        """The column with this key, if the form has one."""
        return next((c for c in self.columns if c.key == key), None)


@dataclass(frozen=True)
class FormCatalog:
    """The forms in display order (``order`` field, then id)."""

    forms: tuple[FormDef, ...]

    def get(self, form_id: str) -> FormDef | None:
        """The form with this id, or None."""
        return next((f for f in self.forms if f.id == form_id), None)

    def all(self) -> tuple[FormDef, ...]:
        """Every form, in display order."""
        return self.forms

    def ids(self) -> tuple[str, ...]:
        """Every form id, in display order."""
        return tuple(f.id for f in self.forms)

    def __iter__(self) -> Iterator[FormDef]:
        return iter(self.forms)

    def __len__(self) -> int:
        return len(self.forms)

    def __contains__(self, form_id: object) -> bool:
        return any(f.id == form_id for f in self.forms)


# Table model shared by the PDF and XLSX renderers (bot/forms/render.py).
Cell = str | Decimal | date | None


@dataclass(frozen=True)
class Row:
    """A table row; ``label`` is written across the leading empty cells (e.g. ``รวม``)."""

    cells: tuple[Cell, ...]
    bold: bool = False
    label: str | None = None


@dataclass(frozen=True)
class Layout:
    """Everything a renderer draws for one form: header, rows, notes, count section, signatures."""

    form: FormDef
    header: tuple[tuple[str, str | None], ...]
    rows: tuple[Row, ...] = ()
    blank_rows: int = 0
    notes: tuple[str, ...] = ()
    count_intro: str | None = None
    printed_at: str | None = None
    filled: bool = False
