"""The operator console under ``/console``: login by one-time link, then Thai pages for status
and notices, key-back progress, LAOs and join codes, unanswered questions and subscribers.

Every request resolves the actor again from the stores (a revoked operator is out at once),
every POST carries the session's CSRF token, and every page and action is checked against the
actor's scope on the server. Store work runs on the engine thread (``app[FLOW].call``), the
only thread that touches the store. Over 500 lines: one route table and its handlers read
best together; the HTML pieces live in ``layout.py`` and the progress page in ``progress.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from bot.core.sharing import is_shared
from bot.core.store import StoreError
from bot.core.yamlload import DataError
from bot.ledger.book import Directory, LedgerError, Role, valid_lao_code
from bot.ledger.directory import checked_lao
from bot.ledger.entries import Lao
from bot.ledger.names import shown_name
from bot.ledger.summary import Summaries
from bot.notices.board import MAX_NOTICE_TEXT, Publisher, announce_text, new_key
from bot.notices.console_auth import LoginLinks, LoginRefused, Sessions
from bot.notices.console_gaps import mark_handled, read_gaps
from bot.notices.operators import Actor, OperatorError, Operators, resolve_actor
from bot.notices.outbox import (
    PROVINCES,
    Notice,
    Outbox,
    Subscriptions,
    normalize_province,
    province_of,
)
from bot.notices.status import BANGKOK, STATES, StatusUpdate
from bot.qa.matching import Matcher
from bot.qa.overlay import (
    MAX_PHRASING,
    OVERLAY_NAME,
    OverlayPhrasing,
    apply_overlay,
    phrasing_problem,
)
from handlers.app import Core, refresh_overlay
from handlers.appkeys import CORE, FLOW, add_background
from handlers.web.files import content_disposition
from handlers.web.layout import (
    NAV,
    csrf_field,
    h,
    message,
    options,
    page,
    table,
    thai_when,
)
from handlers.web.progress import Query, ScopeError, render_progress, select, to_csv, to_xlsx

_LOG = logging.getLogger(__name__)
COOKIE = "elaas_console"
MAX_FORM = 64 * 1024
_KEY = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")
_NOTICE_ID = re.compile(r"^[0-9A-Za-z_.\-]{1,100}$")
StoreCall = Callable[..., Awaitable[Any]]

TOO_BIG_TH = "ข้อมูลที่ส่งมามีขนาดใหญ่เกินไป (เกิน 64 KB) กรุณาย่อข้อความแล้วส่งใหม่ค่ะ"
CSRF_TH = "แบบฟอร์มนี้หมดอายุหรือไม่ได้มาจากหน้าคอนโซล กรุณาเปิดหน้าเดิมใหม่แล้วลองอีกครั้งค่ะ"
NO_RIGHT_TH = "คุณไม่มีสิทธิ์ทำรายการนี้ค่ะ"
NO_LAO_TH = "ไม่พบ อปท. นี้ในขอบเขตที่คุณดูแลค่ะ"
SIGN_IN_TH = (
    "ยังไม่ได้เข้าสู่ระบบ หรือไม่ได้ใช้งานนานเกินไป\n"
    "ขอลิงก์เข้าระบบโดยพิมพ์ /console ในแชตส่วนตัวกับบอท (LINE หรือ Telegram) "
    "ลิงก์ใช้ได้ครั้งเดียวภายใน 10 นาที"
)


class Refused(Exception):
    """A request the console turns down with a Thai page; ``reason`` goes to the log."""

    def __init__(self, status: int, message_th: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.message_th = message_th
        self.reason = reason


@dataclass
class ConsoleState:
    """What the console's handlers share (one per app)."""

    core: Core
    call: StoreCall
    links: LoginLinks
    sessions: Sessions
    secure: bool
    admins: frozenset[str]
    operators: Operators
    directory: Directory
    summaries: Summaries
    publisher: Publisher
    outbox: Outbox
    subs: Subscriptions
    data_dir: Path
    clock: Callable[[], datetime]



CONSOLE = web.AppKey("console", ConsoleState)


@dataclass
class Req:
    """One signed-in request: who, their CSRF token, the form (POST) and a CSP nonce."""

    request: web.Request
    actor: Actor
    csrf: str
    sid: str
    form: dict[str, str]
    nonce: str

    @property
    def st(self) -> ConsoleState:
        return self.request.app[CONSOLE]

    def render(self, title: str, body: str, *, status: int = 200,
               script: str = "") -> web.Response:
        nav = [(url, title) for url, title in NAV if may_open(self.actor, url)]
        who = f"{self.actor.role_th} · {self.actor.user}"
        if self.actor.provinces:
            who += " · จังหวัด" + ", ".join(sorted(self.actor.provinces))
        if self.actor.lao_code:
            who += f" · อปท. {self.actor.lao_code}"
        return html_response(page(title, body, nonce=self.nonce, who=who, csrf=self.csrf,
                                  nav=nav, script=script), status, self.nonce)


# --------------------------------------------------------------------------- plumbing


def html_response(text: str, status: int, nonce: str) -> web.Response:
    csp = (f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
           "connect-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8",
                        headers=_headers(csp))


def _headers(csp: str = "default-src 'none'; frame-ancestors 'none'") -> dict[str, str]:
    return {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "Content-Security-Policy": csp}


def bare_page(title: str, text: str, status: int, extra: str = "") -> web.Response:
    nonce = secrets.token_urlsafe(12)
    body = "".join(f"<p>{h(line)}</p>" for line in text.split("\n")) + extra
    return html_response(page(title, body, nonce=nonce), status, nonce)


def refused(request: web.Request, exc: Refused, user: str = "-") -> web.Response:
    path = request.path
    if path.startswith("/console/login/"):
        path = "/console/login/***"  # even a refused token stays out of the log
    _LOG.warning("console refused %s %s for %s: %s (%d)", request.method, path, user,
                 exc.reason, exc.status)
    return bare_page("ทำรายการไม่ได้", exc.message_th, exc.status,
                     '<p><a href="/console">กลับหน้าแรกคอนโซล</a></p>')


