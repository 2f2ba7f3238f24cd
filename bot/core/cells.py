"""Spreadsheet cell safety: formulas neutralised, characters a workbook cannot hold removed."""

from __future__ import annotations

import re

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
