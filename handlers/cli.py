"""The ``elaas-bot`` command line: chat, ask, kb, and the operator commands.

(Over 500 lines on purpose: the argument wiring of every ``elaas-bot`` subcommand in one
place, each command a short function; the console and operator commands are in cli_console.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.codec import encode
from bot.core.store import StoreError, lock_data_dir
from bot.core.yamlload import DataError
from bot.notices.status import BANGKOK
from handlers.settings import Settings
from handlers.storage import open_store

if TYPE_CHECKING:
    from bot.core.store import Store
    from bot.ledger.directory import Role
    from handlers.spool import SpoolRequest




class UsageError(Exception):
    """Bad input on the command line: printed as ``elaas-bot: message``, exit code 2."""


def _write_output(path: Path, data: bytes) -> None:
    """Write a file the operator asked for (``-o``), all or nothing: a temp file beside it,
    renamed over it; a missing folder, a folder as the target or a failed write is a
    UsageError (one line), never a traceback or a half-written file."""
    import os
    import tempfile

    if path.is_dir():
        raise UsageError(f"{path} is a folder: give a file name (e.g. {path / 'file'})")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"no folder {folder} (create it first, or write elsewhere)")
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        mask = os.umask(0)  # mkstemp makes 0600; the operator's file gets the usual mode
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _count(text: str) -> int:
    """An argparse type: a whole number from 1 (``--limit``, ``--notices``)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"not a whole number from 1: {text!r}")
    return n


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise SystemExit(f"configuration error: {exc}") from exc


def cmd_chat(args: argparse.Namespace) -> int:
    import logging

    from handlers.app import build_core
    from handlers.console_adapter import run_console
    from handlers.web.server import configure_logging

    settings = _settings()
    lock = lock_data_dir(settings.data_dir)
    # Warnings go to a file: a log line printed between chat messages reads as the bot's.
    configure_logging(settings, level=logging.WARNING, path=settings.data_dir / "chat.log")
    try:
        core = build_core(settings)
        run_console(core.engine, user_id=args.user, export_dir=settings.export_dir)
        core.close()
    finally:
        lock.release()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from handlers.app import collector_paused

    # One question, then exit: the cyclic garbage collector would walk the modules and indexes
    # being built again and again (0.05 s and more) to find next to nothing.
    with collector_paused():
        return _ask(args)


def _ask(args: argparse.Namespace) -> int:
    from bot.core.contract import Incoming
    from handlers.app import build_core

    text = " ".join(args.text)
    # An in-memory core with the operators' status (the seed when none was set yet): what
    # the bot would send now, no writes.
    settings = _settings()
    core = build_core(settings, store=_status_copy(settings))
    replies = core.engine.reply_to(Incoming("console", "ask", "ask", text=text, event_id="ask"))
    if args.json:
        result = core.engine.matcher.match(text)
        # The topic the bot answered with (a long message is answered from a part of it).
        answered = next((r.topic for r in replies if r.topic), None)
        print(json.dumps({
            "topic": answered or result.topic,
            "score": round(result.score, 1),
            "alternatives": [{"topic": s.topic, "score": s.score} for s in result.ranked
                             if s.topic != result.topic][:3],
            "replies": [{"text": r.text, "choices": [{"label": c.label, "action": c.action}
                                                     for c in r.choices]} for r in replies],
        }, ensure_ascii=False))  # fmt: skip
        return 0
    for r in replies:
        print(r.text)
        for i, c in enumerate(r.choices, 1):
            print(f"  {i}) {c.label}")
    return 0


def _status_copy(settings: Settings) -> Store:
    """An in-memory store holding the status signals of the data dir (or database), read
    without the lock as ``status show`` does; empty when there is no data dir yet."""
    from bot.core.store import MemoryStore
    from bot.notices.signals import FIELD_TABLE, PROBE_TABLE
    from bot.notices.status import TABLE

    copy = MemoryStore()
    if not settings.database_url and not settings.data_dir.is_dir():
        return copy
    store = open_store(settings)
    try:
        for name in (TABLE, PROBE_TABLE, FIELD_TABLE):
            docs = store.table(name).all()
            if docs:
                copy.table(name).put_many(docs)
    finally:
        store.close()
    return copy


