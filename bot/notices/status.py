"""The e-LAAS status record: a timeline of updates, seeded from knowledge/status.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from bot.core.codec import decode, encode
from bot.core.store import Doc, Store
from bot.core.thaifmt import thai_date, thai_datetime
from bot.core.yamlload import DataError, decode_yaml, line_at, load_yaml
from bot.notices.mirror import mirror

BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
STATES: dict[str, str] = {
    "normal": "ใช้งานได้ปกติ",
    "down": "ขัดข้อง",
    "partial": "ใช้งานได้บางส่วน",
    "maintenance": "ปิดปรับปรุง",
}
PHASES: dict[str, str] = {
    "investigating": "กำลังตรวจสอบ",
    "identified": "พบสาเหตุแล้ว",
    "monitoring": "กำลังติดตามผล",
    "resolved": "แก้ไขแล้ว",
    "update": "อัปเดต",
}
Phase = Literal["investigating", "identified", "monitoring", "resolved", "update"]
TABLE = "status/updates"
DEFAULT_STALE_DAYS = 14


# The short words operators type (the chat's ตั้งสถานะ, the CLI's --state) besides the names.
STATE_WORDS = {"ปกติ": "normal", "ล่ม": "down", "บางส่วน": "partial", "ปิดปรับปรุง": "maintenance"}


def parse_state(text: str) -> str:
    """A state key from its key, its Thai name (``ขัดข้อง`` -> ``down``) or a short word
    (``ปกติ``); ValueError if none."""
    t = text.strip().lower()
    if t in STATES:
        return t
    names = {**{thai: key for key, thai in STATES.items()}, **STATE_WORDS}
    if t in names:
        return names[t]
    raise ValueError(f"unknown state {text!r}: one of {', '.join(STATES)} "
                     f"or {', '.join(STATE_WORDS)}")


class StatusUpdate(msgspec.Struct, frozen=True):
    """One entry of the timeline (stored through :func:`update_doc` / :func:`update_from_doc`)."""

    seq: int
    at: datetime
    state: str
    message: str = ""
    phase: str = "update"
    expected: str = ""
    ref: str = ""
    by: str = ""
    # A letter gives a date, not a time: such an update is shown as a date only.
    time_known: bool = True
    # When the state began, if the source says so (the seed: 7 Jul 2567, posted 10 Jul).
    began: date | None = None

    @property
    def state_th(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def when_th(self) -> str:
        """When it was posted, in Thai: a date only when no time of day is known."""
        return when_th(self.at, self.time_known)

    @property
    def phase_th(self) -> str:
        return PHASES.get(self.phase, self.phase)


def update_doc(update: StatusUpdate, key: str = "") -> dict[str, Any]:
    """The stored document: ``began`` as "" when unknown, ``key`` only when given."""
    doc = encode(update)
    doc["began"] = doc["began"] or ""
    if key:
        doc["key"] = key
    return doc


def update_from_doc(doc: dict[str, Any], where: str = "") -> StatusUpdate:
    """Inverse of :func:`update_doc` (older documents lack the date fields: defaults)."""
    if not doc.get("began"):
        doc = {**doc, "began": None}
    return decode(doc, StatusUpdate, where=where)


@dataclass(frozen=True)
class StatusView:
    """The current state derived from the timeline: what answers and the page show."""

    state: str
    # When the state began, as the record states it; None when the announcement in force
    # (a letter) gives no start date (an earlier letter's date is not this letter's).
    since: datetime | None
    latest: StatusUpdate
    expected: str
    ref: str
    since_time_known: bool = True

    @property
    def state_th(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def since_th(self) -> str:
        """The start in Thai, "" when not stated."""
        return when_th(self.since, self.since_time_known) if self.since else ""

    @property
    def since_part(self) -> str:
        """`` ตั้งแต่ <date>`` after the state, or "" when no start was stated."""
        return f" ตั้งแต่ {self.since_th}" if self.since else ""

    def age_days(self, now: datetime) -> int:
        """Whole days from the newest official update to ``now`` (Bangkok calendar days)."""
        posted = self.latest.at.astimezone(BANGKOK).date()
        return max(0, (now.astimezone(BANGKOK).date() - posted).days)

    def fields(self) -> dict[str, str]:
        """Values for the ``{placeholders}`` of status.* answers."""
        return {
            "state": self.state_th,
            "since": self.since_th or "ไม่ได้ระบุ",
            "expected": self.expected or "ยังไม่มีการประกาศ",
            "message": self.latest.message,
            "ref": self.ref or "-",
            "updated": self.latest.when_th,
        }


def when_th(dt: datetime, time_known: bool = True) -> str:
    """A Thai date, with the time of day only when the time is known."""
    local = dt.astimezone(BANGKOK)
    return thai_datetime(local) if time_known else thai_date(local.date())


def _has_time(value: Any) -> bool:
    """Whether a YAML value carries a time of day (a bare date from a letter does not)."""
    if isinstance(value, datetime):
        return True
    if isinstance(value, date):
        return False
    return "T" in str(value) or " " in str(value).strip()


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BANGKOK)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=BANGKOK)
    dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=BANGKOK)


_ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
When = Annotated[str, Meta(pattern=_ISO)]


class SeedUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One item of ``updates:`` in knowledge/status.yaml (dates as the YAML text gives them)."""

    at: When
    state: Annotated[str, Meta(pattern=r"\S")]
    message: str = ""
    phase: Phase = "update"
    expected: str = ""
    ref: str = ""
    by: str = "seed"
    began: When | None = None


