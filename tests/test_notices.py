"""Subscriptions, admin-only posting with a preview, province scope, restoration notices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.core.contract import Incoming, Reply, UserKey
from bot.core.engine import Engine
from bot.ledger.book import Directory, Ledger
from bot.ledger.entries import Lao, ParsedEntry
from bot.notices.board import NoticesFeature, Publisher, build_audience, store_pending_count
from bot.notices.operators import Operators
from bot.notices.outbox import Outbox, Subscriptions, normalize_province
from bot.notices.signals import snapshot
from handlers.app import Core
from handlers.web.status_page import status_json
from tests.conftest import FIXED_NOW, STORE_KINDS, core_on

core = pytest.fixture(params=STORE_KINDS[1:])(core_on)  # on TinyDB and on PostgreSQL

ADMIN_LINE = "line:Uadmin"
ADMIN_TG = "telegram:4242"


@pytest.fixture
def feature(core: Core) -> NoticesFeature:
    return NoticesFeature(core.store, core.status, {ADMIN_LINE, ADMIN_TG},
                          status_url="https://bot.example/status")


@pytest.fixture
def engine(core: Core, feature: NoticesFeature) -> Engine:
    eng = Engine(core.kb, core.engine.pipeline, core.store, core.status, [feature],
                 clock=lambda: FIXED_NOW)
    return eng


class Chat:
    """Talk to the engine as one channel user."""

    def __init__(self, engine: Engine, channel: str, user: str, *, group: bool = False):
        self.engine, self.channel, self.user, self.group = engine, channel, user, group
        self.n = 0

    def __call__(self, text: str | None = None, *, action: str | None = None,
                 kind: str = "message") -> list[Reply]:
        self.n += 1
        return self.engine.reply_to(Incoming(
            self.channel, self.user, self.user, text=text, action=action,
            event_id=f"{self.user}-{self.n}", kind=kind, is_group=self.group))


def actions(replies: list[Reply]) -> list[str]:
    return [c.action for r in replies for c in r.choices]


def text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


# --------------------------------------------------------------------------- subscribing


def test_subscribe_twice_is_harmless_and_unsubscribe_is_immediate(engine: Engine,
                                                                   core: Core) -> None:
    u = Chat(engine, "line", "U1")
    subs = Subscriptions(core.store)
    first = u("รับแจ้งเตือน")
    assert "รับแจ้งเตือนแล้ว" in text(first)
    assert "cmd:unsubscribe" in actions(first)
    again = u("/subscribe")
    assert "อยู่แล้ว" in text(again)
    assert [s.key for s in subs.receiving()] == ["line:U1"]
    assert len(subs.all()) == 1
    gone = u("เลิกรับแจ้งเตือน")
    assert "เลิกรับแจ้งเตือนแล้ว" in text(gone)
    assert subs.receiving() == []
    assert "ไม่ได้รับแจ้งเตือน" in text(u("/unsubscribe"))


def test_button_after_status_answer_subscribes(engine: Engine, core: Core) -> None:
    u = Chat(engine, "telegram", "777")
    answer = u("สถานะ")
    assert "cmd:subscribe" in actions(answer)
    out = u(action="cmd:subscribe")
    assert "รับแจ้งเตือนแล้ว" in text(out)
    assert Subscriptions(core.store).get("telegram:777") is not None


@pytest.mark.parametrize("typed", ["รับแจ้งเตือน จังหวัดลำพูน", "/subscribe ลำพูน",
                                   "รับแจ้งเตือน จ.ลำพูน"])
def test_subscribe_with_province(engine: Engine, core: Core, typed: str) -> None:
    out = Chat(engine, "line", "Ulp")(typed)
    assert "จังหวัดลำพูน" in text(out)
    sub = Subscriptions(core.store).get("line:Ulp")
    assert sub is not None and sub.province == "ลำพูน"


def test_unknown_province_is_refused(engine: Engine, core: Core) -> None:
    out = Chat(engine, "line", "Ux")("รับแจ้งเตือน จังหวัดลำพูร")
    assert "ไม่รู้จักจังหวัด" in text(out)
    assert Subscriptions(core.store).get("line:Ux") is None


def test_province_names_fold() -> None:
    assert normalize_province("จังหวัดลำพูน") == "ลำพูน"
    assert normalize_province("กทม.") == "กรุงเทพมหานคร"
    assert normalize_province("อยุธยา") == "พระนครศรีอยุธยา"
    assert normalize_province("ลอนดอน") is None


def test_the_console_cannot_subscribe(engine: Engine, core: Core) -> None:
    assert "LINE หรือ Telegram" in text(Chat(engine, "console", "c1")("รับแจ้งเตือน"))
    assert Subscriptions(core.store).all() == []


def test_asking_in_a_group_subscribes_the_askers_private_chat(engine: Engine, core: Core) -> None:
    # QA r3: "รับแจ้งเตือน" in a group subscribed nobody while the group was told the answer
    # went to the private chat. The asker's own 1:1 chat is subscribed, never the group.
    out = Chat(engine, "line", "Ug", group=True)("รับแจ้งเตือน")
    assert "รับแจ้งเตือนแล้ว" in text(out) and "แชตส่วนตัว" in text(out)
    assert all(r.private for r in out)
    assert Subscriptions(core.store).get("line:Ug") is not None
    assert len(Subscriptions(core.store).all()) == 1
    again = Chat(engine, "line", "Ug", group=True)("รับแจ้งเตือน")
    assert "อยู่แล้ว" in text(again) and all(r.private for r in again)


def test_replies_spell_chat_as_the_royal_institute_does(engine: Engine, core: Core) -> None:
    # QA r3: the subscribe replies said "แชทนี้"/"แชทส่วนตัว", every other reply "แชต".
    private = text(Chat(engine, "telegram", "31")("รับแจ้งเตือน"))
    group = text(Chat(engine, "line", "Ug", group=True)("รับแจ้งเตือน"))
    anonymous = text(core.engine.reply_to(Incoming("line", "", "Cgroup", action="field:up",
                                                   event_id="anon-1", is_group=True)))
    assert "แชตนี้" in private and "แชตส่วนตัว" in group and "แชตส่วนตัว" in anonymous
    assert "แชท" not in private + group + anonymous


def test_no_reply_text_in_the_source_spells_chat_with_tho_thahan() -> None:
    """Every Thai literal of bot/ and handlers/ says แชต; only the words recognised in what
    users type (bot/qa/offtopic.py) keep แชท, as users write both."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = []
    for path in [*(root / "bot").rglob("*.py"), *(root / "handlers").rglob("*.py")]:
        if path.name == "offtopic.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "แชท" in node.value:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []


