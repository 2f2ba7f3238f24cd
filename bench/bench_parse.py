"""Quick-entry parser throughput over tests/data/entries.tsv: ``python bench/bench_parse.py``."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ledger.entries import EntryError, NotAnEntry  # noqa: E402
from bot.ledger.quickentry import looks_like_entry, parse_entry  # noqa: E402

DATA = ROOT / "tests" / "data" / "entries.tsv"
TARGET = 2_000  # entries per second the bot needs with room to spare


def load() -> list[tuple[str, date]]:
    """The (text, today) pairs of the test table."""
    with DATA.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["text"], date.fromisoformat(r["today"])) for r in reader]


def run(rows: list[tuple[str, date]], total: int) -> tuple[float, dict[str, int]]:
    """Parse ``total`` lines cycling over ``rows``; returns seconds and outcome counts."""
    counts = {"ok": 0, "error": 0, "not": 0}
    n = len(rows)
    start = time.perf_counter()
    for i in range(total):
        text, today = rows[i % n]
        try:
            parse_entry(text, today)
            counts["ok"] += 1
        except EntryError:
            counts["error"] += 1
        except NotAnEntry:
            counts["not"] += 1
    return time.perf_counter() - start, counts


def main() -> int:
    """Print entries/s for parse_entry and looks_like_entry; exit 1 when under the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--parses", type=int, default=20_000, help="lines to parse")
    args = parser.parse_args()
    rows = load()
    total = max(args.parses, 10_000)
    run(rows, len(rows))  # warm-up: compile regexes, fill caches
    best = float("inf")
    counts: dict[str, int] = {}
    for _ in range(3):
        seconds, counts = run(rows, total)
        best = min(best, seconds)
    rate = total / best
    start = time.perf_counter()
    for i in range(total):
        looks_like_entry(rows[i % len(rows)][0])
    check_rate = total / (time.perf_counter() - start)
    print(f"table rows:        {len(rows)}")
    print(f"parses per run:    {total} (best of 3)")
    print(f"outcomes per run:  {counts}")
    print(f"parse_entry:       {rate:,.0f} entries/s ({best / total * 1e6:.1f} µs each)")
    print(f"looks_like_entry:  {check_rate:,.0f} lines/s")
    print(f"target:            {TARGET:,} entries/s -> {'OK' if rate >= TARGET else 'TOO SLOW'}")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
