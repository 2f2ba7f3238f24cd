"""Durable notice delivery: outbox -> LINE multicast / Telegram sendMessage, journaled.

(Over 500 lines on purpose: the pass loop, the journal and the two channel passes share one
per-pass state and are read together. The clients and renderers are
handlers/line/client.py and handlers/telegram/client.py, the plan is bot/notices/delivery.py,
the spool task handlers/spool.py.)

Where the plan and journal live is ``handlers/notice_state.py``'s business: files under
``data_dir/notices`` on the embedded store (described below), PostgreSQL tables with
``ELAAS_DATABASE_URL``, where the instance holding a notice's advisory lock sends it and
another continues from the journal if it dies.

How a notice travels:

1. The chat confirm step, ``elaas-bot status set --notify`` or a spooled CLI request puts a
   :class:`~bot.notices.outbox.Notice` in the outbox table (one small TinyDB document).
2. The first time the sender picks it up it freezes the audience into
   ``data_dir/notices/<id>/plan.jsonl`` (atomic write): the message variants (a restoration
   notice has one per LAO, since LINE multicast cannot personalise), the LINE batches of at
   most 500 user ids and the Telegram chats. Batches never change after that, so a batch
   re-sent after a crash is the same batch.
3. Progress goes to an append-only ``journal.jsonl`` next to the plan; the outbox document is
   written only when a pass starts and ends, and unreachable subscribers are marked with one
   ``put_many`` per second. A 10,000-recipient broadcast therefore costs a handful of TinyDB
   rewrites, not 10,000.

Delivery guarantee:

* LINE: each multicast carries ``X-Line-Retry-Key``, a UUID derived from notice id + batch +
  part. After a crash every batch not journaled as done is sent again with the same key; LINE
  answers 409 for a key it already accepted, which counts as delivered. So each LINE
  recipient gets a notice exactly once, as long as the restart comes within LINE's 24-hour
  retry-key window (after that a resent batch could repeat).
* Telegram has no idempotency key. Each chat is journaled ``sending`` (and fsynced, grouped
  with its neighbours) before its request leaves, and ``ok``/``blocked``/``failed`` after.
  A chat found ``sending`` after a restart is the crash window: the request may or may not
  have reached Telegram. We choose **at most once**: such a chat is not sent again but
  recorded as ``uncertain`` (counted in the outbox and shown by ``elaas-bot status show``).
  The window holds at most the requests in flight at the moment of the crash (at most
  ``telegram_workers``, in practice one or two at 30 messages/s). Re-sending them would turn
  a rare miss into a rare duplicate of an official notice; an operator who prefers that can
  see the uncertain count and post again. Timeouts after a request was sent are treated the
  same way (``uncertain``); refused connections are retried.
* Several instances (``ELAAS_DATABASE_URL``): plans and journals live in PostgreSQL
  (``handlers/notice_state.py``) and each notice is sent by the one instance holding its
  session advisory lock; when that instance dies another takes over within about a second
  and continues from the journal with the same rules (LINE batches again with their retry
  keys, Telegram chats left ``sending`` become ``uncertain``). Telegram messages and LINE
  multicasts draw from token buckets shared in the database (``handlers/shared_rate.py``).
* Retries: 429 and 5xx are retried with exponential backoff, honouring Telegram's
  ``parameters.retry_after`` (which pauses all Telegram sends) and LINE's ``Retry-After``
  header. Telegram 403 (blocked) and "chat not found" mark the subscriber unreachable, once,
  never retried. A bad token (401) stops that channel for this pass and leaves the notice
  pending. Nobody is dropped for a transient failure: what is still pending after a pass is
  tried again on the next one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp
import aiohttp.web

from bot.core.splitting import chunked
from bot.core.store import Store
from bot.ledger.book import Directory
from bot.notices.board import (
    DIRECT,
    OutMessage,
    Publisher,
    build_audience,
    store_pending_count,
)
from bot.notices.delivery import FINAL_TG, TG_STATE, Plan, make_plan, retry_key, summarize
from bot.notices.outbox import Delivery, Notice, Outbox, Subscriptions
from bot.notices.status import BANGKOK, StatusBoard
from handlers.appkeys import CORE, FLOW, add_background
from handlers.line.client import LineClient, Outcome, text_messages
from handlers.notice_state import (
    CLAIM_TIMEOUT,
    DeliveryState,
    FileDeliveryState,
    FileJournal,
    NoticeJournal,
    PgDeliveryState,
    check_id,
)
from handlers.settings import Settings
from handlers.spool import apply_spool, run_spool
from handlers.telegram.client import Pacer, TelegramClient, text_payloads

_LOG = logging.getLogger(__name__)
LINE_MESSAGES_PER_REQUEST = 5
BROKEN_PAUSE = 60.0

T = TypeVar("T")
StoreCall = Callable[..., Awaitable[Any]]
"""Runs ``fn(*args)`` where the store may be touched (serve: ``app[FLOW].call``)."""


async def call_inline(fn: Callable[..., Any], *args: Any) -> Any:
    """The default StoreCall: run on the event loop thread (tests, the standalone sender)."""
    return fn(*args)


# --------------------------------------------------------------------------- text and payloads


def line_requests(message: OutMessage) -> list[list[dict[str, Any]]]:
    """LINE message objects, at most five per request, quick replies on the very last one."""
    return chunked(text_messages(message.text, message.choices), LINE_MESSAGES_PER_REQUEST)


def line_parts(message: OutMessage) -> int:
    """How many multicast requests one notice message takes."""
    return len(line_requests(message))


def telegram_payloads(chat_id: str, message: OutMessage) -> list[dict[str, Any]]:
    """sendMessage bodies, buttons on the last part."""
    return text_payloads(chat_id, message.text, message.choices)


# --------------------------------------------------------------------------- plan and journal


Journal = FileJournal  # the embedded store's journal (tests and the console read it)


# --------------------------------------------------------------------------- channel calls


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter; ``attempts`` tries per pass before leaving it pending."""

    base: float = 1.0
    cap: float = 60.0
    attempts: int = 8

    def delay(self, attempt: int, hint: float | None = None) -> float:
        if hint is not None:
            return min(max(hint, 0.0), 3600.0)
        return min(self.cap, self.base * 2**attempt) * random.uniform(0.5, 1.0)


