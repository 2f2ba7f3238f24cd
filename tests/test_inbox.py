"""The inbox journal: durable records, answered marks, torn lines, compaction, group commit."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.core.contract import Incoming
from handlers.inbox import FileInbox
from handlers.pipeline import Inbound


async def test_pending_records_survive_a_restart_and_answered_ones_do_not(tmp_path: Path) -> None:
    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path)
    assert inbox.load().pending == []
    await inbox.accept([("line:a", {"n": 1}), ("line:b", {"n": 2})])
    inbox.answered("line:a")
    await inbox.close()
    again = FileInbox(path).load()
    assert again.pending == [("line:b", {"n": 2})]
    assert again.answered == ["line:a"]


async def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path)
    inbox.load()
    await inbox.accept([("line:a", {"n": 1})])
    await inbox.close()
    with path.open("ab") as f:
        f.write(b'{"a":"line:b","r":{"n"')  # killed mid-write: that webhook got no 200
    assert FileInbox(path).load().pending == [("line:a", {"n": 1})]


async def test_concurrent_accepts_share_fsyncs(tmp_path: Path) -> None:
    inbox = FileInbox(tmp_path / "inbox.journal")
    inbox.load()
    await asyncio.gather(*(inbox.accept([(f"line:{i}", {"i": i})]) for i in range(200)))
    assert inbox.fsyncs < 200
    await inbox.close()
    assert len(FileInbox(tmp_path / "inbox.journal").load().pending) == 200


async def test_compaction_keeps_pending_and_recent_answered(tmp_path: Path) -> None:
    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path, keep_answered=5, compact_after=20)
    inbox.load()
    for i in range(30):
        await inbox.accept([(f"line:{i}", {"i": i})])
        if i != 7:
            inbox.answered(f"line:{i}")
    await inbox.close()
    assert len(path.read_bytes().splitlines()) < 30
    state = FileInbox(path, keep_answered=5).load()
    assert state.pending == [("line:7", {"i": 7})]
    assert state.answered == [f"line:{i}" for i in range(25, 30)]


def test_inbound_record_round_trip() -> None:
    from datetime import UTC, datetime

    inc = Incoming("line", "U1", "C1", text="ระบบล่ม", event_id="e1",
                   received_at=datetime(2024, 7, 15, 3, 30, tzinfo=UTC), is_group=True)
    item = Inbound("line", "e1", "C1", inc, reply_token="rt", at=1.5, kind="message")
    assert Inbound.from_record(item.to_record()) == item
    assert Inbound.from_record(Inbound("line", "e2", "C1", fixed="group_hello").to_record()) \
        == Inbound("line", "e2", "C1", fixed="group_hello")


async def test_a_lone_surrogate_is_journaled(tmp_path: Path) -> None:
    inbox = FileInbox(tmp_path / "inbox.journal")
    inbox.load()
    await inbox.accept([("telegram:1", {"text": "a\ud800b"})])
    await inbox.close()
    assert FileInbox(tmp_path / "inbox.journal").load().pending == [
        ("telegram:1", {"text": "a\ud800b"})]


async def test_compactions_between_queued_lines_lose_nothing(tmp_path: Path) -> None:
    # Compactions are queued among the lines of concurrent events: each snapshot holds what was
    # queued before it, and every line queued after it reaches the new file.
    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path, compact_after=10)
    inbox.load()

    async def event(i: int) -> None:
        await inbox.accept([(f"line:{i}", {"i": i})])
        await inbox.sending(f"line:{i}", "reply")
        if i % 3:
            inbox.answered(f"line:{i}")

    await asyncio.gather(*(event(i) for i in range(100)))
    await inbox.close()
    assert inbox.fsyncs < 300
    state = FileInbox(path).load()
    assert state.pending == [(f"line:{i}", {"i": i, "prior": "reply"}) for i in range(0, 100, 3)]
    assert sorted(state.answered) == sorted(f"line:{i}" for i in range(100) if i % 3)


async def test_a_failed_write_fails_its_accepts_and_the_next_ones_go_through(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path)
    inbox.load()
    real_write = os.write
    failures = [OSError(28, "No space left on device")]

    def write(fd: int, data: bytes) -> int:
        if failures:
            raise failures.pop()
        return real_write(fd, data)

    monkeypatch.setattr("handlers.inbox.os.write", write)
    with pytest.raises(OSError):
        await inbox.accept([("line:a", {"n": 1})])
    await inbox.accept([("line:b", {"n": 2})])
    await inbox.close()
    assert FileInbox(path).load().pending == [("line:b", {"n": 2})]


async def test_answered_marks_go_with_the_next_synced_write(tmp_path: Path) -> None:
    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path)
    inbox.load()
    await inbox.accept([("line:a", {"n": 1})])
    inbox.answered("line:a")
    await asyncio.sleep(0.01)  # (the writer thread is idle meanwhile)
    await inbox.accept([("line:b", {"n": 2})])
    assert inbox.fsyncs == 2  # the mark of a went with the accept of b, no write of its own
    assert b'{"d":"line:a"}' in path.read_bytes()  # before close: it was synced with b
    await inbox.close()
    assert FileInbox(path).load().pending == [("line:b", {"n": 2})]


async def test_an_answered_mark_is_written_soon_without_other_writes(tmp_path: Path) -> None:
    from handlers.inbox import DONE_DELAY

    path = tmp_path / "inbox.journal"
    inbox = FileInbox(path)
    inbox.load()
    await inbox.accept([("line:a", {"n": 1})])
    inbox.answered("line:a")
    for _ in range(100):  # the writer thread takes the mark after DONE_DELAY
        await asyncio.sleep(DONE_DELAY)
        if b'{"d":"line:a"}' in path.read_bytes():
            break
    assert b'{"d":"line:a"}' in path.read_bytes()
    assert FileInbox(path).load().pending == []
    await inbox.close()