async def read_form(request: web.Request) -> dict[str, str]:
    """The url-encoded form of a POST, at most MAX_FORM bytes (Refused otherwise)."""
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise Refused(413, TOO_BIG_TH, f"form of {request.content_length} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_FORM:
            raise Refused(413, TOO_BIG_TH, "form over the limit (chunked)")
        chunks.append(chunk)
    try:
        raw = b"".join(chunks).decode("utf-8")
        parsed = parse_qs(raw, keep_blank_values=True, max_num_fields=200, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, "อ่านข้อมูลในแบบฟอร์มไม่ได้ กรุณาลองใหม่ค่ะ", "unreadable form") from exc
    return {k: v[0] for k, v in parsed.items()}


Handler = Callable[[Req], Awaitable[web.StreamResponse]]


def signed_in(fn: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler: session cookie, actor, CSRF on POST, Refused -> Thai page."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        st = request.app[CONSOLE]
        cookie = request.cookies.get(COOKIE, "")
        session = await st.call(st.sessions.get, cookie) if cookie else None
        if session is None:
            if cookie:
                _LOG.warning("console: unknown, forged or idle session cookie on %s",
                             request.path)
            if request.method == "POST":
                return refused(request, Refused(401, SIGN_IN_TH, "POST without a session"))
            resp = bare_page("เข้าสู่ระบบ", SIGN_IN_TH, 401)
            if cookie:
                resp.del_cookie(COOKIE, path="/console")
            return resp
        actor = await st.call(resolve_actor, session.user, st.admins, st.operators,
                              st.directory)
        if actor is None:
            await st.call(st.sessions.drop, session.sid)
            return refused(request, Refused(403, "บัญชีนี้ไม่มีสิทธิ์ใช้คอนโซลแล้วค่ะ",
                                            "role revoked"), session.user)
        try:
            form: dict[str, str] = {}
            if request.method == "POST":
                form = await read_form(request)
                if not Sessions.csrf_ok(session, form.get("csrf", "")):
                    raise Refused(403, CSRF_TH, "missing or wrong CSRF token")
            req = Req(request, actor, session.csrf, session.sid, form,
                      secrets.token_urlsafe(12))
            return await fn(req)
        except Refused as exc:
            return refused(request, exc, session.user)

    return wrapper


NOTES = {  # after-redirect messages by key, so a crafted link cannot put words on a page
    "revoked": "ยกเลิกรหัสแล้ว", "no_code": "ไม่พบรหัสนี้ (อาจถูกใช้หรือยกเลิกไปแล้ว)",
    "handled": "บันทึกว่าจัดการแล้ว", "no_gap": "ไม่พบคำถามนี้",
    "added": "เพิ่มวิธีถามแล้ว บอทใช้ได้ทันที",
}


def _note(req: Req) -> str:
    text = NOTES.get(req.request.query.get("msg", ""))
    return message(text) if text else ""


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **_headers()})


def _need(cond: bool, reason: str, message_th: str = NO_RIGHT_TH, status: int = 403) -> None:
    if not cond:
        raise Refused(status, message_th, reason)


# --------------------------------------------------------------------------- login


async def landing(request: web.Request) -> web.StreamResponse:
    st = request.app[CONSOLE]
    cookie = request.cookies.get(COOKIE, "")
    if cookie and await st.call(st.sessions.get, cookie) is not None:
        return await signed_in(home)(request)
    return bare_page("คอนโซลผู้ดูแล", SIGN_IN_TH, 200)


async def login_page(request: web.Request) -> web.StreamResponse:
    """GET of a login link: a button, so that link previews in chat apps do not use it up."""
    st = request.app[CONSOLE]
    token = request.match_info["token"]
    try:
        user, _, _ = await st.call(st.links.check, token)
    except LoginRefused as exc:
        status = 410 if exc.reason in ("expired", "used") else 403
        return refused(request, Refused(status, str(exc), f"login link {exc.reason}"))
    form = (f'<form method="post" action="/console/login">'
            f'<input type="hidden" name="token" value="{h(token)}">'
            '<button type="submit">เข้าสู่คอนโซล</button></form>')
    return bare_page("เข้าสู่คอนโซล", f"ลิงก์สำหรับ {user} กดปุ่มด้านล่างเพื่อเข้าสู่ระบบ "
                     "(ลิงก์ใช้ได้ครั้งเดียว)", 200, form)


async def login_post(request: web.Request) -> web.StreamResponse:
    st = request.app[CONSOLE]
    try:
        form = await read_form(request)
        try:
            user = await st.call(st.links.redeem, form.get("token", ""))
        except LoginRefused as exc:
            status = 410 if exc.reason in ("expired", "used") else 403
            raise Refused(status, str(exc), f"login link {exc.reason}") from exc
        actor = await st.call(resolve_actor, user, st.admins, st.operators, st.directory)
        if actor is None:
            raise Refused(403, "บัญชีนี้ไม่มีสิทธิ์ใช้คอนโซลค่ะ", f"{user} holds no role")
    except Refused as exc:
        return refused(request, exc)
    old = request.cookies.get(COOKIE, "")
    if old:
        sess = await st.call(st.sessions.get, old)
        if sess is not None:
            await st.call(st.sessions.drop, sess.sid)
    value, _ = await st.call(st.sessions.create, user)
    _LOG.info("console: %s signed in as %s", user, actor.role)
    resp = see_other("/console")
    resp.set_cookie(COOKIE, value, path="/console", httponly=True, samesite="Strict",
                    secure=st.secure)
    return resp


@signed_in
async def logout(req: Req) -> web.StreamResponse:
    await req.st.call(req.st.sessions.drop, req.sid)
    resp = see_other("/console")
    resp.del_cookie(COOKIE, path="/console")
    return resp


# --------------------------------------------------------------------------- home


# Who may open each menu page: the pages check these same Actor rights (the others are open
# to every role, scoped inside), and the menus show only what the actor may open.
MENU_RIGHTS: dict[str, Callable[[Actor], bool]] = {
    "/console/notices": lambda a: a.may_see_notices,
    "/console/subscribers": lambda a: a.may_see_notices,
    "/console/gaps": lambda a: a.may_edit_knowledge,
    "/console/operators": lambda a: a.national,
}
HOME_ITEMS = (
    ("/console/notices", "ประกาศสถานะหรือแจ้งข่าวถึงผู้รับแจ้งเตือน"),
    ("/console/progress", "ดูความคืบหน้าการคีย์ย้อนหลังของ อปท. ในความดูแล"),
    ("/console/laos", "เพิ่ม อปท. ออกรหัสเข้าร่วม และดูสมาชิก"),
    ("/console/subscribers", "จำนวนผู้รับแจ้งเตือน"),
    ("/console/gaps", "คำถามที่บอทตอบไม่ได้"),
)


