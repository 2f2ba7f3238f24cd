"""Abuse and faults: gaps cap, link quota, join lock-out, spool rejection, disk full, bad files."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import stat
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

import bot.core.store
from bot.core.contract import FileBlob
from bot.core.engine import SESSION_FAILED
from bot.core.store import MemoryStore, TinyStore
from bot.ledger.book import MAX_JOIN_FAILURES
from bot.ledger.entries import Lao
from bot.ledger.export import export_xlsx
from bot.notices.board import Publisher
from bot.notices.status import BANGKOK, StatusBoard, StatusUpdate
from bot.qa.gaps import GAPS_TABLE, GapLog
from handlers.app import Core
from handlers.settings import MIN_FILE_SECRET, Settings
from handlers.spool import SpoolRequest, apply_spool, pending_files, write_request
from handlers.web.files import FileVault, LinkGone
from handlers.web.status_page import status_atom
from tests.conftest import FIXED_NOW, Say, make_lao_admin

# --------------------------------------------------------------------------- gaps


class Today:
    def __init__(self, d: date) -> None:
        self.d = d

    def __call__(self) -> date:
        return self.d


def test_gaps_capped_keeping_the_most_asked() -> None:
    store = MemoryStore()
    table = store.table(GAPS_TABLE)
    log = GapLog(store, Today(date(2024, 7, 1)), cap=50)
    for _ in range(10):
        log.record("คำถาม ที่ ถาม บ่อย")
    for i in range(500):  # a flood of one-offs
        log.record(f"ถาม มั่ว {i}")
        assert len(table) <= 50
    top = log.top(3)
    assert top[0].text == "คำถาม ที่ ถาม บ่อย" and top[0].count == 10
    assert "ถาม มั่ว 499" in table.all()  # the newest one-offs stay, the oldest went


def test_gaps_expire_and_can_be_marked_handled() -> None:
    today = Today(date(2024, 1, 1))
    log = GapLog(MemoryStore(), today, retention_days=90)
    log.record("เก่า")
    log.record("ยัง ถาม อยู่")
    today.d = date(2024, 3, 15)
    log.record("ยัง ถาม อยู่")
    today.d = date(2024, 4, 5)  # 95 days after "เก่า", 21 after the last "ยัง ถาม อยู่"
    assert log.prune() == 1
    assert [g.text for g in log.top()] == ["ยัง ถาม อยู่"]
    assert log.mark_handled("ยัง ถาม อยู่") and not log.mark_handled("ไม่มี")
    assert log.top() == [] and log.top(include_handled=True)[0].handled
    log.record("ยัง ถาม อยู่")  # asked again after the fix: back on the list
    assert log.top()[0].count == 3


def test_engine_gaps_go_through_the_capped_log(say: Say, core: Core) -> None:
    core.engine.gap_log.cap = 5
    for i in range(20):
        say(f"ขอสูตรแกงเขียวหวานแบบที่ {i}")
    core.engine.flush()
    assert 0 < len(core.store.table(GAPS_TABLE)) <= 5


# --------------------------------------------------------------------------- file links


def test_file_link_quota_per_user() -> None:
    vault = FileVault(b"k" * 32, "https://bot.example.org", per_user=3, max_files=20)
    blob = FileBlob(b"x" * 10, "a.pdf", "application/pdf")
    theirs = vault.put(blob, owner="line:Uother")
    mine = [vault.put(blob, owner="line:Umine") for _ in range(100)]
    assert vault.open(theirs) is blob  # 100 links from one user evicted nobody else's
    assert vault.open(mine[-1]) is blob
    with pytest.raises(LinkGone):
        vault.open(mine[-4])  # only the user's own oldest went
    assert len(vault) == 4


# --------------------------------------------------------------------------- join lock-out


def test_join_code_guesses_locked_out_per_user_per_day(core: Core, say: Say,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    core.book.directory.add_lao(Lao("05510101", "อบต.ก", "ลำพูน"))
    good = core.book.directory.invite("05510101", "admin", "cli", FIXED_NOW).code
    caplog.set_level(logging.WARNING, logger="bot.ledger.book")
    for i in range(MAX_JOIN_FAILURES):
        assert "ไม่ถูกต้อง" in say(f"เข้าร่วม ZZZZ{i + 2}{i + 2}{i + 2}{i + 2}", user="guesser")[0].text
    refused = say(f"เข้าร่วม {good}", user="guesser")[0].text
    assert "ผิดครบ" in refused and "ลองใหม่ได้ตั้งแต่วันที่ 16 ก.ค. 2567" in refused
    assert core.book.directory.member("console:guesser") is None
    assert any("locked out" in r.getMessage() for r in caplog.records)
    assert sum("wrong code from" in r.getMessage() for r in caplog.records) == MAX_JOIN_FAILURES
    assert "เข้าร่วม" in say(f"เข้าร่วม {good}", user="other")[0].text  # others unaffected
    good2 = core.book.directory.invite("05510101", "member", "cli", FIXED_NOW).code
    core.engine.clock = lambda: FIXED_NOW + timedelta(days=1)
    assert "ในฐานะสมาชิก" in say(f"เข้าร่วม {good2}", user="guesser")[0].text
    assert len(core.store.table("join_failures")) == 0  # yesterday's counts are gone


# --------------------------------------------------------------------------- spool


def _publisher(tmp_path: Path) -> tuple[TinyStore, Publisher]:
    store = TinyStore(tmp_path)
    return store, Publisher(store, StatusBoard(store))


GOOD = {"id": "20240715T103000-cli-good", "kind": "status", "created_at": "",
        "by": "cli", "state": "down", "message": "ระบบขัดข้อง", "notify": False}
BAD: dict[str, Any] = {
    "not-json": b"{not json",
    "not-utf8": b"\xff\xfe{}",
    "array": [1, 2],
    "huge": b"{" + b" " * 70_000 + b"}",
    "naive-time": {**GOOD, "created_at": "2024-07-15T10:30:00"},
    "notify-string": {**GOOD, "notify": "yes"},
    "days-string": {"id": "x1", "kind": "lao_invite", "created_at": "now", "by": "cli",
                    "lao_code": "05510101", "days": "7"},
    "days-bool": {"id": "x2", "kind": "lao_invite", "created_at": "now", "by": "cli",
                  "lao_code": "05510101", "days": True},
    "days-range": {"id": "x3", "kind": "lao_invite", "created_at": "now", "by": "cli",
                   "lao_code": "05510101", "days": 10_000},
    "days-admin": {"id": "x7", "kind": "lao_invite", "created_at": "now", "by": "cli",
                   "lao_code": "05510101", "role": "admin", "days": 8},
    "days-zero": {"id": "x8", "kind": "lao_invite", "created_at": "now", "by": "cli",
                  "lao_code": "05510101", "days": 0},
    "bad-join-code": {"id": "x4", "kind": "lao_invite", "created_at": "now", "by": "cli",
                      "lao_code": "05510101", "join_code": "00000000"},
    "bad-lao-code": {"id": "x5", "kind": "lao_add", "created_at": "now", "by": "cli",
                     "lao_code": "12ab", "lao_name": "x"},
    "bad-state": {**GOOD, "state": "exploded"},
    "bad-phase": {**GOOD, "phase": "whenever"},
    "message-type": {**GOOD, "message": ["x"]},
    "control-chars": {**GOOD, "message": "a\x00b"},
    "unknown-field": {**GOOD, "admin": True},
    "bad-id": {**GOOD, "id": "../../etc/passwd"},
    "bad-province": {**GOOD, "kind": "announce", "province": "แอตแลนติส"},
    "stale": {**GOOD, "created_at": "stale"},
    "future": {**GOOD, "created_at": "future"},
    "unknown-lao": {"id": "x6", "kind": "lao_invite", "created_at": "now", "by": "cli",
                    "lao_code": "99999998"},
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_spool_file_rejected_and_queue_continues(tmp_path: Path, name: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    now = datetime.now(BANGKOK)
    times = {"now": now, "stale": now - timedelta(hours=2), "future": now + timedelta(hours=1)}
    spool = tmp_path / "spool"
    spool.mkdir()
    doc = BAD[name]
    if isinstance(doc, dict):
        doc = dict(doc)
        when = doc.get("created_at")
        doc["created_at"] = (times.get(when, now).isoformat() if when in times or when == ""
                             else when)
        raw = json.dumps(doc).encode()
    else:
        raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    (spool / "20240101T000000-cli-aaaa.req").write_bytes(raw)  # sorts first: the bad one
    good = SpoolRequest("20240715T103000-cli-good", "status", now, "cli", state="down",
                        message="ระบบขัดข้อง")
    write_request(tmp_path, good)
    store, publisher = _publisher(tmp_path)
    caplog.set_level(logging.ERROR, logger="handlers.spool")
    assert apply_spool(tmp_path, publisher) == [good.id]
    assert (spool / "rejected" / "20240101T000000-cli-aaaa.req").read_bytes() == raw
    assert pending_files(tmp_path) == []
    assert [r for r in caplog.records if "rejected" in r.getMessage()
            and "20240101T000000-cli-aaaa.req" in r.getMessage()]
    assert StatusBoard(store).current() is not None  # the good one after it was applied
    store.close()


def test_good_spool_requests_of_every_kind_pass_validation(tmp_path: Path) -> None:
    now = datetime.now(BANGKOK)
    reqs = [
        SpoolRequest("r1", "lao_add", now, "cli", lao_code="05510101", lao_name="อบต.ก",
                     province="ลำพูน"),
        SpoolRequest("r2", "lao_invite", now, "cli", lao_code="05510101", role="admin",
                     join_code="ABCD2345", days=7),
        SpoolRequest("r3", "announce", now, "cli", message="ประกาศ", province="จังหวัดลำพูน"),
        SpoolRequest("r4", "status", now, "cli", state="normal", message="กลับมาแล้ว",
                     phase="resolved", notify=True),
    ]
    for r in reqs:
        assert SpoolRequest.from_json(r.to_json()) == r
        write_request(tmp_path, r)
    store, publisher = _publisher(tmp_path)
    assert apply_spool(tmp_path, publisher) == ["r1", "r2", "r3", "r4"]
    store.close()


# --------------------------------------------------------------------------- faults


def test_disk_full_session_write_still_answers(core: Core, say: Say,
                                              monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    make_lao_admin(core, "console:u1", "05510101")
    say("รับ 1,500 ค่าขยะ")
    sessions = core.store.data_dir / "sessions.json"  # type: ignore[attr-defined]
    before = sessions.read_bytes() if sessions.exists() else None

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(bot.core.store, "atomic_write", disk_full)
    caplog.set_level(logging.ERROR, logger="bot.core.engine")
    replies = say("ยกเลิก 1")  # asks for a reason: a pending step in the session
    assert replies[-1].text == SESSION_FAILED
    assert "ยกเลิกรายการที่ 1" in replies[0].text
    assert any("session write failed" in r.getMessage() and "No space" in r.getMessage()
               for r in caplog.records)
    monkeypatch.undo()
    assert (sessions.read_bytes() if sessions.exists() else None) == before
    nxt = say("พิมพ์ยอดผิด")  # answered; the step was never saved, so nothing is voided
    assert nxt and not any("แล้วค่ะ (เหตุผล" in r.text for r in nxt)
    assert core.book.ledger("05510101").get(1).void is None  # type: ignore[union-attr]


def _cli(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ELAAS_DATA_DIR": str(data_dir), "PYTHAINLP_OFFLINE": "1",
           "PYTHAINLP_READ_ONLY": "1"}
    env.pop("ELAAS_FILE_SECRET", None)
    return subprocess.run([sys.executable, "-m", "handlers.cli", *args], env=env,
                          input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=data_dir.parent)


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", '{"records": {"1": 5}}',
                                     '{"records": {"x": {"_key": "a"}}}',
                                     '{"records": {"1": {"no": "key"}}}'])
def test_corrupt_or_wrong_shape_data_file_is_one_line_and_kept(tmp_path: Path,
                                                              content: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    bad = data / "sessions.json"
    bad.write_text(content)
    out = _cli(["chat"], data, stdin="สวัสดี\n")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(bad) in lines[0], out.stderr
    assert bad.read_text() == content  # never overwritten


def test_file_secret_written_once_owner_only_and_empty_one_named(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = settings.resolved_file_secret()
    path = tmp_path / "data" / ".file_secret"
    assert len(key) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.resolved_file_secret() == key  # kept, not regenerated
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    path.write_text("")
    with pytest.raises(ValueError, match=r"\.file_secret is empty"):
        settings.resolved_file_secret()
    assert path.read_text() == ""  # reported, not replaced


def test_file_secret_minimum_length_and_https_warning() -> None:
    with pytest.raises(ValueError, match="ELAAS_FILE_SECRET"):
        Settings.from_env({"ELAAS_FILE_SECRET": "x" * (MIN_FILE_SECRET - 1)}, dotenv=Path("/-"))
    ok = Settings.from_env({"ELAAS_FILE_SECRET": "x" * MIN_FILE_SECRET}, dotenv=Path("/-"))
    assert ok.file_secret and any("https" in w for w in ok.warnings())
    assert Settings(public_base_url="https://bot.example.org").warnings() == []


def test_data_folder_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    lock = bot.core.store.lock_data_dir(data)
    try:
        store = TinyStore(data)
        store.table("sessions").put("k", {"v": 1})
        store.table("lao/05510101/ledger").put("k", {"v": 1})
        store.close()
        mode = stat.S_IMODE
        assert mode(data.stat().st_mode) == 0o700
        assert mode((data / "lao").stat().st_mode) == 0o700
        assert mode((data / "lao" / "05510101").stat().st_mode) == 0o700
        assert mode((data / "sessions.json").stat().st_mode) == 0o600
        assert mode((data / "lao" / "05510101" / "ledger.json").stat().st_mode) == 0o600
        assert mode((data / ".owner.lock").stat().st_mode) == 0o600
    finally:
        lock.release()


# --------------------------------------------------------------------------- smaller items


def test_xlsx_title_rows_neutralised() -> None:
    lao = Lao("05510101", "=HYPERLINK(\"http://evil\",\"x\")", "@ลำพูน")
    wb = load_workbook(io.BytesIO(export_xlsx(lao, [])))
    seen = False
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=3):
            for c in row:
                # kept as typed, as a string cell: never a formula (no apostrophe on show)
                assert c.data_type != "f", c.value
                seen = seen or (isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert seen  # the hostile name is there, as text


def test_atom_feed_has_no_control_characters() -> None:
    from xml.dom.minidom import parseString

    u = StatusUpdate(1, FIXED_NOW, "down", "ระบบ\x00ขัด\x1bข้อง\x0b", "update", ref="ว\x08 1")
    feed = status_atom([u], "https://bot.example.org", FIXED_NOW)
    parseString(feed.encode())  # a strict XML parser accepts it
    assert "ระบบขัดข้อง" in feed


def test_verbose_keeps_sdk_loggers_quiet() -> None:
    from handlers.web.server import SDK_LOGGERS, configure_logging

    saved = {n: logging.getLogger(n).level for n in (*SDK_LOGGERS, "")}
    try:
        configure_logging(Settings(), level=logging.DEBUG)
        for name in ("telegram", "telegram.ext", "linebot", "aiohttp.client", "urllib3"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    finally:
        for n, lvl in saved.items():
            logging.getLogger(n).setLevel(lvl)


def test_verbose_is_debug_for_our_own_modules_only() -> None:
    # qa11 item 15: serve --verbose printed ~1,800 fontTools/fpdf DEBUG lines at start.
    from handlers.web.server import configure_logging

    root = logging.getLogger()
    names = ("", "bot", "handlers", "fontTools")
    saved = {n: logging.getLogger(n).level for n in names}
    handlers = root.handlers[:]
    root.handlers.clear()  # as in a fresh process: basicConfig configures an empty root
    try:
        configure_logging(Settings(), level=logging.DEBUG)
        for ours in ("bot.core.engine", "handlers.pipeline", "handlers.web.console"):
            assert logging.getLogger(ours).isEnabledFor(logging.DEBUG), ours
        for theirs in ("fontTools.ttLib.ttFont", "fpdf.output", "PIL.PngImagePlugin"):
            assert not logging.getLogger(theirs).isEnabledFor(logging.DEBUG), theirs
        # fpdf's font subsetting: ~600 INFO lines at every start, with or without --verbose
        assert not logging.getLogger("fontTools.subset").isEnabledFor(logging.INFO)
    finally:
        for h in root.handlers[:]:
            root.removeHandler(h)
        root.handlers[:] = handlers
        for n, lvl in saved.items():
            logging.getLogger(n).setLevel(lvl)


def test_spool_checks_a_join_code_lifetime_by_the_core_rule() -> None:
    from bot.ledger.directory import MAX_INVITE_DAYS
    from handlers.spool import SpoolRejected, validate_doc

    base = {"id": "x9", "kind": "lao_invite", "created_at": datetime.now(BANGKOK).isoformat(),
            "by": "cli", "lao_code": "05510101"}
    for role, top in MAX_INVITE_DAYS.items():
        assert validate_doc({**base, "role": role, "days": top})["days"] == top
        for days in (0, -3, top + 1):
            with pytest.raises(SpoolRejected, match="days"):
                validate_doc({**base, "role": role, "days": days})


@pytest.mark.parametrize("province, why", [("", "ต้องระบุจังหวัด"), ("แอตแลนติส", "ไม่รู้จักจังหวัด")])
def test_spooled_lao_add_without_a_known_province_is_refused_as_the_cli_refuses_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, province: str, why: str,
) -> None:
    """An operator's hand-written lao_add file is checked by the rule `lao add` uses: an
    LAO without a province would be seen by no provincial operator."""
    from bot.ledger.directory import Directory, LedgerError, checked_lao

    with pytest.raises(LedgerError) as cli_says:
        checked_lao("05510109", "อบต.ไม่มีจังหวัด", province)
    req = SpoolRequest("20240715T103000-cli-noprov", "lao_add", datetime.now(BANGKOK), "cli",
                       lao_code="05510109", lao_name="อบต.ไม่มีจังหวัด", province=province)
    path = write_request(tmp_path, req)
    store, publisher = _publisher(tmp_path)
    caplog.set_level(logging.ERROR, logger="handlers.spool")
    assert apply_spool(tmp_path, publisher) == []
    assert Directory(store).lao("05510109") is None  # nothing written
    assert (path.parent / "rejected" / path.name).exists()
    logged = [r.getMessage() for r in caplog.records if path.name in r.getMessage()]
    assert logged and why in logged[0] and str(cli_says.value) in logged[0]
    store.close()
