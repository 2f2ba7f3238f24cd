"""Group replies that must not be seen by the group: what each adapter needs to divert them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from bot.core.contract import Reply
from bot.core.privacy import SENT_PRIVATELY, undelivered


class PrivateChats:
    """Per user, whether the bot can write to them 1:1 (True), cannot (False) or is not sure.

    Filled from what the channel shows: a 1:1 message or a follow says yes, a refused push or
    an unfollow says no. Bounded (oldest forgotten first); lost at restart, which only costs one
    push attempt that the channel's answer settles again.
    """

    def __init__(self, maxlen: int = 50_000):
        self.maxlen = maxlen
        self._known: OrderedDict[str, bool] = OrderedDict()

    def note(self, user_id: str, reachable: bool) -> None:
        if not user_id:
            return
        self._known[user_id] = reachable
        self._known.move_to_end(user_id)
        while len(self._known) > self.maxlen:
            self._known.popitem(last=False)

    def worth_trying(self, user_id: str) -> bool:
        """False when the user is anonymous or known not to have a 1:1 chat with the bot."""
        return bool(user_id) and self._known.get(user_id, True)

    def known(self, user_id: str) -> bool | None:
        return self._known.get(user_id)


def split_private(replies: Sequence[Reply]) -> tuple[list[Reply], list[Reply]]:
    """``(for the group, for the user's 1:1 chat)``."""
    return [r for r in replies if not r.private], [r for r in replies if r.private]


def group_notice(sent: bool, channel: str, private: Sequence[Reply], *,
                 pressed: bool = False) -> list[Reply]:
    """What the group sees instead of the ``private`` replies. Nothing for a button press
    whose answer reached the 1:1 chat: the one who pressed sees it there, and a group told
    "sent privately" after a refused press would think something was done."""
    if sent:
        return [] if pressed else [Reply(SENT_PRIVATELY)]
    return [undelivered(channel, private)]