def may_open(actor: Actor, url: str) -> bool:
    """Whether ``actor`` may open the console page ``url`` (see MENU_RIGHTS)."""
    right = MENU_RIGHTS.get(url)
    return right is None or right(actor)


async def home(req: Req) -> web.StreamResponse:
    st = req.st
    view = await st.call(st.core.status.current)
    status = (f"สถานะ e-LAAS ตอนนี้: <strong>{h(view.state_th)}</strong> "
              f"(อัปเดต {h(thai_when(view.latest.at.isoformat()))})" if view else
              "ยังไม่มีบันทึกสถานะ")
    items = [(url, title) for url, title in HOME_ITEMS if may_open(req.actor, url)]
    links = "".join(f'<li><a href="{u}">{h(t)}</a></li>' for u, t in items)
    return req.render("หน้าแรก", f'<div class="card">{status}</div><ul>{links}</ul>')


# --------------------------------------------------------------------------- progress


@signed_in
async def progress(req: Req) -> web.StreamResponse:
    query = Query.parse(dict(req.request.query))
    rows = await req.st.call(req.st.summaries.all)
    today = req.st.clock().date()
    try:
        body = render_progress(req.actor, rows, query, today)
    except ScopeError as exc:
        raise Refused(403, "คุณไม่มีสิทธิ์ดูข้อมูลจังหวัดนี้ค่ะ", f"province {exc}") from exc
    return req.render("ความคืบหน้าการคีย์ย้อนหลัง", body)


def _download(kind: str) -> Handler:
    async def handler(req: Req) -> web.StreamResponse:
        query = Query.parse(dict(req.request.query))
        summaries = await req.st.call(req.st.summaries.all)
        try:
            rows = select(req.actor, summaries, query)
        except ScopeError as exc:
            raise Refused(403, "คุณไม่มีสิทธิ์ดูข้อมูลจังหวัดนี้ค่ะ", f"province {exc}") from exc
        stamp = req.st.clock().strftime("%Y%m%d")
        if kind == "csv":
            data, mime = to_csv(rows), "text/csv"
        else:
            data = await asyncio.to_thread(to_xlsx, rows)
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return web.Response(body=data, headers={
            **_headers(), "Content-Type": mime,
            "Content-Disposition": content_disposition(f"progress-{stamp}.{kind}", mime)})

    return handler


# --------------------------------------------------------------------------- notices


def _notice_visible(actor: Actor, notice: Notice) -> bool:
    return actor.national or not notice.province or notice.province in actor.provinces


def _province_choices(actor: Actor) -> list[tuple[str, str]]:
    if actor.national:
        return [("", "ทั่วประเทศ (ทุกคนที่รับแจ้งเตือน)")] + [(p, f"จังหวัด{p}") for p in PROVINCES]
    return [(p, f"จังหวัด{p}") for p in sorted(actor.provinces)]


def _notice_form(req: Req, values: dict[str, str], error: str = "") -> str:
    actor = req.actor
    kinds = [("announce", "ประกาศข่าว")]
    if actor.may_set_status:
        kinds.insert(0, ("status", "ตั้งสถานะ e-LAAS (ประกาศถึงทุกคน)"))
    states = [(k, v) for k, v in STATES.items()]
    status_fields = (
        '<label for="state">สถานะ (เฉพาะตั้งสถานะ)</label><select id="state" name="state">'
        + options(states, values.get("state", "down")) + "</select>"
        '<label for="ref">อ้างอิง (เช่น เลขที่หนังสือ ถ้ามี)</label>'
        f'<input id="ref" name="ref" maxlength="200" value="{h(values.get("ref", ""))}">'
        '<label for="expected">คาดว่าจะกลับมา (ถ้ามี)</label>'
        f'<input id="expected" name="expected" maxlength="100" '
        f'value="{h(values.get("expected", ""))}">'
    ) if actor.may_set_status else ""
    return (
        (message(error, ok=False) if error else "")
        + '<form class="card" method="post" action="/console/notices/preview">'
        + csrf_field(req.csrf)
        + '<label for="kind">ประเภท</label><select id="kind" name="kind">'
        + options(kinds, values.get("kind", "announce")) + "</select>"
        + '<label for="province">ส่งถึง</label><select id="province" name="province">'
        + options(_province_choices(actor), values.get("province", "")) + "</select>"
        + status_fields
        + f'<label for="message">ข้อความ (ไม่เกิน {MAX_NOTICE_TEXT:,} ตัวอักษร)</label>'
        f'<textarea id="message" name="message" maxlength="{MAX_NOTICE_TEXT}">'
        f'{h(values.get("message", ""))}</textarea>'
        '<button type="submit">ดูตัวอย่างก่อนส่ง</button></form>'
    )


DELIVERY_TH = {"pending": "รอส่ง", "sending": "กำลังส่ง", "done": "ส่งครบแล้ว"}


async def _history(req: Req) -> str:
    entries = await req.st.call(req.st.outbox.entries)
    rows = []
    for notice, d in reversed(entries[-200:]):
        if not _notice_visible(req.actor, notice):
            continue
        first = notice.text.split("\n", 1)[-1][:80] if notice.kind == "announce" else \
            notice.text.split("\n", 1)[0][:80]
        rows.append([h(thai_when(notice.created_at.isoformat())),
                     h(f"จังหวัด{notice.province}" if notice.province else "ทั่วประเทศ"),
                     f'<a href="/console/notices/{h(notice.id)}">{h(first)}</a>',
                     h(DELIVERY_TH.get(d.status, d.status)), f"{d.delivered:,}/{d.total:,}"])
    if not rows:
        return '<p class="muted">ยังไม่มีประกาศ</p>'
    return table((("เวลา", False), ("ส่งถึง", False), ("ข้อความ", False), ("สถานะ", False),
                  ("ส่งแล้ว", True)), rows[:50])


@signed_in
async def notices(req: Req) -> web.StreamResponse:
    _need(req.actor.may_see_notices, "notices page for an LAO admin",
          "หน้านี้สำหรับผู้ดูแลระดับจังหวัดขึ้นไปค่ะ")
    body = _notice_form(req, {}) + "<h2>ประวัติการประกาศ</h2>" + await _history(req)
    return req.render("สถานะและประกาศ", body)


@dataclass(frozen=True)
class Draft:
    kind: str
    province: str
    message: str
    state: str = ""
    ref: str = ""
    expected: str = ""
    provincial: bool = False  # sent by a provincial operator: signed by the สถจ.


