"""Cutting long texts at a channel's limit, counted in UTF-16 units as LINE and Telegram do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def utf16_len(text: str) -> int:
    """Length as LINE and Telegram count it (UTF-16 code units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    if utf16_len(text[:limit]) <= limit:
        return min(limit, len(text))
    cut = limit
    while utf16_len(text[:cut]) > limit:
        cut -= 1
    return cut


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units.

    Cuts at a paragraph break if one is in the second half of the piece, else at a line
    break, else at a space, else hard; never returns an empty list.
    """
    out: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        n = _fit(rest, limit)
        window = rest[:n]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            pos = window.rfind(sep)
            if pos >= n // 2:
                cut = pos
                break
        if cut <= 0:
            out.append(window)
            rest = rest[n:]
        else:
            out.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip("\n ")
    if rest or not out:
        out.append(rest)
    return [p for p in out if p] or [""]


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in lists of at most ``size``."""
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
