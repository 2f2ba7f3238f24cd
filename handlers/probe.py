"""The e-LAAS probe: one HTTP check, and the serve task that probes and watches for conflicts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web

from bot.notices.signals import (
    AlertWatch,
    FieldReports,
    ProbeLog,
    ProbeResult,
    classify_probe,
    snapshot,
)
from bot.notices.status import BANGKOK
from handlers.app import Core
from handlers.appkeys import CORE, FLOW, add_background

_LOG = logging.getLogger(__name__)
BODY_PEEK = 64 * 1024
WATCH_TICK = 60.0
MAX_TIMEOUT = 15.0
USER_AGENT = "elaas-bot-probe/1 (+status check; one request per interval)"


def _looks_like_login(body: str) -> bool:
    low = body.lower()
    return 'type="password"' in low or "type='password'" in low or "type=password" in low


async def probe_once(http: aiohttp.ClientSession, url: str, *, timeout: float,
                     clock: Callable[[], datetime] | None = None) -> ProbeResult:
    """One GET of ``url``: reachable only on a 2xx that is not a redirect to a login page.

    Never raises for network trouble: a timeout, a refused connection or a 5xx is the result.
    """
    now = (clock or (lambda: datetime.now(BANGKOK)))()
    start = time.monotonic()
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=timeout),
                            headers={"User-Agent": USER_AGENT}, allow_redirects=True) as resp:
            redirected = str(resp.url) if resp.history else ""
            body = ""
            if redirected and resp.status < 400:
                body = (await resp.content.read(BODY_PEEK)).decode("utf-8", "replace")
            ms = int((time.monotonic() - start) * 1000)
            outcome = classify_probe(resp.status, redirected_to=redirected)
            if outcome == "up" and redirected and _looks_like_login(body):
                outcome = "login"
            return ProbeResult(now, outcome, resp.status, ms, redirected)
    except TimeoutError:
        ms = int((time.monotonic() - start) * 1000)
        return ProbeResult(now, classify_probe(None, error="timeout"), None, ms, "timeout")
    except (aiohttp.ClientError, OSError) as exc:
        ms = int((time.monotonic() - start) * 1000)
        return ProbeResult(now, classify_probe(None, error=type(exc).__name__), None, ms,
                           type(exc).__name__)


def watch_once(core: Core, now: datetime, result: ProbeResult | None = None) -> str:
    """Record a probe result (if any) and check the signals against the official state.

    Runs on the engine thread in ``serve``. Returns the id of a queued admin alert, or "".
    """
    if result is not None:
        ProbeLog(core.store).record(result)
    FieldReports(core.store).prune(now)  # one vote per user is kept; drop the expired ones
    settings = core.settings
    snap = snapshot(core.status, core.store, now, probe_on=bool(settings.probe_url))
    watch = AlertWatch(core.store, {str(a) for a in settings.admins},
                       timedelta(minutes=settings.status_alert_minutes))
    notice = watch.check(snap)
    return notice.id if notice else ""


async def run_watch(app: web.Application) -> None:
    """Probe ELAAS_PROBE_URL every ELAAS_PROBE_INTERVAL (when set) and check for disagreement
    at least every minute, until cancelled."""

    core, flow = app[CORE], app[FLOW]
    settings = core.settings
    timeout = min(MAX_TIMEOUT, max(1.0, settings.probe_interval / 2))
    tick = min(WATCH_TICK, settings.probe_interval) if settings.probe_url else WATCH_TICK
    next_probe = 0.0
    async with aiohttp.ClientSession() as http:
        while True:
            result: ProbeResult | None = None
            if settings.probe_url and time.monotonic() >= next_probe:
                next_probe = time.monotonic() + settings.probe_interval
                result = await probe_once(http, settings.probe_url, timeout=timeout)
                _LOG.info("probe: %s (HTTP %s, %s ms)", result.outcome, result.http_status,
                          result.latency_ms)
            try:
                alert = await flow.call(watch_once, core, datetime.now(BANGKOK), result)
            except Exception:  # keep watching: one failed pass must not stop the probe
                _LOG.exception("status watch pass failed")
            else:
                if alert:
                    _LOG.info("status disagreement: alert %s queued for the admins", alert)
            await asyncio.sleep(tick)


def install_watch(app: web.Application) -> None:
    """A ``serve`` extension (see handlers.web.server): the probe and the disagreement watch."""

    add_background(app, "status-watch", run_watch)
