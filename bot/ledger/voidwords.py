"""How a clerk names the entries to void or to correct: a number, several, or the latest."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.ledger.book import Ledger
from bot.ledger.listing import number_ranges
from bot.qa.command_args import entry_number, looks_like_question

# "ล่าสุด", "รายการล่าสุด", "อันเมื่อกี้": the newest entry of the LAO (shown before it is voided)
_LATEST = re.compile(r"(?:รายการ|อัน)?\s*(?:ที่)?\s*(?:ล่าสุด|สุดท้าย|เมื่อกี้|เมื่อกี๊|เมื่อสักครู่|"
                     r"ที่เพิ่ง(?:บันทึก|จด|ลง)(?:ไป)?)(?:\s+(.*))?", re.S)
# "12,13", "6-7", "3 และ 5", "1 ถึง 4": then an optional reason
_SEVERAL = re.compile(r"#?(\d+(?:\s*(?:,|-|–|และ|กับ|ถึง|\s)\s*#?\d+)+)(?:\s+(\D.*))?", re.S)
_RANGE = re.compile(r"(\d+)\s*(?:-|–|ถึง)\s*(\d+)")
# "31 2 รายการ": a number after a space and before a count word counts entries, names none
_COUNT = re.compile(r"(?<=\d)\s+\d+\s*(?=(?:รายการ|อัน|บาท|ครั้ง)(?:\s|$))")
MAX_SEVERAL = 10


def names_latest(args: str) -> bool:
    """``args`` names the newest entry, then maybe a reason that is not a question."""
    m = _LATEST.fullmatch(args.strip())
    return m is not None and not looks_like_question(m.group(1) or "")


def without_count(args: str) -> str:
    """``args`` without a count after the entry numbers ("31 2 รายการ" -> "31 รายการ"): the
    count names no entry, nor is it a reason to void one."""
    return _COUNT.sub(" ", args.strip())


def several_numbers(args: str) -> list[int]:
    """The entry numbers of ``12,13`` or ``6-7 ทดสอบ`` (ranges expanded, at most
    ``MAX_SEVERAL + 1``); empty when ``args`` does not name several entries."""
    m = _SEVERAL.fullmatch(without_count(args))
    if m is None or looks_like_question(m.group(2) or ""):
        return []
    numbers: list[int] = []
    spans = m.group(1)
    for lo, hi in _RANGE.findall(spans):
        numbers += range(int(lo), min(int(hi), int(lo) + MAX_SEVERAL) + 1)
    numbers += (int(n) for n in re.findall(r"\d+", _RANGE.sub(" ", spans)))
    return sorted(set(numbers))[:MAX_SEVERAL + 1]


def named_numbers(args: str) -> list[int]:
    """The entry numbers ``args`` starts with: several (``12,13``) or one (``2 ยอดผิด``)."""
    several = several_numbers(args)
    if several:
        return several
    one = re.match(r"#?(\d+)", args.strip())
    return [int(one.group(1))] if one else []


def entry_target(args: str) -> bool:
    """An argument naming entries: a number (then a reason), several numbers, or the latest."""
    return entry_number(args) or names_latest(args) or len(several_numbers(args)) > 1



def several_text(ledger: Ledger, numbers: Sequence[int]) -> str:
    """What "ยกเลิก 12,13" is told: press one button each (a reason each), and which of the
    numbers are not in ``ledger`` or voided already (they get no button)."""
    numbers = numbers[:MAX_SEVERAL]
    missing = [n for n in numbers if ledger.get(n) is None]
    voided = [n for n in numbers if (e := ledger.get(n)) is not None and e.voided]
    live = [n for n in numbers if n not in missing and n not in voided]
    lines = []
    if live:
        lines.append("ยกเลิกได้ทีละรายการค่ะ (ยังไม่ได้ยกเลิก) กดทีละปุ่ม แล้วพิมพ์เหตุผล "
                     f"หรือพิมพ์ ยกเลิก {live[0]} เหตุผล")
    if missing:
        lines.append(f"ไม่พบรายการที่ {number_ranges(missing)} ใน อปท. ของคุณค่ะ")
    if voided:
        lines.append(f"รายการที่ {number_ranges(voided)} ยกเลิกไปแล้วค่ะ")
    if not live:
        lines.append("ยังไม่ได้ยกเลิกอะไรค่ะ ดูเลขรายการได้จาก ล่าสุด")
    return "\n".join(lines)
