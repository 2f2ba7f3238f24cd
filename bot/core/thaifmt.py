"""Thai display helpers shared by every feature: money, amount in words, Buddhist-era dates,
shortened texts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from pythainlp.tokenize import tcc
from pythainlp.util import bahttext

THAI_MONTHS_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
THAI_MONTHS_LONG = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
BE_OFFSET = 543
CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    """Round to satang (2 places), half up, as money is written on paper."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal) -> str:
    """``Decimal('1500') -> '1,500.00'``."""
    return f"{quantize(amount):,.2f}"


def format_baht(amount: Decimal) -> str:
    """``Decimal('1500') -> '1,500.00 บาท'``."""
    return f"{format_amount(amount)} บาท"


def amount_in_words(amount: Decimal) -> str:
    """Thai amount in words (``หนึ่งพันห้าร้อยบาทถ้วน``), exact for Decimal input."""
    q = quantize(amount)
    if q == 0:
        return "ศูนย์บาทถ้วน"
    # bahttext takes a float; go through the satang integer to avoid binary rounding.
    baht, satang = divmod(int(q * 100), 100)
    words: str = bahttext(baht) if baht else ""
    if satang:
        cents: str = bahttext(satang)  # "ยี่สิบห้าบาทถ้วน"
        cents = cents.removesuffix("บาทถ้วน") + "สตางค์"
        words = words.removesuffix("ถ้วน") + cents if baht else cents
    return words


def be_year(d: date) -> int:
    """The Buddhist-era year of a date."""
    return d.year + BE_OFFSET


def thai_date(d: date) -> str:
    """``date(2024, 7, 15) -> '15 ก.ค. 2567'``."""
    return f"{d.day} {THAI_MONTHS_SHORT[d.month - 1]} {be_year(d)}"


def thai_date_long(d: date) -> str:
    """``date(2024, 7, 15) -> '15 กรกฎาคม 2567'``."""
    return f"{d.day} {THAI_MONTHS_LONG[d.month - 1]} {be_year(d)}"


def thai_date_numeric(d: date) -> str:
    """``date(2024, 7, 15) -> '15/07/2567'`` for spreadsheets."""
    return f"{d.day:02d}/{d.month:02d}/{be_year(d)}"


def thai_datetime(dt: datetime) -> str:
    """``'15 ก.ค. 2567 09:05 น.'``."""
    return f"{thai_date(dt.date())} {dt:%H:%M} น."


def fiscal_year_be(d: date) -> int:
    """Thai government fiscal year (1 Oct - 30 Sep), Buddhist era: 1 Oct 2024 is FY 2568."""
    return be_year(d) + (1 if d.month >= 10 else 0)


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ended with "…" when cut.

    The cut falls between Thai character clusters (a vowel or tone mark never leaves its
    consonant: "เครื่" is no cut of "เครื่อง"), at the last space when one is in the second
    half (a phone number is dropped whole, not shown as a wrong shorter one).
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - 1
    kept = ""
    for cluster in tcc.segment(text):
        if len(kept) + len(cluster) > room:
            break
        kept += cluster
    space = kept.rfind(" ")
    if space >= room // 2:
        kept = kept[:space]
    return kept.rstrip() + "…"