def _draft(req: Req) -> Draft:
    """The notice in the form, checked against the actor's rights (raises Refused)."""
    f = req.form
    actor = req.actor
    _need(actor.may_see_notices, "notice by an LAO admin")
    kind = f.get("kind", "announce")
    _need(kind in ("announce", "status"), f"unknown notice kind {kind!r}", status=400)
    raw_province = f.get("province", "").strip()
    province = ""
    if raw_province:
        name = normalize_province(raw_province)
        _need(name is not None, f"unknown province {raw_province!r}",
              "ไม่รู้จักจังหวัดที่เลือกค่ะ", 400)
        province = name or ""
    if kind == "status":
        _need(actor.may_set_status, "status post by a non-national operator",
              "ตั้งสถานะ e-LAAS ได้เฉพาะผู้ดูแลระดับประเทศค่ะ")
        province = ""
    _need(actor.may_notify(province), f"notice to province {province or 'all'!r} out of scope",
          "คุณส่งประกาศถึงจังหวัดนี้ไม่ได้ค่ะ")
    text = f.get("message", "").strip()
    state = f.get("state", "")
    if kind == "status":
        _need(state in STATES, f"unknown state {state!r}", "สถานะไม่ถูกต้องค่ะ", 400)
    return Draft(kind, province, text, state if kind == "status" else "",
                 f.get("ref", "").strip()[:200], f.get("expected", "").strip()[:100],
                 provincial=not actor.national)


def _check_text(req: Req, draft: Draft) -> str:
    if not draft.message:
        return "กรุณาพิมพ์ข้อความก่อนค่ะ"
    if len(draft.message) > MAX_NOTICE_TEXT:
        return f"ข้อความยาวเกินไปค่ะ (เกิน {MAX_NOTICE_TEXT:,} ตัวอักษร) ช่วยย่อให้สั้นลง"
    return ""


def _sample(st: ConsoleState, draft: Draft, now: datetime) -> tuple[str, str]:
    """The text subscribers will get (the chat commands' own texts) and a heading."""
    if draft.kind == "announce":
        return announce_text(draft.message, now, draft.province,
                             provincial=draft.provincial), ""
    view = st.core.status.current()
    restored = draft.state == "normal" and view is not None and view.state != "normal"
    probe = StatusUpdate(0, now, draft.state, draft.message,
                         "resolved" if restored else "update", draft.expected, draft.ref)
    head = f"สถานะจะเปลี่ยนเป็น \"{STATES[draft.state]}\" ทันทีที่ยืนยัน"
    if restored:
        head += " · สมาชิก อปท. จะได้จำนวนรายการค้างคีย์ของ อปท. ตัวเองต่อท้ายข้อความ"
    return st.publisher.status_text(probe, restored=restored), head


@signed_in
async def notice_preview(req: Req) -> web.StreamResponse:
    draft = _draft(req)
    error = _check_text(req, draft)
    if error:
        return req.render("สถานะและประกาศ", _notice_form(req, req.form, error), status=400)
    st = req.st
    now = st.clock()
    sample, head = await st.call(_sample, st, draft, now)
    counts = await st.call(st.publisher.audience_size, draft.province)
    per = ", ".join(f"{'LINE' if ch == 'line' else 'Telegram'} {n:,}"
                    for ch, n in sorted(counts.items()))
    hidden = "".join(f'<input type="hidden" name="{k}" value="{h(v)}">' for k, v in (
        ("kind", draft.kind), ("province", draft.province), ("message", draft.message),
        ("state", draft.state), ("ref", draft.ref), ("expected", draft.expected),
        ("key", new_key(now))))
    scope = f"จังหวัด{draft.province}" if draft.province else "ทั่วประเทศ"
    body = (
        (message(head) if head else "")
        + f'<div class="preview">{h(sample)}</div>'
        + f"<p>ส่งถึงผู้รับแจ้งเตือน <strong>{sum(counts.values()):,}</strong> ราย ({h(scope)})"
        + (f" · {h(per)}" if per else "") + "</p>"
        + '<form method="post" action="/console/notices/send">' + csrf_field(req.csrf) + hidden
        + '<button type="submit">ยืนยันส่ง</button></form>'
        + '<p><a href="/console/notices">แก้ไข / ยกเลิก</a></p>'
    )  # fmt: skip
    return req.render("ตัวอย่างก่อนส่ง", body)


@signed_in
async def notice_send(req: Req) -> web.StreamResponse:
    draft = _draft(req)
    error = _check_text(req, draft)
    if error:
        return req.render("สถานะและประกาศ", _notice_form(req, req.form, error), status=400)
    key = req.form.get("key", "")
    _need(bool(_KEY.match(key)), "bad notice key", CSRF_TH, 400)
    st = req.st
    now = st.clock()
    by = req.actor.user

    def post() -> Notice:
        # The same Publisher calls as the chat's /announce and /setstatus confirm step.
        if draft.kind == "announce":
            return st.publisher.announce(text=draft.message, key=key, now=now, by=by,
                                         province=draft.province,
                                         provincial=draft.provincial)
        view = st.core.status.current()
        restored = draft.state == "normal" and view is not None and view.state != "normal"
        _, notice = st.publisher.set_status(
            state=draft.state, message=draft.message, key=key, now=now, by=by,
            phase="resolved" if restored else "update", expected=draft.expected,
            ref=draft.ref)
        assert notice is not None
        return notice

    notice = await st.call(post)
    _LOG.info("console: %s queued notice %s (%s, %s)", by, notice.id, draft.kind,
              draft.province or "all")
    return see_other(f"/console/notices/{notice.id}")


def _live_counts(data_dir: Path, notice_id: str, database_url: str = "",
                 ) -> dict[str, int] | None:
    """Counts from the sender's plan and journal while a notice is being delivered (from
    the data dir, or from PostgreSQL whichever instance sends it)."""
    from bot.notices.delivery import summarize
    from handlers.notice_sender import line_parts
    from handlers.notice_state import delivery_state

    state = delivery_state(data_dir, database_url)
    plan = state.load_plan(notice_id)
    if plan is None:
        return None
    counts = summarize(plan, state.records(notice_id), line_parts)
    counts["total"] = plan.total
    return counts


