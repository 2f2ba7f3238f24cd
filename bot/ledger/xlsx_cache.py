"""Cached values for the formulas of a saved XLSX, so readers without a formula engine see them."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from decimal import Decimal
from xml.etree import ElementTree

Number = Decimal | int
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# openpyxl writes a formula cell as <c r="G9"><f>SUM(G5:G8)</f><v /></c> (empty value)
_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/></c>', re.S)


def add_cached_values(data: bytes, values: Mapping[str, Mapping[str, Number]]) -> bytes:
    """The workbook ``data`` with each formula's value written next to it.

    openpyxl saves formulas without results; Excel and LibreOffice recalculate on opening, but
    viewers, previews and ``openpyxl(data_only=True)`` only read the stored value. The caller
    computes the values (the same sums the formulas say) and this stores them.

    Args:
        data: The saved workbook.
        values: Sheet title -> cell reference -> value, for every formula cell.

    Raises:
        ValueError: A formula cell has no value given (a blank total would be a silent lie).
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    parts = _sheet_parts(src)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            raw = src.read(item.filename)
            title = parts.get(item.filename)
            if title is not None:
                raw = _fill(raw.decode("utf-8"), title, values.get(title, {})).encode("utf-8")
            dst.writestr(item, raw)
    return out.getvalue()


def _sheet_parts(src: zipfile.ZipFile) -> dict[str, str]:
    """Zip part name -> sheet title."""
    book = ElementTree.fromstring(src.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(src.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    out: dict[str, str] = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        path = target.get(sheet.get(f"{_REL}id"), "").lstrip("/")
        out[path if path.startswith("xl/") else f"xl/{path}"] = sheet.get("name", "")
    return out


def _fill(xml: str, title: str, values: Mapping[str, Number]) -> str:
    def one(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref not in values:
            raise ValueError(f"no cached value for formula {m.group(3)!r} at {title}!{ref}")
        return f'<c r="{ref}"{m.group(2)}><f>{m.group(3)}</f><v>{_number(values[ref])}</v></c>'

    return _FORMULA_CELL.sub(one, xml)


def _number(value: Number) -> str:
    return format(Decimal(value), "f")
