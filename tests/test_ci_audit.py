"""The CI audit wrapper: fails on a known vulnerability, warns (passes) when it cannot check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AUDIT = Path(__file__).parent.parent / ".ci" / "audit.py"


def fake_pip_audit(bin_dir: Path, *, report: dict[str, object] | None, stderr: str = "",
                   code: int = 0) -> None:
    """A stand-in ``pip-audit`` that writes ``report`` to ``--output`` and exits ``code``."""
    bin_dir.mkdir()
    script = bin_dir / "pip-audit"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"report = {json.dumps(report)!r}\n"
        "out = sys.argv[sys.argv.index('--output') + 1]\n"
        "if report != 'null':\n"
        "    open(out, 'w').write(report)\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({code})\n")
    script.chmod(0o755)


def run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(AUDIT), str(bin_dir)], capture_output=True,
                          text=True, timeout=60)


def test_found_vulnerability_fails(tmp_path: Path) -> None:
    fake_pip_audit(tmp_path / "bin", code=1, report={"dependencies": [
        {"name": "aiohttp", "version": "3.9.0",
         "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["3.9.4"]}]},
        {"name": "filelock", "version": "4.3.1", "vulns": []}]})
    out = run(tmp_path / "bin")
    assert out.returncode == 1 and "GHSA-xxxx" in out.stdout and "3.9.4" in out.stdout


@pytest.mark.parametrize("case", ["unreachable", "all-skipped"])
def test_unreachable_service_warns_and_passes(tmp_path: Path, case: str) -> None:
    if case == "unreachable":
        fake_pip_audit(tmp_path / "bin", report=None, code=1,
                       stderr="requests.exceptions.ConnectionError: Max retries exceeded")
    else:
        fake_pip_audit(tmp_path / "bin", report={"dependencies": [
            {"name": "aiohttp", "version": "3.14.5", "skip_reason": "not found on PyPI"}]})
    out = run(tmp_path / "bin")
    assert out.returncode == 0 and "WARNING" in out.stdout and "nothing audited" in out.stdout


def test_other_failure_fails(tmp_path: Path) -> None:
    fake_pip_audit(tmp_path / "bin", report=None, code=2, stderr="usage: pip-audit ...")
    assert run(tmp_path / "bin").returncode == 1


def test_clean_audit_passes(tmp_path: Path) -> None:
    fake_pip_audit(tmp_path / "bin", report={"dependencies": [
        {"name": "aiohttp", "version": "3.14.5", "vulns": []}]})
    out = run(tmp_path / "bin")
    assert out.returncode == 0 and "no known vulnerabilities in 1" in out.stdout
