"""The one Telegram Bot API client and renderer: replies, documents and broadcasts all use it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
import orjson

from bot.core.contract import Choice, FileBlob
from bot.core.splitting import split_text
from handlers.line.client import Outcome

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK = 64
_UNREACHABLE_400 = ("chat not found", "user is deactivated", "bot was blocked", "kicked")

Payload = dict[str, Any]


class Pacer:
    """Spaces calls ``1/rate`` seconds apart (no bursts) and honours flood-wait pauses.

    A caller that wakes up more than one interval late (the loop was busy) takes a fresh
    slot instead of firing together with the next ones, so a stall does not turn into a
    burst above the rate (at most twice, so a slow loop cannot starve a caller).
    """

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self._next = 0.0
        self._paused_until = 0.0

    async def slot(self) -> None:
        loop = asyncio.get_running_loop()
        tries = 0
        while True:
            now = loop.time()
            at = max(now, self._next, self._paused_until)
            self._next = at + self.interval
            if at > now:
                await asyncio.sleep(at - now)
            now = loop.time()
            if now < self._paused_until:
                continue  # a flood wait began while we slept
            tries += 1
            if now - at <= self.interval or tries >= 3:
                return

    def pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)


class TelegramClient:
    """``POST {base}{token}/{method}``: JSON bodies (multipart for a document), Outcome out."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str):
        self.http = http
        self.base = f"{base}{token}/"

    async def call(self, method: str, payload: Mapping[str, Any] | aiohttp.FormData) -> Outcome:
        """One Bot API call."""
        try:
            if isinstance(payload, aiohttp.FormData):
                request = self.http.post(self.base + method, data=payload)
            else:
                request = self.http.post(self.base + method, data=orjson.dumps(dict(payload)),
                                         headers={"Content-Type": "application/json"})
            async with request as resp:
                status = resp.status
                try:
                    body: dict[str, Any] = await resp.json(content_type=None)
                except ValueError:
                    body = {}
        except aiohttp.ClientConnectorError as exc:
            return Outcome("retry", None, f"connect: {exc}")  # never left this machine
        except (TimeoutError, aiohttp.ClientError) as exc:
            return Outcome("unknown", None, f"network after send: {type(exc).__name__}")
        desc = str(body.get("description", ""))
        if status == 200 and body.get("ok", True):
            return Outcome("ok", status=status)
        if status == 429 or status >= 500:
            params = body.get("parameters") or {}
            after = params.get("retry_after") if isinstance(params, dict) else None
            return Outcome("retry", float(after) if after is not None else None, f"{status}",
                           status=status)
        if status == 403 or (status == 400 and any(s in desc.lower() for s in _UNREACHABLE_400)):
            return Outcome("blocked", None, f"{status} {desc}", status=status)
        if status in (401, 404):
            return Outcome("broken", None, f"{status} {desc}", status=status)
        return Outcome("failed", None, f"{status} {desc}", status=status)

    async def send(self, payload: Mapping[str, Any]) -> Outcome:
        """``sendMessage``."""
        return await self.call("sendMessage", payload)

    async def send_document(self, chat_id: str, blob: FileBlob, *, caption: str | None,
                            reply_markup: Payload | None) -> Outcome:
        """``sendDocument`` as multipart form data (the file's Thai name kept)."""
        form = aiohttp.FormData(quote_fields=False)  # the Thai file name as UTF-8, not %XX
        form.add_field("chat_id", chat_id)
        if caption is not None:
            form.add_field("caption", caption)
        if reply_markup is not None:
            form.add_field("reply_markup", json.dumps(reply_markup, ensure_ascii=False))
        form.add_field("document", blob.data, filename=blob.filename,
                       content_type=blob.mime_type)
        return await self.call("sendDocument", form)


# --------------------------------------------------------------------------- rendering


def keyboard(choices: Sequence[Choice], encode: Callable[[str], str] | None = None
             ) -> Payload | None:
    """Choices as inline buttons: two per row when the labels are short, else one."""
    if not choices:
        return None
    enc = encode or (lambda a: a[:MAX_CALLBACK])
    buttons = [{"text": c.label, "callback_data": enc(c.action)} for c in choices]
    per_row = 2 if all(len(c.label) <= 14 for c in choices) else 1
    return {"inline_keyboard": [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]}


def text_payloads(chat_id: str, text: str, choices: Sequence[Choice] = (),
                  encode: Callable[[str], str] | None = None) -> list[Payload]:
    """sendMessage bodies for one text (split at 4,096 units), buttons on the last part."""
    out: list[Payload] = [{"chat_id": chat_id, "text": t} for t in split_text(text, MAX_TEXT)]
    markup = keyboard(choices, encode)
    if markup is not None:
        out[-1]["reply_markup"] = markup
    return out
