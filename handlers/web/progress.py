"""The key-back progress page: LAOs in the actor's scope from the summaries, sorted, filtered,
totals per province, a per-day chart, and the same rows as CSV or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from openpyxl import Workbook

from bot.core.cells import safe_cell, xlsx_text
from bot.ledger.summary import LaoSummary
from bot.notices.operators import Actor
from bot.notices.outbox import province_of
from handlers.web.layout import day_chart, h, options, table, thai_when

PAGE_SIZE = 200
SORTS: dict[str, str] = {
    "pending": "ค้างคีย์", "logged": "บันทึกแล้ว", "last": "ใช้งานล่าสุด", "members": "สมาชิก",
    "name": "ชื่อ", "code": "รหัส",
}
HEAD = (("รหัส", False), ("อปท.", False), ("จังหวัด", False), ("สมาชิก", True),
        ("บันทึก", True), ("ค้างคีย์", True), ("ยกเลิก", True), ("ใช้งานล่าสุด", False))


class ScopeError(Exception):
    """A filter names something outside the actor's scope (a forged URL)."""


@dataclass(frozen=True)
class Query:
    """The page's filters, read from the query string and checked against the scope."""

    province: str = ""
    q: str = ""
    sort: str = "pending"
    page: int = 1
    only_pending: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> Query:
        sort = params.get("sort", "pending")
        try:
            page_no = max(1, min(10_000, int(params.get("page", "1") or 1)))
        except ValueError:
            page_no = 1
        return cls(province=params.get("province", "").strip()[:60],
                   q=params.get("q", "").strip()[:60],
                   sort=sort if sort in SORTS else "pending", page=page_no,
                   only_pending=params.get("pending") == "1")

    def url(self, path: str, **change: object) -> str:
        values = {"province": self.province, "q": self.q, "sort": self.sort,
                  "page": self.page, "pending": "1" if self.only_pending else ""}
        values.update(change)
        return path + "?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


def in_scope(actor: Actor, summaries: Iterable[LaoSummary]) -> list[LaoSummary]:
    """The LAOs ``actor`` may see."""
    if actor.national:
        return list(summaries)
    if actor.role == "lao_admin":
        return [s for s in summaries if s.code == actor.lao_code]
    return [s for s in summaries if province_of(s.province) in actor.provinces]


def select(actor: Actor, summaries: Iterable[LaoSummary], query: Query) -> list[LaoSummary]:
    """Scope, filter and sort.

    Raises:
        ScopeError: ``query.province`` is outside the actor's provinces.
    """
    rows = in_scope(actor, summaries)
    if query.province:
        wanted = province_of(query.province)
        if not actor.national and wanted not in actor.provinces:
            raise ScopeError(query.province)
        rows = [s for s in rows if province_of(s.province) == wanted]
    if query.q:
        needle = query.q.casefold()
        rows = [s for s in rows if needle in s.name.casefold() or needle in s.code]
    if query.only_pending:
        rows = [s for s in rows if s.pending > 0]
    key = query.sort
    if key == "name":
        rows.sort(key=lambda s: (s.name, s.code))
    elif key == "code":
        rows.sort(key=lambda s: s.code)
    elif key == "last":
        rows.sort(key=lambda s: (s.last, s.code), reverse=True)
    elif key == "logged":
        rows.sort(key=lambda s: (-s.logged, s.code))
    elif key == "members":
        rows.sort(key=lambda s: (-s.members, s.code))
    else:
        rows.sort(key=lambda s: (-s.pending, s.code))
    return rows


def province_totals(rows: Iterable[LaoSummary]) -> list[tuple[str, int, int, int, int, int]]:
    """(province, LAOs, LAOs with entries, members, logged, pending), most pending first."""
    acc: dict[str, list[int]] = {}
    for s in rows:
        t = acc.setdefault(province_of(s.province) or "-", [0, 0, 0, 0, 0])
        t[0] += 1
        t[1] += 1 if s.logged else 0
        t[2] += s.members
        t[3] += s.logged
        t[4] += s.pending
    out = [(p, v[0], v[1], v[2], v[3], v[4]) for p, v in acc.items()]
    return sorted(out, key=lambda r: (-r[5], r[0]))


