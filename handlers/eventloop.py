"""The event loop of the long-running processes (``serve``, the notice sender): uvloop.

uvloop's transports, timers and thread wake-ups are C (libuv); asyncio's are Python. On the
serve path (aiohttp server and client, a wake-up from the engine thread per batch of answers)
it cut the serve process's CPU per event (bench/bench_serve.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
