"""LINE channel: verify and translate webhook events to Incoming, render Replies as messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiohttp import web

from bot.core.contract import Choice, Incoming, Reply
from bot.core.greetings import GROUP_HELLO, NO_PRIVATE_LINK, file_link_text
from bot.core.splitting import chunked
from handlers.line.client import (
    MAX_MESSAGES,
    LineClient,
    Message,
    Outcome,
    quick_reply,
    render_parts,
    with_retries,
)
from handlers.pipeline import Busy, Inbound, Pipeline
from handlers.private_chats import PrivateChats, group_notice, split_private
from handlers.settings import Settings
from handlers.web.files import FileVault

_LOG = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
REPLY_WINDOW = 50.0
UNSUPPORTED_TYPES = frozenset({"sticker", "image", "location", "file", "audio", "video"})
CALL_PREFIXES = ("บอท", "@")

# Retry keys of the pushes that answer an event are derived from its id, so a push repeated
# after a restart is refused by LINE (409) instead of delivered twice.
_RETRY_NS = uuid.UUID("6f1d2c1e-3b7a-4f0e-9d53-5a8e7c2b9e01")


def signature(secret: str, body: bytes) -> str:
    """``x-line-signature`` for ``body``: base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class LineAdapter:
    """The LINE Messaging API side of the bot.

    ``webhook`` checks the signature on the raw body, translates the events into Inbounds and
    hands them to the pipeline, which answers 200 once they are journaled. ``deliver`` replies
    with the reply token, or pushes when the token has expired or is too old.
    """

    channel = "line"

    def __init__(self, settings: Settings, pipeline: Pipeline, vault: FileVault, *,
                 reply_window: float = REPLY_WINDOW, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.pipeline = pipeline
        self.flow = pipeline.flow
        self.vault = vault
        self.reply_window = reply_window
        self.clock = clock
        pipeline.register(self)
        self._http: aiohttp.ClientSession | None = None
        self._client: LineClient | None = None
        self.stats = {"events": 0, "replies": 0, "pushes": 0, "failures": 0}
        self.private_chats = PrivateChats()
        self.basic_id = settings.line_basic_id
        self._info_tried = False
        # Keyed once; each request copies it. Not the one-shot hmac.digest: it gives up the GIL
        # around every call, and winning it back from the busy engine thread stalled the event
        # loop ~0.3 ms per webhook under load (the copy keeps it for bodies under 2 KB).
        self._mac = hmac.new(settings.line_channel_secret.encode(), digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return f"LineAdapter(api={self.settings.line_api_base!r})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Create the API client (it needs the running loop)."""
        self._http = LineClient.session()
        self._client = LineClient(self._http, self.settings.line_api_base,
                                  self.settings.line_channel_access_token)
        _LOG.info("LINE: on, webhook at %s/line/webhook", self.settings.public_base_url)

    async def stop_receiving(self) -> None:
        """Nothing to stop: LINE pushes to our webhook."""

    async def close(self) -> None:
        """Close the API client."""
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    async def _ensure_basic_id(self) -> None:
        """Ask LINE once for the account's basic id (GET /v2/bot/info) unless configured."""
        if self.basic_id or self._info_tried:
            return
        self._info_tried = True
        try:
            info = await self.api.bot_info()
            self.basic_id = str(info.get("basicId") or "")
        except Exception as exc:  # any answer we cannot use: go on without the link
            _LOG.warning("LINE: bot info unavailable (%s): group answers have no add-friend "
                         "link; set LINE_BOT_BASIC_ID", type(exc).__name__)

    def private_chat_url(self) -> str:
        """The link that adds the bot as a friend and opens its 1:1 chat (LINE URL scheme
        ``https://line.me/R/ti/p/{basic id}``, the ``@`` percent-encoded), or "" if unknown."""
        return f"https://line.me/R/ti/p/{quote(self.basic_id, safe='')}" if self.basic_id else ""

    @property
    def api(self) -> LineClient:
        if self._client is None:
            raise RuntimeError("LineAdapter.start() has not run")
        return self._client

    # ------------------------------------------------------------------ webhook

    async def webhook(self, request: web.Request) -> web.Response:
        """``POST /line/webhook``: 400 without a signature, 401 with a bad one, else 200."""
        if (request.content_length or 0) > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY,
                                                actual_size=request.content_length or 0)
        body = await request.read()
        sig = request.headers.get("x-line-signature", "")
        if not sig:
            return web.json_response({"error": "missing x-line-signature"}, status=400)
        if not self._signed(sig, body):
            _LOG.warning("LINE webhook with a bad signature refused")
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            payload = orjson.loads(body)
            events = payload["events"]
            if not isinstance(events, list):
                raise TypeError("events is not a list")
        except (ValueError, KeyError, TypeError):
            _LOG.warning("LINE webhook body is not a webhook payload")
            return web.json_response({"error": "not a webhook payload"}, status=400)
        items: list[Inbound] = []
        for event in events:
            try:
                item = self.translate(event)
            except Exception:  # one bad event never stops the others
                eid = event.get("webhookEventId", "-") if isinstance(event, dict) else "-"
                _LOG.exception("LINE event %s could not be read", eid)
                continue
            if item is not None:
                items.append(item)
        try:
            await self.pipeline.accept(items)
        except Busy:
            return web.json_response({"error": "busy"}, status=503)
        except OSError:
            return web.json_response({"error": "cannot save events"}, status=503)
        return web.Response(body=b"{}", content_type="application/json")

    def _signed(self, sig: str, body: bytes) -> bool:
        """Whether ``sig`` is :func:`signature` of ``body``."""
        mac = self._mac.copy()
        mac.update(body)
        expected = base64.b64encode(mac.digest())
        return hmac.compare_digest(sig.encode(), expected)

    @property
    def bot_name(self) -> str:
        return self.basic_id

    def translate(self, event: Mapping[str, Any]) -> Inbound | None:
        """The Inbound for one webhook event, or None when it needs nothing from us."""
        self.stats["events"] += 1
        item = self.plan(event)
        if item is None:
            _LOG.debug("LINE event %s (%s) ignored", event.get("webhookEventId") or "-",
                       event.get("type"))
        return item

    def plan(self, event: Mapping[str, Any]) -> Inbound | None:
        """The job for one event, or None when the event needs nothing from us."""
        etype = event.get("type")
        if event.get("mode") == "standby":  # another module owns the chat: hands off
            return None
        source = event.get("source") or {}
        stype = source.get("type", "user")
        # No userId (desktop users, users who did not accept the terms): anonymous, never the
        # group's id, which would make every such member of the group one account.
        user_id = str(source.get("userId") or "")
        is_group = stype in ("group", "room")
        chat_id = str(source.get("groupId") or source.get("roomId") or "") if is_group \
            else user_id
        if not chat_id:
            return None
        if not is_group and etype in ("message", "postback", "follow"):
            self.private_chats.note(user_id, True)
        eid = str(event.get("webhookEventId") or "") or f"local-{uuid.uuid4()}"
        ts = event.get("timestamp")
        now = self.clock()
        # LINE's send time (ms), unless absurd: a year out of range would lose the event.
        timestamp = ts / 1000.0 if isinstance(ts, int | float) and 0 < ts < (now + 86_400) * 1000 \
            else now
        token = str(event.get("replyToken") or "")
        kind = str(etype)

        def job(**kw: Any) -> Inbound:  # built once (dataclasses.replace costs a second one)
            return Inbound(self.channel, eid, chat_id, reply_token=token, at=timestamp,
                           kind=kind, **kw)

        def incoming(**kw: Any) -> Incoming:
            return Incoming(
                channel=self.channel, user_id=user_id, chat_id=chat_id,
                event_id=eid, received_at=datetime.fromtimestamp(timestamp, UTC),
                is_group=is_group, **kw,
            )  # fmt: skip

        if etype == "message":
            message = event.get("message") or {}
            mtype = message.get("type")
            if mtype == "text":
                text = str(message.get("text") or "")
                if is_group:
                    addressed = _addressed_text(text, message.get("mention"))
                    if addressed is None:
                        return None
                    text = addressed
                return job(incoming=incoming(text=text))
            if is_group:
                return None
            return job(incoming=incoming(kind="unsupported"))
        if etype == "postback":
            data = str((event.get("postback") or {}).get("data") or "")
            return job(incoming=incoming(action=data) if data else incoming(text=""))
        if etype == "follow":
            return job(incoming=incoming(kind="follow"))
        if etype == "unfollow":
            self.private_chats.note(user_id, False)
            return job(incoming=incoming(kind="unfollow"), answer=False)
        if etype == "join":
            return job(fixed=GROUP_HELLO)
        return None  # leave, memberJoined/Left, unsend, videoPlayComplete, beacon, ...

    # ------------------------------------------------------------------ delivery

    async def deliver(self, item: Inbound, replies: list[Reply], *, replay: bool) -> str:
        """Send the replies for one event: private ones of a group event to the user's 1:1
        chat, the rest by reply token while it is fresh, by push otherwise or after."""
        if item.incoming is not None and item.incoming.is_group:
            replies = await self._divert_private(item, replies)
        if any(r.open_private for r in replies):
            await self._ensure_basic_id()
        messages = self.render(replies, owner=item.incoming.user_id if item.incoming else "")
        return await self._send_for(item, messages, replay=replay)

    async def _divert_private(self, job: Inbound, replies: list[Reply]) -> list[Reply]:
        """Push the private replies of a group event to the user's 1:1 chat; the group gets
        "sent privately", or a link to open the 1:1 chat when the push is refused."""
        public, private = split_private(replies)
        if not private:
            return public
        assert job.incoming is not None
        user = job.incoming.user_id
        sent = False
        if self.private_chats.worth_trying(user):
            sent = True
            batches = chunked(self.render(private, owner=user), MAX_MESSAGES)
            for i, batch in enumerate(batches):
                sent = await self.push(user, batch, label=f"{job.event_id}/private",
                                       retry_key=_retry_key(job, f"private/{i}")) and sent
            self.private_chats.note(user, sent)
        _LOG.info("LINE event %s: %d private reply(ies) %s", job.event_id, len(private),
                  "pushed to the 1:1 chat" if sent else "withheld from the group")
        return [*public, *group_notice(sent, self.channel, private,
                                       pressed=bool(job.incoming.action))]

    def send_mode(self, item: Inbound) -> str:
        """"reply" while the reply token is fresh, else "push" (the sending mark)."""
        fresh = self.clock() - item.at < self.reply_window
        return "reply" if item.reply_token and fresh else "push"

    async def _send_for(self, job: Inbound, messages: Sequence[Message], *,
                        replay: bool) -> str:
        batches = chunked(messages, MAX_MESSAGES)
        how = "push"
        fresh = self.clock() - job.at < self.reply_window
        if job.prior == "reply" and not fresh:
            # The last attempt replied (or was about to) and its token is stale now: a push
            # could answer a second time, and LINE cannot tell (no retry key on replies).
            _LOG.warning("LINE event %s may have been answered before the restart: "
                         "not pushed a second time", job.event_id)
            return "not sent twice"
        if job.reply_token and fresh and batches:
            sent = await self._reply(job, batches[0])
            if sent is None and (replay or job.prior):
                # A fresh token refused after a restart was used by the last run: answered.
                _LOG.info("LINE event %s was answered before the restart", job.event_id)
                return "answered before the restart"
            if sent:
                batches = batches[1:]
                how = "reply"
        elif job.reply_token:
            _LOG.info("LINE event %s is %.0f s old: push instead of reply", job.event_id,
                      self.clock() - job.at)
        for i, batch in enumerate(batches):
            ok = await self.push(job.to, batch, label=job.event_id,
                                 retry_key=_retry_key(job, f"push/{i}"))
            if how == "reply":
                how = "reply+push"
            if not ok:
                return "failure"
        return how

    async def _reply(self, job: Inbound, batch: list[Message]) -> bool | None:
        """Reply with the token. None when the token was refused, False when it will be stale
        before a retry (push instead), True when done (or failed for good)."""

        def wait(attempt: int, outcome: Outcome) -> float | None:
            seconds = _retry_wait(outcome, attempt)
            left = self.reply_window - (self.clock() - job.at)
            return None if seconds is None or seconds >= left else seconds

        unknown = False  # an attempt whose answer was lost may have gone through

        async def attempt() -> Outcome:
            nonlocal unknown
            outcome = await self.api.reply(job.reply_token, batch)
            unknown = unknown or (outcome.kind == "retry" and not outcome.status)
            return outcome

        outcome = await with_retries(attempt, 3, wait)
        if outcome.kind == "ok":
            self.stats["replies"] += 1
            return True
        if outcome.kind == "failed" and outcome.status == 400 \
                and "reply token" in outcome.detail.lower():
            if unknown:  # our own earlier try used the token: answered, do not push
                _LOG.info("LINE event %s: reply went through on an earlier try",
                          job.event_id)
                self.stats["replies"] += 1
                return True
            _LOG.info("LINE event %s: reply token refused", job.event_id)
            return None
        stale = self.reply_window - (self.clock() - job.at) <= (outcome.retry_after or 0.5)
        if outcome.kind == "retry" and (stale or not unknown):
            # The token will be stale before we may retry, or LINE refused every try (429/5xx:
            # nothing delivered): push, whose event-derived retry key never delivers twice.
            _LOG.warning("LINE reply for event %s not sent (%s): pushing instead",
                         job.event_id, outcome.detail)
            return False
        _LOG.error("LINE reply for event %s failed: %s", job.event_id, outcome.detail)
        self.stats["failures"] += 1
        return True  # not retriable: pushing would likely fail the same way

    async def push(self, to: str, messages: Sequence[Message], *, label: str = "-",
                   retry_key: str = "") -> bool:
        """Push up to five messages to a user or group, retrying 429/5xx with one retry key."""
        key = retry_key or str(uuid.uuid4())
        outcome = await with_retries(lambda: self.api.push(to, messages, key), 4,
                                     lambda attempt, o: _retry_wait(o, attempt))
        if outcome.kind == "ok":
            self.stats["pushes"] += 1
            return True
        _LOG.error("LINE push for event %s failed: %s", label, outcome.detail)
        self.stats["failures"] += 1
        return False

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> bool:
        """Push replies to a user or group outside of any event (notices); True when sent."""
        ok = True
        for batch in chunked(self.render(replies), MAX_MESSAGES):
            ok = await self.push(chat_id, batch, label="send") and ok
        return ok

    # ------------------------------------------------------------------ rendering

    def render(self, replies: Sequence[Reply], *, owner: str = "") -> list[Message]:
        """LINE messages for replies: texts split at 5,000 characters, files as signed links
        (counted against ``owner``'s link quota), choices as quick replies on the last message
        (LINE shows only the last one's)."""
        parts: list[tuple[str, tuple[Choice, ...]]] = []
        for r in replies:
            text = r.text
            if r.open_private:
                url = self.private_chat_url()
                text += f"\n{url or NO_PRIVATE_LINK}"
            if r.file is not None:
                url = self.vault.link(r.file, owner=f"line:{owner}" if owner else "")
                minutes = self.vault.ttl // 60
                text += "\n\n" + file_link_text(r.file.filename, minutes, url)
            if r.link:
                text += f"\n{r.link}"
            parts.append((text, r.choices))
        return render_parts(parts)


__all__ = ["LineAdapter", "quick_reply", "signature"]


def _retry_key(item: Inbound, part: str) -> str:
    return str(uuid.uuid5(_RETRY_NS, f"{item.key}/{part}"))


def _addressed_text(text: str, mention: Any) -> str | None:
    """The text addressed to the bot in a group (mention removed), or None if not addressed."""
    mentionees = mention.get("mentionees", []) if isinstance(mention, dict) else []
    own = [m for m in mentionees if isinstance(m, dict) and m.get("isSelf")]
    if own:
        out = text
        for m in sorted(own, key=lambda m: -int(m.get("index", 0))):
            i, n = int(m.get("index", 0)), int(m.get("length", 0))
            out = out[:i] + out[i + n:]
        return out.strip()
    stripped = text.lstrip()
    if stripped.startswith("/"):
        return stripped
    if stripped.startswith(CALL_PREFIXES[0]):
        return stripped[len(CALL_PREFIXES[0]):].lstrip(" ,:").strip()
    others_first = any(int(m.get("index", -1)) == len(text) - len(stripped)
                       for m in mentionees if isinstance(m, dict))
    if stripped.startswith(CALL_PREFIXES[1]) and not others_first:  # typed "@บอท", no real tag
        _, _, rest = stripped.partition(" ")
        return rest.strip()
    return None


def _retry_wait(outcome: Outcome, attempt: int) -> float | None:
    """Seconds to wait before retrying a failed call, or None when it must not be retried."""
    if outcome.kind != "retry":
        return None
    if outcome.status == 429:
        return min(outcome.retry_after, 60.0) if outcome.retry_after is not None \
            else 1.0 * (attempt + 1)
    return 0.5 * (attempt + 1)
