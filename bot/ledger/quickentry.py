"""Quick-entry parser: one typed line such as ``รับ 1,500 ค่าขยะ เมื่อวาน`` to a ParsedEntry.

(Over 500 lines on purpose: one grammar, read top to bottom: kind words, amounts in figures
and in Thai words, dates, document numbers and methods. The date words and patterns live in
:mod:`bot.ledger.datewords`.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import NoReturn

from bot.core.text import visible
from bot.core.thaifmt import (
    THAI_MONTHS_SHORT,
    amount_in_words,
    be_year,
    format_amount,
    format_baht,
    thai_date,
)
from bot.ledger.datewords import (
    BARE_DAY_MONTH_RE,
    DATE_PREFIX,
    DATE_RANGE_RE,
    DAY_MONTH_RE,
    DAY_ONLY_RE,
    DAYS_AGO_RE,
    ENGLISH_PERIODS,
    ISO_DATE_RE,
    ISO_ENTRY_DATE_RE,
    LEAD_DATE_WORDS,
    MONTH_DATE_RE,
    MONTH_NO,
    MONTH_PERIOD_RE,
    MONTHS,
    NAMED_PERIODS,
    NUM_DATE_RE,
    NUMERIC_DATE,
    NUMERIC_DATES_RE,
    PERIOD_EXAMPLE,
    PERIOD_LEAD_RE,
    PERIOD_SPLIT_RE,
    RELATIVE_RE,
    VAGUE_DATE_RE,
    WEEKDAY_RE,
    WORD_RE,
    YEAR_PERIOD_RE,
    date_word_slip,
    days_ago,
    days_back,
    earliest_entry_date,
    iso_day,
    latest_year_with,
    month_span,
    named_period,
    plausible_year,
    resolve_year,
    weekday_date,
)
from bot.ledger.entries import (
    KIND_TH,
    MAX_AMOUNT,
    METHOD_TH,
    Entry,
    EntryError,
    Kind,
    Method,
    NotAnEntry,
    ParsedEntry,
)

__all__ = [
    "EXAMPLE",
    "EXAMPLE_PAYMENT",
    "EXAMPLE_RECEIPT",
    "PERIOD_EXAMPLE",
    "QUESTION_RE",
    "LineResult",
    "describe",
    "dot_amount_readings",
    "dot_readings",
    "format_entry",
    "format_example",
    "looks_like_entry",
    "parse_entries",
    "parse_entry",
    "parse_period",
]

EXAMPLE_RECEIPT = "รับ 1,500 ค่าขยะ เมื่อวาน"
EXAMPLE_PAYMENT = "จ่าย 2,500 ค่าน้ำมันรถ เงินสด"
EXAMPLE = EXAMPLE_RECEIPT

CENT = Decimal("0.01")
# A yearless date at most this many days ahead is this year's (refused as in the future).
YEARLESS_AHEAD_DAYS = 31
MAX_LINE = 300  # longer text is a chat message or a paste, never one quick entry

# --------------------------------------------------------------------------- normalisation

_TRANSLATE = str.maketrans(
    {
        **{chr(0x0E50 + i): str(i) for i in range(10)},  # Thai digits
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # full-width digits
        "，": ",",
        "／": "/",
        "＋": "+",
        "−": "-",
        "–": "-",
        "—": "-",
        "\u00a0": " ",
        "\u3000": " ",
    }
)
_JUNK_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe0e\ufe0f\u20e3\U000e0000-\U000e007f]"
)
_SPACES_RE = re.compile(r"\s+")
_BULLET_RE = re.compile(r"^(?:[-*•·▪►➤>]+|\d{1,2}[.)])\s*(?=รายรับ|รับ|รายจ่าย|จ่าย)")

# --------------------------------------------------------------------------- kind word

# Words glued to the kind word that make an ordinary sentence, not an entry ("รับทราบ").
# "จ่ายผิด 2 ครั้ง", "รับซ้ำกับรายการ 1": a mistake told (a void reason), not an entry.
_STOP_RE = re.compile(r"ทราบ|รอง|ประทาน|ผิด|ซ้ำ|สมัคร|ฟัง|มือ|รู้|ปาก|ไม่|ไหว|รายรับ|รายจ่าย")
_POLITE = r"(?:ครับผม|ครับ|คับ|ค่ะ|คะ|จ้า|จ้ะ|จ๊ะ|จ่ะ|นะ|ฮะ)"  # polite endings, dropped
_PARTICLES = rf"(?:{_POLITE}|อะ)*"
_QUESTION_RE = re.compile(
    r"[?？]|ยังไง|อย่างไร|ทำไง|ทำไม|เท่าไร|เท่าไหร่|เมื่อไร|เมื่อไหร่"
    r"|กี่(?:บาท|วัน|เดือน|ปี|ครั้ง|คน|ใบ|รายการ|โมง)|หรือเปล่า|รึเปล่า"
    r"|ได้ไหม|ได้มั้ย|ได้มั๊ย|ได้หรือไม่|ได้ป่ะ|ต้องทำ|ขั้นตอน"
    rf"|(?:(?<!ผ้า)ไหม|มั้ย|มั๊ย|ป่ะ|ไง|หรือยัง|หรือไม่|อะไร(?:บ้าง)?|ไหน|ใคร(?:\S{{0,6}})?"
    rf"|เหรอ|หรอ|ไหนเหรอ)\s*{_PARTICLES}\s*$"
)
QUESTION_RE = _QUESTION_RE  # the engine asks before taking a question as a step's input
# Without an amount, a question word anywhere makes the text a question, not an entry missing
# its amount: "รับเงินค่าน้ำประปาต้องออกใบเสร็จไหมตอนระบบล่ม" (ไหม mid-sentence).
_ASKS_RE = re.compile(r"(?<!ผ้า)ไหม|มั้ย|มั๊ย|หรือไม่|หรือเปล่า|รึเปล่า|หรือยัง|รึยัง")

# --------------------------------------------------------------------------- Thai number words

_DIGIT_WORDS: dict[str, int] = {
    "ศูนย์": 0, "หนึ่ง": 1, "เอ็ด": 1, "สอง": 2, "ยี่": 2, "สาม": 3, "สี่": 4,
    "ห้า": 5, "หก": 6, "เจ็ด": 7, "แปด": 8, "เก้า": 9,
}  # fmt: skip
_MULTS: dict[str, int] = {
    "สิบ": 10, "ร้อย": 100, "พัน": 1_000, "หมื่น": 10_000, "แสน": 100_000, "ล้าน": 1_000_000,
}  # fmt: skip
_MILLION = 1_000_000
_W = "|".join(sorted([*_DIGIT_WORDS, *_MULTS], key=len, reverse=True))
_M = "|".join(_MULTS)
# "รับเงิน" is the kind word before a space, a figure, "ค่า…" or a number word ("รับเงินห้าร้อย
# บาทค่าขยะ" typed by voice): "เงิน" is then part of the verb, never the item.
_KIND_RE = re.compile(
    rf"(?P<receipt>รายรับ|รับเงิน(?=[\s\d]|$|ค่า|{_W})|รับ)"
    rf"|(?P<payment>รายจ่าย|จ่ายเงิน(?=[\s\d]|$|ค่า|{_W})|จ่าย)"
    r"|(?P<sym>[+-])"
)
_WTOK_RE = re.compile(rf"\d+(?:\.\d+)?|{_W}")
_ITEM = rf"(?:\d+(?:\.\d+)?\s?(?:{_M})|(?:{_W}))"
_CHAIN = rf"{_ITEM}(?:\s?{_ITEM})*(?:\d+(?![\d.,]))?"
_CHAIN_END = r"(?=\s|$|บาท|บ\.|สตางค์|สต\.|ถ้วน|ค่า|[^\u0e00-\u0e7f])"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|,\d)|\d{1,3}(?:\.\d{3}){2,}|\d+(?:\.\d+)?"
_NUM_END = r"(?!\d|[.,]\d|[A-Za-z]|/\d|-\d)"
_SATANG = r"(?:สตางค์|สต\.)"
# "1.200", "1.200.000": dots where thousands commas may be meant (see dot_readings).
_DOT_GROUPS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
# "1.5k", "15k": thousands, as typed on phones ("4K" alone is a screen, not 4,000 baht).
_KILO = r"(?P<kilo>k|(?<!(?<![\d.,])[48])K)(?![A-Za-z\d])"
_AMOUNT_RE = re.compile(
    r"(?<![\d,./A-Za-z])(?<!\d-)"
    r"(?:(?<!\S)(?P<neg>-))?"
    r"(?:฿\s?)?"
    rf"(?:(?P<words>{_CHAIN}){_CHAIN_END}|(?P<num>{_NUM})(?:{_KILO}|{_NUM_END}))"
    rf"(?:(?P<csat>\s?{_SATANG})"
    r"|(?P<unit>\s?(?:บาท|บ\.|บ(?![\u0e01-\u0e4f])|฿)|\.-|-(?!\d))(?P<thuan>\s?ถ้วน)?"
    rf"(?:\s?(?P<sat>\d{{1,3}}|(?:{_W})+)\s?{_SATANG})?)?"
)
# A number right after these words is not the amount ("หมู่ 3", "ปี 2567", "กข 1234").
_NOT_AMOUNT_BEFORE_RE = re.compile(
    r"(?:หมู่(?:ที่)?|(?<![\u0e01-\u0e4f])ม\.|ซอย|ซ\.|ห้อง(?:ที่)?|ทะเบียน|งวด(?:ที่)?|ครั้งที่|ข้อ(?:ที่)?|รุ่น(?:ที่)?"
    r"|ปี(?:งบประมาณ|งบ)?|พ\.ศ\.|ค\.ศ\.|ชั้น(?:ที่)?|เลขที่|คันที่|ลำดับที่|โทร\.?|หน้า"
    r"|รายการ(?:ที่)?|เล่ม(?:ที่)?|(?:^|(?<=\s))รหัส[\u0e01-\u0e4f]*|หมายเลข"
    r"|(?:^|(?<=\s))(?!คน)\d?[ก-ฮ]{2})(?:\s?-)?\s?$"
)
# A number right before these is a count, not the amount ("3 ราย", "15 คน", "20 ลิตร"); not
# when the word runs on ("ใบเสร็จ", "รายได้", "คนละ").
_COUNT_AFTER_RE = re.compile(
    r"\s?(?:รายการ|ราย|คน|ท่าน|ใบ|ฉบับ|เล่ม|ชุด|ชิ้น|อัน|ตัว|คัน|หลัง|ครัวเรือน|หลังคาเรือน"
    r"|แห่ง|ครั้ง|รอบ|เครื่อง|ลิตร|ถัง|กก\.|กิโล(?:กรัม)?|โหล|แผ่น|ก้อน|ห่อ|กล่อง|ขวด|ถุง"
    r"|ม้วน|รีม|ด้าม|แท่ง|ลูก|ต้น|เส้น|ห้อง|วัน|เดือน|ปี(?!\s?(?:พ\.?\s?ศ\.?\s?)?\d)|ชั่วโมง|ชม\.|ไร่|เมตร|หน่วย"
    r"|แผง|ร้าน|ล็อก|ล็อค|แปลง|ชั้น|ป้าย|คู่|ผืน|เม็ด|กระสอบ|ตู้|ตัน|คิว|เที่ยว|งวด|จุด"
    r"|ครอบครัว|หมู่บ้าน|โครงการ|สัญญา|ตำแหน่ง|อัตรา|นัด|สัปดาห์|อาทิตย์|ตารางวา|ตร\.ม\.|กม\."
    r"|มื้อ|คืน|ที่นั่ง|นิ้ว|ฟุต|หลา|ซม\.|มม\.|ม\.(?!\s?\d)|เซนติเมตร|เซน|แพ็[คก]|แพ[คก]|ลัง|แกลลอน|กระป๋อง"
    r"|หลอด|ดวง|ซอง|ตลับ|ท่อน|บาน|ขีด|วัตต์|ตารางเมตร|ลูกบาศก์เมตร|กิโลเมตร|ตร\.ว\.)"
    rf"(?={_POLITE}*(?![\u0e01-\u0e4f]))"
)
# "5 ส." (โครงการ 5 ส.), "5ส": a number with a one-letter abbreviation is part of a name,
# never the amount (not "5 บ.", five baht, nor a month such as "5 ส.ค.").
_NAME_AFTER_RE = re.compile(r"\s?(?!บ)[ก-ฮ]\.?(?![\u0e01-\u0e4f.])")
# "คนละ 300", "ใบละ 20": a price per unit, not the total to key back.
_PER_UNIT_BEFORE_RE = re.compile(r"(?:^|(?<=\s))(?P<w>[\u0e01-\u0e4f]*(?<!แ)ละ)\s?$")  # not และ
# "1500 หรือ 1600": the clerk is not sure which.
_EITHER_RE = re.compile(r"\s?(?:หรือ(?:ว่า)?|or|~)\s?")
_AMOUNT_LEAD_RE = re.compile(r"(?:จำนวน(?:เงิน)?|เป็นเงิน|ยอด(?:เงิน)?|รวม(?:เป็นเงิน)?)\s?$")
_SYM_AMOUNT_RE = re.compile(rf"\s?(?:[\d฿]|(?:{_W})|ค่า)")  # "+ 1500", "+ สองพันบาท", "+ค่า"
# After a spaced kind word and no number, these make a chat line, not an entry ("รับ แจ้งเตือน").
_CHAT_AFTER_KIND_RE = re.compile(r"แจ้ง|แล้ว|ได้|ครับ|ค่ะ|คะ|จ้า|นะ|ก่อน|เลย|ด้วย|หน่อย|ทราบ")
# A number in figures or words ("รับห้าร้อยค่าขยะ", typed by voice without spaces).
_TRIES_RE = re.compile(rf"\d|บาท|สตางค์|^[\s:=\-]*(?:{_W})+(?=\s|$|ค่า)")
_DIGIT_TOKEN_RE = re.compile(r"\S*\d\S*")
_HAS_DIGIT_RE = re.compile(r"\d")
_SEPARATORS = " \t,;:|=>·•-"
_AMOUNT_HINT = "(พิมพ์เป็นตัวเลข เช่น 1,500 หรือ 1500.50)"
# "+1 เห็นด้วยค่ะ", "-1", "+100": a vote or a nod in a group chat, not a "+"/"-" entry. After the
# number either nothing that says what the money is for, or a word of agreement.
_VOTE_RE = re.compile(
    r"^\s?\d[\d,.]*\s?(?:บาท|บ\.)?\s?(?:(?:ไม่)?(?:เห็นด้วย|เอาด้วย)|เช่นกัน|เหมือนกัน|โหวต"
    rf"|(?i:vote|ok|like)|โอเค|ไลค์|(?:ด้วย(?:คน)?|เลย|{_POLITE}|[\W\d_])*$)"
)
# "รับ-จ่าย 500", "รับจ่าย 500": both kind words, so neither.
_BOTH_KINDS_RE = {
    "receipt": re.compile(r"\s?(?:[-/,&]|หรือ|และ)?\s?(?:รายจ่าย|จ่าย)"
                          r"(?!\s?(?:ด้วย|โดย|เป็น|แบบ|ผ่าน))"),
    "payment": re.compile(r"\s?(?:[-/,&]|หรือ|และ)?\s?(?:รายรับ|รับ)"
                          r"(?!รอง|ทราบ|ผิดชอบ|ประทาน|เหมา|จ้าง|ใช้|\s?(?:ด้วย|โดย|เป็น|แบบ|ผ่าน))"),
}  # "รับ จ่ายด้วยเช็ค ค่าขยะ": how the payer paid, not a second kind
# An address or a time of day: stays in the description, never an amount or a document number.
_HOUSE_NO_RE = re.compile(
    r"บ้าน\s?เลขที่\s?\d+(?:/\d+)*|(?:เวลา\s?)?\d{1,2}[.:]\d{2}\s?(?:น\.|นาฬิกา)|เวลา\s?\d{1,2}[.:]\d{2}"
)
# A second number after these names a thing ("ชุดที่ 2", "ล็อค 12", "มาตรา 45", "Office 365").
_ORDINAL_BEFORE_RE = re.compile(
    r"(?:[\u0e01-\u0e4f]ที่|ล็อค|ล็อก|แผง|มาตรา|เบนซิน|ดีเซล|แก๊สโซฮอล์|โซน|อาคาร|ตึก|รหัส|สาย"
    r"|รอบ|มิเตอร์|เฟส|ซุ้ม|บูธ|คัน|ถนน|เส้น|ทางหลวง|[A-Za-z]"
    r"|(?:บจก|หจก|บมจ)\.?\s?[\u0e01-\u0e4f.]*|บริษัท\s?[\u0e01-\u0e4f.]*)\s?$"
)
# "รับ 200 ค่าขยะ จ่าย 150 ค่ากาแฟ": a second kind word with its amount is a second entry.
_SECOND_KIND_RE = re.compile(r"(?:^|(?<=\s))(?:และ|แล้ว)?(?:รายรับ|รายจ่าย|รับ|จ่าย)(?:เงิน)?\s?(?=\d)")
_MONTH_BEFORE_RE = re.compile(rf"(?:{MONTHS})\s?$")  # "ค่าไฟ ต.ค. 69": 69 is a year
# A bare "12/3" (no year) after these words standing alone, or next to หมู่, is a house,
# stall, meter or document number, not a date ("บ้าน 12/3", "แผง 5/7", "ใบส่งของ 1/12",
# "12/3 หมู่ 4"); glued into a name it is the date ("ค่าเช่าแผง 31/7").
_TEXT_NO_BEFORE_RE = re.compile(
    r"(?:^|(?<=\s))(?:ตาม|ของ)?(?:เลขที่)?(?:บ้าน|ที่อยู่|แผง|มาตร(?:วัด)?(?:น้ำ|ไฟ)?|มิเตอร์(?:น้ำ|ไฟ)?|ห้อง|ล็อ[คก]|ซุ้ม|บูธ|บิล"
    r"|ใบส่งของ|ใบกำกับ(?:ภาษี)?|ใบแจ้งหนี้|ใบเสร็จ(?:รับเงิน)?|ใบสั่ง(?:ซื้อ|จ้าง)|สัญญา|เลข"
    r"|แปลง|โฉนด|อาคาร|ตึก"
    r"|หมู่|(?<![\u0e01-\u0e4f])ม\.)(?:ที่|เลขที่)?\s?:?\s?$"
)
_MOO_AFTER_RE = re.compile(r"\s?(?:หมู่|ม\.\s?\d)")
# A bare "12/3" after a person's name may be the house number or the date: asked.
_NAME_BEFORE_RE = re.compile(
    r"(?:^|(?<=\s)|(?<=บ้าน))(?:นาย|นางสาว|นาง|น\.ส\.|คุณ|ด\.[ชญ]\.)\s?[\u0e01-\u0e4f]+\s?$"
)

# --------------------------------------------------------------------------- dates

# A date or document number typed before the kind word ("เมื่อวาน รับ 500 ค่าขยะ",
# "ฎีกา 45/2567 จ่าย ..."): read as if it came after the entry.
_LEAD_RE = re.compile(
    rf"^(?P<lead>(?:ลง)?(?:{LEAD_DATE_WORDS})"
    rf"|{DATE_PREFIX}\d{{1,2}}[/.\-]\d{{1,2}}(?:[/.\-](?:\d{{4}}|\d{{2}}))?"
    rf"|{DATE_PREFIX}\d{{1,2}}\s?(?:{MONTHS})(?:\s?(?:\d{{4}}|\d{{2}}))?"
    r"|(?:เลขที่(?:ใบเสร็จ)?|ใบเสร็จ(?:เลขที่)?|ฎีกา(?:เลขที่)?|ฏีกา|[ฎฏ]\.|ใบสำคัญ(?:จ่าย)?)"
    r"\s?[\w/.\-]+)"
    r"\s+(?=รายรับ|รับ|รายจ่าย|จ่าย|เมื่อวาน|เมือวาน|วาน|วัน|พรุ่งนี้|มะรืน|\d|เลขที่|ใบเสร็จ"
    r"|ฎีกา|ฏีกา|ใบสำคัญ)"
)

# --------------------------------------------------------------------------- doc numbers, methods

_DOC_TOK = r"(?:[ก-ฮ]{1,4}\.?\s?|[A-Za-z]{1,4}-?)?\d+(?:[/.\-]\d+)*(?![\d/])"
_DOC_RE = re.compile(
    r"(?:ใบเสร็จ(?:รับเงิน)?\s?)?เล่ม(?:ที่)?\s?(?P<book>\d+)\s?(?:/|,|เลขที่|เลข)\s?"
    r"(?P<bno>\d+(?:/\d+)*)(?![\d/])"
    r"|(?:เลขที่ใบเสร็จ(?:รับเงิน)?|ใบเสร็จ(?:รับเงิน)?(?:\s?เลขที่)?|เลขที่(?:เอกสาร|ใบสำคัญ)?"
    r"|[ฎฏ]ีกา(?:\s?(?:เลขที่|ที่))?|(?<![\u0e01-\u0e4f])[ฎฏ]\.|ใบสำคัญ(?:จ่าย|รับ(?:เงิน)?)?(?:\s?(?:เลขที่|ที่))?|(?i:no)\.|#)"
    rf"\s?:?\s?(?P<no>{_DOC_TOK})"
)
_VIA = r"(?:(?:ชำระ|จ่าย|รับ)?(?:ด้วย|โดย|เป็น|แบบ|ผ่าน)\s?)"
_CHEQUE = r"(?:เช็[คก]|(?i:cheque|chq))"
_CHEQUE_NO_RE = re.compile(
    rf"{_VIA}?{_CHEQUE}\s?(?:เลขที่|เลข|(?i:no)\.?|#)\s?:?\s?(?P<no>\d{{4,12}})(?![\d,./])"
)
_CHEQUE_BARE_NO_RE = re.compile(rf"{_CHEQUE}\s?(?P<no>\d{{6,12}})(?![\d,.\-]|\s?(?:บาท|บ\.|฿))")
_METHOD_RE = re.compile(
    rf"(?:{_VIA}|(?<![\u0e01-\u0e4e]))"
    r"(?:(?P<cheque>เช็[คก](?!อัพ|อิน|สุขภาพ|ระบบ|ยอด|ข้อมูล|ลิสต์)|(?i:cheque|chq))"
    r"|(?P<transfer>โอน(?:เงิน)?(?!ย้าย|กรรมสิทธิ์|สิทธิ|สาย)"
    r"(?:\s?(?:ผ่านธนาคาร|ผ่านบัญชี|เข้าบัญชี|ผ่านแอป))?|พร้อมเพย์|(?i:promptpay|transfer)))"
    rf"|{_VIA}?(?P<cash>เงินสด(?!ย่อย))"
)

# --------------------------------------------------------------------------- description

# A separator before the item is the parser's; "=" or "-" glued to it is the clerk's text
# ("=SUM(A1)", "-ค่าส่ง": stored as typed; exports neutralise formulas).
_DESC_LEAD_RE = re.compile(
    r"^(?:(?:[\s,;:|>·•.]|[=\-](?!\S))+|(?:จำนวน(?:เงิน)?|เป็นเงิน|ยอด(?:เงิน)?|รายการ)\s?:?)+"
)
_DESC_TAIL_RE = re.compile(
    rf"(?:[\s,;:|=·•\-]+|จำนวน(?:เงิน)?|เป็นเงิน|ยอด(?:เงิน)?|{_POLITE}"
    r"|(?:^|(?<=\s))(?:ขอบ(?:พระ)?คุณ|ขอบใจ|ฝาก(?:ด้วย|หน่อย)|รบกวน|(?:ลง|บันทึก)ให้)[\u0e01-\u0e4f]*"
    r"|(?i:thank\s?you|thanks|thx))+$"
)  # a closing remark ("ขอบคุณที่ช่วยค่ะ", "ฝากด้วยนะคะ") is not part of the name
# A word left before a date that only ties it on ("เมื่อ 30 พ.ย.", "ตั้งแต่เมื่อวาน"): dropped.
_DATE_LINK_RE = re.compile(r"(?:^|(?<=\s))(?:ตั้งแต่|เมื่อ|ณ|ลง)\s?$")
# "... แล้วระบบกลับมายังคะ": a question (has it ... yet?) glued after the entry.
_TAIL_QUESTION_RE = re.compile(rf"(?:^|(?<=\s))(?P<q>\S*ยัง\s?{_PARTICLES})\s*$")
_STRAY_PUNCT_RE = re.compile(r"\(\s*\)|\[\s*\]|(?<!\S)[.,;:!~=|\-]+(?!\S)")
_LETTER_RE = re.compile(r"[A-Za-z\u0e01-\u0e2e]")
_PROTECT = "\ue000"


# =========================================================================== public API


@dataclass(frozen=True)
class LineResult:
    """The outcome of one non-empty line of a multi-line paste."""

    line_no: int
    text: str
    result: ParsedEntry | EntryError | NotAnEntry

    @property
    def entry(self) -> ParsedEntry | None:
        """The parsed entry, or None when the line was refused or is not an entry."""
        return self.result if isinstance(self.result, ParsedEntry) else None

    @property
    def error(self) -> EntryError | None:
        """The refusal (Thai message in ``str(error)``), or None."""
        return self.result if isinstance(self.result, EntryError) else None


def format_example(kind: Kind | None = None) -> str:
    """The ``ตัวอย่าง: ...`` line shown with every refusal.

    Args:
        kind: ``"payment"`` for a payment example; anything else gives the receipt example.

    Returns:
        For example ``"ตัวอย่าง: รับ 1,500 ค่าขยะ เมื่อวาน"``.
    """
    return f"ตัวอย่าง: {EXAMPLE_PAYMENT if kind == 'payment' else EXAMPLE_RECEIPT}"


def looks_like_entry(text: str) -> bool:
    """Cheap check (regex only): would :func:`parse_entry` treat the text as an entry attempt?

    True exactly when :func:`parse_entry` would not raise :class:`NotAnEntry` (it may still
    raise :class:`EntryError` for a malformed entry).
    """
    return _prepare(_normalise(text)) is not None


def parse_entry(text: str, today: date) -> ParsedEntry:
    """Parse one quick-entry line typed by a clerk.

    Grammar: a kind word first (``รับ``/``รับเงิน``/``รายรับ``/``+`` or ``จ่าย``/``จ่ายเงิน``/
    ``รายจ่าย``/``-``), then in any order an amount, a description and optional date, document
    number and payment method. Thai digits, thousands commas, ``บาท``/``บ.``/``บ``/``.-``,
    ``สตางค์``, thousands as ``1.5k`` and Thai number words are accepted. A second kind word
    with an amount (``รับ 200 ค่าขยะ จ่าย 150 ค่ากาแฟ``) is refused: one entry a line.

    Amount: a number before a counting word (``3 ราย``, ``15 คน``) is a count, never the amount.
    Otherwise the number directly after the kind word; otherwise the first number marked with
    ``บาท``/``บ.``/``.-``/``สตางค์`` or after ``จำนวนเงิน``/``ยอด``; otherwise the first number.
    Numbers after ``หมู่``/``ปี``/``ซอย``/``รายการ``/``รหัส…``/``เล่ม``/a plate prefix such as
    ``กข`` are never the amount. Unmarked numbers before a marked amount are text. Any other number
    (not a count, a price per unit, an ordinal or a name such as ``ล็อค 12``) is a second
    amount and refused; the same amount again in words is dropped, other words are refused.
    Number words with a bare trailing digit (``สองพันห้าบาท``: 2,005 or 2,500?) are refused as
    ambiguous unless written formally with ``ถ้วน`` or สตางค์.

    Date: ``วันนี้``/``เมื่อวาน``/``วานนี้``/``เมื่อวานซืน``, ``2 วันก่อน``, ``d/m/y`` (also ``-``
    or ``.``), ``9 ก.ค. 67``, ``9 กรกฎาคม 2567`` (or ``กรกฏาคม``), ``2024-07-09``, ``สองวันก่อน``,
    a weekday (``วันศุกร์`` or ``ศุกร์``: the latest not after today, today included;
    ``วันศุกร์ที่แล้ว``: Friday of last week; a bare ``อาทิตย์`` may be a week and is asked).
    A slip of one letter or mark in ``เมื่อวาน``/``เมื่อวานซืน`` (``มื่อวาน``) is that word;
    ``เมื่อ``/``ตั้งแต่``/``ณ`` before a date is dropped. Without a year (``9 ก.ค.``,
    ``15/7``, ``วันที่ 15/7``): the most recent such day that is not in the future, except that
    a day at most ``YEARLESS_AHEAD_DAYS`` ahead (also across the new year) is that one and
    refused (``ParsedEntry.year_assumed`` is set so the echo can name the year). ``วันที่ 15``:
    this month, or last month (refused when last month has no such day). A date range or a
    vague time (``28-30 พ.ย.``, ``เดือนที่แล้ว``) is refused unless a date is given as well; a
    date before :func:`earliest_entry_date` is refused. A bare ``3/2`` after ``หมู่``/
    ``ห้อง``/``บ้าน``/``แผง``/``มาตร``/``บิล``/``ใบส่งของ`` and the like, next to ``หมู่``, or
    before a quantity word (``1/2 ถัง``), stays in the description; after a person's name
    (``นายมา 12/3``) it is asked.
    A 4-digit year above 2400 is Buddhist era, otherwise Christian era. A 2-digit year is
    Buddhist era when 25yy is within 10 years of today's BE year, else 20yy CE when that is,
    else Buddhist era (then refused as too old or ahead).

    Document number (``doc_no``): the number text after ``เลขที่``, ``เลขที่ใบเสร็จ``,
    ``ใบเสร็จ``, ``ฎีกา``/``ฏีกา``/``ฎ.``, ``ใบสำคัญ``, ``No.`` or ``#``, kept as typed (slashes,
    leading zeros): ``ฎีกา 45/2567`` -> ``"45/2567"``; ``เล่มที่ 3 เลขที่ 45`` -> ``"3/45"``.
    The first one wins; further ones stay in the description. A cheque number
    (``เช็คเลขที่ 1234567``, or ``เช็ค 1234567`` when the amount is elsewhere) becomes the
    ``doc_no`` when there is none, else it is kept in the description as ``เช็คเลขที่ ...``.

    Method: ``เงินสด`` -> cash; ``เช็ค``/``เช็ก``/``cheque`` -> cheque; ``โอน``/``โอนเงิน``/
    ``transfer``/``พร้อมเพย์`` -> transfer. Date, method and document words are removed from
    the description; emoji are dropped and Thai digits become Arabic digits everywhere
    (also in ``doc_no``). Polite endings and thanks (``ขอบคุณค่ะ``) at the end are dropped; a
    question glued at the end (``…กลับมายังคะ``) is refused with the entry alone as the example.

    Two numbers side by side where the amount goes (``รับ 1500 200 ค่าขยะ``) are refused as
    ambiguous.

    Not an entry: no kind word at the start, a question (``?``, ``ยังไง``, ``ไหม`` ...), a kind
    word glued into another word (``รับทราบ``, ``รับรอง``) or telling a mistake (``จ่ายผิด``,
    ``รับซ้ำ``), ``+``/``-`` not followed by a number, a number word or ``ค่า``, or followed by
    a number and no word of what the money is for (``+1 เห็นด้วยค่ะ``, ``+100``), a kind word
    glued to text without a number (``จ่ายเช็ค``), or
    text longer than ``MAX_LINE`` characters. A spaced kind word or one before ``ค่า…`` with no
    amount (``รับ ค่าขยะ``, ``จ่ายค่าไฟ``) *is* an entry attempt: EntryError says what is
    missing.

    Args:
        text: The line as typed.
        today: The clerk's current date (entries may not be dated after it).

    Returns:
        The validated entry.

    Raises:
        NotAnEntry: The text is not meant as an entry (see above).
        EntryError: Meant as an entry but malformed; ``str(e)`` is a short Thai message that
            ends with a ``ตัวอย่าง: ...`` line.
    """
    prepared = _prepare(_normalise(text))
    if prepared is None:
        raise NotAnEntry(text)
    kind, rest = prepared
    return _Parser(kind, rest, today).parse()


def count_as_amount(text: str, today: date) -> ParsedEntry | None:
    """The entry to offer for a line refused because its only candidate amount reads as a
    count right after the kind word beside a name (``จ่าย 500 โครงการ 5 ส.``: "500 โครงการ" is
    a count, "5 ส." part of a name): that number as the amount, for the clerk to confirm.
    None for any other line (``รับ 3 ราย``, ``จ่าย 500 โครงการ`` stay refused)."""
    prepared = _prepare(_normalise(text))
    if prepared is None:
        return None
    kind, rest = prepared
    refused = _Parser(kind, rest, today)
    try:
        refused.parse()
        return None
    except EntryError:
        pass
    end = refused.lead_count
    if end is None or not refused.names:
        return None
    try:
        return _Parser(kind, f"{rest[:end]} บาท{rest[end:]}", today).parse()
    except EntryError:
        return None


def dot_readings(num: str) -> list[Decimal]:
    """The amounts figures such as ``1.200`` may mean: a dot typed for a thousands comma
    (1,200), and the decimal reading (1.20) when it makes whole satang; empty for figures
    without that doubt (``1.20``, ``1,200``, ``1500.500``)."""
    if not _DOT_GROUPS_RE.fullmatch(num) or not num.split(".")[0].strip("0"):
        return []  # "0.001" is no thousands grouping
    out = [Decimal(num.replace(".", ""))]
    if num.count(".") == 1 and num.endswith("0"):
        out.append(Decimal(num).quantize(CENT))
    return out


def dot_amount_readings(text: str, today: date) -> list[ParsedEntry]:
    """The entries a line refused for an amount such as ``จ่าย 1.200 ค่าน้ำมัน`` may mean, one
    for each of :func:`dot_readings`, for the clerk to pick; empty for any other line."""
    prepared = _prepare(_normalise(text))
    if prepared is None:
        return []
    kind, rest = prepared
    dotted = [m for m in _AMOUNT_RE.finditer(rest)
              if m["num"] and not m["kilo"] and dot_readings(m["num"])]
    if len(dotted) != 1:
        return []
    start, end = dotted[0].span("num")
    out = []
    for value in dot_readings(dotted[0]["num"]):
        try:
            entry = _Parser(kind, f"{rest[:start]}{value:f}{rest[end:]}", today).parse()
        except EntryError:
            return []
        if entry.amount != value:  # the dotted figures were not the amount
            return []
        out.append(entry)
    return out


def parse_entries(text: str, today: date) -> list[LineResult]:
    """Parse a multi-line paste; every non-empty line is parsed on its own.

    Args:
        text: One or more lines.
        today: The clerk's current date.

    Returns:
        One :class:`LineResult` per non-empty line (``line_no`` counts all lines, from 1),
        holding a ParsedEntry, an EntryError or a NotAnEntry.
    """
    results: list[LineResult] = []
    for no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        result: ParsedEntry | EntryError | NotAnEntry
        try:
            result = parse_entry(line, today)
        except (EntryError, NotAnEntry) as exc:
            result = exc
        results.append(LineResult(no, line, result))
    return results


def describe(entry: ParsedEntry | Entry) -> str:
    """One-line Thai confirmation of a parsed or saved entry (a save, a void).

    Example: ``รับ 1,500.00 บาท (หนึ่งพันห้าร้อยบาทถ้วน) ค่าขยะ · 15 ก.ค. 2567 · เงินสด ·
    เลขที่ 12/345``.
    """
    parts = [
        f"{KIND_TH[entry.kind]} {format_baht(entry.amount)} "
        f"({amount_in_words(entry.amount)}) {entry.description}",
        thai_date(entry.date),
    ]
    if entry.method:
        parts.append(METHOD_TH[entry.method])
    if entry.doc_no:
        parts.append(f"เลขที่ {entry.doc_no}")
    return " · ".join(parts)


def format_entry(entry: ParsedEntry) -> str:
    """The canonical quick-entry line for an entry; :func:`parse_entry` reads it back.

    Example: ``รับ 1,500.00 ค่าขยะ 15/7/2567 เงินสด เลขที่ 12/345``.
    """
    d = entry.date
    parts = [
        KIND_TH[entry.kind],
        format_amount(entry.amount),
        entry.description,
        f"{d.day}/{d.month}/{be_year(d)}",
    ]
    if entry.method:
        parts.append(METHOD_TH[entry.method])
    if entry.doc_no:
        parts.append(f"เลขที่ {entry.doc_no}")
    return " ".join(parts)


def parse_period(text: str, today: date) -> tuple[date, date]:
    """Read a period for summaries and exports; both ends are inclusive.

    Accepted: any single date that :func:`parse_entry` accepts (one day); a range of two dates
    joined by ``-``, ``ถึง`` or ``–``; a month (``ก.ค. 2567``, ``กรกฎาคม 67``, ``7/2567``, or
    ``ก.ค.`` = the latest such month not after today); ``วันนี้``, ``เมื่อวาน``,
    ``สัปดาห์นี้``/``สัปดาห์ที่แล้ว`` (Monday to Sunday), ``เดือนนี้``/``เดือนที่แล้ว``,
    ``ปีนี้``/``ปีที่แล้ว``, ``ปี 2567`` (calendar year, BE or CE), ``ปีงบ 2567`` and
    ``ปีงบนี้`` (Thai fiscal year 1 Oct - 30 Sep), ``7 วัน`` (the last 7 days), ISO dates.
    Empty text means today.

    Args:
        text: The period as typed.
        today: The clerk's current date.

    Returns:
        ``(first_day, last_day)`` with ``first_day <= last_day`` (ends typed in reverse order
        are swapped).

    Raises:
        EntryError: The period cannot be read; the Thai message ends with an example line.
    """
    text = _normalise(text)
    text = PERIOD_LEAD_RE.sub("", text).strip()
    text = ENGLISH_PERIODS.get(text.lower(), text)
    if not text:
        return today, today
    found = _period_one(text, today)
    if found is None:
        for m in PERIOD_SPLIT_RE.finditer(text):
            left = _period_one(text[: m.start()].strip(), today)
            right = _period_one(text[m.end() :].strip(), today) if left else None
            if left and right:
                found = (min(left[0], right[0]), max(left[1], right[1]))
                break
    if found is None:
        if NUMERIC_DATES_RE.fullmatch(text):  # "32/1": the date that no calendar has
            bad = next((d for d in re.findall(NUMERIC_DATE, text) if not _reads(d, today)), text)
            raise EntryError(f"ไม่มีวันที่ “{bad}” ในปฏิทิน\n{PERIOD_EXAMPLE}")
        raise EntryError(f"อ่านช่วงวันที่ “{text}” ไม่ได้\n{PERIOD_EXAMPLE}")
    return found


# =========================================================================== internals


def _normalise(text: str) -> str:
    text = _JUNK_RE.sub(" ", visible(text).translate(_TRANSLATE)).replace("\u0e4d\u0e32", "\u0e33")
    return _SPACES_RE.sub(" ", text).strip()


def _prepare(text: str) -> tuple[Kind, str] | None:
    """The kind and the text after the kind word, or None when this is not an entry attempt."""
    if len(text) > MAX_LINE:
        return None
    text = _BULLET_RE.sub("", text)
    for _ in range(3):  # "ฎีกา 77/2567 เมื่อวาน จ่าย ...": each lead goes to the end
        lead = _LEAD_RE.match(text)
        if lead is None:
            break
        text = f"{text[lead.end():]} {lead['lead']}"
    m = _KIND_RE.match(text)
    if m is None:
        return None
    rest = text[m.end() :]
    if m["sym"]:
        if not _SYM_AMOUNT_RE.match(rest) or _VOTE_RE.match(rest):
            return None
        kind: Kind = "receipt" if m["sym"] == "+" else "payment"
    else:
        kind = "receipt" if m["receipt"] else "payment"
        if _STOP_RE.match(rest):
            return None
    if _QUESTION_RE.search(rest):
        return None
    # "รับ ค่าขยะ", "จ่ายค่าไฟ": the kind word on its own or before "ค่า…" is an entry missing
    # its amount (the clerk gets the parser's message); "จ่ายเช็ค", "+ สมาชิกใหม่" are not.
    if not _TRIES_RE.search(rest):
        bare = rest.lstrip()
        alone = not m["sym"] and not re.sub(_PARTICLES, "", bare).strip()  # "จ่าย" alone
        if not (bare.startswith("ค่า") or alone or (rest[:1].isspace() and not m["sym"])):
            return None
        if _STOP_RE.match(bare) or _CHAT_AFTER_KIND_RE.match(bare) or _ASKS_RE.search(bare):
            return None
    return kind, rest


class _Bad(Exception):
    """Internal: a number-word sequence that is not a number."""


class _Ambiguous(Exception):
    """Internal: a number-word sequence with two plausible readings (พันห้า)."""


def _words_value(text: str, formal: bool) -> Decimal:
    """Value of Thai number words, possibly mixed with digits (``2หมื่น5พัน``, ``1.5 ล้าน``)."""
    tokens = _WTOK_RE.findall(text)
    total = Decimal(0)
    group = Decimal(0)
    pending: Decimal | None = None
    pending_tok = ""
    group_last = _MILLION * 10  # last multiplier in the current group (must decrease)
    last_mult = 0  # last multiplier seen at all
    for i, tok in enumerate(tokens):
        mult = _MULTS.get(tok)
        if mult is None:
            if pending is not None:
                raise _Bad
            if tok == "ยี่" and (i + 1 >= len(tokens) or tokens[i + 1] != "สิบ"):
                raise _Bad
            pending = Decimal(_DIGIT_WORDS[tok]) if tok in _DIGIT_WORDS else Decimal(tok)
            pending_tok = tok
            continue
        if mult == _MILLION:
            g = group + (pending if pending is not None else 0)
            total = (total + (g if g or total else Decimal(1))) * mult
            group, pending, group_last = Decimal(0), None, _MILLION * 10
        else:
            if mult >= group_last:
                raise _Bad
            group += (pending if pending is not None else 1) * mult
            pending, group_last = None, mult
        last_mult = mult
    if pending is not None:
        if last_mult and pending >= min(group_last, last_mult):
            raise _Bad  # "ห้าร้อย1500"
        single = pending < 10 and pending == pending.to_integral_value()
        if last_mult >= 100 and single and pending_tok != "เอ็ด" and not formal:
            raise _Ambiguous
        group += pending
    return total + group


def _reads(text: str, today: date) -> bool:
    """True when ``text`` alone reads as a period."""
    try:
        return _period_one(text, today) is not None
    except EntryError:
        return False


def _period_one(text: str, today: date) -> tuple[date, date] | None:
    """A period written without a range separator, or None."""
    if not text:
        return None
    if text in NAMED_PERIODS:
        named = named_period(text, today)
        if named:
            return named
    if m := re.fullmatch(r"(\d{1,3})\s?วัน(?:ล่าสุด|ที่ผ่านมา|หลังสุด)?", text):
        days = int(m[1])
        if days >= 1:
            return today - timedelta(days=days - 1), today
    if ISO_DATE_RE.fullmatch(text):
        try:
            d = iso_day(text, today)
        except ValueError:
            raise EntryError(f"ไม่มีวันที่ “{text}” ในปฏิทิน\n{PERIOD_EXAMPLE}") from None
        return d, d
    if m := MONTH_PERIOD_RE.fullmatch(text):
        if m["m"]:
            month, year = int(m["m"]), resolve_year(m["y2"], today)
        else:
            month = MONTH_NO[m["mon"].replace(".", "").replace(" ", "")]
            if m["y"]:
                year = resolve_year(m["y"], today, m["era"])
            else:
                year = today.year if month <= today.month else today.year - 1
        if not 1 <= month <= 12 or year < 1900:
            raise EntryError(f"ไม่มีเดือน “{text}” ในปฏิทิน\n{PERIOD_EXAMPLE}")
        return month_span(year, month)
    if m := YEAR_PERIOD_RE.fullmatch(text):
        year = resolve_year(m["y"], today)
        if m["fy"]:
            return date(year - 1, 10, 1), date(year, 9, 30)
        if text.startswith("ปี") or "ศ" in text:
            return date(year, 1, 1), date(year, 12, 31)
    parser = _Parser("receipt", text, today)
    try:
        parser.take_dates()
    except EntryError as exc:
        problem = str(exc).split("\n", 1)[0]
        raise EntryError(f"{problem}\n{PERIOD_EXAMPLE}") from None
    if len(set(parser.dates)) == 1 and not parser.rest.strip(_SEPARATORS) and not parser.ranges:
        return parser.dates[0], parser.dates[0]
    return None


class _Parser:
    """One entry's parse state: the text after the kind word, blanked as parts are taken."""

    def __init__(self, kind: Kind, rest: str, today: date) -> None:
        self.kind = kind
        self.rest = rest
        self.today = today
        self.protected: list[tuple[int, str]] = []
        self.dates: list[date] = []
        self.methods: list[Method] = []
        self.doc_no: str | None = None
        self.cheque_no: str | None = None
        self.bare_cheque: tuple[int, int, str] | None = None
        self.echoes: list[re.Match[str]] = []  # one amount in figures and again in words
        self.counts: list[str] = []  # "3 ราย": numbers passed over as counts
        self.lead_count: int | None = None  # where "500 โครงการ" ends, right after the kind word
        self.names = 0  # "5 ส.": numbers passed over as part of a name
        self.year_assumed = False
        self.ranges: list[str] = []  # "28-30 พ.ย.": date ranges, kept in the description
        self.vague: list[str] = []  # "เดือนที่แล้ว": time words that are not one day

    # ---------------------------------------------------------------- helpers

    def fail(self, problem: str, example: str | None = None) -> EntryError:
        hint = f"ตัวอย่าง: {example}" if example else format_example(self.kind)
        return EntryError(f"{problem}\n{hint}")

    def date_example(self) -> str:
        t = self.today
        word = KIND_TH[self.kind]
        what = "2,500 ค่าน้ำมันรถ" if self.kind == "payment" else "1,500 ค่าขยะ"
        return f"{word} {what} {t.day}/{t.month}/{be_year(t)}"

    def blank(self, start: int, end: int, char: str = " ") -> None:
        self.rest = self.rest[:start] + char * (end - start) + self.rest[end:]

    def blank_date(self, start: int, end: int) -> None:
        """Blank a date taken, with a word before it that only ties it on (``เมื่อ``)."""
        link = _DATE_LINK_RE.search(self.rest, max(0, start - 10), start)
        self.blank(link.start() if link else start, end)

    def protect(self, start: int, end: int) -> None:
        self.protected.append((start, self.rest[start:end]))
        self.blank(start, end, _PROTECT)

    # ---------------------------------------------------------------- pipeline

    def parse(self) -> ParsedEntry:
        self.refuse_both_kinds()
        self.refuse_two_entries()
        for m in _HOUSE_NO_RE.finditer(self.rest):
            self.protect(*m.span())
        self.take_cheque_no()
        self.take_doc_nos()
        self.take_dates()
        self.refuse_unclear_date()
        self.take_methods()
        amount = self.take_amount()
        entry_date = self.resolve_date()
        method = self.resolve_method()
        question = self.take_tail_question()
        description = self.description()
        doc_no = self.doc_no
        if self.cheque_no:
            if doc_no is None:
                doc_no = self.cheque_no
            else:
                description = f"{description} เช็คเลขที่ {self.cheque_no}".strip()
        if not _LETTER_RE.search(description):
            word = KIND_TH[self.kind]
            raise self.fail(f"{word} {format_baht(amount)} เป็นค่าอะไรคะ ใส่ชื่อรายการต่อท้ายด้วย",
                            f"{word} {format_amount(amount).removesuffix('.00')} "
                            f"{'ค่าน้ำมันรถ' if self.kind == 'payment' else 'ค่าขยะ'}")
        entry = ParsedEntry(self.kind, amount, description, entry_date, doc_no, method,
                            year_assumed=self.year_assumed)
        if question:  # the question is not saved as the name: the entry alone, to send again
            raise self.fail(f"มีคำถาม “{question}” ต่อท้าย ยังไม่ได้บันทึก ส่งรายการกับคำถาม"
                            "แยกกันนะคะ", format_entry(entry))
        return entry

    def take_tail_question(self) -> str | None:
        """``รับ 460 ค่าปรับ แล้วระบบกลับมายังคะ``: the question glued after the entry, taken out
        of the name (the entry is then refused, see :meth:`parse`)."""
        m = _TAIL_QUESTION_RE.search(self.rest)
        if m is None:
            return None
        self.blank(*m.span())
        return m["q"].strip()

    def refuse_two_entries(self) -> None:
        for m in _SECOND_KIND_RE.finditer(self.rest):
            amount = _AMOUNT_RE.match(self.rest, m.end())
            if amount and not _COUNT_AFTER_RE.match(self.rest, amount.end()):
                first = self.rest[: m.start()].strip()
                raise self.fail("มีสองรายการในบรรทัดเดียว ยังไม่ได้บันทึก ลงบรรทัดละรายการนะคะ "
                                "(ส่งหลายบรรทัดในข้อความเดียวได้)",
                                f"{KIND_TH[self.kind]} {first}")

    def refuse_both_kinds(self) -> None:
        if _BOTH_KINDS_RE[self.kind].match(self.rest):
            raise self.fail("ไม่แน่ใจว่าเป็นรายรับหรือรายจ่าย ยังไม่ได้บันทึก "
                            "ขึ้นต้นด้วย “รับ” หรือ “จ่าย” อย่างใดอย่างหนึ่ง")

    def refuse_unclear_date(self) -> None:
        """A range or a vague time word with no one date beside it: ask for the date (the
        entry would otherwise be dated today without a word)."""
        if self.dates:
            return
        t = self.today
        if self.ranges:
            raise self.fail(f"“{self.ranges[0]}” เป็นช่วงวันที่ ยังไม่ได้บันทึก ใส่วันที่{KIND_TH[self.kind]}"
                            "เงินวันเดียวต่อท้าย (ช่วงวันที่เก็บไว้ในรายการได้)",
                            f"จ่าย 500 ค่าเบี้ยเลี้ยง 28-30 พ.ย. {t.day}/{t.month}/{be_year(t)}")
        if self.vague:
            raise self.fail(f"“{self.vague[0]}” ไม่ใช่วันที่ที่ชัดเจน ยังไม่ได้บันทึก "
                            f"ใส่วันที่{KIND_TH[self.kind]}เงินด้วย (ถ้าเป็นวันนี้ พิมพ์ “วันนี้”)",
                            self.date_example())

    def take_cheque_no(self) -> None:
        m = _CHEQUE_NO_RE.search(self.rest)
        if m:
            self.cheque_no = m["no"]
            self.methods.append("cheque")
            self.blank(*m.span())
            return
        bare = _CHEQUE_BARE_NO_RE.search(self.rest)
        if bare:  # "เช็ค 1234567": a cheque number only if the amount is elsewhere
            self.bare_cheque = (*bare.span("no"), bare["no"])

    def take_doc_nos(self) -> None:
        for m in _DOC_RE.finditer(self.rest):
            if self.doc_no is None:
                self.doc_no = f"{m['book']}/{m['bno']}" if m["book"] else m["no"]
                self.blank(*m.span())
            else:
                self.protect(*m.span())

    def take_dates(self) -> None:
        for m in DATE_RANGE_RE.finditer(self.rest):
            if not m["m1"] and not int(m["d1"]) < int(m["d2"]) <= 31:
                continue
            self.ranges.append(m.group().strip())
            self.protect(*m.span())
        for m in ISO_ENTRY_DATE_RE.finditer(self.rest):
            y = resolve_year(m["y"], self.today)
            self.add_date(y, int(m["m"]), int(m["d"]), m.group())
            self.blank_date(*m.span())
        for m in NUM_DATE_RE.finditer(self.rest):
            y = resolve_year(m["y"], self.today)
            self.add_date(y, int(m["m"]), int(m["d"]), self.rest[m.start("d") : m.end()])
            self.blank_date(*m.span())
        for m in MONTH_DATE_RE.finditer(self.rest):
            month = MONTH_NO[m["mon"].replace(".", "").replace(" ", "")]
            end = m.end()
            typed = self.rest[m.start("d") : end]
            if m["y"] and plausible_year(m["y"]):
                y = resolve_year(m["y"], self.today, m["era"])
                self.add_date(y, month, int(m["d"]), typed)
            else:
                end = m.end("mon")
                self.add_yearless(month, int(m["d"]), self.rest[m.start("d") : end])
            self.blank_date(m.start(), end)
        for m in DAY_MONTH_RE.finditer(self.rest):
            self.add_yearless(int(m["m"]), int(m["d"]), self.rest[m.start("d") : m.end()])
            self.blank_date(*m.span())
        for m in BARE_DAY_MONTH_RE.finditer(self.rest):
            before = self.rest[max(0, m.start() - 20) : m.start()]
            if (_NOT_AMOUNT_BEFORE_RE.search(before) or _TEXT_NO_BEFORE_RE.search(before)
                    or _MOO_AFTER_RE.match(self.rest, m.end())):
                continue  # "หมู่ 3/2", "บ้าน 12/3", "ใบส่งของ 1/12": a number, not a date
            if _NAME_BEFORE_RE.search(before):
                raise self.fail(f"“{m.group()}” เป็นวันที่หรือบ้านเลขที่คะ ยังไม่ได้บันทึก "
                                f"ถ้าเป็นวันที่ พิมพ์ “วันที่ {m.group()}” ถ้าเป็นบ้านเลขที่ "
                                f"พิมพ์ “บ้านเลขที่ {m.group()}”", self.date_example())
            self.add_yearless(int(m["m"]), int(m["d"]), m.group())
            self.blank_date(*m.span())
        for m in DAY_ONLY_RE.finditer(self.rest):
            self.add_day_only(int(m["d"]), m.group().strip())
            self.blank_date(*m.span())
        for m in WORD_RE.finditer(self.rest):
            word = re.sub(f"{_POLITE}+$", "", m.group())
            if slip := date_word_slip(word):  # "มื่อวาน": a slip for เมื่อวาน
                self.dates.append(self.today - timedelta(days=days_back(slip)))
                self.blank_date(m.start(), m.start() + len(word))
        for m in RELATIVE_RE.finditer(self.rest):
            self.dates.append(self.today - timedelta(days=days_back(m["w"])))  # ahead: refused
            self.blank_date(*m.span())
        for m in DAYS_AGO_RE.finditer(self.rest):
            self.dates.append(self.today - timedelta(days=days_ago(m["n"])))
            self.blank_date(*m.span())
        for m in WEEKDAY_RE.finditer(self.rest):
            self.dates.append(weekday_date(m["a"] or m["b"], m["when"], self.today))
            self.blank_date(*m.span())
        for m in VAGUE_DATE_RE.finditer(self.rest):
            self.vague.append(m.group())

    def make_date(self, y: int, mo: int, d: int, typed: str) -> date:
        try:
            if y < 1900:
                raise ValueError
            return date(y, mo, d)
        except ValueError:
            raise self.fail(f"ไม่มีวันที่ “{typed}” ในปฏิทิน", self.date_example()) from None

    def add_date(self, y: int, mo: int, d: int, typed: str) -> None:
        self.dates.append(self.make_date(y, mo, d, typed))

    def add_yearless(self, mo: int, d: int, typed: str) -> None:
        """The most recent such day, unless this year's is at most a month ahead: that one is
        kept (and refused as in the future), since a slip of a few days must not save an entry
        a year back."""
        self.year_assumed = True
        t = self.today
        for y in (t.year, t.year + 1):  # "1/1" typed on 2 Dec is next month, not 11 months back
            try:
                ahead = (date(y, mo, d) - t).days
            except ValueError:  # 29 Feb of a common year, or no such day at all
                continue
            if 0 < ahead <= YEARLESS_AHEAD_DAYS:
                self.dates.append(date(y, mo, d))
                return
        self.dates.append(self.make_date(latest_year_with(mo, d, t), mo, d, typed))

    def add_day_only(self, d: int, typed: str) -> None:
        """``วันที่ 28``: this month's 28th if not after today, else last month's. A day last
        month does not have (``วันที่ 31`` in early December) asks for the month."""
        y, mo = self.today.year, self.today.month
        if d > self.today.day:
            y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
            if 1 <= d <= 31 and d > month_span(y, mo)[1].day:
                raise self.fail(f"ไม่แน่ใจว่า “{typed}” คือเดือนไหน (เดือน {THAI_MONTHS_SHORT[mo - 1]} "
                                f"มีถึงวันที่ {month_span(y, mo)[1].day}) ยังไม่ได้บันทึก "
                                "ใส่เดือนด้วย", self.date_example())
        self.dates.append(self.make_date(y, mo, d, typed))

    def take_methods(self) -> None:
        for m in _METHOD_RE.finditer(self.rest):
            method: Method = "cash" if m["cash"] else "cheque" if m["cheque"] else "transfer"
            self.methods.append(method)
            self.blank(*m.span())

    def take_amount(self) -> Decimal:
        if (
            self.bare_cheque is not None
            and self.rest[self.bare_cheque[0] : self.bare_cheque[1]] == self.bare_cheque[2]
        ):
            saved = self.rest
            start, end, self.cheque_no = self.bare_cheque
            self.blank(start, end)
            found = self.find_amount()
            if found is None:  # the number after เช็ค is the amount after all
                self.cheque_no = None
                self.rest = saved
            else:
                return self.use_amount(found)
        found = self.find_amount()
        if found is None:
            self.fail_no_amount()
        self.refuse_two_numbers(found)
        self.refuse_other_amounts(found)
        per = _PER_UNIT_BEFORE_RE.search(self.rest, max(0, found.start() - 16), found.start())
        if per:
            typed = f"{per['w']} {found.group().strip()}"
            raise self.fail(f"“{typed}” เป็นราคาต่อหน่วย ยังไม่ได้บันทึก ใส่ยอดรวมที่จ่ายจริง",
                            f"{KIND_TH[self.kind]} 900 ค่าจ้าง 3 คน คนละ 300")
        return self.use_amount(found)

    def refuse_two_numbers(self, found: re.Match[str]) -> None:
        """``รับ 1500 200 ค่าขยะ`` or ``รับ 1500 หรือ 1600``: two numbers side by side (or either-or)
        where the amount goes; ask."""
        for m in _AMOUNT_RE.finditer(self.rest):
            if m.span() == found.span() or m["num"] is None or m["neg"]:
                continue
            if any(m.span() == e.span() for e in self.echoes):
                continue
            gap = (self.rest[found.end() : m.start()] if m.start() >= found.end()
                   else self.rest[m.end() : found.start()])
            if m.start() < found.end() and m.end() > found.start():
                continue
            apart = gap.strip(" ,;:/") and not _EITHER_RE.fullmatch(gap)
            before = self.rest[max(0, m.start() - 16) : m.start()]
            if apart or _NOT_AMOUNT_BEFORE_RE.search(before) or _ORDINAL_BEFORE_RE.search(before):
                continue
            one, two = sorted((found, m), key=lambda x: x.start())
            raise self.fail(f"มีตัวเลขติดกันสองจำนวน (“{one.group().strip()}” และ "
                            f"“{two.group().strip()}”) ไม่แน่ใจว่าจำนวนเงินคือเท่าไร "
                            "ยังไม่ได้บันทึก พิมพ์ใหม่ให้มีจำนวนเงินจำนวนเดียว")

    def mismatch(self, a: re.Match[str], b: re.Match[str]) -> EntryError:
        digits, words = (a, b) if a["words"] is None else (b, a)
        return self.fail(f"จำนวนเงินตัวเลข “{digits.group().strip()}” กับตัวหนังสือ "
                         f"“{words.group().strip()}” ไม่ตรงกัน ยังไม่ได้บันทึก "
                         "พิมพ์จำนวนเงินที่ถูกต้องแบบเดียว")

    def refuse_other_amounts(self, found: re.Match[str]) -> None:
        """Another amount beside the one found: the same amount in words is kept as an echo
        (``1,500 (หนึ่งพันห้าร้อยบาท)``), words that say another amount or a second amount
        in figures (``รับ 1,500 ค่าขยะ 3 ราย 200``) are refused."""
        for m in _AMOUNT_RE.finditer(self.rest):
            if (m.start() < found.end() and m.end() > found.start()) or m["neg"]:
                continue
            if any(m.span() == e.span() for e in self.echoes):
                continue
            before = self.rest[max(0, m.start() - 16) : m.start()]
            if (_NOT_AMOUNT_BEFORE_RE.search(before) or _PER_UNIT_BEFORE_RE.search(before)
                    or _ORDINAL_BEFORE_RE.search(before)):
                continue
            marked = bool(m["unit"] or m["csat"] or m["thuan"])
            if not marked and (_COUNT_AFTER_RE.match(self.rest, m.end()) or self.in_name(m)):
                continue
            if m.start() < found.start() and not self.is_marked(m) and self.is_marked(found):
                continue  # "โครงการ 3 จำนวนเงิน 150,000": the marked amount wins over a label
            if (m["words"] is None) != (found["words"] is None):
                gap = (self.rest[found.end() : m.start()] if m.start() >= found.end()
                       else self.rest[m.end() : found.start()])
                beside = not gap.strip(" ()[]=:,-") or before.rstrip().endswith("(")
                in_text = m["words"] is not None and not (
                    marked or beside or _HAS_DIGIT_RE.search(m["words"]))
                if in_text:
                    continue  # number words inside a description ("ร้อยเอ็ด")
                if not self.same_amount_in_words(found, m):
                    raise self.mismatch(found, m)
                self.echoes.append(m)
                continue
            if m["words"] is not None:
                continue  # two word chains: a description word after all
            if _MONTH_BEFORE_RE.search(before) and re.fullmatch(r"\d{2}|25\d\d|20\d\d", m["num"]):
                continue  # "ค่าไฟ ต.ค. 69": a year
            one, two = sorted((found, m), key=lambda x: x.start())
            raise self.fail(f"มีจำนวนเงินสองจำนวน (“{one.group().strip()}” และ "
                            f"“{two.group().strip()}”) ยังไม่ได้บันทึก ใส่จำนวนเงินจำนวนเดียว "
                            "(ถ้าเป็นจำนวนนับ ใส่หน่วยด้วย เช่น 3 ราย)")

    def find_amount(self) -> re.Match[str] | None:
        """The amount: the number right after the kind word, else the marked one, else the first.

        Two numbers marked as money (``บาท``, ``.-``, ``สตางค์``) are refused as ambiguous.
        """
        leading: re.Match[str] | None = None
        marked: re.Match[str] | None = None
        first: re.Match[str] | None = None
        for m in _AMOUNT_RE.finditer(self.rest):
            start = m.start()
            if _NOT_AMOUNT_BEFORE_RE.search(self.rest, max(0, start - 16), start):
                continue
            is_marked = self.is_marked(m)
            is_leading = first is None and not self.rest[:start].strip(_SEPARATORS)
            if not is_marked and (count := _COUNT_AFTER_RE.match(self.rest, m.end())):
                self.counts.append(self.rest[m.start():count.end()].strip())
                if is_leading and m["num"] is not None:
                    self.lead_count = m.end()
                continue
            if not is_marked and self.in_name(m):
                self.names += 1
                continue
            if (
                m["num"] is None
                and not is_marked
                and not is_leading
                and not _HAS_DIGIT_RE.search(m["words"])
            ):
                continue  # bare number words inside a description ("ร้อยเอ็ด")
            if is_marked:
                if marked is not None:
                    if self.same_amount_in_words(marked, m):
                        # "1,000.00 บาท (หนึ่งพันบาทถ้วน)": the amount in words, as on paper
                        self.echoes += [marked, m]
                        if m["num"] is not None and marked["num"] is None:
                            marked = m
                        continue
                    if (marked["words"] is None) != (m["words"] is None):
                        raise self.mismatch(marked, m)
                    raise self.fail("มีจำนวนเงินมากกว่าหนึ่งจำนวน ลงทีละรายการนะ")
                marked = m
            if is_leading:
                leading = m
            if first is None:
                first = m
        return leading or marked or first

    def in_name(self, m: re.Match[str]) -> bool:
        """Figures that are part of a name ("โครงการ 5 ส.")."""
        return m["num"] is not None and bool(_NAME_AFTER_RE.match(self.rest, m.end()))

    def is_marked(self, m: re.Match[str]) -> bool:
        """Marked as money: ``บาท``/``.-``/``สตางค์`` after it or ``จำนวนเงิน``/``ยอด`` before it."""
        return bool(m["unit"] or m["csat"] or m["thuan"]
                    or _AMOUNT_LEAD_RE.search(self.rest, max(0, m.start() - 16), m.start()))

    def fail_no_amount(self) -> NoReturn:
        if self.counts:
            what = "1,500 ค่าขยะ 3 ราย" if self.kind == "receipt" else "2,500 ค่าวัสดุ 4 รายการ"
            raise self.fail(f"“{self.counts[0]}” เป็นจำนวนนับ ไม่ใช่จำนวนเงิน ยังไม่ได้บันทึก "
                            "ใส่จำนวนเงินด้วย", f"{KIND_TH[self.kind]} {what}")
        for tok in _DIGIT_TOKEN_RE.finditer(self.rest):
            digit_at = tok.start() + next(i for i, c in enumerate(tok.group()) if c.isdigit())
            if _NAME_AFTER_RE.match(self.rest, tok.end()) and tok.group().isdigit():
                continue  # "โครงการ 5 ส.": no amount at all
            if not _NOT_AMOUNT_BEFORE_RE.search(self.rest, max(0, digit_at - 16), digit_at):
                raise self.fail(f"อ่านจำนวนเงิน “{tok.group()}” ไม่ได้ {_AMOUNT_HINT}")
        raise self.fail(f"ไม่พบจำนวนเงิน ใส่จำนวนเงินต่อจากคำว่า “{KIND_TH[self.kind]}”")

    def same_amount_in_words(self, a: re.Match[str], b: re.Match[str]) -> bool:
        """One of the two is written in words and both say the same amount."""
        if (a["words"] is None) == (b["words"] is None):
            return False
        try:
            return self.amount_value(a) == self.amount_value(b)
        except EntryError:
            return False

    def use_amount(self, m: re.Match[str]) -> Decimal:
        amount = self.amount_value(m)
        start = m.start()
        lead = _AMOUNT_LEAD_RE.search(self.rest, max(0, start - 16), start)
        if lead:
            start = lead.start()
        self.blank(start, m.end())
        for echo in self.echoes:
            if echo.span() == m.span():
                continue
            # the same amount said again, and the brackets around it: "(หนึ่งพันบาทถ้วน)"
            lo, hi = echo.start(), echo.end()
            while lo > 0 and self.rest[lo - 1] in " (":
                lo -= 1
            while hi < len(self.rest) and self.rest[hi] in " )":
                hi += 1
            self.blank(lo, hi)
        return amount

    def amount_value(self, m: re.Match[str]) -> Decimal:
        typed = m.group().strip()
        formal = bool(m["thuan"] or m["sat"])
        if m["num"]:
            readings = [] if m["kilo"] else dot_readings(m["num"])
            if readings:
                raise self.fail_dot(typed, readings)
            value = Decimal(m["num"].replace(",", "")) * (1000 if m["kilo"] else 1)
            decimals = "" if m["kilo"] else m["num"].partition(".")[2]  # "1500.500": not silently
            if 0 < value < CENT:  # "0.001": too small, never rounded to another amount
                raise self.fail("จำนวนเงินน้อยกว่า 1 สตางค์ บันทึกไม่ได้")
            if value != value.quantize(CENT) or len(decimals) > 2:
                raise self.fail("จำนวนเงินมีทศนิยมได้ไม่เกิน 2 ตำแหน่ง (สตางค์)")
        else:
            try:
                value = _words_value(m["words"], formal)
            except _Ambiguous:
                raise self.fail(
                    f"“{m['words'].strip()}” อ่านได้สองแบบ ช่วยพิมพ์จำนวนเงินเป็นตัวเลข"
                ) from None
            except (_Bad, InvalidOperation):
                raise self.fail(f"อ่านจำนวนเงิน “{typed}” ไม่ได้ {_AMOUNT_HINT}") from None
        if m["csat"] or m["sat"]:
            satang = value if m["csat"] else self.satang_value(m["sat"], typed)
            if satang != satang.to_integral_value() or satang >= 100:
                raise self.fail("สตางค์ต้องเป็นจำนวนเต็มไม่เกิน 99")
            if m["csat"]:
                value = satang / 100
            else:
                if value != value.to_integral_value():
                    raise self.fail("ใส่สตางค์ซ้ำกับทศนิยม ใส่อย่างใดอย่างหนึ่ง")
                value += satang / 100
        if m["neg"] and self.kind == "payment":
            raise self.fail("จำนวนเงินติดลบไม่ได้ ยังไม่ได้บันทึก ใส่จำนวนเงินโดยไม่ต้องมีเครื่องหมายลบ")
        if m["neg"]:
            raise self.fail("จำนวนเงินติดลบไม่ได้ ถ้าเป็นรายจ่ายให้ขึ้นต้นด้วย “จ่าย”", EXAMPLE_PAYMENT)
        if value > MAX_AMOUNT:
            raise self.fail(f"จำนวนเงินสูงเกินไป (ไม่เกิน {format_baht(MAX_AMOUNT)})")
        if value <= 0:
            raise self.fail("จำนวนเงินต้องมากกว่า 0 บาท")
        if value != value.quantize(CENT):
            raise self.fail("จำนวนเงินมีทศนิยมได้ไม่เกิน 2 ตำแหน่ง (สตางค์)")
        return value.quantize(CENT)

    def fail_dot(self, typed: str, readings: list[Decimal]) -> EntryError:
        """``1.200``: 1,200 or 1.20 baht? Never read silently (see :func:`dot_readings`)."""
        shown = " หรือ ".join(format_baht(r) for r in readings)
        ask = "คะ" if len(readings) > 1 else "ใช่ไหมคะ"
        thousands = format_amount(readings[0]).removesuffix(".00")
        return self.fail(f"“{typed}” คือ {shown}{ask} ยังไม่ได้บันทึก "
                         f"หลักพันคั่นด้วยจุลภาค เช่น {thousands} ทศนิยมใช้จุดไม่เกิน 2 ตำแหน่ง")

    def satang_value(self, sat: str, typed: str) -> Decimal:
        if sat.isdigit():
            return Decimal(sat)
        try:
            return _words_value(sat, True)
        except (_Bad, _Ambiguous):
            raise self.fail(f"อ่านจำนวนเงิน “{typed}” ไม่ได้ {_AMOUNT_HINT}") from None

    def resolve_date(self) -> date:
        distinct = sorted(set(self.dates))
        if len(distinct) > 1:
            shown = ", ".join(thai_date(d) for d in distinct)
            raise self.fail(f"ใส่วันที่มากกว่าหนึ่งวัน ({shown}) ใส่วันเดียวพอ", self.date_example())
        d = distinct[0] if distinct else self.today
        oldest = earliest_entry_date(self.today)
        if d < oldest:
            raise self.fail(f"วันที่ {thai_date(d)} เก่าเกินไป (ลงย้อนหลังได้ถึง {thai_date(oldest)}) "
                            "ยังไม่ได้บันทึก ตรวจปี พ.ศ. อีกครั้ง", self.date_example())
        if d > self.today:
            hint = (f" (ถ้าหมายถึงปีก่อน ใส่ปีด้วย เช่น {d.day}/{d.month}/{d.year + 542})"
                    if self.year_assumed else "")
            raise self.fail(f"วันที่ {thai_date(d)} ยังมาไม่ถึง ลงรายการล่วงหน้าไม่ได้{hint}",
                            self.date_example())
        return d

    def resolve_method(self) -> Method | None:
        distinct = set(self.methods)
        if len(distinct) > 1:
            raise self.fail("ใส่วิธีรับ/จ่ายเงินได้แบบเดียว (เงินสด เช็ค หรือโอน)")
        return self.methods[0] if self.methods else None

    def description(self) -> str:
        text = self.rest
        for start, original in self.protected:
            text = text[:start] + original + text[start + len(original) :]
        text = _STRAY_PUNCT_RE.sub(" ", text)
        text = _SPACES_RE.sub(" ", text)
        text = _DESC_LEAD_RE.sub("", text)
        text = _DESC_TAIL_RE.sub("", text)
        return text.strip()