@dataclass
class _Pass:
    """Counters of one delivery pass over one notice."""

    unreachable: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    pending: int = 0


# --------------------------------------------------------------------------- the sender


class NoticeSender:
    """Delivers outbox notices to subscribers; also applies spooled CLI requests.

    Args:
        store: the process's store (serve owns the data dir).
        status: the status timeline (spooled status updates go there).
        data_dir: where ``notices/`` (plans and journals) and ``spool/`` live.
        line_token / line_api_base: LINE channel; empty token = LINE off.
        telegram_token / telegram_api_base: Telegram; empty token = Telegram off.
        http: an aiohttp session to use (one is made and closed otherwise).
        telegram_rate: overall Telegram messages per second.
        telegram_workers: Telegram requests in flight at once (also bounds the crash window).
        status_url: the public status page, quoted in spooled status notices.
        store_call: how to run store work; in serve pass ``app[FLOW].call`` so that only the
            engine thread touches the store. Default: inline on the event loop.
        state: where plans and journals live and who sends which notice (default: files in
            ``data_dir``; :class:`~handlers.notice_state.PgDeliveryState` for several
            instances).
        pacer / line_pacer: Telegram sends and LINE multicasts draw from these (default: a
            local Pacer at ``telegram_rate`` / none; a shared bucket for several instances).
    """

    def __init__(self, store: Store, status: StatusBoard, data_dir: Path, *,
                 line_token: str = "", line_api_base: str = "https://api.line.me",
                 telegram_token: str = "",
                 telegram_api_base: str = "https://api.telegram.org/bot",
                 http: aiohttp.ClientSession | None = None, telegram_rate: float = 30.0,
                 telegram_workers: int = 16, backoff: Backoff | None = None,
                 status_url: str = "", poll_seconds: float = 1.0,
                 store_call: StoreCall | None = None, state: DeliveryState | None = None,
                 pacer: Any = None, line_pacer: Any = None):
        self._call = store_call or call_inline
        self.store = store
        self.data_dir = Path(data_dir)
        self.publisher = Publisher(store, status, status_url=status_url)
        self.outbox = Outbox(store)
        self.subs = Subscriptions(store)
        self.directory = Directory(store)
        self.line_token = line_token
        self.line_api_base = line_api_base
        self.telegram_token = telegram_token
        self.telegram_api_base = telegram_api_base
        self._http = http
        self._own_http = http is None
        self.state: DeliveryState = state or FileDeliveryState(self.data_dir)
        self.pacer = pacer or Pacer(telegram_rate)
        self.line_pacer = line_pacer
        self.telegram_workers = telegram_workers
        self.backoff = backoff or Backoff()
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self.broken: set[str] = set()
        self.stats: dict[str, int] = {"line_calls": 0, "telegram_calls": 0, "retries": 0,
                                      "rate_limited": 0, "store_writes": 0, "fsyncs": 0}

    @classmethod
    def from_settings(cls, store: Store, status: StatusBoard, settings: Settings,
                      **kw: Any) -> NoticeSender:
        """Build from :class:`handlers.settings.Settings` (LINE/Telegram on when configured);
        with ``ELAAS_DATABASE_URL`` plans, journals and rate budgets are shared in PostgreSQL."""
        if settings.database_url:
            kw = {**shared_parts(settings.database_url, kw.get("telegram_rate", 30.0)), **kw}
        return cls(
            store, status, settings.data_dir,
            line_token=settings.line_channel_access_token if settings.line_enabled else "",
            line_api_base=settings.line_api_base,
            telegram_token=settings.telegram_bot_token,
            telegram_api_base=settings.telegram_api_base,
            status_url=settings.public_base_url.rstrip("/") + "/status", **kw,
        )  # fmt: skip

    @property
    def channels(self) -> set[str]:
        on = set()
        if self.line_token:
            on.add("line")
        if self.telegram_token:
            on.add("telegram")
        return on

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return cast(T, await self._call(fn, *args))

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            timeout = aiohttp.ClientTimeout(total=30, connect=10)
            self._http = aiohttp.ClientSession(timeout=timeout)
            self._own_http = True
        return self._http

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()
        # Database connections reopen on next use; closing ends this instance's claims.
        for part in (self.state, self.pacer, self.line_pacer):
            closer = getattr(part, "close", None)
            if closer is not None:
                closer()

    # ------------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver notices until ``stop`` is set (the spool is applied by its own task,
        :func:`handlers.spool.run_spool`, which wakes this loop through :meth:`wake`)."""
        try:
            while not stop.is_set():
                try:
                    await self._deliver_all(stop)
                except Exception:  # keep serving chat even if one pass fails
                    _LOG.exception("notice delivery pass failed")
                self._wake.clear()
                # A refused token will not fix itself within a second: check back slowly.
                pause = BROKEN_PAUSE if self.broken else self.poll_seconds
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._first(stop, self._wake), pause)
        finally:
            await self.close()

    def wake(self) -> None:
        """Start a delivery pass now (a notice was just added)."""
        self._wake.set()

    @staticmethod
    async def _first(*events: asyncio.Event) -> None:
        waits = [asyncio.create_task(e.wait()) for e in events]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def apply_spool(self) -> list[str]:
        """Apply spooled CLI requests now; returns their ids."""
        if self.state.shared:  # PostgreSQL: the CLI writes to the database, nothing is spooled
            return []
        return await self._db(apply_spool, self.data_dir, self.publisher)

    async def deliver_once(self) -> int:
        """Apply the spool and make one delivery pass over every unfinished notice.

        Returns:
            How many notices are completely delivered after this pass.
        """
        await self.apply_spool()
        return await self._deliver_all(asyncio.Event())

    async def unfinished(self) -> list[Notice]:
        """Notices not completely delivered yet."""
        return await self._db(self.outbox.unfinished)

    async def _deliver_all(self, stop: asyncio.Event) -> int:
        finished = 0
        for notice in await self.unfinished():
            if stop.is_set():
                break
            if await self.deliver(notice, stop):
                finished += 1
        return finished

    # ------------------------------------------------------------------ one notice

    async def _put_delivery(self, notice_id: str, delivery: Delivery) -> None:
        await self._db(self.outbox.set_delivery, notice_id, delivery)
        self.stats["store_writes"] += 1

    def plan(self, notice: Notice) -> Plan:
        """The notice's frozen plan, made (and saved) on first use."""
        plan = self.state.load_plan(check_id(notice.id))
        if plan is None:
            audience = build_audience(notice, self.subs.receiving(), self.directory,
                                      store_pending_count(self.store))
            plan = self.state.save_plan(make_plan(notice.id, audience, self.channels))
        return plan

    async def deliver(self, notice: Notice, stop: asyncio.Event | None = None) -> bool:
        """One pass over one notice; True when nothing is left to send.

        Several instances: only the one that claims the notice sends; the others return
        False at once and try again on their next poll (a takeover if the sender died).
        """
        stop = stop or asyncio.Event()
        if not await self.state.claim(check_id(notice.id)):
            return False
        try:
            return await self._deliver_claimed(notice, stop)
        finally:
            await self.state.release(notice.id)

    async def _deliver_claimed(self, notice: Notice, stop: asyncio.Event) -> bool:
        before = await self._db(self.outbox.delivery, notice.id)
        if before.status == "done":  # finished by another instance meanwhile
            return True
        plan = await self._db(self.plan, notice)
        started = before.started_at or datetime.now(BANGKOK).isoformat()
        if before.status == "pending":
            await self._put_delivery(notice.id, Delivery("sending", plan.total,
                                                         skipped=plan.skipped, started_at=started))
        journal = self.state.journal(notice.id)
        state = _Pass()
        self.broken = state.broken
        flusher = asyncio.create_task(self._flush_loop(journal, state))
        try:
            # A TaskGroup, not gather: if one channel fails (the database went away), the
            # other stops too instead of sending on with nobody journaling it.
            async with asyncio.TaskGroup() as group:
                group.create_task(self._line(plan, journal, state, stop))
                group.create_task(self._telegram(plan, journal, state, stop))
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._flush_unreachable(state)
            await journal.finish()
            self.stats["fsyncs"] += journal.fsyncs
        summary = summarize(plan, journal.records(), line_parts)
        done = summary["pending"] == 0
        await self._put_delivery(notice.id, Delivery(
            "done" if done else "sending", plan.total, summary["delivered"],
            summary["unreachable"], summary["failed"], summary["uncertain"],
            plan.skipped + summary["skipped"],
            started, datetime.now(BANGKOK).isoformat() if done else "",
        ))  # fmt: skip
        _LOG.info("notice %s: %s", notice.id, summary)
        return done

    async def _flush_loop(self, journal: NoticeJournal, state: _Pass) -> None:
        while True:
            await asyncio.sleep(1.0)
            await journal.sync()
            await self.state.heartbeat()
            await self._flush_unreachable(state)

    async def _flush_unreachable(self, state: _Pass) -> None:
        if state.unreachable:
            users, state.unreachable = state.unreachable, set()
            await self._db(self.subs.mark_unreachable, users, "blocked", datetime.now(BANGKOK))
            self.stats["store_writes"] += 1

    # ------------------------------------------------------------------ LINE

    async def _line(self, plan: Plan, journal: NoticeJournal, state: _Pass,
                    stop: asyncio.Event) -> None:
        if not plan.line_batches or not self.line_token:
            return
        done = {(r["line"], r["part"]) for r in journal.records()
                if "line" in r and r.get("s") in ("ok", "failed")}
        client = LineClient(await self._session(), self.line_api_base, self.line_token)
        receiving = await self._db(self.subs.receiving_keys)
        for i, (variant, ids) in enumerate(plan.line_batches):
            requests = line_requests(plan.variants[variant])
            # Unsubscribed since the plan was made: leave them out (never add anybody).
            # An addressed notice (an alert to admins) does not depend on subscriptions.
            to = [u for u in ids if variant == DIRECT or f"line:{u}" in receiving]
            for k, messages in enumerate(requests):
                if (i, k) in done:
                    continue
                if stop.is_set() or "line" in state.broken:
                    return
                if not to:
                    journal.append([{"line": i, "part": k, "s": "ok", "sent": 0}])
                    continue
                outcome = await self._line_call(client, to, messages,
                                                retry_key(plan.notice_id, i, k), stop)
                if outcome.kind in ("ok", "failed"):
                    journal.append([{"line": i, "part": k, "s": outcome.kind,
                                     "sent": len(to), "detail": outcome.detail}])
                    await journal.sync()
                elif outcome.kind == "broken":
                    _LOG.error("LINE refused the token (%s): notices wait", outcome.detail)
                    state.broken.add("line")
                else:  # still failing after the retries: LINE is down, try on the next pass
                    state.pending += 1
                    return

    async def _line_call(self, client: LineClient, to: Sequence[str],
                         messages: list[dict[str, Any]], key: str,
                         stop: asyncio.Event) -> Outcome:
        outcome = Outcome("retry")
        for attempt in range(self.backoff.attempts):
            if self.line_pacer is not None:
                await self.line_pacer.slot()
            self.stats["line_calls"] += 1
            outcome = await client.multicast(to, messages, key)
            if outcome.kind != "retry":
                return outcome
            self.stats["retries"] += 1
            if outcome.detail == "429":
                self.stats["rate_limited"] += 1
            _LOG.warning("LINE multicast %s: %s, retrying", key, outcome.detail)
            if stop.is_set():
                break
            await asyncio.sleep(self.backoff.delay(attempt, outcome.retry_after))
        return outcome

    # ------------------------------------------------------------------ Telegram

    async def _telegram(self, plan: Plan, journal: NoticeJournal, state: _Pass,
                        stop: asyncio.Event) -> None:
        if not plan.telegram or not self.telegram_token:
            return
        last: dict[str, str] = {}
        for r in journal.records():
            if "tg" in r:
                last[str(r["tg"])] = r["s"]
        # The crash window: journaled as sending, never finished. At most once: don't resend.
        crashed = [c for c, s in last.items() if s == "sending"]
        if crashed:
            _LOG.warning("%d Telegram chat(s) were in flight at a crash: recorded as uncertain",
                         len(crashed))
            journal.append([{"tg": c, "s": "unknown", "detail": "in flight at a crash"}
                            for c in crashed])
            await journal.sync()
            for c in crashed:
                last[c] = "unknown"
        receiving = await self._db(self.subs.receiving_keys)
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        for chat, variant in plan.telegram:
            if last.get(chat) in FINAL_TG:
                continue
            if variant != DIRECT and f"telegram:{chat}" not in receiving:
                journal.append([{"tg": chat, "s": "skipped", "detail": "unsubscribed"}])
                continue
            queue.put_nowait((chat, variant))
        client = TelegramClient(await self._session(), self.telegram_api_base,
                                self.telegram_token)
        halt = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            for _ in range(min(self.telegram_workers, queue.qsize())):
                group.create_task(self._tg_worker(client, plan, queue, journal, state, stop,
                                                  halt))

    async def _tg_worker(self, client: TelegramClient, plan: Plan,
                         queue: asyncio.Queue[tuple[str, str]], journal: NoticeJournal,
                         state: _Pass, stop: asyncio.Event, halt: asyncio.Event) -> None:
        while not (stop.is_set() or halt.is_set()):
            try:
                chat, variant = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            payloads = telegram_payloads(chat, plan.variants[variant])
            outcome = await self._tg_chat(client, payloads, journal, stop)
            if outcome.kind == "broken":
                _LOG.error("Telegram refused the token (%s): notices wait", outcome.detail)
                state.broken.add("telegram")
                halt.set()
            if outcome.kind in ("retry", "broken"):
                state.pending += 1
            if outcome.kind == "blocked":
                state.unreachable.add(f"telegram:{chat}")
            journal.append([{"tg": chat, "s": TG_STATE[outcome.kind],
                             **({"detail": outcome.detail} if outcome.detail else {})}])

    async def _tg_chat(self, client: TelegramClient, payloads: list[dict[str, Any]],
                       journal: NoticeJournal, stop: asyncio.Event) -> Outcome:
        chat = str(payloads[0]["chat_id"])
        outcome = Outcome("retry")
        loop = asyncio.get_running_loop()
        last_part = 0.0
        for n, payload in enumerate(payloads):
            attempt = 0
            while True:
                if n:  # several parts to one chat: Telegram wants about 1 message/s per chat
                    await asyncio.sleep(max(0.0, last_part + 1.05 - loop.time()))
                await self.pacer.slot()
                journal.append([{"tg": chat, "s": "sending"}])
                await journal.sync()  # on disk before the request leaves: the crash window
                self.stats["telegram_calls"] += 1
                outcome = await client.send(payload)
                last_part = loop.time()
                if outcome.kind != "retry":
                    break
                self.stats["retries"] += 1
                if outcome.detail == "429":
                    self.stats["rate_limited"] += 1
                    self.pacer.pause(outcome.retry_after or 1.0)
                attempt += 1
                journal.append([{"tg": chat, "s": "retry", "detail": outcome.detail}])
                if attempt >= self.backoff.attempts or stop.is_set():
                    return outcome
                await asyncio.sleep(self.backoff.delay(attempt - 1, outcome.retry_after))
            if outcome.kind != "ok":
                return outcome
        return outcome


