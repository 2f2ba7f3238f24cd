"""YAML loading that remembers line numbers, so data problems name ``file:line``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LINE = "__line__"
LINES = "__lines__"


class DataError(ValueError):
    """A data file cannot be loaded; the message starts with ``file:line:``."""


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
        raise DataError(f"{path}:1: cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise DataError(f"{path}:{line}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path}:1: invalid YAML: {exc}") from exc


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
