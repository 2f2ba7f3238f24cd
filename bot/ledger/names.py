"""Members' names as people see them: checked when typed, one neutral label when unknown."""

from __future__ import annotations

import unicodedata

MAX_NAME = 60
"""The longest name kept (a Thai full name with a title fits with room to spare)."""
ASK_NAME = ("ขอชื่อ-นามสกุลที่จะแสดงในรายงานด้วยค่ะ (ผู้ตรวจสอบจะเห็นชื่อนี้ในรายการที่คุณบันทึก"
            "และยกเลิก) พิมพ์ได้เลย เช่น สมศรี ใจดี หรือกด “ข้าม” แล้วพิมพ์ ชื่อ ตามด้วยชื่อภายหลังได้")


def tidy_name(text: str) -> str:
    """``text`` without control or invisible characters, its spaces folded, one line (as a
    channel's profile name is kept; a typed name is checked by :func:`name_problem` too)."""
    kept = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join(kept.split())[:MAX_NAME]


def name_problem(text: str) -> str | None:
    """Why a typed ``text`` cannot be a member's name, in Thai; None when it can (as
    :func:`tidy_name` keeps it)."""
    if "\n" in text.strip() or "\r" in text.strip():
        return "พิมพ์ชื่อในบรรทัดเดียวค่ะ"
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in text):
        return "ชื่อมีอักขระที่ใช้ไม่ได้ค่ะ พิมพ์ใหม่อีกครั้ง"
    name = " ".join(text.split())
    if not name:
        return "ยังไม่ได้พิมพ์ชื่อค่ะ"
    if len(name) > MAX_NAME:
        return f"ชื่อยาวเกิน {MAX_NAME} ตัวอักษรค่ะ พิมพ์ให้สั้นลง (ชื่อ-นามสกุลก็พอ)"
    if not any(ch.isalpha() for ch in name):
        return "ชื่อต้องเป็นตัวอักษร เช่น สมศรี ใจดี ค่ะ"
    if any(ch.isdigit() for ch in name):  # "H4KP7W2M", "abc123": a code, not a person
        return "ชื่อต้องไม่มีตัวเลขค่ะ พิมพ์ชื่อ-นามสกุล เช่น สมศรี ใจดี"
    return None


def shown_name(user: str, name: str) -> str:
    """How a member ``user`` (``line:U…``) is named to people: their name, or, when none is
    known, a neutral label with the last four characters of the account id (an auditor can
    tell two members apart, nobody reads a whole account id)."""
    if name.strip():
        return name
    _, _, account = user.partition(":")
    return f"สมาชิก (…ลงท้าย {account[-4:]})" if account else "สมาชิก"
