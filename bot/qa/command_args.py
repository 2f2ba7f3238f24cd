"""Argument shapes: a command word followed by words of the wrong shape is a question."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from bot.ledger.entries import EntryError
from bot.ledger.listing import read_period
from bot.notices.outbox import normalize_province
from bot.qa.exportwords import export_request

ArgShape = Callable[[str], bool]

# Words that make a message a question rather than a command argument ("ยกเลิก 2 รายการได้ไหม").
_QUESTION = re.compile(
    r"(\?|ไหม|มั้ย|มั๊ย|ไม๊|หรือเปล่า|รึเปล่า|ป่าว|หรือยัง|รึยัง|ยังไง|อย่างไร|ทำไง|ได้บ้าง|"
    r"อะไร|ทำไม|เมื่อไร|เมื่อไหร่|ไหน|กี่|ใคร|เหรอ|หรอ|คือ|how|what|why|when|where|can)",
    re.I,
)
_JOIN_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\- ]{3,19}")
_LEADING_NUMBER = re.compile(r"#?\d+(?:\s+(.*))?", re.S)
_NUMBERS = re.compile(r"\d[\d\s,\-–]*(?:ถึง\s*\d+)?[\d\s,\-–]*")
_PROVINCE_WORD = re.compile(r"^(จังหวัด|จ\.)")
_ROLE_WORDS = frozenset({"ผู้ดูแล", "admin", "สมาชิก", "member"})


def looks_like_question(text: str) -> bool:
    """True when ``text`` carries a question word or mark (at its end, when it is long)."""
    text = text.strip()
    # A long announcement may name "ใคร" or "อะไร" in passing; a question ends with its word.
    return "?" in text or bool(_QUESTION.search(text if len(text) <= 40 else text[-20:]))


_JOIN_LEAD = re.compile(r"^(?:รหัส(?:เข้าร่วม)?|code)?\s*:?\s*", re.I)
_JOIN_TAIL = re.compile(r"(?:\s*(?:ครับผม|ครับ|คับ|ค่ะ|คะ|ค่า|จ้า|จ้ะ|นะ|ด้วย|[.!]))+$")


def join_code_text(args: str) -> str:
    """The code in ``รหัส: H4KP7W2M ค่ะ``: without a leading ``รหัส``/``:`` or polite ending."""
    return _JOIN_TAIL.sub("", _JOIN_LEAD.sub("", args.strip())).strip()


def join_code(args: str) -> bool:
    """``H4KP7W2M`` (Latin letters and digits, spaces or dashes allowed), nothing Thai but a
    leading ``รหัส`` or a polite ending."""
    return bool(_JOIN_CODE.fullmatch(join_code_text(args)))


def invite_role(args: str) -> bool:
    """Nothing, or the role of the new member (``ผู้ดูแล``, ``สมาชิก``)."""
    words = args.lower().split()
    return not words or (len(words) == 1 and words[0] in _ROLE_WORDS)


def entry_number(args: str) -> bool:
    """An entry number, then an optional reason that is not a question (``12 พิมพ์ยอดผิด``)."""
    m = _LEADING_NUMBER.fullmatch(args.strip())
    return m is not None and not looks_like_question(m.group(1) or "")


def entry_numbers(args: str) -> bool:
    """Numbers and ranges only: ``1-20``, ``3 5 8``, ``1 ถึง 5``."""
    return bool(_NUMBERS.fullmatch(args.strip()))


def period(args: str) -> bool:
    """A period (a date, a range, a month, ``เดือนนี้``...); a date-like typo still counts."""
    text = args.strip()
    if not text:
        return True
    if looks_like_question(text):
        return False
    if any(ch.isdigit() for ch in text):
        return True  # a malformed date gets the command's own error, not a topic
    try:
        read_period(text, date.today())
    except EntryError:
        return False
    return True


def glued_period(args: str) -> bool:
    """A period typed right after the command word (``สรุปเดือนนี้``, ``ส่งออกพ.ย.``): only one
    that reads as a period, never a question or a word that merely contains a digit."""
    text = args.strip()
    if not text or looks_like_question(text):
        return False
    try:
        read_period(export_request(text)[1] or "วันนี้", date.today())
    except EntryError:
        return False
    return True


def export_args(args: str) -> bool:
    """A file format (``csv``, ``excel``, ``เอ็กเซล``) and/or a period."""
    return period(export_request(args)[1])


def province(args: str) -> bool:
    """A province, or something introduced as one (``จังหวัดลำพูน``, ``จ.ลำพุน``)."""
    text = args.strip()
    if normalize_province(text) is not None:
        return True
    return bool(_PROVINCE_WORD.match(text)) and not looks_like_question(text)


def statement(args: str) -> bool:
    """Free text that is not itself a question (an announcement)."""
    return not looks_like_question(args)


def number_or_nothing(args: str) -> bool:
    """Nothing, or a number (a choice from a list)."""
    return not args.strip() or args.strip().isdigit()
