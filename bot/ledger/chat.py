"""The ledger in chat: join an LAO, quick entries, lists, voids, key-back marks, export.

Over 500 lines, for a reason: this is the ledger feature's one routing table (commands, the
text hook, the steps' answers and the buttons) in front of the modules that do the work
(membership, listing, steps, opening); splitting it would split the routing, not the work."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from decimal import Decimal

from msgspec.structs import replace

from bot.core.contract import META_ASKED, Choice, Reply, wrote
from bot.core.feature import Command, Context, Feature, Handler
from bot.core.privacy import private_only
from bot.core.steps import STEP_MINUTES, Answer, Step
from bot.core.thaifmt import amount_in_words, be_year, format_baht, thai_date
from bot.ledger import listing, voidwords
from bot.ledger.book import Ledger, LedgerBook, LedgerError, Member, refuse_void
from bot.ledger.directory import bare_join_code
from bot.ledger.duplicates import Duplicate, DuplicateFound, describe_duplicate
from bot.ledger.entries import KIND_TH, METHOD_TH, Entry, EntryError, NotAnEntry, ParsedEntry
from bot.ledger.listing import EXAMPLE, LIST_LIMIT
from bot.ledger.membership import (
    CODE_EXAMPLE,
    SHARED_DEMO_CLOSED,
    SHARED_DEMO_JOIN,
    SHARED_DEMO_TRY,
    MembershipFlows,
    name_args,
)
from bot.ledger.opening import entry_and_question, numbered_entry_lines
from bot.ledger.quickentry import describe, looks_like_entry, parse_entry
from bot.ledger.steps import (
    AskDescription,
    AskName,
    ConfirmDuplicates,
    ConfirmEntry,
    JoinWithCode,
    MoveLao,
    PendingEntry,
    PickAmount,
    RemoveMember,
    VoidReason,
    amount_options,
    is_no_reason,
    without_description,
)
from bot.qa import command_args as shape

__all__ = ["NO_LAO", "LedgerFeature", "VoidReason"]

ScopedHandler = Callable[[Context, str, Member, Ledger], list[Reply]]
MAX_LINES = 30
FORWARDED = ("ข้อความที่ส่งต่อมา บอทไม่บันทึกเป็นรายการค่ะ\n"
             f"ถ้าจะบันทึก พิมพ์เองได้เลย เช่น \"{EXAMPLE}\"")
NO_LAO = (
    "ยังไม่ได้เชื่อมกับ อปท. ค่ะ\n"
    "ขอรหัสเข้าร่วมจากผู้ดูแลของ อปท. หรือสำนักงานท้องถิ่นจังหวัด แล้วพิมพ์\n"
    f"เข้าร่วม รหัส (เช่น เข้าร่วม {CODE_EXAMPLE})"
)
KEYED_VOID_WARNING = ("รายการนี้คีย์เข้า e-LAAS แล้ว ยกเลิกในบอทแล้วต้องไปกลับรายการใน e-LAAS ด้วย"
                      "ค่ะ")


class LedgerFeature(MembershipFlows, Feature):
    """Ledger commands; every action is scoped to the caller's own LAO."""

    name = "ledger"
    action_prefixes = ("demo", "void", "leave", "kick", "pick")

    def __init__(self, book: LedgerBook, *, offer_demo: bool = False):
        self.book = book
        self.dir = book.directory
        self.offer_demo = offer_demo

    # ------------------------------------------------------------------ plumbing

    def commands(self) -> list[Command]:
        c = Command
        return [
            c(("join",), ("เข้าร่วม", "join", "เข้าร่วมรหัส", "เข้าร่วม รหัส", "ขอเข้าร่วม"),
              self.join, takes_args=True, accepts=shape.join_code),
            c(("leave",), ("ออกจาก อปท.", "ออกจากอปท", "ออกจาก อปท"), self.leave),
            c(("invite",), ("เชิญ", "สร้างรหัสเข้าร่วม"), self.invite, takes_args=True,
              accepts=shape.invite_role),
            c(("members",), ("สมาชิก",), self.members),
            c(("name",), ("ชื่อ", "ชื่อในรายงาน"), self._scoped(self.set_name),
              takes_args=True, accepts=name_args),
            c(("today",), ("วันนี้", "รายการวันนี้"), self._scoped(self.today)),
            c(("recent",), ("ล่าสุด", "รายการล่าสุด"), self._scoped(self.recent)),
            c(("entries",), ("รายการ", "ดูรายการ", "ขอดูรายการ", "ขอรายการ", "แสดงรายการ"),
              self._scoped(self.entries), takes_args=True, accepts=listing.list_period,
              glued=listing.list_period),
            c(("summary",), ("สรุป", "สรุปรายวัน", "สรุปวันนี้"), self._scoped(self.summary),
              takes_args=True, accepts=shape.period, glued=shape.glued_period),
            c(("void",), ("ยกเลิก", "ยกเลิกรายการ", "ยกเลิกรายการที่", "ยกเลิก รายการที่",
                          "ยกเลิก รายการ", "ยกเลิกที่", "ลบ", "ลบรายการ", "ลบรายการที่"),
              self._scoped(self.void_cmd), takes_args=True, accepts=voidwords.entry_target,
              glued=voidwords.names_latest),
            c(("edit",), ("แก้ไข", "แก้", "แก้ไขรายการ", "แก้รายการ", "แก้ไขรายการที่", "แก้รายการที่"),
              self._scoped(self.edit_cmd), takes_args=True, accepts=voidwords.entry_target,
              glued=voidwords.names_latest),
            c(("keyed",), ("คีย์แล้ว",), self._scoped(self.keyed), takes_args=True,
              accepts=shape.entry_numbers),
            c(("pending",), ("ค้างคีย์", "ยังไม่คีย์"), self._scoped(self.pending)),
            c(("unkeyed",), ("ยกเลิกคีย์", "ยังไม่คีย์"), self._scoped(self.unkeyed),
              takes_args=True, accepts=shape.entry_numbers),
            c(("export",), ("ส่งออก", "export", "ขอไฟล์excel", "ขอไฟล์ excel", "ไฟล์excel",
                            "ไฟล์ excel", "ขอexcel", "ขอ excel"),
              self._scoped(self.export), takes_args=True, accepts=shape.export_args,
              glued=shape.glued_period),
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
            demo = self.offer_demo and ctx.incoming.channel == "console"
            choices: tuple[Choice, ...] = (Choice("วิธีเข้าร่วม", "topic:bot.join_howto"),)
            if demo:
                choices = (Choice("ทดลองใช้ อปท.ตัวอย่าง", "demo:create"), *choices)
            text = NO_LAO
            if m is None and self.dir.left_shared_demo(ctx.user):
                text = SHARED_DEMO_CLOSED + (SHARED_DEMO_TRY if demo else "") + SHARED_DEMO_JOIN
            return [Reply(text, (*choices, Choice("เมนูหลัก", "menu:")))]
        return m, self.book.ledger(m.lao_code)

    # ------------------------------------------------------------------ entries

    def log_help(self, ctx: Context, args: str) -> list[Reply]:
        return [Reply("พิมพ์ 1 บรรทัดต่อรายการ: รับ/จ่าย จำนวนเงิน รายการ [วันที่] [เลขที่] [วิธี]\n"
                      f"{EXAMPLE}\nวางหลายบรรทัดพร้อมกันได้ (บรรทัดละ 1 รายการ)",
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"), Choice("รายการวันนี้", "cmd:today")))]

    def on_text(self, ctx: Context, text: str) -> list[Reply] | None:
        glued = entry_and_question(text, ctx.today)
        asked = self._ask_glued(ctx, *glued) if glued is not None else None
        if asked is not None:
            return asked
        numbered = numbered_entry_lines(text)  # "บรรทัด 3" as the clerk counts the paste's lines
        lines = [line for _, line in numbered]
        if not lines or not any(looks_like_entry(ln) for ln in lines):
            return self._bare_code(ctx, text)
        today = ctx.today
        parsed: list[ParsedEntry] = []
        errors: list[str] = []
        for i, line in numbered[:MAX_LINES + 1]:
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
        if ctx.incoming.forwarded:  # someone else's words: not this clerk's entry of today
            return [Reply(FORWARDED, (Choice("วิธีบันทึก", "topic:bot.log_howto"),))]
        if len(lines) > MAX_LINES:
            return [Reply(f"วางได้ครั้งละไม่เกิน {MAX_LINES} บรรทัดค่ะ ยังไม่ได้บันทึกรายการใด")]
        need = self._need_member(ctx)
        if isinstance(need, list):
            return need
        _, ledger = need
        if errors:
            if len(lines) == 1:
                return self._ask_back(ctx, ledger, lines[0]) or [Reply(errors[0])]
            return [Reply("ยังไม่ได้บันทึกค่ะ แก้แล้วส่งใหม่ได้เลย\n" + "\n".join(errors[:10])
                          + f"\n{EXAMPLE}")]
        eid = ctx.incoming.event_id
        return self._save(ctx, ledger, [
            PendingEntry.of(p, f"{eid}#{i}" if eid and len(parsed) > 1 else eid)
            for i, p in enumerate(parsed)], line_nos=[no for no, _ in numbered])

    def _bare_code(self, ctx: Context, text: str, *,
                   name_after: bool = False) -> list[Reply] | None:
        """A pasted join code alone: asked about first, so no try at a code is used;
        ``name_after``: pasted at the name question, asked again once the code is settled."""
        code = bare_join_code(text)
        if code is None or ctx.incoming.anonymous:
            return None
        step = JoinWithCode.start(ctx.now, code=code, name_after=name_after)
        ctx.session.set_step(step)
        return [Reply(step.ask_text(), step.choices(), private=True)]

    def _ask_glued(self, ctx: Context, parsed: ParsedEntry, question: str) -> list[Reply] | None:
        """An entry with a question after it: the question is answered (``META_ASKED``) and
        the entry only offered, saved once the clerk says so; someone else's words (forwarded)
        or an anonymous event: only a question (None)."""
        if ctx.incoming.forwarded or ctx.incoming.anonymous:
            return None
        need = self._need_member(ctx)
        if isinstance(need, list):
            return [dataclasses.replace(r, meta={**r.meta, META_ASKED: question}) for r in need]
        step = ConfirmEntry.start(ctx.now, lao=need[1].lao_code,
                                  entry=PendingEntry.of(parsed, ctx.incoming.event_id))
        ctx.session.set_step(step)
        return [Reply(step.ask_text(), step.choices(), private=True,
                      meta={META_ASKED: question})]

    def _save(self, ctx: Context, ledger: Ledger, pending: Sequence[PendingEntry],
              check: bool = True, line_nos: Sequence[int] = ()) -> list[Reply]:
        """Save ``pending`` (all or nothing); with ``check``, ask first about duplicates."""
        parsed = [p.parsed() for p in pending]
        items = [(p, e.event_id) for p, e in zip(parsed, pending, strict=True)]
        try:
            saved = ledger.add_many(items, author=ctx.user,
                                    author_name=self._author_name(ctx),
                                    channel=ctx.incoming.channel, now=ctx.now,
                                    check_duplicates=check, sent_on=ctx.today)
        except DuplicateFound as dup:
            return self._ask_duplicates(ctx, ledger, pending, dup.found, line_nos)
        reply = self._saved_reply(ledger.lao_code, saved)
        assumed = sorted({be_year(p.date) for p in parsed if p.year_assumed})
        if assumed:  # "10/7" typed without a year: say which year was taken
            years = ", ".join(str(y) for y in assumed)
            reply = dataclasses.replace(
                reply, text=f"{reply.text}\n(ไม่ได้ระบุปี จึงใช้วันล่าสุดที่ผ่านมา คือปี พ.ศ. {years})")
        return [reply]

    def _ask_duplicates(self, ctx: Context, ledger: Ledger, pending: Sequence[PendingEntry],
                        found: Sequence[Duplicate], line_nos: Sequence[int]) -> list[Reply]:
        step = ConfirmDuplicates.start(ctx.now, lao=ledger.lao_code, entries=tuple(pending))
        ctx.session.set_step(step)
        if len(pending) == 1:
            text = f"{describe_duplicate(found[0])} บันทึกซ้ำไหมคะ (ยังไม่ได้บันทึก)"
        else:
            nos = list(line_nos) or list(range(1, len(pending) + 1))
            lines = [f"บรรทัด {nos[d.line]}: {describe_duplicate(d, nos)}" for d in found[:10]]
            more = f"\n...และอีก {len(found) - 10} บรรทัด" if len(found) > 10 else ""
            text = (f"ยังไม่ได้บันทึกค่ะ มีรายการที่อาจซ้ำ {len(found)} บรรทัด\n" + "\n".join(lines)
                    + f"{more}\nบันทึกทั้ง {len(pending)} บรรทัดรวมที่ซ้ำไหมคะ "
                    "ถ้าจะบันทึกเฉพาะที่ไม่ซ้ำ กด “ไม่บันทึก” แล้วลบบรรทัดที่ซ้ำออกก่อนส่งใหม่")
        return [Reply(text, step.choices(), private=True)]

    def _pasted_over(self, ctx: Context, step: ConfirmDuplicates, said: Answer | None,
                     text: str) -> Reply:
        """Entries pasted while the duplicate question ``step`` waits, in one reply: first
        what became of the question (answered by the paste's first line, else not saved, and
        its lines the paste does not repeat named), then what became of the new lines."""
        member = self._member(ctx)
        if said == "yes" and member is not None and member.lao_code == step.lao:
            before = self._save(ctx, self.book.ledger(step.lao), step.entries, check=False)
        elif said == "yes":
            before = [_left_lao(step)]
        elif said == "cancel":
            before = [Reply(step.undone_text())]
        else:
            left = step.unanswered_text(text, ctx.today)
            before = [Reply(left)] if left else []
        parts = [*before, *(self.on_text(ctx, text) or [])]
        return _one_reply(parts or [Reply(step.undone_text())],
                          asking=ctx.session.step is not None)

    def _ask_back(self, ctx: Context, ledger: Ledger, line: str) -> list[Reply] | None:
        """A one-line entry the bot can finish by asking one question (the README promises
        it asks back): which of two amounts side by side, or what the entry is for."""
        today = ctx.today
        options = amount_options(line, today)
        eid = ctx.incoming.event_id
        if options:
            pick = PickAmount.start(ctx.now, lao=ledger.lao_code,
                                    options=tuple(PendingEntry.of(p, eid) for p in options))
            ctx.session.set_step(pick)
            shown = " หรือ ".join(format_baht(p.amount) for p in options)
            return [Reply(f"{KIND_TH[options[0].kind]} {options[0].description} จำนวนเงินคือ "
                          f"{shown}คะ (ยังไม่ได้บันทึก)\nพิมพ์จำนวนเงิน หรือเลือกด้านล่าง",
                          pick.choices(), private=True)]
        known = without_description(line, today)
        if known is not None:
            what = f"{KIND_TH[known.kind]} {format_baht(known.amount)}"
            step = AskDescription.start(ctx.now, lao=ledger.lao_code, line=line, day=today,
                                        what=what, event_id=eid)
            ctx.session.set_step(step)
            return [Reply(f"{what} เป็นค่าอะไรคะ (ยังไม่ได้บันทึก)\n"
                          "พิมพ์ชื่อรายการ เช่น ค่าขยะ แล้วบอทจะบันทึกให้",
                          (step.cancel_choice(),), private=True)]
        return None

    def _describe(self, ctx: Context, step: AskDescription, text: str) -> list[Reply]:
        ledger = self.book.ledger(step.lao)
        line = f"{step.line} {text.strip()[:200]}"
        try:
            p = parse_entry(line, step.day)
        except (EntryError, NotAnEntry) as exc:
            if without_description(line, step.day):  # "เงินสด": kept, still no description
                step = replace(step, line=line)
                ctx.session.set_step(step)
                return [Reply(step.again_text(), (step.cancel_choice(),))]
            return [Reply(f"{step.undone_text()}\n{exc}")]
        return self._save(ctx, ledger, [PendingEntry.of(p, step.event_id)])

    def _picked(self, ctx: Context, step: PickAmount, chosen: PendingEntry | None) -> list[Reply]:
        if chosen is None:
            ctx.session.set_step(step)
            return [Reply(step.again_text(), step.choices())]
        # saved under the first message's event id: a redelivery of it is then "already saved"
        return self._save(ctx, self.book.ledger(step.lao), [chosen])

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
                                Choice("รายการวันนี้", "cmd:today")), private=True,
                         meta=wrote("ล่าสุด"))
        rec = sum((e.amount for e in entries if e.kind == "receipt"), Decimal(0))
        pay = sum((e.amount for e in entries if e.kind == "payment"), Decimal(0))
        lines = [f"{e.no}. {KIND_TH[e.kind]} {_in_words(e.amount)} {e.description} · "
                 f"{thai_date(e.date)}" for e in entries]
        text = (f"{head} {len(entries)} รายการ\n" + "\n".join(lines)
                + f"\nรวมรับ {_in_words(rec)} · รวมจ่าย {_in_words(pay)}")
        voids = tuple(Choice(f"ยกเลิก {e.no}", f"void:{lao_code}:{e.no}") for e in entries[:10])
        return Reply(text, (*voids, Choice("รายการวันนี้", "cmd:today")), private=True,
                     meta=wrote("ล่าสุด"))

    def today(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.today_list(ledger, ctx.today)

    def recent(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.entry_list("รายการล่าสุด", ledger.recent(LIST_LIMIT),
                                  f"ยังไม่มีรายการค่ะ\n{EXAMPLE}")

    def entries(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.period_list(ledger, args, ctx.today)

    def pending(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.pending_list(ledger)

    def summary(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.summary_reply(ledger, args, ctx.today)

    # ------------------------------------------------------------------ void / keyed

    def void_cmd(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        several = voidwords.several_numbers(args)
        if several:  # one reason each: one at a time, a button for each
            choices = self._void_choices(ledger, several) or (Choice("รายการล่าสุด", "cmd:recent"),)
            return [Reply(voidwords.several_text(ledger, several), choices)]
        if voidwords.names_latest(args):  # shown first, whatever else was typed
            latest = ledger.newest_live()
            if latest is None:
                return [Reply(f"ยังไม่มีรายการที่ยกเลิกได้ค่ะ\n{EXAMPLE}")]
            return self._void_or_ask(ctx, member, ledger, latest.no, "")
        head, _, reason = voidwords.without_count(args).lstrip("#").partition(" ")
        if not head.isdigit():
            return [Reply("พิมพ์ ยกเลิก ตามด้วยเลขรายการ เช่น ยกเลิก 12 พิมพ์ยอดผิด")]
        if is_no_reason(reason):  # "ยกเลิก 2 รายการ", "ยกเลิก 1 บาท": show it, ask why
            reason = ""
        return self._void_or_ask(ctx, member, ledger, int(head), reason)

    def edit_cmd(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        """Saved entries are never changed: the way is to void one and enter it again."""
        text = ("รายการที่บันทึกแล้วแก้ไขไม่ได้ค่ะ ให้ยกเลิกรายการเดิม (บอกเหตุผล) "
                "แล้วพิมพ์รายการที่ถูกต้องใหม่ เช่น รับ 1,500 ค่าขยะ")
        if voidwords.names_latest(args):
            numbers = [e.no for e in (ledger.newest_live(),) if e is not None]
        else:
            numbers = voidwords.named_numbers(args)
        choices = self._void_choices(ledger, numbers)
        shown = "\n".join(f"รายการที่ {e.no}: {KIND_TH[e.kind]} {format_baht(e.amount)} "
                          f"{e.description}" for no in numbers if (e := ledger.get(no)))
        return [Reply(f"{text}\n{shown}" if shown else text,
                      choices or (Choice("รายการล่าสุด", "cmd:recent"),))]

    def _void_choices(self, ledger: Ledger, numbers: Sequence[int]) -> tuple[Choice, ...]:
        """A void button for each of ``numbers`` that exists and is not voided yet."""
        return tuple(Choice(f"ยกเลิกรายการ {no}", f"void:{ledger.lao_code}:{no}")
                     for no in numbers[:voidwords.MAX_SEVERAL]
                     if (e := ledger.get(no)) is not None and not e.voided)

    def _void_or_ask(self, ctx: Context, member: Member, ledger: Ledger, no: int,
                     reason: str) -> list[Reply]:
        e = ledger.get(no)
        if e is None:
            return [Reply(f"ไม่พบรายการที่ {no} ใน อปท. ของคุณค่ะ")]
        if not reason.strip():
            try:  # refused before the reason is asked for, not after it is typed
                refuse_void(e, ctx.user, may_void_any=member.is_admin)
            except LedgerError as exc:
                return [Reply(str(exc), (Choice("รายการวันนี้", "cmd:today"),))]
            step = VoidReason.start(ctx.now, lao=ledger.lao_code, no=no, entry=describe(e))
            ctx.session.set_step(step)
            keyed = f"\n{KEYED_VOID_WARNING}" if e.keyed else ""
            return [Reply(f"ยกเลิกรายการที่ {no}: {step.entry}{keyed}\n"
                          f"พิมพ์เหตุผลที่ยกเลิก (เช่น พิมพ์ยอดผิด) "
                          f"ภายใน {STEP_MINUTES} นาที หรือกด “ไม่ยกเลิก”",
                          (step.cancel_choice(),), private=True)]
        try:
            v = ledger.void(no, by=ctx.user, by_name=self._author_name(ctx), reason=reason,
                            now=ctx.now, may_void_any=member.is_admin)
        except LedgerError as exc:
            return [Reply(str(exc))]
        keyed = f"\n{KEYED_VOID_WARNING}" if e.keyed else ""
        return [Reply(f"ยกเลิกรายการที่ {v.no} แล้วค่ะ: {describe(e)}\n"
                      f"(เหตุผล: {reason.strip()}) "
                      f"รายการยังอยู่ในสมุดโดยมีเครื่องหมายยกเลิก ไม่ถูกลบ{keyed}",
                      (Choice("รายการวันนี้", "cmd:today"),), meta=wrote("ล่าสุด"))]

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
        if isinstance(step, MoveLao):
            return self._move(ctx, step)
        if isinstance(step, ConfirmDuplicates) and (pasted := step.pasted(text)) is not None:
            return [self._pasted_over(ctx, step, *pasted)]
        if isinstance(step, JoinWithCode):
            joined = self.join(ctx, step.code)
            return self._name_again(ctx, joined) if step.name_after else joined
        if isinstance(step, AskName):
            if bare_join_code(text) is not None:  # a pasted join code is never the name
                return self._bare_code(ctx, text, name_after=True) or [Reply(step.undone_text())]
            return self._rename(ctx, text)
        if isinstance(step, ConfirmDuplicates | ConfirmEntry | AskDescription | PickAmount) and (
                member is None or member.lao_code != step.lao):
            return [_left_lao(step)]
        if isinstance(step, ConfirmDuplicates):
            return self._save(ctx, self.book.ledger(step.lao), step.entries, check=False)
        if isinstance(step, ConfirmEntry):
            return self._save(ctx, self.book.ledger(step.lao), [step.entry])
        if isinstance(step, AskDescription):
            return self._describe(ctx, step, text)
        if isinstance(step, PickAmount):
            unclear = step.unclear(text)
            if unclear is not None:  # never guessed: asked, the step still waits
                ctx.session.set_step(step)
                return [Reply(unclear, step.choices())]
            return self._picked(ctx, step, step.pick(text))
        return [Reply(step.undone_text())]

    def keyed(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.mark_keyed(ledger, args, ctx.user, ctx.now)

    def unkeyed(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.unmark_keyed(ledger, args, ctx.user, ctx.now)

    # ------------------------------------------------------------------ export

    def export(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        return listing.export_reply(self.dir, member, ledger, args, ctx.now, ctx.today)

    # ------------------------------------------------------------------ buttons

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        kind, _, rest = action.partition(":")
        if kind == "demo":
            return self.demo(ctx, "")
        if kind == "pick":
            return self._pick_action(ctx, rest)
        if kind not in {"void", "leave", "kick"}:
            return None
        member = self._member(ctx)
        lao_code, _, arg = rest.partition(":")
        if member is None or member.lao_code != lao_code:
            return [Reply("ปุ่มนี้ใช้ไม่ได้สำหรับบัญชีของคุณค่ะ")]
        if kind == "leave":
            return self._leave_now(member)
        if kind == "kick":
            return self._kick(ctx, member, lao_code, arg)
        if not arg.isdigit():
            return None
        return self._void_or_ask(ctx, member, self.book.ledger(lao_code), int(arg), "")

    def _pick_action(self, ctx: Context, rest: str) -> list[Reply]:
        """A tapped amount of :class:`PickAmount` (the step owns ``pick:<token>:<i>``)."""
        step = ctx.session.step
        token, _, index = rest.partition(":")
        if not isinstance(step, PickAmount) or step.token != token or not index.isdigit():
            return [Reply("ปุ่มนี้หมดอายุแล้วค่ะ ขั้นตอนนี้จบไปแล้ว เลือกจากเมนูใหม่ได้เลย")]
        ctx.session.clear_step()
        if step.expired(ctx.now):
            return [Reply(f"{step.undone_text()} (รอเกิน {STEP_MINUTES} นาทีแล้ว)")]
        member = self._member(ctx)
        if member is None or member.lao_code != step.lao or int(index) >= len(step.options):
            return [Reply(step.undone_text())]
        return self._picked(ctx, step, step.options[int(index)])


def _left_lao(step: Step) -> Reply:
    return Reply(f"{step.undone_text()} (คุณไม่ได้อยู่ใน อปท. นี้แล้ว)")


def _one_reply(parts: Sequence[Reply], *, asking: bool) -> Reply:
    """``parts`` as one message, a blank line between: the buttons of the last one when it
    asks something (a step waits), else everyone's (each once, the lists' after the voids)."""
    choices = parts[-1].choices if asking else tuple(sorted(
        dict.fromkeys(c for r in parts for c in r.choices), key=lambda c: c.action[:4] == "cmd:"))
    return dataclasses.replace(
        parts[-1], text="\n\n".join(r.text for r in parts), choices=choices,
        private=any(r.private for r in parts),
        meta={k: v for r in parts for k, v in r.meta.items()})


def _in_words(amount: Decimal) -> str:
    """``200.00 บาท (สองร้อยบาทถ้วน)``: every amount a save echoes is said in words too."""
    return f"{format_baht(amount)} ({amount_in_words(amount)})" if amount else format_baht(amount)


def _extras(doc_no: str | None, method: str | None) -> str:
    parts = []
    if method:
        parts.append(METHOD_TH.get(method, method))
    if doc_no:
        parts.append(f"เลขที่ {doc_no}")
    return (" · " + " · ".join(parts)) if parts else ""
