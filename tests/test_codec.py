"""Stored documents in the shape older versions wrote still load, and are written the same."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.core.codec import DocumentError, decode, encode, format_path, parse_path
from bot.core.steps import step_doc, step_from_doc
from bot.core.store import MemoryStore, Store, StoreError, TinyStore
from bot.ledger.book import INVITES, LAOS, MEMBERS, Directory, Ledger, Member
from bot.ledger.chat import VoidReason
from bot.ledger.entries import Entry, Lao, Void
from bot.ledger.summary import LaoSummary, Summaries
from bot.notices.outbox import OUTBOX, SUBSCRIBERS, Delivery, Notice, Outbox, Subscriptions
from bot.notices.signals import ALERT_TABLE, FIELD_TABLE, Episode, FieldReports, ProbeResult
from bot.notices.status import TABLE, StatusBoard, update_doc, update_from_doc

BKK = timezone(timedelta(hours=7))

# Documents exactly as the to_doc methods of the version before the codec wrote them.
ENTRY_DOC: dict[str, Any] = {
    "lao_code": "05510101", "no": 12, "kind": "receipt", "amount": "2500.50",
    "description": "ค่าธรรมเนียม", "date": "2024-07-09", "doc_no": "12/345", "method": "cash",
    "author": "line:U1", "author_name": "สมศรี", "recorded_at": "2024-07-10T09:30:05.123456+07:00",
    "event_id": "ev-1", "channel": "line",
    "void": {"by": "line:U2", "at": "2024-07-11T10:00:00+07:00", "reason": "ยอดผิด"},
    "keyed_at": "2024-07-12T08:00:00+07:00", "keyed_by": "line:U3",
}  # fmt: skip
# Fields added since, as a re-encoded old document carries them (readers ignore unknown keys).
LATER: dict[Any, dict[str, Any]] = {Entry: {"sent_on": None}}
LATER_VOID = {"by_name": ""}  # an entry's void: the voider's name, kept since


def _later(doc: dict[str, Any], type_: Any) -> dict[str, Any]:
    """``doc`` as it reads back re-encoded: with the fields added since (LATER, LATER_VOID)."""
    out = {**doc, **LATER.get(type_, {})}
    if type_ is Entry and out.get("void") is not None:
        out["void"] = {**out["void"], **LATER_VOID}
    return out
SUMMARY_DOC: dict[str, Any] = {
    "code": "05510101", "name": "อบต.ตัวอย่าง", "province": "ลำพูน", "members": 3, "logged": 5,
    "voided": 1, "keyed": 2, "last": "2024-07-12T08:00:00+07:00",
    "days": {"2024-07-10": [4, 0], "2024-07-12": [1, 2]},
}  # fmt: skip
PROBE_DOC = {"at": "2024-07-10T09:00:00+07:00", "outcome": "server_error", "http_status": 502,
             "latency_ms": 812, "detail": "Bad Gateway"}
STATUS_DOC = {"seq": 1, "at": "2024-07-10T00:00:00+07:00", "state": "down",
              "message": "เครื่องแม่ข่ายขัดข้อง", "phase": "update", "expected": "", "ref": "ว 2963",
              "by": "seed", "time_known": False, "began": "2024-07-07"}
SUBSCRIBER_DOC = {"channel": "line", "user_id": "U1", "province": "ลำพูน", "active": True,
                  "reachable": False, "since": "2024-07-10T09:00:00+07:00",
                  "updated": "2024-07-11T09:00:00+07:00", "reason": "unfollow"}
NOTICE_DOC = {"id": "n1", "kind": "status", "text": "e-LAAS กลับมาแล้ว",
              "created_at": "2024-07-10T09:00:00+07:00", "by": "cli", "province": "",
              "status_seq": 2, "state": "normal", "to": ["line:U1"]}
DELIVERY_DOC = {"status": "done", "total": 3, "delivered": 2, "unreachable": 1, "failed": 0,
                "uncertain": 0, "skipped": 0, "started_at": "2024-07-10T09:00:01+07:00",
                "finished_at": "2024-07-10T09:00:02+07:00"}


@pytest.mark.parametrize(("doc", "type_"), [
    (ENTRY_DOC, Entry), ({**ENTRY_DOC, "void": None, "keyed_at": None, "keyed_by": None,
                          "doc_no": None, "method": None}, Entry),
    (SUMMARY_DOC, LaoSummary), (PROBE_DOC, ProbeResult), (SUBSCRIBER_DOC, None),
    (NOTICE_DOC, Notice), (DELIVERY_DOC, Delivery),
])  # fmt: skip
def test_old_documents_round_trip_exactly(doc: dict[str, Any], type_: Any) -> None:
    if type_ is None:  # subscribers go through their table (older ones lack fields)
        store = MemoryStore()
        store.table(SUBSCRIBERS).put("line:U1", doc)
        assert encode(Subscriptions(store).get("line:U1")) == doc
        return
    value = decode(doc, type_)
    assert encode(value) == _later(doc, type_)
    assert json.loads(json.dumps(encode(value))) == encode(value)  # JSON-safe, no Decimal left


def test_entry_values_are_typed_and_exact() -> None:
    e = decode(ENTRY_DOC, Entry)
    assert e.amount == Decimal("2500.50") and isinstance(e.amount, Decimal)
    assert e.date == date(2024, 7, 9)
    assert e.recorded_at == datetime(2024, 7, 10, 9, 30, 5, 123456, tzinfo=BKK)
    assert e.void == Void("line:U2", datetime(2024, 7, 11, 10, tzinfo=BKK), "ยอดผิด")
    # an amount given without cents is stored with two, as before
    whole = Entry(lao_code="1", no=1, kind="payment", amount=Decimal("1500"), description="x",
                  date=date(2024, 7, 1), author="a", recorded_at=datetime(2024, 7, 1, tzinfo=BKK))
    assert encode(whole)["amount"] == "1500.00"
    big = decode({**ENTRY_DOC, "amount": "999999999.99"}, Entry)
    assert encode(big)["amount"] == "999999999.99"


def test_documents_missing_later_fields_take_defaults() -> None:
    oldest = {k: v for k, v in ENTRY_DOC.items()
              if k not in ("author_name", "event_id", "channel", "void", "keyed_at", "keyed_by",
                           "doc_no", "method")}
    e = decode(oldest, Entry)
    assert (e.author_name, e.event_id, e.channel, e.void, e.keyed_at) == ("", "", "", None, None)
    assert e.sent_on is None and decode({**ENTRY_DOC, "sent_on": "2024-07-09"},
                                        Entry).sent_on == date(2024, 7, 9)
    assert decode({"code": "1"}, LaoSummary) == LaoSummary("1")
    store = MemoryStore()
    store.table(SUBSCRIBERS).put("telegram:5", {"channel": "telegram", "user_id": "5",
                                                "since": "2024-07-10T09:00:00+07:00"})
    sub = Subscriptions(store).get("telegram:5")
    assert sub is not None and sub.active and sub.reachable and sub.updated == sub.since


def test_status_documents_old_and_new(tmp_path: Path) -> None:
    assert update_doc(update_from_doc(STATUS_DOC)) == STATUS_DOC
    no_began = {**STATUS_DOC, "began": "", "time_known": True}
    assert update_from_doc(no_began).began is None
    assert update_doc(update_from_doc(no_began)) == no_began
    store = MemoryStore()  # a timeline written by the older version, with an idempotency key
    store.table(TABLE).put("000001", {**STATUS_DOC, "key": "req-1"})
    board = StatusBoard(store)
    assert board.find("req-1") == update_from_doc(STATUS_DOC)
    posted = board.post(state="normal", message="กลับมาแล้ว", key="req-2",
                        at=datetime(2024, 7, 20, 8, tzinfo=BKK))
    doc = store.table(TABLE).get("000002")
    assert doc is not None and doc["key"] == "req-2" and doc["began"] == ""
    assert board.timeline()[-1] == posted


def test_signal_documents(tmp_path: Path) -> None:
    store = MemoryStore()
    now = datetime(2024, 7, 10, 9, tzinfo=BKK)
    store.table(FIELD_TABLE).put("line:U1", {"up": True, "at": now.isoformat(),
                                             "province": "ลำพูน"})
    reports = FieldReports(store)
    assert not reports.vote("line:U1", True, "ลำพูน", now + timedelta(minutes=5))
    assert reports.vote("line:U2", False, "", now)
    assert store.table(FIELD_TABLE).get("line:U2") == {
        "up": False, "at": now.isoformat(), "province": "ไม่ระบุจังหวัด"}
    ep = {"kind": "probe_down", "seq": 3, "since": now.isoformat(), "alerted": True,
          "notice": "alert-3"}
    assert encode(decode(ep, Episode)) == ep
    store.table(ALERT_TABLE).put("episode", ep)


def test_steps_in_sessions_round_trip() -> None:
    now = datetime(2024, 7, 10, 2, tzinfo=UTC)
    step = VoidReason.start(now, lao="05510101", no=2)
    doc = step_doc(step)
    assert doc["kind"] == "ledger.void_reason" and doc["created_at"].startswith("2024-07-10T02")
    assert step_from_doc(json.loads(json.dumps(doc))) == step
    # a session written before the codec (isoformat with +00:00) still reads back
    old = {"kind": "ledger.void_reason", "created_at": "2024-07-10T02:00:00+00:00",
           "expires_at": "2024-07-10T02:10:00+00:00", "token": "ab12cd34", "proposed": "",
           "lao": "05510101", "no": 2}
    assert step_from_doc(old) == VoidReason(created_at=now, expires_at=now + timedelta(minutes=10),
                                            token="ab12cd34", lao="05510101", no=2)
    assert step_from_doc({**old, "no": "two"}) is None  # damaged: the step is dropped
    assert step_from_doc({**old, "kind": "gone"}) is None


def test_bad_document_names_table_key_and_field(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    code = "05510101"
    store.table(f"lao/{code}/ledger").put("0000001", {**ENTRY_DOC, "no": 1, "amount": "a lot"})
    with pytest.raises(DocumentError) as info:
        Ledger(store, code).entries()
    message = str(info.value)
    assert message.startswith(f"lao/{code}/ledger/0000001: amount: ")
    assert isinstance(info.value, StoreError)  # the CLI and webhooks already handle these
    store.table("summary/s00").put("x", {"code": "x", "days": {"2024-07-10": [1]}})
    with pytest.raises(DocumentError,
                       match=r"summary/s00/x: days\[\.\.\.\]: Expected `array` of length 2"):
        Summaries(store)
    store.close()


def test_paths() -> None:
    assert format_path(("columns", 1, "align")) == "columns[1].align"
    assert format_path(("days", "...")) == "days[...]"
    assert parse_path("$.columns[1].align") == ("columns", 1, "align")
    assert parse_path("$.days[...]") == ("days", "...")
    assert parse_path("$") == ()


def test_directory_documents_keep_their_shape() -> None:
    store = MemoryStore()
    directory = Directory(store)
    now = datetime(2024, 7, 10, 9, tzinfo=BKK)
    directory.add_lao(Lao("05510101", " อบต.ตัวอย่าง ", "ลำพูน"))
    assert store.table(LAOS).get("05510101") == {"code": "05510101", "name": "อบต.ตัวอย่าง",
                                                 "province": "ลำพูน"}
    inv = directory.invite("05510101", "admin", "cli", now, code="ABCD2345")
    assert store.table(INVITES).get("ABCD2345") == {
        "lao_code": "05510101", "role": "admin", "expires_at": inv.expires_at.isoformat(),
        "created_by": "cli"}
    member = directory.redeem("ABCD2345", "line:U1", "สมศรี", now)
    assert store.table(MEMBERS).get("line:U1") == {
        "lao_code": "05510101", "role": "admin", "name": "สมศรี", "joined_at": now.isoformat(),
        "joined_code": "ABCD2345"}  # the code used: typing it again says "already a member"
    assert directory.member("line:U1") == member
    # an older member document without a name, an older invite without its author
    store.table(MEMBERS).put("line:U2", {"lao_code": "05510101", "role": "member",
                                         "joined_at": now.isoformat()})
    assert directory.member("line:U2") == Member("line:U2", "05510101", "member", "", now)
    store.table(INVITES).put("WXYZ6789", {"lao_code": "05510101", "role": "member",
                                          "expires_at": (now + timedelta(days=1)).isoformat()})
    assert [i.code for i in directory.invites("05510101", now)] == ["WXYZ6789"]


def test_rows_in_the_older_shape_load_from_every_store(any_store: Store) -> None:
    """What the version before the codec wrote (TinyDB files, PostgreSQL JSONB) still loads."""
    code = ENTRY_DOC["lao_code"]
    any_store.table(f"lao/{code}/ledger").put("0000012", ENTRY_DOC)
    any_store.table(LAOS).put(code, {"code": code, "name": "อบต.ตัวอย่าง", "province": "ลำพูน"})
    any_store.table(MEMBERS).put("line:U1", {"lao_code": code, "role": "admin", "name": "สมศรี",
                                             "joined_at": "2024-07-10T09:00:00+07:00"})
    any_store.table(TABLE).put("000001", {**STATUS_DOC, "key": "seed-1"})
    any_store.table(SUBSCRIBERS).put("line:U1", SUBSCRIBER_DOC)
    any_store.table(OUTBOX).put("n1", {**NOTICE_DOC, "delivery": DELIVERY_DOC})
    (entry,) = Ledger(any_store, code).entries()
    assert encode(entry) == _later(ENTRY_DOC, Entry)
    assert Directory(any_store).member("line:U1") == Member(
        "line:U1", code, "admin", "สมศรี", datetime(2024, 7, 10, 9, tzinfo=BKK))
    assert update_doc(StatusBoard(any_store).timeline()[0], "seed-1") == {**STATUS_DOC,
                                                                         "key": "seed-1"}
    sub = Subscriptions(any_store).get("line:U1")
    assert sub is not None and encode(sub) == SUBSCRIBER_DOC
    ((notice, delivery),) = Outbox(any_store).entries()
    assert (encode(notice), encode(delivery)) == (NOTICE_DOC, DELIVERY_DOC)
