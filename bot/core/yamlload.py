"""YAML loading that remembers line numbers; typed decoding whose errors name ``file:line``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

from bot.core.codec import format_path, split_error

T = TypeVar("T")

LINE = "__line__"
LINES = "__lines__"


class DataError(ValueError):
    """A data file cannot be loaded; the message starts with ``file:line:``.

    ``line`` and ``detail`` (the message after ``file:line:``) are set by :meth:`at`.
    """

    line: int = 1
    detail: str = ""

    @classmethod
    def at(cls, path: Path | str, line: int, detail: str) -> DataError:
        exc = cls(f"{path}:{line}: {detail}")
        exc.line, exc.detail = line, detail
        return exc


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that records each mapping's line and the line of each of its keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        mapping[LINES] = {
            self.construct_object(k, deep=deep): k.start_mark.line + 1 for k, _ in node.value
        }
        return mapping


def load_yaml(path: Path) -> Any:
    """Parse ``path``; mappings carry ``__line__`` and ``__lines__``; errors name file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError.at(path, 1, f"cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise DataError.at(path, line, f"invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise DataError.at(path, 1, f"invalid YAML: {exc}") from exc


def line_of(mapping: Any, key: str | None = None) -> int:
    """The line of ``mapping`` (or of its ``key``) as recorded by :func:`load_yaml`."""
    if not isinstance(mapping, dict):
        return 1
    if key is not None:
        return int(mapping.get(LINES, {}).get(key, mapping.get(LINE, 1)))
    return int(mapping.get(LINE, 1))


def strip_lines(value: Any) -> Any:
    """A copy of ``value`` without the line bookkeeping keys."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (LINE, LINES)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def line_at(raw: Any, path: tuple[str | int, ...]) -> int:
    """The line of the value at ``path`` inside data read by :func:`load_yaml`.

    Walks as deep as the recorded lines go: a mapping key gives the key's line, a list item
    that is a mapping gives its own line, anything else the line of what holds it.
    """
    line = line_of(raw)
    node = raw
    for part in path:
        if isinstance(node, dict) and part in node:
            line = line_of(node, str(part)) if isinstance(part, str) else line
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, dict):
                line = line_of(node)
        else:
            break
    return line


class FieldProblem(msgspec.Struct, frozen=True):
    """One thing wrong in a data file: where (line) and what (``field: message``)."""

    line: int
    field: str
    message: str

    def text(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def decode_yaml(raw: Any, type_: type[T]) -> tuple[T | None, list[FieldProblem]]:
    """``raw`` (from :func:`load_yaml`) as ``type_`` (a Struct), or the problems found.

    Missing top-level fields (and unknown ones, when ``type_`` forbids them) are all reported
    at once; of the wrong values, the first msgspec meets (its path gives the line).
    """
    problems = _field_problems(raw, type_)
    if problems:
        return None, problems
    try:
        return msgspec.convert(strip_lines(raw), type_), []
    except msgspec.ValidationError as exc:
        what, path = split_error(exc)
        return None, [_problem(raw, path, what)]


def _field_problems(raw: Any, type_: type[Any]) -> list[FieldProblem]:
    if not isinstance(raw, dict):
        return [FieldProblem(line_of(raw), "", "must be a mapping (field: value lines)")]
    names, required, strict = _fields_of(type_)
    out = [FieldProblem(line_of(raw, str(k)), "", f"unknown field {str(k)!r}")
           for k in raw if strict and k not in (LINE, LINES) and k not in names]
    out += [FieldProblem(line_of(raw), "", f"missing field {name!r}")
            for name in required if name not in raw]
    return out


_FIELDS: dict[type[Any], tuple[frozenset[str], tuple[str, ...], bool]] = {}


def _fields_of(type_: type[Any]) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """Field names, required ones, and whether unknown fields are refused (kept per type:
    ``type_info`` costs more than decoding a topic)."""
    known = _FIELDS.get(type_)
    if known is None:
        info = msgspec.inspect.type_info(type_)
        if not isinstance(info, msgspec.inspect.StructType):
            known = frozenset(), (), False
        else:
            known = (frozenset(f.encode_name for f in info.fields),
                     tuple(f.encode_name for f in info.fields if f.required),
                     info.forbid_unknown_fields)
        _FIELDS[type_] = known
    return known


_FIELD = re.compile(r"^Object (contains unknown|missing required) field `([^`]*)`$")
NON_EMPTY = r"\S"
"""Pattern of a text field that must not be blank (``Annotated[str, Meta(pattern=NON_EMPTY)]``)."""


def _problem(raw: Any, path: tuple[str | int, ...], what: str) -> FieldProblem:
    """msgspec's complaint in the words of this project's data-file messages."""
    line = line_at(raw, path)
    m = _FIELD.match(what)
    if m:  # a field of a nested mapping: the path names the mapping, the message the field
        key = m.group(2)
        if m.group(1).startswith("contains"):
            return FieldProblem(line_at(raw, (*path, key)), format_path(path),
                                f"unknown field {key!r}")
        return FieldProblem(line, format_path(path), f"missing field {key!r}")
    if what == f"Expected `str` matching regex {NON_EMPTY!r}":
        what = "must be non-empty text"
    elif "got `bool`" in what:
        what += " (YAML read it as true/false: quote it, or use another word)"
    elif what.startswith("Expected "):
        what = "expected " + what[len("Expected "):]
    return FieldProblem(line, format_path(path), what)
