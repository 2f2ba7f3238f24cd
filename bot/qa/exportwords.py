"""What an export is asked for: the file format, in any common spelling, and the period."""

from __future__ import annotations

import re

_CSV = re.compile(r"csv|ซีเอสวี", re.I)
# "excel", "xlsx", "csv" (Latin letters may touch Thai ones: "ส่งออกexcelเดือนนี้") and the Thai
# spellings of Excel: เอ็กเซล, เอกเซล, เอ็กเซลล์, เอ็กซ์เซล, เอคเซล...; "to excel", "เป็นไฟล์" go too.
_FORMAT = re.compile(
    r"(?:(?<![a-z])(?:to|as|in|into)\s+)?(?<![a-z])(?:csv|xlsx|excel)(?![a-z])"
    r"|ซีเอสวี|เอ็?[กค](?:ซ์)?เซ็?ล(?:ล์|์)?",
    re.I,
)
# Words asking for the file that say nothing about the period ("ไฟล์", "หน่อย", "please").
_FILLER = re.compile(
    r"(?<![a-z])(?:file|please|pls|for)(?![a-z])|เป็นไฟล์|ไฟล์|ไฟล|เป็น|ให้หน่อย|หน่อย|ให้ที|ด้วย",
    re.I,
)


def export_request(args: str) -> tuple[str, str]:
    """``("csv" or "xlsx", the period as typed)`` for the words after the export command:
    ``ไฟล์เอ็กเซลเดือนนี้หน่อย`` -> ``("xlsx", "เดือนนี้")``, ``csv this month`` ->
    ``("csv", "this month")``."""
    fmt = "csv" if _CSV.search(args) else "xlsx"
    period = _FILLER.sub(" ", _FORMAT.sub(" ", args))
    return fmt, " ".join(period.split())
