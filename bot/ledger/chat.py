"""The ledger in chat: join an LAO, quick entries, lists, voids, key-back marks, export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import ClassVar

from bot.core.contract import Choice, Reply
from bot.core.feature import Command, Context, Feature, Handler
from bot.core.privacy import private_only
from bot.core.steps import STEP_MINUTES, Step, Waits, step_kind
from bot.core.thaifmt import amount_in_words, be_year, format_baht, thai_date, thai_datetime
from bot.ledger import listing
from bot.ledger.book import Ledger, LedgerBook, LedgerError, Member, Role
from bot.ledger.entries import KIND_TH, METHOD_TH, Entry, EntryError, Lao, NotAnEntry, ParsedEntry
from bot.ledger.listing import EXAMPLE, LIST_LIMIT
from bot.ledger.quickentry import looks_like_entry, parse_entry
from bot.qa import command_args as shape

ScopedHandler = Callable[[Context, str, Member, Ledger], list[Reply]]
DEMO_LAO = Lao("99999999", "อบต.ตัวอย่าง (ทดลองใช้)", "ทดลอง")
MAX_LINES = 30
NO_LAO = (
    "ยังไม่ได้เชื่อมกับ อปท. ค่ะ\n"
    "ขอรหัสเข้าร่วมจากผู้ดูแลของ อปท. หรือสำนักงานท้องถิ่นจังหวัด แล้วพิมพ์\n"
    "เข้าร่วม รหัส (เช่น เข้าร่วม AB12CD34)"
)
KEYED_VOID_WARNING = ("รายการนี้คีย์เข้า e-LAAS แล้ว ยกเลิกในบอทแล้วต้องไปกลับรายการใน e-LAAS ด้วย"
                      "ค่ะ")


class LedgerFeature(Feature):
    """Ledger commands; every action is scoped to the caller's own LAO."""

    name = "ledger"
    action_prefixes = ("demo", "void", "leave", "kick")

    def __init__(self, book: LedgerBook, *, offer_demo: bool = False):
        self.book = book
        self.dir = book.directory
        self.offer_demo = offer_demo

    # ------------------------------------------------------------------ plumbing

    def commands(self) -> list[Command]:
        c = Command
        return [
            c(("join",), ("เข้าร่วม", "join"), self.join, takes_args=True, accepts=shape.join_code),
            c(("leave",), ("ออกจาก อปท.", "ออกจากอปท", "ออกจาก อปท"), self.leave),
            c(("invite",), ("เชิญ", "สร้างรหัสเข้าร่วม"), self.invite, takes_args=True,
              accepts=shape.invite_role),
            c(("members",), ("สมาชิก",), self.members),
            c(("today",), ("วันนี้", "รายการวันนี้"), self._scoped(self.today)),
            c(("recent",), ("ล่าสุด", "รายการล่าสุด"), self._scoped(self.recent)),
            c(("summary",), ("สรุป", "สรุปรายวัน", "สรุปวันนี้"), self._scoped(self.summary),
              takes_args=True, accepts=shape.period, glued=shape.glued_period),
            c(("void",), ("ยกเลิก", "ยกเลิกรายการ"), self._scoped(self.void_cmd), takes_args=True,
              accepts=shape.entry_number),
            c(("keyed",), ("คีย์แล้ว",), self._scoped(self.keyed), takes_args=True,
              accepts=shape.entry_numbers),
            c(("pending",), ("ค้างคีย์", "ยังไม่คีย์"), self._scoped(self.pending)),
            c(("unkeyed",), ("ยกเลิกคีย์", "ยังไม่คีย์"), self._scoped(self.unkeyed),
              takes_args=True, accepts=shape.entry_numbers),
            c(("export",), ("ส่งออก", "export"), self._scoped(self.export), takes_args=True,
              accepts=shape.export_args, glued=shape.glued_period),
            c(("log",), ("บันทึกรายการ", "บันทึก"), self.log_help),
            c(("demo",), ("ทดลองใช้", "ทดลอง"), self.demo),
        ]

    def _scoped(self, command: ScopedHandler) -> Handler:
        """A command that runs on the caller's own LAO ledger (or tells them how to join)."""

        def handler(ctx: Context, args: str) -> list[Reply]:
            need = self._need_member(ctx)
            if isinstance(need, list):
                return need
            return command(ctx, args, *need)

        return handler

    def _member(self, ctx: Context) -> Member | None:
        return self.dir.member(ctx.user)

    def _need_member(self, ctx: Context) -> tuple[Member, Ledger] | list[Reply]:
        if ctx.incoming.anonymous:
            return [private_only()]
        m = self._member(ctx)
        if m is None or self.dir.lao(m.lao_code) is None:
            choices: tuple[Choice, ...] = (Choice("วิธีเข้าร่วม", "topic:bot.join_howto"),)
            if self.offer_demo and ctx.incoming.channel == "console":
                choices = (Choice("ทดลองใช้ อปท.ตัวอย่าง", "demo:create"), *choices)
            return [Reply(NO_LAO, (*choices, Choice("เมนูหลัก", "menu:")))]
        return m, self.book.ledger(m.lao_code)

    # ------------------------------------------------------------------ membership

    def join(self, ctx: Context, args: str) -> list[Reply]:
        code = args.strip()
        if not code:
            return [Reply("พิมพ์ เข้าร่วม ตามด้วยรหัส 8 ตัวที่ได้จากผู้ดูแล อปท. เช่น เข้าร่วม AB12CD34")]
        try:
            m = self.dir.redeem(code, ctx.user, ctx.incoming.display_name, ctx.now)
        except LedgerError as exc:
            return [Reply(str(exc))]
        lao = self.dir.lao(m.lao_code)
        role = "ผู้ดูแล" if m.is_admin else "สมาชิก"
        name = lao.name if lao else m.lao_code
        return [Reply(f"เข้าร่วม {name} (รหัส {m.lao_code}) ในฐานะ{role}แล้วค่ะ\n"
                      f"เริ่มบันทึกได้เลย {EXAMPLE}",
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"), Choice("เมนูหลัก", "menu:")),
                      private=True)]

    def leave(self, ctx: Context, args: str) -> list[Reply]:
        m = self._member(ctx)
        if m is None:
            return [Reply("ตอนนี้ยังไม่ได้อยู่ใน อปท. ใดค่ะ")]
        return [Reply("ยืนยันออกจาก อปท. ไหมคะ รายการที่บันทึกไว้ยังอยู่ในสมุดของ อปท. ตามเดิม",
                      (Choice("ยืนยันออก", f"leave:{m.lao_code}"), Choice("ไม่ออก", "menu:")))]

    def invite(self, ctx: Context, args: str) -> list[Reply]:
        m = self._member(ctx)
        if m is None or not m.is_admin:
            return [Reply("สร้างรหัสเข้าร่วมได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        role: Role = "admin" if "ผู้ดูแล" in args or "admin" in args else "member"
        inv = self.dir.invite(m.lao_code, role, ctx.user, ctx.now)
        who = "ผู้ดูแล" if role == "admin" else "สมาชิก"
        return [Reply(f"รหัสเข้าร่วม ({who}): {inv.code}\nใช้ได้ครั้งเดียว หมดอายุ "
                      f"{thai_datetime(inv.expires_at)}\nให้ผู้ใช้พิมพ์: เข้าร่วม {inv.code}",
                      private=True)]

    def members(self, ctx: Context, args: str) -> list[Reply]:
        m = self._member(ctx)
        if m is None or not m.is_admin:
            return [Reply("ดูรายชื่อสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        ms = self.dir.members(m.lao_code)
        lines = [f"{i}. {x.name or x.user} ({'ผู้ดูแล' if x.is_admin else 'สมาชิก'})"
                 for i, x in enumerate(ms, 1)]
        choices = tuple(Choice(f"ลบ {i}. {(x.name or x.user)[:12]}", f"kick:{m.lao_code}:{x.user}")
                        for i, x in enumerate(ms, 1) if x.user != ctx.user)
        return [Reply("สมาชิก อปท.\n" + "\n".join(lines), choices[:12], private=True)]

    def demo(self, ctx: Context, args: str) -> list[Reply]:
        if not (self.offer_demo and ctx.incoming.channel == "console"):
            return [Reply("โหมดทดลองใช้ได้เฉพาะในเครื่อง (elaas-bot chat) ค่ะ")]
        if self.dir.lao(DEMO_LAO.code) is None:
            self.dir.add_lao(DEMO_LAO)
        self.dir.bind(ctx.user, DEMO_LAO.code, "admin", ctx.incoming.display_name or "ผู้ทดลอง",
                      ctx.now)
        return [Reply(f"เข้าร่วม {DEMO_LAO.name} ในฐานะผู้ดูแลแล้ว ลองบันทึกได้เลย\n{EXAMPLE}\n"
                      "แล้วลองพิมพ์: วันนี้ · สรุป · ค้างคีย์ · ส่งออก",
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"), Choice("เมนูหลัก", "menu:")))]

    # ------------------------------------------------------------------ entries

    def log_help(self, ctx: Context, args: str) -> list[Reply]:
        return [Reply("พิมพ์ 1 บรรทัดต่อรายการ: รับ/จ่าย จำนวนเงิน รายการ [วันที่] [เลขที่] [วิธี]\n"
                      f"{EXAMPLE}\nวางหลายบรรทัดพร้อมกันได้ (บรรทัดละ 1 รายการ)",
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"), Choice("รายการวันนี้", "cmd:today")))]

    def on_text(self, ctx: Context, text: str) -> list[Reply] | None:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if not lines or not any(looks_like_entry(ln) for ln in lines):
            return None
        today = ctx.now.date()
        parsed: list[ParsedEntry] = []
        errors: list[str] = []
        for i, line in enumerate(lines[:MAX_LINES + 1], 1):
            try:
                parsed.append(parse_entry(line, today))
            except NotAnEntry:
                errors.append(f"บรรทัด {i}: ไม่ใช่รายการรับ/จ่าย ({line[:30]})")
            except EntryError as exc:
                errors.append(f"บรรทัด {i}: {exc}" if len(lines) > 1 else str(exc))
        if len(lines) == 1 and not parsed and not errors:
            return None
        if len(lines) == 1 and errors and not looks_like_entry(lines[0]):
            return None
        if len(lines) > MAX_LINES:
            return [Reply(f"วางได้ครั้งละไม่เกิน {MAX_LINES} บรรทัดค่ะ ยังไม่ได้บันทึกรายการใด")]
        need = self._need_member(ctx)
        if isinstance(need, list):
            return need
        _, ledger = need
        if errors:
            if len(lines) == 1:
                return [Reply(errors[0])]
            return [Reply("ยังไม่ได้บันทึกค่ะ แก้แล้วส่งใหม่ได้เลย\n" + "\n".join(errors[:10])
                          + f"\n{EXAMPLE}")]
        eid = ctx.incoming.event_id
        items = [(p, f"{eid}#{i}" if eid and len(parsed) > 1 else eid) for i, p in
                 enumerate(parsed)]
        saved = ledger.add_many(items, author=ctx.user, author_name=ctx.incoming.display_name,
                                channel=ctx.incoming.channel, now=ctx.now)
        reply = self._saved_reply(ledger.lao_code, saved)
        assumed = sorted({be_year(p.date) for p in parsed if p.year_assumed})
        if assumed:  # "10/7" typed without a year: say which year was taken
            years = ", ".join(str(y) for y in assumed)
            reply = Reply(f"{reply.text}\n(ไม่ได้ระบุปี จึงใช้วันล่าสุดที่ผ่านมา คือปี พ.ศ. {years})",
                          reply.choices)
        return [reply]

    def _saved_reply(self, lao_code: str, saved: Sequence[tuple[Entry, bool]]) -> Reply:
        entries = [e for e, _ in saved]
        again = all(not created for _, created in saved)
        head = "รายการนี้บันทึกไว้แล้ว (ไม่บันทึกซ้ำ)" if again else "บันทึกแล้วค่ะ"
        if len(entries) == 1:
            e = entries[0]
            text = (f"{head} รายการที่ {e.no}\n{KIND_TH[e.kind]} {format_baht(e.amount)}\n"
                    f"({amount_in_words(e.amount)})\n{e.description} · {thai_date(e.date)}"
                    + _extras(e.doc_no, e.method))
            return Reply(text, (Choice(f"ยกเลิกรายการ {e.no}", f"void:{lao_code}:{e.no}"),
                                Choice("รายการวันนี้", "cmd:today")), private=True)
        rec = sum((e.amount for e in entries if e.kind == "receipt"), Decimal(0))
        pay = sum((e.amount for e in entries if e.kind == "payment"), Decimal(0))
        lines = [f"{e.no}. {KIND_TH[e.kind]} {format_baht(e.amount)} {e.description} "
                 f"{thai_date(e.date)}" for e in entries]
        text = (f"{head} {len(entries)} รายการ\n" + "\n".join(lines)
                + f"\nรวมรับ {format_baht(rec)} · รวมจ่าย {format_baht(pay)}")
        voids = tuple(Choice(f"ยกเลิก {e.no}", f"void:{lao_code}:{e.no}") for e in entries[:10])
        return Reply(text, (*voids, Choice("รายการวันนี้", "cmd:today")), private=True)

    def today(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.today_list(ledger, ctx.now)

    def recent(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.entry_list("รายการล่าสุด", ledger.recent(LIST_LIMIT),
                                  f"ยังไม่มีรายการค่ะ\n{EXAMPLE}")

    def pending(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.pending_list(ledger)

    def summary(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.summary_reply(ledger, args, ctx.now.date())

    # ------------------------------------------------------------------ void / keyed

    def void_cmd(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        head, _, reason = args.strip().partition(" ")
        if not head.isdigit():
            return [Reply("พิมพ์ ยกเลิก ตามด้วยเลขรายการ เช่น ยกเลิก 12 พิมพ์ยอดผิด")]
        return self._void_or_ask(ctx, member, ledger, int(head), reason)

    def _void_or_ask(self, ctx: Context, member: Member, ledger: Ledger, no: int,
                     reason: str) -> list[Reply]:
        e = ledger.get(no)
        if e is None:
            return [Reply(f"ไม่พบรายการที่ {no} ใน อปท. ของคุณค่ะ")]
        if not reason.strip():
            if e.voided:
                return [Reply(f"รายการที่ {no} ยกเลิกไปแล้วค่ะ", (Choice("รายการวันนี้", "cmd:today"),))]
            step = VoidReason.start(ctx.now, lao=ledger.lao_code, no=no)
            ctx.session.set_step(step)
            keyed = f"\n{KEYED_VOID_WARNING}" if e.keyed else ""
            return [Reply(f"ยกเลิกรายการที่ {no}: {KIND_TH[e.kind]} {format_baht(e.amount)} "
                          f"{e.description}{keyed}\nพิมพ์เหตุผลที่ยกเลิก (เช่น พิมพ์ยอดผิด) "
                          f"ภายใน {STEP_MINUTES} นาที หรือกด “ไม่ยกเลิก”",
                          (step.cancel_choice(),), private=True)]
        try:
            v = ledger.void(no, by=ctx.user, reason=reason, now=ctx.now,
                            may_void_any=member.is_admin)
        except LedgerError as exc:
            return [Reply(str(exc))]
        keyed = f"\n{KEYED_VOID_WARNING}" if e.keyed else ""
        return [Reply(f"ยกเลิกรายการที่ {v.no} แล้วค่ะ (เหตุผล: {reason.strip()})\n"
                      f"รายการยังอยู่ในสมุดโดยมีเครื่องหมายยกเลิก ไม่ถูกลบ{keyed}",
                      (Choice("รายการวันนี้", "cmd:today"),))]

    def on_step(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        member = self._member(ctx)
        if isinstance(step, VoidReason):
            if member is None or member.lao_code != step.lao:
                return [Reply("ทำรายการนี้ไม่ได้ค่ะ")]
            if not text.strip():
                return [Reply(step.undone_text())]
            return self._void_or_ask(ctx, member, self.book.ledger(member.lao_code), step.no,
                                     text[:200])
        if isinstance(step, RemoveMember):
            return self._remove_member(member, step.lao, step.user)
        return [Reply(step.undone_text())]

    def keyed(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.mark_keyed(ledger, args, ctx.user, ctx.now)

    def unkeyed(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.unmark_keyed(ledger, args, ctx.user, ctx.now)

    # ------------------------------------------------------------------ export

    def export(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.export_reply(self.dir, member, ledger, args, ctx.now)

    # ------------------------------------------------------------------ buttons

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        kind, _, rest = action.partition(":")
        if kind == "demo":
            return self.demo(ctx, "")
        if kind not in {"void", "leave", "kick"}:
            return None
        member = self._member(ctx)
        lao_code, _, arg = rest.partition(":")
        if member is None or member.lao_code != lao_code:
            return [Reply("ปุ่มนี้ใช้ไม่ได้สำหรับบัญชีของคุณค่ะ")]
        if kind == "leave":
            self.dir.unbind(ctx.user)
            return [Reply("ออกจาก อปท. แล้วค่ะ รายการที่บันทึกไว้ยังอยู่ในสมุดของ อปท.")]
        if kind == "kick":
            if not member.is_admin:
                return [Reply("ลบสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
            target = self.dir.member(arg)
            if target is None or target.lao_code != lao_code:
                return [Reply("ไม่พบสมาชิกนี้แล้วค่ะ")]
            step = RemoveMember.start(ctx.now, lao=lao_code, user=arg,
                                      name=target.name or target.user)
            ctx.session.set_step(step)
            return [Reply(f"ลบ {step.name} ออกจาก อปท. ใช่ไหมคะ\n"
                          "รายการที่คนนี้บันทึกไว้ยังอยู่ในสมุดของ อปท.",
                          (step.yes_choice("ยืนยันลบ"), step.cancel_choice("ไม่ลบ")))]
        if not arg.isdigit():
            return None
        return self._void_or_ask(ctx, member, self.book.ledger(lao_code), int(arg), "")

    def _remove_member(self, member: Member | None, lao_code: str, user: str) -> list[Reply]:
        if member is None or member.lao_code != lao_code or not member.is_admin:
            return [Reply("ลบสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        target = self.dir.member(user)
        if target is None or target.lao_code != lao_code:
            return [Reply("ไม่พบสมาชิกนี้แล้วค่ะ")]
        self.dir.unbind(user)
        return [Reply(f"ลบ {target.name or target.user} ออกจาก อปท. แล้วค่ะ")]


@step_kind
class VoidReason(Step, frozen=True, kw_only=True):
    """``ยกเลิก 2`` without a reason: waits for the reason."""

    kind: ClassVar[str] = "ledger.void_reason"
    feature: ClassVar[str] = "ledger"
    input_topics: ClassVar[frozenset[str]] = frozenset(
        {"bot.void_howto", "guide.receipt_void", "guide.mismatch"})
    cancel_label: ClassVar[str] = "ไม่ยกเลิก"
    go_ahead_words: ClassVar[frozenset[str]] = frozenset(
        {"ยกเลิกเลย", "ยกเลิกได้เลย", "ยกเลิกได้", "ยกเลิกรายการ", "ลบ", "ลบเลย", "ลบได้เลย"})
    lao: str
    no: int

    @property
    def prompt(self) -> str:
        return f"เหตุผลที่ยกเลิกรายการที่ {self.no}"

    def again_text(self) -> str:
        return (f"ขอเหตุผลที่ยกเลิกรายการที่ {self.no} สั้น ๆ ด้วยค่ะ เช่น พิมพ์ยอดผิด หรือ จดซ้ำ "
                f"(ถ้าไม่ยกเลิก กด “{self.cancel_label}”)")

    def undone_text(self) -> str:
        return f"ยังไม่ได้ยกเลิกรายการที่ {self.no} ค่ะ (ถ้าจะยกเลิก พิมพ์ ยกเลิก {self.no} เหตุผล)"

    def confirm_text(self, text: str) -> str:
        return f"ยกเลิกรายการที่ {self.no} ด้วยเหตุผล “{text}” ใช่ไหมคะ"


@step_kind
class RemoveMember(Step, frozen=True, kw_only=True):
    """A tapped member-removal button: waits for the admin's confirmation."""

    kind: ClassVar[str] = "ledger.remove_member"
    feature: ClassVar[str] = "ledger"
    waits: ClassVar[Waits] = "confirm"
    lao: str
    user: str
    name: str

    @property
    def prompt(self) -> str:
        return f"ยืนยันลบ {self.name} ออกจาก อปท."

    def undone_text(self) -> str:
        return f"ยังไม่ได้ลบ {self.name} ออกจาก อปท. ค่ะ"


def _extras(doc_no: str | None, method: str | None) -> str:
    parts = []
    if method:
        parts.append(METHOD_TH.get(method, method))
    if doc_no:
        parts.append(f"เลขที่ {doc_no}")
    return (" · " + " · ".join(parts)) if parts else ""
