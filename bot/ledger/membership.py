"""Membership in chat: join (or move to another LAO), leave, invite, members, the demo LAO
(each user's own sandbox)."""

from __future__ import annotations

import dataclasses
import re

from bot.core.contract import Choice, Reply, wrote
from bot.core.feature import Context
from bot.core.thaifmt import shorten, thai_datetime
from bot.ledger.book import (
    Directory,
    LastAdmin,
    Ledger,
    LedgerError,
    Member,
    Role,
    code_key,
)
from bot.ledger.entries import is_sandbox
from bot.ledger.listing import EXAMPLE
from bot.ledger.names import ASK_NAME, MAX_NAME, name_problem, shown_name, tidy_name
from bot.ledger.steps import AskName, MoveLao, RemoveMember
from bot.qa.command_args import join_code_text, looks_like_question

DEMO_NAME = "อบต.ตัวอย่าง (ทดลองใช้)"
DEMO_PROVINCE = "ทดลอง"
CODE_EXAMPLE = "H4KP7W2M"  # eight characters of the join-code alphabet (no 0/O, 1/I)
# Said once to a user still bound to the demo old installs shared (see left_shared_demo)
SHARED_DEMO_CLOSED = ("อปท.ตัวอย่างที่ใช้ร่วมกัน (โหมดทดลองแบบเดิม) ปิดแล้วค่ะ "
                      "รายการที่เคยลองไว้ที่นั่นไม่แสดงอีก\n")
SHARED_DEMO_TRY = "ลองต่อได้ด้วย อปท.ตัวอย่างของคุณเอง พิมพ์ ทดลองใช้\n"
SHARED_DEMO_JOIN = (f"บันทึกจริง: ขอรหัสเข้าร่วมจากผู้ดูแล อปท. แล้วพิมพ์ เข้าร่วม รหัส "
                    f"(เช่น เข้าร่วม {CODE_EXAMPLE})")
_NOT_A_PERSON = re.compile(r"อปท|อบต|อบจ|เทศบาล|แบบฟอร์ม|ฟอร์ม|ไฟล์|รายการ|บัญชี|e-?laas|ระบบ|ผู้รับ|"
                           r"ผู้จ่าย|ผู้ขาย|บริษัท|ร้าน", re.I)


def role_th(role: Role) -> str:
    return "ผู้ดูแล" if role == "admin" else "สมาชิก"


def name_args(args: str) -> bool:
    """``สมศรี ใจดี`` after ``ชื่อ``: a few words, no digits, no question, no word of the work
    (``ชื่อ อปท. ใส่ตรงไหน``, ``ชื่อ แบบฟอร์ม`` are about other names, not a name)."""
    return (len(args.split()) <= 5 and not any(ch.isdigit() for ch in args)
            and not looks_like_question(args) and not _NOT_A_PERSON.search(args)
            and name_problem(args) is None)


