"""The schema of a knowledge topic (knowledge/topics/*.yaml) as a msgspec Struct."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta

from bot.core.yamlload import NON_EMPTY

Text = Annotated[str, Meta(pattern=NON_EMPTY)]
# List items may be written as bare numbers in YAML (a keyword "2563"): read as text.
Words = tuple[str | int | float, ...]


class TopicSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One item of a topic file, as written (see knowledge/README.md).

    Unknown fields are allowed: editors add notes, and the matcher may read new ones.
    """

    id: Text
    title: Text
    phrasings: Annotated[Words, Meta(min_length=1)]
    answer: Text
    sources: Annotated[Words, Meta(min_length=1)]
    reviewed: date
    keywords: Words | None = None
    related: Words | None = None
    forms: Words | None = None
    see_also: Words | None = None
    short: str | None = None
    manual: bool = False
    latest_ref: bool = False
    command: str | None = None


def words(value: Words | None) -> tuple[str, ...]:
    """A list field as texts (numbers written bare become their text)."""
    return tuple(str(v) for v in value or ())
