"""The throughput benches' side of the wire: a lean webhook poster and a lean fake LINE API.

Both run in the bench process, which shares the machine's cores with the instances it
measures (``bench/bench_scale.py``): what they cost is CPU the instances do not get, alike for
every mode. aiohttp's client and server cost several times what these do per request, so they
are plain asyncio streams and protocols:

* :class:`Poster` sends webhooks as LINE does (the body, its signature, the content type) over
  keep-alive connections and reads each answer whole.
* :class:`LeanLine` answers the calls ``serve`` makes to LINE (reply, push, bot info, ...) as
  ``tests.fakes.FakeLine`` does when nothing is set to fail, and records every call the same
  way (``calls``: :class:`tests.fakes.Call`, with the status answered). It has none of
  FakeLine's failure modes (no retry keys, no single-use reply tokens): the kill test uses
  FakeLine.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.fakes import Call


class Poster:
    """Keep-alive HTTP/1.1 POSTs of webhooks, a pool of idle connections per instance."""

    def __init__(self, bases: list[str]) -> None:
        self._idle: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {
            b: [] for b in bases}

    async def post(self, base: str, path: str, body: bytes, signature: str) -> int:
        """POST ``body``; the HTTP status."""
        host, _, port = base.removeprefix("http://").partition(":")
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: "
                f"application/json\r\nx-line-signature: {signature}\r\nContent-Length: "
                f"{len(body)}\r\n\r\n").encode()
        for attempt in (0, 1):  # an idle connection the server closed: once more, fresh
            idle = self._idle[base]
            fresh = not idle
            reader, writer = (await asyncio.open_connection(host, int(port))) if fresh \
                else idle.pop()
            try:
                writer.write(head + body)
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed")
                status = int(status_line.split()[1])
                length, chunked, close = 0, False, False
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    name, value = name.strip().lower(), value.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "transfer-encoding" and "chunked" in value:
                        chunked = True
                    elif name == "connection" and value == "close":
                        close = True
                if chunked:
                    while (size := int((await reader.readline()).split(b";")[0], 16)):
                        await reader.readexactly(size + 2)
                    await reader.readline()
                elif length:
                    await reader.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if fresh or attempt:
                    raise
                continue
            if close:
                writer.close()
            else:
                self._idle[base].append((reader, writer))
            return status
        raise AssertionError("unreachable")

    def close(self) -> None:
        for idle in self._idle.values():
            for _, writer in idle:
                writer.close()
            idle.clear()


_BOT_INFO = {"userId": "Ubot0000000000000000000000000000", "basicId": "@123abcde",
             "displayName": "e-LAAS", "chatMode": "bot", "markAsReadMode": "auto"}


def _answer(path: str, method: str, headers: dict[str, str], body: Any) -> tuple[int, bytes]:
    """FakeLine's answer when nothing fails: (status, JSON body)."""
    if headers.get("authorization", "") in ("", "Bearer "):
        return 401, b'{"message": "Authentication failed"}'
    if path.endswith("/message/reply") or path.endswith("/message/push"):
        n = len(body.get("messages", [])) if isinstance(body, dict) else 0
        return 200, json.dumps({"sentMessages": [{"id": str(i + 1), "quoteToken": "q"}
                                                 for i in range(max(n, 1))]}).encode()
    if path.endswith("/richmenu"):
        return 200, b'{"richMenuId": "richmenu-fake-1"}'
    if path.endswith("/v2/bot/info"):
        return 200, json.dumps(_BOT_INFO).encode()
    return 200, b"{}"


class _LineProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies (what ``serve``'s client sends)."""

    def __init__(self, owner: LeanLine) -> None:
        self.owner = owner
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.owner.open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.open.discard(self.transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            raw = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            method, target = lines[0].split(" ", 2)[:2]
            path = target.split("?", 1)[0]
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            call = Call(path, method, headers, body)
            self.owner.calls.append(call)
            status, out = _answer(path, method, headers, body)
            call.status = status
            assert self.transport is not None
            self.transport.write(
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Unauthorized'}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(out)}\r\n\r\n"
                .encode() + out)


class LeanLine:
    """A fake LINE Messaging API on 127.0.0.1 for throughput benches (see the module doc)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.port = 0
        self.open: set[asyncio.Transport] = set()
        self._server: asyncio.AbstractServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _LineProtocol(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in list(self.open):
                transport.close()
            await self._server.wait_closed()
