"""The gap log's write-behind buffer: few writes, nothing lost at a flush or a close, counts
of several instances add up."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.store import MemoryStore, MemoryTable, Store, TinyStore
from bot.qa.gaps import GAPS_TABLE, GapLog
from handlers.app import Core
from tests.conftest import Say

DAY = date(2024, 7, 15)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class CountingTable(MemoryTable):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def put_many(self, docs: Mapping[str, Mapping[str, Any]]) -> None:
        self.writes += 1
        super().put_many(docs)


class CountingStore(MemoryStore):
    def table(self, name: str) -> MemoryTable:
        return self._tables.setdefault(name, CountingTable())


def counts(store: Store) -> dict[str, int]:
    return {k: d["count"] for k, d in store.table(GAPS_TABLE).all().items()}


def test_many_unanswered_questions_are_written_in_a_few_batches() -> None:
    store = CountingStore()
    clock = Clock()
    log = GapLog(store, lambda: DAY, flush_every=5.0, max_pending=50, clock=clock)
    for i in range(100):
        log.record(f"คำถาม ที่ {i % 10}")
        clock.t += 0.01  # 100 questions in one second
    table = store.table(GAPS_TABLE)
    assert isinstance(table, CountingTable)
    assert table.writes == 0  # nothing due yet: 10 distinct questions, one second
    clock.t += 5.0
    log.record("คำถาม ที่ 0")  # the first buffered ask is 6 s old: one batch for all
    assert table.writes == 1
    assert counts(store) == {f"คำถาม ที่ {i}": 10 + (i == 0) for i in range(10)}
    for i in range(120):  # 120 distinct questions at once: the size threshold flushes
        log.record(f"อีก {i}")
    assert table.writes == 3 and len(table) == 110


def test_counts_survive_a_flush_and_a_close(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    log = GapLog(store, lambda: DAY, clock=Clock())
    log.record("ถาม ซ้ำ")
    log.record("ถาม ซ้ำ")
    log.flush()
    log.record("ถาม ซ้ำ")
    log.record("ถาม ครั้ง เดียว")
    log.close()
    store.close()
    again = TinyStore(tmp_path)
    try:
        assert counts(again) == {"ถาม ซ้ำ": 3, "ถาม ครั้ง เดียว": 1}
    finally:
        again.close()


def test_reads_see_what_is_still_buffered() -> None:
    store = MemoryStore()
    log = GapLog(store, lambda: DAY, clock=Clock())
    log.record("ยัง ไม่ ได้ เขียน")
    assert len(log) == 1
    assert [(g.text, g.count) for g in log.top()] == [("ยัง ไม่ ได้ เขียน", 1)]
    log.record("ถาม ก่อน ทำเครื่องหมาย")
    assert log.mark_handled("ถาม ก่อน ทำเครื่องหมาย")  # asked before the mark: still handled
    assert [g.text for g in log.top()] == ["ยัง ไม่ ได้ เขียน"]


def test_two_logs_on_one_store_add_their_counts(any_store: Store) -> None:
    logs = [GapLog(any_store, lambda: DAY, clock=Clock()) for _ in range(2)]

    def ask(log: GapLog) -> None:
        for _ in range(20):
            log.record("ถาม เหมือน กัน")
            log.record("ถาม เหมือน กัน")
            log.flush()

    threads = [threading.Thread(target=ask, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts(any_store) == {"ถาม เหมือน กัน": 80}


def test_a_failed_flush_keeps_the_counts_for_the_next_one() -> None:
    store = MemoryStore()
    log = GapLog(store, lambda: DAY, clock=Clock())
    log.record("ถาม ตอน ฐานข้อมูล ล่ม")
    table = store.table(GAPS_TABLE)
    put_many = table.put_many

    def down(docs: Mapping[str, Mapping[str, Any]]) -> None:
        from bot.core.store import StoreUnavailable
        raise StoreUnavailable("down")

    table.put_many = down  # type: ignore[method-assign]
    log.flush()  # logged, not raised: the clerk's answer does not depend on it
    table.put_many = put_many  # type: ignore[method-assign]
    log.record("ถาม ตอน ฐานข้อมูล ล่ม")
    log.flush()
    assert counts(store) == {"ถาม ตอน ฐานข้อมูล ล่ม": 2}


def test_the_core_flushes_the_engines_gaps_when_closed(say: Say, core: Core) -> None:
    say("ขอสูตรแกงเขียวหวานหน่อย")
    say("ขอสูตรแกงเขียวหวานหน่อย")
    store = core.store
    core.close()
    reopened = TinyStore(core.settings.data_dir)
    try:
        assert list(counts(reopened).values()) == [2]
    finally:
        reopened.close()
    store.close()  # closing twice is harmless (the fixture does it again)


def operator_mark_survives(store_a: Store, store_b: Store) -> None:
    """Instance A holds an ask in its buffer while an operator marks the question handled
    through instance B: A's flush adds the count and keeps the mark; an ask A counts after it
    has seen the mark brings the question back (asked again after the fix)."""
    a = GapLog(store_a, lambda: DAY, clock=Clock())
    b = GapLog(store_b, lambda: DAY, clock=Clock())
    a.record("ถาม ก่อน แก้")
    b.record("ถาม ก่อน แก้")
    assert b.mark_handled("ถาม ก่อน แก้", by="console:op", at="2024-07-15T10:00:00+07:00")
    a.flush()  # an ask from before the mark
    (gap,) = b.top(include_handled=True)
    assert gap.handled and gap.count == 2
    assert b.top() == []
    a.record("ถาม ก่อน แก้")  # after A's flush saw the mark
    a.flush()
    assert [(g.text, g.count, g.handled) for g in b.top()] == [("ถาม ก่อน แก้", 3, False)]


def test_a_flush_keeps_a_mark_set_through_another_log(any_store: Store) -> None:
    operator_mark_survives(any_store, any_store)


def test_a_flush_keeps_a_mark_set_through_another_instance_on_postgres(pg_url: str) -> None:
    from bot.core.pgstore import PgStore

    one, two = PgStore(pg_url, max_size=2), PgStore(pg_url, max_size=2)
    try:
        operator_mark_survives(one, two)
    finally:
        one.close()
        two.close()
