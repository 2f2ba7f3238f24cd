"""The public status page: GET /status (Thai HTML, no JavaScript), /status.json, /status.atom."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr

from aiohttp import web

from bot.notices.signals import FIELD_WINDOW, PROBE_LABEL, Snapshot, ago_th, snapshot
from bot.notices.status import BANGKOK, StatusBoard, StatusUpdate, StatusView, when_th

StoreCall = Callable[..., Awaitable[Any]]
ENTRY_NAMESPACE = uuid.UUID("0b9e3f51-7a52-4d0c-8d43-2f6a1e9c5b70")
COLOURS = {"normal": "#1b7f3b", "down": "#c62828", "partial": "#a65a00",
           "maintenance": "#1559b0"}
FONTS = {"sarabun-regular.ttf": "Sarabun-Regular.ttf", "sarabun-bold.ttf": "Sarabun-Bold.ttf"}
FEED_TITLE = "สถานะระบบ e-LAAS"


# Characters XML 1.0 cannot hold at all (a feed reader rejects the whole feed for one).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_escape(text: str) -> str:
    """Escape for XML text after removing control characters XML 1.0 forbids."""
    return _xml_escape(_NOT_XML.sub("", text))


def _font_dir() -> Path | None:
    try:
        import fontpkg_sarabun
    except ImportError:
        return None
    folder = Path(fontpkg_sarabun.ROOT) / "files"
    return folder if folder.is_dir() else None


def _when(update: StatusUpdate) -> str:
    """When an update was posted: a date only when the source gave no time of day."""
    return update.when_th


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(BANGKOK).isoformat(timespec="seconds")


def _iso(dt: datetime, time_known: bool) -> str:
    """ISO 8601 for JSON: a plain date when the source gave no time of day."""
    return _rfc3339(dt) if time_known else dt.astimezone(BANGKOK).date().isoformat()


def entry_id(update: StatusUpdate) -> str:
    """A permanent Atom id for one update (independent of the server's address)."""
    return f"urn:uuid:{uuid.uuid5(ENTRY_NAMESPACE, f'{update.seq}|{update.at.isoformat()}')}"


# --------------------------------------------------------------------------- documents


def status_json(view: StatusView | None, timeline: list[StatusUpdate],
                base_url: str, snap: Snapshot | None = None) -> dict[str, Any]:
    """The machine-readable status: the three signals with their ages (when ``snap`` is
    given), the official record and its timeline, newest first."""
    current: dict[str, Any] | None = None
    if view is not None:
        current = {
            "state": view.state, "state_th": view.state_th,
            "since": _iso(view.since, view.since_time_known) if view.since else None,
            "expected": view.expected, "ref": view.ref, "message": view.latest.message,
            "phase": view.latest.phase,
            "updated": _iso(view.latest.at, view.latest.time_known),
        }  # fmt: skip
    signals: dict[str, Any] = {}
    if snap is not None:
        signals = {**snap.to_json(), "official_th": snap.official_text()}
    return {
        "system": "e-LAAS",
        "page": f"{base_url}/status",
        **signals,
        "current": current,
        "timeline": [{
            "seq": u.seq, "at": _iso(u.at, u.time_known), "state": u.state,
            "state_th": u.state_th,
            "phase": u.phase, "phase_th": u.phase_th, "message": u.message,
            "expected": u.expected, "ref": u.ref, "time_known": u.time_known,
            "began": u.began.isoformat() if u.began else None,
        } for u in reversed(timeline)],
    }  # fmt: skip


def status_atom(timeline: list[StatusUpdate], base_url: str, now: datetime) -> str:
    """An Atom 1.0 feed (RFC 4287) with one entry per update, newest first."""
    page = f"{base_url}/status"
    updated = _rfc3339(timeline[-1].at if timeline else now)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="th">',
        f"  <id>{xml_escape(page)}</id>",
        f"  <title>{xml_escape(FEED_TITLE)}</title>",
        "  <subtitle>สถานะและประกาศของระบบบัญชีคอมพิวเตอร์ขององค์กรปกครองส่วนท้องถิ่น</subtitle>",
        f"  <updated>{updated}</updated>",
        f"  <link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(page + '.atom')}/>",
        f"  <link rel=\"alternate\" type=\"text/html\" href={quoteattr(page)}/>",
        "  <author><name>ผู้ช่วยช่วงระบบ e-LAAS ขัดข้อง</name></author>",
    ]
    for u in reversed(timeline):
        lines = [u.message]
        if u.expected and u.state != "normal":
            lines.append(f"คาดว่าจะกลับมา: {u.expected}")
        if u.ref:
            lines.append(f"อ้างอิง: {u.ref}")
        title = u.state_th if u.phase == "update" else f"{u.state_th} · {u.phase_th}"
        out += [
            "  <entry>",
            f"    <id>{entry_id(u)}</id>",
            f"    <title>{xml_escape(title)}</title>",
            f"    <updated>{_rfc3339(u.at)}</updated>",
            f"    <published>{_rfc3339(u.at)}</published>",
            f"    <link rel=\"alternate\" type=\"text/html\" "
            f"href={quoteattr(f'{page}#u{u.seq}')}/>",
            f"    <content type=\"text\">{xml_escape(chr(10).join(lines))}</content>",
            "  </entry>",
        ]  # fmt: skip
    out.append("</feed>")
    return "\n".join(out) + "\n"


