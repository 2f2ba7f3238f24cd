"""Form rendering timings: every blank form (PDF, XLSX) and a 1,000-entry cash receipts book."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.contract import FileBlob
from bot.forms.catalog import load_catalog, render_blank, render_filled, warm_up
from bot.ledger.entries import Entry, Lao, Void

LAO = Lao("5340101", "องค์การบริหารส่วนตำบลบ้านใหม่", "ลำปาง")
DESCRIPTIONS = (
    "ค่าธรรมเนียมเก็บขยะมูลฝอย หมู่ที่ 3",
    "ภาษีป้าย ร้านผู้ใหญ่ที่นี่",
    "ค่าน้ำประปาหมู่บ้าน เดือนกรกฎาคม",
    "ค่าใบอนุญาตประกอบกิจการที่เป็นอันตรายต่อสุขภาพ ร้านค้าฝั่งญี่ปุ่น ตลาดสดเทศบาล",
    "ค่าเช่าอาคารตลาดสดประจำเดือนสิงหาคมยาวติดกันไม่มีเว้นวรรค",
    "รับคืนเงินยืม",
)
LIMIT_BLANK = 0.3
LIMIT_FILLED = 2.0


def entries(n: int, seed: int = 1) -> list[Entry]:
    rnd = random.Random(seed)
    start = date(2024, 7, 1)
    return [
        Entry(
            lao_code=LAO.code,
            no=i,
            kind="receipt",
            amount=Decimal(rnd.randint(100, 5_000_000)) / 100,
            description=rnd.choice(DESCRIPTIONS),
            date=start + timedelta(days=rnd.randint(0, 30)),
            doc_no=f"บร.{i}/2567",
            method=rnd.choice(("cash", "cheque", "transfer", None)),
            author="telegram:1",
            author_name="สมศรี",
            recorded_at=datetime(2024, 7, 1, 9, 0),
            event_id=str(i),
            void=Void("telegram:1", datetime(2024, 7, 2), "ผิด") if i % 50 == 0 else None,
        )
        for i in range(1, n + 1)
    ]


def timed(fn: Callable[[], FileBlob], repeat: int = 3) -> tuple[float, FileBlob]:
    best, blob = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        blob = fn()
        best = min(best, time.perf_counter() - t)
    assert blob is not None
    return best, blob


def main() -> int:
    t = time.perf_counter()
    warm_up()
    print(f"warm-up (imports, fonts, HarfBuzz): {time.perf_counter() - t:.3f} s")
    catalog = load_catalog()
    worst: dict[str, tuple[float, str]] = {"pdf": (0.0, ""), "xlsx": (0.0, "")}
    for form in catalog:
        for fmt in ("pdf", "xlsx"):
            seconds, blob = timed(lambda f=form, x=fmt: render_blank(f, x, lao=LAO))  # type: ignore[misc]
            print(f"blank {form.id:26} {fmt:4} {seconds * 1000:7.1f} ms {len(blob.data):8,} B")
            if seconds > worst[fmt][0]:
                worst[fmt] = (seconds, form.id)
    ok = True
    for fmt, (seconds, form_id) in worst.items():
        flag = "ok" if seconds <= LIMIT_BLANK else "SLOW"
        ok &= seconds <= LIMIT_BLANK
        print(f"max blank {fmt:4}: {seconds * 1000:7.1f} ms ({form_id}) [{flag}]")

    book = catalog.get("cash-receipts-book")
    assert book is not None
    data = entries(1000)
    render_filled(book, "pdf", lao=LAO, entries=data[:10], date_from=date(2024, 7, 1),
                  date_to=date(2024, 7, 31))  # fmt: skip  # warms the Thai word breaker
    for fmt in ("pdf", "xlsx"):
        seconds, blob = timed(
            lambda x=fmt: render_filled(  # type: ignore[misc]
                book,
                x,
                lao=LAO,
                entries=data,
                date_from=date(2024, 7, 1),
                date_to=date(2024, 7, 31),
            ),
            repeat=2,
        )
        flag = "ok" if seconds <= LIMIT_FILLED else "SLOW"
        ok &= seconds <= LIMIT_FILLED
        print(
            f"filled cash-receipts-book, 1,000 entries, {fmt:4}: {seconds:.3f} s "
            f"{len(blob.data):9,} B [{flag}]"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
