"""The ledger's lists in chat: today, pending key-back, key-back marks and their undo, periods."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.core.contract import Choice, Reply, wrote
from bot.core.text import command_text
from bot.core.thaifmt import be_year, format_baht, shorten, thai_date
from bot.ledger.book import Directory, Ledger, LedgerError, Member, parse_numbers
from bot.ledger.datewords import NUMERIC_DATES_RE
from bot.ledger.entries import KIND_TH, Entry, EntryError, Lao
from bot.ledger.export import brought_forward, export_file
from bot.ledger.quickentry import parse_period
from bot.ledger.summary import BANGKOK
from bot.qa.exportwords import export_request

LIST_LIMIT = 15
MARKS_SHOWN = 10
DESCRIPTION_SHOWN = 30  # characters of a description in a list line (a phone's width)
"""A key-back mark (or its undo) of at most this many entries names each one."""
EXAMPLE = "ตัวอย่าง: รับ 1,500 ค่าขยะ หรือ จ่าย 3,200 ค่าน้ำมัน เช็ค เมื่อวาน"
LIST_CHOICES = (Choice("ส่งออก Excel", "cmd:export"), Choice("ค้างคีย์", "cmd:pending"))

# "1-15 พ.ย.", "วันที่ 3 ถึง 9 ก.ค. 2567": days of one month (parse_period reads the month)
_DAY_RANGE = re.compile(
    r"(?:วันที่\s?)?(\d{1,2})\s?(?:-|–|—|ถึง)\s?(?:วันที่\s?)?(\d{1,2})(?=\s|[^\d/.\-])\s?(.+)")
_THIS_FISCAL = frozenset({"ปีนี้", "ปีงบ", "ปีงบประมาณ", "ปีงบนี้", "ปีงบประมาณนี้"})
_LAST_FISCAL = frozenset({"ปีที่แล้ว", "ปีก่อน", "ปีงบที่แล้ว", "ปีงบประมาณที่แล้ว", "ปีงบก่อน"})


# --------------------------------------------------------------------------- periods


def fiscal_year(today: date, back: int = 0) -> tuple[date, date]:
    """The Thai fiscal year (1 Oct - 30 Sep) holding ``today``, or ``back`` years before it."""
    start = today.year - (0 if today.month >= 10 else 1) - back
    return date(start, 10, 1), date(start + 1, 9, 30)


def read_period(text: str, today: date) -> tuple[date, date]:
    """A period for ``สรุป`` and ``ส่งออก``: what :func:`parse_period` reads, and more.

    ``ปีนี้`` / ``ปีงบ`` is the fiscal year (an LAO's books run 1 Oct - 30 Sep),
    ``ปีที่แล้ว`` the one before; ``1-15 พ.ย.`` is a range of days of one month (the month is
    read as :func:`parse_period` reads it: without a year, the latest one not after today).

    Raises:
        EntryError: The period cannot be read; the Thai message says what to type.
    """
    text = command_text(text)
    key = text.replace(" ", "")
    if key in _THIS_FISCAL:
        return fiscal_year(today)
    if key in _LAST_FISCAL:
        return fiscal_year(today, back=1)
    m = _DAY_RANGE.fullmatch(text)
    if m:
        try:
            first, last = parse_period(m[3], today)
        except EntryError:
            first = last = today
        if first.day == 1 and first.month == last.month and (last + timedelta(days=1)).day == 1:
            a, b = sorted((int(m[1]), int(m[2])))
            if a < 1 or b > last.day:
                bad = a if a < 1 else b
                raise EntryError(f"ไม่มีวันที่ {bad} {m[3]} ในปฏิทินค่ะ "
                                 f"(เดือนนั้นมีวันที่ 1 ถึง {last.day}) เช่น 1-15 {m[3]}")
            return first.replace(day=a), first.replace(day=b)
    return parse_period(text, today)


def period_th(lo: date, hi: date) -> str:
    """``1 ก.ค. 2567 - 31 ก.ค. 2567``, or one day."""
    return thai_date(lo) if lo == hi else f"{thai_date(lo)} - {thai_date(hi)}"


def period_label(lo: date, hi: date) -> str:
    """The period as a reply names it: a fiscal or calendar year says which it is."""
    if (lo.month, lo.day, hi.month, hi.day) == (10, 1, 9, 30) and hi.year == lo.year + 1:
        return f"ปีงบประมาณ {be_year(hi)} ({period_th(lo, hi)})"
    if (lo.month, lo.day, hi.month, hi.day) == (1, 1, 12, 31) and hi.year == lo.year:
        return f"ปี พ.ศ. {be_year(lo)} ({period_th(lo, hi)})"
    return period_th(lo, hi)


def number_ranges(nos: Sequence[int]) -> str:
    """``[50, 51, 52, 60]`` -> ``"50-52, 60"``."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(set(nos)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


# --------------------------------------------------------------------------- lists


def entry_line(e: Entry, marks: bool = True) -> str:
    """``3. 1 ธ.ค. 2569 จ่าย 3,200.00 บาท ค่าน้ำมัน [ยกเลิก] ✓คีย์แล้ว``."""
    # both marks: a keyed entry voided here must still be reversed in e-LAAS
    mark = ((" [ยกเลิก]" if e.voided else "") + (" ✓คีย์แล้ว" if e.keyed else "")) if marks else ""
    return (f"{e.no}. {thai_date(e.date)} {KIND_TH[e.kind]} {format_baht(e.amount)} "
            f"{shorten(e.description, DESCRIPTION_SHOWN)}{mark}")


def _totals(entries: Sequence[Entry]) -> tuple[Decimal, Decimal]:
    live = [e for e in entries if not e.voided]
    return (sum((e.amount for e in live if e.kind == "receipt"), Decimal(0)),
            sum((e.amount for e in live if e.kind == "payment"), Decimal(0)))


def list_text(title: str, entries: Sequence[Entry], *, oldest_first: bool = False) -> str:
    """A titled list of at most LIST_LIMIT entries with totals (voided ones not counted).

    By default the newest are shown (what was just done); ``oldest_first`` shows the first
    ones and says how many follow (the pending list: the order to key them in).
    """
    es = list(entries)
    rec, pay = _totals(es)
    shown = es[:LIST_LIMIT] if oldest_first else es[-LIST_LIMIT:]
    lines = [entry_line(e) for e in shown]
    hidden = len(es) - len(shown)
    head = f"{title} ({len(es)} รายการ)"
    if hidden and oldest_first:
        lines.append(f"...ยังมีอีก {hidden} รายการ")
    elif hidden:
        head += f"\n...และก่อนหน้าอีก {hidden} รายการ"
    return (f"{head}\n" + "\n".join(lines) + f"\nรวมรับ {format_baht(rec)}\n"
            f"รวมจ่าย {format_baht(pay)}\nสุทธิ {format_baht(rec - pay)}")


# "รายการทั้งหมด", "ขอดูรายการของเดือนนี้": every entry, or a period after a linking word
_ALL = frozenset({"", "ทั้งหมด", "ทั้งหมดเลย", "ทุกรายการ", "ทั้งหมดที่จด", "ทั้งหมดที่บันทึก"})
_LINK = re.compile(r"^(?:ของ|ใน|ช่วง|ประจำ|ที่จด(?:ไว้)?|ที่บันทึก(?:ไว้)?)\s*")


def list_period(args: str) -> bool:
    """``args`` of ``รายการ …`` names every entry (nothing, ``ทั้งหมด``) or a period."""
    text = _LINK.sub("", command_text(args).strip())
    if text.replace(" ", "") in _ALL:
        return True
    try:
        read_period(text, date.today())
    except EntryError:
        return NUMERIC_DATES_RE.fullmatch(text) is not None  # "32/1": told it is no date
    return True


def period_list(ledger: Ledger, args: str, today: date) -> list[Reply]:
    """``รายการ [period]``: the entries of a period (of every period), the newest shown."""
    text = _LINK.sub("", command_text(args).strip())
    if text.replace(" ", "") in _ALL:
        return entry_list("รายการทั้งหมด", ledger.entries(), f"ยังไม่มีรายการค่ะ\n{EXAMPLE}")
    try:
        lo, hi = read_period(text, today)
    except EntryError as exc:
        return [Reply(str(exc))]
    period = period_label(lo, hi)
    return entry_list(f"รายการ {period}", ledger.entries(lo, hi), f"ไม่มีรายการในช่วง {period} ค่ะ")


def entry_list(title: str, entries: Sequence[Entry], empty: str) -> list[Reply]:
    if not entries:
        return [Reply(empty, (Choice("วิธีบันทึก", "topic:bot.log_howto"),))]
    return [Reply(list_text(title, entries), LIST_CHOICES, private=True)]


def recorded_on(e: Entry) -> date:
    """The day ``e`` was recorded as its clerk sees it: the day they sent it (a message sent at
    23:59 and handled at 00:01 was recorded the day before), else the day it was saved."""
    return e.sent_on or e.recorded_at.astimezone(BANGKOK).date()


def today_list(ledger: Ledger, day: date) -> list[Reply]:
    """Entries dated ``day`` (the day the list was asked for), then those recorded that day
    (see :func:`recorded_on`) for an earlier date.

    A clerk who types yesterday's receipt today and taps "รายการวันนี้" looks for what they
    just recorded; the day's totals stay the day's own (they match the daily cash report).
    """
    dated = ledger.entries(day, day)
    late = sorted((e for e in ledger.entries(None, day - timedelta(days=1))
                   if recorded_on(e) == day), key=lambda e: e.no)
    if not dated and not late:
        return [Reply(f"วันนี้ ({thai_date(day)}) ยังไม่มีรายการค่ะ\n{EXAMPLE}",
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"),))]
    text = (list_text(f"รายการวันที่ {thai_date(day)}", dated) if dated else
            f"ยังไม่มีรายการลงวันที่วันนี้ ({thai_date(day)}) ค่ะ")
    if late:
        shown = late[-LIST_LIMIT:]
        more = f" แสดง {len(shown)} รายการล่าสุด" if len(late) > len(shown) else ""
        note = " ไม่รวมในยอดข้างบน" if dated else ""
        text += (f"\n\nบันทึกวันนี้ ลงวันที่ย้อนหลัง {len(late)} รายการ{more}{note}\n"
                 + "\n".join(entry_line(e) for e in shown))
    return [Reply(text, LIST_CHOICES, private=True)]


def pending_list(ledger: Ledger) -> list[Reply]:
    """What is still to key into e-LAAS, oldest first (the order to key it in)."""
    es = ledger.pending_keyback()
    if not es:
        every = ledger.entries()
        if not every:
            return [Reply(f"ยังไม่มีรายการที่บันทึกไว้ค่ะ จึงยังไม่มีอะไรต้องคีย์\n{EXAMPLE}",
                          (Choice("วิธีบันทึก", "topic:bot.log_howto"),))]
        if any(e.keyed and not e.voided for e in every):
            return [Reply("ไม่มีรายการค้างคีย์ค่ะ ทุกรายการคีย์เข้า e-LAAS แล้ว")]
        return [Reply("ไม่มีรายการค้างคีย์ค่ะ (รายการที่บันทึกไว้ถูกยกเลิกทั้งหมด)")]
    text = list_text("รายการที่ยังไม่ได้คีย์เข้า e-LAAS เรียงตามวันที่ เก่าสุดก่อน", es,
                     oldest_first=True)
    shown = number_ranges([e.no for e in es[:LIST_LIMIT]])
    return [Reply(f"{text}\nคีย์ครบ{'ทั้ง' if len(es) > 1 else ''}รายการข้างบนแล้ว "
                  f"พิมพ์: คีย์แล้ว {shown}", LIST_CHOICES, private=True)]


def summary_reply(ledger: Ledger, args: str, today: date) -> list[Reply]:
    """``สรุป [period]``: one line per day with entries, then the period's totals."""
    try:
        lo, hi = read_period(args, today) if args.strip() else (today, today)
    except EntryError as exc:
        return [Reply(str(exc))]
    period = period_label(lo, hi)
    lines = []
    tr = tp = Decimal(0)
    for d in sorted({e.date for e in ledger.entries(lo, hi, include_void=False)}):
        s = ledger.day_summary(d)
        tr += s.receipts
        tp += s.payments
        lines.append(f"{thai_date(d)}: รับ {format_baht(s.receipts)} · จ่าย "
                     f"{format_baht(s.payments)} · สุทธิ {format_baht(s.net)}")
    if not lines:
        return [Reply(f"ไม่มีรายการในช่วง {period} ค่ะ")]
    shown = lines[-LIST_LIMIT:]
    more = f"...และก่อนหน้าอีก {len(lines) - len(shown)} วัน\n" if len(lines) > len(shown) else ""
    text = (f"สรุป {period}\n{more}" + "\n".join(shown)
            + f"\nรวมรับ {format_baht(tr)}\nรวมจ่าย {format_baht(tp)}\nสุทธิ {format_baht(tr - tp)}")
    if period.startswith("ปีงบ") and "งบ" not in args:  # "ปีนี้" read as the fiscal year
        text += f"\n(ทั้งปีปฏิทิน พิมพ์: สรุป ปี {be_year(today) - (1 if hi < today else 0)})"
    return [Reply(text, (Choice("ส่งออก Excel", "cmd:export"),), private=True)]


def export_reply(directory: Directory, member: Member, ledger: Ledger, args: str,
                 now: datetime, today: date) -> list[Reply]:
    """``ส่งออก [csv] [period]``: the key-back file of the member's LAO; ``today`` (the send
    day) reads the period, ``now`` is printed on the file."""
    fmt, rng = export_request(args)
    lo: date | None = None
    hi: date | None = None
    if rng:
        try:
            lo, hi = read_period(rng, today)
        except EntryError as exc:
            return [Reply(str(exc))]
    lao = directory.lao(member.lao_code) or Lao(member.lao_code, member.lao_code)
    entries = ledger.entries(lo, hi)
    if not entries:
        return [Reply(f"ไม่มีรายการในช่วง {period_label(lo, hi)} ให้ส่งออกค่ะ" if lo and hi else
                      "ยังไม่มีรายการให้ส่งออกค่ะ")]
    period = period_label(lo or entries[0].date, hi or entries[-1].date)
    opening = brought_forward(ledger.entries(), lo or entries[0].date)
    blob = export_file(lao, entries, fmt, lo, hi, now=now, opening=opening,
                       names=directory.names(member.lao_code))
    voided = sum(1 for e in entries if e.voided)
    kind = "Excel" if fmt == "xlsx" else "CSV"
    return [Reply(f"ไฟล์ {kind} รายการของ {lao.name} ช่วง {period} "
                  f"{len(entries)} รายการ (ยกเลิก {voided}) เรียงตามวันที่ สำหรับคีย์ย้อนหลัง",
                  file=blob, private=True)]


# --------------------------------------------------------------------------- keyed marks


def _what(changed: Sequence[Entry]) -> list[str]:
    """The entries a mark changed: each one when few, else their numbers and dates."""
    if len(changed) <= MARKS_SHOWN:
        return [entry_line(e, marks=False) for e in changed]
    days = sorted(e.date for e in changed)
    return [f"รายการที่ {number_ranges([e.no for e in changed])} "
            f"(ลงวันที่ {period_th(days[0], days[-1])})"]


def _numbers(ledger: Ledger, args: str, word: str) -> tuple[list[int], list[Reply]]:
    """The entry numbers typed after ``word``, or (none and) the reply that refuses them."""
    try:
        nos = parse_numbers(args)
    except LedgerError as exc:
        return [], [Reply(str(exc))]
    if not nos:
        return [], [Reply(f"พิมพ์ {word} ตามด้วยเลขรายการ เช่น {word} 3 หรือ {word} 1-20")]
    if all(ledger.get(n) is None for n in nos):
        last = len(ledger)
        have = f"ตอนนี้มีรายการที่ 1 ถึง {last}" if last else "ตอนนี้ยังไม่มีรายการ"
        return [], [Reply(f"ไม่มีรายการที่ {number_ranges(nos)} ใน อปท. ของคุณค่ะ ({have}) "
                          "ยังไม่ได้เปลี่ยนเครื่องหมายใด", (Choice("ค้างคีย์", "cmd:pending"),))]
    return nos, []


def mark_keyed(ledger: Ledger, args: str, by: str, now: datetime) -> list[Reply]:
    """``คีย์แล้ว 1-20``: mark at once, say what was marked and how to undo it."""
    numbers, refused = _numbers(ledger, args, "คีย์แล้ว")
    if refused:
        return refused
    before = {n: ledger.get(n) for n in numbers}
    done = ledger.mark_keyed(numbers, by=by, now=now)
    left = len(ledger.pending_keyback())
    lines = [f"ทำเครื่องหมายคีย์แล้ว {len(done)} รายการ · ยังค้างคีย์ {left} รายการ", *_what(done)]
    missing = [n for n, e in before.items() if e is None]
    if missing:
        lines.append(f"ไม่มีรายการที่ {number_ranges(missing)}")
    voided = [n for n, e in before.items() if e is not None and e.voided]
    if voided:
        lines.append(f"ข้ามรายการที่ยกเลิกแล้ว: {number_ranges(voided)}")
    again = [n for n, e in before.items() if e is not None and e.keyed and not e.voided]
    if again:
        lines.append(f"คีย์ไว้แล้วก่อนหน้านี้: {number_ranges(again)}")
    if done:
        lines.append(f"ถ้าทำผิด พิมพ์: ยกเลิกคีย์ {number_ranges([e.no for e in done])}")
    return [Reply("\n".join(lines), (Choice("ค้างคีย์", "cmd:pending"),), private=True,
                  meta=wrote("ค้างคีย์") if done else {})]


def unmark_keyed(ledger: Ledger, args: str, by: str, now: datetime) -> list[Reply]:
    """``ยกเลิกคีย์ 3-5`` / ``ยังไม่คีย์ 3``: the entries go back to the pending list."""
    numbers, refused = _numbers(ledger, args, "ยกเลิกคีย์")
    if refused:
        return refused
    before = {n: ledger.get(n) for n in numbers}
    done = ledger.unmark_keyed(numbers, by=by, now=now)
    left = len(ledger.pending_keyback())
    lines = ([f"เอาเครื่องหมายคีย์แล้วออก {len(done)} รายการ (กลับไปค้างคีย์) · "
              f"ยังค้างคีย์ {left} รายการ", *_what(done)] if done else
             ["ไม่ได้เปลี่ยนเครื่องหมายใดค่ะ"])
    missing = [n for n, e in before.items() if e is None]
    if missing:
        lines.append(f"ไม่มีรายการที่ {number_ranges(missing)}")
    plain = [n for n, e in before.items() if e is not None and not e.keyed]
    if plain:
        lines.append(f"ยังไม่ได้ทำเครื่องหมายคีย์แล้ว: {number_ranges(plain)}")
    return [Reply("\n".join(lines), (Choice("ค้างคีย์", "cmd:pending"),), private=True,
                  meta=wrote("ค้างคีย์") if done else {})]
