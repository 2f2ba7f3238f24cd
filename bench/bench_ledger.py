"""Ledger figures: logging one entry with 10,000 already stored (through the engine, on the
TinyDB store), and exporting 10,000 entries to XLSX and CSV.

Run: .venv/bin/python bench/bench_ledger.py"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.contract import Incoming  # noqa: E402
from bot.ledger.entries import Lao, ParsedEntry  # noqa: E402
from bot.ledger.export import export_csv, export_xlsx  # noqa: E402
from handlers.app import build_core  # noqa: E402
from handlers.settings import Settings  # noqa: E402

N = 10_000
BANGKOK = timezone(timedelta(hours=7))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        core = build_core(Settings(data_dir=Path(tmp)))
        now = datetime(2024, 7, 31, 16, 0, tzinfo=BANGKOK)
        core.engine.clock = lambda: now
        lao = Lao("01234567", "อบต.ทดสอบ", "ลำพูน")
        core.book.directory.add_lao(lao)
        core.book.directory.bind("console:bench", lao.code, "admin", "ผู้ทดสอบ", now)
        ledger = core.book.ledger(lao.code)
        seed = [(ParsedEntry("receipt" if i % 3 else "payment", Decimal(100 + i % 900),
                             f"ค่าธรรมเนียมเก็บขยะมูลฝอย หมู่ {i % 12 + 1}",
                             date(2024, 7, 1) + timedelta(days=i % 30), f"{i}/2567", "cash"),
                 f"seed{i}") for i in range(N)]
        t = time.perf_counter()
        ledger.add_many(seed, author="line:Useed", author_name="seed", channel="line", now=now)
        print(f"seeded {N:,} entries in {time.perf_counter() - t:.2f} s; file "
              f"{(Path(tmp) / 'lao' / lao.code / 'ledger.json').stat().st_size / 1e6:.1f} MB")

        times = []
        for i in range(200):
            inc = Incoming("console", "bench", "bench", text=f"รับ {1000 + i} ค่าขยะ หมู่ 3",
                           event_id=f"bench{i}", display_name="ผู้ทดสอบ")
            t = time.perf_counter()
            replies = core.engine.reply_to(inc)
            times.append((time.perf_counter() - t) * 1000)
            assert "บันทึกแล้ว" in replies[0].text, replies[0].text
        times.sort()
        print(f"log one entry via Engine.reply_to with {N:,}+ stored (200 runs): "
              f"p50 {statistics.median(times):.1f} ms, p95 {times[int(len(times) * .95)]:.1f} ms,"
              f" max {times[-1]:.1f} ms")

        entries = ledger.entries()[:N]
        t = time.perf_counter()
        data = export_xlsx(lao, entries, now=now)
        print(f"export {len(entries):,} entries to XLSX: {time.perf_counter() - t:.2f} s "
              f"({len(data) / 1e6:.1f} MB)")
        t = time.perf_counter()
        export_csv(entries)
        print(f"export {len(entries):,} entries to CSV: {time.perf_counter() - t:.2f} s")
        core.store.close()


if __name__ == "__main__":
    main()
