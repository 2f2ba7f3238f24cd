"""Words before a quick entry that are not part of it: a greeting, thanks, "บันทึก", "เปลี่ยนใจ"."""

from __future__ import annotations

import re

from bot.core.greetings import social_text
from bot.ledger.quickentry import looks_like_entry

_POLITE = r"(?:\s*(?:ค่ะ|ครับ|คะ|คับ|ค่า|จ้า|นะคะ|นะครับ|นะ|มาก|ๆ|[,.!]))*"
# "สวัสดีค่ะ รับ 450 ค่าปรับ", "ขอบคุณค่ะ รับ…", "บันทึกรับ 500 ค่าขยะ", "เปลี่ยนใจ เป็นจ่าย 2400…"
_OPENING = re.compile(
    r"(?:(?:สวัสดี(?:ตอน)?(?:เช้า|บ่าย|เย็น)?|หวัดดี|ขอบคุณ|ขอบใจ|ขอโทษ(?:ที)?|โทษที|รบกวน|เปลี่ยนใจ"
    r"|ไม่ใช่|hi|hello|thanks|thank you|ok|โอเค)" + _POLITE + r"\s*)*"
    r"(?:(?:ขอ|ช่วย)?\s*(?:บันทึก|จด|ลง)(?:รายการ)?(?:ให้)?(?:หน่อย|ด้วย)?" + _POLITE + r"\s*:?\s*)?"
    r"(?:(?:เอา|เปลี่ยน)?เป็น\s*)?", re.I)
# A correction ("แก้เป็น รับ 2500 ค่าน้ำ"): a new entry only in place of one not saved yet (a
# waiting step); after a saved one it would be a second entry, so it is not read as one then.
_CORRECTION = re.compile(r"(?:ขอ)?แก้(?:ไข)?(?:ใหม่)?" + _POLITE + r"\s*(?:เป็น)?\s*")


def entry_line(line: str, correction: bool = False) -> str:
    """``line`` without an opening that is not part of the entry, when the rest reads as an
    entry (``สวัสดีค่ะ รับ 450 ค่าปรับ`` -> ``รับ 450 ค่าปรับ``); otherwise ``line`` itself.
    With ``correction``, a leading "แก้เป็น" is such an opening too."""
    line = line.strip()
    rest = line
    if correction:
        fixed = _CORRECTION.match(rest)
        rest = rest[fixed.end():] if fixed else rest
    m = _OPENING.match(rest)
    rest = rest[m.end():].strip() if m else rest
    return rest if rest and rest != line and looks_like_entry(rest) else line


def numbered_entry_lines(text: str, correction: bool = False) -> list[tuple[int, str]]:
    """The non-empty lines of ``text`` as quick entries would read them, each with its line
    number as the clerk sees it (from 1, blank and left-out lines counted): openings dropped,
    and a line that only greets or thanks left out of a paste that has an entry."""
    lines = [(no, entry_line(ln, correction))
             for no, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    if len(lines) > 1 and any(looks_like_entry(ln) for _, ln in lines):
        lines = [(no, ln) for no, ln in lines if social_text(ln) is None]
    return lines


def entry_lines(text: str, correction: bool = False) -> list[str]:
    """The lines of :func:`numbered_entry_lines` without their numbers."""
    return [ln for _, ln in numbered_entry_lines(text, correction)]
