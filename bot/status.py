"""The e-LAAS status record: a timeline of updates, seeded from knowledge/status.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.thaifmt import thai_date, thai_datetime
from bot.yamlload import DataError, load_yaml, strip_lines

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
TABLE = "status/updates"


def parse_state(text: str) -> str:
    """A state key from its key or its Thai name (``ขัดข้อง`` -> ``down``); ValueError if none."""
    t = text.strip().lower()
    if t in STATES:
        return t
    for key, thai in STATES.items():
        if t == thai:
            return key
    raise ValueError(f"unknown state {text!r}: one of {', '.join(STATES)}")


@dataclass(frozen=True)
class StatusUpdate:
    """One entry of the timeline."""

    seq: int
    at: datetime
    state: str
    message: str
    phase: str = "update"
    expected: str = ""
    ref: str = ""
    by: str = ""

    @property
    def state_th(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def phase_th(self) -> str:
        return PHASES.get(self.phase, self.phase)

    def to_doc(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at.isoformat(), "state": self.state,
            "message": self.message, "phase": self.phase, "expected": self.expected,
            "ref": self.ref, "by": self.by,
        }  # fmt: skip

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> StatusUpdate:
        return cls(
            seq=int(d["seq"]), at=datetime.fromisoformat(d["at"]), state=d["state"],
            message=d.get("message", ""), phase=d.get("phase", "update"),
            expected=d.get("expected", ""), ref=d.get("ref", ""), by=d.get("by", ""),
        )  # fmt: skip


@dataclass(frozen=True)
class StatusView:
    """The current state derived from the timeline: what answers and the page show."""

    state: str
    since: datetime
    latest: StatusUpdate
    expected: str
    ref: str

    @property
    def state_th(self) -> str:
        return STATES.get(self.state, self.state)

    def fields(self) -> dict[str, str]:
        """Values for the ``{placeholders}`` of status.* answers."""
        return {
            "state": self.state_th,
            "since": thai_date(self.since.astimezone(BANGKOK).date()),
            "expected": self.expected or "ยังไม่มีการประกาศ",
            "message": self.latest.message,
            "ref": self.ref or "-",
            "updated": thai_datetime(self.latest.at.astimezone(BANGKOK)),
        }


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BANGKOK)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=BANGKOK)
    dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=BANGKOK)


def load_seed(path: Path) -> list[StatusUpdate]:
    """Read knowledge/status.yaml into timeline entries (DataError names file:line)."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("updates"), list):
        raise DataError(f"{path}:1: status seed needs an 'updates' list")
    out = []
    for i, raw in enumerate(data["updates"], start=1):
        item = strip_lines(raw)
        try:
            out.append(StatusUpdate(
                seq=i, at=_aware(item["at"]), state=parse_state(str(item["state"])),
                message=str(item.get("message", "")).strip(),
                phase=str(item.get("phase", "update")), expected=str(item.get("expected", "")),
                ref=str(item.get("ref", "")), by=str(item.get("by", "seed")),
            ))  # fmt: skip
        except (KeyError, ValueError) as exc:
            line = raw.get("__line__", 1) if isinstance(raw, dict) else 1
            raise DataError(f"{path}:{line}: bad status update: {exc}") from exc
    return out


class StatusBoard:
    """The status timeline in the store; seeded once from the knowledge seed."""

    def __init__(self, store: Store, seed: Path | None = None):
        self._store = store
        self._table = store.table(TABLE)
        if not len(self._table) and seed is not None and seed.exists():
            with store.transaction(TABLE):  # two instances starting together seed once
                if not len(self._table):
                    self._table.put_many({f"{u.seq:06d}": u.to_doc() for u in load_seed(seed)})

    def timeline(self) -> list[StatusUpdate]:
        """Every update, oldest first."""
        return sorted((StatusUpdate.from_doc(d) for d in self._table.all().values()),
                      key=lambda u: u.seq)

    def current(self) -> StatusView | None:
        """The state now, or None when there is no record at all."""
        updates = self.timeline()
        if not updates:
            return None
        latest = updates[-1]
        since = latest.at
        for u in reversed(updates):
            if u.state != latest.state:
                break
            since = u.at
        expected = next((u.expected for u in reversed(updates) if u.expected), "")
        ref = next((u.ref for u in reversed(updates) if u.ref), "")
        if latest.state == "normal":
            expected = ""
        return StatusView(latest.state, since, latest, expected, ref)

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
        with self._store.transaction(TABLE):  # one number per update, whoever posts
            if key:
                known = self.find(key)
                if known is not None:
                    return known
            seq = max((u.seq for u in self.timeline()), default=0) + 1
            update = StatusUpdate(seq, at or datetime.now(BANGKOK), parse_state(state),
                                  message, phase, expected, ref, by)
            doc = update.to_doc()
            if key:
                doc["key"] = key
            self._table.put(f"{seq:06d}", doc)
        return update

    def find(self, key: str) -> StatusUpdate | None:
        """The update posted with idempotency ``key``, or None."""
        for doc in self._table.all().values():
            if key and doc.get("key") == key:
                return StatusUpdate.from_doc(doc)
        return None