# --------------------------------------------------------------------------- serve wiring

LINE_MULTICAST_RATE = 200.0
"""LINE's limit for multicast requests per second (shared by every instance)."""


def shared_parts(url: str, telegram_rate: float = 30.0,
                 claim_timeout: float = CLAIM_TIMEOUT) -> dict[str, Any]:
    """Sender parts for several instances on one database: the PostgreSQL delivery state and
    rate buckets shared by every instance (Telegram messages, LINE multicasts)."""
    from handlers.shared_rate import SharedPacer

    return {"state": PgDeliveryState(url, claim_timeout=claim_timeout),
            "pacer": SharedPacer(url, "telegram", telegram_rate),
            "line_pacer": SharedPacer(url, "line-multicast", LINE_MULTICAST_RATE, batch=5)}



async def run_sender(sender: NoticeSender, *, grace: float = 10.0) -> None:
    """Run ``sender`` until cancelled; on cancel let in-flight sends finish (``grace`` s) so
    that a normal shutdown leaves no chat in the uncertain state."""
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, grace)
        raise


def install_notices(app: aiohttp.web.Application) -> None:
    """A ``serve`` extension (see handlers.web.server): the status page and the notice sender.

    Adds ``GET /status`` (+ ``.json``, ``.atom``) reading through the engine thread, and two
    background tasks: one applies spooled CLI requests, one delivers the outbox. With
    ``ELAAS_DATABASE_URL`` there is no spool (the CLI writes to the database, and the sender's
    one-second poll of the outbox picks its notices up).
    """
    from handlers.web.status_page import add_status_routes

    core = app[CORE]
    flow = app[FLOW]
    add_status_routes(app, core.status, core.settings.public_base_url, call=flow.call)

    sender = NoticeSender.from_settings(core.store, core.status, core.settings,
                                        store_call=flow.call)

    async def run_notices(app: aiohttp.web.Application) -> None:
        await run_sender(sender)

    async def run_operator_spool(app: aiohttp.web.Application) -> None:
        await run_spool(sender.apply_spool, sender.wake, poll=sender.poll_seconds)

    add_background(app, "notices", run_notices)
    if not core.settings.database_url:
        add_background(app, "spool", run_operator_spool)