async def _progress_of(st: ConsoleState, actor: Actor, notice_id: str,
                       ) -> tuple[Notice, dict[str, Any]]:
    _need(bool(_NOTICE_ID.match(notice_id)), "bad notice id", "ไม่พบประกาศนี้ค่ะ", 404)
    notice = await st.call(st.outbox.get, notice_id)
    _need(notice is not None, "unknown notice", "ไม่พบประกาศนี้ค่ะ", 404)
    assert notice is not None
    _need(_notice_visible(actor, notice), f"notice {notice_id} of another province",
          "ไม่พบประกาศนี้ค่ะ", 404)
    d = await st.call(st.outbox.delivery, notice_id)
    out: dict[str, Any] = {"status": d.status, "total": d.total, "delivered": d.delivered,
                           "failed": d.failed, "unreachable": d.unreachable,
                           "uncertain": d.uncertain, "pending": 0, "skipped": d.skipped}
    if d.status != "done":
        live = await asyncio.to_thread(_live_counts, st.data_dir, notice_id,
                                       st.core.settings.database_url)
        if live is not None:
            out.update({k: live[k] for k in ("delivered", "failed", "unreachable",
                                             "uncertain", "pending", "total")})
        else:
            out["pending"] = d.total
    out["status_th"] = DELIVERY_TH.get(d.status, d.status)
    return notice, out


COUNT_LABELS = (("status_th", "สถานะ"), ("total", "ผู้รับทั้งหมด"), ("delivered", "ส่งแล้ว"),
                ("pending", "รอส่ง"), ("failed", "ส่งไม่สำเร็จ"), ("unreachable", "ติดต่อไม่ได้"),
                ("uncertain", "ไม่แน่ใจว่าถึง"))
POLL_JS = """
(function(){var url=document.body.getAttribute('data-poll');if(!url)return;
function tick(){fetch(url,{credentials:'same-origin'}).then(function(r){return r.json()})
.then(function(d){for(var k in d){var el=document.getElementById('c-'+k);
if(el)el.textContent=typeof d[k]==='number'?d[k].toLocaleString('th-TH'):d[k];}
if(d.status!=='done')setTimeout(tick,2000);}).catch(function(){setTimeout(tick,5000)});}
setTimeout(tick,1000);})();
"""


@signed_in
async def notice_page(req: Req) -> web.StreamResponse:
    _need(req.actor.may_see_notices, "notice page for an LAO admin")
    notice, counts = await _progress_of(req.st, req.actor, req.request.match_info["nid"])
    rows = "".join(
        f'<tr><th>{h(label)}</th><td class="n" id="c-{key}">'
        f'{h(f"{counts[key]:,}" if isinstance(counts[key], int) else counts[key])}</td></tr>'
        for key, label in COUNT_LABELS)
    body = (f'<p class="muted">เลขที่ {h(notice.id)} · {h(thai_when(notice.created_at.isoformat()))}'
            f' · {h("จังหวัด" + notice.province if notice.province else "ทั่วประเทศ")}</p>'
            f'<div class="preview">{h(notice.text)}</div><h2>การส่ง</h2>'
            f'<div class="scroll"><table>{rows}</table></div>'
            '<p><a href="/console/notices">กลับไปหน้าประกาศ</a></p>')
    script = POLL_JS.replace("document.body.getAttribute('data-poll')",
                             json.dumps(f"/console/notices/{notice.id}/progress.json"))
    return req.render("การส่งประกาศ", body, script=script)


@signed_in
async def notice_json(req: Req) -> web.StreamResponse:
    _need(req.actor.may_see_notices, "notice progress for an LAO admin")
    _, counts = await _progress_of(req.st, req.actor, req.request.match_info["nid"])
    return web.json_response(counts, headers=_headers())


# --------------------------------------------------------------------------- LAOs


async def _lao_in_scope(req: Req, code: str) -> Lao:
    lao = await req.st.call(req.st.directory.lao, code) if valid_lao_code(code) else None
    _need(req.actor.sees_lao(lao), f"LAO {code!r} out of scope", NO_LAO_TH)
    assert lao is not None
    return lao


def _add_lao_form(req: Req, values: dict[str, str]) -> str:
    if req.actor.role == "lao_admin":
        return ""
    provinces = [(p, p) for p in (PROVINCES if req.actor.national
                                  else sorted(req.actor.provinces))]
    return ('<h2>เพิ่ม อปท.</h2><form class="card" method="post" action="/console/laos/add">'
            + csrf_field(req.csrf)
            + '<label for="code">รหัส อปท. (ตัวเลข 4-10 หลัก)</label>'
            f'<input id="code" name="code" inputmode="numeric" maxlength="10" '
            f'value="{h(values.get("code", ""))}">'
            '<label for="name">ชื่อ อปท.</label>'
            f'<input id="name" name="name" maxlength="120" value="{h(values.get("name", ""))}">'
            '<label for="lao-province">จังหวัด</label>'
            '<select id="lao-province" name="province">'
            + options(provinces, values.get("province", "")) + "</select>"
            '<button type="submit">เพิ่ม อปท.</button></form>')


@signed_in
async def laos(req: Req) -> web.StreamResponse:
    query = Query.parse({**dict(req.request.query), "sort": req.request.query.get("sort", "code")})
    summaries = await req.st.call(req.st.summaries.all)
    try:
        rows = select(req.actor, summaries, query)
    except ScopeError as exc:
        raise Refused(403, "คุณไม่มีสิทธิ์ดูข้อมูลจังหวัดนี้ค่ะ", f"province {exc}") from exc
    shown = rows[(query.page - 1) * 200:query.page * 200]
    search = ('<form class="filters card" method="get" action="/console/laos"><div>'
              '<label for="q">ค้นหา</label>'
              f'<input id="q" name="q" value="{h(query.q)}" placeholder="ชื่อหรือรหัส อปท.">'
              '</div><div><button type="submit">ค้นหา</button></div></form>')
    body = (search + f"<p>{len(rows):,} อปท.</p>" + table(
        (("รหัส", False), ("อปท.", False), ("จังหวัด", False), ("สมาชิก", True)),
        ([h(s.code), f'<a href="/console/laos/{h(s.code)}">{h(s.name or "-")}</a>',
          h(province_of(s.province) or "-"), f"{s.members:,}"] for s in shown))
        + _add_lao_form(req, {}))
    return req.render("อปท. และรหัสเข้าร่วม", body)


