"""One inbound pipeline for every channel: de-duplicate, flood-limit, journal, order, answer."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.contract import Incoming, Reply
from bot.core.greetings import RATE_LIMITED, fixed_replies
from handlers.inbox import Inbox, MemoryInbox
from handlers.ratelimit import Flow, RecentIds

_LOG = logging.getLogger(__name__)

FLOODABLE = frozenset({"message", "unsupported"})


class Busy(RuntimeError):
    """Too much work is pending: the webhook asks the channel to redeliver later (503)."""


@dataclass(frozen=True)
class Inbound:
    """One accepted channel event, as journaled in the inbox.

    ``incoming`` goes to the engine; without one, ``fixed`` names a fixed answer (a group
    greeting, the flood warning). ``answer`` is False when nothing can be sent back (an
    unfollow). ``reply_token`` and ``callback_id`` are what the channel needs to answer.
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
        not answer it a second time if the first answer may have gone out.
        """
        ...


class Pipeline:
    """The way in, for every channel.

    ``accept`` takes the Inbounds an adapter translated from one webhook (or poll): it drops
    events seen before, applies the flood limit, writes the rest to the inbox and returns once
    they are durable (only then does the webhook answer 200). Each event then runs in the
    background, in order per user: the engine on its thread, the channel's ``deliver``, the
    inbox mark. ``replay`` (at start) runs what the last run accepted and did not answer.
    """

    def __init__(self, flow: Flow, inbox: Inbox | None = None, *, log_text: bool = False):
        self.flow = flow
        self.log_text = log_text
        self.inbox: Inbox = inbox if inbox is not None else MemoryInbox()
        self.seen = RecentIds()
        self.channels: dict[str, Channel] = {}
        self.stats = {"accepted": 0, "duplicates": 0, "dropped": 0, "answered": 0,
                      "replayed": 0}

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

    def _admit(self, item: Inbound) -> Inbound | None:
        """The flood limit: the item, the item answered by the warning, or None (dropped)."""
        inc = item.incoming
        if inc is None or inc.kind not in FLOODABLE:
            return item
        # Flood limits are per real user; anonymous members share one bucket per group.
        verdict = self.flow.admit(item.channel, inc.user_id or f"anon:{inc.chat_id}",
                                  item.event_id)
        if verdict == "ok":
            return item
        if verdict == "warn":
            return dataclasses.replace(item, incoming=None, fixed=RATE_LIMITED)
        self.stats["dropped"] += 1
        if item.callback_id:  # a button press still needs its spinner stopped
            channel = self.channels[item.channel]
            self.flow.tasks.submit(item.order_key, _quiet(channel, item), item.key)
        return None

    def _submit(self, item: Inbound, *, replay: bool) -> None:
        self.flow.tasks.submit(item.order_key, self._run(item, replay), item.key)

    async def replay(self) -> int:
        """Queue the events the inbox holds as accepted and not answered; how many."""
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

    async def _run(self, item: Inbound, replay: bool) -> None:
        started = time.perf_counter()
        channel = self.channels[item.channel]
        try:
            if item.incoming is not None:
                replies = await self.flow.reply_to(item.incoming)
            elif item.fixed:
                replies = fixed_replies(item.fixed, item.channel, channel.bot_name)
            else:
                replies = []
            answered = time.perf_counter()
            how = "no reply possible"
            if item.answer:
                how = await channel.deliver(item, replies, replay=replay)
        except Exception:
            # Logged and marked: an event that fails every time must not replay forever.
            _LOG.exception("%s event %s failed", item.channel, item.event_id)
            self.inbox.answered(item.key)
            return
        self.inbox.answered(item.key)
        self.stats["answered"] += 1
        if self.log_text and item.incoming is not None:
            _LOG.info("%s event %s text=%r", item.channel, item.event_id, item.incoming.text)
        _LOG.info("%s event %s (%s)%s: %d reply(ies) by %s, engine %.0f ms, sent %.0f ms",
                  item.channel, item.event_id, item.kind or "-", " replayed" if replay else "",
                  len(replies), how, (answered - started) * 1000,
                  (time.perf_counter() - answered) * 1000)

    async def close(self) -> None:
        """Write the last marks (after the jobs have drained)."""
        await self.inbox.close()


async def _quiet(channel: Channel, item: Inbound) -> None:
    await channel.deliver(item, [], replay=False)
