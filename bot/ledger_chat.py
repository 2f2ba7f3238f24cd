"""The ledger in chat: join an LAO, quick entries, lists, voids, key-back marks, export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from bot import command_args as shape
from bot.contract import Choice, Reply
from bot.entries import KIND_TH, METHOD_TH, Entry, EntryError, Lao, NotAnEntry, ParsedEntry
from bot.export import export_file
from bot.feature import Command, Context, Feature, Handler
from bot.ledger import Ledger, LedgerBook, LedgerError, Member, Role, parse_numbers
from bot.quickentry import looks_like_entry, parse_entry, parse_period
from bot.thaifmt import amount_in_words, format_baht, thai_date, thai_datetime

ScopedHandler = Callable[[Context, str, Member, Ledger], list[Reply]]
DEMO_LAO = Lao("99999999", "อบต.ตัวอย่าง (ทดลองใช้)", "ทดลอง")
MAX_LINES = 30
LIST_LIMIT = 15
NO_LAO = (
    "ยังไม่ได้เชื่อมกับ อปท. ค่ะ\n"
    "ขอรหัสเข้าร่วมจากผู้ดูแลของ อปท. หรือสำนักงานท้องถิ่นจังหวัด แล้วพิมพ์\n"
    "เข้าร่วม รหัส (เช่น เข้าร่วม AB12CD34)"
)
EXAMPLE = "ตัวอย่าง: รับ 1,500 ค่าขยะ หรือ จ่าย 3,200 ค่าน้ำมัน เช็ค เมื่อวาน"


class LedgerFeature(Feature):
    """Ledger commands; every action is scoped to the caller's own LAO."""

    name = "ledger"

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
              takes_args=True, accepts=shape.period),
            c(("void",), ("ยกเลิก", "ยกเลิกรายการ"), self._scoped(self.void_cmd), takes_args=True,
              accepts=shape.entry_number),
            c(("keyed",), ("คีย์แล้ว",), self._scoped(self.keyed), takes_args=True,
              accepts=shape.entry_numbers),
            c(("pending",), ("ค้างคีย์", "ยังไม่คีย์"), self._scoped(self.pending)),
            c(("export",), ("ส่งออก", "export"), self._scoped(self.export), takes_args=True,
              accepts=shape.export_args),
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
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"), Choice("เมนูหลัก", "menu:")))]

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
                      f"{thai_datetime(inv.expires_at)}\nให้ผู้ใช้พิมพ์: เข้าร่วม {inv.code}")]

    def members(self, ctx: Context, args: str) -> list[Reply]:
        m = self._member(ctx)
        if m is None or not m.is_admin:
            return [Reply("ดูรายชื่อสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        ms = self.dir.members(m.lao_code)
        lines = [f"{i}. {x.name or x.user} ({'ผู้ดูแล' if x.is_admin else 'สมาชิก'})"
                 for i, x in enumerate(ms, 1)]
        choices = tuple(Choice(f"ลบ {i}. {(x.name or x.user)[:12]}", f"kick:{m.lao_code}:{x.user}")
                        for i, x in enumerate(ms, 1) if x.user != ctx.user)
        return [Reply("สมาชิก อปท.\n" + "\n".join(lines), choices[:12])]

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
        return [self._saved_reply(ledger.lao_code, saved)]

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
                                Choice("รายการวันนี้", "cmd:today")))
        rec = sum((e.amount for e in entries if e.kind == "receipt"), Decimal(0))
        pay = sum((e.amount for e in entries if e.kind == "payment"), Decimal(0))
        lines = [f"{e.no}. {KIND_TH[e.kind]} {format_baht(e.amount)} {e.description} "
                 f"{thai_date(e.date)}" for e in entries]
        text = (f"{head} {len(entries)} รายการ\n" + "\n".join(lines)
                + f"\nรวมรับ {format_baht(rec)} · รวมจ่าย {format_baht(pay)}")
        voids = tuple(Choice(f"ยกเลิก {e.no}", f"void:{lao_code}:{e.no}") for e in entries[:10])
        return Reply(text, (*voids, Choice("รายการวันนี้", "cmd:today")))

    def _list(self, title: str, entries: Sequence[Entry], empty: str) -> list[Reply]:
        es = list(entries)
        if not es:
            return [Reply(empty, (Choice("วิธีบันทึก", "topic:bot.log_howto"),))]
        live = [e for e in es if not e.voided]
        rec = sum((e.amount for e in live if e.kind == "receipt"), Decimal(0))
        pay = sum((e.amount for e in live if e.kind == "payment"), Decimal(0))
        shown = es[-LIST_LIMIT:]
        lines = []
        for e in shown:
            mark = " [ยกเลิก]" if e.voided else (" ✓คีย์แล้ว" if e.keyed else "")
            lines.append(f"{e.no}. {thai_date(e.date)} {KIND_TH[e.kind]} "
                         f"{format_baht(e.amount)} {e.description[:30]}{mark}")
        more = f"\n...และก่อนหน้าอีก {len(es) - len(shown)} รายการ" if len(es) > len(shown) else ""
        text = (f"{title} ({len(es)} รายการ){more}\n" + "\n".join(lines)
                + f"\nรวมรับ {format_baht(rec)}\nรวมจ่าย {format_baht(pay)}\n"
                  f"สุทธิ {format_baht(rec - pay)}")
        return [Reply(text, (Choice("ส่งออก Excel", "cmd:export"), Choice("ค้างคีย์", "cmd:pending")))]

    def today(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        d = ctx.now.date()
        return self._list(f"รายการวันที่ {thai_date(d)}", ledger.entries(d, d),
                          f"วันนี้ ({thai_date(d)}) ยังไม่มีรายการค่ะ\n{EXAMPLE}")

    def recent(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return self._list("รายการล่าสุด", ledger.recent(LIST_LIMIT),
                          f"ยังไม่มีรายการค่ะ\n{EXAMPLE}")

    def pending(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        es = ledger.pending_keyback()
        if not es:
            return [Reply("ไม่มีรายการค้างคีย์ค่ะ ทุกรายการคีย์เข้า e-LAAS แล้ว")]
        out = self._list("รายการที่ยังไม่ได้คีย์เข้า e-LAAS", es, "")
        out[0] = Reply(out[0].text + "\nคีย์แล้วพิมพ์: คีย์แล้ว 1-20 (เลขรายการ)", out[0].choices)
        return out

    def summary(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        try:
            lo, hi = parse_period(args, ctx.now.date()) if args else (ctx.now.date(),) * 2
        except EntryError as exc:
            return [Reply(str(exc))]
        lines = []
        tr = tp = Decimal(0)
        days = sorted({e.date for e in ledger.entries(lo, hi, include_void=False)})
        for d in days:
            s = ledger.day_summary(d)
            tr += s.receipts
            tp += s.payments
            lines.append(f"{thai_date(d)}: รับ {format_baht(s.receipts)} · จ่าย "
                         f"{format_baht(s.payments)} · สุทธิ {format_baht(s.net)}")
        period = thai_date(lo) if lo == hi else f"{thai_date(lo)} - {thai_date(hi)}"
        if not lines:
            return [Reply(f"ไม่มีรายการในช่วง {period} ค่ะ")]
        text = (f"สรุป {period}\n" + "\n".join(lines[-LIST_LIMIT:])
                + f"\nรวมรับ {format_baht(tr)}\nรวมจ่าย {format_baht(tp)}"
                + f"\nสุทธิ {format_baht(tr - tp)}")
        return [Reply(text, (Choice("ส่งออก Excel", "cmd:export"),))]

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
            ctx.session.set_pending(self.name, step="void_reason", lao=ledger.lao_code, no=no)
            return [Reply(f"ยกเลิกรายการที่ {no}: {KIND_TH[e.kind]} {format_baht(e.amount)} "
                          f"{e.description}\nพิมพ์เหตุผลที่ยกเลิก (เช่น พิมพ์ยอดผิด)",
                          (Choice("ไม่ยกเลิก", "menu:"),))]
        try:
            v = ledger.void(no, by=ctx.user, reason=reason, now=ctx.now,
                            may_void_any=member.is_admin)
        except LedgerError as exc:
            return [Reply(str(exc))]
        return [Reply(f"ยกเลิกรายการที่ {v.no} แล้วค่ะ (เหตุผล: {reason.strip()})\n"
                      "รายการยังอยู่ในสมุดโดยมีเครื่องหมายยกเลิก ไม่ถูกลบ",
                      (Choice("รายการวันนี้", "cmd:today"),))]

    def on_pending(self, ctx: Context, text: str) -> list[Reply] | None:
        p = ctx.session.pending or {}
        if p.get("step") != "void_reason":
            return None
        ctx.session.clear_pending()
        member = self._member(ctx)
        if member is None or member.lao_code != p.get("lao"):
            return [Reply("ทำรายการนี้ไม่ได้ค่ะ")]
        return self._void_or_ask(ctx, member, self.book.ledger(member.lao_code),
                                 int(p.get("no", 0)), text[:200])

    def keyed(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        try:
            nos = parse_numbers(args)
        except LedgerError as exc:
            return [Reply(str(exc))]
        if not nos:
            return [Reply("พิมพ์ คีย์แล้ว ตามด้วยเลขรายการ เช่น คีย์แล้ว 1-20 หรือ คีย์แล้ว 3 5 8")]
        done = ledger.mark_keyed(nos, by=ctx.user, now=ctx.now)
        left = len(ledger.pending_keyback())
        return [Reply(f"ทำเครื่องหมายคีย์แล้ว {len(done)} รายการ · ยังค้างคีย์ {left} รายการ",
                      (Choice("ค้างคีย์", "cmd:pending"),))]

    # ------------------------------------------------------------------ export

    def export(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        fmt = "csv" if "csv" in args.lower() else "xlsx"
        rng = args.lower().replace("csv", "").replace("xlsx", "").replace("excel", "").strip()
        lo: date | None = None
        hi: date | None = None
        if rng:
            try:
                lo, hi = parse_period(rng, ctx.now.date())
            except EntryError as exc:
                return [Reply(str(exc))]
        lao = self.dir.lao(member.lao_code) or Lao(member.lao_code, member.lao_code)
        entries = ledger.entries(lo, hi)
        if not entries:
            return [Reply("ยังไม่มีรายการในช่วงนี้ให้ส่งออกค่ะ")]
        blob = export_file(lao, entries, fmt, lo, hi, now=ctx.now)
        voided = sum(1 for e in entries if e.voided)
        return [Reply(f"ไฟล์{'Excel' if fmt == 'xlsx' else ' CSV'} รายการของ {lao.name} "
                      f"{len(entries)} รายการ (ยกเลิก {voided}) เรียงตามวันที่ สำหรับคีย์ย้อนหลัง",
                      file=blob)]

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
            self.dir.unbind(arg)
            return [Reply(f"ลบ {target.name or target.user} ออกจาก อปท. แล้วค่ะ")]
        if not arg.isdigit():
            return None
        return self._void_or_ask(ctx, member, self.book.ledger(lao_code), int(arg), "")


def _extras(doc_no: str | None, method: str | None) -> str:
    parts = []
    if method:
        parts.append(METHOD_TH.get(method, method))
    if doc_no:
        parts.append(f"เลขที่ {doc_no}")
    return (" · " + " · ".join(parts)) if parts else ""
