"""The web app and the ``serve`` lifecycle: LINE, Telegram, file links and health in one process.

Routes: ``POST /line/webhook``, ``POST /telegram/webhook``, ``GET /healthz`` and
``GET /files/{token}``.

Extension point (the status page, the notice sender, ...): write an *extension*, a function
``install(app: web.Application) -> None``, and list it in :func:`default_extensions` (or pass
``extensions=[...]`` to :func:`create_app` / :func:`serve`). It is called once while the app is
built, before anything starts, and may:

* add routes: ``app.router.add_get("/status", handler)``;
* use what is shared: ``app[CORE]`` (the Core), ``app[FLOW]`` (``await app[FLOW].call(fn, ...)``
  runs ``fn`` on the engine thread, the only thread that may touch the engine and the store),
  ``app[VAULT]`` (signed file links), ``app[SENDERS]`` (channel name -> Sender, for example
  ``await app[SENDERS]["line"].send(chat_id, [Reply("...")])`` to push a notice);
* add a background task: ``add_background(app, "notices", run_notices)`` with
  ``async def run_notices(app: web.Application) -> None`` that runs until cancelled; it starts
  after the channels are up and is cancelled first at shutdown; a crash is logged, not fatal;
* add its own start/stop work with aiohttp's ``app.cleanup_ctx.append(ctx)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.core.sharing import is_shared
from bot.core.store import MemoryStore
from handlers.app import Core
from handlers.appkeys import (
    BACKGROUND,
    CORE,
    FLOW,
    PIPELINE,
    SENDERS,
    VAULT,
    Background,
    BackgroundFactory,
    Extension,
    Sender,
    add_background,
)
from handlers.inbox import FileInbox, Inbox, MemoryInbox, SharedInbox
from handlers.pipeline import Pipeline
from handlers.ratelimit import Flow, OrderedTasks
from handlers.settings import Settings
from handlers.web.files import FileVault, vault_for

if TYPE_CHECKING:  # imported when the channel is on: each SDK costs 20-40 MB of memory
    from handlers.line.adapter import LineAdapter
    from handlers.telegram.adapter import TelegramAdapter

_LOG = logging.getLogger(__name__)
# The extension API (defined in handlers.appkeys so that extensions never import this module).
__all__ = ["BACKGROUND", "CORE", "FLOW", "LINE", "PIPELINE", "SENDERS", "STARTED", "TELEGRAM",
           "VAULT", "Background", "BackgroundFactory", "Extension", "RunningServer", "Sender",
           "ServeError", "add_background", "build_web_app", "configure_logging", "create_app",
           "default_extensions", "no_channel_message", "serve"]

MAX_BODY = 1024 * 1024
DRAIN_SECONDS = 10.0
SDK_LOGGERS = ("telegram", "linebot", "urllib3", "aiohttp.client", "aiohttp.server",
               "aiohttp.web", "asyncio")
SWITCH_INTERVAL = 0.005
# The cyclic GC's youngest generation is collected after this many new objects (Python's
# default: 700). A request's objects mostly die with it; at 700 many were still alive at a
# collection, were walked again as they aged and fed a full collection every few seconds.
# bench_serve --mix varied, GC CPU per event (gc.callbacks): 76 us at 700 (gen0 0.7 ms each,
# gen1 41 and gen2 3 per 6,000 events, a gen2 ~14 ms) against 16 us at 10,000 (9 collections,
# ~11 ms each, no gen1 or gen2 in the run).
YOUNG_OBJECTS = 10_000

LINE: web.AppKey[LineAdapter | None] = web.AppKey("line")
TELEGRAM: web.AppKey[TelegramAdapter | None] = web.AppKey("telegram")
STARTED = web.AppKey("started", float)


class ServeError(RuntimeError):
    """``serve`` cannot start (no channel configured, port taken, channel unreachable)."""


def default_extensions() -> list[Extension]:
    """Extensions every ``serve`` installs; add yours here (see the module docstring)."""
    from handlers.notice_sender import install_notices  # the status page and notice sender
    from handlers.probe import install_watch  # the e-LAAS probe and the disagreement alerts
    from handlers.web.console import install_console  # the operator console

    return [install_notices, install_watch, install_console]


# ---------------------------------------------------------------------------- building


def default_inbox(core: Core) -> Inbox | SharedInbox:
    """The PostgreSQL inbox with ELAAS_DATABASE_URL, else the journal in the data dir (none
    for an in-memory core)."""
    if isinstance(core.store, MemoryStore):
        return MemoryInbox()
    if core.settings.database_url:
        from bot.core.engine import SESSIONS_TABLE
        from bot.core.picks import OFFERS_TABLE
        from bot.qa.followup import TABLE as FOLLOWUPS_TABLE
        from handlers.pginbox import PgInbox

        # the claim reads each user's session, last topic and last offered choices ahead for
        # the engine (every short text may be a typed button label)
        return PgInbox(core.settings.database_url,
                       prefetch=(SESSIONS_TABLE, FOLLOWUPS_TABLE, OFFERS_TABLE))
    return FileInbox(core.settings.data_dir / INBOX_FILE)


INBOX_FILE = "inbox.journal"
# Events handled at once: the engine takes one at a time, the others wait for a reply call to
# LINE (~50-100 ms from Thailand) or a journal mark, so 128 keep ~1,000 events/s flowing.
WORKERS = 128
# Events accepted and not yet answered before a webhook waits for room: about half a second of
# work, so even a saturated server uses a reply token well within its life.
BACKLOG = 256


def tasks_for(inbox: Inbox | SharedInbox) -> OrderedTasks:
    """The job runner for ``inbox``: bounded workers and backlog for the embedded journal; the
    PostgreSQL inbox drains each user's events in its own job, as many as there are users."""
    if isinstance(inbox, SharedInbox):
        return OrderedTasks()
    return OrderedTasks(workers=WORKERS, backlog=BACKLOG)


