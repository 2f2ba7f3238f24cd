"""CI runs the PostgreSQL tests: .ci/run requires them, and a missing server fails, not skips."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import tests.conftest as conftest
from tests.pgcluster import find_bindir

ROOT = Path(__file__).parent.parent


def test_ci_script_installs_postgres_and_requires_its_tests() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^export {conftest.REQUIRE_PG}=1$", script, re.M)
    assert "need+=(postgresql)" in script
    # set before pytest runs
    assert script.index(conftest.REQUIRE_PG) < script.index(".venv/bin/pytest")


def test_missing_postgres_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "find_bindir", lambda: None)
    monkeypatch.setenv(conftest.REQUIRE_PG, "1")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        conftest.require_bindir()
    monkeypatch.delenv(conftest.REQUIRE_PG)
    with pytest.raises(pytest.skip.Exception):
        conftest.require_bindir()


def test_postgres_present_under_ci() -> None:
    if os.environ.get(conftest.REQUIRE_PG) != "1":
        pytest.skip(f"{conftest.REQUIRE_PG} is not set (only .ci/run requires PostgreSQL)")
    bindir = find_bindir()
    assert bindir is not None and (bindir / "pg_ctl").exists()
