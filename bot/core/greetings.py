"""Fixed Thai texts: what the channels show without asking the engine (greetings, warnings,
menus), and the engine's answer to a bare nod or "no"."""

from __future__ import annotations

import re

from bot.core.contract import Reply
from bot.core.feature import MENU
from bot.core.text import PARTICLES, clean

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

COMMAND_DESCRIPTIONS: dict[str, str] = {
    "start": "เริ่มต้นและเมนูหลัก",
    "help": "วิธีใช้บอท",
    "status": "สถานะระบบ e-LAAS",
    "guide": "วิธีปฏิบัติช่วงระบบขัดข้อง",
    "forms": "แบบฟอร์ม",
    "log": "วิธีบันทึกรายการรับ/จ่าย",
    "today": "รายการวันนี้",
    "recent": "รายการล่าสุด",
    "entries": "ดูรายการ เช่น เดือนนี้",
    "summary": "สรุปยอดรับ/จ่าย",
    "edit": "แก้ไขรายการ",
    "void": "ยกเลิกรายการ",
    "keyed": "ทำเครื่องหมายว่าคีย์เข้า e-LAAS แล้ว",
    "pending": "รายการที่ยังไม่ได้คีย์",
    "unkeyed": "เอาเครื่องหมายคีย์แล้วออก",
    "export": "ส่งออกไฟล์ Excel",
    "subscribe": "รับแจ้งเตือนสถานะระบบ",
    "unsubscribe": "เลิกรับแจ้งเตือน",
    "join": "เข้าร่วม อปท. ด้วยรหัส",
    "leave": "ออกจาก อปท.",
    "members": "สมาชิกของ อปท.",
    "name": "ตั้งชื่อที่แสดงในรายงาน",
    "invite": "สร้างรหัสเข้าร่วม (ผู้ดูแล อปท.)",
    "demo": "ทดลองใช้กับ อปท. ตัวอย่าง",
    "console": "เข้าคอนโซล (เจ้าหน้าที่)",
    "announce": "ส่งประกาศ (เจ้าหน้าที่)",
    "setstatus": "ตั้งสถานะระบบ (เจ้าหน้าที่)",
}
"""A command menu's Thai description of each command, by slash name, in the menu's order.

The menu lists the engine's commands (``Engine.commands``), not these keys: a command missing
here is still listed, described by its first Thai word, and after these."""

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


# A nod or a "no" with nothing pending ("ใช่", "ครับ", "ok", "ไม่เป็นไรค่ะ"): acknowledged, never
# matched against the topics (ใช่ is one letter from ใช้, "in use"). A waiting step reads its own
# yes and cancel words first (bot/core/steps.py).
NODS = frozenset("ใช่ ใช่แล้ว ได้ ได้เลย โอเค เค ok okay oki k ตกลง รับทราบ ทราบแล้ว เข้าใจแล้ว "
                 "เข้าใจ อืม อ๋อ อ้อ ดีเลย yes yep".split())
DECLINES = frozenset("ไม่ ไม่ใช่ ไม่ต้อง ไม่เป็นไร ไม่ล่ะ ไม่เอา no nope".split())
NOD_EMOJI = frozenset("👍👌🙏🙂😊")
NOD_MAX = 40  # characters; "เข้าใจแล้วค่ะ" with spaces and particles is about 20
NOD_REPLY = "รับทราบค่ะ มีอะไรให้ช่วยอีก พิมพ์ถามหรือเลือกจากเมนูได้เลยค่ะ"
DECLINE_REPLY = "ได้ค่ะ ถ้ามีอะไรให้ช่วย พิมพ์ถามหรือเลือกจากเมนูได้เลยค่ะ"
_PARTICLE_TAIL = re.compile(
    "(?:" + "|".join(sorted(map(re.escape, PARTICLES), key=len, reverse=True)) + ")+$")
_EMOJI_MODIFIERS = re.compile(r"[\s\ufe0f\u200d\U0001F3FB-\U0001F3FF]")


def nod_reply(text: str) -> str | None:
    """The reply to a bare nod or "no" (see :data:`NODS`), or None for anything else."""
    if len(text) > NOD_MAX:  # every nod is short: a question is not cleaned twice
        return None
    bare_emoji = _EMOJI_MODIFIERS.sub("", text)
    if bare_emoji and set(bare_emoji) <= NOD_EMOJI:
        return NOD_REPLY
    word = clean(text).replace(" ", "")
    bare = _PARTICLE_TAIL.sub("", word)
    if bare in DECLINES:
        return DECLINE_REPLY
    if bare in NODS or (word and not bare):  # "ครับ" alone
        return NOD_REPLY
    return None


# ---------------------------------------------------------------- greetings, thanks, "who are you"

GREETINGS = frozenset(
    "สวัสดี หวัดดี ดีจ้า ดีครับ ดีค่ะ hello hi hey ทักทาย สวัสดีตอนเช้า อรุณสวัสดิ์ start".split()
)
THANKS = frozenset("ขอบคุณ ขอบใจ thank thanks thx ขอบคุณมาก แต๊งกิ้ว ขอบพระคุณ โอเค ok".split())
# Whole messages, before normalising (which drops English function words: "hi", "thank you"
# were left with no word at all and answered "cannot read this").
_HELLO_TEXT = re.compile(
    r"(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening|day)|morning|"
    r"(?:สวัสดี|หวัดดี)(?:ตอน)?(?:เช้า|บ่าย|เย็น|ค่ำ)?|อรุณสวัสดิ์)(?: (?:there|all|bot|everyone))?")
_THANKS_TEXT = re.compile(
    r"(?:thank(?:s| you)(?: (?:very|so) much| a lot)?|thx|ty|many thanks|"
    r"ขอบคุณ(?:มาก)?(?: ?ๆ)?(?:นะ)?|ขอบใจ|ขอบพระคุณ(?:มาก)?|แต๊งกิ้ว)")
# "Who are you?" as a whole message: the bot's help. (As a phrasing, its words pulled personal
# questions about someone else towards the help.)
_WHO_TEXT = re.compile(
    r"(?:คุณ|เธอ|บอท(?:นี้|ตัวนี้)?|นี่) ?(?:เป็น|คือ) ?(?:ใคร|อะไร)|who are you|what are you")
_TEXT_TAIL = re.compile(r"[\s!.,]*(?:ครับ|คับ|ค่ะ|คะ|ค่า|จ้า|จ้ะ|นะ)?[\s!.,]*$")


def social_text(text: str) -> str | None:
    """A whole short message that greets ("hello"), thanks ("thanks") or asks who the bot is
    ("who"), read before normalising; None for anything else."""
    if len(text) > NOD_MAX:
        return None
    whole = _TEXT_TAIL.sub("", clean(text))
    if _HELLO_TEXT.fullmatch(whole):
        return "hello"
    if _THANKS_TEXT.fullmatch(whole):
        return "thanks"
    if _WHO_TEXT.fullmatch(whole):
        return "who"
    return None


def social_words(words: set[str], thanks_max: int = 3) -> str | None:
    """A message whose normalised words only greet ("hello") or thank ("thanks": at most
    ``thanks_max`` words with a thank-you among them; 0: any length)."""
    if not words:
        return None
    if words <= GREETINGS | {"ครับ", "ค่ะ"}:
        return "hello"
    if words & THANKS and (not thanks_max or len(words) <= thanks_max):
        return "thanks"
    return None
