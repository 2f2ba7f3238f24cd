"""Notices on PostgreSQL with several senders: claims, takeover after kill -9, shared limits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psycopg
import pytest

from bot.core.codec import encode
from bot.core.pgstore import PgStore
from bot.notices.board import Publisher
from bot.notices.outbox import SUBSCRIBERS, Outbox, Subscriber
from bot.notices.status import StatusBoard
from bot.qa.knowledge import default_knowledge_dir
from handlers.line.client import LineClient
from handlers.notice_sender import Backoff, NoticeSender, shared_parts
from handlers.notice_state import PgDeliveryState
from handlers.shared_rate import SharedPacer
from tests.conftest import FIXED_NOW
from tests.fakes import FakeLine, FakeTelegram

TG_TOKEN = "123:TEST"
MULTICAST = "/v2/bot/message/multicast"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg(pg_url: str) -> Iterator[PgStore]:
    s = PgStore(pg_url, max_size=4)
    yield s
    s.close()


def seed(store: PgStore, line_n: int, tg_n: int) -> tuple[list[str], list[str]]:
    line_ids = [f"U{i:05d}" for i in range(line_n)]
    chats = [str(100000 + i) for i in range(tg_n)]
    docs = {f"{ch}:{u}": encode(Subscriber(ch, u, "", True, True, FIXED_NOW, FIXED_NOW))
            for ch, ids in (("line", line_ids), ("telegram", chats)) for u in ids}
    store.table(SUBSCRIBERS).put_many(docs)
    return line_ids, chats


def announce(store: PgStore, key: str = "k1") -> str:
    status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
    return Publisher(store, status).announce(text="ทดสอบประกาศ", key=key, now=FIXED_NOW).id


def sender(store: PgStore, url: str, line: FakeLine, tg: FakeTelegram, tmp: Path,
           rate: float = 200.0) -> NoticeSender:
    status = StatusBoard(store, seed=default_knowledge_dir() / "status.yaml")
    return NoticeSender(store, status, tmp, line_token="LTOKEN", line_api_base=line.base_url,
                        telegram_token=TG_TOKEN, telegram_api_base=tg.base_url + "/bot",
                        backoff=Backoff(base=0.05, cap=0.5), **shared_parts(url, rate))


def max_per_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_a_notice_is_claimed_by_one_session_until_it_ends(pg_url: str) -> None:
    a, b = PgDeliveryState(pg_url, "a"), PgDeliveryState(pg_url, "b")
    try:
        assert await a.claim("n-1")
        assert not await b.claim("n-1")  # the other instance leaves it alone
        assert await b.claim("n-2")
        a.close()  # the session ends (as when the process dies): the lock goes with it
        for _ in range(50):  # the server lets go once it has seen the session end
            if await b.claim("n-1"):
                break
            await asyncio.sleep(0.05)
        assert b.holds("n-1")
        assert [r["claim"] for r in b.records("n-1")] == ["a", "b"]
    finally:
        a.close()
        b.close()


async def test_line_fake_accepts_a_retry_key_once(line: FakeLine) -> None:
    """What the exactly-once rule relies on: LINE answers 409 to a retry key it took."""
    async with aiohttp.ClientSession() as http:
        client = LineClient(http, line.base_url, "LTOKEN")
        body = {"to": ["U1", "U2"], "messages": [{"type": "text", "text": "ทดสอบ"}]}
        first = await client.post("/v2/bot/message/multicast", body, retry_key="k-1")
        again = await client.post("/v2/bot/message/multicast", body, retry_key="k-1")
    assert (first.kind, first.status, again.kind, again.status) == ("ok", 200, "ok", 409)
    assert line.calls_to(MULTICAST)[1].status == 409
    assert line.multicast_recipients() == ["U1", "U2"]  # delivered once


@pytest.fixture
def line(fake_line: FakeLine) -> FakeLine:
    return fake_line


@pytest.fixture
def tg(fake_telegram: FakeTelegram) -> FakeTelegram:
    return fake_telegram


async def test_two_senders_on_one_notice_deliver_it_once(
        pg: PgStore, pg_url: str, line: FakeLine, tg: FakeTelegram, tmp_path: Path) -> None:
    line_ids, chats = seed(pg, line_n=1200, tg_n=40)
    nid = announce(pg)
    tg.delay = 0.01
    one, two = (sender(pg, pg_url, line, tg, tmp_path) for _ in range(2))
    try:
        for _ in range(5):
            await asyncio.gather(one.deliver_once(), two.deliver_once())
            if not await one.unfinished():
                break
    finally:
        await one.close()
        await two.close()
    assert Counter(line.multicast_recipients()) == Counter(line_ids)
    assert Counter(tg.delivered_chats()) == Counter(chats)
    d = Outbox(pg).delivery(nid)
    assert (d.status, d.delivered, d.uncertain) == ("done", 1240, 0)
    assert not (tmp_path / "notices").exists()  # nothing in the data dir in this mode


async def test_shared_rate_holds_with_two_senders(
        pg: PgStore, pg_url: str, line: FakeLine, tg: FakeTelegram, tmp_path: Path) -> None:
    """Two instances, one notice each, at once: together they stay within 20 messages/s."""
    rate = 20.0
    seed(pg, line_n=0, tg_n=60)
    announce(pg, "k1")
    announce(pg, "k2")
    tg.rate_limit(rate)  # the fake answers 429 beyond 20/s (two unshared senders: 40/s)
    one, two = (sender(pg, pg_url, line, tg, tmp_path, rate=rate) for _ in range(2))
    t0 = time.monotonic()
    try:
        await asyncio.gather(one.deliver_once(), two.deliver_once())
    finally:
        await one.close()
        await two.close()
    took = time.monotonic() - t0
    sends = [c for c in tg.calls if c.method == "sendMessage"]
    assert len(tg.delivered_chats()) == 120
    assert one.stats["telegram_calls"] and two.stats["telegram_calls"]  # both really sent
    assert tg.rate_limited == 0
    # The bucket's burst (a fifth of a second) and tokens each instance holds (3) on top.
    assert max_per_second([c.at for c in sends]) <= rate + rate / 5 + 2 * 3
    assert took >= 120 / rate - 1.0  # the budget was shared, not doubled


async def test_shared_pacer_draws_a_batch_per_round_trip(pg_url: str) -> None:
    pacer = SharedPacer(pg_url, "t-batch", 1000.0, batch=4)
    try:
        for _ in range(40):
            await pacer.slot()
    finally:
        pacer.close()
    assert pacer.draws == 10


def _env(url: str) -> dict[str, str]:
    env = {**os.environ, "ELAAS_DATABASE_URL": url, "PYTHAINLP_OFFLINE": "1",
           "PYTHAINLP_READ_ONLY": "1"}
    env.pop("ELAAS_DATA_DIR", None)
    return env


async def _wait(cond: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def _claims(url: str, nid: str) -> list[tuple[str, float]]:
    """Who claimed the notice, and when (wall-clock seconds), oldest first."""
    from datetime import datetime

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT rec->>'claim', rec->>'at' FROM elaas_notice_journal"
                            " WHERE notice = %s AND rec ? 'claim' ORDER BY seq",
                            (nid,)).fetchall()
    return [(str(o), datetime.fromisoformat(str(a)).timestamp()) for o, a in rows]


def _holder(url: str, nid: str) -> str:
    claims = _claims(url, nid)
    return claims[-1][0] if claims else ""


@pytest.mark.slow
async def test_kill_9_of_the_sending_instance_the_other_takes_over(
        pg: PgStore, pg_url: str, line: FakeLine, tg: FakeTelegram, tmp_path: Path) -> None:
    """Two sender processes on one database; the one sending is killed mid-broadcast.

    LINE: every recipient exactly once (batches re-sent with their retry keys get 409).
    Telegram: at most once; a chat can miss the notice only if it was in flight at the kill,
    and then it is counted as uncertain.
    """
    line_ids, chats = seed(pg, line_n=1500, tg_n=300)
    nid = announce(pg)
    line.delay = 0.4
    tg.delay = 0.02
    cmd = [sys.executable, "-m", "handlers.notice_sender", "--data-dir", str(tmp_path / "d"),
           "--line-api-base", line.base_url, "--line-token", "LTOKEN",
           "--telegram-api-base", tg.base_url + "/bot", "--telegram-token", TG_TOKEN,
           "--rate", "100", "--workers", "4", "--backoff", "0.05"]
    procs = [await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=_env(pg_url),
                                                  stderr=asyncio.subprocess.DEVNULL)
             for _ in range(2)]
    try:
        await _wait(lambda: len(tg.calls) >= 100, 40)
        holder = _holder(pg_url, nid)
        victim = next(p for p in procs if holder.endswith(f":{p.pid}"))
        victim.send_signal(signal.SIGKILL)
        killed_at = time.time()
        await victim.wait()
        at_kill = (len(line.multicast_recipients()), len(set(tg.delivered_chats())))
        assert at_kill[0] < len(line_ids) and at_kill[1] < len(chats)  # really mid-way
        await _wait(lambda: Outbox(pg).delivery(nid).status == "done", 60)
    finally:
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
                await asyncio.wait_for(p.wait(), 30)
    await asyncio.sleep(max(line.delay, tg.delay) + 0.2)
    survivor, taken_at = _claims(pg_url, nid)[-1]
    assert survivor != holder
    gap = taken_at - killed_at  # the survivor polls every second
    assert Counter(line.multicast_recipients()) == Counter(line_ids)
    got = Counter(tg.delivered_chats())
    assert max(got.values()) == 1
    uncertain = {str(r["tg"]) for r in PgDeliveryState(pg_url).records(nid)
                 if r.get("s") == "unknown"}
    missing = set(chats) - set(got)
    print(f"\nkill -9 after LINE {at_kill[0]}/{len(line_ids)}, Telegram {at_kill[1]}/"
          f"{len(chats)}; takeover gap {gap:.2f} s; uncertain {len(uncertain)}, missed "
          f"{len(missing)}, LINE 409s {sum(c.status == 409 for c in line.calls_to(MULTICAST))}")
    assert missing <= uncertain and len(uncertain) <= 4
    assert 0 < gap <= 3.0
    d = Outbox(pg).delivery(nid)
    assert d.delivered + d.uncertain == len(line_ids) + len(chats)


@pytest.mark.slow
async def test_a_frozen_sender_loses_the_notice_and_cannot_send_twice(
        pg: PgStore, pg_url: str, line: FakeLine, tg: FakeTelegram, tmp_path: Path) -> None:
    """SIGSTOP (a frozen VM): its heartbeat stops, the server ends its session after the
    claim timeout, the other instance takes over; when it wakes up it can no longer journal,
    so it sends no Telegram message again (LINE repeats are refused by the retry keys)."""
    line_ids, chats = seed(pg, line_n=1000, tg_n=200)
    nid = announce(pg)
    line.delay = 0.3
    tg.delay = 0.02
    cmd = [sys.executable, "-m", "handlers.notice_sender", "--data-dir", str(tmp_path / "d"),
           "--line-api-base", line.base_url, "--line-token", "LTOKEN",
           "--telegram-api-base", tg.base_url + "/bot", "--telegram-token", TG_TOKEN,
           "--rate", "60", "--workers", "4", "--backoff", "0.05", "--claim-timeout", "3"]
    procs = [await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path, env=_env(pg_url),
                                                  stderr=asyncio.subprocess.DEVNULL)
             for _ in range(2)]
    try:
        await _wait(lambda: len(tg.calls) >= 40, 40)
        holder = _holder(pg_url, nid)
        frozen = next(p for p in procs if holder.endswith(f":{p.pid}"))
        frozen.send_signal(signal.SIGSTOP)
        stopped_at = time.time()
        await _wait(lambda: _holder(pg_url, nid) != holder, 20)
        taken_at = _claims(pg_url, nid)[-1][1]
        frozen.send_signal(signal.SIGCONT)  # wakes up while the other one is sending
        await _wait(lambda: Outbox(pg).delivery(nid).status == "done", 60)
        await asyncio.sleep(1.0)
    finally:
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGCONT)
                p.send_signal(signal.SIGTERM)
                await asyncio.wait_for(p.wait(), 30)
    assert 2.5 <= taken_at - stopped_at <= 7.0  # the claim timeout, plus a poll
    assert Counter(line.multicast_recipients()) == Counter(line_ids)
    got = Counter(tg.delivered_chats())
    assert max(got.values()) == 1
    uncertain = {str(r["tg"]) for r in PgDeliveryState(pg_url).records(nid)
                 if r.get("s") == "unknown"}
    assert set(chats) - set(got) <= uncertain and len(uncertain) <= 4


def _cli(args: list[str], url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**_env(url), "ELAAS_DATA_DIR": str(cwd / "data")}
    return subprocess.run([sys.executable, "-m", "handlers.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_status_set_writes_straight_to_postgres(pg: PgStore, pg_url: str,
                                                    tmp_path: Path) -> None:
    out = _cli(["status", "set", "--state", "normal", "--message", "ระบบกลับมาใช้งานได้แล้ว",
                "--notify"], pg_url, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "บันทึกสถานะแล้ว" in out.stdout
    (notice, delivery), = Outbox(pg).entries()
    assert delivery.status == "pending" and notice.state == "normal"
    view = StatusBoard(pg).current()  # what every running instance now answers
    assert view is not None and view.state == "normal"
    assert (view.ref, view.expected) == ("", "")  # not the seed's letter: none was given
    assert not (tmp_path / "data" / "spool").exists()  # no spool, no lock in this mode
    assert not (tmp_path / "data" / "serve.lock").exists()


def test_cli_with_the_database_down_says_so_in_one_line(pg: PgStore, pg_url: str,
                                                        tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there: a database that is down
    url = pg_url.replace(f":{psycopg.conninfo.conninfo_to_dict(pg_url)['port']}/", f":{port}/")
    out = _cli(["status", "set", "--state", "down", "--message", "ขัดข้อง", "--notify"], url,
               tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "server not reachable" in lines[0]
    assert psycopg.conninfo.conninfo_to_dict(pg_url)["password"] not in out.stderr
    assert Outbox(pg).entries() == []  # nothing written anywhere


async def test_console_progress_reads_the_journal_in_postgres(
        pg: PgStore, pg_url: str, line: FakeLine, tg: FakeTelegram, tmp_path: Path) -> None:
    """The console's live counts come from the database, whichever instance is sending."""
    from handlers.web.console import _live_counts

    seed(pg, line_n=3, tg_n=2)
    nid = announce(pg)
    s = sender(pg, pg_url, line, tg, tmp_path)
    try:
        notice = Outbox(pg).get(nid)
        assert notice is not None
        await asyncio.to_thread(s.plan, notice)
        assert _live_counts(tmp_path, nid, pg_url) == {
            "delivered": 0, "unreachable": 0, "failed": 0, "uncertain": 0, "skipped": 0,
            "pending": 5, "total": 5}
        await s.deliver_once()
    finally:
        await s.close()
    counts = _live_counts(tmp_path, nid, pg_url)
    assert counts is not None and (counts["delivered"], counts["pending"]) == (5, 0)


