"""The ledger's waiting steps (void reason, member removal, joining, LAO move, duplicates,
ask-backs, the name for reports)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import ClassVar

import msgspec

from bot.core.contract import Choice
from bot.core.picks import names_item, pick_number
from bot.core.steps import Answer, Step, Waits, step_kind
from bot.core.text import command_text
from bot.core.thaifmt import amount_in_words, format_baht, shorten, thai_date
from bot.ledger.entries import KIND_TH, EntryError, Kind, Method, ParsedEntry
from bot.ledger.opening import entry_line
from bot.ledger.quickentry import (
    count_as_amount,
    dot_amount_readings,
    dot_readings,
    looks_like_entry,
    parse_entry,
)

# A "reason" made only of these is no reason: "ยกเลิก 2 รายการ" means "cancel 2 entries",
# "ยกเลิก 1 บาท" names a unit. Such a void asks for the reason and shows the entry first.
_FILLER = sorted({
    "รายการ", "รายการนี้", "รายการที่", "บาท", "อัน", "อันนี้", "ครั้ง", "ใบ", "ชุด", "ข้อ", "บรรทัด",
    "ตัว", "เรื่อง", "ที่", "นี้", "นั้น", "นี่", "เลย", "ด้วย", "หน่อย", "ให้", "ที", "ค่ะ", "คะ", "ค่า",
    "ครับ", "ครับผม", "คับ", "จ้า", "จ้ะ", "นะ", "น่ะ", "เถอะ", "ขอ", "รบกวน",
}, key=len, reverse=True)
_NO_REASON = re.compile(r"(?:" + "|".join(map(re.escape, _FILLER)) + r"|[\s.,!#:;\-])*")
_NUMBER = re.compile(r"(?<![\d/.,:])\d[\d,]*(?:\.\d+)?(?![\d/:])")
_PLACEHOLDER = "ค่าทดสอบระบบ"
_VOID_VERB = re.compile(r"^\s*(?:ยกเลิก|ลบ)(?:ทิ้ง|ออก)?")


def is_no_reason(text: str) -> bool:
    """``text`` (after an entry number) gives no reason: empty, or only units and politeness."""
    return bool(_NO_REASON.fullmatch(command_text(text).lower()))


class PendingEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed entry kept in a waiting step until the clerk answers."""

    kind: Kind
    amount: Decimal
    description: str
    date: date
    doc_no: str | None = None
    method: Method | None = None
    event_id: str = ""
    year_assumed: bool = False

    @classmethod
    def of(cls, p: ParsedEntry, event_id: str) -> PendingEntry:
        return cls(kind=p.kind, amount=p.amount, description=p.description, date=p.date,
                   doc_no=p.doc_no, method=p.method, event_id=event_id,
                   year_assumed=p.year_assumed)

    def parsed(self) -> ParsedEntry:
        return ParsedEntry(self.kind, self.amount, self.description, self.date, self.doc_no,
                           self.method, year_assumed=self.year_assumed)


def without_description(line: str, today: date) -> ParsedEntry | None:
    """What ``line`` says when it is a whole entry but for its description (``รับ 1500``);
    None when something else is missing or wrong."""
    try:
        p = parse_entry(f"{line} {_PLACEHOLDER}", today)
    except (EntryError, ValueError):
        return None
    return p if p.description == _PLACEHOLDER else None


def amount_options(line: str, today: date) -> list[ParsedEntry]:
    """The readings of a refused line the bot can finish by asking for its amount: two numbers
    side by side (``รับ 1500 200 ค่าขยะ``), one reading for each number as the amount, the other
    dropped; a count beside a name (``จ่าย 500 โครงการ 5 ส.``), the one reading with the count
    as the amount (see ``count_as_amount``); a dot where a thousands comma may be meant
    (``จ่าย 1.200 ค่าน้ำมัน``), 1,200 and 1.20 (see ``dot_amount_readings``); empty when the
    line is not like that."""
    text = command_text(line)
    nums = list(_NUMBER.finditer(text))
    pairs = [(a, b) for a, b in pairwise(nums)
             if not text[a.end():b.start()].strip()]
    if len(pairs) != 1:
        counted = count_as_amount(text, today)
        return [counted] if counted is not None else dot_amount_readings(text, today)
    a, b = pairs[0]
    out = []
    for keep in (a, b):
        try:
            p = parse_entry(f"{text[:a.start()]}{keep.group()}{text[b.end():]}", today)
            value = Decimal(keep.group().replace(",", ""))
        except (EntryError, ValueError, InvalidOperation):
            return []
        if p.amount != value:
            return []
        out.append(p)
    return out


