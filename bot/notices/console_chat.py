"""``/console`` in chat: an operator in a 1:1 chat gets a one-time link to the web console."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.core.contract import Reply
from bot.core.feature import Command, Context, Feature
from bot.core.store import Store
from bot.ledger.book import Directory
from bot.notices.console_auth import LINK_SECONDS, LoginLinks
from bot.notices.operators import Operators, resolve_actor

NOT_OPERATOR = (
    "คอนโซลผู้ดูแลใช้ได้เฉพาะผู้ดูแลระบบ ผู้ดูแลระดับจังหวัด และผู้ดูแล อปท. ค่ะ\n"
    "ถ้าต้องการสิทธิ์ ติดต่อสำนักงานท้องถิ่นจังหวัดหรือผู้ดูแลระบบ"
)
IN_GROUP = "ขอลิงก์เข้าคอนโซลได้ในแชตส่วนตัวกับบอทเท่านั้นค่ะ (ลิงก์นี้ห้ามส่งในกลุ่ม)"


def console_link_text(url: str, role_th: str) -> str:
    minutes = LINK_SECONDS // 60
    return (f"ลิงก์เข้าคอนโซล ({role_th})\n{url}\n"
            f"ใช้ได้ครั้งเดียวภายใน {minutes} นาที ห้ามส่งต่อให้ผู้อื่นค่ะ")


class ConsoleFeature(Feature):
    """Mints console login links for operators (the role is checked again on every page).

    Args:
        store: where operators and members live.
        admins: ``channel:user_id`` of national admins (ELAAS_ADMINS).
        secret: returns the file-link secret (read lazily: a dry run needs no data dir).
        base_url: PUBLIC_BASE_URL.
    """

    name = "console"

    def __init__(self, store: Store, admins: Iterable[str], secret: Callable[[], bytes],
                 base_url: str):
        self.operators = Operators(store)
        self.directory = Directory(store)
        self.admins = frozenset(admins)
        self._secret = secret
        self._links: LoginLinks | None = None
        self.base_url = base_url.rstrip("/")

    def commands(self) -> list[Command]:
        return [Command(("console",), ("คอนโซล", "เข้าคอนโซล"), self.console, staff=True)]

    def console(self, ctx: Context, args: str) -> list[Reply]:
        if ctx.incoming.is_group:
            return [Reply(IN_GROUP)]
        actor = resolve_actor(ctx.user, self.admins, self.operators, self.directory)
        if actor is None:
            return [Reply(NOT_OPERATOR)]
        if self._links is None:
            self._links = LoginLinks(self._secret())
        url = login_url(self.base_url, self._links.mint(ctx.user))
        return [Reply(console_link_text(url, actor.role_th))]


def login_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/console/login/{token}"
