"""PostgreSQL: two processes on one LAO, migrations, import, bad URLs, a database that dies."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from bot.core.pgstore import LATEST, PgStore, PgTable, migrate, migrations
from bot.core.store import StoreError, StoreUnavailable, TinyStore
from bot.ledger.book import LedgerBook
from bot.ledger.entries import Lao, ParsedEntry
from bot.qa.overlay import OVERLAY_NAME, OVERLAY_TABLE, OverlayPhrasing, append_phrasing
from tests.conftest import FIXED_NOW
from tests.pgcluster import Cluster

ROOT = Path(__file__).resolve().parent.parent
LAO = "05510101"


@pytest.fixture
def pg(pg_url: str) -> Iterator[PgStore]:
    store = PgStore(pg_url, max_size=4)
    yield store
    store.close()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELAAS_", "LINE_", "TELE"))}
    env.update(PYTHONPATH=str(ROOT), PYTHAINLP_OFFLINE="1", **extra)
    return env


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handlers.cli", *args], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=120, check=False)


def _entry(i: int) -> ParsedEntry:
    return ParsedEntry("receipt" if i % 3 else "payment", Decimal(100 + i), f"ค่าขยะ {i}",
                       date(2024, 7, 1 + i % 10), "", "cash")


WRITER = textwrap.dedent("""
    import json, sys, time
    from datetime import datetime, timezone
    from pathlib import Path
    from bot.ledger.book import LedgerBook
    from bot.core.pgstore import PgStore
    from tests.test_pgstore import LAO, _entry

    url, name, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    store = PgStore(url, max_size=2)
    ledger = LedgerBook(store).ledger(LAO)
    (go.parent / f"ready-{name}").touch()
    while not go.exists():  # start together so that the two really interleave
        time.sleep(0.005)
    got = []
    for i in range(n):
        # every fifth event is delivered to both processes (a webhook redelivered elsewhere)
        event = f"shared-{i}" if i % 5 == 0 else f"{name}-{i}"
        for e, created in ledger.add_many([(_entry(i), event)], author=name, author_name=name,
                                          channel="line", now=datetime.now(timezone.utc)):
            got.append([e.no, event, created])
    store.close()
    print(json.dumps(got))