def test_follow_offers_subscription_and_unfollow_marks_unreachable(engine: Engine,
                                                                   core: Core) -> None:
    u = Chat(engine, "line", "Ufollow")
    out = u(kind="follow")
    assert len(out) == 2  # the welcome, then the offer
    assert "cmd:subscribe" in actions(out[1:])
    u(action="cmd:subscribe")
    u(kind="unfollow")
    sub = Subscriptions(core.store).get("line:Ufollow")
    assert sub is not None and not sub.active and not sub.reachable
    assert Subscriptions(core.store).receiving() == []


# --------------------------------------------------------------------------- admin posting


@pytest.mark.parametrize("typed", ["/announce ระบบปิดปรับปรุงคืนนี้", "ประกาศ ระบบปิดปรับปรุงคืนนี้",
                                   "/setstatus ปกติ กลับมาแล้ว", "ตั้งสถานะ ขัดข้อง ล่มอีกแล้ว"])
def test_non_admin_is_refused_and_nothing_is_queued(engine: Engine, core: Core,
                                                    typed: str) -> None:
    before = core.status.timeline()
    out = Chat(engine, "line", "Ustranger")(typed)
    assert "เฉพาะผู้ดูแลระบบ" in text(out)
    assert not any(a.startswith("notice:") for a in actions(out))
    assert Outbox(core.store).entries() == []
    assert core.status.timeline() == before


def test_provincial_operator_is_pointed_to_the_console(engine: Engine, core: Core) -> None:
    # qa11 item 14: "admins only" and no word of the console, where they can send it.
    Operators(core.store).add("line:Uprov", ["ลำพูน"], by="t", now=FIXED_NOW)
    out = Chat(engine, "line", "Uprov")("/announce ขอให้ส่งรายงานภายในวันศุกร์")
    assert "/console" in text(out) and "จังหวัดลำพูน" in text(out)
    assert Outbox(core.store).entries() == []


