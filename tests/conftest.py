"""Shared fixtures: a core on a temporary data dir, with a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import settings

from bot.contract import Incoming, Reply
from bot.entries import Lao
from bot.ledger import Ledger
from handlers.app import Core, build_core
from handlers.settings import Settings

# CI runs the property tests on a fixed seed so that a red run can be reproduced; locally they
# explore new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

BANGKOK = timezone(timedelta(hours=7))
FIXED_NOW = datetime(2024, 7, 15, 10, 30, tzinfo=BANGKOK)


@pytest.fixture(scope="session")
def memory_core() -> Core:
    """One in-memory core for read-only questions (building it takes ~1 s)."""
    return build_core(Settings(data_dir=Path("/nonexistent")), memory=True)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    """A core on a fresh data dir with the clock fixed at 15 Jul 2024 10:30 (Bangkok)."""
    c = build_core(Settings(data_dir=tmp_path / "data"))
    c.engine.clock = lambda: FIXED_NOW
    yield c
    c.store.close()


Say = Callable[..., list[Reply]]


@pytest.fixture
def say(core: Core) -> Say:
    """Send text (or a button action) as a console user and get the replies."""
    counter = iter(range(10**9))

    def _say(text: str | None = None, *, user: str = "u1", action: str | None = None,
             channel: str = "console", event_id: str | None = None, name: str = "สมศรี",
             kind: str = "message") -> list[Reply]:
        eid = event_id if event_id is not None else f"ev{next(counter)}"
        return core.engine.reply_to(Incoming(channel, user, user, text=text, action=action,
                                             event_id=eid, display_name=name, kind=kind))

    return _say


def make_lao_admin(core: Core, user: str, code: str, name: str = "อบต.ทดสอบ") -> Ledger:
    """Register LAO ``code`` (if new), make ``user`` (``channel:id``) its admin; its ledger."""
    directory = core.book.directory
    if directory.lao(code) is None:
        directory.add_lao(Lao(code, name, "ขอนแก่น"))
    directory.bind(user, code, "admin", "สมศรี", datetime.now().astimezone())
    return core.book.ledger(code)
