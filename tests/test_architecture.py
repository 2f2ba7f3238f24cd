"""The core never imports channel or web code (design.md)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"telegram", "linebot", "aiohttp", "handlers"}


def test_core_imports_no_channel_library() -> None:
    offenders = []
    for path in (Path(__file__).parent.parent / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
