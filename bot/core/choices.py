"""Which of a reply's choices are worth showing on a channel."""

from __future__ import annotations

from bot.core.contract import Choice
from bot.notices.outbox import PUSH_CHANNELS

# A how-to topic offered next to the action it explains says the same thing twice.
_SAME_AS = {"topic:status.notify": "cmd:subscribe"}
# Buttons a channel cannot act on: the terminal cannot receive notices.
_PUSH_ONLY = frozenset({"cmd:subscribe", "cmd:unsubscribe"})


def offered_choices(
    choices: tuple[Choice, ...], channel: str, done: str = ""
) -> tuple[Choice, ...]:
    """The choices worth showing: no action twice, not the command that was just run, and
    nothing the channel cannot do (``channel`` empty: no channel filter)."""
    actions = {c.action for c in choices}
    seen: set[str] = set()
    out: list[Choice] = []
    for c in choices:
        if c.action in seen or (done and c.action == done):
            continue
        if _SAME_AS.get(c.action) in actions and (channel in PUSH_CHANNELS or not channel):
            continue
        if channel and channel not in PUSH_CHANNELS and c.action in _PUSH_ONLY:
            continue
        seen.add(c.action)
        out.append(c)
    return tuple(out)
