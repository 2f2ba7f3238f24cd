"""Two admins of one LAO leaving (or removing each other) at the same moment: one stays admin.

The "last admin" check and the removal are one transaction on the LAO's admins, on every
store; a slowed-down read of the admins widens the window the race needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from bot.core.contract import Reply
from bot.ledger.book import Directory, Member
from bot.ledger.entries import Lao
from handlers.app import Core
from tests.conftest import FIXED_NOW, STORE_KINDS, Say, core_on, make_lao_admin

core = pytest.fixture(params=STORE_KINDS)(core_on)

A, B = "05510101", "05510102"


@pytest.fixture
def two_admins(core: Core) -> Core:
    make_lao_admin(core, "console:u1", A, "อบต.เอ")
    core.book.directory.bind("console:u2", A, "admin", "สมชาย", FIXED_NOW)
    return core


def _slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a member or the admins takes a while: the other request checks meanwhile."""
    member, admins = Directory.member, Directory.admins

    def slow_member(self: Directory, user: str) -> Member | None:
        out = member(self, user)
        time.sleep(0.1)
        return out

    def slow_admins(self: Directory, lao_code: str) -> list[Member]:
        out = admins(self, lao_code)
        time.sleep(0.3)
        return out

    monkeypatch.setattr(Directory, "member", slow_member)
    monkeypatch.setattr(Directory, "admins", slow_admins)


def _at_once(*calls: Callable[[], list[Reply]]) -> list[str]:
    out: list[str] = [""] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        out[i] = "\n".join(r.text for r in calls[i]())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def _admins(core: Core) -> list[str]:
    return [m.user for m in core.book.directory.members(A) if m.is_admin]


def test_two_admins_leaving_at_once_leave_one_admin(two_admins: Core, say: Say,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _slow_reads(monkeypatch)
    said = _at_once(lambda: say(action=f"leave:{A}", user="u1"),
                    lambda: say(action=f"leave:{A}", user="u2"))
    assert len(_admins(two_admins)) == 1, said
    assert sum("ออกจาก อปท. แล้ว" in s for s in said) == 1, said
    assert sum("ผู้ดูแลคนเดียว" in s for s in said) == 1, said


def test_two_admins_removing_each_other_at_once_leave_one_admin(
        two_admins: Core, say: Say, monkeypatch: pytest.MonkeyPatch) -> None:
    yes = []
    for me, other in (("u1", "u2"), ("u2", "u1")):
        out = say(action=f"kick:{A}:console:{other}", user=me)
        yes.append(next(c.action for r in out for c in r.choices if c.label == "ยืนยันลบ"))
    _slow_reads(monkeypatch)
    said = _at_once(lambda: say(action=yes[0], user="u1"),
                    lambda: say(action=yes[1], user="u2"))
    assert len(_admins(two_admins)) == 1, said
    assert sum("ออกจาก อปท. แล้ว" in s for s in said) == 1, said


def test_an_admin_moving_away_while_the_other_leaves_leaves_one_admin(
        two_admins: Core, say: Say, monkeypatch: pytest.MonkeyPatch) -> None:
    d = two_admins.book.directory
    d.add_lao(Lao(B, "อบต.บี", "ลำพูน"))
    code = d.invite(B, "member", "cli", FIXED_NOW).code
    assert "ย้ายไป อบต.บี ใช่ไหม" in "\n".join(r.text for r in say(f"เข้าร่วม {code}"))
    _slow_reads(monkeypatch)
    said = _at_once(lambda: say("ใช่ค่ะ", user="u1"),
                    lambda: say(action=f"leave:{A}", user="u2"))
    assert len(_admins(two_admins)) == 1, said
    assert sum("ผู้ดูแลคนเดียว" in s for s in said) == 1, said
