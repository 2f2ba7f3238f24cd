"""Where a notice's delivery plan and journal live: data-dir files, or PostgreSQL when shared.

The sender (``handlers/notice_sender.py``) sees one small interface, like the inbox:

* :class:`FileDeliveryState` (embedded store): ``data_dir/notices/<id>/plan.jsonl`` and an
  append-only ``journal.jsonl``; the data-dir lock already makes this process the only sender,
  so :meth:`claim` always succeeds.
* :class:`PgDeliveryState` (``ELAAS_DATABASE_URL``): the plan in ``elaas_notice_plans`` (first
  writer wins), the journal in ``elaas_notice_journal``. Every instance runs a sender; a
  notice is delivered by the instance that holds its *session* advisory lock, taken on one
  dedicated connection. If that instance dies, PostgreSQL ends its session and frees the
  lock (kill -9: at once, the socket closes; a lost machine: TCP keepalive, about 10 s), and
  the next instance to poll (every second) takes the notice over from the journal. A sender
  that is alive but stuck (a frozen VM, a blocked event loop) stops its heartbeat; the
  session's ``idle_session_timeout`` then ends it and frees the notice the same way.
  Journal records are written through that same session, so an instance whose session is gone
  can no longer journal ``sending`` for a Telegram chat and therefore cannot send one: the
  at-most-once rule for Telegram does not depend on clocks or leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg

from bot.core.pgstore import connect_error
from bot.core.store import StoreError
from bot.notices.delivery import Plan, load_plan, plan_from_rows, plan_rows, save_plan
from handlers.pgsession import OwnSession

NOTICES_DIR = "notices"
_SAFE_ID = re.compile(r"^[0-9A-Za-z_.\-]{1,100}$")
# Notice a dead peer (lost machine, cut cable) in about idle + interval * count seconds.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
             "keepalives_count": 2}
CLAIM_TIMEOUT = 20.0
"""Seconds without a heartbeat after which the server ends a sender's session (and claims)."""
HEARTBEAT = 2.0
# Advisory locks are per database: the schema in the key keeps two installs that share a
# database (one schema each) from blocking each other's notices.
_LOCK_KEY = "hashtextextended(current_schema() || ':' || %s, 0)"


