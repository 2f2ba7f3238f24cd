"""Forms in chat: the catalog as buttons, a blank form in two taps, forms filled from entries."""

from __future__ import annotations

from datetime import date

from bot.core.contract import META_LISTED, Choice, Reply
from bot.core.feature import Command, Context, Feature
from bot.core.thaifmt import thai_date
from bot.forms.catalog import FormCatalog, FormDef, render_blank, render_filled
from bot.ledger.book import LedgerBook
from bot.ledger.entries import EntryError
from bot.ledger.quickentry import parse_period
from bot.qa import command_args as shape

HELPER_NOTE = "แบบช่วยบันทึก (ไม่ใช่แบบทางการตาม ว 2431)"


class FormsFeature(Feature):
    """``/forms`` lists the catalog; a form button sends the PDF, then offers Excel and a fill."""

    name = "forms"
    action_prefixes = ("form", "formx", "formfill")

    def __init__(self, catalog: FormCatalog, book: LedgerBook):
        self.catalog = catalog
        self.book = book

    def commands(self) -> list[Command]:
        return [Command(("forms", "form"), ("แบบฟอร์ม", "ฟอร์ม", "ขอแบบฟอร์ม"), self.list_forms,
                        takes_args=True, accepts=shape.number_or_nothing)]

    def list_forms(self, ctx: Context, args: str) -> list[Reply]:
        lines = [f"{i}. {f.name}" for i, f in enumerate(self.catalog.all(), 1)]
        choices = tuple(Choice(f.button, f"form:{f.id}") for f in self.catalog.all())
        return [Reply("เลือกแบบฟอร์มที่ต้องการได้เลยค่ะ (ส่งเป็น PDF พิมพ์ได้ทันที และขอเป็น Excel ได้)\n"
                      + "\n".join(lines) + f"\nทุกแบบเป็น{HELPER_NOTE}", choices,
                      meta={META_LISTED: "1"})]

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
        if form.fillable and lao is not None:
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
        today = ctx.now.date()
        try:
            lo, hi = (today, today) if period in ("", "today") else parse_period(period, today)
        except EntryError as exc:
            return [Reply(str(exc))]
        entries = self.book.ledger(lao.code).entries()
        blob = render_filled(form, "pdf", lao=lao, entries=entries, date_from=lo, date_to=hi,
                             printed_at=ctx.now)
        return [Reply(f"{form.name} ของ {lao.name} {_period(lo, hi)} กรอกจากรายการที่บันทึกในบอท\n"
                      "ตรวจทานก่อนลงนามทุกครั้งค่ะ",
                      (Choice("แบบฟอร์มอื่น", "cmd:forms"),), file=blob, private=True)]


def _period(lo: date, hi: date) -> str:
    return thai_date(lo) if lo == hi else f"{thai_date(lo)} - {thai_date(hi)}"
