"""Telegram channel: python-telegram-bot driven from our loop, Updates in, Replies out."""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import (
    TelegramError,
)
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.core.contract import Choice, Incoming, Reply
from bot.core.greetings import GROUP_HELLO
from handlers.line.client import Outcome, with_retries
from handlers.pipeline import Busy, Inbound, Pipeline
from handlers.private_chats import PrivateChats, group_notice, split_private
from handlers.settings import Settings
from handlers.telegram.callbacks import CallbackIds
from handlers.telegram.client import (
    MAX_CAPTION,
    Pacer,
    TelegramClient,
    keyboard,
    text_payloads,
)
from handlers.telegram.menu import command_menu

_LOG = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
SEND_RATE = 30.0  # messages per second, the Bot API's broadcast limit
REQUEST_TIMEOUT = 15.0
# Polling: a full backlog is waited out (the update cannot be redelivered), first for this long
# between tries, doubling up to the second figure.
POLL_RETRY_FIRST = 0.05
POLL_RETRY_MAX = 2.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")


class TelegramAdapter:
    """The Bot API side of the bot, on python-telegram-bot's manual lifecycle.

    Updates come from our own aiohttp route (webhook mode, TELEGRAM_WEBHOOK_SECRET set) or from
    PTB's updater (long polling). Each Update is translated into an Inbound and handed to the
    pipeline (journal, order, engine); PTB's AIORateLimiter paces sends and retries 429.
    """

    channel = "telegram"

    def __init__(self, settings: Settings, pipeline: Pipeline, *, poll_interval: float = 0.0,
                 staff_chats: Sequence[int] = (), max_retries: int = 3,
                 callbacks: CallbackIds | None = None):
        self.settings = settings
        self.pipeline = pipeline
        self.flow = pipeline.flow
        self.poll_interval = poll_interval
        # The menus: the engine's own commands, so they cannot fall behind them. Everyone sees
        # the clerk commands; staff (``staff_chats``, see menu.staff_chats) see every command.
        self.commands = command_menu(pipeline.flow.engine.commands(), staff=False)
        self.staff_commands = command_menu(pipeline.flow.engine.commands())
        self.staff_chats = tuple(staff_chats)
        self.max_retries = max_retries
        self.webhook_mode = settings.telegram_webhook
        self.callbacks = callbacks or CallbackIds()
        self.username = ""
        self.bot_id = 0
        self.stats = {"updates": 0, "sent": 0, "failures": 0}
        self.private_chats = PrivateChats()
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._client: TelegramClient | None = None
        self.pacer = Pacer(SEND_RATE)
        pipeline.register(self)

    def __repr__(self) -> str:
        return f"TelegramAdapter(mode={'webhook' if self.webhook_mode else 'polling'})"

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook_mode else "polling"

    # ------------------------------------------------------------------ lifecycle

    def build_application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """The PTB Application: our base URL (token appended), rate limiter, no job queue."""
        base = self.settings.telegram_api_base
        builder = (
            Application.builder()
            .token(self.settings.telegram_bot_token)
            .base_url(base)
            .base_file_url(re.sub(r"/bot$", "/file/bot", base))
            .job_queue(None)
            .connection_pool_size(64)
        )
        if self.webhook_mode:
            builder = builder.updater(None)
        return builder.build()

    @property
    def app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            raise RuntimeError("TelegramAdapter.start() has not run")
        return self._app

    @property
    def bot(self) -> Bot:
        return self.app.bot

    @property
    def api(self) -> TelegramClient:
        """The outbound client (every send goes through it; PTB only receives)."""
        if self._client is None:
            raise RuntimeError("TelegramAdapter.start() has not run")
        return self._client

    async def _set_menus(self, bot: Bot) -> None:
        """Everyone's command menu (the clerk commands), then every command in the private
        chat of each staff member (a failure is logged: the bot runs without that menu)."""
        try:
            await bot.set_my_commands([BotCommand(c, d) for c, d in self.commands])
        except TelegramError as exc:
            _LOG.warning("Telegram: setMyCommands failed: %s", type(exc).__name__)
        full = [BotCommand(c, d) for c, d in self.staff_commands]
        for chat in self.staff_chats:
            try:
                await bot.set_my_commands(full, scope=BotCommandScopeChat(chat))
            except TelegramError as exc:  # e.g. they never opened a chat with the bot
                _LOG.warning("Telegram: staff menu for chat %s not set: %s", chat,
                             type(exc).__name__)

    async def start(self) -> None:
        """Initialise PTB, set the Thai command menu, then the webhook or start polling."""
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT, connect=10))
        self._client = TelegramClient(self._http, self.settings.telegram_api_base,
                                      self.settings.telegram_bot_token)
        app = self.build_application()
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        await app.initialize()
        self._app = app
        self.username = app.bot.username or ""
        self.bot_id = app.bot.id
        await self._set_menus(app.bot)
        if self.webhook_mode:
            url = f"{self.settings.public_base_url}/telegram/webhook"
            await app.bot.set_webhook(url=url, secret_token=self.settings.telegram_webhook_secret,
                                      allowed_updates=list(ALLOWED_UPDATES))
            await app.start()
            _LOG.info("Telegram: on (webhook %s), bot @%s", url, self.username)
        else:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=self.poll_interval,
                                            allowed_updates=list(ALLOWED_UPDATES),
                                            error_callback=self._on_poll_error)
            _LOG.info("Telegram: on (long polling), bot @%s", self.username)

    async def stop_receiving(self) -> None:
        """Stop polling and hand the updates already received to our jobs (PTB ``stop``)."""
        app = self._app
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()

    async def close(self) -> None:
        """Stop PTB and close its HTTP clients (after the jobs have drained)."""
        app = self._app
        if app is None:
            return
        await self.stop_receiving()
        await app.shutdown()
        self._app = None
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    def _on_poll_error(self, exc: TelegramError) -> None:
        _LOG.warning("Telegram polling: %s", type(exc).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        uid = update.update_id if isinstance(update, Update) else "-"
        _LOG.error("Telegram update %s failed: %s", uid, type(context.error).__name__)

    # ------------------------------------------------------------------ webhook

    async def webhook(self, request: web.Request) -> web.Response:
        """``POST /telegram/webhook``: 403 unless the secret header matches, else 200."""
        if not self.webhook_mode:
            return web.json_response({"error": "webhook mode is off"}, status=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(),
                                   self.settings.telegram_webhook_secret.encode()):
            _LOG.warning("Telegram webhook with a wrong secret refused")
            return web.json_response({"error": "forbidden"}, status=403)
        if (request.content_length or 0) > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY,
                                                actual_size=request.content_length or 0)
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            update = Update.de_json(data, self.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            _LOG.warning("Telegram webhook body is not an Update")
            return web.json_response({"error": "not an update"}, status=400)
        if update is None:
            return web.json_response({"error": "not an update"}, status=400)
        try:
            await self._accept(update)
        except Busy:
            return web.json_response({"error": "busy"}, status=503)
        except OSError:
            return web.json_response({"error": "cannot save the update"}, status=503)
        return web.json_response({})

    # ------------------------------------------------------------------ updates

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Polling: PTB hands every Update here.

        Telegram never sends a polled update again (the next poll confirms it), so a full
        backlog or an inbox that cannot be written is waited out here, where a webhook would
        answer 503: dropping the update would lose what the clerk sent. PTB hands updates
        over one at a time, so the later ones wait in its queue meanwhile.
        """
        delay = POLL_RETRY_FIRST
        while True:
            try:
                await self._accept(update)
                return
            except (Busy, OSError) as exc:
                app = self._app
                if app is None or not app.running:  # shutting down: nothing will take it now
                    _LOG.error("Telegram update %s not saved at shutdown: %s", update.update_id,
                               type(exc).__name__)
                    return
                _LOG.warning("Telegram update %s waits (%s), trying again in %.1f s",
                             update.update_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, POLL_RETRY_MAX)

    async def _accept(self, update: Update) -> None:
        try:
            item = self.translate(update)
        except Exception:  # one bad update never stops the others
            _LOG.exception("Telegram update %s could not be read", update.update_id)
            return
        if item is not None:
            await self.pipeline.accept([item])

    @property
    def bot_name(self) -> str:
        return self.username

    def translate(self, update: Update) -> Inbound | None:
        """The Inbound for an Update, or None when it needs nothing from us."""
        self.stats["updates"] += 1
        item = self.plan(update)
        if item is None:
            _LOG.debug("Telegram update %s ignored", update.update_id)
        return item

    def plan(self, update: Update) -> Inbound | None:
        """The Inbound for an Update (see :meth:`translate`)."""
        uid = str(update.update_id)
        now = time.time()
        cq = update.callback_query
        if cq is not None:
            chat = cq.message.chat if cq.message is not None else None
            chat_id = str(chat.id if chat is not None else cq.from_user.id)
            action = self.callbacks.decode(cq.data or "")
            is_group = chat is not None and chat.type != "private"
            inc = Incoming(self.channel, str(cq.from_user.id), chat_id, action=action or None,
                           text="" if not action else None, event_id=uid,
                           received_at=datetime.now(UTC), is_group=is_group,
                           display_name=cq.from_user.full_name)
            return Inbound(self.channel, uid, chat_id, inc, callback_id=cq.id, at=now,
                           kind="callback")
        member = update.my_chat_member
        if member is not None:
            chat_id = str(member.chat.id)
            status = member.new_chat_member.status
            if member.chat.type == "private":
                self.private_chats.note(str(member.from_user.id),
                                        status not in ("kicked", "left"))
                if status in ("kicked", "left"):
                    inc = Incoming(self.channel, str(member.from_user.id), chat_id,
                                   kind="unfollow", event_id=uid)
                    return Inbound(self.channel, uid, chat_id, inc, answer=False, at=now,
                                   kind="unfollow")
                return None
            if status in ("member", "administrator") and \
                    member.old_chat_member.status in ("left", "kicked"):
                return Inbound(self.channel, uid, chat_id, fixed=GROUP_HELLO, at=now,
                               kind="join")
            return None
        msg = update.message
        if msg is None or msg.from_user is None or \
                (msg.from_user.is_bot and msg.sender_chat is None):
            return None
        chat_id = str(msg.chat.id)
        is_group = msg.chat.type != "private"
        user = msg.from_user
        # A message sent as a chat (an anonymous group admin, a linked channel) carries a
        # placeholder from_user shared by everyone doing the same: anonymous, not a user.
        user_id = "" if msg.sender_chat is not None else str(user.id)
        if not is_group:
            self.private_chats.note(user_id, True)

        # forward_origin since Bot API 7.0; forward_date / forward_from before it.
        forwarded = msg.forward_origin is not None or "forward_date" in msg.api_kwargs

        def incoming(text: str | None = None, kind: str = "message") -> Inbound:
            inc = Incoming(self.channel, user_id, chat_id, text=text, kind=kind,
                           event_id=uid, received_at=msg.date, is_group=is_group,
                           display_name=user.full_name, forwarded=forwarded)
            return Inbound(self.channel, uid, chat_id, inc, at=now, kind="message")

        if msg.text is not None:
            text = msg.text
            if is_group:
                addressed = self._addressed_text(msg)
                if addressed is None:
                    return None
                text = addressed
            return incoming(text)
        if is_group or msg.left_chat_member is not None or msg.new_chat_members:
            return None  # our own arrival in a group is answered from my_chat_member
        return incoming(kind="unsupported")

    def _addressed_text(self, msg: Message) -> str | None:
        """Group text addressed to us (a command, a mention or a reply to us), or None."""
        text = msg.text or ""
        name = self.username.lower()
        stripped = text.lstrip()
        if stripped.startswith("/"):
            head, _, rest = stripped.partition(" ")
            cmd, at, target = head.partition("@")
            if at and target.lower() != name:
                return None  # a command for another bot
            return f"{cmd} {rest}".strip()
        if name and _mentions(msg, name):
            cleaned = re.sub(rf"@{re.escape(self.username)}\b", " ", text, flags=re.I)
            return " ".join(cleaned.split())
        reply_to = msg.reply_to_message
        if reply_to is not None and reply_to.from_user is not None and \
                reply_to.from_user.id == self.bot_id:
            return text.strip()
        return None

    async def _answer_callback(self, item: Inbound) -> None:
        if not item.callback_id:
            return
        outcome = await self.api.call("answerCallbackQuery",
                                      {"callback_query_id": item.callback_id})
        if outcome.kind != "ok":  # a stale query must not stop the answer itself
            _LOG.info("Telegram update %s: answerCallbackQuery failed: %s", item.event_id,
                      outcome.detail)

    def send_mode(self, item: Inbound) -> str:
        """The sending mark: Telegram has one way to send."""
        return "send"

    async def deliver(self, item: Inbound, replies: list[Reply], *, replay: bool) -> str:
        """Stop a button's spinner, send private replies of a group update to the user's 1:1
        chat and the rest to the chat. Telegram has no idempotency key: an update whose last
        attempt had started sending (``item.prior``) is not sent again (at most once)."""
        if item.prior:
            _LOG.warning("Telegram update %s may have been answered before the restart: "
                         "not sent a second time", item.event_id)
            return "not sent twice"
        await self._answer_callback(item)
        if not replies:
            return "nothing to send"
        if item.incoming is not None and item.incoming.is_group:
            replies = await self._divert_private(item.incoming, replies, item.event_id)
        ok = await self.send(item.to, replies, label=item.event_id)
        return "sent" if ok else "NOT sent"

    async def _divert_private(self, incoming: Incoming, replies: list[Reply],
                              label: str) -> list[Reply]:
        """Send the private replies of a group update to the user's 1:1 chat (a bot may write
        there only after the user started it); the group gets "sent privately" or a link."""
        public, private = split_private(replies)
        if not private:
            return public
        user = incoming.user_id
        sent = False
        if self.private_chats.worth_trying(user):
            sent = await self.send(user, private, label=f"{label}/private")
            self.private_chats.note(user, sent)
        _LOG.info("Telegram update %s: %d private reply(ies) %s", label, len(private),
                  "sent to the 1:1 chat" if sent else "withheld from the group")
        return [*public, *group_notice(sent, self.channel, private,
                                       pressed=bool(incoming.action))]

    def private_chat_url(self) -> str:
        """``https://t.me/<bot>?start=private``: opens the 1:1 chat with a Start button."""
        return f"https://t.me/{self.username}?start=private" if self.username else ""

    # ------------------------------------------------------------------ sending

    def keyboard(self, choices: Sequence[Choice]) -> dict[str, Any] | None:
        """Choices as inline buttons (long actions as short callback ids)."""
        return keyboard(choices, self.callbacks.encode)

    async def send(self, chat_id: str, replies: Sequence[Reply], *, label: str = "send") -> bool:
        """Send replies to a chat: split texts, buttons, files as documents. True when all sent."""
        for r in replies:
            text = r.text + (f"\n{r.link}" if r.link else "")
            if r.open_private and self.private_chat_url():
                text += f"\n{self.private_chat_url()}"
            calls: list[Callable[[], Awaitable[Outcome]]] = []
            blob = r.file
            if blob is not None:
                caption = text if len(text) <= MAX_CAPTION else None
                if caption is None:
                    calls += [functools.partial(self.api.send, p)
                              for p in text_payloads(chat_id, text)]
                calls.append(functools.partial(self.api.send_document, chat_id, blob,
                                               caption=caption,
                                               reply_markup=self.keyboard(r.choices)))
            else:
                calls += [functools.partial(self.api.send, p) for p in
                          text_payloads(chat_id, text, r.choices, self.callbacks.encode)]
            for call in calls:
                outcome = await self._call(call)
                if outcome.kind == "blocked":
                    _LOG.info("Telegram %s: chat blocked the bot or left", label)
                    self.stats["failures"] += 1
                    return False
                if outcome.kind != "ok":
                    _LOG.error("Telegram %s: sending failed: %s", label, outcome.detail)
                    self.stats["failures"] += 1
                    return False
        return True

    async def _call(self, call: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """One Bot API call, paced; 429 (after its retry_after), 5xx and refused connections
        retried. A timeout is not retried: the message may have been delivered."""

        def wait(attempt: int, outcome: Outcome) -> float:
            if outcome.retry_after is not None:
                self.pacer.pause(outcome.retry_after)
                return outcome.retry_after
            return 0.5 * (attempt + 1)

        async def once() -> Outcome:
            await self.pacer.slot()
            return await call()

        outcome = await with_retries(once, self.max_retries, wait)
        if outcome.kind == "ok":
            self.stats["sent"] += 1
        return outcome


def _mentions(msg: Message, name: str) -> bool:
    """Whether the text mentions @``name`` (lower case): by the message's ``mention``
    entities when it has them, else as a whole word (``@elaas_test_bot2`` is another bot)."""
    mentions = msg.parse_entities([MessageEntity.MENTION])  # UTF-16 offsets handled by PTB
    if mentions:
        return any(m.lower() == f"@{name}" for m in mentions.values())
    return re.search(rf"(?<![\w@])@{re.escape(name)}(?!\w)", msg.text or "", re.I) is not None
