"""The claim's read-ahead (a user's session and last topic) and the writes that wait for the
release: the engine on PostgreSQL reads and writes as if it went to the database itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

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