def test_admin_announce_previews_then_confirm_queues_once(engine: Engine, core: Core) -> None:
    Chat(engine, "line", "Usub")("รับแจ้งเตือน")
    admin = Chat(engine, "line", "Uadmin")
    preview = admin("ประกาศ คืนนี้ 20:00 น.\ne-LAAS ปิดปรับปรุง 2 ชั่วโมง")
    body = text(preview)
    assert "ตัวอย่างข้อความ" in body and "ปิดปรับปรุง 2 ชั่วโมง" in body
    assert "20:00 น.\ne-LAAS" in body  # the admin's line breaks survive
    assert "1 ราย" in body
    confirm = next(a for a in actions(preview) if a.startswith("notice:confirm:"))
    assert Outbox(core.store).entries() == []  # nothing before the confirm
    done = admin(action=confirm)
    assert "เข้าคิวแล้ว" in text(done)
    queued = Outbox(core.store).entries()
    assert len(queued) == 1
    notice, delivery = queued[0]
    assert notice.kind == "announce" and notice.by == ADMIN_LINE
    assert "ปิดปรับปรุง 2 ชั่วโมง" in notice.text and delivery.status == "pending"
    assert "หมดอายุ" in text(admin(action=confirm))  # a second press sends nothing more
    assert len(Outbox(core.store).entries()) == 1


def test_admin_cancel_sends_nothing(engine: Engine, core: Core) -> None:
    admin = Chat(engine, "telegram", "4242")
    preview = admin("/announce ทดสอบ")
    cancel = next(a for a in actions(preview) if a.startswith("notice:cancel:"))
    assert "ไม่ได้ส่ง" in text(admin(action=cancel))
    assert Outbox(core.store).entries() == []


def test_typed_confirmation_and_province_scope(engine: Engine, core: Core) -> None:
    admin = Chat(engine, "line", "Uadmin")
    preview = admin("ประกาศ จังหวัดลำพูน ขอให้ส่งรายงานเงินคงเหลือภายในวันศุกร์")
    assert "เฉพาะจังหวัดลำพูน" in text(preview)
    admin("ยืนยัน")
    (notice, _), = Outbox(core.store).entries()
    assert notice.province == "ลำพูน"
    assert notice.text.startswith("ประกาศจากผู้ดูแลระบบ (เฉพาะจังหวัดลำพูน)")


def test_announcements_are_dated_like_status_notices(engine: Engine, core: Core) -> None:
    # qa11 item 8: announcements came with no date while status notices had one.
    admin = Chat(engine, "line", "Uadmin")
    preview = admin("ประกาศ ขอให้ทุก อปท. เก็บเอกสารไว้")
    assert "ประกาศเมื่อ 15 ก.ค. 2567 10:30 น." in text(preview)
    admin("ยืนยัน")
    pub = Publisher(core.store, core.status)
    pub.announce(text="เฉพาะลำพูน", key="a1", now=FIXED_NOW, province="ลำพูน")
    pub.set_status(state="down", message="ล่ม", key="s1", now=FIXED_NOW)
    dated = [n.text.splitlines() for n, _ in Outbox(core.store).entries()]
    assert len(dated) == 3
    for lines in dated:
        assert "ประกาศเมื่อ 15 ก.ค. 2567 10:30 น." in lines


def test_other_text_drops_the_draft(engine: Engine, core: Core) -> None:
    admin = Chat(engine, "line", "Uadmin")
    preview = admin("ประกาศ ทดสอบ")
    confirm = next(a for a in actions(preview) if a.startswith("notice:confirm:"))
    admin("สวัสดี")
    assert "หมดอายุ" in text(admin(action=confirm))
    assert Outbox(core.store).entries() == []


def test_draft_expires(engine: Engine, core: Core) -> None:
    admin = Chat(engine, "line", "Uadmin")
    preview = admin("ประกาศ ทดสอบ")
    confirm = next(a for a in actions(preview) if a.startswith("notice:confirm:"))
    engine.clock = lambda: FIXED_NOW + timedelta(minutes=31)
    assert "หมดอายุ" in text(admin(action=confirm))
    assert Outbox(core.store).entries() == []


