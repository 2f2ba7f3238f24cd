"""Notices in chat: subscribe/unsubscribe, admin announcements and status posts with a preview.

(Over 500 lines on purpose: subscribe, announce and set-status in chat share the audience,
preview and confirmation step, and their texts are reviewed together.)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.core.contract import Choice, Reply, UserKey, wrote
from bot.core.feature import Command, Context, Feature
from bot.core.steps import STEP_MINUTES, Step, Waits, step_kind
from bot.core.store import Store
from bot.core.thaifmt import thai_datetime
from bot.ledger.book import Directory, Ledger
from bot.ledger.entries import Lao
from bot.notices.operators import Operators, resolve_actor
from bot.notices.outbox import (
    PUSH_CHANNELS,
    Notice,
    Outbox,
    Subscriber,
    Subscriptions,
    normalize_province,
    province_of,
)
from bot.notices.status import BANGKOK, STATES, StatusBoard, StatusUpdate, parse_state
from bot.qa import command_args as shape

MAX_NOTICE_TEXT = 1500

UNSUBSCRIBE = Choice("เลิกรับแจ้งเตือน", "cmd:unsubscribe")
STATUS = Choice("สถานะระบบ", "cmd:status")
SUBSCRIBE = Choice("รับแจ้งเตือน", "cmd:subscribe")
EXPORT = Choice("ส่งออก Excel", "cmd:export")
PENDING = Choice("ค้างคีย์", "cmd:pending")
KEYBACK_TOPIC = Choice("วิธีคีย์ย้อนหลัง", "topic:guide.keyback")

KEYBACK_GUIDE = (
    "ขั้นต่อไป: คีย์ข้อมูลย้อนหลัง (แนวปฏิบัติทั่วไป)\n"
    "1. คีย์ทุกรายการที่ทำด้วยมือเข้า e-LAAS ผ่านหน้าจอรับเงินและจ่ายเงินตามปกติ เรียงตามวันที่\n"
    "2. กระทบยอดรายงานจาก e-LAAS กับสมุดที่ทำด้วยมือ\n"
    "3. เก็บเอกสารกระดาษทุกฉบับไว้เป็นหลักฐาน\n"
    "4. ยอดไม่ตรงอย่าใช้ใบผ่านทั่วไปปรับยอด ให้หารายการที่คีย์ผิดแล้วแก้\n"
    "ไม่แน่ใจให้สอบถาม สถจ. หรืออำเภอค่ะ"
)
FOLLOW_OFFER = (
    "อยากให้บอทแจ้งทันทีเมื่อ e-LAAS กลับมาใช้ได้หรือมีประกาศใหม่ไหมคะ\n"
    "กดปุ่ม \"รับแจ้งเตือน\" ได้เลย เลิกรับได้ทุกเมื่อ"
)
REFUSED = (
    "ขออภัยค่ะ การส่งประกาศและเปลี่ยนสถานะระบบทำได้เฉพาะผู้ดูแลระบบ\n"
    "ดูสถานะล่าสุดหรือรับแจ้งเตือนได้จากปุ่มด้านล่างค่ะ"
)
TO_CONSOLE = (
    "ในแชตส่งประกาศได้เฉพาะผู้ดูแลระบบค่ะ ผู้ดูแลจังหวัดส่งประกาศถึงจังหวัด{provinces}"
    "ได้ทางคอนโซล พิมพ์ /console เพื่อรับลิงก์เข้าใช้ (ใช้ได้ในแชตส่วนตัว)"
)
NO_PUSH = "ช่องทางนี้ส่งแจ้งเตือนให้ไม่ได้ค่ะ สมัครรับแจ้งเตือนผ่าน LINE หรือ Telegram นะคะ"
ANNOUNCE_HELP = (
    "พิมพ์ ประกาศ ตามด้วยข้อความ เช่น\n"
    "ประกาศ คืนนี้ 20:00 น. e-LAAS ปิดปรับปรุง 2 ชั่วโมง\n"
    "ส่งเฉพาะจังหวัด: ประกาศ จังหวัดลำพูน ข้อความ"
)
SETSTATUS_HELP = (
    "พิมพ์ ตั้งสถานะ ตามด้วยสถานะและข้อความ เช่น\n"
    "ตั้งสถานะ ปกติ ระบบกลับมาใช้งานได้แล้ว\n"
    "สถานะที่ใช้ได้: ใช้งานได้ปกติ (ปกติ), ขัดข้อง, ใช้งานได้บางส่วน, ปิดปรับปรุง\n"
    "ใส่หนังสืออ้างอิงและกำหนดที่คาดได้ (ถ้ามี) บรรทัดละอย่าง เช่น\n"
    "อ้างอิง: หนังสือ สถ. ที่ ... ลงวันที่ ...\n"
    "คาดว่า: 15 ธ.ค. 2569"
)
EXPIRED = "รายการนี้หมดอายุหรือจัดการไปแล้วค่ะ ถ้าต้องการส่ง พิมพ์คำสั่งใหม่อีกครั้ง"
MAX_REF = 200  # as the console's form and the spool take them
MAX_EXPECTED = 100
_FIELD_LINE = re.compile(r"^\s*(อ้างอิง|คาดว่า(?:จะกลับมา)?)\s*[:：]\s*(.*)$")
DIRECT = "direct"  # the variant of an addressed notice: sent whether subscribed or not


# --------------------------------------------------------------------------- texts


def scope_th(province: str) -> str:
    return f" (เฉพาะจังหวัด{province})" if province else ""


def posted_line(at: datetime) -> str:
    """The line that dates every notice subscribers get: when it was posted."""
    return f"ประกาศเมื่อ {thai_datetime(at.astimezone(BANGKOK))}"


def status_notice_text(update: StatusUpdate, *, expected: str = "", ref: str = "",
                       status_url: str = "") -> str:
    """The text subscribers get for a status update that is not a restoration."""
    lines = [f"แจ้งสถานะ e-LAAS: {update.state_th}"]
    if update.phase != "update":
        lines.append(f"ขั้นตอน: {update.phase_th}")
    if update.message:
        lines.append(update.message)
    if expected and update.state != "normal":
        lines.append(f"คาดว่าจะกลับมา: {expected}")
    if ref:
        lines.append(f"อ้างอิง: {ref}")
    lines.append(posted_line(update.at))
    if status_url:
        lines.append(f"ดูสถานะล่าสุด: {status_url}")
    return "\n".join(lines)


def restored_notice_text(update: StatusUpdate, *, ref: str = "", status_url: str = "") -> str:
    """The restoration notice every subscriber gets (members get their LAO's count added)."""
    lines = ["e-LAAS กลับมาใช้งานได้ปกติแล้วค่ะ"]
    if update.message:
        lines.append(update.message)
    if ref:
        lines.append(f"อ้างอิง: {ref}")
    lines.append(posted_line(update.at))
    if status_url:
        lines.append(f"ดูสถานะล่าสุด: {status_url}")
    return "\n".join(lines) + "\n\n" + KEYBACK_GUIDE


def member_keyback_text(lao: Lao, pending: int) -> str:
    """The LAO's own part of the restoration notice: entries still to key back."""
    if pending:
        return (f"{lao.name}: ยังมีรายการในบอทที่ยังไม่ได้คีย์เข้า e-LAAS {pending:,} รายการ\n"
                "พิมพ์ \"ส่งออก\" เพื่อรับไฟล์ Excel ไว้ใช้คีย์ และพิมพ์ \"คีย์แล้ว เลขที่\" "
                "เมื่อคีย์เสร็จ")
    return f"{lao.name}: ไม่มีรายการค้างคีย์ในบอทค่ะ"


def announce_text(text: str, at: datetime, province: str = "", *,
                  provincial: bool = False) -> str:
    """An announcement as subscribers get it (and as its preview shows it): who, the scope,
    the text, when. ``provincial``: sent by a provincial operator, so signed by the
    province's office (สถจ.), whose notices reach only that province; otherwise by the
    national admins (ผู้ดูแลระบบ), with the scope when one was chosen."""
    who = f" สถจ.{province}" if provincial and province else f"ผู้ดูแลระบบ{scope_th(province)}"
    return f"ประกาศจาก{who}\n{text.strip()}\n{posted_line(at)}"


# --------------------------------------------------------------------------- audience


@dataclass(frozen=True)
class OutMessage:
    """What one group of recipients gets: the same text and buttons."""

    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """One subscriber of a notice and the message variant meant for them."""

    channel: str
    user_id: str
    variant: str

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass(frozen=True)
class Audience:
    """Who gets a notice and what each group gets (LINE multicast cannot personalise)."""

    variants: Mapping[str, OutMessage]
    recipients: tuple[Recipient, ...]


def in_scope(sub: Subscriber, province: str, lao: Lao | None) -> bool:
    """Whether a province-scoped notice reaches ``sub`` (unscoped ones reach everybody)."""
    if not province:
        return True
    if sub.province == province:
        return True
    return lao is not None and province_of(lao.province) == province


def build_audience(notice: Notice, subscribers: Iterable[Subscriber], directory: Directory,
                   pending_count: Callable[[str], int]) -> Audience:
    """Freeze who gets ``notice`` and with which text.

    A restoration notice is personalised per LAO: members of an LAO get its count of entries
    still to key back and an export button; everybody else gets the general guide.
    """
    laos: dict[str, Lao | None] = {}
    variants: dict[str, OutMessage] = {}
    out: list[Recipient] = []
    if notice.to:  # addressed (an alert to admins): exactly these users, subscribed or not
        keys = sorted({UserKey.parse(k) for k in notice.to if ":" in k},
                      key=lambda u: (u.channel, u.user_id))
        direct = tuple(Recipient(u.channel, u.user_id, DIRECT) for u in keys
                       if u.channel in PUSH_CHANNELS)
        return Audience({DIRECT: OutMessage(notice.text, (STATUS,))}, direct)
    restored = notice.kind == "restored"
    for sub in sorted(subscribers, key=lambda s: (s.channel, s.user_id)):
        if not sub.receives:
            continue
        member = directory.member(sub.key)
        lao: Lao | None = None
        if member is not None:
            if member.lao_code not in laos:
                laos[member.lao_code] = directory.lao(member.lao_code)
            lao = laos[member.lao_code]
        if not in_scope(sub, notice.province, lao):
            continue
        if restored and lao is not None:
            variant = f"lao:{lao.code}"
            if variant not in variants:
                text = notice.text + "\n\n" + member_keyback_text(lao, pending_count(lao.code))
                variants[variant] = OutMessage(text, (EXPORT, PENDING, UNSUBSCRIBE))
        elif restored:
            variant = "guest"
            variants.setdefault(variant, OutMessage(notice.text, (KEYBACK_TOPIC, UNSUBSCRIBE)))
        else:
            variant = "all"
            variants.setdefault(variant, OutMessage(notice.text, (STATUS, UNSUBSCRIBE)))
        out.append(Recipient(sub.channel, sub.user_id, variant))
    return Audience(variants, tuple(out))


def store_pending_count(store: Store) -> Callable[[str], int]:
    """Count an LAO's entries still to key back, reading its ledger fresh from the store."""
    return lambda code: len(Ledger(store, code).pending_keyback())


# --------------------------------------------------------------------------- publishing


class Publisher:
    """Posts status updates and announcements: timeline first, then a notice in the outbox.

    Used by the chat confirm step, by ``elaas-bot status set`` and by the spool that the
    server applies. Every call carries a key, so applying the same request twice posts once.
    """

    def __init__(self, store: Store, status: StatusBoard, *, status_url: str = ""):
        self.store = store
        self.status = status
        self.outbox = Outbox(store)
        self.subs = Subscriptions(store)
        self.directory = Directory(store)
        self.status_url = status_url

    def status_text(self, update: StatusUpdate, *, restored: bool) -> str:
        """The notice text of ``update`` (only its own letter and estimate, not older ones)."""
        if restored:
            return restored_notice_text(update, ref=update.ref, status_url=self.status_url)
        return status_notice_text(update, expected=update.expected, ref=update.ref,
                                  status_url=self.status_url)

    def set_status(self, *, state: str, message: str, key: str, now: datetime,
                   phase: str = "update", expected: str = "", ref: str = "", by: str = "",
                   notify: bool = True, province: str = "") -> tuple[StatusUpdate, Notice | None]:
        """Append a status update and, with ``notify``, queue its notice.

        A change from any other state to ``normal`` makes a restoration notice.
        """
        update = self.status.post(state=state, message=message, phase=phase, expected=expected,
                                  ref=ref, by=by, at=now, key=key)
        if not notify:
            return update, None
        before = [u for u in self.status.timeline() if u.seq < update.seq]
        restored = update.state == "normal" and bool(before) and before[-1].state != "normal"
        notice = Notice(
            id=f"n-{key}", kind="restored" if restored else "status",
            text=self.status_text(update, restored=restored), created_at=now, by=by,
            province=province, status_seq=update.seq, state=update.state,
        )  # fmt: skip
        return update, self.outbox.add(notice)

    def announce(self, *, text: str, key: str, now: datetime, by: str = "",
                 province: str = "", provincial: bool = False) -> Notice:
        """Queue a free-text announcement (optionally for one province; ``provincial``: from
        a provincial operator, see :func:`announce_text`)."""
        notice = Notice(id=f"n-{key}", kind="announce",
                        text=announce_text(text, now, province, provincial=provincial),
                        created_at=now, by=by, province=province)
        return self.outbox.add(notice)

    def audience_size(self, province: str = "") -> dict[str, int]:
        """How many subscribers a notice with this scope would reach now, per channel."""
        counts: dict[str, int] = {}
        probe = Notice("probe", "announce", "", datetime.now(BANGKOK), "", province)
        audience = build_audience(probe, self.subs.receiving(), self.directory, lambda c: 0)
        for r in audience.recipients:
            counts[r.channel] = counts.get(r.channel, 0) + 1
        return counts


def new_key(now: datetime) -> str:
    """A sortable, unique request key: ``20240715T103000-1a2b3c4d``."""
    return f"{now.astimezone(BANGKOK):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class StatusArgs:
    """What ``/setstatus`` was given: the state, the message, and the optional fields the
    CLI takes as ``--ref`` and ``--expected`` (free text, as announced)."""

    state: str
    message: str
    ref: str = ""
    expected: str = ""


def parse_status_args(text: str) -> StatusArgs:
    """``"ปกติ ระบบกลับมาแล้ว"`` -> ``StatusArgs("normal", "ระบบกลับมาแล้ว")``; lines
    ``อ้างอิง: …`` and ``คาดว่า: …`` (or ``คาดว่าจะกลับมา: …``) give the reference and the
    expected restoration. ValueError if no state."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        raise ValueError("no state")
    word = parts[0].lower()
    state = parse_state(word)
    fields = {"ref": "", "expected": ""}
    said = []
    for line in (parts[1] if len(parts) > 1 else "").splitlines():
        m = _FIELD_LINE.match(line)
        if m:
            fields["ref" if m.group(1) == "อ้างอิง" else "expected"] = m.group(2).strip()
        else:
            said.append(line)
    return StatusArgs(state, "\n".join(said).strip(), **fields)


def split_scope(text: str) -> tuple[str, str]:
    """``"จังหวัดลำพูน ข้อความ"`` -> ``("ลำพูน", "ข้อความ")``; no scope -> ``("", text)``.

    Raises:
        ValueError: the text starts with จังหวัด/จ. but names no known province.
    """
    m = re.match(r"^\s*((?:จังหวัด|จ\.)\s*\S+)\s*[:：]?\s*(.*)$", text, re.S)
    if not m:
        return "", text.strip()
    province = normalize_province(m.group(1).rstrip(":："))
    if province is None:
        raise ValueError(m.group(1))
    return province, m.group(2).strip()


def raw_args(ctx: Context, cleaned: str) -> str:
    """The command's arguments as typed (line breaks and case kept), not the cleaned copy."""
    typed = (ctx.incoming.text or "").strip()
    parts = typed.split(maxsplit=1)
    if len(parts) == 2 and cleaned:
        return parts[1].strip()
    return cleaned


# --------------------------------------------------------------------------- the feature


class NoticesFeature(Feature):
    """Subscriptions for everybody; announcements and status posts for ELAAS_ADMINS.

    Args:
        store: where subscribers, the outbox and the status live.
        status: the status timeline.
        admins: ``channel:user_id`` strings allowed to post (ELAAS_ADMINS).
        status_url: the public status page, quoted in status notices.
    """

    name = "notices"
    action_prefixes = ("notice",)

    def __init__(self, store: Store, status: StatusBoard, admins: Iterable[str] = (), *,
                 status_url: str = ""):
        self.publisher = Publisher(store, status, status_url=status_url)
        self.subs = self.publisher.subs
        self.outbox = self.publisher.outbox
        self.status = status
        self.admins = frozenset(str(a) for a in admins)

    def commands(self) -> list[Command]:
        c = Command
        return [
            c(("subscribe",), ("รับแจ้งเตือน", "สมัครรับแจ้งเตือน", "ติดตามสถานะ"),
              self.subscribe, takes_args=True, accepts=shape.province),
            c(("unsubscribe",), ("เลิกรับแจ้งเตือน", "ยกเลิกแจ้งเตือน", "ไม่รับแจ้งเตือน",
                                 "หยุดแจ้งเตือน", "ยกเลิกรับแจ้งเตือน"),
              self.unsubscribe),
            c(("announce",), ("ประกาศ",), self.announce, takes_args=True,
              accepts=shape.statement, staff=True),
            c(("setstatus",), ("ตั้งสถานะ", "เปลี่ยนสถานะ"), self.setstatus, takes_args=True,
              accepts=shape.statement, staff=True),
        ]

    def is_admin(self, ctx: Context) -> bool:
        return ctx.user in self.admins

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, ctx: Context, args: str) -> list[Reply]:
        inc = ctx.incoming
        if inc.channel not in PUSH_CHANNELS:
            return [Reply(NO_PUSH)]
        province: str | None = None
        if args.strip():
            province = normalize_province(args)
            if province is None:
                return [Reply(f"ไม่รู้จักจังหวัด \"{args.strip()}\" ค่ะ "
                              "พิมพ์ชื่อจังหวัดให้ครบ เช่น รับแจ้งเตือน จังหวัดลำพูน")]
        # Asked in a group: the asker's own 1:1 chat is subscribed (notices go to the user,
        # never to the group), and the answer goes there.
        sub, changed = self.subs.subscribe(UserKey(inc.channel, inc.user_id), ctx.now, province)
        scope = f"\nรวมประกาศเฉพาะจังหวัด{sub.province}ด้วย" if sub.province else ""
        private = inc.is_group
        if not changed:
            return [Reply("รับแจ้งเตือนอยู่แล้วค่ะ ไม่ต้องสมัครซ้ำ" + scope, (STATUS, UNSUBSCRIBE),
                          private=private)]
        where = "ทางแชตส่วนตัวนี้" if private else "ที่แชตนี้"
        return [Reply(
            f"รับแจ้งเตือนแล้วค่ะ เมื่อสถานะ e-LAAS เปลี่ยนหรือมีประกาศใหม่ บอทจะส่งข้อความมา{where}"
            + scope + "\nเลิกรับได้ทุกเมื่อ พิมพ์ \"เลิกรับแจ้งเตือน\"",
            (STATUS, UNSUBSCRIBE), meta=wrote(), private=private,
        )]  # fmt: skip

    def unsubscribe(self, ctx: Context, args: str) -> list[Reply]:
        if self.subs.unsubscribe(ctx.incoming.user, ctx.now):
            return [Reply("เลิกรับแจ้งเตือนแล้วค่ะ จะไม่ส่งประกาศมาอีก\n"
                          "ถ้าต้องการรับอีกครั้ง พิมพ์ \"รับแจ้งเตือน\"", (SUBSCRIBE,),
                          meta=wrote())]
        return [Reply("ตอนนี้ไม่ได้รับแจ้งเตือนอยู่ค่ะ ไม่มีอะไรต้องยกเลิก", (SUBSCRIBE,))]

    def on_event(self, ctx: Context) -> list[Reply] | None:
        inc = ctx.incoming
        if inc.kind == "follow" and inc.channel in PUSH_CHANNELS and not inc.is_group:
            return [Reply(FOLLOW_OFFER, (SUBSCRIBE,))]
        if inc.kind == "unfollow":
            self.subs.unsubscribe(inc.user, ctx.now, unreachable=True, reason="unfollow")
        return None

    # ------------------------------------------------------------------ admin posts

    def announce(self, ctx: Context, args: str) -> list[Reply]:
        if not self.is_admin(ctx):
            actor = resolve_actor(ctx.user, self.admins, Operators(self.publisher.store),
                                  self.publisher.directory)
            if actor is not None and actor.role == "provincial":  # they send from the console
                provinces = ", ".join(sorted(actor.provinces))
                return [Reply(TO_CONSOLE.format(provinces=provinces), (STATUS,))]
            return [Reply(REFUSED, (STATUS, SUBSCRIBE))]
        text = raw_args(ctx, args)
        try:
            province, body = split_scope(text)
        except ValueError as exc:
            return [Reply(f"ไม่รู้จัก \"{exc}\" ค่ะ พิมพ์ชื่อจังหวัดให้ครบ เช่น จังหวัดลำพูน")]
        if not body:
            return [Reply(ANNOUNCE_HELP)]
        if len(body) > MAX_NOTICE_TEXT:
            return [Reply(f"ข้อความยาวเกินไปค่ะ (เกิน {MAX_NOTICE_TEXT:,} ตัวอักษร) ช่วยย่อให้สั้นลง")]
        draft = {"what": "announce", "text": body, "province": province}
        return self._preview(ctx, draft, announce_text(body, ctx.now, province), province)

    def setstatus(self, ctx: Context, args: str) -> list[Reply]:
        if not self.is_admin(ctx):
            return [Reply(REFUSED, (STATUS, SUBSCRIBE))]
        text = raw_args(ctx, args)
        try:
            got = parse_status_args(text)
        except ValueError:
            return [Reply(SETSTATUS_HELP)]
        state = got.state
        if not got.message:
            return [Reply("ขอข้อความอธิบายด้วยค่ะ\n" + SETSTATUS_HELP)]
        for value, limit in ((got.message, MAX_NOTICE_TEXT), (got.ref, MAX_REF),
                             (got.expected, MAX_EXPECTED)):
            if len(value) > limit:
                return [Reply(f"ข้อความยาวเกินไปค่ะ (เกิน {limit:,} ตัวอักษร) ช่วยย่อให้สั้นลง")]
        view = self.status.current()
        restored = state == "normal" and view is not None and view.state != "normal"
        probe = StatusUpdate(0, ctx.now, state, got.message,
                             "resolved" if restored else "update", got.expected, got.ref)
        sample = self.publisher.status_text(probe, restored=restored)
        draft = {"what": "status", "state": state, "message": got.message, "phase": probe.phase,
                 "ref": got.ref, "expected": got.expected}
        head = f"สถานะจะเปลี่ยนเป็น \"{STATES[state]}\" ทันทีที่ยืนยัน\n"
        if restored:
            head += "สมาชิก อปท. จะได้จำนวนรายการค้างคีย์ของ อปท. ตัวเองต่อท้ายข้อความนี้\n"
        return self._preview(ctx, draft, sample, "", head)

    def _preview(self, ctx: Context, draft: dict[str, str], sample: str, province: str,
                 head: str = "") -> list[Reply]:
        key = new_key(ctx.now)
        counts = self.publisher.audience_size(province)
        total = sum(counts.values())
        ctx.session.set_step(NoticeDraft.start(ctx.now, key=key, **draft))
        per = ", ".join(f"{ch.upper() if ch == 'line' else 'Telegram'} {n:,}"
                        for ch, n in sorted(counts.items()))
        text = (
            f"{head}ตัวอย่างข้อความที่จะส่ง:\n────────\n{sample}\n────────\n"
            f"ส่งถึงผู้รับแจ้งเตือน {total:,} ราย{scope_th(province)}"
            + (f" ({per})" if per else "")
            + f"\nกด \"ยืนยันส่ง\" เพื่อส่ง (ภายใน {STEP_MINUTES} นาที) หรือ \"ยกเลิก\" ถ้ายังไม่ส่ง"
        )  # fmt: skip
        return [Reply(text, (Choice("ยืนยันส่ง", f"notice:confirm:{key}"),
                             Choice("ยกเลิก", f"notice:cancel:{key}")), private=True)]

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        kind, _, rest = action.partition(":")
        if kind != "notice":
            return None
        verb, _, key = rest.partition(":")
        draft = ctx.session.step
        if not isinstance(draft, NoticeDraft) or draft.key != key:
            return [Reply(EXPIRED)]
        ctx.session.clear_step()
        if verb == "cancel":
            return [Reply("ยกเลิกแล้วค่ะ ไม่ได้ส่งอะไรออกไป")]
        if verb == "confirm":
            return self._confirm(ctx, draft)
        return [Reply(EXPIRED)]

    def on_step(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        # the engine lets only a yes word (or the step's yes button) through to here
        if isinstance(step, NoticeDraft):
            return self._confirm(ctx, step)
        return [Reply(step.undone_text())]

    def _confirm(self, ctx: Context, draft: NoticeDraft) -> list[Reply]:
        if not self.is_admin(ctx):
            return [Reply(REFUSED, (STATUS, SUBSCRIBE))]
        if draft.expired(ctx.now):
            return [Reply(EXPIRED)]
        key = draft.key
        if draft.what == "announce":
            notice = self.publisher.announce(text=draft.text, key=key, now=ctx.now,
                                             by=ctx.user, province=draft.province)
            head = "ส่งประกาศเข้าคิวแล้วค่ะ"
        else:
            update, maybe = self.publisher.set_status(
                state=draft.state, message=draft.message, phase=draft.phase or "update",
                key=key, now=ctx.now, by=ctx.user, ref=draft.ref, expected=draft.expected,
            )  # fmt: skip
            assert maybe is not None
            notice = maybe
            head = f"บันทึกสถานะ \"{update.state_th}\" แล้ว และส่งแจ้งเตือนเข้าคิวแล้วค่ะ"
        total = sum(self.publisher.audience_size(notice.province).values())
        return [Reply(f"{head}\nบอทจะทยอยส่งถึงผู้รับ {total:,} ราย "
                      "(Telegram ส่งได้ราว 30 ข้อความต่อวินาที รายชื่อมากอาจใช้เวลาหลายนาที)\n"
                      f"เลขที่ประกาศ {notice.id}", (STATUS,), meta=wrote())]



@step_kind
class NoticeDraft(Step, frozen=True, kw_only=True):
    """An admin's ``/announce`` or ``/setstatus`` preview: waits for "ยืนยันส่ง"."""

    kind: ClassVar[str] = "notices.draft"
    feature: ClassVar[str] = "notices"
    waits: ClassVar[Waits] = "confirm"
    key: str
    what: str  # "announce" or "status"
    text: str = ""
    province: str = ""
    state: str = ""
    message: str = ""
    phase: str = ""
    ref: str = ""
    expected: str = ""

    @property
    def prompt(self) -> str:
        return "ยืนยันส่งประกาศ" if self.what == "announce" else "ยืนยันเปลี่ยนสถานะระบบ"

    def undone_text(self) -> str:
        what = "ประกาศ" if self.what == "announce" else "การเปลี่ยนสถานะ"
        return f"ยังไม่ได้ส่ง{what}ค่ะ (ร่างถูกยกเลิก ถ้าจะส่ง พิมพ์คำสั่งใหม่อีกครั้ง)"

    def owns_action(self, action: str) -> bool:
        return action.startswith("notice:") and action.endswith(f":{self.key}")