def typed_amount(text: str) -> Decimal | None:
    """The one amount in an answer such as ``1,500`` or ``1500 บาท``."""
    nums = _NUMBER.findall(command_text(text))
    if len(nums) != 1:
        return None
    try:
        return Decimal(nums[0].replace(",", ""))
    except InvalidOperation:
        return None


@step_kind
class VoidReason(Step, frozen=True, kw_only=True):
    """``ยกเลิก 2`` without a reason: waits for the reason."""

    kind: ClassVar[str] = "ledger.void_reason"
    feature: ClassVar[str] = "ledger"
    input_topics: ClassVar[frozenset[str]] = frozenset(
        {"bot.void_howto", "guide.receipt_void", "guide.mismatch"})
    cancel_label: ClassVar[str] = "ไม่ยกเลิก"
    mistake_is_input: ClassVar[bool] = True
    go_ahead_words: ClassVar[frozenset[str]] = frozenset(
        {"ยกเลิกเลย", "ยกเลิกได้เลย", "ยกเลิกได้", "ยกเลิกรายการ", "ลบ", "ลบเลย", "ลบได้เลย"})
    lao: str
    no: int
    entry: str = ""  # the entry as the save confirmation showed it (quickentry.describe)

    @property
    def prompt(self) -> str:
        return f"เหตุผลที่ยกเลิกรายการที่ {self.no}"

    def goes_ahead(self, text: str) -> bool:
        # "ยกเลิกรายการนี้", "ลบทิ้งเลย": the void itself, asked again ("ยกเลิก" alone cancels)
        return (super().goes_ahead(text) or is_no_reason(text)
                or is_no_reason(_VOID_VERB.sub("", command_text(text), count=1)))

    def continues(self, command: str, args: str) -> bool:
        return command == "void" and args.split(" ", 1)[0].lstrip("#") == str(self.no)

    def again_text(self) -> str:
        return (f"ขอเหตุผลที่ยกเลิกรายการที่ {self.no} สั้น ๆ ด้วยค่ะ เช่น พิมพ์ยอดผิด หรือ จดซ้ำ "
                f"(ถ้าไม่ยกเลิก กด “{self.cancel_label}”)")

    def undone_text(self) -> str:
        return f"ยังไม่ได้ยกเลิกรายการที่ {self.no} ค่ะ (ถ้าจะยกเลิก พิมพ์ ยกเลิก {self.no} เหตุผล)"

    def confirm_text(self, text: str) -> str:
        shown = f" ({self.entry})" if self.entry else ""
        return f"ยกเลิกรายการที่ {self.no}{shown} ด้วยเหตุผล “{text}” ใช่ไหมคะ"


@step_kind
class RemoveMember(Step, frozen=True, kw_only=True):
    """A tapped member-removal button: waits for the admin's confirmation."""

    kind: ClassVar[str] = "ledger.remove_member"
    feature: ClassVar[str] = "ledger"
    waits: ClassVar[Waits] = "confirm"
    cancel_label: ClassVar[str] = "ไม่ลบ"
    yes_label: ClassVar[str] = "ยืนยันลบ"
    lao: str
    user: str
    name: str

    @property
    def prompt(self) -> str:
        return f"ยืนยันลบ {self.name} ออกจาก อปท."

    def undone_text(self) -> str:
        return f"ยังไม่ได้ลบ {self.name} ออกจาก อปท. ค่ะ"


