"""Pending steps as chat transcripts: a waiting step never swallows an unrelated message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.contract import Incoming, Reply, UserKey
from bot.core.steps import STEP_MINUTES, registered_kinds
from bot.notices.outbox import Outbox
from handlers.app import Core, build_core
from handlers.settings import Settings
from tests.conftest import FIXED_NOW, make_lao_admin

ADMIN = "line:Uadmin"
CODE = "01234567"


class Chat:
    """One user talking to the engine; the clock can be moved."""

    def __init__(self, core: Core, user: str, channel: str = "console") -> None:
        self.core, self.user, self.channel = core, user, channel
        self.now = FIXED_NOW
        self.n = 0
        core.engine.clock = lambda: self.now

    def __call__(self, text: str | None = None, *, action: str | None = None) -> list[Reply]:
        self.n += 1
        return self.core.engine.reply_to(Incoming(
            self.channel, self.user, self.user, text=text, action=action,
            event_id=f"{self.user}-{self.n}", display_name="สมศรี"))

    def tap(self, replies: list[Reply], label: str) -> list[Reply]:
        action = next(c.action for r in replies for c in r.choices if c.label == label)
        return self(action=action)


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    c = build_core(Settings(data_dir=tmp_path / "data",
                            admins=frozenset({UserKey.parse(ADMIN)})))
    yield c
    c.store.close()


@pytest.fixture
def clerk(core: Core) -> Chat:
    make_lao_admin(core, "console:u1", CODE)
    chat = Chat(core, "u1")
    for line in ("รับ 1,500 ค่าขยะ", "รับ 200 ค่าน้ำ", "จ่าย 300 ค่าน้ำมัน"):
        assert "บันทึกแล้ว" in said(chat(line))
    return chat


def voided(core: Core, no: int) -> bool:
    e = core.book.ledger(CODE).get(no)
    assert e is not None
    return e.voided


# --------------------------------------------------------------------------- the reported bug


def test_tapping_dont_void_then_any_later_message_never_voids(core: Core, clerk: Chat) -> None:
    ask = clerk("ยกเลิก 2")
    assert "เหตุผล" in said(ask) and "10 นาที" in said(ask)
    out = clerk.tap(ask, "ไม่ยกเลิก")
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in said(out)
    clerk.now += timedelta(hours=3)
    out = clerk("ระบบกลับมายัง")
    assert out[-1].topic is not None  # answered as the question it is
    assert not voided(core, 2)
    assert "step" not in (core.store.table("sessions").get("console:u1") or {})


def test_void_then_enter_again_saves_the_new_entry_and_does_not_void(core: Core,
                                                                     clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    out = clerk("รับ 250 ค่าน้ำ")
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in out[0].text
    assert "บันทึกแล้ว" in out[1].text and "รายการที่ 4" in out[1].text
    assert not voided(core, 2)
    # the void can still be done, and then it is done with the typed reason
    clerk("ยกเลิก 2")
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk("พิมพ์ยอดผิด"))
    e = core.book.ledger(CODE).get(2)
    assert e is not None and e.void is not None and e.void.reason == "พิมพ์ยอดผิด"


def test_a_question_is_answered_and_the_void_still_waits(core: Core, clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    out = clerk("ระบบกลับมายัง")
    assert out[0].topic is not None and "ยังรอเหตุผลที่ยกเลิกรายการที่ 2" in out[-1].text
    assert not voided(core, 2)
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk("พิมพ์ยอดผิด"))


def test_a_statement_with_an_answer_is_only_a_reason_after_confirming(core: Core,
                                                                       clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    ask = clerk("จ่ายเงินช่วงระบบล่ม")
    assert "ยกเลิกรายการที่ 2 (รับ 200.00 บาท (สองร้อยบาทถ้วน) ค่าน้ำ" in said(ask)
    assert "ด้วยเหตุผล “จ่ายเงินช่วงระบบล่ม” ใช่ไหม" in said(ask)
    assert not voided(core, 2)
    out = clerk.tap(ask, "ไม่ใช่")  # no: answer it instead, and the void still waits
    assert out[0].topic is not None and "ยังรอเหตุผล" in out[-1].text
    assert not voided(core, 2)
    ask = clerk("จ่ายเงินช่วงระบบล่ม")
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk("ใช่"))
    assert voided(core, 2)


def test_expired_step_is_not_completed_and_says_so(core: Core, clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    clerk.now += timedelta(minutes=STEP_MINUTES, seconds=1)
    out = clerk("พิมพ์ยอดผิด")
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in out[0].text and "10 นาที" in out[0].text
    assert not voided(core, 2)


def test_typed_cancel_and_other_buttons_end_the_step_visibly(core: Core, clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in said(clerk("ไม่ยกเลิก"))
    clerk("ยกเลิก 2")
    out = clerk(action="cmd:today")
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in out[0].text and "รายการวันที่" in out[1].text
    assert not voided(core, 2)
    assert "ยกเลิกรายการที่ 2 แล้ว" not in said(clerk("พิมพ์ยอดผิด"))
    assert not voided(core, 2)


def test_a_stale_yes_button_confirms_nothing(core: Core, clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    old = clerk("จ่ายเงินช่วงระบบล่ม")
    clerk("ยกเลิก 3")  # a new step replaces the old one
    out = clerk.tap(old, "ใช่")
    assert "หมดอายุ" in said(out)
    assert not voided(core, 2) and not voided(core, 3)


def test_void_of_a_keyed_entry_warns_and_lists_show_both_marks(core: Core,
                                                               clerk: Chat) -> None:
    clerk("คีย์แล้ว 1")
    ask = clerk("ยกเลิก 1")
    assert "e-LAAS" in said(ask) and "กลับรายการ" in said(ask)
    done = clerk("ลงซ้ำ")
    assert "กลับรายการใน e-LAAS" in said(done)
    line = next(ln for ln in said(clerk("วันนี้")).splitlines() if ln.startswith("1. "))
    assert "ยกเลิก" in line and "คีย์แล้ว" in line


# --------------------------------------------------------------------------- every waiting step


@dataclass(frozen=True)
class Waiting:
    """How to reach one waiting step and how to tell that it was completed."""

    kind: str
    start: Callable[[Core, Chat], list[Reply]]
    done: Callable[[Core], bool]


def _void_typed(core: Core, chat: Chat) -> list[Reply]:
    return chat("ยกเลิก 2")


def _void_button(core: Core, chat: Chat) -> list[Reply]:
    return chat(action=f"void:{CODE}:2")


def _void_asked(core: Core, chat: Chat) -> list[Reply]:
    chat("ยกเลิก 2")
    return chat("จ่ายเงินช่วงระบบล่ม")  # the "…ใช่ไหม" of a proposed reason waits too


def _remove_member(core: Core, chat: Chat) -> list[Reply]:
    core.book.directory.bind("console:u2", CODE, "member", "สมชาย", FIXED_NOW)
    kick = next(c for c in chat("สมาชิก")[0].choices if "console:u2" in c.action)
    return chat(action=kick.action)


OTHER = "07654321"


def _move_lao(core: Core, chat: Chat) -> list[Reply]:
    make_lao_admin(core, "console:u9", OTHER, "อบต.ปลายทาง")
    inv = core.book.directory.invite(OTHER, "member", "cli", FIXED_NOW)
    return chat(f"เข้าร่วม {inv.code}")


def _moved(core: Core) -> bool:
    m = core.book.directory.member("console:u1")
    return m is not None and m.lao_code == OTHER


def _bare_code(core: Core, chat: Chat) -> list[Reply]:
    make_lao_admin(core, "console:u9", OTHER, "อบต.ปลายทาง")
    return chat(core.book.directory.invite(OTHER, "member", "cli", FIXED_NOW).code)


def _ask_name(core: Core, chat: Chat) -> list[Reply]:
    return chat("ชื่อ")


def _renamed(core: Core) -> bool:
    m = core.book.directory.member("console:u1")
    return m is not None and m.name != "สมศรี"


def _duplicate(core: Core, chat: Chat) -> list[Reply]:
    assert "บันทึกแล้ว" in said(chat("รับ 300 ค่าปรับ เลขที่ 9/99"))
    return chat("รับ 300 ค่าปรับ เลขที่ 9/99")


def _with(description: str, amount: str | None = None) -> Callable[[Core], bool]:
    def saved(core: Core) -> bool:
        return any(e.description == description and (amount is None or str(e.amount) == amount)
                   for e in core.book.ledger(CODE).entries())
    return saved


def _ask_description(core: Core, chat: Chat) -> list[Reply]:
    return chat("รับ 700")


def _pick_amount(core: Core, chat: Chat) -> list[Reply]:
    return chat("รับ 1500 250 ค่าปรับ")


def _entry_and_question(core: Core, chat: Chat) -> list[Reply]:
    return chat("จ่ายค่าน้ำ 500 บาท แล้วต้องเก็บใบเสร็จไว้ไหม")


def _announce(core: Core, chat: Chat) -> list[Reply]:
    return chat("/announce คืนนี้ e-LAAS ปิดปรับปรุง")


def _setstatus(core: Core, chat: Chat) -> list[Reply]:
    return chat("/setstatus ปกติ ระบบกลับมาใช้งานได้แล้ว")


def _nothing_sent(core: Core) -> bool:
    return bool(Outbox(core.store).entries())


WAITING = [
    Waiting("ledger.void_reason", _void_typed, lambda c: voided(c, 2)),
    Waiting("ledger.void_reason", _void_button, lambda c: voided(c, 2)),
    Waiting("ledger.void_reason", _void_asked, lambda c: voided(c, 2)),
    Waiting("ledger.remove_member", _remove_member,
            lambda c: c.book.directory.member("console:u2") is None),
    Waiting("ledger.move_lao", _move_lao, _moved),
    Waiting("ledger.join_code", _bare_code, _moved),
    Waiting("ledger.name", _ask_name, _renamed),
    Waiting("ledger.duplicates", _duplicate,
            lambda c: sum(e.doc_no == "9/99" for e in c.book.ledger(CODE).entries()) > 1),
    Waiting("ledger.description", _ask_description,
            lambda c: any(e.amount == 700 for e in c.book.ledger(CODE).entries())),
    Waiting("ledger.pick_amount", _pick_amount, _with("ค่าปรับ")),
    Waiting("ledger.confirm_entry", _entry_and_question, _with("ค่าน้ำ", "500.00")),
    Waiting("notices.draft", _announce, _nothing_sent),
    Waiting("notices.draft", _setstatus, _nothing_sent),
]
LATER = [
    ("a command", "วันนี้", None, timedelta(0)),
    ("a quick entry", "รับ 100 ค่าธรรมเนียม", None, timedelta(0)),
    ("a question", "ระบบกลับมายัง", None, timedelta(0)),
    ("a menu button", None, "cmd:status", timedelta(0)),
    ("the main menu", None, "menu:", timedelta(0)),
    ("free text hours later", "พิมพ์ยอดผิด", None, timedelta(hours=3)),
    ("a yes hours later", "ใช่", None, timedelta(hours=3)),
]


def test_the_walk_covers_every_registered_step_kind() -> None:
    assert {w.kind for w in WAITING} == set(registered_kinds())


@pytest.mark.parametrize("later", LATER, ids=[x[0] for x in LATER])
@pytest.mark.parametrize("waiting", WAITING, ids=[w.start.__name__.strip("_") for w in WAITING])
def test_an_unrelated_later_message_never_completes_a_waiting_step(
    core: Core, waiting: Waiting, later: tuple[str, str | None, str | None, timedelta],
) -> None:
    _, text, action, wait = later
    make_lao_admin(core, "console:u1", CODE)
    make_lao_admin(core, ADMIN, CODE)
    user, channel = ("Uadmin", "line") if waiting.kind == "notices.draft" else ("u1", "console")
    chat = Chat(core, user, channel)
    for line in ("รับ 1,500 ค่าขยะ", "รับ 200 ค่าน้ำ"):
        assert "บันทึกแล้ว" in said(chat(line))
    started = waiting.start(core, chat)
    session = core.store.table("sessions").get(f"{channel}:{user}") or {}
    assert session.get("step", {}).get("kind") == waiting.kind, said(started)
    assert any(c.action.startswith(("step:", "notice:cancel")) for r in started
               for c in r.choices), "every step has a cancel button"
    chat.now += wait
    out = chat(text, action=action)
    assert not waiting.done(core), said(out)
    if text == "ระบบกลับมายัง":  # a question is answered, and the step still waits
        assert out[0].topic is not None and out[-1].text.startswith("(ยังรอ"), said(out)
        session = core.store.table("sessions").get(f"{channel}:{user}") or {}
        assert session.get("step", {}).get("kind") == waiting.kind
        out = chat("วันนี้")
        assert not waiting.done(core), said(out)
    assert "ยังไม่ได้" in said(out)  # and the user is told the step was not done
    assert "step" not in (core.store.table("sessions").get(f"{channel}:{user}") or {})
    # nothing is left waiting: the same text once more is handled as itself
    chat.now += timedelta(seconds=1)
    chat("พิมพ์ยอดผิด")
    assert not waiting.done(core)


def test_an_old_untyped_pending_from_before_the_upgrade_is_dropped(core: Core,
                                                                   clerk: Chat) -> None:
    core.store.table("sessions").put("console:u1", {"pending": {
        "feature": "ledger", "step": "void_reason", "lao": CODE, "no": 2}})
    clerk("พิมพ์ยอดผิด")
    assert not voided(core, 2)


def test_a_confirmed_step_completes(core: Core) -> None:
    make_lao_admin(core, ADMIN, CODE)
    admin = Chat(core, "Uadmin", "line")
    admin("/announce คืนนี้ e-LAAS ปิดปรับปรุง")
    assert "เข้าคิวแล้ว" in said(admin("ยืนยันส่ง"))
    assert len(Outbox(core.store).entries()) == 1


def test_voiding_an_entry_twice_says_so_the_same_way_with_or_without_a_reason(
        core: Core, clerk: Chat) -> None:
    assert "ยกเลิกรายการที่ 1 แล้ว" in said(clerk("ยกเลิก 1 พิมพ์ยอดผิด"))
    assert said(clerk("ยกเลิก 1")) == said(clerk("ยกเลิก 1 ซ้ำ")) == "รายการที่ 1 ยกเลิกไปแล้วค่ะ"


# --------------------------------------------------------------------------- a yes is not a reason


@pytest.mark.parametrize("nod", ["ใช่", "ได้ครับ", "โอเคค่ะ", "ok", "ครับ", "👍", "ยกเลิกเลย",
                                 "ตกลงค่ะ"])
def test_a_bare_yes_while_the_void_waits_for_a_reason_asks_for_the_reason_again(
        core: Core, clerk: Chat, nod: str) -> None:
    clerk("ยกเลิก 2")
    out = clerk(nod)
    assert not voided(core, 2), said(out)
    assert "เหตุผล" in said(out) and "ไม่ยกเลิก" in [c.label for r in out for c in r.choices]
    assert "ยกเลิกรายการที่ 2 แล้ว" in said(clerk("จดซ้ำ"))  # still waiting for it
    e = core.book.ledger(CODE).get(2)
    assert e is not None and e.void is not None and e.void.reason == "จดซ้ำ"


@pytest.mark.parametrize("no", ["ไม่ครับ", "ไม่เอา", "ไม่เป็นไรค่ะ", "ไม่ใช่นะ", "ยกเลิกค่ะ",
                                "ไม่เอาแล้วครับ"])
def test_a_bare_no_while_the_void_waits_ends_it_undone(core: Core, clerk: Chat, no: str) -> None:
    clerk("ยกเลิก 2")
    assert "ยังไม่ได้ยกเลิกรายการที่ 2" in said(clerk(no))
    clerk("จดซ้ำ")
    assert not voided(core, 2)


@pytest.mark.parametrize("yes", ["ได้ครับ", "ยืนยันค่ะ", "ใช่ครับผม", "ตกลงจ้า"])
def test_a_polite_yes_confirms_a_step_that_waits_for_a_confirmation(core: Core,
                                                                    yes: str) -> None:
    make_lao_admin(core, ADMIN, CODE)
    admin = Chat(core, "Uadmin", "line")
    admin("/announce คืนนี้ e-LAAS ปิดปรับปรุง")
    assert "เข้าคิวแล้ว" in said(admin(yes))
    assert len(Outbox(core.store).entries()) == 1


@pytest.mark.parametrize("no", ["ไม่ครับ", "ไม่เอาค่ะ", "ยกเลิกเลย"])
def test_a_polite_no_never_confirms_a_notice(core: Core, no: str) -> None:
    make_lao_admin(core, ADMIN, CODE)
    admin = Chat(core, "Uadmin", "line")
    admin("/announce คืนนี้ e-LAAS ปิดปรับปรุง")
    assert "ยังไม่ได้" in said(admin(no))
    assert not Outbox(core.store).entries()


def test_a_late_dont_void_after_the_step_ended_is_only_acknowledged(core: Core,
                                                                    clerk: Chat) -> None:
    clerk("ยกเลิก 2")
    clerk("วันนี้")  # ends the step
    out = clerk("ไม่ยกเลิก")
    assert out[0].text.startswith("ได้ค่ะ") and out[0].file is None and not voided(core, 2)
