"""The one LINE Messaging API client and renderer: replies, pushes and broadcasts all use it."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from tenacity import AsyncRetrying, RetryCallState, retry_if_result

from bot.core.contract import MAX_CHOICES, Choice
from bot.core.splitting import split_text
from bot.core.thaifmt import shorten

MAX_TEXT = 5000
MAX_MESSAGES = 5
MAX_LABEL = 20
MAX_DATA = 300
REQUEST_TIMEOUT = 15.0
SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding")

Message = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What one API call did: ``ok``, ``retry`` (after ``retry_after`` s if known),
    ``blocked``, ``failed``, ``unknown`` (may have been sent) or ``broken`` (bad token)."""

    kind: str
    retry_after: float | None = None
    detail: str = ""
    status: int = 0


def retry_after_header(value: str | None) -> float | None:
    """The seconds of a ``Retry-After`` header, or None."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


async def with_retries(call: Callable[[], Awaitable[Outcome]], attempts: int,
                       wait: Callable[[int, Outcome], float | None]) -> Outcome:
    """``call()`` until its outcome is not ``retry``, at most ``attempts`` times (tenacity).

    ``wait(attempt, outcome)`` gives the pause before the next try, or None to give up at
    once; the last outcome is returned either way.
    """
    first = await call()
    if first.kind != "retry":  # nearly every call: no retry machinery (~4% of CPU per event)
        return first
    replay = [first]

    async def again() -> Outcome:  # tenacity's first attempt is the one just made
        return replay.pop() if replay else await call()

    def last(state: RetryCallState) -> Outcome:
        assert state.outcome is not None
        result: Outcome = state.outcome.result()
        return result

    def stop(state: RetryCallState) -> bool:
        n = state.attempt_number
        return n >= attempts or wait(n - 1, last(state)) is None

    def pause(state: RetryCallState) -> float:
        return wait(state.attempt_number - 1, last(state)) or 0.0

    retrying = AsyncRetrying(stop=stop, wait=pause,
                             retry=retry_if_result(lambda o: o.kind == "retry"),
                             retry_error_callback=last)
    async def once() -> Outcome:  # tenacity awaits only what a coroutine function returns
        return await again()

    result: Outcome = await retrying(once)
    return result


class LineClient:
    """The Messaging API over one aiohttp session: JSON in, :class:`Outcome` out.

    No SDK models on the hot path: building and serialising them cost as much CPU as the
    engine's answer. 409 on a retried push or multicast means LINE took the retry key before:
    the message went out once, so it counts as ``ok``.
    """

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str):
        self.http = http
        self.base = base.rstrip("/")
        self._auth = f"Bearer {token}"
        # Built once: aiohttp turns a plain dict into a CIMultiDict on every request.
        self._headers = CIMultiDict({"Authorization": self._auth,
                                     "Content-Type": "application/json"})

    @classmethod
    def session(cls) -> aiohttp.ClientSession:
        """A session for the client: no proxy lookups (trust_env off), a bounded pool."""
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=32),
            # LINE needs none of aiohttp's automatic User-Agent, Accept and Accept-Encoding
            skip_auto_headers=SKIP_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT, connect=10),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )

    async def post(self, path: str, body: dict[str, Any], *, retry_key: str = "") -> Outcome:
        """POST ``body`` to ``path`` (``/v2/bot/message/reply``, …)."""
        headers = self._headers
        if retry_key:
            headers = headers.copy()
            headers["X-Line-Retry-Key"] = retry_key
        try:
            # The body as bytes (not json=: a str from the serializer, encoded again, in a
            # JsonPayload); the answer read as bytes and decoded only when it is an error
            # (resp.text() looks up the charset of every 200).
            async with self.http.post(self.base + path, data=orjson.dumps(body),
                                      headers=headers) as resp:
                status = resp.status
                retry = retry_after_header(resp.headers.get("Retry-After"))
                raw = await resp.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            # With a retry key a repeat is safe; a reply token is refused if it was used.
            return Outcome("retry", None, f"network: {type(exc).__name__}")
        if status == 200:
            return Outcome("ok", status=status)
        text = raw.decode("utf-8", "replace")
        if status == 409 and retry_key:
            return Outcome("ok", detail="409 retry key already accepted", status=status)
        if status == 429 or status >= 500:
            return Outcome("retry", retry, f"{status}", status=status)
        if status in (401, 403):
            return Outcome("broken", None, f"{status} {text[:200]}", status=status)
        return Outcome("failed", None, f"{status} {text[:200]}", status=status)

    async def reply(self, token: str, messages: Sequence[Message]) -> Outcome:
        return await self.post("/v2/bot/message/reply",
                               {"replyToken": token, "messages": list(messages)})

    async def push(self, to: str, messages: Sequence[Message], retry_key: str) -> Outcome:
        return await self.post("/v2/bot/message/push", {"to": to, "messages": list(messages)},
                               retry_key=retry_key)

    async def multicast(self, to: Sequence[str], messages: Sequence[Message],
                        retry_key: str) -> Outcome:
        return await self.post("/v2/bot/message/multicast",
                               {"to": list(to), "messages": list(messages)},
                               retry_key=retry_key)

    async def bot_info(self) -> dict[str, Any]:
        """GET /v2/bot/info (raises aiohttp errors)."""
        async with self.http.get(self.base + "/v2/bot/info",
                                 headers={"Authorization": self._auth}) as resp:
            resp.raise_for_status()
            data: dict[str, Any] = await resp.json()
            return data


# --------------------------------------------------------------------------- rendering


def text_messages(text: str, choices: Sequence[Choice] = ()) -> list[Message]:
    """Text messages for one text (split at 5,000 units), choices on the last one."""
    pieces = split_text(text, MAX_TEXT)
    out: list[Message] = [{"type": "text", "text": p} for p in pieces]
    if choices:
        out[-1]["quickReply"] = quick_reply(tuple(choices))
    return out


def render_parts(parts: Sequence[tuple[str, tuple[Choice, ...]]]) -> list[Message]:
    """Messages for ``(text, choices)`` parts; LINE shows only the last message's quick
    replies, so the last choices offered are moved onto the last message."""
    messages: list[Message] = []
    last_choices: tuple[Choice, ...] = ()
    for text, choices in parts:
        messages += text_messages(text)
        if choices:
            last_choices = choices
    if messages and last_choices:
        messages[-1] = {**messages[-1], "quickReply": quick_reply(last_choices)}
    return messages


@functools.lru_cache(maxsize=512)
def quick_reply(choices: tuple[Choice, ...]) -> dict[str, Any]:
    """Choices as quick-reply postback buttons; the chat shows the label as if typed.

    Cached (most answers carry the same few menus): callers must not change the result.
    """
    items = []
    for c in choices[:MAX_CHOICES]:
        items.append({"type": "action", "action": {
            "type": "postback", "label": shorten(c.label, MAX_LABEL), "data": c.action[:MAX_DATA],
            "displayText": c.label[:MAX_DATA]}})
    return {"items": items}