def test_setstatus_to_normal_makes_a_restoration_notice(engine: Engine, core: Core) -> None:
    admin = Chat(engine, "line", "Uadmin")
    assert "สถานะที่ใช้ได้" in text(admin("ตั้งสถานะ งง"))
    preview = admin("ตั้งสถานะ ปกติ ระบบกลับมาใช้งานได้แล้ว")
    body = text(preview)
    assert "ใช้งานได้ปกติ" in body and "คีย์ข้อมูลย้อนหลัง" in body
    assert core.status.current() is not None and core.status.current().state == "down"
    admin(action=next(a for a in actions(preview) if a.startswith("notice:confirm:")))
    view = core.status.current()
    assert view is not None and view.state == "normal" and view.latest.by == ADMIN_LINE
    (notice, _), = Outbox(core.store).entries()
    assert notice.kind == "restored" and notice.status_seq == view.latest.seq
    assert "ใบผ่านทั่วไป" in notice.text and "ส่งออก" not in notice.text.split("ขั้นต่อไป")[0]


def test_setstatus_in_chat_takes_a_reference_and_an_expected_date(engine: Engine,
                                                                  core: Core) -> None:
    # qa11 item 9: the CLI and the console take --ref/--expected, chat had no way to.
    admin = Chat(engine, "line", "Uadmin")
    assert "อ้างอิง:" in text(admin("ตั้งสถานะ")) and "คาดว่า:" in text(admin("ตั้งสถานะ"))
    ref = "หนังสือ สถ. ที่ มท 0808.4/ว 9999 ลงวันที่ 1 ธ.ค. 2569"
    preview = admin(f"ตั้งสถานะ ขัดข้อง\ne-LAAS ขัดข้องอีกครั้ง\nอ้างอิง: {ref}\n"
                    "คาดว่า : 15 ธ.ค. 2569")
    body = text(preview)
    assert f"อ้างอิง: {ref}" in body and "คาดว่าจะกลับมา: 15 ธ.ค. 2569" in body
    admin("ยืนยัน")
    view = core.status.current()
    assert view is not None and view.state == "down"
    assert view.latest.message == "e-LAAS ขัดข้องอีกครั้ง"
    assert view.ref == ref and view.expected == "15 ธ.ค. 2569"
    (notice, _), = Outbox(core.store).entries()
    assert f"อ้างอิง: {ref}" in notice.text


def test_setstatus_fields_alone_are_no_message(engine: Engine, core: Core) -> None:
    admin = Chat(engine, "line", "Uadmin")
    out = text(admin("ตั้งสถานะ ขัดข้อง\nอ้างอิง: หนังสือ"))
    assert "ขอข้อความ" in out and Outbox(core.store).entries() == []


def test_a_new_letter_keeps_its_own_dates_and_words_in_the_status_answer(engine: Engine,
                                                                         core: Core) -> None:
    # QA r3 (defect_status_since.sh): a new letter while the seed's outage (down since
    # 7 Jul 2567) was the state: the answer said ว 9999 declared an outage "since 7 Jul 2567",
    # and dropped the admin's words and the expected date.
    admin = Chat(engine, "telegram", "4242")
    preview = admin("/setstatus ขัดข้อง e-LAAS ขัดข้องอีกครั้ง ใช้แนวทางทำมือ\n"
                    "อ้างอิง: หนังสือ สถ. ที่ มท 0808.4/ว 9999 ลงวันที่ 1 ธ.ค. 2569\n"
                    "คาดว่า: 15 ธ.ค. 2569")
    admin(action=next(a for a in actions(preview) if a.startswith("notice:confirm:")))
    for asked in ("ระบบกลับมายัง", "/status"):
        answer = text(Chat(engine, "telegram", "3002")(asked))
        first = answer.splitlines()[0]
        assert "ว 9999" in first and "ตั้งแต่" not in first, first
        assert "7 ก.ค. 2567" not in answer and "ว 2963" not in answer
        assert "e-LAAS ขัดข้องอีกครั้ง ใช้แนวทางทำมือ" in answer
        assert "กำหนดที่ประกาศ: 15 ธ.ค. 2569" in answer
    snap = snapshot(core.status, core.store, FIXED_NOW)
    doc = status_json(core.status.current(), core.status.timeline(), "https://b", snap)
    assert doc["since"] is None and doc["current"]["since"] is None
    assert doc["current"]["expected"] == "15 ธ.ค. 2569"
    assert "ขัดข้องอีกครั้ง" in doc["official_th"] and "15 ธ.ค. 2569" in doc["official_th"]
    # a later word on the same letter keeps the letter's account (no start date it never gave)
    Publisher(core.store, core.status).set_status(
        state="down", message="พบสาเหตุแล้ว", key="k2", now=FIXED_NOW + timedelta(hours=1),
        phase="identified")
    view = core.status.current()
    assert view is not None and view.since is None


# --------------------------------------------------------------------------- audience


