"""One inbound pipeline for every channel: de-duplicate, flood-limit, journal, order, answer."""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.contract import Incoming, Reply
from bot.core.greetings import RATE_LIMITED, fixed_replies
from bot.core.store import StoreUnavailable
from handlers.inbox import SWEEP_AGE, Claimed, Inbox, MemoryInbox, SharedInbox
from handlers.ratelimit import Flow, RecentIds, Verdict
from handlers.tally import Tally

_LOG = logging.getLogger(__name__)

FLOODABLE = frozenset({"message", "unsupported"})
MAX_ATTEMPTS = 5  # a shared-inbox event that failed this often is given up (logged)
# How long a webhook waits for room in a full backlog before it answers 503 (the channel
# redelivers later); LINE gives up on a webhook after a few seconds.
ACCEPT_WAIT = 2.0
# Shared inbox: users (order keys) one instance works on at once; the rest wait durably in
# the inbox. Leasing every accepted user at once put hundreds of tasks on the event loop the
# webhooks share and made the heartbeat renew hundreds of leases; 8 at once were too few to
# overlap the round trips of a loaded database (the kill -9 test took over 20 s to catch up).
DRAINS = 32
SWEEP_ROOM = 2 * DRAINS  # the sweeper fills the queue up to this many keys
# Refuse webhooks (503: the channel redelivers) while the oldest waiting key has waited this
# long: what is accepted then is still answered well inside LINE's reply-token minute.
BACKLOG_S = 20.0


class Busy(RuntimeError):
    """Too much work is pending: the webhook asks the channel to redeliver later (503)."""


@dataclass(frozen=True)
class Inbound:
    """One accepted channel event, as journaled in the inbox.

    ``incoming`` goes to the engine; without one, ``fixed`` names a fixed answer (a group
    greeting, the flood warning). ``answer`` is False when nothing can be sent back (an
    unfollow). ``reply_token`` and ``callback_id`` are what the channel needs to answer.
    ``prior`` is the sending mark an earlier attempt left (reply, push, send; "" when none):
    that attempt may have answered, so the channel sends again only what it can de-duplicate.
    """

    channel: str
    event_id: str
    to: str
    incoming: Incoming | None = None
    fixed: str = ""
    answer: bool = True
    reply_token: str = ""
    callback_id: str = ""
    at: float = 0.0
    kind: str = ""
    prior: str = ""

    @property
    def key(self) -> str:
        """The inbox and de-duplication key: channel plus the channel's event id."""
        return f"{self.channel}:{self.event_id}"

    @property
    def order_key(self) -> str:
        """Events with the same order key are handled one after the other (one user)."""
        who = self.incoming.user_id if self.incoming is not None else ""
        return f"{self.channel}:{who or self.to}"

    def to_record(self) -> dict[str, Any]:
        """A JSON-able dict (the inbox record)."""
        # By hand: dataclasses.asdict deep-copies and cost ~4% of the CPU per event.
        out = {f: getattr(self, f) for f in _FIELDS}
        inc = self.incoming
        if inc is not None:
            received = inc.received_at
            out["incoming"] = {f: getattr(inc, f) for f in _INCOMING_FIELDS}
            out["incoming"]["received_at"] = received.isoformat() if received else None
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Inbound:
        """The Inbound behind an inbox record (see :meth:`to_record`)."""
        data = dict(record)
        inc = data.get("incoming")
        if inc is not None:
            inc = dict(inc)
            received = inc.get("received_at")
            inc["received_at"] = datetime.fromisoformat(received) if received else None
            data["incoming"] = Incoming(**inc)
        return cls(**data)


_FIELDS = tuple(f.name for f in dataclasses.fields(Inbound))
_INCOMING_FIELDS = tuple(f.name for f in dataclasses.fields(Incoming))


class Channel(Protocol):
    """What a channel adapter gives the pipeline: its name and how to deliver replies."""

    channel: str

    @property
    def bot_name(self) -> str:
        """The bot's handle on this channel ("" when it has none), for fixed texts."""
        ...

    async def deliver(self, item: Inbound, replies: list[Reply], *, replay: bool) -> str:
        """Send ``replies`` for ``item``; returns how ("reply", "push", "failure", ...).

        ``replay`` is True when the event is handled again after a restart: the channel must
        not answer it a second time if the first answer may have gone out (``item.prior``
        says how that first answer was being sent).
        """
        ...

    def send_mode(self, item: Inbound) -> str:
        """How ``deliver`` is about to send for ``item`` (the sending mark: reply, push, ...)."""
        ...


