"""Words around a quick entry that are not part of it: a greeting, thanks, "บันทึก", "เปลี่ยนใจ"
before it, a question after it."""

from __future__ import annotations

import re
from datetime import date

from bot.core.greetings import social_text
from bot.ledger.entries import EntryError, NotAnEntry, ParsedEntry
from bot.ledger.quickentry import QUESTION_RE, looks_like_entry, parse_entry

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


def entry_and_question(text: str, today: date) -> tuple[ParsedEntry, str] | None:
    """A whole entry with a question typed after it ("จ่ายค่าน้ำ 500 บาท แล้วต้องเก็บใบเสร็จไว้ไหม",
    or on the next line): the entry and the question; None for anything else. The longest
    entry is taken whose rest still asks something beyond a bare "ไหม" and holds no entry."""
    line = text.strip()
    if not QUESTION_RE.search(line) or looks_like_entry(line):
        return None
    first = line.split("\n", 1)[0]  # the entry is on the first line
    cuts = [m.start() for m in re.finditer(r"\s+", line) if m.start() <= len(first)]
    for cut in reversed(cuts):
        head, question = entry_line(line[:cut]), line[cut:].strip()
        if not QUESTION_RE.search(question) or len(QUESTION_RE.sub("", question).strip()) < 2:
            continue
        if not looks_like_entry(head) or any(map(looks_like_entry, question.splitlines())):
            continue
        try:
            return parse_entry(head, today), question
        except (EntryError, NotAnEntry):
            continue
    return None
