"""Follow-up rows are written in one statement that commits without waiting for the disk
flush; the relaxed setting never leaks into the pooled session or a caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.pgstore import PgStore
from bot.core.sharing import put_without_flush_wait
from bot.core.store import MemoryStore
from bot.notices.status import BANGKOK
from bot.qa.followup import StoreTopicMemory


def _setting(store: PgStore) -> str:
    with store.cursor() as conn:
        row = conn.execute("SELECT current_setting('synchronous_commit')").fetchone()
    assert row is not None
    return str(row[0])


def test_relaxed_put_is_stored_and_leaks_nothing(pg_url: str) -> None:
    store = PgStore(pg_url, max_size=1)  # one connection: a leaked setting would show
    try:
        table = store.table("followups")
        put_without_flush_wait(table, "line:U1", {"topic": "guide.pay", "at": "x"})
        assert table.get("line:U1") == {"topic": "guide.pay", "at": "x"}
        assert _setting(store) == "on"
        with store.begin():  # inside a transaction: a plain, durable write
            put_without_flush_wait(table, "line:U2", {"topic": "guide.receive", "at": "y"})
            assert _setting(store) == "on"
        assert table.get("line:U2") == {"topic": "guide.receive", "at": "y"}
        put_without_flush_wait(table, "line:U1", {"topic": "guide.payroll", "at": "z"})
        assert table.get("line:U1") == {"topic": "guide.payroll", "at": "z"}  # replaced
        since, _ = table.since(0)
        assert set(since) == {"line:U1", "line:U2"}
        # Through the follow-up memory, read back by another instance's memory.
        now = datetime(2024, 7, 15, 10, 0, tzinfo=BANGKOK)
        StoreTopicMemory(store).remember("line:U3", "guide.pay", now)
        assert StoreTopicMemory(store).recall("line:U3", now + timedelta(minutes=1)) == \
            "guide.pay"
    finally:
        store.close()
    plain = MemoryStore().table("followups")
    put_without_flush_wait(plain, "k", {"a": 1})
    assert plain.get("k") == {"a": 1}
