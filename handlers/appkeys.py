"""What a ``serve`` extension may use (app keys, background tasks); no import of the server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.core.contract import Reply
from handlers.app import Core
from handlers.pipeline import Pipeline
from handlers.ratelimit import Flow
from handlers.web.files import FileVault

Extension = Callable[[web.Application], None]
BackgroundFactory = Callable[[web.Application], Awaitable[None]]


class Sender(Protocol):
    """A channel that can send replies to a chat outside of an incoming event."""

    channel: str

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> bool:
        """Send ``replies`` to ``chat_id``; True when everything was sent."""
        ...


@dataclass(frozen=True)
class Background:
    """A named long-running task started with the app."""

    name: str
    factory: BackgroundFactory


CORE = web.AppKey("core", Core)
FLOW = web.AppKey("flow", Flow)
PIPELINE = web.AppKey("pipeline", Pipeline)
VAULT = web.AppKey("vault", FileVault)
SENDERS: web.AppKey[dict[str, Sender]] = web.AppKey("senders")
BACKGROUND: web.AppKey[list[Background]] = web.AppKey("background")


def add_background(app: web.Application, name: str, factory: BackgroundFactory) -> None:
    """Run ``await factory(app)`` in the background while the app runs (handlers.web.server)."""
    app[BACKGROUND].append(Background(name, factory))