@signed_in
async def lao_add(req: Req) -> web.StreamResponse:
    f = req.form
    code = f.get("code", "").strip()
    name = f.get("name", "").strip()
    province = normalize_province(f.get("province", "")) or ""
    _need(req.actor.role != "lao_admin", "LAO add by an LAO admin")
    _need(bool(province), f"unknown province {f.get('province', '')!r}",
          "ไม่รู้จักจังหวัดที่เลือกค่ะ", 400)
    _need(req.actor.may_add_lao(province), f"LAO add in {province!r} out of scope",
          "คุณเพิ่ม อปท. ในจังหวัดนี้ไม่ได้ค่ะ")
    try:  # the rule `elaas-bot lao add` and the spool apply
        lao = checked_lao(code, name, province)
    except LedgerError as exc:
        body = message(str(exc), ok=False) + _add_lao_form(req, f)
        return req.render("อปท. และรหัสเข้าร่วม", body, status=400)
    existing = await req.st.call(req.st.directory.lao, code)
    _need(existing is None or req.actor.sees_lao(existing),
          f"LAO {code} exists outside the scope", "รหัสนี้เป็นของ อปท. ที่อยู่นอกขอบเขตที่คุณดูแลค่ะ")
    if existing is not None:  # never renamed in passing, with its members and entries
        body = message(f"มี อปท. รหัส {code} แล้ว: {existing.name} ไม่ได้เปลี่ยนอะไร",
                       ok=False) + _add_lao_form(req, f)
        return req.render("อปท. และรหัสเข้าร่วม", body, status=409)
    await req.st.call(req.st.directory.add_lao, lao)
    _LOG.info("console: %s added LAO %s (%s)", req.actor.user, code, province)
    return see_other(f"/console/laos/{code}")


def code_ref(code: str) -> str:
    """A handle for a join code in pages and forms: the code itself is shown only once."""
    return hashlib.sha256(b"join-code/" + code.encode()).hexdigest()[:20]


ROLE_LABEL = {"admin": "ผู้ดูแล อปท.", "member": "สมาชิก"}


@signed_in
async def lao_page(req: Req) -> web.StreamResponse:
    lao = await _lao_in_scope(req, req.request.match_info["code"])
    st = req.st
    now = st.clock()
    members = await st.call(st.directory.members, lao.code)
    invites = await st.call(st.directory.invites, lao.code, now)
    s = await st.call(st.summaries.get, lao.code)
    stats = (f'<div class="card">จังหวัด{h(province_of(lao.province) or "-")} · สมาชิก '
             f"{s.members:,} · บันทึก {s.logged:,} · ค้างคีย์ {s.pending:,} · "
             f"ใช้งานล่าสุด {h(thai_when(s.last))}</div>")
    mem = table((("ชื่อ", False), ("ช่องทาง", False), ("บทบาท", False), ("เข้าร่วมเมื่อ", False)),
                ([h(shown_name(m.user, m.name)), h(m.user.partition(":")[0]),
                  h(ROLE_LABEL.get(m.role, m.role)),
                  h(thai_when(m.joined_at.isoformat()))] for m in members)) \
        if members else '<p class="muted">ยังไม่มีสมาชิก</p>'
    inv_rows = [[h("••••••" + i.code[-2:]), h(ROLE_LABEL.get(i.role, i.role)),
                 h(thai_when(i.expires_at.isoformat())),
                 f'<form class="inline" method="post" action="/console/laos/{h(lao.code)}/revoke">'
                 + csrf_field(req.csrf)
                 + f'<input type="hidden" name="ref" value="{h(code_ref(i.code))}">'
                 '<button class="danger" type="submit">ยกเลิกรหัส</button></form>']
                for i in invites]
    inv = table((("รหัส", False), ("บทบาท", False), ("หมดอายุ", False), ("", False)), inv_rows) \
        if inv_rows else '<p class="muted">ไม่มีรหัสที่ยังใช้ได้</p>'
    roles = [("member", "สมาชิก")]
    if req.actor.role != "lao_admin":
        roles.append(("admin", "ผู้ดูแล อปท."))
    issue = (f'<form class="card" method="post" action="/console/laos/{h(lao.code)}/invite">'
             + csrf_field(req.csrf) + '<label for="role">บทบาทของผู้ใช้รหัส</label>'
             '<select id="role" name="role">' + options(roles, "member") + "</select>"
             '<button type="submit">ออกรหัสเข้าร่วม (ใช้ครั้งเดียว 7 วัน)</button></form>')
    note = _note(req)
    body = (note + stats + "<h2>สมาชิก</h2>" + mem + "<h2>รหัสเข้าร่วม</h2>" + inv + issue)
    return req.render(f"{lao.name} ({lao.code})", body)


@signed_in
async def lao_invite(req: Req) -> web.StreamResponse:
    lao = await _lao_in_scope(req, req.request.match_info["code"])
    role_text = req.form.get("role", "member")
    _need(role_text in ("member", "admin"), f"unknown role {role_text!r}", status=400)
    _need(role_text == "member" or req.actor.role != "lao_admin", "admin code by an LAO admin")
    role: Role = "admin" if role_text == "admin" else "member"
    st = req.st
    try:
        inv = await st.call(lambda: st.directory.invite(lao.code, role, req.actor.user,
                                                        st.clock()))
    except LedgerError as exc:
        raise Refused(400, str(exc), "invite refused") from exc
    _LOG.info("console: %s issued a %s join code for %s", req.actor.user, role, lao.code)
    body = (f"<p>รหัสเข้าร่วม ({h(ROLE_LABEL[role])}) ของ {h(lao.name)}</p>"
            f'<p class="code">{h(inv.code)}</p>'
            f"<p>แสดงครั้งเดียว จดหรือส่งให้ผู้ใช้ตอนนี้ ใช้ได้ครั้งเดียว หมดอายุ "
            f"{h(thai_when(inv.expires_at.isoformat()))}</p>"
            f"<p>ในแชตพิมพ์: <strong>เข้าร่วม {h(inv.code)}</strong></p>"
            f'<p><a href="/console/laos/{h(lao.code)}">กลับ</a></p>')
    return req.render("ออกรหัสเข้าร่วมแล้ว", body)


@signed_in
async def lao_revoke(req: Req) -> web.StreamResponse:
    lao = await _lao_in_scope(req, req.request.match_info["code"])
    ref = req.form.get("ref", "")
    st = req.st

    def revoke() -> bool:
        for inv in st.directory.invites(lao.code, st.clock()):
            if hmac.compare_digest(code_ref(inv.code), ref):
                return st.directory.revoke(inv.code, lao.code)
        return False

    done = await st.call(revoke)
    _LOG.info("console: %s revoked a join code of %s (%s)", req.actor.user, lao.code, done)
    return see_other(f"/console/laos/{lao.code}?msg={'revoked' if done else 'no_code'}")


