"""Button actions as Telegram callback data: long ones mapped through a short hashed id."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from bot.core.store import Table
from handlers.telegram.client import MAX_CALLBACK

_SHORT = "k:"
CALLBACKS = "telegram_callbacks"  # long button actions, when several instances share a database


class CallbackIds:
    """Button actions as Telegram callback data (at most 64 bytes).

    A short action is sent as is; a longer one as ``k:`` plus a hash, remembered in a
    bounded map. A forgotten id comes back unchanged and the engine calls the button expired.
    With a ``table`` (several instances on one database) the long ones are also kept there,
    since the press may reach another instance; the hash key makes the table's size the number
    of distinct long actions, not of buttons shown.
    """

    def __init__(self, maxlen: int = 20_000, table: Table | None = None):
        self.maxlen = maxlen
        self.table = table
        self._long: OrderedDict[str, str] = OrderedDict()

    def encode(self, action: str) -> str:
        """Callback data for ``action``."""
        if len(action.encode()) <= MAX_CALLBACK and not action.startswith(_SHORT):
            return action
        short = _SHORT + hashlib.sha256(action.encode()).hexdigest()[:24]
        if self.table is not None and short not in self._long:
            self.table.put(short, {"action": action})
        self._long[short] = action
        self._long.move_to_end(short)
        while len(self._long) > self.maxlen:
            self._long.popitem(last=False)
        return short

    def decode(self, data: str) -> str:
        """The action behind callback ``data``."""
        if not data.startswith(_SHORT):
            return data
        action = self._long.get(data)
        if action is None and self.table is not None:
            doc = self.table.get(data)
            action = str(doc["action"]) if doc else None
        return data if action is None else action