@step_kind
class MoveLao(Step, frozen=True, kw_only=True):
    """A member typed another LAO's join code: waits for "yes, move" (the code is kept)."""

    kind: ClassVar[str] = "ledger.move_lao"
    feature: ClassVar[str] = "ledger"
    waits: ClassVar[Waits] = "confirm"
    cancel_label: ClassVar[str] = "ไม่ย้าย"
    yes_label: ClassVar[str] = "ย้าย"
    code: str
    from_lao: str
    from_name: str
    to_name: str

    @property
    def prompt(self) -> str:
        return f"ยืนยันย้ายไป {self.to_name}"

    def undone_text(self) -> str:
        return (f"ยังไม่ได้ย้ายค่ะ ยังอยู่ใน {self.from_name} ตามเดิม "
                "(รหัสเข้าร่วมยังใช้ได้จนหมดอายุ)")


@step_kind
class JoinWithCode(Step, frozen=True, kw_only=True):
    """A text that is only something shaped like a join code: waits for "yes, join with it"
    (asking first uses none of the day's tries at a code)."""

    kind: ClassVar[str] = "ledger.join_code"
    feature: ClassVar[str] = "ledger"
    waits: ClassVar[Waits] = "confirm"
    cancel_label: ClassVar[str] = "ไม่ใช่"
    yes_label: ClassVar[str] = "เข้าร่วมด้วยรหัสนี้"
    code: str
    # Pasted at the name question (AskName): the code is settled first, then the name asked.
    name_after: bool = False

    @property
    def prompt(self) -> str:
        return "ยืนยันเข้าร่วมด้วยรหัสนี้"

    def ask_text(self) -> str:
        later = "\nชื่อที่แสดงในรายงานยังไม่ได้ตั้ง จะถามอีกครั้งหลังจากนี้ค่ะ" if self.name_after else ""
        return ("ข้อความนี้ดูเหมือนรหัสเข้าร่วม อปท. จะเข้าร่วมด้วยรหัสนี้ใช่ไหมคะ "
                f"(หรือพิมพ์ เข้าร่วม {self.code}){later}")

    def undone_text(self) -> str:
        later = (" ตั้งชื่อที่แสดงในรายงานได้ภายหลัง พิมพ์ ชื่อ ตามด้วยชื่อ-นามสกุล"
                 if self.name_after else "")
        return f"ยังไม่ได้เข้าร่วมด้วยรหัส {self.code} ค่ะ{later}"


@step_kind
class AskName(Step, frozen=True, kw_only=True):
    """A member the channel named nobody (LINE): waits for the name shown in reports; "ข้าม"
    skips it (``ชื่อ …`` sets it any time)."""

    kind: ClassVar[str] = "ledger.name"
    feature: ClassVar[str] = "ledger"
    cancel_label: ClassVar[str] = "ข้าม"
    any_topic_is_input: ClassVar[bool] = True

    @property
    def prompt(self) -> str:
        return "ชื่อ-นามสกุลที่จะแสดงในรายงาน"

    def continues(self, command: str, args: str) -> bool:
        return command == "name"

    def undone_text(self) -> str:
        return "ยังไม่ได้ตั้งชื่อที่แสดงในรายงานค่ะ (ตั้งภายหลังได้ พิมพ์ ชื่อ ตามด้วยชื่อ-นามสกุล)"


