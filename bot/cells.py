"""Spreadsheet cell safety: text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: str) -> str:
    """Prefix a quote to text starting with ``= + - @`` (or a control char) so it stays text.

    OWASP's CSV-injection advice: Excel, LibreOffice and Google Sheets show the text as typed
    and never evaluate it.
    """
    if value and value.startswith(_FORMULA_START):
        return "'" + value
    return value