# --------------------------------------------------------------------------- standalone entry


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m handlers.notice_sender",
        description="deliver outbox notices (serve runs this itself; this entry is for tests "
                    "and for delivering without the chat server)")
    p.add_argument("--data-dir", type=Path, help="data dir (default: ELAAS_DATA_DIR)")
    p.add_argument("--line-api-base")
    p.add_argument("--line-token")
    p.add_argument("--telegram-api-base")
    p.add_argument("--telegram-token")
    p.add_argument("--rate", type=float, default=30.0, help="Telegram messages per second")
    p.add_argument("--workers", type=int, default=16, help="Telegram requests in flight")
    p.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds")
    p.add_argument("--claim-timeout", type=float, default=CLAIM_TIMEOUT,
                   help="PostgreSQL: seconds without a heartbeat before a stuck sender's "
                        "notice is freed for another instance")
    p.add_argument("--until-idle", action="store_true",
                   help="exit when every notice is delivered instead of running on")
    return p.parse_args(argv)


async def _main(args: argparse.Namespace) -> int:
    from bot.core.store import TinyStore, lock_data_dir
    from bot.qa.knowledge import default_knowledge_dir
    from handlers.storage import open_store
    settings = Settings.from_env()
    data_dir = args.data_dir or settings.data_dir
    # Several instances share PostgreSQL: no data-dir lock (notices are claimed in the database).
    lock = None if settings.database_url else lock_data_dir(data_dir)
    store = open_store(settings) if settings.database_url else TinyStore(data_dir)
    shared = (shared_parts(settings.database_url, args.rate, args.claim_timeout)
              if settings.database_url else {})
    try:
        status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
        sender = NoticeSender(
            store, status, data_dir,
            line_token=args.line_token if args.line_token is not None else (
                settings.line_channel_access_token if settings.line_enabled else ""),
            line_api_base=args.line_api_base or settings.line_api_base,
            telegram_token=args.telegram_token if args.telegram_token is not None
            else settings.telegram_bot_token,
            telegram_api_base=args.telegram_api_base or settings.telegram_api_base,
            telegram_rate=args.rate, telegram_workers=args.workers,
            backoff=Backoff(base=args.backoff),
            status_url=settings.public_base_url.rstrip("/") + "/status", **shared,
        )  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.until_idle:
            try:
                while not stop.is_set():
                    await sender.deliver_once()
                    if not await sender.unfinished():
                        break
                    await asyncio.sleep(0.5)
            finally:
                await sender.close()
        elif shared:
            await sender.run(stop)
        else:
            spool = asyncio.create_task(run_spool(sender.apply_spool, sender.wake,
                                                  poll=sender.poll_seconds))
            try:
                await sender.run(stop)
            finally:
                spool.cancel()
    finally:
        store.close()
        if lock is not None:
            lock.release()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sender on its own (it takes the data-dir lock like serve does, except on
    PostgreSQL, where any number of senders run and each notice is claimed by one)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from handlers.eventloop import run as run_loop

    return run_loop(_main(_parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
