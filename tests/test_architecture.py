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


def test_network_guard_refuses_real_addresses() -> None:
    """The autouse guard in conftest.py: a real address fails the test, loopback does not."""
    import socket

    import pytest

    from tests.conftest import RealNetworkUsed

    with socket.socket() as s, pytest.raises(RealNetworkUsed):
        s.connect(("203.0.113.7", 443))
    with pytest.raises(RealNetworkUsed):
        socket.getaddrinfo("api.line.me", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)


def test_extensions_do_not_import_the_server() -> None:
    """server.py installs the extensions; they reach the app through handlers.appkeys only."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "handlers"
    importers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if "handlers.web.server import" in p.read_text(encoding="utf-8"))
    assert importers == ["cli.py", "web/server.py"] or importers == ["cli.py"]
