"""Status signals beside the official record: probe results, field reports, freshness, alerts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from msgspec.structs import replace

from bot.core.codec import decode, encode
from bot.core.contract import Choice, Reply
from bot.core.feature import Context, Feature
from bot.core.store import Doc, Store
from bot.core.thaifmt import shorten
from bot.ledger.book import Directory
from bot.notices.mirror import invalidate, mirror
from bot.notices.outbox import Notice, Outbox, province_of
from bot.notices.status import BANGKOK, StatusBoard, StatusView

PROBE_TABLE = "status/probe"
FIELD_TABLE = "status/field"
ALERT_TABLE = "status/alert"
PROBE_KEEP = 50
FIELD_WINDOW = timedelta(hours=2)
FIELD_MIN_VOTES = 3
NO_PROVINCE = "ไม่ระบุจังหวัด"
PROBE_LABEL = "ตรวจอัตโนมัติ ไม่ใช่ประกาศทางการ"
FIELD_UP = Choice("เข้าได้แล้ว", "field:up")
FIELD_DOWN = Choice("ยังเข้าไม่ได้", "field:down")

PROBE_OUTCOMES: dict[str, str] = {
    "up": "เข้าถึงได้",
    "timeout": "ไม่ตอบภายในเวลาที่กำหนด",
    "down": "เชื่อมต่อไม่ได้",
    "server_error": "เซิร์ฟเวอร์ตอบว่าผิดพลาด",
    "login": "ถูกพาไปหน้าเข้าสู่ระบบ (ไม่ถือว่าใช้ได้)",
    "http_error": "ตอบว่าผิดพลาด",
    "redirect": "ถูกส่งต่อไปที่อื่น",
}
# The official part of a status answer's first message (the signals follow; 400 in all):
# the state line, the announced date and as much of the announcement's words as fit.
OFFICIAL_ROOM = 200
MAX_EXPECTED_SHOWN = 45
MIN_SAID = 20  # less room than this: the words are left to the full answer
UNREACHABLE = frozenset({"timeout", "down", "server_error"})
_LOGIN = re.compile(r"log-?in|sign-?in|auth|sso|เข้าสู่ระบบ", re.I)


# --------------------------------------------------------------------------- probe


def ago_th(delta: timedelta) -> str:
    """``timedelta(minutes=5)`` -> ``"5 นาทีก่อน"`` (coarse, for people)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "เมื่อสักครู่"
    if seconds < 3600:
        return f"{seconds // 60} นาทีก่อน"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} ชั่วโมงก่อน"
    return f"{seconds // 86400:,} วันก่อน"


def classify_probe(status: int | None, *, error: str = "", redirected_to: str = "") -> str:
    """What one HTTP check found, as a key of PROBE_OUTCOMES; only a 2xx page counts as up.

    Args:
        status: the final HTTP status, None when no answer came.
        error: ``"timeout"`` or another failure name when no answer came.
        redirected_to: the URL the check was redirected to ("" if none).
    """
    if status is None:
        return "timeout" if error == "timeout" else "down"
    if redirected_to and _LOGIN.search(redirected_to):
        return "login"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "http_error"
    if 300 <= status < 400:
        return "redirect"
    return "up" if 200 <= status < 300 else "http_error"


class ProbeResult(msgspec.Struct, frozen=True):
    """One automatic check of the e-LAAS address."""

    at: datetime
    outcome: str
    http_status: int | None = None
    latency_ms: int | None = None
    detail: str = ""

    @property
    def reachable(self) -> bool:
        return self.outcome == "up"

    @property
    def outcome_th(self) -> str:
        text = PROBE_OUTCOMES.get(self.outcome, self.outcome)
        if self.http_status is not None and self.outcome in ("server_error", "http_error"):
            text += f" (HTTP {self.http_status})"
        return text