""")


def test_two_processes_logging_to_one_lao_never_share_a_number(pg_url: str,
                                                                tmp_path: Path) -> None:
    store = PgStore(pg_url)
    LedgerBook(store).directory.add_lao(Lao(LAO, "อบต.ทดสอบ", "ลำพูน"))
    go, n = tmp_path / "go", 100
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, pg_url, name, str(n), str(go)],
                              cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{x}").exists() for x in "ab"):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    go.touch()
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    created = [no for r in results for no, _, new in r if new]
    stored = LedgerBook(store).ledger(LAO).entries()
    store.close()
    shared = n // 5
    assert len(created) == len(set(created)) == 2 * n - shared  # no number handed out twice
    assert sorted(e.no for e in stored) == list(range(1, 2 * n - shared + 1))  # none lost
    events = [e.event_id for e in stored]
    assert len(events) == len(set(events))  # a shared event became one entry
    by_event = {e.event_id: e.no for e in stored}
    for r in results:  # each process was told the number that is stored for its event
        assert all(by_event[event] == no for no, event, _ in r)
    authors = [e.author for e in sorted(stored, key=lambda e: e.no)]
    switches = sum(1 for x, y in itertools.pairwise(authors) if x != y)
    assert switches > 2  # the two really wrote in turns, not one after the other


def test_a_process_sees_entries_another_logged(pg_url: str) -> None:
    a, b = PgStore(pg_url), PgStore(pg_url)
    try:
        LedgerBook(a).directory.add_lao(Lao(LAO, "อบต.ทดสอบ", "ลำพูน"))
        la, lb = LedgerBook(a).ledger(LAO), LedgerBook(b).ledger(LAO)
        la.add_many([(_entry(1), "e1")], author="x", author_name="x", channel="line",
                    now=FIXED_NOW)
        (e, created), = lb.add_many([(_entry(1), "e1"), (_entry(2), "e2")][1:], author="y",
                                    author_name="y", channel="line", now=FIXED_NOW)
        assert created and e.no == 2
        assert [x.no for x in la.entries()] == [1, 2]
        lb.void(1, by="y", by_name="ย", reason="ซ้ำ", now=FIXED_NOW, may_void_any=True)
        got = la.get(1)
        assert got is not None and got.voided and got.void is not None
        assert got.void.reason == "ซ้ำ"
        assert la.day_summary(_entry(2).date).count == 1
    finally:
        a.close()
        b.close()


def test_join_code_redeemed_once_across_stores(pg_url: str) -> None:
    a, b = PgStore(pg_url), PgStore(pg_url)
    try:
        da, db = LedgerBook(a).directory, LedgerBook(b).directory
        da.add_lao(Lao(LAO, "อบต.ทดสอบ", "ลำพูน"))
        inv = da.invite(LAO, "member", "cli", FIXED_NOW)
        assert db.redeem(inv.code, "line:U1", "สมศรี", FIXED_NOW).lao_code == LAO
        with pytest.raises(ValueError, match="ไม่ถูกต้อง"):
            da.redeem(inv.code, "line:U2", "สมชาย", FIXED_NOW)
        assert da.member("line:U2") is None
    finally:
        a.close()
        b.close()


def test_two_processes_migrating_at_once(pg_cluster: Cluster, tmp_path: Path) -> None:
    url = pg_cluster.url(pg_cluster.new_schema())
    procs = [subprocess.Popen([sys.executable, "-m", "handlers.cli", "db", "migrate"],
                              cwd=tmp_path, env=_env(ELAAS_DATABASE_URL=url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    applied = [o for o, _ in outs if "applied migration 0001" in o]
    assert len(applied) == 1 and sum("already up to date" in o for o, _ in outs) == 1
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version FROM elaas_schema_version ORDER BY 1").fetchall()
    # Each lane numbers its own file (0002 inbound, 0003 outbound, 0004 files): a branch may
    # ship a gap, so compare with the shipped files rather than 1..LATEST.
    assert rows == [(m.version,) for m in migrations()] and rows[-1] == (LATEST,)
    assert migrate(url) == []


def test_unmigrated_database_is_named(pg_cluster: Cluster) -> None:
    url = pg_cluster.url(pg_cluster.new_schema())
    with pytest.raises(StoreError, match=r"schema version 0.*elaas-bot db migrate"):
        PgStore(url)


def test_db_import_copies_and_verifies(pg_url: str, tmp_path: Path) -> None:
    src = tmp_path / "data"
    store = TinyStore(src)
    book = LedgerBook(store)
    for code in (LAO, "05510102"):
        book.directory.add_lao(Lao(code, f"อบต.{code}", "ลำพูน"))
        book.ledger(code).add_many([(_entry(i), f"{code}-{i}") for i in range(25)],
                                   author="line:U1", author_name="ส", channel="line",
                                   now=FIXED_NOW)
    book.ledger(LAO).void(3, by="line:U1", by_name="ก", reason="ผิด", now=FIXED_NOW,
                          may_void_any=True)
    store.table("notices/subscribers").put("line:U1", {"channel": "line"})
    store.close()
    append_phrasing(src / OVERLAY_NAME, OverlayPhrasing("contact", "ฟลามิงโก้โทรหาใคร", "op"))

    done = _cli("db", "import", "--from", str(src), cwd=tmp_path, ELAAS_DATABASE_URL=pg_url)
    assert done.returncode == 0, done.stderr
    assert f"console phrasings: 1 → table {OVERLAY_TABLE}" in done.stdout
    assert "ตรงกัน OK" in done.stdout and "import verified" in done.stdout
    assert "MISMATCH" not in done.stdout
    pg = PgStore(pg_url)
    try:
        led = LedgerBook(pg).ledger(LAO)
        assert len(led) == 25 and led.get(3) is not None and led.get(3).voided  # type: ignore
        receipts = sum(e.amount for e in led.entries(include_void=False) if e.kind == "receipt")
        assert f"{receipts:,.2f}" in done.stdout
        assert pg.table("notices/subscribers").get("line:U1") == {"channel": "line"}
        again = _cli("db", "import", "--from", str(src), cwd=tmp_path, ELAAS_DATABASE_URL=pg_url)
        assert again.returncode == 0 and len(led) == 25  # a second run adds nothing
        rows = list(pg.table(OVERLAY_TABLE).all().values())
        assert [(r["topic"], r["phrasing"], r["by"]) for r in rows] == [
            ("contact", "ฟลามิงโก้โทรหาใคร", "op")]
        # An entry only PostgreSQL has: the counts no longer agree, and the exit code says so.
        led.add_many([(_entry(99), "extra")], author="x", author_name="x", channel="line",
                      now=FIXED_NOW)
    finally:
        pg.close()
    bad = _cli("db", "import", "--from", str(src), cwd=tmp_path, ELAAS_DATABASE_URL=pg_url)
    assert bad.returncode == 1 and "MISMATCH" in bad.stdout and "NOT verified" in bad.stdout


@pytest.mark.parametrize("what", ["password", "port", "dbname"])
def test_wrong_database_url_is_one_line_without_the_password(pg_cluster: Cluster, what: str,
                                                            tmp_path: Path) -> None:
    secret = "s3cret-Pa55-word"
    url = {"password": pg_cluster.url(password=secret),
           "port": pg_cluster.url(port=1).replace(pg_cluster.password, secret),
           "dbname": pg_cluster.url(dbname="nodb").replace(pg_cluster.password, secret),
           }[what]  # fmt: skip
    if what == "dbname":  # the right password, so the server gets as far as the database
        url = pg_cluster.url(dbname="nodb")
        secret = pg_cluster.password
    for args in (("lao", "list"), ("db", "migrate")):
        done = _cli(*args, cwd=tmp_path, ELAAS_DATABASE_URL=url)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert secret not in done.stderr and secret not in done.stdout
        assert f"127.0.0.1:{1 if what == 'port' else pg_cluster.port}" in lines[0]
        assert {"password": "login refused", "port": "server not reachable",
                "dbname": "database does not exist"}[what] in lines[0]


def test_malformed_database_url_refused_by_settings(tmp_path: Path) -> None:
    done = _cli("lao", "list", cwd=tmp_path, ELAAS_DATABASE_URL="mysql://u:pw@h/db")
    assert done.returncode != 0 and "ELAAS_DATABASE_URL must start with postgresql://" in \
        done.stderr and "pw" not in done.stderr


def _kill_own_connection(store: PgStore, cluster: Cluster) -> None:
    with store.begin() as conn:
        pid = conn.info.backend_pid
    with cluster.admin("elaas") as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_connection_lost_mid_transaction_writes_nothing(pg: PgStore,
                                                        pg_cluster: Cluster) -> None:
    t = pg.table("a")
    with pytest.raises(StoreUnavailable, match="nothing was written"), \
            pg.transaction("x"):
        t.put("first", {"v": 1})
        with pg.begin() as conn, pg_cluster.admin("elaas") as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        t.put("second", {"v": 2})
    assert t.all() == {}  # the pool replaced the dead connection; the first put rolled back
    t.put("after", {"v": 3})
    assert t.get("after") == {"v": 3}


def test_ledger_write_on_a_dead_connection_is_refused_whole(
        pg: PgStore, pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    book = LedgerBook(pg)
    book.directory.add_lao(Lao(LAO, "อบต.ทดสอบ", "ลำพูน"))
    ledger = book.ledger(LAO)
    real = PgTable.put_many

    def dying(self: PgTable, docs: dict[str, dict[str, object]]) -> None:
        with pg.begin() as conn, pg_cluster.admin("elaas") as admin:  # the server goes away
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        real(self, docs)

    monkeypatch.setattr(PgTable, "put_many", dying)
    with pytest.raises(StoreUnavailable):
        ledger.add_many([(_entry(1), "e1"), (_entry(2), "e2")], author="x", author_name="x",
                        channel="line", now=FIXED_NOW)
    monkeypatch.undo()
    assert len(ledger) == 0 and len(pg.table(f"lao/{LAO}/ledger")) == 0
    (e, created), = ledger.add_many([(_entry(1), "e1")], author="x", author_name="x",
                                    channel="line", now=FIXED_NOW)
    assert created and e.no == 1  # the redelivered event gets the number, once


def test_database_down_then_back(pg_cluster: Cluster, pg_url: str) -> None:
    store = PgStore(pg_url, timeout=2)
    t = store.table("a")
    t.put("k", {"v": 1})
    pg_cluster.stop_server()
    try:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            t.put("k2", {"v": 2})
        with pytest.raises(StoreUnavailable, match="server not reachable"):
            PgStore(pg_url)
    finally:
        pg_cluster.start_server()
    assert t.all() == {"k": {"v": 1}}  # back: fresh connections, nothing half-written
    store.close()


def test_import_refuses_a_data_dir_in_use(pg_url: str, tmp_path: Path) -> None:
    from bot.core.store import lock_data_dir

    src = tmp_path / "data"
    TinyStore(src).table("laos").put(LAO, {"code": LAO, "name": "x"})
    lock = lock_data_dir(src)
    try:
        done = _cli("db", "import", "--from", str(src), cwd=tmp_path, ELAAS_DATABASE_URL=pg_url)
    finally:
        lock.release()
    assert done.returncode == 2 and "already owns" in done.stderr


def test_datetime_values_round_trip_as_json(pg: PgStore) -> None:
    doc = {"at": datetime(2024, 7, 15, 10, 30).isoformat(), "n": 1.5, "big": 10**15,
           "thai": "รับ ๑,๕๐๐ บาท"}
    pg.table("a").put("k", doc)
    assert pg.table("a").get("k") == doc


def test_serve_with_a_wrong_password_stops_at_start(pg_cluster: Cluster, tmp_path: Path) -> None:
    secret = "s3cret-Pa55-word"
    done = _cli("serve", "--port", "0", cwd=tmp_path,
                ELAAS_DATABASE_URL=pg_cluster.url(password=secret),
                ELAAS_DATA_DIR=str(tmp_path / "data"), TELEGRAM_BOT_TOKEN="123:abc",
                TELEGRAM_API_BASE="http://127.0.0.1:1/bot")
    assert done.returncode == 2
    assert secret not in done.stderr + done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert "login refused" in last and f"elaas@127.0.0.1:{pg_cluster.port}/elaas" in last


def test_operator_commands_write_to_the_database_directly(pg_url: str, tmp_path: Path) -> None:
    env = {"ELAAS_DATABASE_URL": pg_url, "ELAAS_DATA_DIR": str(tmp_path / "data")}
    add = _cli("lao", "add", LAO, "อบต.ทดสอบ", "--province", "ลำพูน", cwd=tmp_path, **env)
    assert add.returncode == 0 and "queued" not in add.stdout, add.stderr
    inv = _cli("lao", "invite", LAO, "--admin", cwd=tmp_path, **env)
    assert inv.returncode == 0, inv.stderr
    st = _cli("status", "set", "--state", "normal", "--message", "e-LAAS ใช้งานได้ตามปกติแล้ว",
              "--notify", cwd=tmp_path, **env)
    assert st.returncode == 0 and "บันทึกสถานะแล้ว" in st.stdout, st.stderr + st.stdout
    listed = _cli("lao", "list", cwd=tmp_path, **env)
    assert f"{LAO}\tอบต.ทดสอบ\tลำพูน" in listed.stdout
    assert not (tmp_path / "data" / "laos.json").exists()  # nothing went to the files
    store = PgStore(pg_url)
    try:
        code = inv.stdout.split(": ")[1].split()[0]
        member = LedgerBook(store).directory.redeem(code, "line:U1", "สมศรี", FIXED_NOW)
        assert member.is_admin
        outbox = store.table("notices/outbox").all()
        assert len(outbox) == 1 and next(iter(outbox.values()))["delivery"]["status"] == "pending"
    finally:
        store.close()
