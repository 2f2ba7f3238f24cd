"""Typed data in CPU time: the store codec on 10,000 entries, decoding the knowledge YAML.

``python bench/bench_data.py`` prints CPU milliseconds (``time.process_time``, best of N), which
stay comparable on a machine shared with other work where wall-clock figures do not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.codec import decode, encode  # noqa: E402
from bot.forms.catalog import load_catalog  # noqa: E402
from bot.ledger.entries import Entry, Void  # noqa: E402
from bot.notices.status import load_seed  # noqa: E402
from bot.qa.knowledge import default_knowledge_dir, load_knowledge  # noqa: E402

BANGKOK = timezone(timedelta(hours=7))


def best_ms(fn: Callable[[], object], runs: int) -> float:
    """The smallest CPU time of ``runs`` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times) * 1000


def entries(n: int) -> list[Entry]:
    at = datetime(2024, 7, 31, 16, 0, tzinfo=BANGKOK)
    return [Entry(lao_code="01234567", no=i + 1, kind="receipt" if i % 3 else "payment",
                  amount=Decimal(100 + i % 900), description=f"ค่าธรรมเนียมเก็บขยะ หมู่ {i % 12}",
                  date=date(2024, 7, 1) + timedelta(days=i % 30), doc_no=f"{i}/2567",
                  method="cash", author="line:Useed", author_name="seed", recorded_at=at,
                  event_id=f"seed{i}", channel="line",
                  void=Void("line:U2", at, "ยอดผิด") if i % 50 == 0 else None)
            for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="best of this many")
    args = parser.parse_args()
    values = entries(args.entries)
    docs = [encode(e) for e in values]
    assert [decode(d, Entry) for d in docs] == values  # exact round trip, Decimal included
    kd = default_knowledge_dir()
    print(f"encode {args.entries:,} entries: "
          f"{best_ms(lambda: [encode(e) for e in values], args.runs):8.1f} ms CPU")
    print(f"decode {args.entries:,} entries: "
          f"{best_ms(lambda: [decode(d, Entry) for d in docs], args.runs):8.1f} ms CPU")
    loads: dict[str, Callable[[], object]] = {
        "load_catalog (knowledge/forms)": lambda: load_catalog(kd / "forms"),
        "load_knowledge (topics, ...)": lambda: load_knowledge(kd),
        "load_seed (status.yaml)": lambda: load_seed(kd / "status.yaml"),
    }
    for label, fn in loads.items():
        print(f"{label + ':':32} {best_ms(fn, args.runs):8.2f} ms CPU")

if __name__ == "__main__":
    main()
