"""Who runs the outage: national admins, provincial operators, LAO admins, and their scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.contract import UserKey
from bot.core.store import Store
from bot.ledger.book import Directory
from bot.ledger.entries import Lao
from bot.notices.outbox import normalize_province, province_of

OPERATORS = "operators"
RoleName = Literal["national", "provincial", "lao_admin"]
ROLE_TH: dict[str, str] = {
    "national": "ผู้ดูแลระดับประเทศ",
    "provincial": "ผู้ดูแลระดับจังหวัด",
    "lao_admin": "ผู้ดูแล อปท.",
}


class OperatorError(ValueError):
    """An operator change was refused; ``str(e)`` is the Thai message."""


@dataclass(frozen=True)
class Operator:
    """A provincial operator: a chat account and the provinces it runs."""

    user: str
    provinces: tuple[str, ...]
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Actor:
    """Who is acting in the console, decided once per request from the stores.

    ``provinces`` is empty for a national admin (who sees every province); ``lao_code`` is
    set only for an LAO admin.
    """

    user: str
    role: RoleName
    provinces: frozenset[str] = frozenset()
    lao_code: str = ""

    @property
    def national(self) -> bool:
        return self.role == "national"

    @property
    def role_th(self) -> str:
        return ROLE_TH[self.role]

    def sees_province(self, province: str) -> bool:
        """Whether this actor may see data of ``province`` (an LAO admin sees none whole)."""
        if self.national:
            return True
        return self.role == "provincial" and province_of(province) in self.provinces

    def sees_lao(self, lao: Lao | None) -> bool:
        """Whether this actor may see (and act on) the LAO ``lao``."""
        if lao is None:
            return False
        if self.role == "lao_admin":
            return lao.code == self.lao_code
        return self.sees_province(lao.province)

    def may_notify(self, province: str) -> bool:
        """National admins post everywhere; provincial operators only to their provinces."""
        if self.national:
            return True
        return self.role == "provincial" and bool(province) and province in self.provinces

    @property
    def may_see_notices(self) -> bool:
        """The notices and subscribers pages: provincial operators and national admins."""
        return self.role != "lao_admin"

    @property
    def may_set_status(self) -> bool:
        return self.national

    @property
    def may_edit_knowledge(self) -> bool:
        return self.national

    def may_add_lao(self, province: str) -> bool:
        return self.may_notify(province_of(province))


class Operators:
    """Provincial operators in one small table keyed ``channel:user_id``."""

    def __init__(self, store: Store):
        self._table = store.table(OPERATORS)

    def add(self, user: str, provinces: Iterable[str], *, by: str, now: datetime) -> Operator:
        """Grant ``user`` the given provinces (added to any it already has).

        Raises:
            OperatorError: a bad ``channel:id`` or a name that is not a Thai province.
        """
        key = str(UserKey.parse(user)) if ":" in user else ""
        if not key:
            raise OperatorError(f"ต้องเป็น ช่องทาง:รหัสผู้ใช้ เช่น line:U1234 (ได้รับ {user!r})")
        wanted: list[str] = []
        for p in provinces:
            name = normalize_province(p)
            if name is None:
                raise OperatorError(f"ไม่รู้จักจังหวัด \"{p}\"")
            wanted.append(name)
        if not wanted:
            raise OperatorError("ต้องระบุจังหวัดอย่างน้อยหนึ่งจังหวัด")
        old = self.get(key)
        merged = tuple(sorted(set(wanted) | set(old.provinces if old else ())))
        op = Operator(key, merged, old.added_by if old else by, old.added_at if old else now)
        self._table.put(key, {"provinces": list(merged), "added_by": op.added_by,
                              "added_at": op.added_at.isoformat()})
        return op

    def remove(self, user: str, provinces: Iterable[str] = ()) -> bool:
        """Take away some provinces, or (none named) the whole role; whether anything changed."""
        old = self.get(user)
        if old is None:
            return False
        drop = {normalize_province(p) or p for p in provinces}
        left = tuple(p for p in old.provinces if p not in drop) if drop else ()
        if left:
            self._table.put(user, {"provinces": list(left), "added_by": old.added_by,
                                   "added_at": old.added_at.isoformat()})
        else:
            self._table.delete(user)
        return True

    def get(self, user: str) -> Operator | None:
        d = self._table.get(user)
        if not d:
            return None
        return Operator(user, tuple(d.get("provinces", ())), d.get("added_by", ""),
                        datetime.fromisoformat(d["added_at"]))

    def all(self) -> list[Operator]:
        return sorted((o for o in (self.get(k) for k in self._table.all()) if o is not None),
                      key=lambda o: o.user)


def resolve_actor(user: str, admins: Iterable[str], operators: Operators,
                  directory: Directory) -> Actor | None:
    """The strongest role ``user`` holds now, or None (not an operator at all)."""
    if user in set(admins):
        return Actor(user, "national")
    op = operators.get(user)
    if op is not None and op.provinces:
        return Actor(user, "provincial", frozenset(op.provinces))
    member = directory.member(user)
    if member is not None and member.is_admin:
        return Actor(user, "lao_admin", lao_code=member.lao_code)
    return None