def create_app(core: Core, *, extensions: Iterable[Extension] | None = None,
               poll_interval: float = 0.0,
               inbox: Inbox | SharedInbox | None = None) -> web.Application:
    """The whole app from the core's settings: the configured channels, files, health.

    Args:
        core: the engine and stores (``handlers.app.build_core``).
        extensions: installers to call (default: :func:`default_extensions`).
        poll_interval: pause between Telegram polls (tests against a fake that never waits).
        inbox: where accepted events are journaled (default: :func:`default_inbox`).
    """
    settings = core.settings
    if inbox is None:
        inbox = default_inbox(core)
    pipeline = Pipeline(Flow(core.engine, tasks=tasks_for(inbox)), inbox,
                        log_text=settings.log_text)
    vault = vault_for(settings, core.store)
    line: LineAdapter | None = None
    telegram: TelegramAdapter | None = None
    if settings.line_enabled:
        from handlers.line.adapter import LineAdapter

        line = LineAdapter(settings, pipeline, vault)
    if settings.telegram_enabled:
        from bot.notices.operators import Operators
        from handlers.telegram.adapter import TelegramAdapter
        from handlers.telegram.callbacks import CALLBACKS, CallbackIds
        from handlers.telegram.menu import staff_chats

        shared = core.store.table(CALLBACKS) if is_shared(core.store) else None
        staff = staff_chats(settings.admins, (o.user for o in Operators(core.store).all()))
        telegram = TelegramAdapter(settings, pipeline, poll_interval=poll_interval,
                                   staff_chats=staff, callbacks=CallbackIds(table=shared))
    if line is None:
        _LOG.info("LINE: off (set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to use it)")
    if telegram is None:
        _LOG.info("Telegram: off (set TELEGRAM_BOT_TOKEN to turn it on)")
    exts = default_extensions() if extensions is None else list(extensions)
    return build_web_app(core, line=line, telegram=telegram, pipeline=pipeline, vault=vault,
                         extensions=exts)