class ProbeLog:
    """The latest probe results in the store (the newest few only)."""

    def __init__(self, store: Store):
        self._store = store
        self._table = store.table(PROBE_TABLE)

    def record(self, result: ProbeResult) -> None:
        key = result.at.astimezone(BANGKOK).strftime("%Y%m%dT%H%M%S.%f")
        self._table.put(key, encode(replace(result, detail=result.detail[:200])))
        keys = sorted(self._table.all())
        for old in keys[:-PROBE_KEEP]:
            self._table.delete(old)
        invalidate(self._store, PROBE_TABLE, deleted=len(keys) > PROBE_KEEP)

    def latest(self) -> ProbeResult | None:
        """The newest result (served from the table's mirror: see bot/notices/mirror.py)."""
        latest: ProbeResult | None = mirror(self._store, PROBE_TABLE).derived("latest", _latest)
        return latest


# --------------------------------------------------------------------------- field reports


@dataclass(frozen=True)
class FieldCount:
    """Clerks' reports of one province within the window."""

    province: str
    up: int
    down: int


class FieldVote(msgspec.Struct, frozen=True):
    """One clerk's latest tap, stored under the user's key."""

    up: bool
    at: datetime
    province: str = NO_PROVINCE


class FieldReports:
    """Clerks' taps "เข้าได้แล้ว" / "ยังเข้าไม่ได้": one vote per user, counted for two hours."""

    def __init__(self, store: Store, window: timedelta = FIELD_WINDOW):
        self._store = store
        self._table = store.table(FIELD_TABLE)
        self.window = window

    def vote(self, user: str, up: bool, province: str, now: datetime) -> bool:
        """Record ``user``'s vote; False when it repeats the user's vote in this window.

        A repeated tap keeps the first time, so a flood neither counts twice nor keeps a vote
        alive past its window; a changed mind replaces the vote.
        """
        doc = self._table.get(user)
        old = None if doc is None else decode(doc, FieldVote, where=f"{FIELD_TABLE}/{user}")
        if old is not None and now - old.at < self.window and old.up == up:
            return False
        self._table.put(user, encode(FieldVote(up, now, province or NO_PROVINCE)))
        invalidate(self._store, FIELD_TABLE)
        return True

    def _votes(self) -> dict[str, FieldVote]:
        """Every stored vote, decoded once per change of the table (its mirror)."""
        votes: dict[str, FieldVote] = mirror(self._store, FIELD_TABLE).derived("votes", _votes)
        return votes

    def counts(self, now: datetime) -> list[FieldCount]:
        """Per province, votes of the last window, the most votes first."""
        per: dict[str, list[int]] = {}
        for v in self._votes().values():
            age = now - v.at
            if age < timedelta(0) or age >= self.window:
                continue
            c = per.setdefault(v.province or NO_PROVINCE, [0, 0])
            c[0 if v.up else 1] += 1
        out = [FieldCount(p, u, n) for p, (u, n) in per.items()]
        return sorted(out, key=lambda c: (-(c.up + c.down), c.province))

    def prune(self, now: datetime) -> int:
        """Forget votes older than the window (they no longer count)."""
        gone = [k for k, v in self._votes().items() if now - v.at >= self.window]
        for k in gone:
            self._table.delete(k)
        if gone:
            invalidate(self._store, FIELD_TABLE, deleted=True)
        return len(gone)


def _latest(docs: dict[str, Doc]) -> ProbeResult | None:
    if not docs:
        return None
    key = max(docs)
    return decode(docs[key], ProbeResult, where=f"{PROBE_TABLE}/{key}")


def _votes(docs: dict[str, Doc]) -> dict[str, FieldVote]:
    return {k: decode(d, FieldVote, where=f"{FIELD_TABLE}/{k}") for k, d in docs.items()}