_CSS = """
@font-face{font-family:"Sarabun Web";src:url(/status/fonts/sarabun-regular.ttf)
 format("truetype");font-weight:400;font-display:swap;unicode-range:U+0E00-0E7F}
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:#1d232b;line-height:1.6;font-size:17px;
 font-family:system-ui,-apple-system,"Segoe UI","Noto Sans Thai","Leelawadee UI",Thonburi,
 "Sarabun Web",sans-serif}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.25rem 0 0}
.sub{color:#5a6472;font-size:.9rem;margin:0 0 1rem}
.card{background:#fff;border-radius:14px;padding:1rem 1.1rem;margin:0 0 1rem;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
.now{border-top:6px solid var(--c)}
.badge{display:inline-block;background:var(--c);color:#fff;font-weight:700;border-radius:999px;
 padding:.2rem .9rem;font-size:1.15rem}
.badge.small{font-size:.85rem;padding:.05rem .6rem}
dl{margin:.75rem 0 0;display:grid;grid-template-columns:max-content 1fr;gap:.2rem .75rem}
dt{color:#5a6472}dd{margin:0}
.msg{margin:.75rem 0 0;white-space:pre-line}
h2{font-size:1.1rem;margin:0 0 .5rem}
ol.tl{list-style:none;margin:0;padding:0}
ol.tl li{border-left:3px solid var(--c);padding:.1rem 0 .9rem .9rem;position:relative}
ol.tl li:last-child{padding-bottom:0}
.when{color:#5a6472;font-size:.88rem}
.phase{font-size:.88rem;color:#39424e;margin-left:.35rem}
.ref{color:#5a6472;font-size:.85rem}
.next{background:#eef7f0;border-radius:10px;padding:.6rem .8rem;margin-top:.75rem}
.next.warn{background:#fff6e5}
.next ol{margin:.3rem 0 0;padding-left:1.3rem}
code{background:#eef1f5;border-radius:6px;padding:.05rem .35rem;font-family:inherit}
ul.how{margin:.2rem 0 0;padding-left:1.2rem}
.stale{background:#fff6e5;border-left:6px solid #a65a00;border-radius:10px;padding:.6rem .8rem;
 margin:.75rem 0 0}
ul.sig{list-style:none;margin:0;padding:0}
ul.sig li{padding:.5rem 0;border-top:1px solid #e6e9ee}
ul.sig li:first-child{border-top:0}
.lbl{font-weight:700}.note{color:#5a6472;font-size:.85rem}
table.prov{border-collapse:collapse;margin-top:.3rem;font-size:.92rem}
table.prov td,table.prov th{padding:.1rem .6rem .1rem 0;text-align:left}
footer{color:#5a6472;font-size:.82rem;padding:0 .2rem 1.5rem}
a{color:#1559b0}
"""