def instance_name() -> str:
    """``host:pid`` of this process (who holds a notice, in the journal and the logs)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class NoticeJournal(Protocol):
    """Append-only records of one notice's delivery."""

    fsyncs: int

    def records(self) -> list[dict[str, Any]]:
        """Every record so far, oldest first."""
        ...

    def append(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Add records (durable after the next :meth:`sync`)."""
        ...

    async def sync(self) -> None:
        """Return when every record appended so far is durable."""
        ...

    async def finish(self) -> None:
        """Make everything durable and let go of the journal."""
        ...


class DeliveryState(Protocol):
    """Plans, journals and who delivers which notice."""

    shared: bool

    def load_plan(self, notice_id: str) -> Plan | None: ...

    def save_plan(self, plan: Plan) -> Plan:
        """Store ``plan`` unless one is stored already; the stored one is returned."""
        ...

    async def claim(self, notice_id: str) -> bool:
        """Become the one sender of ``notice_id`` (False: another instance is sending it)."""
        ...

    async def release(self, notice_id: str) -> None: ...

    async def heartbeat(self) -> None:
        """Show the claim's holder is alive (called about every second while sending)."""
        ...

    def journal(self, notice_id: str) -> NoticeJournal: ...

    def records(self, notice_id: str) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def check_id(notice_id: str) -> str:
    if not _SAFE_ID.match(notice_id):
        raise ValueError(f"unsafe notice id {notice_id!r}")
    return notice_id


# --------------------------------------------------------------------------- files


class FileJournal:
    """``journal.jsonl``: every record is written at once (a killed process keeps it),
    and :meth:`sync` fsyncs, grouping concurrent callers into one fsync."""

    def __init__(self, path: Path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._written = 0
        self._synced = 0
        self._lock = asyncio.Lock()
        self.fsyncs = 0

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """Every complete record (a torn last line after a power cut is ignored)."""
        if not path.exists():
            return []
        out = []
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def records(self) -> list[dict[str, Any]]:
        return self.read(self.path)

    def append(self, records: Sequence[Mapping[str, Any]]) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._written += 1

    async def sync(self) -> None:
        target = self._written
        async with self._lock:
            if self._synced >= target:
                return
            upto = self._written
            await asyncio.to_thread(os.fsync, self._fd)
            self.fsyncs += 1
            self._synced = upto

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        os.close(self._fd)

    async def finish(self) -> None:
        self.close()


class FileDeliveryState:
    """Plans and journals under ``data_dir/notices/`` (one process owns the data dir)."""

    shared = False

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)

    def folder(self, notice_id: str) -> Path:
        return self.data_dir / NOTICES_DIR / check_id(notice_id)

    def load_plan(self, notice_id: str) -> Plan | None:
        return load_plan(self.folder(notice_id))

    def save_plan(self, plan: Plan) -> Plan:
        have = self.load_plan(plan.notice_id)
        if have is not None:
            return have
        save_plan(self.folder(plan.notice_id), plan)
        return plan

    async def claim(self, notice_id: str) -> bool:
        return True  # the data-dir lock: no other sender can run

    async def release(self, notice_id: str) -> None:
        return None

    async def heartbeat(self) -> None:
        return None

    def journal(self, notice_id: str) -> FileJournal:
        return FileJournal(self.folder(notice_id) / "journal.jsonl")

    def records(self, notice_id: str) -> list[dict[str, Any]]:
        return FileJournal.read(self.folder(notice_id) / "journal.jsonl")

    def close(self) -> None:
        return None


# --------------------------------------------------------------------------- PostgreSQL


class PgJournal:
    """Rows of ``elaas_notice_journal``, written through the session holding the claim.

    :meth:`append` only buffers and starts a background flush, so the event loop never waits
    for the database; :meth:`sync` waits for that flush (concurrent callers share it).
    """

    def __init__(self, state: PgDeliveryState, notice_id: str):
        self._state = state
        self.notice_id = notice_id
        self._buffer: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self.fsyncs = 0  # flushes (one INSERT each), the counterpart of the file's fsyncs

    def records(self) -> list[dict[str, Any]]:
        return self._state.records(self.notice_id) + [json.loads(r) for r in self._buffer]

    def append(self, records: Sequence[Mapping[str, Any]]) -> None:
        if self._error is not None:
            raise StoreError(f"notice journal unavailable: {self._error}")
        self._buffer += [json.dumps(dict(r), ensure_ascii=False) for r in records]
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._buffer:
            rows, self._buffer = self._buffer, []
            try:
                await asyncio.to_thread(self._state.insert, self.notice_id, rows)
            except BaseException as exc:
                self._error = exc
                raise
            self.fsyncs += 1

    async def sync(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._error is not None:
            raise StoreError(f"notice journal unavailable: {self._error}")
        if self._buffer:  # appended while the last flush was finishing
            self._task = asyncio.get_running_loop().create_task(self._flush())
            await self.sync()

    async def finish(self) -> None:
        with contextlib.suppress(Exception):
            await self.sync()


class PgDeliveryState:
    """Plans and journals in PostgreSQL; a notice's sender holds its session advisory lock.

    Args:
        url: ``ELAAS_DATABASE_URL``.
        owner: this instance's name in the journal's claim records.
    """

    shared = True

    def __init__(self, url: str, owner: str = "", *, claim_timeout: float = CLAIM_TIMEOUT):
        self.url = url
        self.owner = owner or instance_name()
        self.claim_timeout = claim_timeout
        self._session = OwnSession(url, self._configure, **KEEPALIVE)
        self._held: set[str] = set()
        self._used = 0.0

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        # The server's side of the keepalives: a dead or frozen sender's session (and its
        # claims) ends instead of holding a notice forever.
        conn.execute("SELECT set_config('idle_session_timeout', %s, false),"
                     " set_config('tcp_keepalives_idle', '5', false),"
                     " set_config('tcp_keepalives_interval', '2', false),"
                     " set_config('tcp_keepalives_count', '2', false)",
                     (str(int(self.claim_timeout * 1000)),))

    def _connection(self) -> psycopg.Connection[Any]:
        with self._session.guard:
            conn, fresh = self._session.get()
            if fresh:
                self._held.clear()  # a new session holds no lock
            return conn

    def _run(self, sql: str, params: Sequence[Any] = (), *, holding: str = ""
             ) -> list[tuple[Any, ...]]:
        """Run one statement; with ``holding``, only on the session that claimed that notice
        (after the session was lost, a new one must not write as if it held the claim)."""
        for attempt in (1, 2):
            if holding and holding not in self._held:
                raise StoreError(f"notice {holding}: the claim was lost (database session "
                                 "ended); another instance may be sending it")
            conn = self._connection()
            try:
                cur = conn.execute(sql, params)
                self._used = time.monotonic()
                return cur.fetchall() if cur.description else []
            except psycopg.Error as exc:
                if not conn.broken:
                    raise StoreError(f"notice state: {' '.join(str(exc).split())}") from None
                # An idle session the server ended: harmless while it held no notice.
                if self._held or attempt == 2:
                    self._held.clear()
                    raise connect_error(self.url, exc) from None
        raise AssertionError("unreachable")

    def load_plan(self, notice_id: str) -> Plan | None:
        rows = self._run("SELECT plan FROM elaas_notice_plans WHERE notice = %s",
                         (check_id(notice_id),))
        return plan_from_rows(rows[0][0]) if rows else None

    def save_plan(self, plan: Plan) -> Plan:
        self._run("INSERT INTO elaas_notice_plans (notice, plan) VALUES (%s, %s::jsonb)"
                  " ON CONFLICT (notice) DO NOTHING",
                  (check_id(plan.notice_id), json.dumps(plan_rows(plan), ensure_ascii=False)))
        stored = self.load_plan(plan.notice_id)
        assert stored is not None
        return stored

    @staticmethod
    def _key(notice_id: str) -> str:
        return f"elaas-notice:{notice_id}"

    async def claim(self, notice_id: str) -> bool:
        def take() -> bool:
            got = self._run(f"SELECT pg_try_advisory_lock({_LOCK_KEY})",
                            (self._key(notice_id),))
            if got and got[0][0]:
                self._held.add(notice_id)
                self.insert(notice_id, [json.dumps({
                    "claim": self.owner, "at": datetime.now(UTC).isoformat()})])
                return True
            return False

        if notice_id in self._held:
            return True
        return await asyncio.to_thread(take)

    def holds(self, notice_id: str) -> bool:
        """Whether this instance's session holds ``notice_id`` (as far as it knows)."""
        return notice_id in self._held

    async def release(self, notice_id: str) -> None:
        if notice_id not in self._held:
            return
        self._held.discard(notice_id)
        with contextlib.suppress(StoreError):  # a dead session has let go already
            await asyncio.to_thread(self._run, f"SELECT pg_advisory_unlock({_LOCK_KEY})",
                                    (self._key(notice_id),))

    async def heartbeat(self) -> None:
        if self._held and time.monotonic() - self._used > min(HEARTBEAT,
                                                              self.claim_timeout / 4):
            await asyncio.to_thread(self._run, "SELECT 1")

    def insert(self, notice_id: str, rows: list[str]) -> None:
        """Append JSON rows, in order, through the lock-holding session."""
        self._run("INSERT INTO elaas_notice_journal (notice, rec) SELECT %s, r::jsonb"
                  " FROM unnest(%s::text[]) WITH ORDINALITY AS u(r, n) ORDER BY n",
                  (notice_id, rows), holding=notice_id)

    def journal(self, notice_id: str) -> PgJournal:
        return PgJournal(self, check_id(notice_id))

    def records(self, notice_id: str) -> list[dict[str, Any]]:
        rows = self._run("SELECT rec FROM elaas_notice_journal WHERE notice = %s ORDER BY seq",
                         (notice_id,))
        return [dict(r[0]) for r in rows]

    def close(self) -> None:
        with self._session.guard:
            self._session.close()
            self._held.clear()


@functools.lru_cache(maxsize=4)
def _pg_reader(url: str) -> PgDeliveryState:
    return PgDeliveryState(url, "reader")  # one connection per process for progress reads


def delivery_state(data_dir: Path, database_url: str = "") -> DeliveryState:
    """The state readers (the console's live progress) use: PostgreSQL when configured."""
    return _pg_reader(database_url) if database_url else FileDeliveryState(data_dir)