def build_web_app(core: Core, *, line: LineAdapter | None, telegram: TelegramAdapter | None,
                  pipeline: Pipeline | None = None, vault: FileVault | None = None,
                  extensions: Iterable[Extension] = ()) -> web.Application:
    """The aiohttp app for already built adapters (which must share ``pipeline`` and ``vault``).

    Args:
        core: the Core the adapters were built on.
        line: the LINE adapter, or None when LINE is off.
        telegram: the Telegram adapter, or None when Telegram is off.
        pipeline: the shared Pipeline (default: the adapters', else a new one).
        vault: the file vault (default: the LINE adapter's, else one from the settings).
        extensions: installers called once the core routes exist.
    """
    if pipeline is None:
        pipeline = (line.pipeline if line else telegram.pipeline if telegram
                    else _pipeline(core))
    flow = pipeline.flow
    if vault is None:
        vault = line.vault if line else vault_for(core.settings, core.store)
    app = web.Application(client_max_size=MAX_BODY)
    app[CORE] = core
    app[FLOW] = flow
    app[PIPELINE] = pipeline
    app[VAULT] = vault
    app[LINE] = line
    app[TELEGRAM] = telegram
    senders: dict[str, Sender] = {a.channel: a for a in (line, telegram) if a is not None}
    app[SENDERS] = senders
    app[BACKGROUND] = []
    app[STARTED] = time.time()
    app.router.add_post("/line/webhook", line.webhook if line else _channel_off("LINE"))
    app.router.add_post("/telegram/webhook",
                        telegram.webhook if telegram else _channel_off("Telegram"))
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/files/{token}", vault.handle)
    app.cleanup_ctx.append(_channels_ctx)
    add_background(app, "engine-flush", _flush_engine)
    for install in extensions:
        install(app)
    app.cleanup_ctx.append(_background_ctx)
    return app


def _pipeline(core: Core) -> Pipeline:
    inbox = default_inbox(core)
    return Pipeline(Flow(core.engine, tasks=tasks_for(inbox)), inbox)


def _channel_off(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"error": f"{name} is off"}, status=404)

    return handler


async def _healthz(request: web.Request) -> web.Response:
    app = request.app
    line, telegram = app[LINE], app[TELEGRAM]
    return web.json_response({
        "status": "ok",
        "channels": {"line": "webhook" if line else "off",
                     "telegram": telegram.mode if telegram else "off"},
        "pending_jobs": app[FLOW].tasks.pending,
        "files": len(app[VAULT]),
        "uptime_s": round(time.time() - app[STARTED], 1),
    })  # fmt: skip


async def _channels_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the channels and replay the inbox; at shutdown stop receiving, finish queued
    jobs, write the inbox's last marks, close clients."""
    flow = app[FLOW]
    pipeline = app[PIPELINE]
    adapters = [a for a in (app[LINE], app[TELEGRAM]) if a is not None]
    started: list[LineAdapter | TelegramAdapter] = []
    replayed = False
    try:
        for a in adapters:
            await a.start()
            started.append(a)
        await pipeline.replay()
        replayed = True
        yield
    finally:
        for a in started:
            with contextlib.suppress(Exception):
                await a.stop_receiving()
        await flow.tasks.drain(DRAIN_SECONDS)
        if replayed:
            await pipeline.close()
        for a in reversed(started):
            try:
                await a.close()
            except Exception:
                _LOG.exception("closing %s failed", a.channel)
        flow.close()


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(_guard(b, app), name=f"background:{b.name}")
             for b in app[BACKGROUND]]
    yield
    for t in tasks:
        t.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=DRAIN_SECONDS)


async def _flush_engine(app: web.Application) -> None:
    """Every few seconds, on the engine thread: what the engine keeps in memory (the gap
    counts, see bot.qa.gaps) goes to the store even while nobody asks anything."""
    engine = app[CORE].engine
    while True:
        await asyncio.sleep(engine.gap_log.flush_every)
        await app[FLOW].call(engine.flush)


async def _guard(b: Background, app: web.Application) -> None:
    try:
        await b.factory(app)
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOG.exception("background task %s crashed", b.name)


# ---------------------------------------------------------------------------- running


class RunningServer:
    """An app listening on a host and port (port 0 picks a free one)."""

    def __init__(self, app: web.Application):
        self.app = app
        self.runner = web.AppRunner(app, access_log=None)  # paths may carry file tokens
        self.host = ""
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start the channels and background tasks, then listen."""
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        self.host = host
        self.port = sockets[0].getsockname()[1] if sockets else port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening, finish queued jobs, stop the channels and background tasks."""
        await self.runner.cleanup()


