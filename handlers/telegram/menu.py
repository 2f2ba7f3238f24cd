"""The Telegram command menus (setMyCommands), built from the engine's commands: the clerk
commands for everyone (the default scope), every command in the private chats of staff."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.core.contract import UserKey
from bot.core.feature import Command
from bot.core.greetings import COMMAND_DESCRIPTIONS

NAME = re.compile(r"[a-z0-9_]{1,32}")  # what the Bot API accepts as a command
MAX_COMMANDS = 100
MAX_DESCRIPTION = 256
_ORDER = {name: i for i, name in enumerate(COMMAND_DESCRIPTIONS)}


def command_menu(commands: Sequence[Command], *,
                 staff: bool = True) -> tuple[tuple[str, str], ...]:
    """(name, Thai description) for each command, once: its first slash name the Bot API
    accepts, described as in ``COMMAND_DESCRIPTIONS`` (else by its first Thai word), in that
    table's order, the others after it in the order given; ``staff`` False: without the
    staff commands (``Command.staff``), the menu every clerk sees."""
    menu: dict[str, str] = {}
    for cmd in commands:
        if cmd.staff and not staff:
            continue
        name = next((s.lower() for s in cmd.slash if NAME.fullmatch(s.lower())), None)
        if name is None or name in menu:
            continue
        thai = next((w for w in cmd.words if any("\u0e00" <= ch <= "\u0e7f" for ch in w)), name)
        menu[name] = COMMAND_DESCRIPTIONS.get(name, thai)[:MAX_DESCRIPTION]
    ordered = sorted(menu.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER)))
    return tuple(ordered[:MAX_COMMANDS])


def staff_chats(admins: Iterable[UserKey], operators: Iterable[str]) -> tuple[int, ...]:
    """The private chats that get every command: national admins (``ELAAS_ADMINS``) and
    operators with a ``telegram:`` account (a private chat's id is its user's id), once each."""
    chats: dict[int, None] = {}
    for user in (*map(str, admins), *operators):
        channel, _, user_id = user.partition(":")
        if channel == "telegram" and user_id.isdigit():
            chats[int(user_id)] = None
    return tuple(chats)
