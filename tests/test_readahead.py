"""The claim's read-ahead (a user's session and last topic) and the writes that wait for the
release: the engine on PostgreSQL reads and writes as if it went to the database itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.pgstore import PgStore
from bot.core.sharing import put_without_flush_wait
from handlers.pginbox import PgInbox


@pytest.fixture
def pg(pg_url: str) -> Iterator[PgStore]:
    store = PgStore(pg_url)
    yield store
    store.close()


@pytest.fixture
async def inboxes(pg_url: str) -> AsyncIterator[tuple[PgInbox, PgInbox]]:
    a = PgInbox(pg_url, lease=0.5, prefetch=("sessions", "followups"))
    b = PgInbox(pg_url, lease=0.5, prefetch=("sessions", "followups"))
    for inbox in (a, b):
        await inbox.open()
    yield a, b
    for inbox in (a, b):
        await inbox.close()


def test_reads_come_from_the_read_ahead_and_other_writes_drop_it(pg: PgStore) -> None:
    sessions = pg.table("sessions")
    sessions.put("line:U1", {"step": "db"})
    primed = pg.prime({("sessions", "line:U1"): '{"step": "ahead"}',
                       ("sessions", "line:U2"): None})
    with pg.primed(primed):
        assert sessions.get("line:U1") == {"step": "ahead"}  # no round trip
        got = sessions.get("line:U1")
        assert got is not None
        got["step"] = "changed by the caller"  # a fresh copy each time
        assert sessions.get("line:U1") == {"step": "ahead"}
        assert sessions.get("line:U2") is None  # known absent
        sessions.put("line:U1", {"step": "written"})
        assert ("sessions", "line:U1") not in primed.docs
        assert sessions.get("line:U1") == {"step": "written"}  # from the database again
    assert sessions.get("line:U1") == {"step": "written"}


def test_a_write_without_flush_wait_waits_for_the_release(pg: PgStore) -> None:
    followups = pg.table("followups")
    primed = pg.prime({("followups", "line:U1"): None})
    with pg.primed(primed):
        put_without_flush_wait(followups, "line:U1", {"topic": "guide.pay"})
        assert followups.get("line:U1") == {"topic": "guide.pay"}  # seen here at once
    assert followups.get("line:U1") is None  # not written yet
    assert list(primed.deferred) == [("followups", "line:U1")]


def test_a_delete_after_a_deferred_write_wins(pg: PgStore) -> None:
    followups = pg.table("followups")
    primed = pg.prime({("followups", "line:U1"): None})
    with pg.primed(primed):
        put_without_flush_wait(followups, "line:U1", {"topic": "guide.pay"})
        followups.delete("line:U1")
        assert followups.get("line:U1") is None
        put_without_flush_wait(followups, "line:U2", {"topic": "guide.pay"})
        followups.update("line:U2", lambda d: {**(d or {}), "seen": True})
    assert primed.deferred == {}
    assert followups.get("line:U1") is None  # the deferred write did not come back
    assert followups.get("line:U2") == {"topic": "guide.pay", "seen": True}


def test_a_write_that_would_fail_is_not_deferred(pg: PgStore) -> None:
    followups = pg.table("followups")
    primed = pg.prime({})
    with pg.primed(primed), pytest.raises(Exception):  # noqa: B017 - jsonb refuses NUL
        put_without_flush_wait(followups, "line:U1", {"topic": "a\x00b"})
    assert primed.deferred == {}


async def test_the_claim_reads_ahead_and_the_release_writes_while_leased(
        pg: PgStore, inboxes: tuple[PgInbox, PgInbox]) -> None:
    a, b = inboxes
    pg.table("sessions").put("line:U1", {"step": "s"})
    await a.accept_judged([("line:e1", "line:U1", "", {"k": 1}, "ok"),
                           ("line:e2", "line:U2", "", {"k": 2}, "ok")])
    assert await a.claim("line:U1") and await a.claim("line:U2")
    assert a.prefetched("line:U1") == {("sessions", "line:U1"): '{"step": "s"}',
                                       ("followups", "line:U1"): None}
    a.answered("line:e1")
    await a.release("line:U1", {("followups", "line:U1"): '{"topic": "t1"}'})
    assert pg.table("followups").get("line:U1") == {"topic": "t1"}
    # A stalled past its lease: B took U2 over; A's late write must not land
    await asyncio.sleep(0.7)
    assert await b.claim("line:U2") is not None
    await a.release("line:U2", {("followups", "line:U2"): '{"topic": "stale"}'})
    assert pg.table("followups").get("line:U2") is None


def test_everyday_messages_need_no_read_beyond_the_claims_read_ahead(pg_url: str,
                                                                      tmp_path: Path) -> None:
    """Each per-user read of a Q&A text (session, last topic, the choices last offered: a
    short text may be a typed button label) comes from the claim's read-ahead on PostgreSQL:
    a round trip from the engine thread per event halves what one instance answers."""
    from bot.core.contract import Incoming
    from bot.core.pgstore import PgTable
    from handlers.app import build_core
    from handlers.settings import Settings
    from handlers.web.server import default_inbox

    pg = PgStore(pg_url, max_size=2)
    core = build_core(Settings(data_dir=tmp_path / "d", database_url=pg_url), store=pg)
    inbox = default_inbox(core)
    assert isinstance(inbox, PgInbox)
    user = "line:U1"
    reads: list[str] = []
    real_get = PgTable.get

    def counted(table: PgTable, key: str) -> object:
        primed = pg.primed_now()
        if primed is None or (table.name, key) not in primed.docs:
            reads.append(f"{table.name}/{key}")
        return real_get(table, key)

    try:
        core.engine.reply_to(Incoming("line", "U1", "U1", text="ระบบล่มไหม", event_id="e0"))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(PgTable, "get", counted)
            for i, text in enumerate(("ระบบล่มไหม", "จ่ายเงินยังไง", "ขอบคุณค่ะ")):
                docs = {(t, user): real_get(pg.table(t), user) for t in inbox.prefetch}
                primed = pg.prime({k: None if d is None else json.dumps(d)
                                   for k, d in docs.items()})
                with pg.primed(primed):
                    core.engine.reply_to(Incoming("line", "U1", "U1", text=text,
                                                  event_id=f"e{i + 1}"))
        assert [r for r in reads if r.endswith(user)] == []
    finally:
        pg.close()
