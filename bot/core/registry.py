"""The engine's commands as one list: what ``kb check`` validates a topic's ``command:`` against
and what a channel's command menu shows, so that neither keeps a list of its own."""

from __future__ import annotations

from bot.core.engine import Engine
from bot.core.feature import Command


def registered_commands(engine: Engine) -> list[Command]:
    """The commands ``engine`` answers, once each, in the order it registered them (its own,
    then each feature's).

    The engine keeps them as a table of slash names (several names may share a command); this
    reads that table rather than rebuilding it, so a command is listed exactly when a message
    can reach it.
    """
    return list(dict.fromkeys(engine._slash.values()))