# --------------------------------------------------------------------------- gaps


@signed_in
async def gaps(req: Req) -> web.StreamResponse:
    _need(req.actor.may_edit_knowledge, "gaps page for a non-national operator",
          "หน้านี้สำหรับผู้ดูแลระดับประเทศค่ะ")
    st = req.st
    found = await st.call(read_gaps, st.core.engine.gap_log, 50)
    kb = st.core.engine.kb
    topics = [(t.id, f"{t.title} ({t.id})") for t in kb.topics]
    rows = []
    for g in found:
        handled = ('<form class="inline" method="post" action="/console/gaps/handled">'
                   + csrf_field(req.csrf)
                   + f'<input type="hidden" name="text" value="{h(g.text)}">'
                   '<button class="ghost" type="submit">จัดการแล้ว</button></form>')
        propose = ('<form method="post" action="/console/gaps/propose">' + csrf_field(req.csrf)
                   + f'<input type="hidden" name="text" value="{h(g.text)}">'
                   '<select name="topic" aria-label="หัวข้อ">' + options(topics) + "</select>"
                   f'<input name="phrasing" maxlength="{MAX_PHRASING}" value="{h(g.text)}" '
                   'aria-label="วิธีถาม"><button type="submit">เพิ่มเป็นวิธีถามของหัวข้อ</button>'
                   "</form>")
        rows.append(f'<li class="card"><strong>{h(g.text)}</strong>'
                    f'<div class="muted">ถาม {g.count:,} ครั้ง · ล่าสุด {h(g.last or "-")}</div>'
                    f"{propose}{handled}</li>")
    note = _note(req)
    body = note + ('<p class="muted">คำถามเก็บแบบปรับรูปแล้ว (ตัดคำ) ไม่เก็บผู้ถาม เรียงจากถามบ่อยสุด</p>'
                   f'<ul class="items">{"".join(rows)}</ul>'
                   if rows else '<p class="muted">ไม่มีคำถามที่ค้างอยู่</p>')
    where = ("ฐานข้อมูล (ทุกเครื่องใช้ภายในไม่กี่วินาที)" if is_shared(req.st.core.store)
             else "ไฟล์ " + h(OVERLAY_NAME) + " ในโฟลเดอร์ข้อมูล")
    body += (f'<p class="muted">วิธีถามที่เพิ่มจะถูกเก็บใน{where} ตรวจได้ด้วย elaas-bot kb check'
             " และบอทใช้ทันที</p>")
    return req.render("คำถามที่บอทตอบไม่ได้", body)


@signed_in
async def gap_handled(req: Req) -> web.StreamResponse:
    _need(req.actor.may_edit_knowledge, "gap handled by a non-national operator")
    st = req.st
    text = req.form.get("text", "")[:200]
    done = await st.call(lambda: mark_handled(st.core.engine.gap_log, text, by=req.actor.user,
                                              now=st.clock()))
    return see_other("/console/gaps?msg=" + ("handled" if done else "no_gap"))


@signed_in
async def gap_propose(req: Req) -> web.StreamResponse:
    _need(req.actor.may_edit_knowledge, "phrasing proposal by a non-national operator")
    st = req.st
    core = st.core
    topic = req.form.get("topic", "")
    phrasing = " ".join(req.form.get("phrasing", "").split())
    gap_text = req.form.get("text", "")[:200]
    _need(core.engine.kb.has(topic), f"unknown topic {topic!r}", "ไม่พบหัวข้อนี้ค่ะ", 400)
    _need(0 < len(phrasing) <= MAX_PHRASING, "phrasing length",
          f"วิธีถามต้องยาว 1-{MAX_PHRASING} ตัวอักษรค่ะ", 400)
    item = OverlayPhrasing(topic, phrasing, req.actor.user, st.clock().date().isoformat())

    def propose() -> str | None:
        engine = core.engine
        merged = apply_overlay(engine.kb, [item])
        matcher = Matcher(merged, engine.pipeline)
        problem = phrasing_problem(matcher, topic, phrasing)
        if problem is not None:
            return problem
        try:
            core.overlay.add(item)
        except DataError as exc:
            return f"overlay file unreadable: {exc}"
        engine.kb = merged  # the bot answers with the new phrasing at once
        engine.matcher = matcher
        core.kb = merged
        if gap_text:
            mark_handled(engine.gap_log, gap_text, by=req.actor.user, now=st.clock())
        return None

    problem = await st.call(propose)
    if problem is not None:
        raise Refused(400, "เพิ่มไม่ได้ค่ะ วิธีถามนี้ใกล้กับหัวข้ออื่นมากกว่า จะทำให้บอทตอบผิด "
                      f"ลองเขียนให้ชัดขึ้น ({problem})", "phrasing rejected by the check")
    _LOG.info("console: %s added a phrasing to %s", req.actor.user, topic)
    return see_other("/console/gaps?msg=added")


# --------------------------------------------------------------------------- subscribers


def subscriber_counts(st: ConsoleState, actor: Actor) -> list[tuple[str, str, int, int]]:
    """(province, channel, receiving, stopped) in the actor's scope."""
    acc: dict[tuple[str, str], list[int]] = {}
    laos: dict[str, Lao | None] = {}
    for sub in st.subs.all():
        province = sub.province
        if not province:
            member = st.directory.member(sub.key)
            if member is not None:
                if member.lao_code not in laos:
                    laos[member.lao_code] = st.directory.lao(member.lao_code)
                lao = laos[member.lao_code]
                province = province_of(lao.province) if lao else ""
        if not actor.national and province not in actor.provinces:
            continue
        row = acc.setdefault((province or "-", sub.channel), [0, 0])
        row[0 if sub.receives else 1] += 1
    return sorted(((p, c, v[0], v[1]) for (p, c), v in acc.items()),
                  key=lambda r: (-r[2], r[0], r[1]))


