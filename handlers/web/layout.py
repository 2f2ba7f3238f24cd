"""Console HTML: the page frame, phone-first CSS, escaping helpers and the inline SVG chart."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from bot.core.thaifmt import thai_date, thai_datetime
from bot.notices.status import BANGKOK

CSS = """
@font-face{font-family:"Sarabun Web";src:url(/status/fonts/sarabun-regular.ttf)
format("truetype");font-weight:400;font-display:swap;unicode-range:U+0E00-0E7F}
@font-face{font-family:"Sarabun Web";src:url(/status/fonts/sarabun-bold.ttf)
format("truetype");font-weight:700;font-display:swap;unicode-range:U+0E00-0E7F}
*{box-sizing:border-box}
body{font-family:system-ui,"Sarabun Web","Noto Sans Thai",Tahoma,sans-serif;margin:0;
line-height:1.55;color:#1d2327;background:#f6f7f9;overflow-wrap:anywhere}
header{background:#1559b0;color:#fff;padding:.6rem 1rem}
header strong{font-weight:700}
header a{color:#fff}
header .who{font-size:.85rem;opacity:.9}
nav{display:flex;flex-wrap:wrap;gap:.3rem .9rem;padding:.4rem 1rem;background:#e8eef8}
nav a{color:#0d3f80;text-decoration:none;font-weight:600}
main{max-width:62rem;margin:0 auto;padding:.8rem 1rem 3rem}
h1{font-size:1.3rem;margin:.4rem 0 .8rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.card{background:#fff;border:1px solid #d8dde3;border-radius:.5rem;padding:.8rem;margin:.6rem 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.92rem;background:#fff}
.scroll table.wide{min-width:34rem}
th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .45rem;text-align:left;vertical-align:top;
overflow-wrap:normal}
th{background:#eef1f5;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.k{white-space:nowrap}
.items{list-style:none;padding:0;margin:0}
label{display:block;margin:.5rem 0 .15rem;font-weight:600}
input,select,textarea{font:inherit;width:100%;max-width:32rem;padding:.45rem;
border:1px solid #9aa5b1;border-radius:.35rem;background:#fff}
textarea{min-height:6rem}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.35rem;background:#1559b0;
color:#fff;cursor:pointer;margin:.4rem .3rem .2rem 0}
button.ghost{background:#e8eef8;color:#0d3f80}
button.danger{background:#c62828}
form.inline{display:inline}
.msg{padding:.6rem .8rem;border-radius:.4rem;margin:.6rem 0}
.ok{background:#e6f4ea;border:1px solid #9bd3ae}
.err{background:#fdecea;border:1px solid #f1a7a1}
.preview{white-space:pre-wrap;background:#fffdf3;border:1px dashed #c9b458;padding:.7rem;
border-radius:.4rem}
.code{font-family:monospace;font-size:1.6rem;letter-spacing:.15em;background:#fff;
padding:.3rem .6rem;border:2px solid #1559b0;border-radius:.4rem;display:inline-block}
.filters{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:flex-end}
.filters>div{flex:1 1 10rem;min-width:0}
.muted{color:#5f6b7a;font-size:.88rem}
.chart svg{width:100%;height:auto;display:block}
.pager a{margin-right:.8rem}
"""

CHART_DAYS = 30


def h(value: object) -> str:
    """Escape anything for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def thai_when(iso: str) -> str:
    """An ISO timestamp as a Thai date-time (``-`` when empty or unreadable)."""
    if not iso:
        return "-"
    try:
        return thai_datetime(datetime.fromisoformat(iso).astimezone(BANGKOK))
    except ValueError:
        return "-"


def thai_day(iso_day: str) -> str:
    try:
        return thai_date(date.fromisoformat(iso_day))
    except ValueError:
        return iso_day


NAV = (
    ("/console", "หน้าแรก"),
    ("/console/notices", "สถานะและประกาศ"),
    ("/console/progress", "คีย์ย้อนหลัง"),
    ("/console/laos", "อปท. และรหัสเข้าร่วม"),
    ("/console/gaps", "คำถามที่ตอบไม่ได้"),
    ("/console/subscribers", "ผู้รับแจ้งเตือน"),
    ("/console/operators", "ผู้ดูแลจังหวัด"),
)


def page(title: str, body: str, *, nonce: str, who: str = "", csrf: str = "",
         nav: Sequence[tuple[str, str]] = (), script: str = "") -> str:
    """A whole console page; ``body`` must already be escaped HTML."""
    top = ""
    if who:
        links = "".join(f'<a href="{h(u)}">{h(t)}</a>' for u, t in nav)
        logout = (f'<form class="inline" method="post" action="/console/logout">'
                  f'{csrf_field(csrf)}<button class="ghost" type="submit">ออกจากระบบ</button>'
                  f"</form>")
        top = f"<nav>{links}{logout}</nav>"
    js = f'<script nonce="{h(nonce)}">{script}</script>' if script else ""
    return (
        '<!doctype html><html lang="th"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{h(title)} · คอนโซล e-LAAS</title>"
        + "".join(f'<link rel="preload" href="/status/fonts/sarabun-{w}.ttf" as="font" '
                  'type="font/ttf" crossorigin>' for w in ("regular", "bold"))
        + f'<style nonce="{h(nonce)}">{CSS}</style></head><body>'
        f'<header><strong>คอนโซลผู้ดูแล e-LAAS</strong>'
        + (f'<div class="who">{h(who)}</div>' if who else "")
        + f"</header>{top}<main><h1>{h(title)}</h1>{body}</main>{js}</body></html>"
    )


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{h(token)}">' if token else ""


def options(pairs: Iterable[tuple[str, str]], selected: str = "") -> str:
    return "".join(
        f'<option value="{h(v)}"{" selected" if v == selected else ""}>{h(t)}</option>'
        for v, t in pairs
    )


def message(text: str, ok: bool = True) -> str:
    return f'<div class="msg {"ok" if ok else "err"}" role="status">{h(text)}</div>'


def table(head: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], *,
          wide: bool = False) -> str:
    """A table that scrolls inside its box (never the page); ``head`` is (label, numeric);
    cells are already escaped HTML; ``wide`` keeps a minimum width for many columns."""
    ths = "".join(f'<th{" class=n" if num else ""}>{h(label)}</th>' for label, num in head)
    nums = [num for _, num in head]
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if nums[i] else ""}>{c}</td>'
                         for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    cls = ' class="wide"' if wide else ""
    return f'<div class="scroll"><table{cls}><thead><tr>{ths}</tr></thead><tbody>{body}' \
           f"</tbody></table></div>"


def day_chart(days: Mapping[str, tuple[int, int]], last_day: date,
              n_days: int = CHART_DAYS) -> str:
    """An inline SVG bar chart: entries logged (blue) and keyed back (green) per day."""
    from datetime import timedelta

    span = [last_day - timedelta(days=n_days - 1 - i) for i in range(n_days)]
    values = [days.get(d.isoformat(), (0, 0)) for d in span]
    top = max([max(v) for v in values] + [1])
    w, hgt, pad = 600, 180, 24
    bw = (w - pad) / n_days
    bars = []
    for i, (lg, ky) in enumerate(values):
        x = pad + i * bw
        for j, (v, colour) in enumerate(((lg, "#1559b0"), (ky, "#2e7d32"))):
            bh = (hgt - 30) * v / top
            bars.append(f'<rect x="{x + 1 + j * (bw - 2) / 2:.1f}" y="{hgt - 18 - bh:.1f}" '
                        f'width="{max((bw - 2) / 2 - 0.5, 0.5):.1f}" height="{bh:.1f}" '
                        f'fill="{colour}"><title>{h(thai_day(span[i].isoformat()))}: '
                        f'{"บันทึก" if j == 0 else "คีย์แล้ว"} {v:,}</title></rect>')
    labels = (f'<text x="{pad}" y="{hgt - 4}" font-size="11">{h(thai_day(span[0].isoformat()))}'
              f'</text><text x="{w}" y="{hgt - 4}" font-size="11" text-anchor="end">'
              f"{h(thai_day(span[-1].isoformat()))}</text>"
              f'<text x="0" y="12" font-size="11">{top:,}</text>')
    total_lg = sum(v[0] for v in values)
    total_ky = sum(v[1] for v in values)
    return (f'<div class="chart"><svg viewBox="0 0 {w} {hgt}" role="img" '
            f'aria-label="รายการที่บันทึกและคีย์แล้วต่อวัน {n_days} วันล่าสุด">'
            f'<line x1="{pad}" y1="{hgt - 18}" x2="{w}" y2="{hgt - 18}" stroke="#9aa5b1"/>'
            + "".join(bars) + labels + "</svg>"
            f'<p class="muted">{n_days} วันล่าสุด: บันทึก {total_lg:,} รายการ (สีน้ำเงิน) · '
            f"คีย์ย้อนหลังแล้ว {total_ky:,} รายการ (สีเขียว)</p></div>")
