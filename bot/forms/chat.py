"""Forms in chat: the catalog as buttons, a blank form in two taps, forms filled from entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.contract import META_LISTED, Choice, Reply
from bot.core.feature import Command, Context, Feature
from bot.core.thaifmt import thai_date
from bot.forms.catalog import (
    MAX_FILL_DAYS,
    FormCatalog,
    FormDef,
    lists_pending,
    render_blank,
    render_filled,
    render_pending,
)
from bot.forms.catalog import warm_up as warm_renderers
from bot.forms.paper import PaperForm, asked_paper_form
from bot.ledger.book import LedgerBook
from bot.ledger.entries import EntryError, Lao
from bot.ledger.listing import number_ranges
from bot.ledger.quickentry import parse_period
from bot.qa import command_args as shape

HELPER_NOTE = "แบบช่วยบันทึก (ไม่ใช่แบบทางการตาม ว 2431)"
NO_SUCH_FORM = "บอทไม่มีแบบ{name}ให้ค่ะ\n{note}"
USE_PAPER = "ถ้าไม่แน่ใจว่าใช้แบบไหน ดูตามระเบียบและแนวทาง ว 3369 หรือสอบถาม สถจ. หรืออำเภอ"
OUR_FORMS = "แบบที่บอทส่งให้ได้ เลือกด้านล่างค่ะ"
FILL_PENDING = "กรอกรายการค้างคีย์"


class FormsFeature(Feature):
    """``/forms`` lists the catalog; a form button sends the PDF, then offers Excel and a fill."""

    name = "forms"
    action_prefixes = ("form", "formx", "formfill")

    def __init__(self, catalog: FormCatalog, book: LedgerBook,
                 paper: Sequence[PaperForm] = (), topic_titles: dict[str, str] | None = None):
        self.catalog = catalog
        self.book = book
        self.paper = tuple(paper)
        self.topic_titles = dict(topic_titles or {})

    def warm_up(self) -> None:
        """Import the renderers and render every blank PDF (no LAO header) once, at start.

        Otherwise the first clerk to ask for a form pays ~0.7 s of imports and font shaping
        and 50-100 ms per form on the engine thread, which every other user waits behind;
        fpdf/fontTools imported before serve's ``gc.freeze()`` are also out of the GC's scans.
        """
        warm_renderers()
        for form in self.catalog.all():
            render_blank(form, "pdf")

    def commands(self) -> list[Command]:
        return [Command(("forms", "form"), ("แบบฟอร์ม", "ฟอร์ม", "ขอแบบฟอร์ม"), self.list_forms,
                        takes_args=True, accepts=shape.number_or_nothing)]

    def list_forms(self, ctx: Context, args: str) -> list[Reply]:
        """The catalog; ``แบบฟอร์ม 3`` sends the third form, a number past the list says so."""
        forms = self.catalog.all()
        typed = args.strip()  # accepts: a number (๐-๙ too) or nothing
        asked = int(typed) if typed.isdecimal() else 0
        if 1 <= asked <= len(forms):
            return [self._blank(ctx, forms[asked - 1], "pdf")]
        head = f"ไม่มีแบบฟอร์มที่ {typed} ค่ะ มีแบบที่ 1-{len(forms)}\n" if typed else ""
        choices = tuple(Choice(f.button, f"form:{f.id}") for f in forms)
        # Only the terminal picks a choice by a typed number (it numbers the choices in this
        # order); on LINE and Telegram the choices are buttons and a typed "2" picks nothing,
        # so the list there has no numbers to type.
        numbered = ctx.incoming.channel == "console"
        lines = [f"{i}. {f.name}" if numbered else f"• {f.name}" for i, f in enumerate(forms, 1)]
        return [Reply(f"{head}เลือกแบบฟอร์มที่ต้องการได้เลยค่ะ (ส่งเป็น PDF พิมพ์ได้ทันที และขอเป็น Excel ได้)\n"
                      + "\n".join(lines) + f"\nทุกแบบเป็น{HELPER_NOTE}", choices,
                      meta={META_LISTED: "1"} if numbered else {})]

    def not_provided(self, text: str, tokens: Sequence[str]) -> list[Reply] | None:
        """A request for a paper form we have no layout for ("มีแบบฟอร์มงบทดลองไหม"): say so,
        point to the unit's paper form, and offer the forms we do have (never another form
        as if it were the one asked for). None: not such a request."""
        asked = asked_paper_form(text, tokens, self.paper, self.catalog)
        if asked is None:
            return None
        first = [f for f in (self.catalog.get(i) for i in asked.instead) if f is not None]
        rest = [f for f in self.catalog.all() if f not in first]
        choices = [Choice(f.button, f"form:{f.id}") for f in (*first, *rest)]
        if asked.topic and asked.topic in self.topic_titles:
            choices.append(Choice(self.topic_titles[asked.topic], f"topic:{asked.topic}"))
        choices.append(Choice("เมนูหลัก", "menu:"))
        text = "\n".join((NO_SUCH_FORM.format(name=asked.name, note=asked.note), USE_PAPER,
                          OUR_FORMS))
        return [Reply(text, tuple(choices))]

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        kind, _, rest = action.partition(":")
        if kind not in {"form", "formx", "formfill"}:
            return None
        form_id, _, arg = rest.partition(":")
        form = self.catalog.get(form_id)
        if form is None:
            return [Reply("ไม่พบแบบฟอร์มนี้แล้วค่ะ", (Choice("แบบฟอร์มทั้งหมด", "cmd:forms"),))]
        if kind == "form":
            return [self._blank(ctx, form, "pdf")]
        if kind == "formx":
            return [self._blank(ctx, form, "xlsx")]
        return self._filled(ctx, form, arg)

    def _blank(self, ctx: Context, form: FormDef, fmt: str) -> Reply:
        member = self.book.directory.member(ctx.user)
        lao = self.book.directory.lao(member.lao_code) if member else None
        blob = render_blank(form, "xlsx" if fmt == "xlsx" else "pdf", lao=lao)
        choices: list[Choice] = []
        if fmt == "pdf":
            choices.append(Choice("ขอเป็น Excel", f"formx:{form.id}"))
        if form.fillable and lao is not None and lists_pending(form):
            choices.append(Choice(FILL_PENDING, f"formfill:{form.id}:pending"))
        elif form.fillable and lao is not None:
            choices.append(Choice("กรอกจากรายการวันนี้", f"formfill:{form.id}:today"))
        choices.append(Choice("แบบฟอร์มอื่น", "cmd:forms"))
        return Reply(f"{form.name} ({'Excel' if fmt == 'xlsx' else 'PDF'})\n{form.purpose}\n"
                     f"เป็น{HELPER_NOTE}", tuple(choices), file=blob)

    def _filled(self, ctx: Context, form: FormDef, period: str) -> list[Reply]:
        member = self.book.directory.member(ctx.user)
        lao = self.book.directory.lao(member.lao_code) if member else None
        if member is None or lao is None:
            return [Reply("แบบที่กรอกจากรายการใช้ได้เมื่อเข้าร่วม อปท. แล้วค่ะ",
                          (Choice("วิธีเข้าร่วม", "topic:bot.join_howto"),))]
        if lists_pending(form) and period in ("", "today", "pending"):
            return [self._pending(ctx, form, lao)]
        today = ctx.today
        try:
            lo, hi = (today, today) if period in ("", "today") else parse_period(period, today)
        except EntryError as exc:
            return [Reply(str(exc))]
        entries = self.book.ledger(lao.code).entries()
        blob = render_filled(form, "pdf", lao=lao, entries=entries, date_from=lo, date_to=hi,
                             printed_at=ctx.now)
        blank = ("\nบอทไม่ทราบยอดยกมา จึงเว้นช่องยอดยกมาและยอดคงเหลือไว้ให้กรอกเอง"
                 if form.id == "daily-cash-report" else "")
        choices = [Choice("แบบฟอร์มอื่น", "cmd:forms")]
        # Typed today for earlier days: not on today's page; one tap fills those days.
        late = sorted(e.date for e in entries if e.date < lo == hi == today and not e.voided
                      and e.recorded_at.astimezone(ctx.now.tzinfo).date() == today)
        if late and (late[-1] - late[0]).days <= MAX_FILL_DAYS:
            span = _period(late[0], late[-1])
            blank += (f"\nรายการที่บันทึกวันนี้แต่ลงวันที่ย้อนหลัง {len(late)} รายการ ({span}) "
                      "ไม่อยู่ในแบบของวันนี้")
            choices.insert(0, Choice("กรอกวันที่ย้อนหลัง",
                                     f"formfill:{form.id}:{late[0]} - {late[-1]}"))
        return [Reply(f"{form.name} ของ {lao.name} {_period(lo, hi)} กรอกจากรายการที่บันทึกในบอท"
                      f"{blank}\nตรวจทานก่อนลงนามทุกครั้งค่ะ",
                      tuple(choices), file=blob, private=True)]

    def _pending(self, ctx: Context, form: FormDef, lao: Lao) -> Reply:
        """The key-back worksheet of every entry still to key, oldest first."""
        pending = self.book.ledger(lao.code).pending_keyback()
        more = (Choice("ค้างคีย์", "cmd:pending"), Choice("แบบฟอร์มอื่น", "cmd:forms"))
        if not pending:
            return Reply("ไม่มีรายการที่ยังไม่ได้คีย์เข้า e-LAAS ค่ะ จึงไม่มีอะไรให้กรอกในใบงาน", more)
        blob, shown, left = render_pending(form, "pdf", lao=lao, pending=pending,
                                           printed_at=ctx.now)
        text = (f"{form.name} ของ {lao.name}: รายการที่ยังไม่ได้คีย์เข้า e-LAAS {len(shown)} รายการ "
                f"({_period(shown[0].date, shown[-1].date)}) เก่าสุดก่อน")
        if left:
            text += (f"\nยังเหลืออีก {left} รายการ คีย์ใบนี้ให้ครบแล้วพิมพ์ "
                     f"คีย์แล้ว {number_ranges([e.no for e in shown])} "
                     "จากนั้นกดขอใบงานอีกครั้ง")
        return Reply(f"{text}\nตรวจทานก่อนลงนามทุกครั้งค่ะ", more, file=blob, private=True)


def _period(lo: date, hi: date) -> str:
    return thai_date(lo) if lo == hi else f"{thai_date(lo)} - {thai_date(hi)}"