def _engine_commands(settings: Settings) -> set[str] | None:
    """The slash names serve's engine answers (built in memory), for a topic's ``command:``;
    None when the shipped knowledge does not load (kb check then reports why)."""
    from handlers.app import build_core

    try:
        core = build_core(settings, memory=True)
    except DataError:
        return None
    try:
        return core.engine.slash_names()
    finally:
        core.store.close()


def cmd_kb_check(args: argparse.Namespace) -> int:
    from bot.qa.kbcheck import run_checks
    from bot.qa.overlay import OVERLAY_NAME, Overlay

    if args.knowledge and not Path(args.knowledge).is_dir():
        raise UsageError(f"--knowledge: no folder {args.knowledge}")
    settings = _settings()
    path = settings.data_dir / OVERLAY_NAME
    # Several instances keep the console's phrasings in the database.
    overlay = Overlay(open_store(settings), path) if settings.database_url else path
    problems = run_checks(Path(args.knowledge) if args.knowledge else None, overlay=overlay,
                          commands=_engine_commands(settings))
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("knowledge OK")
    return 0


def cmd_kb_gaps(args: argparse.Namespace) -> int:
    from bot.qa.gaps import GapLog

    settings = _settings()
    gaps = GapLog(open_store(settings), date.today).top(args.limit)
    if not gaps:
        print("no unanswered questions recorded yet")
    for g in gaps:
        print(f"{g.count:5d}  {g.text}  (last {g.last.isoformat()})")
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from bot.ledger.entries import EntryError, NotAnEntry
    from bot.ledger.quickentry import parse_entry

    today = _day(args.today, "--today") or date.today()
    text = " ".join(args.text)
    try:
        entry = parse_entry(text, today)
    except EntryError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except NotAnEntry as exc:
        print(f"ไม่ใช่รายการรับ/จ่าย ({exc})" if str(exc) else "ไม่ใช่รายการรับ/จ่าย",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(entry.to_json(), ensure_ascii=False))
    else:
        from bot.ledger.quickentry import describe

        print(describe(entry))
    return 0


def _shared_store(settings: Settings) -> Store | None:
    """The PostgreSQL store when configured: operator commands then write to it directly."""
    return open_store(settings) if settings.database_url else None


def _post_lao(settings: Settings, req: SpoolRequest) -> str:
    """Apply an LAO change here, or hand it to the running ``serve``; how it went, in words."""
    from handlers.spool import post_request

    done = post_request(settings.data_dir, req, wait=5.0, store=_shared_store(settings))
    return {"applied": "", "served": " (applied by the running serve)",
            "queued": " (queued: serve has not picked it up yet; check `elaas-bot lao list`)",
            }[done.how]  # fmt: skip


def _lao_request(kind: str, **fields: Any) -> SpoolRequest:
    from handlers.spool import SpoolRequest, new_request_id

    now = datetime.now(BANGKOK)
    return SpoolRequest(id=new_request_id(now), kind=kind, created_at=now, by="cli", **fields)