def field_province(directory: Directory, user: str) -> str:
    """The province of the user's LAO, or NO_PROVINCE."""
    member = directory.member(user)
    lao = directory.lao(member.lao_code) if member else None
    return province_of(lao.province) if lao and lao.province.strip() else NO_PROVINCE


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Snapshot:
    """The three signals at one moment, with their ages; what every status view shows."""

    now: datetime
    view: StatusView | None
    stale_days: int
    probe: ProbeResult | None
    field: tuple[FieldCount, ...]
    probe_on: bool = False

    @property
    def age_days(self) -> int | None:
        return self.view.age_days(self.now) if self.view else None

    @property
    def stale(self) -> bool:
        """True when the newest official update is older than the limit (or there is none)."""
        return self.view is None or (self.age_days or 0) > self.stale_days

    @property
    def field_up(self) -> int:
        return sum(c.up for c in self.field)

    @property
    def field_down(self) -> int:
        return sum(c.down for c in self.field)

    # texts ----------------------------------------------------------------
    def official_text(self) -> str:
        """The official signal: state, since, source, date posted; stale said plainly."""
        v = self.view
        if v is None:
            return "สถานะ e-LAAS ตอนนี้: ไม่ทราบ บอทยังไม่มีประกาศทางการ ตรวจสอบกับ สถจ./อำเภอ"
        source = f" ตาม{v.ref}" if v.ref else ""
        if self.stale:
            return (f"สถานะ e-LAAS ตอนนี้: ไม่ทราบ บอทยังไม่ได้รับประกาศใหม่\nข้อมูลล่าสุดคือ "
                    f"{v.state_th}{v.since_part}{source} เมื่อ {self.age_days:,} วันก่อน "
                    "ตรวจสอบกับ สถจ./อำเภอ")
        lines = [f"ประกาศทางการล่าสุด: e-LAAS {v.state_th}{v.since_part}{source} "
                 f"(ลงเมื่อ {v.latest.when_th})"]
        if v.state != "normal":
            lines.append("กำหนดที่ประกาศ: " + (shorten(v.expected, MAX_EXPECTED_SHOWN)
                                                if v.expected else "ยังไม่มีการประกาศ"))
        # The announcement's own words, cut to the room left (the full answer has them all).
        said = " ".join(v.latest.message.split())
        room = OFFICIAL_ROOM - sum(len(line) + 1 for line in lines)
        if said and room >= MIN_SAID:
            lines.append(shorten(said, room))
        return "\n".join(lines)

    def probe_text(self) -> str:
        """The probe signal for chat: what it found, how long ago, how long it took."""
        if self.probe is None:
            what = "ยังไม่มีผล" if self.probe_on else "ไม่ได้เปิดใช้"
            return f"ตรวจอัตโนมัติ: {what}"
        p = self.probe
        ms = f" · {p.latency_ms / 1000:.1f} วิ" if p.latency_ms is not None else ""
        return f"{PROBE_LABEL}: {p.outcome_th} {ago_th(self.now - p.at)}{ms}"

    def field_text(self, top: int = 1) -> str:
        """The field signal for chat: totals of the window and the busiest provinces."""
        hours = int(FIELD_WINDOW.total_seconds() // 3600)
        if not self.field:
            return f"ผู้ใช้แจ้ง {hours} ชม.ล่าสุด: ยังไม่มี กดปุ่มด้านล่างบอกได้ค่ะ"
        if len(self.field) == 1:  # one group: its counts are the totals, said once
            only = self.field[0].province
            per = "" if only == NO_PROVINCE else f" ({only})"
        else:
            per = " (" + ", ".join(f"{c.province} ได้ {c.up:,} ไม่ได้ {c.down:,}"
                                   for c in self.field[:top]) + ")"
        return (f"ผู้ใช้แจ้ง {hours} ชม.ล่าสุด: เข้าได้ {self.field_up:,} · "
                f"เข้าไม่ได้ {self.field_down:,}{per}")

    def signals_text(self) -> str:
        return self.probe_text() + "\n" + self.field_text()

    def fields(self) -> dict[str, str]:
        """Values for the ``{placeholders}`` of status.* answers."""
        base = self.view.fields() if self.view else {
            k: "-" for k in ("state", "since", "expected", "message", "ref", "updated")}
        if self.stale and self.view is not None:
            base["state"] = f"ไม่ทราบ (ข้อมูลล่าสุด {self.age_days:,} วันก่อน: {self.view.state_th})"
            if self.view.expected:
                base["expected"] += f" (ประกาศเมื่อ {self.age_days:,} วันก่อน)"
        base["official"] = self.official_text()
        base["signals"] = self.signals_text()
        return base

    def to_json(self) -> dict[str, Any]:
        """The machine-readable signals (``status show --json``, ``/status.json``)."""
        v = self.view

        def iso(dt: datetime | None, time_known: bool = True) -> str | None:
            if dt is None:
                return None
            local = dt.astimezone(BANGKOK)
            return local.isoformat(timespec="seconds") if time_known else local.date().isoformat()

        return {
            "now": iso(self.now),
            "state": v.state if v else None,
            "state_known": not self.stale,
            "since": iso(v.since, v.since_time_known) if v and v.since else None,
            "updated_at": iso(v.latest.at, v.latest.time_known) if v else None,
            "source": v.ref if v else None,
            "age_days": self.age_days,
            "stale": self.stale,
            "stale_after_days": self.stale_days,
            "probe": None if self.probe is None else {
                **encode(self.probe), "at": iso(self.probe.at), "reachable":
                self.probe.reachable, "label": PROBE_LABEL,
                "age_seconds": int((self.now - self.probe.at).total_seconds())},
            "probe_enabled": self.probe_on,
            "field": {
                "window_hours": FIELD_WINDOW.total_seconds() / 3600,
                "up": self.field_up, "down": self.field_down,
                "provinces": [{"province": c.province, "up": c.up, "down": c.down}
                              for c in self.field],
            },
        }


def snapshot(board: StatusBoard, store: Store, now: datetime, *,
             probe_on: bool = False) -> Snapshot:
    """Read the three signals from the store."""
    return Snapshot(now, board.current(), board.stale_days, ProbeLog(store).latest(),
                    tuple(FieldReports(store).counts(now)), probe_on)


def sample_snapshot(*, stale: bool = True) -> Snapshot:
    """A long realistic snapshot (a stale record, or with ``stale=False`` one posted the
    same day, probe and field votes): kb check measures status answers with both."""
    from bot.notices.status import StatusUpdate

    now = datetime(2026, 12, 31, 23, 59, tzinfo=BANGKOK) if stale else datetime(
        2024, 7, 10, 23, 59, tzinfo=BANGKOK)
    ref = "หนังสือ สถ. ด่วนที่สุด ที่ มท 0808.4/ว 2963 ลงวันที่ 10 ก.ค. 2567"
    posted = datetime(2024, 7, 10, tzinfo=BANGKOK)
    update = StatusUpdate(1, posted, "maintenance", "ข้อความ" * 45, expected="x" * 100, ref=ref,
                          time_known=False)
    view = StatusView("maintenance", posted, update, update.expected, ref, False)
    probe = ProbeResult(now - timedelta(minutes=59), "login", 200, 12345)
    field = tuple(FieldCount(p, 99, 99) for p in ("พระนครศรีอยุธยา", "นครศรีธรรมราช",
                                                   "ประจวบคีรีขันธ์"))
    return Snapshot(now, view, 14, probe, field, True)


# --------------------------------------------------------------------------- disagreement


def disagreement(snap: Snapshot) -> str:
    """Which signal contradicts the official state ("" when none does).

    Only clear contradictions count: the probe reached e-LAAS (or failed to) against an
    official "down" (or "normal"), or at least FIELD_MIN_VOTES field votes lean the other way.
    """
    if snap.view is None:
        return ""
    official_up = snap.view.state == "normal"
    official_down = snap.view.state in ("down", "maintenance")
    p = snap.probe
    if p is not None and snap.now - p.at < FIELD_WINDOW:
        if p.reachable and official_down:
            return "probe_up"
        if p.outcome in UNREACHABLE and official_up:
            return "probe_down"
    if snap.field_up + snap.field_down >= FIELD_MIN_VOTES:
        if snap.field_up > snap.field_down and official_down:
            return "field_up"
        if snap.field_down > snap.field_up and official_up:
            return "field_down"
    return ""


_ALERT_TEXT = {
    "probe_up": "การตรวจอัตโนมัติเข้าถึง e-LAAS ได้",
    "probe_down": "การตรวจอัตโนมัติเข้าถึง e-LAAS ไม่ได้",
    "field_up": "ผู้ใช้ส่วนใหญ่แจ้งว่าเข้าได้แล้ว",
    "field_down": "ผู้ใช้ส่วนใหญ่แจ้งว่ายังเข้าไม่ได้",
}


class Episode(msgspec.Struct, frozen=True):
    """A signal contradicting the official state (``seq``), since when, and whether alerted."""

    kind: str
    seq: int
    since: datetime
    alerted: bool = False
    notice: str = ""


class AlertWatch:
    """Alerts admins once per episode in which a signal contradicts the official state."""

    def __init__(self, store: Store, admins: Iterable[str], after: timedelta):
        self._table = store.table(ALERT_TABLE)
        self.outbox = Outbox(store)
        self.admins: Sequence[str] = tuple(sorted(admins))
        self.after = after

    def check(self, snap: Snapshot) -> Notice | None:
        """Track the current episode; queue one admin notice when it has lasted ``after``."""
        kind = disagreement(snap)
        if not kind or snap.view is None:
            self._table.delete("episode")
            return None
        seq = snap.view.latest.seq
        doc = self._table.get("episode")
        ep = None if doc is None else decode(doc, Episode, where=f"{ALERT_TABLE}/episode")
        if ep is None or ep.kind != kind or ep.seq != seq:
            ep = Episode(kind, seq, snap.now)
            self._table.put("episode", _episode_doc(ep))
        since = ep.since
        if ep.alerted or snap.now - since < self.after or not self.admins:
            return None
        minutes = int((snap.now - since).total_seconds() // 60)
        text = (f"แจ้งผู้ดูแล: {_ALERT_TEXT[kind]} แต่สถานะทางการยังเป็น "
                f"\"{snap.view.state_th}\" (ลงเมื่อ {snap.view.latest.when_th}) "
                f"ต่อเนื่องมา {minutes:,} นาที\n{snap.signals_text()}\n"
                "ถ้ามีข้อมูลใหม่ โปรดอัปเดตด้วย \"ตั้งสถานะ\" หรือ elaas-bot status set")
        stamp = snap.now.astimezone(BANGKOK).strftime("%Y%m%d%H%M%S")
        notice = Notice(id=f"alert-{seq}-{kind}-{stamp}", kind="alert", text=text,
                        created_at=snap.now, by="watch", to=tuple(self.admins))
        self.outbox.add(notice)
        self._table.put("episode", _episode_doc(replace(ep, alerted=True, notice=notice.id)))
        return notice


def _episode_doc(ep: Episode) -> dict[str, Any]:
    """The stored shape: ``notice`` only once an alert went out (as older versions wrote it)."""
    doc = encode(ep)
    if not ep.notice:
        del doc["notice"]
    return doc


# --------------------------------------------------------------------------- chat


NOT_COUNTED = ("ขอบคุณค่ะ แต่บอทนับเสียงได้เฉพาะผู้ใช้ที่ระบุตัวได้ (บางเครื่องในกลุ่ม LINE "
               "ไม่ส่งรหัสผู้ใช้มา) ลองกดในแชตส่วนตัวกับบอทนะคะ")


class FieldReportsFeature(Feature):
    """The "เข้าได้แล้ว" / "ยังเข้าไม่ได้" buttons under status answers."""

    name = "field"
    action_prefixes = ("field",)

    def __init__(self, store: Store, board: StatusBoard, *, probe_on: bool = False):
        self.store = store
        self.board = board
        self.reports = FieldReports(store)
        self.directory = Directory(store)
        self.probe_on = probe_on

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        if action not in (FIELD_UP.action, FIELD_DOWN.action):
            return None
        status = Choice("สถานะระบบ", "cmd:status")
        if not ctx.incoming.user_id:  # an anonymous group member: nobody to count once
            return [Reply(NOT_COUNTED, (status,))]
        user = str(ctx.incoming.user)
        up = action == FIELD_UP.action
        province = field_province(self.directory, user)
        fresh = self.reports.vote(user, up, province, ctx.now)
        snap = snapshot(self.board, self.store, ctx.now, probe_on=self.probe_on)
        said = "เข้าได้แล้ว" if up else "ยังเข้าไม่ได้"
        head = (f"บันทึกแล้วค่ะ: {said} ({province})" if fresh
                else f"นับเสียงของคุณไว้แล้วค่ะ ({said}) นับหนึ่งเสียงต่อคนใน 2 ชั่วโมง")
        return [Reply(f"{head}\n{snap.field_text()}\nนี่เป็นข้อมูลจากผู้ใช้ ไม่ใช่ประกาศทางการ",
                      (status,))]
