"""Fixed Thai texts the channels show without asking the engine: greetings, warnings, menus."""

from __future__ import annotations

from bot.core.contract import Reply
from bot.core.feature import MENU

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

TELEGRAM_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "เริ่มต้นและเมนูหลัก"),
    ("help", "วิธีใช้บอท"),
    ("status", "สถานะระบบ e-LAAS"),
    ("guide", "วิธีปฏิบัติช่วงระบบขัดข้อง"),
    ("forms", "แบบฟอร์ม"),
    ("log", "วิธีบันทึกรายการรับ/จ่าย"),
    ("today", "รายการวันนี้"),
    ("export", "ส่งออกไฟล์ Excel"),
    ("subscribe", "รับแจ้งเตือนสถานะระบบ"),
    ("unsubscribe", "เลิกรับแจ้งเตือน"),
    ("join", "เข้าร่วม อปท. ด้วยรหัส"),
)
"""The Telegram command menu (setMyCommands): command, Thai description."""

NO_PRIVATE_LINK = "(ค้นหาบัญชีบอทใน LINE แล้วกดเพิ่มเพื่อน เพื่อเปิดแชตส่วนตัว)"
"""When the bot's add-friend link is unknown: how to open the 1:1 chat by hand."""


def file_link_text(filename: str, minutes: int, url: str) -> str:
    """How a file reaches a LINE user: its name and a download link valid for ``minutes``."""
    return f"ไฟล์: {filename}\nดาวน์โหลด (ลิงก์ใช้ได้ {minutes} นาที):\n{url}"


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
