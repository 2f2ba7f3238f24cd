"""One typed codec for stored documents: msgspec Structs <-> JSON-safe dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from bot.core.store import StoreError

T = TypeVar("T")


class DocumentError(StoreError):
    """A stored document does not fit its type; the message names the table, key and field."""


def encode(value: Any) -> dict[str, Any]:
    """``value`` (a Struct) as a JSON-safe document: Decimal, date and datetime as ISO strings.

    Datetimes keep their offset as ``+07:00``/``+00:00`` (never ``Z``), the shape written by
    ``datetime.isoformat`` before this codec, so old readers and string comparisons still work.
    """
    # Through msgspec's JSON (fast): what comes back is exactly what a store reads back
    # (tuples as lists, Decimal as its string), so a write and a re-read compare equal.
    doc = _decoder.decode(_encoder.encode(value))
    if not isinstance(doc, dict):
        raise TypeError(f"not a document type: {type(value).__name__}")
    return doc


def decode(doc: Mapping[str, Any], type_: type[T], *, where: str = "") -> T:
    """``doc`` read back as ``type_``: missing fields take their defaults, extra keys are ignored.

    Args:
        doc: A stored document (from ``Table.get``/``all``).
        type_: The Struct type to build.
        where: ``table/key`` named in the error (the store location of ``doc``).

    Raises:
        DocumentError: The document does not fit (``where: field: what is wrong``).
    """
    try:
        return msgspec.convert(doc, type_)
    except msgspec.ValidationError as exc:
        raise DocumentError(f"{where or type_.__name__}: {describe(exc)}") from None


def describe(exc: msgspec.ValidationError) -> str:
    """``field.path: what is wrong`` from msgspec's ``what - at `$.field.path```."""
    what, path = split_error(exc)
    return f"{format_path(path) or '(document)'}: {what}"


def format_path(path: tuple[str | int, ...]) -> str:
    """``("columns", 1, "align")`` -> ``columns[1].align`` (a map key msgspec hides: ``[...]``)."""
    out = ""
    for part in path:
        if isinstance(part, int) or part == "...":
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def split_error(exc: msgspec.ValidationError) -> tuple[str, tuple[str | int, ...]]:
    """msgspec's message and the path it names (``$.columns[1].align`` -> columns, 1, align)."""
    text = str(exc)
    what, sep, where = text.rpartition(" - at `")
    if not sep:
        return text, ()
    return what, parse_path(where.rstrip("`"))


def parse_path(where: str) -> tuple[str | int, ...]:
    """``$.a[2].b`` -> ``("a", 2, "b")`` (msgspec's path notation)."""
    out: list[str | int] = []
    rest = where[1:] if where.startswith("$") else where
    while rest:
        if rest.startswith("."):
            rest = rest[1:]
            end = min((i for i in (rest.find("."), rest.find("[")) if i >= 0), default=len(rest))
            out.append(rest[:end])
            rest = rest[end:]
        elif rest.startswith("["):
            end = rest.find("]")
            token = rest[1:end]
            out.append(int(token) if token.lstrip("-").isdigit() else token.strip("'\""))
            rest = rest[end + 1:]
        else:
            break
    return tuple(out)


def _unknown(value: Any) -> Any:
    raise NotImplementedError(f"no stored form for {type(value).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_unknown)
_decoder = msgspec.json.Decoder()