async def serve(settings: Settings, *, extensions: Iterable[Extension] | None = None,
                poll_interval: float = 0.0) -> None:
    """Run ``elaas-bot serve`` until SIGTERM or SIGINT: lock, core, app, listen, clean exit.

    Raises:
        ServeError: no channel is configured.
        bot.core.store.StoreError: another process owns the data directory.
    """
    from bot.core.store import lock_data_dir
    from handlers.app import build_core

    missing = settings.missing_for_serve()
    if missing:
        raise ServeError(no_channel_message(missing))
    # The engine thread is CPU-bound and shares the GIL with the event loop. A short switch
    # interval (0.5 ms) used to cut the loop's GIL waits, but since replies no longer build
    # SDK models the hand-overs cost more than they save: bench_serve at 16 senders gave
    # 455-500 events/s, p99 71-77 ms at 0.5 ms against 520-560 events/s, p99 52 ms at 5 ms.
    # Again on uvloop: 1 and 2 ms cost more CPU per event (1.5-1.7 against 1.1-1.3 ms), and
    # 10 ms or the engine thread yielding between calls did not measurably help the tail.
    sys.setswitchinterval(SWITCH_INTERVAL)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for warning in settings.warnings():
        _LOG.warning("%s", warning)
    if settings.database_url and settings.telegram_enabled and not settings.telegram_webhook:
        _LOG.warning("Telegram long polling: of several instances on one database only one "
                     "may poll (Telegram refuses a second getUpdates); set "
                     "TELEGRAM_WEBHOOK_SECRET so that any instance takes updates")
    # On PostgreSQL the database coordinates the instances, which may share a data dir.
    lock = None if settings.database_url else lock_data_dir(settings.data_dir)
    core: Core | None = None
    try:
        core = build_core(settings)
        core.warm_up()
        try:
            app = create_app(core, extensions=extensions, poll_interval=poll_interval)
        except ValueError as exc:  # an empty or short file-link key file, named in exc
            raise ServeError(str(exc)) from None
        server = RunningServer(app)
        try:
            try:
                await server.start(settings.host, settings.port)
            except Exception as exc:  # port taken, channel unreachable, token refused, ...
                _LOG.error("start-up failed: %s", type(exc).__name__, exc_info=True)
                raise ServeError(_redactor(settings).redact(
                    f"start-up failed: {type(exc).__name__}: {exc}")) from exc
            # The knowledge base, tokenizer dictionaries and SDK models are long-lived: keep
            # the cyclic GC from rescanning them (a full pass over them stalls for ~100 ms).
            gc.collect()
            gc.freeze()
            gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
            _LOG.info("serving on http://%s:%d (public %s)", settings.host, server.port,
                      settings.public_base_url)
            await stop.wait()
            _LOG.info("stopping")
        finally:
            await server.stop()
        _LOG.info("stopped cleanly")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if core is not None:
            core.close()
        if lock is not None:
            lock.release()


def no_channel_message(missing: Sequence[str]) -> str:
    """The message ``serve`` exits with when no channel is configured."""
    return ("no chat channel is configured: set " + " and/or ".join(missing)
            + " (in the environment or in .env; see .env.example)")


# ---------------------------------------------------------------------------- logging


class RedactSecrets(logging.Filter):
    """Replaces configured secrets in log messages and tracebacks with ``***``."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def _redactor(settings: Settings) -> RedactSecrets:
    return RedactSecrets([
        settings.line_channel_secret, settings.line_channel_access_token,
        settings.telegram_bot_token, settings.telegram_webhook_secret, settings.file_secret,
        settings.database_password,
    ])  # fmt: skip


def configure_logging(settings: Settings, *, level: int = logging.INFO,
                      path: Path | None = None) -> None:
    """Log to stderr (or to the file ``path``) with secrets redacted; no access log, no HTTP
    client request lines."""
    logging.basicConfig(level=max(level, logging.INFO), filename=path, encoding="utf-8",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for ours in ("bot", "handlers"):  # --verbose: our own modules only (fontTools, fpdf: INFO)
        logging.getLogger(ours).setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # At DEBUG (--verbose) the SDKs log whole requests and updates, i.e. what users typed:
    # our own modules go verbose, theirs stay at INFO.
    for sdk in SDK_LOGGERS:
        logging.getLogger(sdk).setLevel(max(level, logging.INFO))
    redact = _redactor(settings)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
