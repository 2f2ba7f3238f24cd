"""The inbox: accepted events made durable before the webhook answers, replayed after a crash."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from handlers.callthread import Handover, Handovers

_LOG = logging.getLogger(__name__)
# Shared inbox: open events younger than this are left to the instance that accepted them
# (the sweeper hands older ones to whichever instance has room).
SWEEP_AGE = 0.3
# Appends are synced by the write itself (O_DSYNC): one system call per group commit instead of
# write + fdatasync. Each call hands the GIL over, and getting it back behind the engine thread
# took up to a switch interval (5 ms): the journal wait was most of a webhook's time in serve.
_DSYNC = getattr(os, "O_DSYNC", 0)
# Answered marks need not be durable at once (a replayed answered event finds its reply token
# used, or is not sent twice): they go with the next synced write, or after this many seconds.
DONE_DELAY = 0.05

Record = Mapping[str, Any]


@dataclass
class InboxState:
    """What a previous run left: events accepted and not answered (oldest first), and the keys
    of recently answered events (so that a redelivery of one is recognised)."""

    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)


class Inbox(Protocol):
    """Where accepted events wait until they are answered.

    ``accept`` returns only once the records are durable: a webhook answers 200 after it.
    ``sending`` is durable before a channel call that the channel cannot de-duplicate, so a
    replay knows the answer may have gone out. ``answered`` marks one event done (durable soon
    after, never before the answer was sent). The PostgreSQL inbox (several ``serve``
    instances, :class:`SharedInbox`) implements the same calls.
    """

    def load(self) -> InboxState:
        """Open the inbox; what the previous run left to do."""
        ...

    async def accept(self, records: Sequence[tuple[str, Record]]) -> None:
        """Make ``(key, record)`` pairs durable; raises OSError when they could not be saved."""
        ...

    async def sending(self, key: str, how: str) -> bool:
        """Durably note that ``key`` is being sent (``how``: reply, push, send) before the
        channel call; the first mark of an event wins. False: do not send (another instance
        took the event over)."""
        ...

    def answered(self, key: str) -> None:
        """Mark the event ``key`` answered."""
        ...

    async def close(self) -> None:
        """Write what is buffered and close."""
        ...


@dataclass(frozen=True)
class Claimed:
    """One event a shared inbox handed to this instance: its record, the sending mark a
    previous attempt left (``how``, "" when none), the flood verdict and the attempt count."""

    key: str
    record: dict[str, Any]
    how: str = ""
    verdict: str = "ok"
    attempts: int = 1


class SharedInbox(abc.ABC):
    """An inbox several ``serve`` instances share (PostgreSQL): any of them accepts an event,
    exactly one handles it, the events of one order key in order.

    Events are not handed back by ``load``: the pipeline calls ``claim`` for an order key
    (right after accepting, and when ``start``'s sweeper wakes it for work a dead or busy
    instance left), handles the events, then ``release``.
    """

    def load(self) -> InboxState:
        return InboxState()

    @abc.abstractmethod
    async def start(self, wake: Callable[[str, float], None],
                    room: Callable[[], tuple[int, float]] | None = None) -> None:
        """Connect and start the background work; ``wake(order_key, age)`` asks for a drain
        of a key whose oldest open event was accepted ``age`` seconds ago,
        ``room()`` how many order keys the caller wants woken now, and how many seconds the
        open events of a key it wants must have waited."""

    @abc.abstractmethod
    async def accept_judged(self, rows: Sequence[tuple[str, str, str, Record, str]]
                            ) -> dict[str, str]:
        """Insert ``(key, order_key, flood_key, record, local_verdict)`` rows; the flood
        verdict (ok, warn, drop) of each row inserted (redeliveries are left out).

        Raises:
            OSError: the database is unavailable (nothing was accepted).
        """

    async def accept(self, records: Sequence[tuple[str, Record]]) -> None:
        await self.accept_judged([(k, k, "", r, "ok") for k, r in records])

    @abc.abstractmethod
    async def claim(self, order_key: str) -> list[Claimed] | None:
        """The open events of ``order_key``, oldest first, now leased to this instance; None
        when another instance holds the key (it will see the new events itself)."""

    def prefetched(self, order_key: str) -> dict[tuple[str, str], str | None]:
        """The rows the last claim of ``order_key`` read ahead: (table, key) -> JSON text,
        None when absent (see bot.core.pgstore.Primed); empty when it read none."""
        return {}

    @abc.abstractmethod
    async def release(self, order_key: str,
                      writes: Mapping[tuple[str, str], str] | None = None) -> bool:
        """Write the answered marks and ``writes`` ((table, key) -> JSON text: documents that
        waited for the release, written only if the key is still leased here), give the key
        up; True when events of it are still open."""

    @abc.abstractmethod
    async def sending(self, key: str, how: str) -> bool:
        ...

    @abc.abstractmethod
    def answered(self, key: str) -> None:
        ...

    @abc.abstractmethod
    async def close(self) -> None:
        ...


class MemoryInbox:
    """An inbox that keeps nothing across restarts (tests, the in-memory core)."""

    def __init__(self) -> None:
        self.pending: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def load(self) -> InboxState:
        return InboxState(list(self.pending.items()))

    async def accept(self, records: Sequence[tuple[str, Record]]) -> None:
        for key, record in records:
            self.pending[key] = dict(record)

    async def sending(self, key: str, how: str) -> bool:
        record = self.pending.get(key)
        if record is not None and not record.get("prior"):
            record["prior"] = how
        return True

    def answered(self, key: str) -> None:
        self.pending.pop(key, None)

    async def close(self) -> None:
        return None


class FileInbox:
    """An append-only journal file (JSON lines) with group commit.

    One writer thread appends what the event loop queues: lines queued while it writes go in
    its next write, so a burst of concurrent webhooks costs one synced write per batch, not per
    event. The thread goes on to the next batch by itself and hands the finished waiters back
    to the loop in one wake-up (:class:`handlers.callthread.Handover`): a task on the loop that
    started each write cost a trip through the loop per batch, and each trip waited for the GIL
    behind the engine thread (under bench_serve the journal wait was ~6 writes long).

    Lines: ``{"a": key, "r": record}`` accepted, ``{"s": key, "h": how}`` sending, ``{"d": key}``
    answered (a pending record carries its sending mark as ``prior``). A torn last line (a crash
    mid-write) is ignored: its webhook never got its 200. The file is compacted at start and
    whenever it holds ``compact_after`` lines: the pending records and the last
    ``keep_answered`` keys.
    """

    def __init__(self, path: Path, *, keep_answered: int = 10_000,
                 compact_after: int = 50_000):
        self.path = path
        self.keep_answered = keep_answered
        self.compact_after = compact_after
        self.fsyncs = 0
        self._fd = -1
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._lines = 0
        # To the writer thread, in order: lines to append, a snapshot to compact to, None.
        self._queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._handovers = Handovers()
        self._done: list[bytes] = []  # answered marks waiting for the next write
        self._done_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ start

    def load(self) -> InboxState:
        """Read the journal, compact it, open it for appending."""
        if self.path.exists():
            with self.path.open("rb") as f:
                for raw in f:
                    self._apply(raw)
        self._compact()
        state = InboxState(list(self._pending.items()), list(self._answered))
        if state.pending:
            _LOG.info("inbox: %d event(s) accepted and not answered by the last run",
                      len(state.pending))
        return state

    def _apply(self, raw: bytes) -> None:
        try:
            line = _parse(raw)
            if "a" in line:
                self._pending[str(line["a"])] = dict(line["r"])
            elif "s" in line:
                record = self._pending.get(str(line["s"]))
                if record is not None and not record.get("prior"):
                    record["prior"] = str(line["h"])
            elif "d" in line:
                key = str(line["d"])
                self._pending.pop(key, None)
                self._answered[key] = None
                if len(self._answered) > self.keep_answered:
                    self._answered.popitem(last=False)
        except (ValueError, KeyError, TypeError):
            _LOG.warning("inbox: an unreadable journal line skipped (a torn last write)")

    def _compact(self) -> None:
        """Rewrite the journal with what is still needed (on the event loop's thread)."""
        lines = self._snapshot()
        self._rewrite(lines)
        self._lines = len(lines)

    def _snapshot(self) -> list[bytes]:
        lines = [_line({"d": k}) for k in self._answered]
        return lines + [_line({"a": k, "r": r}) for k, r in self._pending.items()]

    def _rewrite(self, lines: list[bytes]) -> None:
        """Replace the journal by ``lines``: temp file, fsync, rename, fsync the folder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | _DSYNC)

    # ------------------------------------------------------------------ running

    async def accept(self, records: Sequence[tuple[str, Record]]) -> None:
        if not records:
            return
        for key, record in records:
            self._pending[key] = dict(record)
        try:
            await self._durable(b"".join(_line({"a": k, "r": r}) for k, r in records),
                                len(records))
        except OSError:
            for key, _ in records:
                self._pending.pop(key, None)
            raise

    async def sending(self, key: str, how: str) -> bool:
        record = self._pending.get(key)
        if record is None or record.get("prior"):
            return True  # the first mark is the one a replay needs; nothing new to write
        record["prior"] = how
        await self._durable(_line({"s": key, "h": how}), 1)
        return True

    def answered(self, key: str) -> None:
        self._pending.pop(key, None)
        self._answered[key] = None
        if len(self._answered) > self.keep_answered:
            self._answered.popitem(last=False)
        self._done.append(_line({"d": key}))
        if self._done_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop to wait on: write it now
                self._flush_done()
                return
            self._done_timer = loop.call_later(DONE_DELAY, self._flush_done)

    def _flush_done(self) -> None:
        """Queue the answered marks that no synced write took along."""
        self._done_timer = None
        if self._done:
            done, self._done = self._done, []
            self._append((b"".join(done), None, None), len(done))

    async def _durable(self, data: bytes, lines: int) -> None:
        """Append ``data`` (``lines`` lines) and the waiting answered marks; return once it is
        durable."""
        if self._done:  # one queue entry, one wake-up of the writer for both
            lines += len(self._done)
            data = b"".join(self._done) + data
            self._done = []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._append((data, future, self._handovers.of(loop)), lines)
        await future

    def _append(self, entry: _Entry, lines: int) -> None:
        """Queue ``entry`` for the writer thread. Past ``compact_after`` lines, queue a
        compaction right behind it: the snapshot holds every change queued so far, and what
        is queued after it goes to the new file."""
        self._put(entry)
        self._lines += lines
        if self._lines >= self.compact_after:
            snapshot = self._snapshot()
            self._lines = len(snapshot)
            self._put((snapshot, None, None))

    def _put(self, entry: _Entry) -> None:
        if self._thread is None:
            # A daemon: an owner that forgets close() must not hang the interpreter's exit.
            self._thread = threading.Thread(target=self._main, name="inbox", daemon=True)
            self._thread.start()
        self._queue.put(entry)

    def _main(self) -> None:
        """(writer thread) Write what is queued, batch after batch, until the stop entry."""
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            batch = [get()]
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(get_nowait())
            if self._write_batch(batch):
                return

    def _write_batch(self, batch: list[_Entry]) -> bool:
        """(writer thread) Append the batch's lines in one synced write (a compaction entry
        between them is done in its place), then hand its waiters their outcome; True when
        the batch held the stop entry (the file is closed then)."""
        error: OSError | None = None
        stop = False
        chunks: list[bytes] = []
        try:
            for data, _, _ in batch:
                if isinstance(data, bytes):
                    chunks.append(data)
                    continue
                if chunks:
                    self._write(b"".join(chunks))
                    chunks = []
                if data is None:
                    stop = True
                else:
                    self._rewrite(data)
            if chunks:
                self._write(b"".join(chunks))
        except OSError as exc:
            _LOG.error("inbox: journal write failed: %s", exc)
            error = exc
        if stop and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        for _, future, handover in batch:
            if future is not None and handover is not None:
                handover.put((future, None, error))
        return stop

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        if not _DSYNC:
            os.fdatasync(self._fd)
        self.fsyncs += 1

    async def close(self) -> None:
        """Write what is queued, close the file, stop the writer thread."""
        if self._done_timer is not None:
            self._done_timer.cancel()
        self._flush_done()
        if self._thread is None:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put((None, done, self._handovers.of(loop)))
        with contextlib.suppress(OSError):  # logged by the writer; nothing more to do here
            await done
        self._thread.join()
        self._thread = None


# What the writer thread takes: the lines to append (or a snapshot to compact the journal to,
# or None: stop), and the future and loop hand-over of whoever waits for it.
_Entry = tuple["bytes | list[bytes] | None", "asyncio.Future[None] | None", "Handover | None"]



def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)  # what _line wrote with json (a lone surrogate), or torn


def _line(obj: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(obj) + b"\n"
    except TypeError:  # a lone surrogate (json.loads lets "\\ud800" through): escape it
        return json.dumps(obj).encode() + b"\n"
