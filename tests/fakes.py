"""Fake LINE Messaging API and Telegram Bot API servers on 127.0.0.1 that record every call.

They speak real HTTP, return schema-valid bodies (the SDKs validate them), and can be told to
fail: ``fail_next(path_or_method, status, retry_after=…, times=n)`` or a random failure rate.
``rate_limit(per_second)`` makes them answer 429 like the real services when a sender goes
too fast, and FakeLine answers 409 to a repeated ``X-Line-Retry-Key`` as LINE does.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    """One request the fake received."""

    path: str
    method: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 0  # the HTTP status the fake answered (0 while still being handled)


_CALL = web.RequestKey("fake_call", Call)


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    times: int
    description: str


class _FakeBase:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self.fail_rate = 0.0
        self.blocked: set[str] = set()
        self._rng = random.Random(1234)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.delay = 0.0
        self.rate_limited = 0
        self._rate: float | None = None
        self._burst = 0.0
        self._tokens = 0.0
        self._refilled = 0.0

    def rate_limit(self, per_second: float | None, burst: float | None = None) -> None:
        """Answer 429 (``retry_after`` 1) beyond ``per_second`` sends (a token bucket holding
        ``burst``, default one second's worth); None turns the limit off."""
        self._rate = per_second
        self._burst = float(burst if burst is not None else (per_second or 0))
        self._tokens = self._burst
        self._refilled = time.monotonic()

    def _over_rate(self) -> bool:
        if not self._rate:
            return False
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return False
        self.rate_limited += 1
        return True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, key: str, status: int, *, retry_after: int | None = None, times: int = 1,
                  description: str = "fake failure") -> None:
        """Make the next ``times`` calls to ``key`` (path or Telegram method) fail."""
        failure = _Failure(status, retry_after, times, description)
        self._failures.setdefault(key, []).append(failure)

    def _take_failure(self, key: str) -> _Failure | None:
        queue = self._failures.get(key)
        if not queue:
            return None
        f = queue[0]
        f.times -= 1
        if f.times <= 0:
            queue.pop(0)
        return f

    def calls_to(self, suffix: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(suffix)]

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._record_status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record_status(self, request: web.Request) -> web.StreamResponse:
        resp = await self._dispatch(request)
        call = request.get(_CALL)
        if isinstance(call, Call):
            call.status = resp.status
        return resp

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


class FakeLine(_FakeBase):
    """Enough of api.line.me for reply, push, multicast, loading animation and rich menus."""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        path = request.path
        call = Call(path, request.method, dict(request.headers), body)
        self.calls.append(call)
        request[_CALL] = call
        key = request.headers.get("X-Line-Retry-Key")
        if key:
            # LINE accepts a retry key once: decide at arrival, so a copy sent while the first
            # is still being handled is refused too.
            if key in self.retry_keys:
                return web.json_response(
                    {"message": "The retry key is already accepted",
                     "sentMessages": [{"id": "1", "quoteToken": "q"}]}, status=409,
                    headers={"x-line-accepted-request-id": self.retry_keys[key]})
            failure = self._pick_failure(path)
            if failure is None and request.headers.get("Authorization", "") not in ("",
                                                                                  "Bearer "):
                self.retry_keys[key] = f"req-{len(self.retry_keys) + 1}"
            if self.delay:
                await asyncio.sleep(self.delay)
        else:
            if self.delay:
                await asyncio.sleep(self.delay)
            failure = self._pick_failure(path)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response({"message": failure.description}, status=failure.status,
                                     headers=headers)
        if request.headers.get("Authorization", "") in ("", "Bearer "):
            return web.json_response({"message": "Authentication failed"}, status=401)
        if path.endswith("/message/reply") and self.single_use_tokens:
            token = (body or {}).get("replyToken", "")
            if token in self.used_tokens:  # LINE accepts a reply token once
                return web.json_response({"message": "Invalid reply token"}, status=400)
            self.used_tokens.add(token)
            if token in self.lose_answers:  # delivered, but the caller never hears so
                self.lose_answers.discard(token)
                if request.transport is not None:
                    request.transport.close()
                return web.json_response({})
        if path.endswith("/message/reply") or path.endswith("/message/push"):
            to = (body or {}).get("to", "")
            if to in self.blocked or (path.endswith("/push") and to.startswith("U")
                                      and self.friends is not None and to not in self.friends):
                return web.json_response({"message": "Failed to send messages"}, status=400)
            n = len((body or {}).get("messages", []))
            return web.json_response({"sentMessages": [{"id": str(i + 1), "quoteToken": "q"}
                                                       for i in range(max(n, 1))]})
        if path.endswith("/message/multicast"):
            return web.json_response({})
        if path.endswith("/richmenu"):
            return web.json_response({"richMenuId": "richmenu-fake-1"})
        if path.endswith("/v2/bot/info"):
            return web.json_response({"userId": "Ubot0000000000000000000000000000",
                                      "basicId": self.basic_id, "displayName": "e-LAAS",
                                      "chatMode": "bot", "markAsReadMode": "auto"})
        return web.json_response({})

    def __init__(self) -> None:
        super().__init__()
        self.retry_keys: dict[str, str] = {}
        # True: a reply token used once is refused ("Invalid reply token"), as LINE does.
        self.single_use_tokens = False
        self.used_tokens: set[str] = set()
        # Reply tokens whose reply goes through but whose HTTP answer is lost (connection cut).
        self.lose_answers: set[str] = set()
        self.basic_id = "@123abcde"
        # Users who added the account as a friend; a push to any other user id is refused
        # (400) as LINE does. None: every user is a friend.
        self.friends: set[str] | None = None

    def _pick_failure(self, path: str) -> _Failure | None:
        failure = self._take_failure(path)
        if failure is None and self.fail_rate and self._rng.random() < self.fail_rate:
            failure = _Failure(500, None, 1, "random failure")
        if failure is None and path.endswith("/message/multicast") and self._over_rate():
            failure = _Failure(429, None, 1, "The API rate limit has been exceeded.")
        return failure

    def multicast_recipients(self) -> list[str]:
        """User ids of every multicast LINE accepted (answered 200), one per delivery."""
        return [u for c in self.calls if c.path.endswith("/message/multicast") and c.status == 200
                for u in (c.body or {}).get("to", [])]

    def texts_to(self, user_or_token: str) -> list[str]:
        """Texts sent by reply token, push ``to`` or multicast membership."""
        out: list[str] = []
        for c in self.calls:
            b = c.body if isinstance(c.body, dict) else {}
            targets = {b.get("replyToken"), b.get("to")} | set(
                b.get("to", []) if isinstance(b.get("to"), list) else []
            )
            if user_or_token in targets:
                out += [m.get("text", "") for m in b.get("messages", [])
                        if m.get("type") == "text"]
        return out