_PARTIAL_WORK = "ระหว่างนี้ทำในระบบตามที่ประกาศระบุ งานที่ระบบยังใช้ไม่ได้ให้ทำด้วยมือ"
_KEYBACK = (
    "คีย์ทุกรายการที่ทำด้วยมือเข้า e-LAAS ผ่านหน้าจอรับเงินและจ่ายเงินตามปกติ เรียงตามวันที่",
    "กระทบยอดรายงานจาก e-LAAS กับสมุดที่ทำด้วยมือ และเก็บเอกสารกระดาษไว้เป็นหลักฐาน",
    "ยอดไม่ตรงอย่าใช้ใบผ่านทั่วไปปรับยอด ให้หารายการที่คีย์ผิดแล้วแก้",
)


def _signals_html(snap: Snapshot) -> str:
    """The three labelled signals, each with its age."""
    e = escape
    now = snap.now
    items: list[str] = []
    v = snap.view
    if v is None:
        official = "ยังไม่มีประกาศ"
    else:
        official = (f"{e(v.state_th)}{e(v.since_part)} · ลงเมื่อ {e(v.latest.when_th)} "
                    f"({snap.age_days:,} วันก่อน)")
        if v.ref:
            official += f'<div class="note">ที่มา: {e(v.ref)}</div>'
    items.append(f'<li id="sig-official"><span class="lbl">ประกาศทางการ</span><br>{official}</li>')
    p = snap.probe
    if p is None:
        probe = "ยังไม่มีผล" if snap.probe_on else "ไม่ได้เปิดใช้"
    else:
        ms = f" · ใช้เวลา {p.latency_ms / 1000:.1f} วินาที" if p.latency_ms is not None else ""
        probe = (f"{e(p.outcome_th)} · ตรวจเมื่อ {e(when_th(p.at))} "
                 f"({e(ago_th(now - p.at))}){e(ms)}")
    items.append(f'<li id="sig-probe"><span class="lbl">{e(PROBE_LABEL)}</span><br>{probe}</li>')
    hours = int(FIELD_WINDOW.total_seconds() // 3600)
    if not snap.field:
        field = "ยังไม่มีผู้แจ้ง"
    else:
        rows = "".join(f"<tr><td>{e(c.province)}</td><td>{c.up:,}</td><td>{c.down:,}</td></tr>"
                       for c in snap.field)
        field = (f"เข้าได้ {snap.field_up:,} · ยังเข้าไม่ได้ {snap.field_down:,}"
                 '<table class="prov"><tr><th>จังหวัด</th><th>เข้าได้</th>'
                 f"<th>ยังเข้าไม่ได้</th></tr>{rows}</table>")
    items.append(f'<li id="sig-field"><span class="lbl">ผู้ใช้แจ้ง ({hours} ชม.ล่าสุด '
                 f"ถึง {e(when_th(now))})</span><br>{field}"
                 '<div class="note">นับหนึ่งเสียงต่อคน ไม่ใช่ประกาศทางการ</div></li>')
    return ('<section class="card" aria-label="สัญญาณสถานะ"><h2>สัญญาณ 3 ทาง</h2>'
            f'<ul class="sig">{"".join(items)}</ul></section>')


def status_html(view: StatusView | None, timeline: list[StatusUpdate], base_url: str,
                snap: Snapshot | None = None) -> str:
    """The page: current state with a coloured badge (or "not known now" when the newest
    official update is old), the three signals with their ages, the timeline newest first,
    how to subscribe. Every value from the store is HTML-escaped."""
    e = escape
    parts = [
        "<!doctype html>",
        '<html lang="th"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta http-equiv="refresh" content="300">',
        f"<title>{e(FEED_TITLE)}</title>",
        f'<link rel="alternate" type="application/atom+xml" title="{e(FEED_TITLE)}" '
        f'href="{e(base_url)}/status.atom">',
        '<link rel="preload" href="/status/fonts/sarabun-regular.ttf" as="font" '
        'type="font/ttf" crossorigin>',
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{e(FEED_TITLE)}</h1>",
        '<p class="sub">ระบบบัญชีคอมพิวเตอร์ขององค์กรปกครองส่วนท้องถิ่น</p>',
    ]
    if view is None:
        parts.append('<section class="card"><p>ยังไม่มีข้อมูลสถานะค่ะ</p></section>')
    else:
        stale = snap is not None and snap.stale
        colour = "#5a6472" if stale else COLOURS.get(view.state, "#5a6472")
        rows = [("ตั้งแต่", view.since_th)] if view.since else []
        if view.state != "normal" and not stale:  # an old estimate is no estimate now
            rows.append(("คาดว่าจะกลับมา", view.expected or "ยังไม่มีการประกาศ"))
        if view.ref:
            rows.append(("อ้างอิง", view.ref))
        rows.append(("ประกาศเมื่อ", _when(view.latest)))
        badge = "ไม่ทราบสถานะตอนนี้" if stale else view.state_th
        parts += [
            f'<section class="card now" style="--c:{colour}" aria-label="สถานะตอนนี้">',
            f'<span class="badge">{e(badge)}</span>',
        ]
        if stale and snap is not None:
            parts.append(f'<p class="stale" id="stale">ข้อมูลล่าสุดที่บอทมีคือ '
                         f"<strong>{e(view.state_th)}</strong>{e(view.since_part)} "
                         f"ประกาศเมื่อ {e(_when(view.latest))} ({snap.age_days:,} วันก่อน) "
                         "บอทยังไม่ได้รับประกาศใหม่ ตรวจสอบกับ สถจ./อำเภอ</p>")
        # Old news: the dates are in the warning, the source in the signals, the text in the
        # timeline; the signals come next on a phone screen.
        if not stale:
            parts += [
                "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows) + "</dl>",
                f'<p class="msg">{e(view.latest.message)}</p>',
            ]
            if view.state == "normal":
                steps = "".join(f"<li>{e(s)}</li>" for s in _KEYBACK)
                parts.append(f'<div class="next"><strong>ขั้นต่อไป: คีย์ข้อมูลย้อนหลัง</strong>'
                             f"<ol>{steps}</ol></div>")
            else:
                # partial: which part works is the operators' word above, not ours
                work = (_PARTIAL_WORK if view.state == "partial" else
                        "ระหว่างนี้ทำงบประมาณ รับเงิน จ่ายเงิน และบัญชีด้วยมือ")
                parts.append(f'<div class="next warn">{work} ตามแนวทางในหนังสือ สถ. '
                             "ที่ มท 0808.4/ว 3369 (23 ส.ค. 2562) "
                             "และเก็บเอกสารทุกฉบับไว้คีย์ย้อนหลัง</div>")
        parts.append("</section>")
    if snap is not None:
        parts.append(_signals_html(snap))
    if timeline:
        parts.append('<section class="card"><h2>ความเป็นมา (ล่าสุดอยู่บน)</h2><ol class="tl">')
        for u in reversed(timeline):
            colour = COLOURS.get(u.state, "#5a6472")
            phase = "" if u.phase == "update" else f'<span class="phase">{e(u.phase_th)}</span>'
            extra = ""
            if u.expected and u.state != "normal":
                extra += f'<div class="ref">คาดว่าจะกลับมา: {e(u.expected)}</div>'
            if u.ref:
                extra += f'<div class="ref">อ้างอิง: {e(u.ref)}</div>'
            parts.append(
                f'<li id="u{u.seq}" style="--c:{colour}">'
                f'<div class="when">{e(_when(u))}</div>'
                f'<span class="badge small">{e(u.state_th)}</span>{phase}'
                f'<div class="msg">{e(u.message)}</div>{extra}</li>'
            )
        parts.append("</ol></section>")
    parts += [
        '<section class="card"><h2>รับแจ้งเตือน</h2>',
        "<p>ในแชต LINE หรือ Telegram ของผู้ช่วย พิมพ์ <code>รับแจ้งเตือน</code> "
        "(หรือ <code>/subscribe</code>) บอทจะส่งข้อความทันทีเมื่อสถานะเปลี่ยนหรือมีประกาศใหม่</p>",
        '<ul class="how"><li>เฉพาะจังหวัด: <code>รับแจ้งเตือน จังหวัดลำพูน</code></li>'
        "<li>เลิกรับ: <code>เลิกรับแจ้งเตือน</code></li>"
        f'<li>ติดตามด้วยโปรแกรมอ่านฟีด: <a href="{e(base_url)}/status.atom">ฟีด Atom</a> · '
        f'<a href="{e(base_url)}/status.json">JSON</a></li></ul></section>',
        "<footer>ข้อมูลสรุปจากหนังสือราชการและประกาศที่อ้างไว้ ไม่ได้ตรวจระบบแบบเรียลไทม์ "
        "ถ้าเข้าใช้ไม่ได้แต่หน้านี้บอกว่าปกติ ให้ลองเครื่องหรืออินเทอร์เน็ตอื่น "
        "แล้วสอบถาม สถจ. หรืออำเภอ</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------- routes


async def _inline(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def add_status_routes(app: web.Application, status: StatusBoard, public_base_url: str, *,
                      call: StoreCall | None = None,
                      clock: Callable[[], datetime] | None = None) -> None:
    """Serve ``GET /status``, ``/status.json``, ``/status.atom`` (and the page's Thai font).

    Args:
        app: the aiohttp application of ``serve``.
        status: the status timeline to show.
        public_base_url: how users reach the server (absolute links in the feed).
        call: how to read the store (serve: ``app[FLOW].call``, the engine thread); default
            reads on the event loop, which is safe for these read-only views.
        clock: the time the signals' ages are counted to (tests pass a fixed one).
    """
    base = public_base_url.rstrip("/")
    run = call or _inline
    fonts = _font_dir()

    now = clock or (lambda: datetime.now(BANGKOK))

    async def read_all() -> tuple[StatusView | None, list[StatusUpdate], Snapshot]:
        def read() -> tuple[StatusView | None, list[StatusUpdate], Snapshot]:
            snap = snapshot(status, status.store, now(), probe_on=status.probe_enabled)
            return snap.view, status.timeline(), snap

        result: tuple[StatusView | None, list[StatusUpdate], Snapshot] = await run(read)
        return result

    headers = {"Cache-Control": "public, max-age=30"}

    async def page(request: web.Request) -> web.Response:
        view, timeline, snap = await read_all()
        return web.Response(text=status_html(view, timeline, base, snap), content_type="text/html",
                            charset="utf-8", headers=headers)

    async def as_json(request: web.Request) -> web.Response:
        view, timeline, snap = await read_all()
        body = json.dumps(status_json(view, timeline, base, snap), ensure_ascii=False, indent=1)
        return web.Response(text=body, content_type="application/json", charset="utf-8",
                            headers=headers)

    async def atom(request: web.Request) -> web.Response:
        _, timeline, _ = await read_all()
        body = status_atom(timeline, base, now())
        return web.Response(text=body, content_type="application/atom+xml", charset="utf-8",
                            headers=headers)

    async def font(request: web.Request) -> web.StreamResponse:
        name = FONTS.get(request.match_info["name"])
        if fonts is None or name is None:
            raise web.HTTPNotFound()
        return web.FileResponse(fonts / name, headers={
            "Cache-Control": "public, max-age=2592000", "Content-Type": "font/ttf"})

    app.router.add_get("/status", page)
    app.router.add_get("/status.json", as_json)
    app.router.add_get("/status.atom", atom)
    app.router.add_get("/status/fonts/{name}", font)
