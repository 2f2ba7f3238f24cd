"""Who may do what in a group, and which replies stay out of it (decided here, not at the edge)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.core.contract import META_SAVED, Choice, Incoming, Reply

# Slash names of the commands an anonymous event may use: answers, status, the form list.
PUBLIC_COMMANDS = frozenset({"start", "menu", "help", "status", "guide", "forms", "form"})
# Button kinds an anonymous event may press (``form``/``formx`` hand out a file, which is
# private, so in a group they end as the "open the 1:1 chat" message; ``field`` votes answer
# an anonymous tap themselves: thanked, not counted).
PUBLIC_ACTIONS = frozenset({"topic", "menu", "form", "formx", "full", "field"})
# Buttons that hand out a file: never offered to an anonymous event (nobody to send it to).
FILE_ACTIONS = frozenset({"form", "formx", "formfill"})
FILES_IN_PRIVATE = "รับไฟล์แบบฟอร์มได้ในแชตส่วนตัวกับบอท กดลิงก์ด้านล่างค่ะ"

PRIVATE_ONLY = (
    "เรื่องนี้ใช้ในแชตส่วนตัวกับบอทค่ะ (บอทไม่รู้ว่าใครพิมพ์ในกลุ่มนี้)\n"
    "กดลิงก์ด้านล่างเพื่อเปิดแชตส่วนตัวกับบอท แล้วพิมพ์อีกครั้งนะคะ"
)
SENT_PRIVATELY = "ส่งให้ทางแชตส่วนตัวแล้วค่ะ"
OPEN_PRIVATE = (
    "เรื่องนี้เป็นข้อมูลส่วนตัว บอทจึงไม่ส่งในกลุ่มค่ะ\n"
    "กดลิงก์ด้านล่างเพื่อเปิดแชตส่วนตัวกับบอท{how} แล้วพิมพ์อีกครั้งนะคะ"
)
SAVED_NOT_SENT = (
    "ทำให้เรียบร้อยแล้วค่ะ ไม่ต้องพิมพ์ซ้ำ (ส่งรายละเอียดทางแชตส่วนตัวไม่ได้)\n"
    "กดลิงก์ด้านล่างเพื่อเปิดแชตส่วนตัวกับบอท{how}{see}"
)
SEE_IN_PRIVATE = " แล้วพิมพ์ \"{word}\" เพื่อดูค่ะ"
# What the user must do before the bot may write 1:1, in each channel's own words.
PRIVATE_CHAT_HOW = {
    "line": " (เพิ่มเพื่อนก่อนถ้ายังไม่ได้เพิ่ม)",
    "telegram": " (กด Start ก่อนถ้ายังไม่เคยกด)",
}


def undelivered(channel: str, private: Sequence[Reply]) -> Reply:
    """What a group sees when the private replies of its member could not be delivered: a
    write already done is said to be done (retyping it would save it twice), anything else
    is to be asked again in the 1:1 chat."""
    how = PRIVATE_CHAT_HOW.get(channel, "")
    see = next((r.meta[META_SAVED] for r in private if META_SAVED in r.meta), None)
    if see is None:
        return Reply(OPEN_PRIVATE.format(how=how), open_private=True)
    see = SEE_IN_PRIVATE.format(word=see) if see else ""
    return Reply(SAVED_NOT_SENT.format(how=how, see=see), open_private=True)


def private_only() -> Reply:
    """The answer to an identity-bound request from an anonymous event."""
    return Reply(PRIVATE_ONLY, (Choice("เมนูหลัก", "menu:"),), open_private=True)


def public_command(slash: Sequence[str]) -> bool:
    """True when a command (by its slash names) is open to anonymous events."""
    return bool(slash) and slash[0].lower() in PUBLIC_COMMANDS


def public_action(action: str) -> bool:
    """True when a button's data is open to anonymous events."""
    kind, _, arg = action.partition(":")
    if kind == "cmd":
        return arg.lower() in PUBLIC_COMMANDS
    return kind in PUBLIC_ACTIONS


def in_private(incoming: Incoming, replies: Sequence[Reply]) -> list[Reply]:
    """Replies of an identity-bound command, step or button: in a group all are private,
    refusals included (they tell the group who is or is not a member)."""
    if not incoming.is_group:
        return list(replies)
    return [r if r.private else dataclasses.replace(r, private=True) for r in replies]


def for_audience(incoming: Incoming, replies: Sequence[Reply]) -> list[Reply]:
    """The replies as they may leave the core for this event.

    In a group every file is private (download links never go to a group). An anonymous
    event cannot receive anything private (there is nobody to deliver it to), so private
    replies become one "use the 1:1 chat" message, and buttons that would hand out a file
    (each would only answer that) are left out for a link to the 1:1 chat.
    """
    out: list[Reply] = []
    for r in replies:
        if incoming.anonymous and any(c.action.partition(":")[0] in FILE_ACTIONS
                                      for c in r.choices):
            r = dataclasses.replace(
                r, text=f"{r.text}\n{FILES_IN_PRIVATE}", open_private=True,
                choices=tuple(c for c in r.choices
                              if c.action.partition(":")[0] not in FILE_ACTIONS))
        if incoming.is_group and r.file is not None and not r.private:
            r = dataclasses.replace(r, private=True)
        if incoming.anonymous and r.private:
            if not any(o.open_private for o in out):
                out.append(private_only())
            continue
        out.append(r)
    return out
