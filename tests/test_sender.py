"""Notice delivery over real HTTP against the fakes: batches, retries, blocks, crashes, spool.

Over 500 lines: every delivery case shares the fake servers and the journal fixtures."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.codec import encode
from bot.core.contract import UserKey
from bot.core.splitting import split_text, utf16_len
from bot.core.store import TinyStore, lock_data_dir
from bot.ledger.book import Directory, Ledger
from bot.ledger.entries import Lao, ParsedEntry
from bot.notices.board import Publisher
from bot.notices.delivery import retry_key
from bot.notices.outbox import SUBSCRIBERS, Outbox, Subscriber, Subscriptions
from bot.notices.status import StatusBoard
from bot.qa.knowledge import default_knowledge_dir
from handlers.app import Core
from handlers.notice_sender import Backoff, Journal, NoticeSender
from handlers.spool import pending_files
from tests.conftest import FIXED_NOW
from tests.fakes import FakeLine, FakeTelegram

TG_TOKEN = "123:TEST"
MULTICAST = "/v2/bot/message/multicast"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def line(fake_line: FakeLine) -> FakeLine:
    return fake_line


@pytest.fixture
def tg(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[TinyStore]:
    s = TinyStore(data_dir)
    yield s
    s.close()


@pytest.fixture
def status(store: TinyStore) -> StatusBoard:
    return StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")


def make_sender(store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
                tg: FakeTelegram, **kw: object) -> NoticeSender:
    opts: dict[str, object] = {"telegram_rate": 200.0, "backoff": Backoff(base=0.05, cap=0.5)}
    opts.update(kw)
    return NoticeSender(store, status, data_dir, line_token="LTOKEN",
                        line_api_base=line.base_url, telegram_token=TG_TOKEN,
                        telegram_api_base=tg.base_url + "/bot", **opts)  # type: ignore[arg-type]


def add_subscribers(store: TinyStore, line_n: int = 0, tg_n: int = 0,
                    province: str = "") -> tuple[list[str], list[str]]:
    """Many subscribers in one write (people subscribe one by one; tests need thousands)."""
    line_ids = [f"U{i:05d}" for i in range(line_n)]
    tg_ids = [str(100000 + i) for i in range(tg_n)]
    docs = {}
    for ch, ids in (("line", line_ids), ("telegram", tg_ids)):
        for uid in ids:
            docs[f"{ch}:{uid}"] = encode(Subscriber(ch, uid, province, True, True, FIXED_NOW,
                                                    FIXED_NOW))
    store.table(SUBSCRIBERS).put_many(docs)
    return line_ids, tg_ids


def announce(store: TinyStore, status: StatusBoard, text: str = "ทดสอบประกาศ",
             key: str = "k1", province: str = "") -> str:
    return Publisher(store, status).announce(text=text, key=key, now=FIXED_NOW,
                                             province=province).id


async def deliver_all(sender: NoticeSender, rounds: int = 5) -> None:
    try:
        for _ in range(rounds):
            await sender.deliver_once()
            if not await sender.unfinished():
                return
        raise AssertionError("notices still unfinished")
    finally:
        await sender.close()


# --------------------------------------------------------------------------- LINE


async def test_line_multicast_in_batches_of_500_with_retry_keys(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    ids, _ = add_subscribers(store, line_n=1100)
    nid = announce(store, status)
    await deliver_all(make_sender(store, status, data_dir, line, tg))
    calls = line.calls_to(MULTICAST)
    assert [len(c.body["to"]) for c in calls] == [500, 500, 100]
    keys = [c.headers["X-Line-Retry-Key"] for c in calls]
    assert keys == [retry_key(nid, i, 0) for i in range(3)]
    assert all(uuid.UUID(k).version == 5 for k in keys)
    assert all(c.headers["Authorization"] == "Bearer LTOKEN" for c in calls)
    assert Counter(line.multicast_recipients()) == Counter(ids)
    msg = calls[0].body["messages"][-1]
    assert msg["text"].startswith("ประกาศจากผู้ดูแลระบบ")
    items = msg["quickReply"]["items"]
    assert {"type": "postback", "label": "เลิกรับแจ้งเตือน", "data": "cmd:unsubscribe",
            "displayText": "เลิกรับแจ้งเตือน"} in [i["action"] for i in items]
    delivery = Outbox(store).delivery(nid)
    assert (delivery.status, delivery.total, delivery.delivered) == ("done", 1100, 1100)


async def test_line_409_for_an_accepted_retry_key_counts_as_delivered(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    ids, _ = add_subscribers(store, line_n=700)
    nid = announce(store, status)
    line.retry_keys[retry_key(nid, 0, 0)] = "req-earlier"  # as if sent before a crash
    await deliver_all(make_sender(store, status, data_dir, line, tg))
    statuses = [c.status for c in line.calls_to(MULTICAST)]
    assert statuses == [409, 200]
    assert Counter(line.multicast_recipients()) == Counter(ids[500:])  # batch 0 not again
    assert Outbox(store).delivery(nid).delivered == 700


async def test_line_429_with_retry_after_and_500s_are_retried(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    ids, _ = add_subscribers(store, line_n=20)
    announce(store, status)
    line.fail_next(MULTICAST, 429, retry_after=1)
    line.fail_next(MULTICAST, 500, times=2)
    started = time.monotonic()
    await deliver_all(make_sender(store, status, data_dir, line, tg))
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert [c.status for c in line.calls_to(MULTICAST)] == [429, 500, 500, 200]
    assert len({c.headers["X-Line-Retry-Key"] for c in line.calls_to(MULTICAST)}) == 1
    assert Counter(line.multicast_recipients()) == Counter(ids)


# --------------------------------------------------------------------------- Telegram


async def test_telegram_429_retry_after_pauses_and_500s_retry(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    _, chats = add_subscribers(store, tg_n=30)
    nid = announce(store, status)
    tg.fail_next("sendMessage", 429, retry_after=1)
    tg.fail_next("sendMessage", 500, times=3)
    started = time.monotonic()
    await deliver_all(make_sender(store, status, data_dir, line, tg))
    assert time.monotonic() - started >= 1.0
    assert Counter(tg.delivered_chats()) == Counter(chats)
    sends = [c for c in tg.calls if c.method == "sendMessage"]
    assert sum(c.status == 429 for c in sends) == 1 and sum(c.status == 500 for c in sends) == 3
    body = sends[-1].body
    assert body["reply_markup"]["inline_keyboard"][-1][0]["callback_data"] == "cmd:unsubscribe"
    assert Outbox(store).delivery(nid).delivered == 30


async def test_telegram_403_marks_unreachable_and_is_not_retried(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    _, chats = add_subscribers(store, tg_n=5)
    tg.blocked.add(chats[2])
    nid = announce(store, status)
    sender = make_sender(store, status, data_dir, line, tg)
    await deliver_all(sender)
    to_blocked = [c for c in tg.calls if c.method == "sendMessage"
                  and str(c.body["chat_id"]) == chats[2]]
    assert [c.status for c in to_blocked] == [403]
    sub = Subscriptions(store).get(f"telegram:{chats[2]}")
    assert sub is not None and not sub.reachable and sub.active
    d = Outbox(store).delivery(nid)
    assert (d.delivered, d.unreachable, d.status) == (4, 1, "done")
    announce(store, status, "อีกเรื่อง", key="k2")  # the next notice skips them
    await deliver_all(sender)
    assert sum(1 for c in tg.calls if str(c.body.get("chat_id")) == chats[2]) == 1
    assert Subscriptions(store).subscribe(UserKey("telegram", chats[2]), FIXED_NOW)[1]


async def test_sender_keeps_under_the_rate_limit(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    _, chats = add_subscribers(store, tg_n=40)
    announce(store, status)
    tg.rate_limit(20)
    started = time.monotonic()
    await deliver_all(make_sender(store, status, data_dir, line, tg, telegram_rate=20.0))
    took = time.monotonic() - started
    assert tg.rate_limited == 0
    assert took >= 39 / 20
    assert Counter(tg.delivered_chats()) == Counter(chats)


async def test_a_too_fast_sender_gets_429_and_still_delivers_once(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    _, chats = add_subscribers(store, tg_n=40)
    announce(store, status)
    tg.rate_limit(20, burst=5)
    await deliver_all(make_sender(store, status, data_dir, line, tg, telegram_rate=100.0))
    assert tg.rate_limited > 0
    assert Counter(tg.delivered_chats()) == Counter(chats)


async def test_long_texts_are_split_per_channel(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    add_subscribers(store, line_n=1, tg_n=1)
    para = "ข้อความทดสอบยาว ๆ สำหรับแบ่งส่ง " * 10 + "\n"
    announce(store, status, para * 30)  # about 9,600 characters
    await deliver_all(make_sender(store, status, data_dir, line, tg))
    (mc,) = line.calls_to(MULTICAST)
    texts = [m["text"] for m in mc.body["messages"]]
    assert len(texts) == 2 and all(utf16_len(t) <= 5000 for t in texts)
    assert "quickReply" in mc.body["messages"][-1] and "quickReply" not in mc.body["messages"][0]
    sends = [c.body for c in tg.calls if c.method == "sendMessage"]
    assert len(sends) == 3 and all(len(b["text"]) <= 4096 for b in sends)
    assert ["reply_markup" in b for b in sends] == [False, False, True]
    squeeze = str.maketrans("", "", " \n")
    tg_text = "".join(b["text"] for b in sends)
    assert "".join(texts).translate(squeeze) == tg_text.translate(squeeze)


def test_split_text_prefers_line_breaks() -> None:
    assert split_text("สั้น", 10) == ["สั้น"]
    parts = split_text("aaaa\nbbbb\ncccc", 10)
    assert parts == ["aaaa\nbbbb", "cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert all(utf16_len(p) <= 9 for p in split_text("😀" * 20, 9))


async def test_restoration_notice_per_lao_with_pending_count(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    directory = Directory(store)
    directory.add_lao(Lao("01234567", "อบต.ทดลองหนึ่ง", "ลำพูน"))
    for who in ("line:Ua", "line:Ub", "telegram:501"):
        directory.bind(who, "01234567", "member", "x", FIXED_NOW)
    Ledger(store, "01234567").add_many(
        [(ParsedEntry("payment", Decimal(50 * i), "ค่าน้ำมัน", date(2024, 7, 9)), f"e{i}")
         for i in range(1, 8)], author="line:Ua", author_name="ก", channel="line",
        now=FIXED_NOW)
    subs = Subscriptions(store)
    for who in ("line:Ua", "line:Ub", "telegram:501", "line:Uguest", "telegram:502"):
        subs.subscribe(UserKey.parse(who), FIXED_NOW)
    Publisher(store, status).set_status(state="normal", message="ระบบกลับมาแล้ว", key="r1",
                                        now=FIXED_NOW)
    await deliver_all(make_sender(store, status, data_dir, line, tg))
    by_to = {tuple(c.body["to"]): c.body["messages"] for c in line.calls_to(MULTICAST)}
    member = by_to[("Ua", "Ub")][-1]
    assert "7 รายการ" in member["text"] and "ส่งออก" in member["text"]
    assert "cmd:export" in [i["action"]["data"] for i in member["quickReply"]["items"]]
    guest = by_to[("Uguest",)][-1]
    assert "รายการในบอท" not in guest["text"] and "ใบผ่านทั่วไป" in guest["text"]
    assert "7 รายการ" in tg.sent_texts(501)[0]
    assert "7 รายการ" not in tg.sent_texts(502)[0]


async def test_unsubscribed_after_planning_are_left_out(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    ids, chats = add_subscribers(store, line_n=3, tg_n=3)
    nid = announce(store, status)
    sender = make_sender(store, status, data_dir, line, tg)
    notice = Outbox(store).get(nid)
    assert notice is not None
    sender.plan(notice)  # frozen with all six
    subs = Subscriptions(store)
    subs.unsubscribe(f"line:{ids[0]}", FIXED_NOW)
    subs.unsubscribe(f"telegram:{chats[0]}", FIXED_NOW)
    await deliver_all(sender)
    assert sorted(line.multicast_recipients()) == ids[1:]
    assert sorted(tg.delivered_chats()) == chats[1:]
    d = Outbox(store).delivery(nid)
    assert (d.delivered, d.skipped) == (4, 2)


async def test_a_broadcast_costs_a_handful_of_store_writes(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    add_subscribers(store, line_n=1000, tg_n=200)
    nid = announce(store, status)
    sender = make_sender(store, status, data_dir, line, tg, telegram_rate=400.0)
    await deliver_all(sender)
    assert sender.stats["store_writes"] <= 4  # start, end (+ unreachable marks, none here)
    records = Journal.read(data_dir / "notices" / nid / "journal.jsonl")
    assert sum(1 for r in records if r.get("s") == "ok") == 2 + 200


# --------------------------------------------------------------------------- crash


async def _wait_for(cond: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_kill_9_mid_broadcast_then_restart_delivers_each_once(
        tmp_path: Path, line: FakeLine, tg: FakeTelegram) -> None:
    """The sender runs in a subprocess; we kill -9 it mid-broadcast and start it again.

    Guarantee checked: LINE recipients get the notice exactly once (retry keys + 409).
    Telegram chats get it at most once; a chat can miss it only if its request was in flight
    at the kill *and* never reached the fake, and every such chat is recorded as uncertain
    in the journal (at most ``--workers`` of them). In practice the in-flight requests had
    reached the fake, so every chat got it exactly once.
    """
    data_dir = tmp_path / "data"
    store = TinyStore(data_dir)
    status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
    line_ids, chats = add_subscribers(store, line_n=1500, tg_n=300)
    nid = announce(store, status)
    store.close()
    line.delay = 0.6
    tg.delay = 0.02
    cmd = [sys.executable, "-m", "handlers.notice_sender", "--data-dir", str(data_dir),
           "--line-api-base", line.base_url, "--line-token", "LTOKEN",
           "--telegram-api-base", tg.base_url + "/bot", "--telegram-token", TG_TOKEN,
           "--rate", "100", "--workers", "4", "--backoff", "0.05", "--until-idle"]
    env = {**os.environ, "PYTHAINLP_OFFLINE": "1", "PYTHAINLP_READ_ONLY": "1"}
    env.pop("ELAAS_DATA_DIR", None)
    first = await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=env,
                                                 stderr=asyncio.subprocess.DEVNULL)
    await _wait_for(lambda: len(tg.calls) >= 100, 30)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    at_kill = (len(line.multicast_recipients()), len(set(tg.delivered_chats())))
    assert at_kill[0] < len(line_ids) and at_kill[1] < len(chats)  # really mid-way
    second = await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=env,
                                                  stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(second.wait(), 60) == 0
    await asyncio.sleep(max(line.delay, tg.delay) + 0.2)  # handlers of the killed requests

    assert Counter(line.multicast_recipients()) == Counter(line_ids)
    assert 409 in [c.status for c in line.calls_to(MULTICAST)]  # a batch re-sent after the kill
    got = Counter(tg.delivered_chats())
    assert max(got.values()) == 1  # never twice
    records = Journal.read(data_dir / "notices" / nid / "journal.jsonl")
    uncertain = {str(r["tg"]) for r in records if r.get("s") == "unknown"}
    missing = set(chats) - set(got)
    print(f"\nkill -9 after LINE {at_kill[0]}/{len(line_ids)}, Telegram {at_kill[1]}/"
          f"{len(chats)}; after restart: uncertain {len(uncertain)}, missed {len(missing)}, "
          f"LINE 409s {sum(c.status == 409 for c in line.calls_to(MULTICAST))}")
    assert missing <= uncertain and len(uncertain) <= 4
    store = TinyStore(data_dir)
    d = Outbox(store).delivery(nid)
    store.close()
    assert d.status == "done" and d.uncertain == len(uncertain)
    assert d.delivered + d.uncertain == len(line_ids) + len(chats)


# --------------------------------------------------------------------------- spool and CLI


def _cli(args: list[str], data_dir: Path, cwd: Path) -> tuple[int, str]:
    import subprocess

    env = {**os.environ, "ELAAS_DATA_DIR": str(data_dir), "PYTHAINLP_OFFLINE": "1",
           "PYTHAINLP_READ_ONLY": "1"}
    out = subprocess.run([sys.executable, "-m", "handlers.cli", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout + out.stderr


async def test_cli_status_set_applies_directly_when_no_server_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code, out = _cli(["status", "set", "--state", "partial", "--message", "บางเมนูใช้ได้แล้ว",
                      "--expected", "25 ก.ค. 2567", "--phase", "monitoring", "--notify"],
                     data_dir, tmp_path)
    assert code == 0, out
    assert "บันทึกสถานะแล้ว" in out
    store = TinyStore(data_dir)
    view = StatusBoard(store).current()
    assert view is not None and view.state == "partial" and view.latest.phase == "monitoring"
    (notice, delivery), = Outbox(store).entries()
    assert notice.kind == "status" and delivery.status == "pending"  # waits for serve
    assert "25 ก.ค. 2567" in notice.text
    store.close()
    code, out = _cli(["status", "set", "--state", "nonsense", "--message", "x"], data_dir,
                     tmp_path)
    assert code == 2


async def test_cli_spools_while_serve_owns_the_data_dir(
        tmp_path: Path, line: FakeLine, tg: FakeTelegram) -> None:
    data_dir = tmp_path / "data"
    lock = lock_data_dir(data_dir)  # we are "serve"
    store = TinyStore(data_dir)
    try:
        status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
        add_subscribers(store, line_n=2, tg_n=2)
        sender = make_sender(store, status, data_dir, line, tg)
        code, out = await asyncio.to_thread(
            _cli, ["status", "set", "--state", "ใช้งานได้ปกติ", "--message",
                   "ระบบกลับมาใช้งานได้แล้ว", "--notify", "--wait", "0"], data_dir, tmp_path)
        assert code == 0, out
        assert "คิว" in out
        assert len(pending_files(data_dir)) == 1
        code, shown = await asyncio.to_thread(_cli, ["status", "show", "--json"], data_dir,
                                              tmp_path)
        assert code == 0 and json.loads(shown)["spooled_requests"]  # read without the lock
        await deliver_all(sender)
        assert pending_files(data_dir) == []
        view = status.current()
        assert view is not None and view.state == "normal" and view.latest.by == "cli"
        (notice, delivery), = Outbox(store).entries()
        assert notice.kind == "restored" and delivery.delivered == 4
        assert len(line.multicast_recipients()) == 2 and len(tg.delivered_chats()) == 2
        await sender.apply_spool()  # nothing left, nothing posted twice
        assert len(status.timeline()) == 2
    finally:
        store.close()
        lock.release()


async def test_run_loop_picks_up_spool_within_a_second(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    from handlers.spool import SpoolRequest, run_spool, write_request

    add_subscribers(store, tg_n=3)
    sender = make_sender(store, status, data_dir, line, tg, poll_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    spool = asyncio.create_task(run_spool(sender.apply_spool, sender.wake, poll=0.2))
    try:
        # made just now: a status request older than spool.MAX_AGE would be refused as stale
        write_request(data_dir, SpoolRequest("20240715T103000-cli-abcd", "status",
                                             datetime.now(FIXED_NOW.tzinfo),
                                             "cli", state="maintenance",
                                             message="ปิดปรับปรุงคืนนี้", notify=True))
        await _wait_for(lambda: len(tg.delivered_chats()) == 3, 5)
    finally:
        spool.cancel()
        stop.set()
        await asyncio.wait_for(task, 5)
    view = status.current()
    assert view is not None and view.state == "maintenance"
    assert "ปิดปรับปรุง" in tg.sent_texts(100000)[0]


async def test_bad_spool_file_is_set_aside(
        store: TinyStore, status: StatusBoard, data_dir: Path, line: FakeLine,
        tg: FakeTelegram) -> None:
    spool = data_dir / "spool"
    spool.mkdir(parents=True)
    (spool / "20240101T000000-cli-bad.req").write_text("{not json")
    sender = make_sender(store, status, data_dir, line, tg)
    assert await sender.apply_spool() == []
    assert (spool / "rejected" / "20240101T000000-cli-bad.req").exists()
    assert pending_files(data_dir) == []


# --------------------------------------------------------------------------- serve wiring


async def test_serve_extension_serves_the_page_and_delivers(core: Core,
                                                            tg: FakeTelegram) -> None:
    """The wiring the report recommends: ``install_notices`` as a serve extension."""
    import dataclasses

    import aiohttp

    from handlers.notice_sender import install_notices
    from handlers.settings import Settings
    from handlers.web.server import FLOW, RunningServer, create_app

    settings = Settings(data_dir=core.settings.data_dir, telegram_bot_token=TG_TOKEN,
                        telegram_api_base=tg.base_url + "/bot")
    c = dataclasses.replace(core, settings=settings)
    server = RunningServer(create_app(c, extensions=[install_notices], poll_interval=0.05))
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"{server.base_url}/status") as resp:
            assert resp.status == 200 and "ขัดข้อง" in await resp.text()
        flow = server.app[FLOW]
        await flow.call(Subscriptions(c.store).subscribe, UserKey("telegram", "555"), FIXED_NOW)
        await flow.call(lambda: Publisher(c.store, c.status).announce(
            text="ทดสอบผ่าน serve", key="s1", now=FIXED_NOW))
        await _wait_for(lambda: any("ทดสอบผ่าน serve" in t for t in tg.sent_texts(555)), 10)
    finally:
        await server.stop()
    assert Outbox(c.store).delivery("n-s1").status == "done"