class MembershipFlows:
    """The membership commands of :class:`bot.ledger.chat.LedgerFeature`.

    The last admin of an LAO may not leave it or move to another: nobody could then invite,
    remove members or void other people's entries. They are told to hand over first.
    """

    dir: Directory
    offer_demo: bool

    def _lao_name(self, code: str) -> str:
        lao = self.dir.lao(code)
        return lao.name if lao else code

    def _last_admin(self, m: Member) -> bool:
        return not is_sandbox(m.lao_code) and self.dir.last_admin(m.user)

    def _hand_over_first(self, lao_code: str, doing: str) -> Reply:
        return Reply(f"คุณเป็นผู้ดูแลคนเดียวของ {self._lao_name(lao_code)} จึงยัง{doing}ไม่ได้ค่ะ "
                     "ถ้าออก จะไม่มีใครออกรหัสเข้าร่วม ลบสมาชิก หรือยกเลิกรายการของคนอื่นได้\n"
                     "ส่งต่อก่อน: พิมพ์ เชิญ ผู้ดูแล แล้วให้รหัสกับผู้รับช่วง เมื่อเขาเข้าร่วมแล้วจึงออกได้ "
                     "(หรือขอให้สำนักงานท้องถิ่นจังหวัดช่วย)", private=True)

    def join(self, ctx: Context, args: str) -> list[Reply]:
        code = join_code_text(args)
        if not code:
            return [Reply(f"พิมพ์ เข้าร่วม ตามด้วยรหัส 8 ตัวที่ได้จากผู้ดูแล อปท. "
                          f"เช่น เข้าร่วม {CODE_EXAMPLE}")]
        m = self.dir.member(ctx.user)
        if m is not None and self.dir.lao(m.lao_code) is None:
            m = None  # bound to an LAO that is gone: a plain join
        if m is not None and m.joined_code and m.joined_code == code_key(code):
            return [Reply(f"คุณเป็น{role_th(m.role)}ของ {self._lao_name(m.lao_code)} อยู่แล้วค่ะ "
                          f"(เข้าร่วมด้วยรหัสนี้แล้ว) บันทึกได้เลย\n{EXAMPLE}")]
        if m is not None:
            try:
                inv = self.dir.peek(code, ctx.user, ctx.now)
            except LedgerError as exc:
                return [Reply(str(exc))]
            if inv.lao_code == m.lao_code and (m.is_admin or inv.role == "member"):
                return [Reply(f"คุณเป็น{role_th(m.role)}ของ {self._lao_name(m.lao_code)} อยู่แล้วค่ะ "
                              "ไม่ต้องใช้รหัสนี้ (รหัสยังใช้ได้ ให้คนอื่นใช้ได้)")]
            if inv.lao_code != m.lao_code:
                return self._ask_move(ctx, m, code_key(code), inv.lao_code, inv.role)
        return self._redeem(ctx, code)

    def _ask_move(self, ctx: Context, m: Member, code: str, to_lao: str,
                  role: Role) -> list[Reply]:
        here = self._lao_name(m.lao_code)
        if self._last_admin(m):
            return [self._hand_over_first(m.lao_code, "ย้ายไป อปท. อื่น")]
        there = self._lao_name(to_lao)
        step = MoveLao.start(ctx.now, code=code, from_lao=m.lao_code, from_name=here,
                             to_name=there)
        ctx.session.set_step(step)
        return [Reply(f"ตอนนี้คุณอยู่ใน {here}\nรหัสนี้เป็นของ {there} ({role_th(role)})\n"
                      f"ย้ายไป {there} ใช่ไหมคะ ย้ายแล้วจะบันทึกเข้า {here} ไม่ได้อีก "
                      f"(รายการเดิมยังอยู่ใน {here})",
                      (step.yes_choice("ย้าย"), step.cancel_choice()), private=True)]

    def _move(self, ctx: Context, step: MoveLao) -> list[Reply]:
        m = self.dir.member(ctx.user)
        if m is None or m.lao_code != step.from_lao:
            return [Reply("ข้อมูลสมาชิกของคุณเปลี่ยนไปแล้ว ยังไม่ได้ย้ายค่ะ ลองพิมพ์ เข้าร่วม รหัส อีกครั้ง")]
        if self._last_admin(m):
            return [self._hand_over_first(m.lao_code, "ย้ายไป อปท. อื่น")]
        return self._redeem(ctx, step.code)

    def _redeem(self, ctx: Context, code: str) -> list[Reply]:
        try:
            m = self.dir.redeem(code, ctx.user, ctx.incoming.display_name, ctx.now)
        except LastAdmin as exc:  # the check before asking passed; another admin left since
            return [self._hand_over_first(exc.lao_code, "ย้ายไป อปท. อื่น")]
        except LedgerError as exc:
            return [Reply(str(exc))]
        return [self._joined(ctx, m, f"เข้าร่วม {self._lao_name(m.lao_code)} (รหัส {m.lao_code}) "
                             f"ในฐานะ{role_th(m.role)}แล้วค่ะ\nเริ่มบันทึกได้เลย {EXAMPLE}")]

    def _joined(self, ctx: Context, m: Member, text: str) -> Reply:
        """The reply to a join: when the channel gave no name (LINE), it asks for the name
        shown in reports (a step the clerk may skip)."""
        if m.name:
            return Reply(text, (Choice("วิธีบันทึก", "topic:bot.log_howto"),
                                Choice("เมนูหลัก", "menu:")), private=True, meta=wrote())
        step = AskName.start(ctx.now)
        ctx.session.set_step(step)
        return Reply(f"{text}\n\n{ASK_NAME}", step.choices(), private=True, meta=wrote())

    def _name_again(self, ctx: Context, replies: list[Reply]) -> list[Reply]:
        """``replies`` to a join code pasted at the name question, with that question asked
        again when nothing else now waits and the member still has no name."""
        m = self.dir.member(ctx.user)
        if not replies or ctx.session.step is not None or m is None or m.name:
            return replies
        step = AskName.start(ctx.now)
        ctx.session.set_step(step)
        last = replies[-1]
        return [*replies[:-1], dataclasses.replace(last, text=f"{last.text}\n\n{ASK_NAME}",
                                                   choices=step.choices(), private=True)]

    def set_name(self, ctx: Context, args: str, member: Member, ledger: Ledger) -> list[Reply]:
        """``ชื่อ สมศรี ใจดี``: the caller's own name in reports; alone, the name now and a
        question for the new one."""
        if not args.strip():
            step = AskName.start(ctx.now)
            ctx.session.set_step(step)
            now = f"ชื่อที่แสดงในรายงานตอนนี้: {member.name}\n" if member.name else ""
            return [Reply(f"{now}พิมพ์ชื่อ-นามสกุลที่จะแสดงในรายงานได้เลยค่ะ (ไม่เกิน {MAX_NAME} "
                          "ตัวอักษร)", step.choices(), private=True)]
        return self._rename(ctx, args)

    def _rename(self, ctx: Context, name: str) -> list[Reply]:
        try:
            m = self.dir.rename(ctx.user, name)
        except LedgerError as exc:
            step = AskName.start(ctx.now)
            ctx.session.set_step(step)
            return [Reply(f"{exc}\n{step.again_text()}", step.choices(), private=True)]
        return [Reply(f"ตั้งชื่อที่แสดงในรายงานเป็น “{m.name}” แล้วค่ะ ชื่อนี้จะแสดงในรายการที่คุณ"
                      f"บันทึก ไฟล์ส่งออก และรายชื่อสมาชิก\n{EXAMPLE}",
                      (Choice("วิธีบันทึก", "topic:bot.log_howto"), Choice("เมนูหลัก", "menu:")),
                      private=True, meta=wrote())]

    def _author_name(self, ctx: Context) -> str:
        """The name an entry or void is recorded under: the member's, else the channel's."""
        m = self.dir.member(ctx.user)
        return m.name if m is not None and m.name else tidy_name(ctx.incoming.display_name)

    def leave(self, ctx: Context, args: str) -> list[Reply]:
        m = self.dir.member(ctx.user)
        if m is None:
            return [Reply("ตอนนี้ยังไม่ได้อยู่ใน อปท. ใดค่ะ")]
        if self._last_admin(m):
            return [self._hand_over_first(m.lao_code, "ออก")]
        return [Reply(f"ยืนยันออกจาก {self._lao_name(m.lao_code)} ไหมคะ "
                      "รายการที่บันทึกไว้ยังอยู่ในสมุดของ อปท. ตามเดิม",
                      (Choice("ยืนยันออก", f"leave:{m.lao_code}"), Choice("ไม่ออก", "menu:")))]

    def _leave_now(self, m: Member) -> list[Reply]:
        try:
            self.dir.leave(m.user)
        except LastAdmin as exc:
            return [self._hand_over_first(exc.lao_code, "ออก")]
        return [Reply("ออกจาก อปท. แล้วค่ะ รายการที่บันทึกไว้ยังอยู่ในสมุดของ อปท.", meta=wrote())]

    def invite(self, ctx: Context, args: str) -> list[Reply]:
        m = self.dir.member(ctx.user)
        if m is None or not m.is_admin:
            return [Reply("สร้างรหัสเข้าร่วมได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        if is_sandbox(m.lao_code):  # a demo is its owner's alone
            return [Reply("โหมดทดลองใช้เป็นของคุณคนเดียว เชิญคนอื่นเข้ามาไม่ได้ค่ะ "
                          "(ให้แต่ละคนพิมพ์ ทดลองใช้ เอง)")]
        role: Role = "admin" if "ผู้ดูแล" in args or "admin" in args else "member"
        inv = self.dir.invite(m.lao_code, role, ctx.user, ctx.now)
        # Not marked as a write done (wrote): the code is only in this reply, and typing
        # "เชิญ" again only makes another single-use code.
        return [Reply(f"รหัสเข้าร่วม ({role_th(role)}): {inv.code}\nใช้ได้ครั้งเดียว หมดอายุ "
                      f"{thai_datetime(inv.expires_at)}\nให้ผู้ใช้พิมพ์: เข้าร่วม {inv.code}",
                      private=True)]

    def members(self, ctx: Context, args: str) -> list[Reply]:
        m = self.dir.member(ctx.user)
        if m is None or not m.is_admin:
            return [Reply("ดูรายชื่อสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        ms = self.dir.members(m.lao_code)
        lines = [f"{i}. {shown_name(x.user, x.name)} ({role_th(x.role)})"
                 for i, x in enumerate(ms, 1)]
        choices = tuple(Choice(f"ลบ {i}. {shorten(shown_name(x.user, x.name), 12)}",
                               f"kick:{m.lao_code}:{x.user}")
                        for i, x in enumerate(ms, 1) if x.user != ctx.user)
        return [Reply("สมาชิก อปท.\n" + "\n".join(lines), choices[:12], private=True)]

    def demo(self, ctx: Context, args: str) -> list[Reply]:
        if not (self.offer_demo and ctx.incoming.channel == "console"):
            return [Reply("โหมดทดลองใช้ได้เฉพาะในเครื่อง (elaas-bot chat) ค่ะ")]
        m = self.dir.member(ctx.user)
        if m is not None and not is_sandbox(m.lao_code) and self.dir.lao(m.lao_code):
            return [Reply(f"คุณอยู่ใน {self._lao_name(m.lao_code)} แล้วค่ะ โหมดทดลองใช้สำหรับผู้ที่ยัง"
                          "ไม่ได้เข้าร่วม อปท. (ยังไม่ได้เปลี่ยนอะไร)")]
        # Each user's own sandbox: what one tries out (names, phone numbers) nobody else sees.
        demo = self.dir.add_sandbox(ctx.user, DEMO_NAME, DEMO_PROVINCE)
        m = self.dir.bind(ctx.user, demo.code, "admin", ctx.incoming.display_name, ctx.now)
        return [self._joined(ctx, m, f"เข้าร่วม {demo.name} ในฐานะผู้ดูแลแล้ว ลองบันทึกได้เลย\n"
                             f"{EXAMPLE}\nแล้วลองพิมพ์: วันนี้ · สรุป · ค้างคีย์ · ส่งออก")]

    def _kick(self, ctx: Context, member: Member, lao_code: str, user: str) -> list[Reply]:
        if not member.is_admin:
            return [Reply("ลบสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        target = self.dir.member(user)
        if target is None or target.lao_code != lao_code:
            return [Reply("ไม่พบสมาชิกนี้แล้วค่ะ")]
        step = RemoveMember.start(ctx.now, lao=lao_code, user=user,
                                  name=shown_name(target.user, target.name))
        ctx.session.set_step(step)
        return [Reply(f"ลบ {step.name} ออกจาก อปท. ใช่ไหมคะ\n"
                      "รายการที่คนนี้บันทึกไว้ยังอยู่ในสมุดของ อปท.",
                      (step.yes_choice("ยืนยันลบ"), step.cancel_choice("ไม่ลบ")))]

    def _remove_member(self, member: Member | None, lao_code: str, user: str) -> list[Reply]:
        if member is None:
            return [Reply("ลบสมาชิกได้เฉพาะผู้ดูแลของ อปท. ค่ะ")]
        try:
            target = self.dir.remove(user, lao_code, by=member.user)
        except LedgerError as exc:
            return [Reply(str(exc))]
        return [Reply(f"ลบ {shown_name(target.user, target.name)} ออกจาก อปท. แล้วค่ะ",
                      meta=wrote("สมาชิก"))]
