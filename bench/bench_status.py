"""Status figures: first-message lengths of every topic, the cost of a status answer with its
signals (field votes read from a TinyDB store), and `elaas-bot ask --json` cold start.

Run: .venv/bin/python bench/bench_status.py"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.contract import Incoming  # noqa: E402
from bot.notices.signals import FIELD_TABLE, ProbeLog, ProbeResult  # noqa: E402
from bot.notices.status import BANGKOK  # noqa: E402
from bot.qa.knowledge import MAX_FIRST  # noqa: E402
from handlers.app import build_core  # noqa: E402
from handlers.settings import Settings  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        core = build_core(Settings(data_dir=Path(tmp)))
        core.engine.clock = lambda: NOW
        lengths = []
        for t in core.kb.topics:
            first = core.engine.reply_to(Incoming("console", "b", "b", action=f"topic:{t.id}",
                                                  event_id=t.id))[0]
            lengths.append((len(first.text), t.id))
        lengths.sort()
        print(f"first messages: {len(lengths)} topics, median {lengths[len(lengths) // 2][0]}, "
              f"max {lengths[-1][0]} ({lengths[-1][1]}), limit {MAX_FIRST}")
        for votes in (0, 1_000, 10_000):
            core.store.table(FIELD_TABLE).put_many({
                f"line:U{i:06d}": {"up": i % 3 == 0, "at": (NOW - timedelta(minutes=i % 150))
                                   .isoformat(), "province": f"จังหวัด{i % 77}"}
                for i in range(votes)})
            ProbeLog(core.store).record(ProbeResult(NOW - timedelta(minutes=3), "up", 200, 420))
            times = []
            for i in range(30):
                start = time.perf_counter()
                core.engine.reply_to(Incoming("console", "b", "b", text="ระบบล่มอยู่ไหม",
                                              event_id=f"q{votes}-{i}"))
                times.append((time.perf_counter() - start) * 1000)
            print(f"status answer with {votes:>6,} field votes in TinyDB: "
                  f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
        core.store.close()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from handlers.cli import run; run()", "ask", "--json",
                    "ระบบล่มอยู่ไหม"], cwd=ROOT, check=True, capture_output=True)
    print(f"elaas-bot ask --json cold start: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
