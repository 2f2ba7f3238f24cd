"""Gaps log figures: file size and time per question written (a flush of one: GapLog
batches them in serve) when the table is full (capped at
MAX_GAPS) against an uncapped table of 30,000 questions, on the TinyDB store.

Run: .venv/bin/python bench/bench_gaps.py"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.store import TinyStore  # noqa: E402
from bot.qa.gaps import MAX_GAPS, GapLog  # noqa: E402

TEXT = "ขอ สูตร แกง เขียวหวาน แบบ ที่ แม่ ทำ ให้ กิน ตอน เด็ก ๆ หน่อย ได้ ไหม คะ {}"


def run(n_before: int, cap: int, samples: int = 200) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = TinyStore(Path(tmp))
        table = store.table("kb/gaps")
        today = date(2024, 7, 15).isoformat()
        table.put_many({TEXT.format(i): {"text": TEXT.format(i), "count": 1, "first": today,
                                         "last": today} for i in range(n_before)})
        log = GapLog(store, lambda: date(2024, 7, 15), cap=cap, max_pending=1)
        times = []
        for i in range(samples):
            t = time.perf_counter()
            log.record(TEXT.format(f"new-{i}"))
            times.append((time.perf_counter() - t) * 1000)
        size = (Path(tmp) / "kb" / "gaps.json").stat().st_size
        store.close()
    return statistics.median(times), max(times), size


def main() -> None:
    med, worst, size = run(MAX_GAPS, MAX_GAPS)
    print(f"capped at {MAX_GAPS}: {med:.1f} ms median per question, {worst:.1f} ms worst "
          f"(includes a prune), file {size / 1e6:.2f} MB")
    med, worst, size = run(30_000, 10**9, samples=20)
    print(f"uncapped 30,000: {med:.1f} ms median per question, {worst:.1f} ms worst, "
          f"file {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
