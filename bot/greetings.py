"""Fixed Thai texts a channel sends without asking the engine: group greetings, flood warning."""

from __future__ import annotations

from bot.contract import Reply
from bot.feature import MENU

RATE_LIMITED_TEXT = "ส่งข้อความเร็วเกินไป รอสักครู่แล้วลองใหม่นะคะ"

_LINE_GROUP_HELLO = (
    "สวัสดีค่ะ ขอบคุณที่ชวนเข้ากลุ่มนะคะ\n"
    "ในกลุ่ม บอทจะตอบเมื่อถูกเรียก: พิมพ์ \"บอท\" นำหน้า หรือแท็ก @ถึงบอท "
    "เช่น \"บอท ระบบกลับมาหรือยัง\" หรือพิมพ์คำสั่ง เช่น /status"
)
_TELEGRAM_GROUP_HELLO = (
    "สวัสดีค่ะ ขอบคุณที่ชวนเข้ากลุ่มนะคะ\n"
    "ในกลุ่ม บอทจะตอบเมื่อถูกเรียก: พิมพ์คำสั่ง เช่น /status หรือแท็ก @{username} "
    "ตามด้วยคำถาม"
)

GROUP_HELLO = "group_hello"
RATE_LIMITED = "rate_limited"
FIXED = (GROUP_HELLO, RATE_LIMITED)


def group_hello(channel: str, username: str = "") -> str:
    """How the bot introduces itself when added to a group (how to call it differs by channel)."""
    if channel == "telegram":
        return _TELEGRAM_GROUP_HELLO.format(username=username)
    return _LINE_GROUP_HELLO


def fixed_replies(name: str, channel: str, username: str = "") -> list[Reply]:
    """The replies for a fixed answer ``name`` (one of :data:`FIXED`).

    Raises:
        ValueError: ``name`` is not a fixed answer.
    """
    if name == GROUP_HELLO:
        return [Reply(group_hello(channel, username), MENU)]
    if name == RATE_LIMITED:
        return [Reply(RATE_LIMITED_TEXT)]
    raise ValueError(f"no fixed answer {name!r}")