@signed_in
async def subscribers(req: Req) -> web.StreamResponse:
    _need(req.actor.may_see_notices, "subscribers page for an LAO admin",
          "หน้านี้สำหรับผู้ดูแลระดับจังหวัดขึ้นไปค่ะ")
    rows = await req.st.call(subscriber_counts, req.st, req.actor)
    total = sum(r[2] for r in rows)
    by_channel: dict[str, int] = {}
    for _, ch, n, _ in rows:
        by_channel[ch] = by_channel.get(ch, 0) + n
    head = (f'<div class="card">รับแจ้งเตือนอยู่ <strong>{total:,}</strong> ราย · '
            + " · ".join(f"{h(c.upper() if c == 'line' else c.title())} {n:,}"
                         for c, n in sorted(by_channel.items())) + "</div>")
    body = head + table((("จังหวัด", False), ("ช่องทาง", False), ("รับอยู่", True),
                         ("เลิกรับ/ติดต่อไม่ได้", True)),
                        ([h(p), h(c), f"{n:,}", f"{s:,}"] for p, c, n, s in rows))
    body += '<p class="muted">"-" คือผู้ที่ไม่ได้ระบุจังหวัดและไม่ได้เป็นสมาชิก อปท.</p>'
    return req.render("ผู้รับแจ้งเตือน", body)


# --------------------------------------------------------------------------- operators


@signed_in
async def operators_page(req: Req) -> web.StreamResponse:
    _need(req.actor.national, "operators page for a non-national operator")
    ops = await req.st.call(req.st.operators.all)
    rows = [[h(o.user), h(", ".join(o.provinces)), h(o.added_by),
             '<form class="inline" method="post" action="/console/operators/remove">'
             + csrf_field(req.csrf) + f'<input type="hidden" name="user" value="{h(o.user)}">'
             '<button class="danger" type="submit">ถอนสิทธิ์</button></form>'] for o in ops]
    body = (table((("ผู้ใช้", False), ("จังหวัด", False), ("เพิ่มโดย", False), ("", False)), rows)
            + '<h2>เพิ่มผู้ดูแลจังหวัด</h2><form class="card" method="post" '
            'action="/console/operators/add">' + csrf_field(req.csrf)
            + '<label for="user">ช่องทาง:รหัสผู้ใช้ (เช่น line:U123… หรือ telegram:12345)</label>'
            '<input id="user" name="user" maxlength="80"><label for="op-province">จังหวัด</label>'
            '<select id="op-province" name="province">' + options((p, p) for p in PROVINCES)
            + '</select><button type="submit">เพิ่ม</button></form>')
    return req.render("ผู้ดูแลระดับจังหวัด", body)


@signed_in
async def operator_add(req: Req) -> web.StreamResponse:
    _need(req.actor.national, "operator add by a non-national operator")
    st = req.st
    try:
        await st.call(lambda: st.operators.add(req.form.get("user", "").strip(),
                                               [req.form.get("province", "")],
                                               by=req.actor.user, now=st.clock()))
    except (OperatorError, ValueError) as exc:
        raise Refused(400, str(exc), "operator add refused") from exc
    return see_other("/console/operators")


@signed_in
async def operator_remove(req: Req) -> web.StreamResponse:
    _need(req.actor.national, "operator remove by a non-national operator")
    user = req.form.get("user", "").strip()
    await req.st.call(req.st.operators.remove, user)
    await req.st.call(req.st.sessions.drop_user, user)
    return see_other("/console/operators")


# --------------------------------------------------------------------------- wiring


OVERLAY_CHECK_SECONDS = 2.0  # a phrasing proposed on one instance is answered by all within


async def run_overlay_refresh(app: web.Application) -> None:
    """Several instances: reload the knowledge overlay when another instance added to it."""
    core, call = app[CORE], app[FLOW].call
    while True:
        await asyncio.sleep(OVERLAY_CHECK_SECONDS)
        try:
            if await call(refresh_overlay, core):
                _LOG.info("knowledge overlay reloaded: a phrasing was added on another instance")
        except (OSError, StoreError) as exc:  # the database is away: look again later
            _LOG.warning("knowledge overlay not checked: %s", exc)


def install_console(app: web.Application) -> None:
    """A ``serve`` extension (see handlers.web.server): the ``/console`` routes."""
    core = app[CORE]
    settings = core.settings
    secret = settings.resolved_file_secret()
    # Several instances: used links and sessions in the shared store (a login on one instance
    # holds on the others, a link works once in all); one process: in memory, and links
    # issued before this start are refused since the used ones were forgotten.
    shared = core.store if is_shared(core.store) else None
    st = ConsoleState(
        core=core, call=app[FLOW].call,
        links=LoginLinks(secret, not_before=0.0 if shared else time.time(), store=shared),
        sessions=Sessions(secret, store=shared),
        secure=settings.public_base_url.startswith("https://"),
        admins=frozenset(str(a) for a in settings.admins), operators=Operators(core.store),
        directory=core.book.directory, summaries=Summaries.of(core.store),
        publisher=Publisher(core.store, core.status,
                            status_url=settings.public_base_url.rstrip("/") + "/status"),
        outbox=Outbox(core.store), subs=Subscriptions(core.store), data_dir=settings.data_dir,
        clock=lambda: datetime.now(BANGKOK),
    )  # fmt: skip
    app[CONSOLE] = st
    if shared is not None:
        add_background(app, "overlay", run_overlay_refresh)
    r = app.router
    r.add_get("/console", landing)
    r.add_get("/console/login/{token}", login_page)
    r.add_post("/console/login", login_post)
    r.add_post("/console/logout", logout)
    r.add_get("/console/progress", progress)
    r.add_get("/console/progress.csv", signed_in(_download("csv")))
    r.add_get("/console/progress.xlsx", signed_in(_download("xlsx")))
    r.add_get("/console/notices", notices)
    r.add_post("/console/notices/preview", notice_preview)
    r.add_post("/console/notices/send", notice_send)
    r.add_get("/console/notices/{nid}", notice_page)
    r.add_get("/console/notices/{nid}/progress.json", notice_json)
    r.add_get("/console/laos", laos)
    r.add_post("/console/laos/add", lao_add)
    r.add_get("/console/laos/{code}", lao_page)
    r.add_post("/console/laos/{code}/invite", lao_invite)
    r.add_post("/console/laos/{code}/revoke", lao_revoke)
    r.add_get("/console/gaps", gaps)
    r.add_post("/console/gaps/handled", gap_handled)
    r.add_post("/console/gaps/propose", gap_propose)
    r.add_get("/console/subscribers", subscribers)
    r.add_get("/console/operators", operators_page)
    r.add_post("/console/operators/add", operator_add)
    r.add_post("/console/operators/remove", operator_remove)