def merged_days(rows: Iterable[LaoSummary]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for s in rows:
        for d, (lg, ky) in s.days.items():
            v = out.setdefault(d, [0, 0])
            v[0] += lg
            v[1] += ky
    return {d: (v[0], v[1]) for d, v in out.items()}


def render_progress(actor: Actor, summaries: Iterable[LaoSummary], query: Query,
                    today: date) -> str:
    """The body of the progress page (escaped HTML). Raises ScopeError like :func:`select`."""
    scoped = in_scope(actor, summaries)
    rows = select(actor, scoped, query)
    provinces = sorted({province_of(s.province) for s in scoped if s.province})
    if not actor.national:
        provinces = sorted(actor.provinces) if actor.role == "provincial" else provinces
    parts: list[str] = []
    logged = sum(s.logged for s in rows)
    pending = sum(s.pending for s in rows)
    parts.append(
        f'<div class="card"><strong>{len(rows):,}</strong> อปท. · บันทึกแล้ว '
        f"<strong>{logged:,}</strong> รายการ · ยังค้างคีย์ <strong>{pending:,}</strong> รายการ"
        f' · ใช้งานแล้ว {sum(1 for s in rows if s.logged):,} แห่ง</div>')
    filt = (
        '<form class="filters card" method="get" action="/console/progress">'
        + ('<div><label for="province">จังหวัด</label><select id="province" name="province">'
           + options([("", "ทุกจังหวัดที่ดูแล")] + [(p, p) for p in provinces], query.province)
           + "</select></div>" if actor.role != "lao_admin" else "")
        + f'<div><label for="q">ค้นหา</label><input id="q" name="q" value="{h(query.q)}" '
        'placeholder="ชื่อหรือรหัส อปท."></div>'
        '<div><label for="sort">เรียงตาม</label><select id="sort" name="sort">'
        + options(SORTS.items(), query.sort) + "</select></div>"
        '<div><label for="pending">แสดง</label><select id="pending" name="pending">'
        + options([("", "ทุก อปท."), ("1", "เฉพาะที่ค้างคีย์")],
                  "1" if query.only_pending else "")
        + '</select></div><div><button type="submit">กรอง</button></div></form>'
    )  # fmt: skip
    parts.append(filt)
    parts.append(f'<p><a href="{h(query.url("/console/progress.xlsx", page=""))}">'
                 f'ดาวน์โหลด Excel</a> · <a href="{h(query.url("/console/progress.csv", page=""))}'
                 '">ดาวน์โหลด CSV</a></p>')
    parts.append("<h2>บันทึกและคีย์ย้อนหลังรายวัน</h2>" + day_chart(merged_days(rows), today))
    if actor.role != "lao_admin":
        totals = province_totals(rows)
        parts.append("<h2>รวมรายจังหวัด</h2>" + table(
            (("จังหวัด", False), ("อปท.", True), ("ใช้งานแล้ว", True), ("สมาชิก", True),
             ("บันทึก", True), ("ค้างคีย์", True)),
            ([h(p), f"{n:,}", f"{act:,}", f"{m:,}", f"{lg:,}", f"{pd:,}"]
             for p, n, act, m, lg, pd in totals[:100]),
        ))  # fmt: skip
    start = (query.page - 1) * PAGE_SIZE
    shown = rows[start:start + PAGE_SIZE]
    parts.append(f"<h2>รายอปท. ({start + 1 if shown else 0:,}–{start + len(shown):,} "
                 f"จาก {len(rows):,})</h2>")
    parts.append(table(HEAD, (
        [h(s.code), f'<a href="/console/laos/{h(s.code)}">{h(s.name or "-")}</a>',
         h(province_of(s.province) or "-"), f"{s.members:,}", f"{s.logged:,}",
         f"{s.pending:,}", f"{s.voided:,}", h(thai_when(s.last))]
        for s in shown
    ), wide=True))  # fmt: skip
    pager = []
    if query.page > 1:
        pager.append(f'<a href="{h(query.url("/console/progress", page=query.page - 1))}">'
                     "« ก่อนหน้า</a>")
    if start + PAGE_SIZE < len(rows):
        pager.append(f'<a href="{h(query.url("/console/progress", page=query.page + 1))}">'
                     "ถัดไป »</a>")
    if pager:
        parts.append('<p class="pager">' + "".join(pager) + "</p>")
    return "".join(parts)


EXPORT_HEAD = ("รหัส อปท.", "ชื่อ อปท.", "จังหวัด", "สมาชิก", "บันทึกแล้ว", "ค้างคีย์",
               "คีย์แล้ว", "ยกเลิก", "ใช้งานล่าสุด")


def export_rows(rows: Sequence[LaoSummary],
                text: Callable[[str], object] = safe_cell) -> list[list[object]]:
    """Rows for CSV/XLSX; text cells pass through ``text`` (formula neutralisation: the CSV's
    apostrophe by default, an XLSX string cell from :func:`to_xlsx`)."""
    return [[text(s.code), text(s.name), text(province_of(s.province)),
             s.members, s.logged, s.pending, s.keyed, s.voided, text(thai_when(s.last))]
            for s in rows]


def to_csv(rows: Sequence[LaoSummary]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EXPORT_HEAD)
    w.writerows(export_rows(rows))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Thai CSV right


def to_xlsx(rows: Sequence[LaoSummary]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ความคืบหน้า")
    ws.append(list(EXPORT_HEAD))
    for r in export_rows(rows, lambda value: xlsx_text(ws, value)):
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