def cmd_lao_add(args: argparse.Namespace) -> int:
    """Register an LAO; an existing code is refused unless ``--rename`` asks to change it."""
    from bot.ledger.directory import Directory, LedgerError, checked_lao

    settings = _settings()
    old = Directory(open_store(settings)).lao(args.code)  # read-only: no lock needed
    if args.rename and old is None:
        print(f"elaas-bot: ยังไม่มี อปท. รหัส {args.code} (เพิ่มใหม่: ไม่ต้องใส่ --rename)",
              file=sys.stderr)
        return 2
    if old is not None and not args.rename:
        print(f"elaas-bot: มี อปท. รหัส {old.code} แล้ว: {old.name} ({old.province or '-'}) "
              "ไม่ได้เปลี่ยนอะไร ถ้าจะเปลี่ยนชื่อหรือจังหวัด เพิ่ม --rename", file=sys.stderr)
        return 2
    province = args.province if args.province.strip() or old is None else old.province
    try:
        lao = checked_lao(args.code, args.name, province)
    except LedgerError as exc:
        print(f"elaas-bot: {exc}", file=sys.stderr)
        return 2
    req = _lao_request("lao_add", lao_code=lao.code, lao_name=lao.name, province=lao.province)
    how = _post_lao(settings, req)
    done = "added" if old is None else f"renamed {old.name} ({old.province or '-'}) ->"
    print(f"{done} {lao.code} {lao.name} ({lao.province or '-'}){how}")
    return 0


def cmd_lao_list(args: argparse.Namespace) -> int:
    from bot.ledger.book import Directory

    settings = _settings()
    directory = Directory(open_store(settings))  # read-only: no lock needed
    laos = directory.laos()
    if not laos:
        print("no LAOs yet: elaas-bot lao add CODE NAME --province P")
    for lao in laos:
        members = directory.members(lao.code)
        admins = sum(1 for m in members if m.is_admin)
        print(f"{lao.code}\t{lao.name}\t{lao.province or '-'}\t"
              f"{len(members)} member(s), {admins} admin(s)")
    unseen = [lao.code for lao in laos if not lao.province]
    if unseen:  # added before a province was required: only national admins see them
        print(f"elaas-bot: {len(unseen)} LAO(s) without a province, no provincial operator "
              f"sees them: {', '.join(unseen)}\n  set one: elaas-bot lao add CODE NAME "
              "--rename --province P", file=sys.stderr)
    return 0


def cmd_lao_invite(args: argparse.Namespace) -> int:
    from bot.core.thaifmt import thai_datetime
    from bot.ledger.book import Directory, LedgerError, new_join_code
    from bot.ledger.directory import check_invite_days

    settings = _settings()
    if Directory(open_store(settings)).lao(args.code) is None:
        print(f"elaas-bot: no LAO with code {args.code}: elaas-bot lao add first",
              file=sys.stderr)
        return 2
    role: Role = "admin" if args.admin else "member"
    try:
        check_invite_days(role, args.days)
    except LedgerError as exc:
        raise UsageError(f"--days: {exc}") from None
    code = new_join_code()
    req = _lao_request("lao_invite", lao_code=args.code, role=role, join_code=code,
                       days=args.days)
    how = _post_lao(settings, req)
    expires = thai_datetime(req.created_at + timedelta(days=args.days))
    print(f"join code ({role}) for {args.code}: {code}{how}")
    print(f"one-time, expires {expires}; in chat: เข้าร่วม {code}")
    return 0


def _day(text: str | None, option: str = "--from", *, end: bool = False) -> date | None:
    """A day typed as in chat (2024-07-09, 2567-07-09: years from 2400 are BE, 9/7/2567,
    ก.ค. 2567: its first or last day); the one reader of every CLI date option."""
    from bot.ledger.entries import EntryError
    from bot.ledger.quickentry import parse_period

    if not text:
        return None
    try:
        lo, hi = parse_period(text, datetime.now(BANGKOK).date())
    except EntryError:
        raise UsageError(f"{option}: cannot read the date {text!r} "
                         "(use YYYY-MM-DD, e.g. 2024-07-01 or 2567-07-01, or 1/7/2567)") from None
    return hi if end else lo