class StatusSeed(msgspec.Struct, frozen=True):
    """knowledge/status.yaml: the timeline the store starts with."""

    updates: Annotated[tuple[SeedUpdate, ...], Meta(min_length=1)]
    system: str = "e-LAAS"


def _as_text(raw: Any) -> Any:
    """YAML dates and times back to their ISO text, so that the schema sees what was written
    (a bare date from a letter is not a time of day)."""
    if isinstance(raw, dict):
        return {k: _as_text(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_as_text(v) for v in raw]
    if isinstance(raw, datetime | date):
        return raw.isoformat()
    return raw


def load_seed(path: Path) -> list[StatusUpdate]:
    """Read knowledge/status.yaml into timeline entries (DataError names file:line: field)."""
    raw = _as_text(load_yaml(path))
    seed, problems = decode_yaml(raw, StatusSeed)
    if seed is None:
        p = problems[0]
        raise DataError.at(path, p.line, f"status seed: {p.text()}")
    out = []
    for i, item in enumerate(seed.updates, start=1):
        try:
            state = parse_state(item.state)
        except ValueError as exc:
            raise DataError.at(path, line_at(raw, ("updates", i - 1, "state")),
                               f"status seed: updates[{i - 1}].state: {exc}") from exc
        out.append(StatusUpdate(
            seq=i, at=_aware(item.at), state=state, message=item.message.strip(),
            phase=item.phase, expected=item.expected, ref=item.ref, by=item.by,
            time_known=_has_time(item.at),
            began=_aware(item.began).date() if item.began else None,
        ))  # fmt: skip
    return out


def _timeline(docs: dict[str, Doc]) -> tuple[StatusUpdate, ...]:
    return tuple(sorted((update_from_doc(d, f"{TABLE}/{k}") for k, d in docs.items()),
                        key=lambda u: u.seq))


def _since(updates: tuple[StatusUpdate, ...]) -> tuple[datetime | None, bool]:
    """When the latest state began, and whether its time of day is known.

    Back through the updates of the same state: an update that states a start (``began``)
    gives it. One that cites a letter of its own (a ref the update before it does not carry)
    while the state was already in force restates it: an older update's start is not carried
    into it (the letter did not say it), so without a ``began`` the start is unknown (None).
    Otherwise the first update of the run dates the state (the record changed then).
    """
    since: datetime | None = None
    since_time = True
    run = _same_state_run(updates)
    for u, older in zip(run, [*run[1:], None], strict=True):
        if u.began is not None:
            return datetime(u.began.year, u.began.month, u.began.day, tzinfo=BANGKOK), False
        if u.ref and older is not None and older.ref != u.ref:
            return None, True
        since, since_time = u.at, u.time_known
    return since, since_time


def _same_state_run(updates: tuple[StatusUpdate, ...]) -> list[StatusUpdate]:
    """The newest updates that share the latest state, newest first."""
    run: list[StatusUpdate] = []
    for u in reversed(updates):
        if run and u.state != run[0].state:
            break
        run.append(u)
    return run


def _current(docs: dict[str, Doc]) -> StatusView | None:
    updates = _timeline(docs)
    if not updates:
        return None
    latest = updates[-1]
    since, since_time = _since(updates)
    # Only what the latest announcement itself gave: an older letter or estimate belongs to
    # an earlier announcement (the seed's "2 weeks" is no answer for a later outage).
    expected = "" if latest.state == "normal" else latest.expected
    return StatusView(latest.state, since, latest, expected, latest.ref, since_time)


class StatusBoard:
    """The status timeline in the store; seeded once from the knowledge seed."""

    def __init__(self, store: Store, seed: Path | None = None, *,
                 stale_days: int = DEFAULT_STALE_DAYS, probe_enabled: bool = False):
        self.store = store
        self._table = store.table(TABLE)
        self._mirror = mirror(store, TABLE)
        self.stale_days = stale_days
        self.probe_enabled = probe_enabled
        if seed is None or not seed.exists():
            return
        with store.transaction(TABLE):  # two instances starting together seed once
            if not len(self._table):
                self._table.put_many({f"{u.seq:06d}": update_doc(u) for u in load_seed(seed)})
                self._mirror.invalidate()
                return
            # A data dir seeded by an older version holds the seed with an invented time of
            # day (7 Jul 2567 00:00): replace seed entries that predate the date fields.
            fixed = {}
            for u in load_seed(seed):
                old = self._table.get(f"{u.seq:06d}")
                if old is not None and old.get("by") == "seed" and "time_known" not in old:
                    fixed[f"{u.seq:06d}"] = update_doc(u, old.get("key", ""))
            if fixed:
                self._table.put_many(fixed)
                self._mirror.invalidate()

    def timeline(self, *, fresh: bool = False) -> list[StatusUpdate]:
        """Every update, oldest first (a copy served from the table's mirror; ``fresh``:
        checked against the store now, whatever the mirror's TTL)."""
        return list(self._mirror.derived("timeline", _timeline, fresh=fresh))

    def current(self) -> StatusView | None:
        """The state now, or None when there is no record at all."""
        view: StatusView | None = self._mirror.derived("current", _current)
        return view

    def post(self, *, state: str, message: str, phase: str = "update", expected: str = "",
             ref: str = "", by: str = "", at: datetime | None = None,
             key: str = "") -> StatusUpdate:
        """Append an update to the timeline and return it.

        Args:
            key: an idempotency key (a chat draft or a spool request id). When an update
                with this key is already in the timeline it is returned instead of adding a
                second one, so a request applied twice (a crash before its spool file was
                removed, a button pressed twice) posts once.
        """
        with self.store.transaction(TABLE):  # one number per update, whoever posts
            if key:
                known = self.find(key, fresh=True)
                if known is not None:
                    return known
            seq = max((u.seq for u in self.timeline(fresh=True)), default=0) + 1
            update = StatusUpdate(seq, at or datetime.now(BANGKOK), parse_state(state),
                                  message, phase, expected, ref, by)
            self._table.put(f"{seq:06d}", update_doc(update, key))
            self._mirror.invalidate()
        return update

    def find(self, key: str, *, fresh: bool = False) -> StatusUpdate | None:
        """The update posted with idempotency ``key``, or None."""
        for k, doc in self._mirror.docs(fresh=fresh).items():
            if key and doc.get("key") == key:
                return update_from_doc(doc, f"{TABLE}/{k}")
        return None
