"""Status, probe and field-vote reads served from table mirrors: writes are seen within the
stated bound (at once through this process or the embedded store; SHARED_TTL on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core.store import Store, TinyStore
from bot.notices.mirror import SHARED_TTL, mirror
from bot.notices.signals import (
    FIELD_TABLE,
    PROBE_TABLE,
    FieldReports,
    ProbeLog,
    ProbeResult,
    snapshot,
)
from bot.notices.status import BANGKOK, TABLE, StatusBoard
from bot.qa.knowledge import default_knowledge_dir

SEED = default_knowledge_dir() / "status.yaml"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=BANGKOK)


class Clock:
    """A monotonic clock the test moves by hand (no sleeping, no timing)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _clocked(store: Store) -> Clock:
    clock = Clock()
    for name in (TABLE, PROBE_TABLE, FIELD_TABLE):
        mirror(store, name).clock = clock
    return clock


def test_embedded_reads_see_every_write_at_once(tmp_path: Path) -> None:
    store = TinyStore(tmp_path / "data")
    board = StatusBoard(store, seed=SEED)
    _clocked(store)  # the clock never moves: only revisions can refresh the mirrors
    first = snapshot(board, store, NOW)
    assert first.view is not None and first.probe is None and not first.field
    # Another handle (as the spool or the console builds one) on the same store.
    other = StatusBoard(store)
    other.post(state="normal", message="กลับมาใช้ได้แล้ว", by="admin", at=NOW)
    ProbeLog(store).record(ProbeResult(NOW - timedelta(minutes=1), "up", 200, 80))
    FieldReports(store).vote("U1", True, "ลำพูน", NOW)
    snap = snapshot(board, store, NOW)
    assert snap.view is not None and snap.view.state == "normal"
    assert snap.probe is not None and snap.probe.outcome == "up"
    assert (snap.field_up, snap.field_down) == (1, 0)
    assert board.timeline()[-1].message == "กลับมาใช้ได้แล้ว"
    # A changed mind replaces the vote; pruning forgets it (a delete, which since() omits).
    FieldReports(store).vote("U1", False, "ลำพูน", NOW)
    assert (snapshot(board, store, NOW).field_down) == 1
    assert FieldReports(store).prune(NOW + timedelta(hours=3)) == 1
    assert FieldReports(store)._votes() == {}
    store.close()


def test_timeline_copy_cannot_change_the_mirror(tmp_path: Path) -> None:
    store = TinyStore(tmp_path / "data")
    board = StatusBoard(store, seed=SEED)
    before = len(board.timeline())
    board.timeline().clear()
    assert len(board.timeline()) == before
    store.close()


def test_probe_log_keeps_latest_after_old_results_are_deleted(tmp_path: Path) -> None:
    store = TinyStore(tmp_path / "data")
    log = ProbeLog(store)
    for i in range(60):  # past PROBE_KEEP: the oldest are deleted
        log.record(ProbeResult(NOW + timedelta(minutes=i), "down" if i % 2 else "up"))
    latest = log.latest()
    assert latest is not None and latest.at == NOW + timedelta(minutes=59)
    assert latest.outcome == "down"
    assert len(mirror(store, PROBE_TABLE).docs()) == 50
    store.close()


@pytest.fixture
def two_pg(pg_url: str) -> Iterator[tuple[Store, Store]]:
    from bot.core.pgstore import PgStore

    a, b = PgStore(pg_url, max_size=2), PgStore(pg_url, max_size=2)
    yield a, b
    a.close()
    b.close()


def test_shared_store_sees_another_instance_within_the_ttl(
        two_pg: tuple[Store, Store]) -> None:
    a, b = two_pg
    board_a = StatusBoard(a, seed=SEED)
    board_b = StatusBoard(b, seed=SEED)  # seeds once: the timeline is shared
    clock = _clocked(a)
    assert board_a.current() is not None and board_a.current().state != "normal"  # type: ignore[union-attr]
    # Written by the other instance: not asked for again before the TTL runs out...
    board_b.post(state="normal", message="กลับมาแล้ว", by="admin", at=NOW)
    ProbeLog(b).record(ProbeResult(NOW, "up", 200, 50))
    FieldReports(b).vote("U2", True, "ลำพูน", NOW)
    clock.t += SHARED_TTL / 2
    stale = snapshot(board_a, a, NOW)
    assert stale.view is not None and stale.view.state != "normal"
    # ...and seen once it has.
    clock.t += SHARED_TTL / 2
    snap = snapshot(board_a, a, NOW)
    assert snap.view is not None and snap.view.state == "normal"
    assert snap.probe is not None and snap.probe.outcome == "up"
    assert snap.field_up == 1
    # Written through this instance: seen at once, whatever the TTL.
    board_a.post(state="down", message="ล่มอีกครั้ง", by="admin", at=NOW)
    FieldReports(a).vote("U3", False, "ลำพูน", NOW)
    snap = snapshot(board_a, a, NOW)
    assert snap.view is not None and snap.view.state == "down"
    assert (snap.field_up, snap.field_down) == (1, 1)
    # Posting numbers from the database, never from the mirror: no sequence number reused.
    board_b.post(state="normal", message="x", by="admin", at=NOW)
    update = board_a.post(state="down", message="y", by="admin", at=NOW)
    assert [u.seq for u in board_b.timeline(fresh=True)][-1] == update.seq
    assert len({u.seq for u in board_b.timeline(fresh=True)}) == len(board_b.timeline())