@step_kind
class ConfirmDuplicates(Step, frozen=True, kw_only=True):
    """New entries that repeat a document number or were sent twice: waits for "save anyway"."""

    kind: ClassVar[str] = "ledger.duplicates"
    feature: ClassVar[str] = "ledger"
    waits: ClassVar[Waits] = "confirm"
    cancel_label: ClassVar[str] = "ไม่บันทึก"
    lao: str
    entries: tuple[PendingEntry, ...]

    @property
    def prompt(self) -> str:
        return "ยืนยันบันทึกซ้ำ"

    def choices(self) -> tuple[Choice, ...]:
        """"บันทึกซ้ำ" (one entry) or "บันทึกทั้งหมด" (a batch), then "ไม่บันทึก"."""
        yes = "บันทึกซ้ำ" if len(self.entries) == 1 else "บันทึกทั้งหมด"
        return (self.yes_choice(yes), self.cancel_choice())

    def answer(self, text: str) -> Answer | None:
        # New entries pasted instead of an answer go to the ledger the way a confirmation's
        # text does (LedgerFeature.on_step), never saved as a yes: there one reply says what
        # became of this question and of the new lines (two replies contradicted each other).
        return "yes" if self.pasted(text) is not None else super().answer(text)

    def unanswered_text(self, text: str, today: date) -> str | None:
        """This question's entries that the new paste ``text`` does not repeat, named as not
        saved (nothing dropped unseen); None when it repeats them all."""
        again = []
        for line in text.splitlines():
            try:
                again.append(parse_entry(line, today))
            except (EntryError, ValueError):
                continue
        left = [p for p in (e.parsed() for e in self.entries) if p not in again]
        if not left:
            return None
        shown = [f"- {KIND_TH[p.kind]} {format_baht(p.amount)} {shorten(p.description, 30)}"
                 + (f" · เลขที่ {p.doc_no}" if p.doc_no else "") for p in left[:5]]
        more = [f"...และอีก {len(left) - 5} รายการ"] if len(left) > 5 else []
        return "\n".join([f"รายการที่ถามว่าซ้ำเมื่อครู่ ยังไม่ได้บันทึก {len(left)} รายการค่ะ",
                          *shown, *more, "ถ้าจะบันทึก ส่งบรรทัดนั้นมาใหม่"])

    def pasted(self, text: str) -> tuple[Answer | None, str] | None:
        """New entries sent while this question waits: what the first line says to it
        ("บันทึกซ้ำ", "ไม่บันทึก"; None: nothing) and the entry lines (an answer line left blank,
        so that lines keep the numbers the clerk sees); None when ``text`` holds no entry."""
        lines = [entry_line(ln, correction=True) for ln in text.strip().splitlines()]
        if not any(map(looks_like_entry, lines)):
            return None
        said = super().answer(lines[0])
        if said in ("yes", "cancel") and any(map(looks_like_entry, lines[1:])):
            return said, "\n".join(["", *lines[1:]])
        return None, "\n".join(lines)

    def undone_text(self) -> str:
        n = len(self.entries)
        return "ยังไม่ได้บันทึกรายการซ้ำค่ะ" if n == 1 else f"ยังไม่ได้บันทึกทั้ง {n} รายการค่ะ"


@step_kind
class ConfirmEntry(Step, frozen=True, kw_only=True):
    """An entry with a question typed after it ("จ่ายค่าน้ำ 500 บาท แล้วต้องเก็บใบเสร็จไว้ไหม"): the
    question is answered, the entry waits for "บันทึก" (the clerk may only have been telling)."""

    kind: ClassVar[str] = "ledger.confirm_entry"
    feature: ClassVar[str] = "ledger"
    waits: ClassVar[Waits] = "confirm"
    yes_label: ClassVar[str] = "บันทึก"
    cancel_label: ClassVar[str] = "ไม่บันทึก"
    lao: str
    entry: PendingEntry

    @property
    def prompt(self) -> str:
        return "ยืนยันบันทึกรายการ"

    @property
    def what(self) -> str:
        e = self.entry
        return f"{KIND_TH[e.kind]} {format_baht(e.amount)} {e.description}"

    def ask_text(self) -> str:
        return (f"บันทึกรายการนี้ด้วยไหมคะ (ยังไม่ได้บันทึก)\n{self.what}\n"
                f"({amount_in_words(self.entry.amount)}) · {thai_date(self.entry.date)}")

    def undone_text(self) -> str:
        return f"ยังไม่ได้บันทึก {self.what} ค่ะ"