def test_operator_request_is_all_or_nothing(pg: PgStore, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """The status update and its notice are one transaction: a failure writes neither."""
    from datetime import datetime

    from bot.core.store import StoreError
    from bot.notices.status import BANGKOK
    from handlers.spool import SpoolRequest, new_request_id, post_request

    seed_path = default_knowledge_dir() / "status.yaml"
    before = StatusBoard(pg, seed=seed_path).timeline()

    def down(self: Outbox, notice: object) -> None:
        raise StoreError("PostgreSQL went away")

    monkeypatch.setattr(Outbox, "add", down)
    now = datetime.now(BANGKOK)
    req = SpoolRequest(id=new_request_id(now), kind="status", created_at=now, by="cli",
                       state="normal", message="ใช้งานได้แล้ว", notify=True)
    with pytest.raises(StoreError):
        post_request(tmp_path, req, seed=seed_path, store=pg)
    assert StatusBoard(pg).timeline() == before  # the update was rolled back with it
    monkeypatch.undo()
    assert Outbox(pg).entries() == []


async def test_two_serve_apps_on_postgres_deliver_a_cli_notice_once(
        pg_url: str, line: FakeLine, tg: FakeTelegram, tmp_path: Path) -> None:
    """Two ``serve`` web apps (the notices extension) on one database; an operator posts with
    the CLI (straight to the database): one of them delivers it, once, without a spool."""
    from handlers.app import build_core
    from handlers.notice_sender import install_notices
    from handlers.settings import Settings
    from handlers.web.server import RunningServer, create_app

    servers, stores = [], []
    for i in range(2):
        settings = Settings(data_dir=tmp_path / f"data{i}", database_url=pg_url,
                            file_secret="s" * 32,  # shared by every instance on a database
                            telegram_bot_token=TG_TOKEN, telegram_api_base=tg.base_url + "/bot")
        stores.append(PgStore(pg_url, max_size=4))
        core = build_core(settings, store=stores[-1])
        servers.append(RunningServer(create_app(core, extensions=[install_notices],
                                                poll_interval=0.05)))
    for s in servers:
        await s.start()
    try:
        store = PgStore(pg_url, max_size=2)
        seed(store, line_n=0, tg_n=3)
        out = await asyncio.to_thread(_cli, ["status", "set", "--state", "down", "--message",
                                             "ขัดข้องชั่วคราว", "--notify"], pg_url, tmp_path)
        assert out.returncode == 0, out.stderr
        await _wait(lambda: Outbox(store).entries()[0][1].status == "done", 20)
    finally:
        for s in servers:
            await s.stop()
        for st in stores:
            st.close()
    assert sorted(tg.delivered_chats()) == ["100000", "100001", "100002"]
    assert not any((tmp_path / f"data{i}" / "spool").exists() for i in range(2))
    store.close()
