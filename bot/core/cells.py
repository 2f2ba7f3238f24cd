"""Spreadsheet cell safety: formulas neutralised, characters a workbook cannot hold removed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet.worksheet import Worksheet

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_ILLEGAL_XLSX = re.compile(r"[\000-\010\013\014\016-\037]")


def clean_cell(value: str) -> str:
    """``value`` without the control characters a workbook cannot hold (nothing else)."""
    return _ILLEGAL_XLSX.sub("", value)


def safe_cell(value: str) -> str:
    """Make text safe for a spreadsheet cell (XLSX or CSV).

    Control characters a workbook cannot hold are removed, and text that a spreadsheet would
    evaluate as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or a line break) gets a
    leading ``'`` so Excel, LibreOffice and Google Sheets keep it as text (OWASP's advice on
    CSV injection).
    """
    value = _ILLEGAL_XLSX.sub("", value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xlsx_text(ws: Worksheet, value: str) -> Any:
    """Text for a write-only XLSX sheet, as typed and never a formula, with no apostrophe
    to copy into e-LAAS (a CSV cannot say "text": it keeps :func:`safe_cell`'s apostrophe).

    openpyxl stores a string as a formula when it starts with ``=`` (and as an error when it
    is ``#N/A`` and the like): such a text gets a cell forced to the string type, with
    Excel's quote prefix so that editing the cell keeps it text. Text starting with ``+``,
    ``-`` or ``@`` is already a plain string cell, which no spreadsheet evaluates.
    """
    value = clean_cell(value)
    if value == safe_cell(value) and not value.startswith("#"):
        return value
    return xlsx_text_cell(ws, value)


def xlsx_text_cell(ws: Worksheet, value: str) -> WriteOnlyCell:
    """A cell holding ``value`` as a string whatever it starts with (see :func:`xlsx_text`)."""
    from openpyxl.cell import WriteOnlyCell

    value = clean_cell(value)
    c = WriteOnlyCell(ws, value=value)
    if c.data_type != "s":  # "=..." became a formula, "#N/A" an error: neither was typed so
        c.data_type = "s"
    if value != safe_cell(value) or value.startswith("#"):
        c.quotePrefix = True
    return c