@step_kind
class AskDescription(Step, frozen=True, kw_only=True):
    """``รับ 1500`` without a description: the next short text is the description."""

    kind: ClassVar[str] = "ledger.description"
    feature: ClassVar[str] = "ledger"
    cancel_label: ClassVar[str] = "ไม่บันทึก"
    any_topic_is_input: ClassVar[bool] = True
    lao: str
    line: str
    day: date
    what: str  # "รับ 1,500.00 บาท"
    event_id: str = ""  # of the first message: the entry is saved under it

    @property
    def prompt(self) -> str:
        return f"ชื่อรายการของ {self.what}"

    def again_text(self) -> str:
        return (f"{self.what} เป็นค่าอะไรคะ พิมพ์ชื่อรายการ เช่น ค่าขยะ "
                f"(ถ้าไม่บันทึก กด “{self.cancel_label}”)")

    def undone_text(self) -> str:
        return f"ยังไม่ได้บันทึก {self.what} ค่ะ"

    def confirm_text(self, text: str) -> str:
        return f"บันทึก {self.what} เป็นค่า “{text}” ใช่ไหมคะ"


@step_kind
class PickAmount(Step, frozen=True, kw_only=True):
    """``รับ 1500 200 ค่าขยะ``: waits for the amount (typed or tapped), one of the options
    (see ``amount_options``).

    A typed list number picks a button, as in every other list ("2": the 2nd, "3" of three:
    "ไม่บันทึก"); "2 บาท" is an amount. A number that is one button and another option's amount
    ("2" with 2.00 as button 1) is asked about, never guessed.
    """

    kind: ClassVar[str] = "ledger.pick_amount"
    feature: ClassVar[str] = "ledger"
    cancel_label: ClassVar[str] = "ไม่บันทึก"
    any_topic_is_input: ClassVar[bool] = True
    lao: str
    options: tuple[PendingEntry, ...]

    @property
    def prompt(self) -> str:
        return "จำนวนเงินที่ถูกต้อง"

    def takes(self, text: str) -> bool:
        return typed_amount(text) is not None

    def owns_action(self, action: str) -> bool:
        return action.startswith(f"pick:{self.token}:")

    def _reading(self, text: str) -> tuple[int | None, int | None]:
        """The index in ``choices()`` of the button a typed list number names, and that of the
        option whose amount was typed (None: none)."""
        n = pick_number(text)
        button = n - 1 if n is not None and 1 <= n <= len(self.options) + 1 else None
        value = None if names_item(text) else typed_amount(text)
        amount = next((i for i, o in enumerate(self.options) if o.amount == value), None)
        return button, amount

    def answer(self, text: str) -> Answer | None:
        button, amount = self._reading(text)
        if button == len(self.options) and amount is not None:  # "ไม่บันทึก" or an amount:
            return None  # asked (see unclear)
        return super().answer(text)

    def unclear(self, text: str) -> str | None:
        """The question for a number that names one button and another option's amount."""
        button, amount = self._reading(text)
        if button is None or amount is None or button == amount:
            return None
        labels = [c.label for c in self.choices()]
        n = button + 1
        return (f"“{text.strip()}” หมายถึงข้อ {n} ({labels[button]}) หรือ {labels[amount]}คะ "
                f"(ยังไม่ได้บันทึก)\nกดเลือกด้านล่าง หรือพิมพ์ “ข้อ {n}” หรือ “{labels[amount]}”")

    def pick(self, text: str) -> PendingEntry | None:
        """The option ``text`` names, by its amount or by its button's number."""
        if any(dot_readings(n) for n in _NUMBER.findall(command_text(text))):
            return None  # "1.200" typed again: still 1,200 or 1.20?
        button, amount = self._reading(text)
        i = amount if amount is not None else button
        return self.options[i] if i is not None and i < len(self.options) else None

    def choices(self) -> tuple[Choice, ...]:
        """One button per amount, then "ไม่บันทึก"."""
        return (*(Choice(format_baht(o.amount), f"pick:{self.token}:{i}")
                  for i, o in enumerate(self.options)), self.cancel_choice())

    def again_text(self) -> str:
        shown = " หรือ ".join(format_baht(o.amount) for o in self.options)
        return f"จำนวนเงินคือ {shown}คะ พิมพ์หรือเลือกด้านล่าง (ถ้าไม่บันทึก กด “{self.cancel_label}”)"

    def undone_text(self) -> str:
        return f"ยังไม่ได้บันทึกรายการ {self.options[0].description} ค่ะ"