class FakeTelegram(_FakeBase):
    """Enough of the Bot API for python-telegram-bot: getMe, sendMessage, sendDocument, …"""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[dict[str, Any]] = []
        self._message_id = 0
        # Users who started a 1:1 chat with the bot; sending to any other user id (a
        # positive chat id) is refused (403) as Telegram does. None: everybody started one.
        self.started: set[str] | None = None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        method = parts[-1] if parts else ""
        body: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    files[part.name or ""] = (part.filename,  # type: ignore[union-attr]
                                              await part.read())  # type: ignore[union-attr]
                else:
                    body[part.name or ""] = (await part.read()).decode()  # type: ignore[union-attr]
        elif ctype.startswith("application/json"):
            body = await request.json()
        else:
            body = dict(await request.post())  # type: ignore[arg-type]
        call = Call(request.path, method, dict(request.headers), body, files=files)
        self.calls.append(call)
        request[_CALL] = call
        if self.delay:
            await asyncio.sleep(self.delay)
        failure = self._take_failure(method)
        if failure is None and self.fail_rate and method.startswith("send") and \
                self._rng.random() < self.fail_rate:
            failure = _Failure(500, None, 1, "Internal Server Error")
        if failure is None and method.startswith("send") and self._over_rate():
            failure = _Failure(429, 1, 1, "Too Many Requests")
        if failure is None and str(body.get("chat_id", "")) in self.blocked:
            failure = _Failure(403, None, 1, "Forbidden: bot was blocked by the user")
        chat = str(body.get("chat_id", ""))
        if failure is None and self.started is not None and chat.isdigit() and \
                chat not in self.started and method.startswith("send"):
            failure = _Failure(403, None, 1, "Forbidden: bot can't initiate conversation "
                               "with a user")
        if failure is not None:
            payload: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                       "description": failure.description}
            if failure.retry_after:
                payload["parameters"] = {"retry_after": failure.retry_after}
                payload["description"] = f"Too Many Requests: retry after {failure.retry_after}"
            return web.json_response(payload, status=failure.status)
        return web.json_response({"ok": True, "result": self._result(method, body, files)})

    def _result(self, method: str, body: dict[str, Any],
                files: dict[str, tuple[str, bytes]]) -> Any:
        if method == "getMe":
            return {"id": 999, "is_bot": True, "first_name": "eLAAS", "username": "elaas_test_bot",
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if method == "getUpdates":
            out, self.updates = self.updates, []
            return out
        if method in ("sendMessage", "sendDocument", "editMessageText"):
            self._message_id += 1
            chat_id = int(str(body.get("chat_id", "0")) or 0)
            msg: dict[str, Any] = {"message_id": self._message_id, "date": int(time.time()),
                                   "chat": {"id": chat_id, "type": "private"}}
            if method == "sendDocument":
                name, data = files.get("document", ("file", b""))
                msg["document"] = {"file_id": f"f{self._message_id}", "file_unique_id": "u",
                                   "file_name": name, "file_size": len(data)}
            else:
                msg["text"] = body.get("text", "")
            return msg
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True

    def delivered_chats(self) -> list[str]:
        """Chat ids of every sendMessage answered 200, one per message."""
        return [str(c.body.get("chat_id")) for c in self.calls
                if c.method == "sendMessage" and c.status == 200]

    def documents_to(self, chat_id: int | str) -> list[str]:
        """File names of every sendDocument to ``chat_id`` answered 200."""
        return [c.files["document"][0] for c in self.calls if c.method == "sendDocument"
                and str(c.body.get("chat_id")) == str(chat_id) and c.status == 200]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        return [str(c.body.get("text", "")) for c in self.calls
                if c.method == "sendMessage" and str(c.body.get("chat_id")) == str(chat_id)]


async def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.01) -> Any:
    """Poll ``predicate()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def line_signature(secret: str, body: bytes) -> str:
    """``x-line-signature`` for a test body: base64(HMAC-SHA256(secret, body))."""
    import base64
    import hashlib
    import hmac

    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
