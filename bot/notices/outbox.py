"""Subscribers and the notice outbox: who gets notices, and which notices wait to be sent."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from bot.core.codec import decode, encode
from bot.core.contract import UserKey
from bot.core.store import Store

SUBSCRIBERS = "notices/subscribers"
OUTBOX = "notices/outbox"
PUSH_CHANNELS = frozenset({"line", "telegram"})
"""Channels a notice can be pushed to (the terminal chat cannot receive pushes)."""

PROVINCES: tuple[str, ...] = (
    "กรุงเทพมหานคร", "กระบี่", "กาญจนบุรี", "กาฬสินธุ์", "กำแพงเพชร", "ขอนแก่น", "จันทบุรี",
    "ฉะเชิงเทรา", "ชลบุรี", "ชัยนาท", "ชัยภูมิ", "ชุมพร", "เชียงราย", "เชียงใหม่", "ตรัง", "ตราด",
    "ตาก", "นครนายก", "นครปฐม", "นครพนม", "นครราชสีมา", "นครศรีธรรมราช", "นครสวรรค์",
    "นนทบุรี", "นราธิวาส", "น่าน", "บึงกาฬ", "บุรีรัมย์", "ปทุมธานี", "ประจวบคีรีขันธ์",
    "ปราจีนบุรี", "ปัตตานี", "พระนครศรีอยุธยา", "พะเยา", "พังงา", "พัทลุง", "พิจิตร", "พิษณุโลก",
    "เพชรบุรี", "เพชรบูรณ์", "แพร่", "ภูเก็ต", "มหาสารคาม", "มุกดาหาร", "แม่ฮ่องสอน", "ยโสธร",
    "ยะลา", "ร้อยเอ็ด", "ระนอง", "ระยอง", "ราชบุรี", "ลพบุรี", "ลำปาง", "ลำพูน", "เลย",
    "ศรีสะเกษ", "สกลนคร", "สงขลา", "สตูล", "สมุทรปราการ", "สมุทรสงคราม", "สมุทรสาคร",
    "สระแก้ว", "สระบุรี", "สิงห์บุรี", "สุโขทัย", "สุพรรณบุรี", "สุราษฎร์ธานี", "สุรินทร์",
    "หนองคาย", "หนองบัวลำภู", "อ่างทอง", "อำนาจเจริญ", "อุดรธานี", "อุตรดิตถ์", "อุทัยธานี",
    "อุบลราชธานี",
)  # fmt: skip
_ALIASES = {
    "กรุงเทพ": "กรุงเทพมหานคร", "กรุงเทพฯ": "กรุงเทพมหานคร", "กทม": "กรุงเทพมหานคร",
    "กทม.": "กรุงเทพมหานคร", "อยุธยา": "พระนครศรีอยุธยา", "โคราช": "นครราชสีมา",
}  # fmt: skip
_PROVINCE_PREFIX = re.compile(r"^(?:จังหวัด|จ\.)\s*")


def normalize_province(text: str) -> str | None:
    """``"จังหวัดลำพูน"``, ``"จ.ลำพูน"`` or ``"ลำพูน"`` -> ``"ลำพูน"``; None if not a province."""
    name = _PROVINCE_PREFIX.sub("", text.strip()).strip()
    name = _ALIASES.get(name, name)
    return name if name in PROVINCES else None


def province_of(text: str) -> str:
    """A province as stored on an LAO, folded the same way (unknown names kept as typed)."""
    return normalize_province(text) or _PROVINCE_PREFIX.sub("", text.strip()).strip()


# --------------------------------------------------------------------------- subscribers


class Subscriber(msgspec.Struct, frozen=True):
    """One chat account that asked for notices (or asked to stop)."""

    channel: str
    user_id: str
    province: str
    active: bool
    reachable: bool
    since: datetime
    updated: datetime
    reason: str = ""

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @property
    def receives(self) -> bool:
        """Active, reachable and on a channel that can be pushed to."""
        return self.active and self.reachable and self.channel in PUSH_CHANNELS

def _subscriber(d: Mapping[str, Any]) -> Subscriber:
    """A stored subscriber; documents of older versions may lack the later fields."""
    doc = {"province": "", "active": True, "reachable": True, **d}
    doc["updated"] = doc.get("updated") or doc.get("since")
    return decode(doc, Subscriber, where=f"{SUBSCRIBERS}/{d.get('channel')}:{d.get('user_id')}")


class Subscriptions:
    """Subscribers in one table keyed ``channel:user_id``.

    Each change is one whole-file write of the table (TinyDB), which is fine for people
    subscribing one at a time; the sender batches its unreachable marks with
    :meth:`mark_unreachable` instead of writing once per recipient.
    """

    def __init__(self, store: Store):
        self._table = store.table(SUBSCRIBERS)

    def get(self, user: UserKey | str) -> Subscriber | None:
        d = self._table.get(str(user))
        return _subscriber(d) if d else None

    def subscribe(self, user: UserKey, now: datetime, province: str | None = None,
                  ) -> tuple[Subscriber, bool]:
        """Start (or keep) notices for ``user``; ``province`` None keeps the earlier scope.

        Returns:
            The subscriber and whether anything changed (False: already subscribed as asked).
        """
        result: list[tuple[Subscriber, bool]] = []

        def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            old = _subscriber(doc) if doc else None
            scope = province if province is not None else (old.province if old else "")
            if old is not None and old.active and old.reachable and old.province == scope:
                result.append((old, False))
                return doc
            sub = Subscriber(user.channel, user.user_id, scope, True, True,
                             old.since if old and old.active else now, now)
            result.append((sub, True))
            return encode(sub)

        self._table.update(str(user), change)  # one read-modify-write, whoever else writes
        return result[-1]

    def unsubscribe(self, user: UserKey | str, now: datetime, *, unreachable: bool = False,
                    reason: str = "") -> bool:
        """Stop notices at once; returns whether the user was subscribed."""
        key = str(user)
        was: list[bool] = []

        def change(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            old = _subscriber(doc) if doc else None
            was.append(bool(old and old.active))
            if old is None and not unreachable:
                return None
            channel, _, user_id = key.partition(":")
            base = old or Subscriber(channel, user_id, "", False, True, now, now)
            return encode(Subscriber(base.channel, base.user_id, base.province, False,
                              base.reachable and not unreachable, base.since, now,
                              reason or ("unreachable" if unreachable else "unsubscribed"),
                              ))

        self._table.update(key, change)
        return was[-1]

    def mark_unreachable(self, users: Iterable[str], reason: str, now: datetime) -> int:
        """Mark many users unreachable in one write (Telegram 403, LINE unfollow)."""
        def mark(key: str, d: dict[str, Any]) -> dict[str, Any]:
            if not d.get("reachable", True):
                return d
            return {**d, "reachable": False, "reason": reason, "updated": now.isoformat()}

        # One atomic write, serialised with subscribe/unsubscribe of the same users.
        return self._table.update_many(users, mark)

    def all(self) -> list[Subscriber]:
        return [_subscriber(d) for d in self._table.all().values()]

    def receiving(self) -> list[Subscriber]:
        """Subscribers a notice can reach now."""
        return [s for s in self.all() if s.receives]

    def receiving_keys(self) -> frozenset[str]:
        return frozenset(s.key for s in self.receiving())


# --------------------------------------------------------------------------- notices

NoticeKind = str  # "status" | "restored" | "announce"


class Notice(msgspec.Struct, frozen=True):
    """A message for subscribers, written to the outbox before anything is sent."""

    id: str
    kind: NoticeKind
    text: str
    created_at: datetime
    by: str
    province: str = ""
    status_seq: int = 0
    state: str = ""
    # Explicit recipients ("channel:user_id"), e.g. admins for a disagreement alert; empty:
    # the subscribers.
    to: tuple[str, ...] = ()

class Delivery(msgspec.Struct, frozen=True):
    """Where a notice stands: ``pending`` -> ``sending`` -> ``done``, with counts when known."""

    status: str = "pending"
    total: int = 0
    delivered: int = 0
    unreachable: int = 0
    failed: int = 0
    uncertain: int = 0
    skipped: int = 0
    started_at: str = ""
    finished_at: str = ""

class Outbox:
    """Notices waiting for (or done with) delivery, one small document each."""

    def __init__(self, store: Store):
        self._table = store.table(OUTBOX)

    def add(self, notice: Notice) -> Notice:
        """Queue ``notice``; adding the same id again returns the queued one unchanged."""
        fresh = {**encode(notice), "delivery": encode(Delivery())}
        stored = self._table.update(notice.id, lambda old: old or fresh)  # at most once
        return decode(stored, Notice) if stored else notice

    def get(self, notice_id: str) -> Notice | None:
        d = self._table.get(notice_id)
        return decode(d, Notice) if d else None

    def delivery(self, notice_id: str) -> Delivery:
        d = self._table.get(notice_id)
        return decode((d or {}).get("delivery") or {}, Delivery)

    def set_delivery(self, notice_id: str, delivery: Delivery) -> None:
        self._table.update(notice_id,
                           lambda d: {**d, "delivery": encode(delivery)} if d else None)

    def entries(self) -> list[tuple[Notice, Delivery]]:
        """Every notice with its delivery, oldest first."""
        out = [(decode(d, Notice), decode(d.get("delivery") or {}, Delivery))
               for d in self._table.all().values()]
        return sorted(out, key=lambda nd: (nd[0].created_at, nd[0].id))

    def unfinished(self) -> list[Notice]:
        """Notices not completely delivered yet, oldest first."""
        return [n for n, d in self.entries() if d.status != "done"]