class Pipeline:
    """The way in, for every channel.

    ``accept`` takes the Inbounds an adapter translated from one webhook (or poll): it drops
    events seen before, applies the flood limit, writes the rest to the inbox and returns once
    they are durable (only then does the webhook answer 200). Each event then runs in the
    background, in order per user: the engine on its thread, the channel's ``deliver``, the
    inbox mark. ``replay`` (at start) runs what the last run accepted and did not answer.
    """

    def __init__(self, flow: Flow, inbox: Inbox | SharedInbox | None = None, *,
                 log_text: bool = False):
        self.flow = flow
        self.log_text = log_text
        self.inbox: Inbox | SharedInbox = inbox if inbox is not None else MemoryInbox()
        # Several instances: the database de-duplicates, judges floods and hands out work.
        self.shared = self.inbox if isinstance(self.inbox, SharedInbox) else None
        self.seen = RecentIds()
        self.channels: dict[str, Channel] = {}
        self.stats = {"accepted": 0, "duplicates": 0, "dropped": 0, "answered": 0,
                      "replayed": 0, "not_resent": 0}
        self._draining: set[str] = set()
        self._dirty: set[str] = set()
        # Shared inbox: woken order keys waiting for a drain worker, each with the monotonic
        # time its oldest open event was accepted, and the same as a heap, oldest first (an
        # entry whose time is no longer the key's is skipped).
        self._waiting: dict[str, float] = {}
        self._queue: list[tuple[float, str]] = []
        # ...and when each was woken here, earliest first: this instance's own backlog, which
        # the backlog rule and the sweeper's room judge (a taken-over user's time on a dead
        # instance orders it, but is no measure of how far behind this one is).
        self._woken: dict[str, float] = {}
        self._workers = 0
        self._worker_ids = 0
        self.tally = Tally()

    def register(self, channel: Channel) -> None:
        """Deliver the events of ``channel.channel`` through ``channel``."""
        self.channels[channel.channel] = channel

    async def accept(self, items: Sequence[Inbound]) -> None:
        """De-duplicate, flood-limit and journal ``items``, then queue their work.

        Raises:
            Busy: the backlog is full (nothing was accepted).
            OSError: the inbox could not save them (nothing was accepted).
        """
        if not items:
            return
        if self.flow.tasks.full:
            _LOG.error("%d jobs pending, asking the channel to redeliver later",
                       self.flow.tasks.pending)
            raise Busy("backlog full")
        if self.shared is not None:
            await self._accept_shared(self.shared, items)
            return
        tasks = self.flow.tasks
        try:  # wait (first come, first served) while the backlog is at its bound
            await tasks.reserve(len(items), ACCEPT_WAIT)
        except TimeoutError:
            _LOG.error("%d jobs pending for %.0f s, asking the channel to redeliver later",
                       tasks.pending, ACCEPT_WAIT)
            raise Busy("backlog full") from None
        try:
            fresh: list[Inbound] = []
            for item in items:
                if self.seen.seen(item.key):
                    self.stats["duplicates"] += 1
                    _LOG.info("%s event %s already handled", item.channel, item.event_id)
                    continue
                admitted = self._admit(item)
                if admitted is not None:
                    fresh.append(admitted)
            try:
                await self.inbox.accept([(i.key, i.to_record()) for i in fresh])
            except OSError:
                for i in fresh:
                    self.seen.forget(i.key)
                raise
            for item in fresh:
                self.stats["accepted"] += 1
                self._submit(item, replay=False)
        finally:
            tasks.release(len(items))

    def _admit(self, item: Inbound) -> Inbound | None:
        """The flood limit: the item, the item answered by the warning, or None (dropped)."""
        return self._judged(item, self._verdict(item))

    def _verdict(self, item: Inbound) -> Verdict:
        inc = item.incoming
        if inc is None or inc.kind not in FLOODABLE:
            return "ok"
        return self.flow.admit(item.channel, _flood_key(item), item.event_id)

    def _judged(self, item: Inbound, verdict: str) -> Inbound | None:
        if verdict == "ok":
            return item
        if verdict == "warn":
            return dataclasses.replace(item, incoming=None, fixed=RATE_LIMITED)
        self.stats["dropped"] += 1
        if item.callback_id:  # a button press still needs its spinner stopped
            channel = self.channels[item.channel]
            self.flow.tasks.submit(item.order_key, _quiet(channel, item), item.key)
        return None

    # ------------------------------------------------------------------ several instances

    async def _accept_shared(self, shared: SharedInbox, items: Sequence[Inbound]) -> None:
        """Insert the events (the database drops redeliveries and judges floods across
        instances, after this process's own limiter), then drain their order keys here."""
        waited = self.waited()
        if waited > BACKLOG_S:
            _LOG.error("the oldest of %d waiting users waits %.0f s: asking the channel to "
                       "redeliver later", len(self._waiting), waited)
            raise Busy("backlog full")
        rows = []
        for item in items:
            if self.seen.seen(item.key):
                self.stats["duplicates"] += 1
                continue
            inc = item.incoming
            floodable = inc is not None and inc.kind in FLOODABLE
            rows.append((item.key, item.order_key,
                         f"{item.channel}:{_flood_key(item)}" if floodable else "",
                         item.to_record(), self._verdict(item)))
        try:
            verdicts = await shared.accept_judged(rows)
        except OSError:
            for row in rows:
                self.seen.forget(row[0])
            raise
        for item in items:
            verdict = verdicts.get(item.key)
            if verdict is None:
                continue
            if verdict == "drop":
                self._judged(item, verdict)
                continue
            self.stats["accepted"] += 1
            self.wake(item.order_key)
        self.stats["duplicates"] += sum(1 for r in rows if r[0] not in verdicts)

    def wake(self, order_key: str, age: float = 0.0) -> None:
        """Handle the open events of ``order_key`` here (unless a drain of it is running, which
        then looks again before it stops), after the keys whose events waited longer.

        ``age``: seconds its oldest open event has waited since it was accepted (the sweeper
        takes over a dead instance's users with the time they already waited there)."""
        self._dirty.add(order_key)
        now = time.monotonic()
        since = now - age
        known = self._waiting.get(order_key)
        if order_key not in self._draining and (known is None or since < known):
            self._waiting[order_key] = since
            self._woken.setdefault(order_key, now)
            heapq.heappush(self._queue, (since, order_key))
        # Also for a user already waiting: a worker may be missing (one ended on an error).
        if self._waiting and self._workers < DRAINS:
            self._workers += 1
            self._worker_ids += 1
            label = f"drain-{self._worker_ids}"
            self.flow.tasks.submit(label, self._work(), label)

    def waited(self) -> float:
        """Seconds the key woken earliest here has waited for a drain worker (0: none)."""
        for at in self._woken.values():
            return time.monotonic() - at
        return 0.0

    def _next(self) -> str | None:
        """The waiting key whose events waited longest, taken off the queue (None: none)."""
        self._skip_stale()
        if not self._queue:
            return None
        order_key = heapq.heappop(self._queue)[1]
        del self._waiting[order_key]
        del self._woken[order_key]
        return order_key

    def _skip_stale(self) -> None:
        queue = self._queue
        while queue and self._waiting.get(queue[0][1]) != queue[0][0]:
            heapq.heappop(queue)

    def _room(self) -> tuple[int, float]:
        """What the sweeper may wake here now: the free places of the queue, and keys whose
        events waited longer than this instance's queue (a dead instance's users do not
        starve behind a long queue here; a busy instance leaves the rest to others)."""
        return max(SWEEP_ROOM - len(self._waiting), DRAINS), self.waited() + SWEEP_AGE

    async def _work(self) -> None:
        """One of DRAINS workers: drain the waiting keys, oldest first, until none is left."""
        try:
            while (order_key := self._next()) is not None:
                self._draining.add(order_key)
                try:
                    await self._drain(order_key)
                except Exception:  # its events stay in the inbox: the sweeper wakes it again
                    _LOG.exception("draining %s failed; left for the sweeper", order_key)
        finally:
            self._workers -= 1

    async def _drain(self, order_key: str) -> None:
        assert self.shared is not None
        shared = self.shared
        try:
            while True:
                self._dirty.discard(order_key)
                claimed = await shared.claim(order_key)
                if claimed is None:
                    return  # another instance holds the key; it looks again before letting go
                # the user's session and last topic, read by the claim (no round trips of the
                # engine thread's own); writes that can wait go with the release
                primed = self.flow.prime(shared.prefetched(order_key))
                stuck = False
                try:
                    for c in claimed:
                        if not await self._run_claimed(c, primed):
                            stuck = True  # later events of the user wait for this one
                            break
                except Exception:  # let the user go: its open events stay for the sweeper
                    with contextlib.suppress(Exception):
                        await shared.release(order_key, None)
                    raise
                more = await shared.release(
                    order_key, primed.deferred if primed is not None else None)
                if stuck or (not more and order_key not in self._dirty):
                    return  # a stuck key: the sweeper wakes it again in a moment
        except OSError as exc:  # the database went away: the sweeper retries once it is back
            _LOG.warning("events of %s left for later: %s", order_key, exc)
        finally:
            self._draining.discard(order_key)

    async def _run_claimed(self, c: Claimed, primed: Any = None) -> bool:
        """Handle one claimed event; False when it stays open (tried again later)."""
        assert self.shared is not None
        try:
            item = Inbound.from_record(c.record)
        except (TypeError, ValueError):
            _LOG.exception("inbox record %s unreadable, dropped", c.key)
            self.shared.answered(c.key)
            return True
        if item.channel not in self.channels:
            _LOG.warning("inbox event %s: channel %s is off here", c.key, item.channel)
            return False
        if c.attempts > MAX_ATTEMPTS:
            _LOG.error("%s event %s failed %d times, given up", item.channel, item.event_id,
                       c.attempts - 1)
            self.shared.answered(c.key)
            return True
        if c.how:
            item = dataclasses.replace(item, prior=c.how)
        judged = self._judged(item, c.verdict)
        if judged is not None:
            replay = c.attempts > 1
            if replay:
                self.stats["replayed"] += 1
            return await self._run(judged, replay, primed)
        return True

    def _submit(self, item: Inbound, *, replay: bool) -> None:
        self.flow.tasks.submit(item.order_key, self._job(item, replay), item.key)

    async def _job(self, item: Inbound, replay: bool) -> None:
        await self._run(item, replay)

    async def replay(self) -> int:
        """Queue the events the inbox holds as accepted and not answered; how many."""
        if self.shared is not None:
            # its sweeper wakes what is left to do
            await self.shared.start(self.wake, self._room)
            return 0
        state = self.inbox.load()
        for key in state.answered:
            self.seen.seen(key)
        n = 0
        for key, record in state.pending:
            try:
                item = Inbound.from_record(record)
            except (TypeError, ValueError):
                _LOG.exception("inbox record %s unreadable, dropped", key)
                self.inbox.answered(key)
                continue
            if item.channel not in self.channels:
                _LOG.warning("inbox event %s: channel %s is off, kept for later", key,
                             item.channel)
                continue
            self.seen.seen(key)
            self._submit(item, replay=True)
            n += 1
        self.stats["replayed"] += n
        if n:
            _LOG.info("inbox: replaying %d event(s) accepted before the restart", n)
        return n

    async def _run(self, item: Inbound, replay: bool, primed: Any = None) -> bool:
        """Engine, sending mark, channel, answered mark; False when the event stays open."""
        started = time.perf_counter()
        channel = self.channels[item.channel]
        try:
            if item.incoming is not None:
                replies = await self.flow.reply_to(item.incoming, primed)
            elif item.fixed:
                replies = fixed_replies(item.fixed, item.channel, channel.bot_name)
            else:
                replies = []
            answered = time.perf_counter()
            how = "no reply possible"
            if item.answer:
                if not await self._mark_sending(channel, item, replies):
                    return False  # another instance took the event over: it answers
                how = await channel.deliver(item, replies, replay=replay)
                if how == "not sent twice":
                    self.stats["not_resent"] += 1
        except (OSError, StoreUnavailable) as exc:
            if self.shared is None:
                raise
            # The database is away: leave the event open (the sweeper retries it).
            _LOG.warning("%s event %s left for later: %s", item.channel, item.event_id, exc)
            return False
        except Exception:
            # Logged and marked: an event that fails every time must not replay forever.
            _LOG.exception("%s event %s failed", item.channel, item.event_id)
            self.inbox.answered(item.key)
            return True
        self.inbox.answered(item.key)
        self.stats["answered"] += 1
        if self.log_text and item.incoming is not None:
            _LOG.info("%s event %s text=%r", item.channel, item.event_id, item.incoming.text)
        done = time.perf_counter()
        _LOG.debug("%s event %s (%s)%s: %d reply(ies) by %s, engine %.0f ms, sent %.0f ms",
                   item.channel, item.event_id, item.kind or "-", " replayed" if replay else "",
                   len(replies), how, (answered - started) * 1000, (done - answered) * 1000)
        self.tally.add(item.channel, how, answered - started, done - answered, done)
        return True

    async def _mark_sending(self, channel: Channel, item: Inbound,
                            replies: list[Reply]) -> bool:
        """Write the durable sending mark before the channel call; False: do not send."""
        if not replies and not item.callback_id:
            return True
        mode = channel.send_mode(item)
        if not mode:
            return True
        try:
            return await self.inbox.sending(item.key, mode)
        except OSError as exc:
            if self.shared is not None:
                raise  # no mark, no lease check: leave it open for a later attempt
            # The journal cannot be written: answering (at least once) beats silence.
            _LOG.error("%s event %s: sending mark not saved (%s)", item.channel,
                       item.event_id, exc)
            return True

    async def close(self) -> None:
        """Write the last marks (after the jobs have drained)."""
        self.tally.flush()
        await self.inbox.close()


def _flood_key(item: Inbound) -> str:
    # Flood limits are per real user; anonymous members share one bucket per group.
    inc = item.incoming
    assert inc is not None
    return inc.user_id or f"anon:{inc.chat_id}"


async def _quiet(channel: Channel, item: Inbound) -> None:
    await channel.deliver(item, [], replay=False)
