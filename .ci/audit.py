"""pip-audit over the installed venv: fail on a known vulnerability, warn when it cannot check.

The vulnerability service (PyPI's JSON API by default) may be unreachable from a build
machine, or answer "not found" for every pinned release (a mirror without the per-release
JSON API). pip-audit then reports nothing and exits 0, which would read as a clean audit:
this wrapper says plainly that nothing was checked instead, and still fails the build on any
vulnerability it did find.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

NETWORK_HINTS = ("ConnectionError", "NameResolutionError", "Max retries exceeded",
                 "Temporary failure in name resolution", "timed out", "ServiceError")


def main() -> int:
    venv_bin = Path(sys.argv[1] if len(sys.argv) > 1 else ".venv/bin")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        run = subprocess.run(
            [str(venv_bin / "pip-audit"), "--skip-editable", "--progress-spinner", "off",
             "--format", "json", "--output", str(report)],
            capture_output=True, text=True, timeout=900)
        if not report.exists() or not report.read_text().strip():
            if any(h in run.stderr for h in NETWORK_HINTS):
                print("pip-audit: WARNING vulnerability service unreachable, nothing audited")
                return 0
            print(run.stderr, file=sys.stderr)
            print(f"pip-audit: failed (exit {run.returncode})", file=sys.stderr)
            return 1
        deps = json.loads(report.read_text()).get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    for d in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in d["vulns"])
        fixes = sorted({f for v in d["vulns"] for f in v.get("fix_versions", [])})
        print(f"pip-audit: {d['name']} {d['version']}: {ids} (fixed in {', '.join(fixes) or '-'})")
    audited = len(deps) - len(skipped)
    if vulnerable:
        print(f"pip-audit: {len(vulnerable)} vulnerable package(s)", file=sys.stderr)
        return 1
    if audited == 0:
        print(f"pip-audit: WARNING none of {len(deps)} packages could be looked up "
              "(service unreachable or a mirror without release data): nothing audited")
    else:
        print(f"pip-audit: no known vulnerabilities in {audited} package(s)"
              + (f", {len(skipped)} not looked up" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