def _period(args: argparse.Namespace, *, max_days: int | None = None,
            default: date | None = None) -> tuple[date | None, date | None]:
    """``--from``/``--to`` checked: readable, in order, not longer than ``max_days``."""
    lo = _day(args.date_from, "--from") or default
    hi = _day(args.date_to, "--to", end=True) or (lo if default else None)
    if lo and hi and hi < lo:
        raise UsageError(f"--to {hi.isoformat()} is before --from {lo.isoformat()}: "
                         "nothing written (swap them?)")
    if max_days is not None and lo and hi and (hi - lo).days + 1 > max_days:
        raise UsageError(f"the period {lo.isoformat()}..{hi.isoformat()} is "
                         f"{(hi - lo).days + 1} days; at most {max_days} days at a time")
    return lo, hi


def cmd_export(args: argparse.Namespace) -> int:
    from bot.ledger.book import LedgerBook
    from bot.ledger.export import brought_forward, export_file

    settings = _settings()
    book = LedgerBook(open_store(settings))
    lao = book.directory.lao(args.code)
    if lao is None:
        print(f"elaas-bot: no LAO with code {args.code}", file=sys.stderr)
        return 2
    lo, hi = _period(args)
    ledger = book.ledger(args.code)
    entries = ledger.entries(lo, hi)
    opening = brought_forward(ledger.entries(), lo or (entries[0].date if entries else date.max))
    blob = export_file(lao, entries, args.format, lo, hi, now=datetime.now(BANGKOK),
                       opening=opening, names=book.directory.names(args.code))
    out = Path(args.output or blob.filename)
    _write_output(out, blob.data)
    print(f"wrote {out} ({len(entries)} entries, {len(blob.data):,} bytes)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import dataclasses
    import logging

    from handlers.eventloop import run as run_loop
    from handlers.web.server import ServeError, configure_logging, no_channel_message, serve

    settings = _settings()
    if args.host:
        settings = dataclasses.replace(settings, host=args.host)
    if args.port is not None:
        settings = dataclasses.replace(settings, port=args.port)
    missing = settings.missing_for_serve()
    if missing:
        print(f"elaas-bot serve: {no_channel_message(missing)}", file=sys.stderr)
        return 2
    configure_logging(settings, level=logging.DEBUG if args.verbose else logging.INFO)
    try:
        run_loop(serve(settings))
    except ServeError as exc:
        print(f"elaas-bot serve: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_line_richmenu(args: argparse.Namespace) -> int:
    import asyncio

    from handlers.line.richmenu import install_rich_menu, menu_image

    if args.save_image:
        _write_output(Path(args.save_image), menu_image())
        print(f"rich menu image written to {args.save_image}")
        return 0
    settings = _settings()
    if not settings.line_enabled:
        print("elaas-bot line richmenu: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN",
              file=sys.stderr)
        return 2
    try:
        image = Path(args.image).read_bytes() if args.image else None
    except OSError as exc:
        raise UsageError(f"cannot read {args.image}: {exc.strerror or exc}") from None
    ctype = "image/jpeg" if args.image and args.image.lower().endswith((".jpg", ".jpeg")) \
        else "image/png"
    from linebot.v3.messaging.exceptions import ApiException

    try:
        menu_id = asyncio.run(install_rich_menu(settings, image, ctype))
    except ApiException as exc:  # LINE's answer says what is wrong (size, token, ...)
        body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
        print(f"elaas-bot line richmenu: LINE answered HTTP {exc.status}: {body}",
              file=sys.stderr)
        return 1
    print(f"rich menu {menu_id} installed as the default menu")
    return 0


def cmd_status_show(args: argparse.Namespace) -> int:
    """Print the status, recent notices and waiting requests; reads without the lock."""
    from bot.notices.outbox import Outbox, Subscriptions
    from bot.notices.signals import snapshot
    from bot.notices.status import StatusBoard
    from bot.qa.knowledge import default_knowledge_dir
    from handlers.spool import pending_files
    from handlers.web.status_page import status_json

    settings = _settings()
    store = open_store(settings)
    board = StatusBoard(store, stale_days=settings.status_stale_days)  # no seed: never write
    seeded = not board.timeline()  # while serve may own the data dir
    if seeded:  # show the seed from an in-memory copy
        from bot.core.store import MemoryStore

        board = StatusBoard(MemoryStore(), seed=default_knowledge_dir() / "status.yaml",
                            stale_days=settings.status_stale_days)
    timeline, view = board.timeline(), board.current()
    snap = snapshot(board, store, datetime.now(BANGKOK), probe_on=bool(settings.probe_url))
    subs = Subscriptions(store).all()
    notices = Outbox(store).entries()[-args.notices:]
    waiting = pending_files(settings.data_dir)
    if args.json:
        doc = status_json(view, timeline, settings.public_base_url.rstrip("/"), snap)
        doc["subscribers"] = {ch: sum(1 for s in subs if s.channel == ch and s.receives)
                              for ch in ("line", "telegram")}
        doc["notices"] = [{**encode(n), "delivery": encode(d)} for n, d in notices]
        doc["spooled_requests"] = [p.name for p in waiting]
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0

    if seeded:
        print("(ยังไม่เคยเริ่ม serve: แสดงข้อมูลตั้งต้นจาก knowledge/status.yaml)")
    if timeline:
        print(snap.official_text())  # the state, its dates and source, the announced date
        print(snap.signals_text())
        print("\nความเป็นมา (ล่าสุดก่อน):")
        for u in reversed(timeline[-args.limit:]):
            phase = "" if u.phase == "update" else f" · {u.phase_th}"
            print(f"  #{u.seq} {u.when_th}  {u.state_th}{phase}")
            print(f"      {u.message[:200]}")
            for label, value in (("คาดว่าจะกลับมา", u.expected), ("อ้างอิง", u.ref)):
                if value:
                    print(f"      {label}: {value}")
    else:
        print("ยังไม่มีข้อมูลสถานะ")
    live = [s for s in subs if s.receives]
    print(f"\nผู้รับแจ้งเตือน: LINE {sum(s.channel == 'line' for s in live):,} ราย, "
          f"Telegram {sum(s.channel == 'telegram' for s in live):,} ราย "
          f"(ติดต่อไม่ได้ {sum(1 for s in subs if not s.reachable):,})")
    if notices:
        print("ประกาศล่าสุด:")
        words = {"pending": "รอส่ง", "sending": "กำลังส่ง", "done": "ส่งครบแล้ว"}
        for n, d in reversed(notices):
            print(f"  {n.id}  {words.get(d.status, d.status)}  ส่งถึง {d.delivered:,}/{d.total:,}"
                  f"  ติดต่อไม่ได้ {d.unreachable:,}  ล้มเหลว {d.failed:,}"
                  f"  ไม่แน่ใจ {d.uncertain:,}")
    if waiting:
        print(f"คำขอที่รอ serve อ่าน: {len(waiting)} ({', '.join(p.name for p in waiting)})")
    return 0


def cmd_status_set(args: argparse.Namespace) -> int:
    """Post a status update (and a notice with --notify), directly or through the spool."""
    from bot.notices.status import parse_state
    from bot.qa.knowledge import default_knowledge_dir
    from handlers.spool import SpoolRequest, new_request_id, post_request

    settings = _settings()
    try:
        state = parse_state(args.state)
    except ValueError as exc:
        print(f"elaas-bot status set: {exc}", file=sys.stderr)
        return 2
    if not args.message.strip():
        print("elaas-bot status set: --message must not be empty", file=sys.stderr)
        return 2
    now = datetime.now(BANGKOK)
    req = SpoolRequest(
        id=new_request_id(now), kind="status", created_at=now, by="cli", state=state,
        message=args.message.strip(), phase=args.phase, expected=args.expected or "",
        ref=args.ref or "", notify=args.notify,
    )  # fmt: skip
    done = post_request(settings.data_dir, req, seed=default_knowledge_dir() / "status.yaml",
                        status_url=settings.public_base_url.rstrip("/") + "/status",
                        wait=args.wait, store=_shared_store(settings))
    if done.how == "applied":
        assert done.update is not None
        print(f"บันทึกสถานะแล้ว: #{done.update.seq} {done.update.state_th}")
        if done.notice is not None:
            print(f"ประกาศ {done.notice.id} อยู่ในคิว จะส่งถึงผู้รับแจ้งเตือนเมื่อ elaas-bot serve ทำงาน")
    elif done.how == "served":
        print("elaas-bot serve กำลังทำงาน: ส่งคำขอให้แล้ว และเซิร์ฟเวอร์บันทึกเรียบร้อย"
              + (" (กำลังส่งแจ้งเตือน)" if args.notify else ""))
    else:
        print(f"elaas-bot serve กำลังทำงาน: คำขออยู่ในคิว {done.path} "
              "เซิร์ฟเวอร์จะบันทึกเมื่ออ่านคิว (ทุกราว 1 วินาที)")
    return 0


def _add_status_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bot.notices.status import PHASES

    status = sub.add_parser("status", help="e-LAAS status record and notices")
    sts = status.add_subparsers(dest="status_command", required=True)
    show = sts.add_parser("show", help="current status, timeline, notices (no lock needed)")
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.add_argument("--limit", type=_count, default=10, help="timeline entries to show")
    show.add_argument("--notices", type=_count, default=5, help="recent notices to show")
    show.set_defaults(func=cmd_status_show)
    st = sts.add_parser("set", help="post a status update (spooled to serve when it runs)")
    st.add_argument("--state", required=True,
                    help="normal|down|partial|maintenance (or the Thai name)")
    st.add_argument("--message", required=True, help="what happened, in Thai")
    st.add_argument("--expected", help="expected restoration, as announced (this update only: "
                    "an earlier estimate is not carried over)")
    st.add_argument("--ref", help="the source letter (this update only: give it again to keep "
                    "citing an earlier letter)")
    st.add_argument("--phase", choices=tuple(PHASES), default="update")
    st.add_argument("--notify", action="store_true", help="send a notice to subscribers")
    st.add_argument("--wait", type=float, default=5.0,
                    help="seconds to wait for a running serve to apply it (default 5)")
    st.set_defaults(func=cmd_status_set)


def cmd_form(args: argparse.Namespace) -> int:
    from bot.forms.catalog import (
        MAX_FILL_DAYS,
        lists_pending,
        render_blank,
        render_filled,
        render_pending,
    )
    from bot.ledger.book import LedgerBook
    from bot.qa.knowledge import default_knowledge_dir
    from handlers.app import form_catalog

    catalog = form_catalog(default_knowledge_dir().resolve())
    form = catalog.get(args.id)
    if form is None:
        print(f"elaas-bot: no form {args.id!r}; one of: {', '.join(catalog.ids())}",
              file=sys.stderr)
        return 2
    lo, hi = _period(args, max_days=MAX_FILL_DAYS, default=datetime.now(BANGKOK).date())
    if args.lao is None:
        blob = render_blank(form, args.format)
    else:
        book = LedgerBook(open_store(_settings()))
        lao = book.directory.lao(args.lao)
        if lao is None:
            print(f"elaas-bot: no LAO with code {args.lao}", file=sys.stderr)
            return 2
        if not form.fillable:
            blob = render_blank(form, args.format, lao=lao)
        elif lists_pending(form) and not (args.date_from or args.date_to):
            sheet = render_pending(form, args.format, lao=lao, printed_at=datetime.now(BANGKOK),
                                   pending=book.ledger(lao.code).pending_keyback())
            blob = sheet.file
            print(f"{len(sheet.shown)} entries still to key"
                  + (f", {sheet.left} more after these are marked keyed" if sheet.left else ""))
        else:
            assert lo is not None and hi is not None  # the default fills both
            try:
                blob = render_filled(form, args.format, lao=lao,
                                     entries=book.ledger(lao.code).entries(), date_from=lo,
                                     date_to=hi, printed_at=datetime.now(BANGKOK))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    out = Path(args.output or blob.filename)
    _write_output(out, blob.data)
    print(f"wrote {out} ({len(blob.data):,} bytes)")
    return 0


def _database_url() -> str:
    url = _settings().database_url
    if not url:
        raise StoreError("ELAAS_DATABASE_URL is not set (postgresql://user:password@host/db)")
    return url


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from bot.core.pgstore import LATEST, describe_url, migrate

    url = _database_url()
    done = migrate(url)
    for m in done:
        print(f"applied migration {m.version:04d} {m.name}")
    print(f"{describe_url(url)}: schema version {LATEST}"
          + ("" if done else " (already up to date)"))
    return 0


def cmd_db_import(args: argparse.Namespace) -> int:
    from bot.core.pgstore import PgStore
    from bot.core.store import TinyStore
    from bot.ledger.dbimport import import_store

    url = _database_url()
    src_dir = Path(args.source)
    if not src_dir.is_dir():
        raise StoreError(f"no data folder at {src_dir}")
    lock = lock_data_dir(src_dir)  # refuses while a serve still writes to it
    try:
        src, dst = TinyStore(src_dir), PgStore(url)
        try:
            report = import_store(src, dst)
            phrasings = _import_overlay(src_dir, dst)
        finally:
            dst.close()
            src.close()
    finally:
        lock.release()
    for line in report.lines():
        print(line)
    print(phrasings)
    return 0 if report.ok else 1


def _import_overlay(src_dir: Path, dst: Store) -> str:
    """Copy the console's phrasings file into the shared table; one summary line."""
    from bot.qa.knowledge import default_knowledge_dir, load_knowledge
    from bot.qa.overlay import OVERLAY_NAME, Overlay, read_overlay

    ids = load_knowledge(default_knowledge_dir()).ids
    items, problems = read_overlay(src_dir / OVERLAY_NAME, ids)
    overlay = Overlay(dst, src_dir / OVERLAY_NAME)
    for item in items:
        overlay.add(item)
    for p in problems:
        print(f"left out: {p}", file=sys.stderr)
    return (f"วิธีถามจากคอนโซล console phrasings: {len(items):,} → {overlay.where}"
            + (f" ({len(problems)} left out, see above)" if problems else ""))


def _add_db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="PostgreSQL (ELAAS_DATABASE_URL): migrate, import")
    dbs = db.add_subparsers(dest="db_command", required=True)
    dbs.add_parser("migrate", help="apply schema migrations (safe to run from several hosts)"
                   ).set_defaults(func=cmd_db_migrate)
    imp = dbs.add_parser("import", help="copy an embedded data folder into PostgreSQL, verify")
    imp.add_argument("--from", dest="source", required=True, metavar="DATA_DIR",
                     help="the embedded data folder (stop serve on it first)")
    imp.set_defaults(func=cmd_db_import)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="elaas-bot", description="e-LAAS outage assistant")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="terminal chat on the data dir (ELAAS_DATA_DIR, ./data)")
    chat.add_argument("--user", default="local", help="the local user id (default: local)")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("--json", action="store_true", help="print the match as JSON")
    ask.add_argument("text", nargs="+")
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kbs = kb.add_subparsers(dest="kb_command", required=True)
    check = kbs.add_parser("check", help="validate knowledge/ (exit 1 on any problem)")
    check.add_argument("--knowledge", help="knowledge folder (default: the shipped one)")
    check.set_defaults(func=cmd_kb_check)
    gaps = kbs.add_parser("gaps", help="most frequent unanswered questions")
    gaps.add_argument("--limit", type=_count, default=30)
    gaps.set_defaults(func=cmd_kb_gaps)

    serve = sub.add_parser("serve", help="run LINE + Telegram + file links in one process")
    serve.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: PORT or 8080)")
    serve.add_argument("--verbose", action="store_true", help="debug logging")
    serve.set_defaults(func=cmd_serve)

    line = sub.add_parser("line", help="LINE channel tools")
    lines = line.add_subparsers(dest="line_command", required=True)
    richmenu = lines.add_parser("richmenu", help="install the Thai rich menu as the default")
    richmenu.add_argument("--image", help="PNG/JPEG 2500x1686 to upload (default: generated)")
    richmenu.add_argument("--save-image", metavar="PATH",
                          help="only write the generated PNG to PATH (no LINE calls)")
    richmenu.set_defaults(func=cmd_line_richmenu)

    parse = sub.add_parser("parse", help="parse a quick entry (exit 2 malformed, 1 not an entry)")
    parse.add_argument("--json", action="store_true", help="print the entry as JSON")
    parse.add_argument("--today", help="the date taken as today, YYYY-MM-DD")
    parse.add_argument("text", nargs="+")
    parse.set_defaults(func=cmd_parse)

    lao = sub.add_parser("lao", help="LAOs and join codes")
    laos = lao.add_subparsers(dest="lao_command", required=True)
    add = laos.add_parser("add", help="register an LAO")
    add.add_argument("code", help="DLA code (digits, leading zeros kept)")
    add.add_argument("name")
    add.add_argument("--province", default="",
                     help="a Thai province, e.g. ลำพูน (required for a new LAO: provincial "
                          "operators see their provinces' LAOs only)")
    add.add_argument("--rename", action="store_true",
                     help="change the name/province of an existing code (refused otherwise)")
    add.set_defaults(func=cmd_lao_add)
    laos.add_parser("list", help="list LAOs").set_defaults(func=cmd_lao_list)
    inv = laos.add_parser("invite", help="print a one-time join code")
    inv.add_argument("code")
    inv.add_argument("--admin", action="store_true", help="the code makes an LAO admin")
    inv.add_argument("--days", type=int, default=7,
                     help="days until it expires (default 7; an admin code may live less "
                     "long than a member code)")
    inv.set_defaults(func=cmd_lao_invite)

    exp = sub.add_parser("export", help="export an LAO's entries (xlsx or csv)")
    exp.add_argument("code")
    exp.add_argument("--from", dest="date_from",
                     help="first day, YYYY-MM-DD (a year from 2400 is BE) or 1/7/2567")
    exp.add_argument("--to", dest="date_to",
                     help="last day, YYYY-MM-DD (a year from 2400 is BE) or 31/7/2567")
    exp.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    exp.add_argument("-o", "--output", help="file to write (default: a name with code and date)")
    exp.set_defaults(func=cmd_export)

    form = sub.add_parser("form", help="a printable form, blank or filled from an LAO's entries")
    form.add_argument("id", help="form id, e.g. cash-receipts-book (see knowledge/forms)")
    form.add_argument("--lao", help="LAO code: fill the form from its entries")
    form.add_argument("--from", dest="date_from", help="first day, as for export (default today; "
                      "keyback-worksheet: every entry still to key)")
    form.add_argument("--to", dest="date_to", help="last day, as for export (default --from)")
    form.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
    form.add_argument("-o", "--output", help="file to write")
    form.set_defaults(func=cmd_form)

    _add_status_parser(sub)
    from handlers.cli_console import add_console_parsers

    add_console_parsers(sub)
    _add_db_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``elaas-bot`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (DataError, StoreError, UsageError) as exc:
        print(f"elaas-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def run() -> None:
    """Console-script entry: run, flush, and skip the interpreter's teardown.

    Freeing the tokenizer's 500,000-node dictionary trie at interpreter exit takes about a
    second, longer than answering the question; every file this process wrote is already
    complete (atomic writes), so leaving through ``os._exit`` loses nothing.
    """
    import os

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