def _ledger_with_entries(core: Core, code: str, n: int, keyed: int) -> None:
    led = Ledger(core.store, code)
    items = [(ParsedEntry("receipt", Decimal(100 + i), f"ค่าขยะ {i}", date(2024, 7, 10)),
              f"{code}-ev{i}") for i in range(n)]
    saved = led.add_many(items, author="line:Um", author_name="สมศรี", channel="line",
                         now=FIXED_NOW)
    led.mark_keyed([e.no for e, _ in saved[:keyed]], by="line:Um", now=FIXED_NOW)


def test_restoration_notice_carries_each_lao_pending_count(core: Core) -> None:
    directory = Directory(core.store)
    directory.add_lao(Lao("01234567", "อบต.ทดลองหนึ่ง", "ลำพูน"))
    directory.add_lao(Lao("07654321", "เทศบาลตำบลสอง", "เชียงใหม่"))
    directory.bind("line:Ua", "01234567", "member", "ก", FIXED_NOW)
    directory.bind("telegram:11", "01234567", "admin", "ข", FIXED_NOW)
    directory.bind("line:Ub", "07654321", "member", "ค", FIXED_NOW)
    _ledger_with_entries(core, "01234567", 5, keyed=2)  # 3 still to key back
    subs = Subscriptions(core.store)
    for who in ("line:Ua", "telegram:11", "line:Ub", "line:Uguest"):
        subs.subscribe(UserKey.parse(who), FIXED_NOW)
    pub = Publisher(core.store, core.status)
    _, notice = pub.set_status(state="normal", message="กลับมาแล้ว", key="k1", now=FIXED_NOW)
    assert notice is not None and notice.kind == "restored"
    aud = build_audience(notice, subs.receiving(), directory, store_pending_count(core.store))
    variant = {r.key: r.variant for r in aud.recipients}
    assert variant == {"line:Ua": "lao:01234567", "telegram:11": "lao:01234567",
                       "line:Ub": "lao:07654321", "line:Uguest": "guest"}
    one = aud.variants["lao:01234567"]
    assert "อบต.ทดลองหนึ่ง" in one.text and "3 รายการ" in one.text
    assert "cmd:export" in [c.action for c in one.choices]
    assert "ไม่มีรายการค้างคีย์" in aud.variants["lao:07654321"].text
    guest = aud.variants["guest"]
    assert "รายการ" not in guest.text.split("ขั้นต่อไป")[0] and "ใบผ่านทั่วไป" in guest.text
    assert "cmd:export" not in [c.action for c in guest.choices]


def test_province_scope_reaches_province_subscribers_and_lao_members(core: Core) -> None:
    directory = Directory(core.store)
    directory.add_lao(Lao("01234567", "อบต.ทดลองหนึ่ง", "จังหวัดลำพูน"))
    directory.bind("line:Umember", "01234567", "member", "ก", FIXED_NOW)
    subs = Subscriptions(core.store)
    subs.subscribe(UserKey("line", "Umember"), FIXED_NOW)
    subs.subscribe(UserKey("line", "Uprov"), FIXED_NOW, "ลำพูน")
    subs.subscribe(UserKey("line", "Uother"), FIXED_NOW, "เชียงใหม่")
    subs.subscribe(UserKey("telegram", "9"), FIXED_NOW)
    pub = Publisher(core.store, core.status)
    scoped = pub.announce(text="เฉพาะลำพูน", key="a1", now=FIXED_NOW, province="ลำพูน")
    aud = build_audience(scoped, subs.receiving(), directory, lambda c: 0)
    assert sorted(r.key for r in aud.recipients) == ["line:Umember", "line:Uprov"]
    everyone = pub.announce(text="ทุกคน", key="a2", now=FIXED_NOW)
    aud = build_audience(everyone, subs.receiving(), directory, lambda c: 0)
    assert len(aud.recipients) == 4
    assert pub.audience_size("ลำพูน") == {"line": 2}


def test_publisher_is_idempotent_by_key(core: Core) -> None:
    pub = Publisher(core.store, core.status)
    n = len(core.status.timeline())
    a = pub.set_status(state="partial", message="บางเมนูใช้ได้", key="req-1", now=FIXED_NOW)
    b = pub.set_status(state="partial", message="บางเมนูใช้ได้", key="req-1", now=FIXED_NOW)
    assert a == b
    assert len(core.status.timeline()) == n + 1
    assert len(Outbox(core.store).entries()) == 1
