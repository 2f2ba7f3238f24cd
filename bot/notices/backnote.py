"""The dated status lines that head some answers: a manual-procedure answer once e-LAAS works
again (normal or partial), the letters answer when the operators cite a letter of their own."""

from __future__ import annotations

from bot.notices.signals import Snapshot

# What to do now, per state in which e-LAAS works (at least in part); other states: no note.
DO_NOW: dict[str, str] = {
    "normal": "ทำงานในระบบได้เลย และคีย์รายการที่ทำด้วยมือเข้า e-LAAS ย้อนหลังให้ครบ",
    "partial": "งานที่ระบบรับได้ทำในระบบ งานที่ยังทำไม่ได้ทำมือตามด้านล่างไปก่อน แล้วคีย์ย้อนหลัง",
}
FOR_REFERENCE = "ขั้นตอนทำมือด้านล่างไว้อ้างอิงค่ะ"
MAX_MESSAGE = 100  # which part works, in the operators' words, when it fits the line


def back_note(snap: Snapshot) -> str:
    """One line saying that e-LAAS works again and what to do now, dated by the latest
    official update ("" while it is down, under maintenance or unknown). An update older than
    the freshness limit is told as the latest news with its age, never as the state now."""
    view = snap.view
    if view is None or view.state not in DO_NOW:
        return ""
    when = view.latest.when_th
    if snap.stale:
        return (f"ประกาศล่าสุด ({when}, {snap.age_days:,} วันก่อน) แจ้งว่า e-LAAS "
                f"{view.state_th} ถ้ายังเป็นเช่นนั้น {DO_NOW[view.state]} {FOR_REFERENCE}")
    back = "ใช้งานได้ปกติแล้วค่ะ" if view.state == "normal" else "ใช้งานได้บางส่วนแล้วค่ะ"
    said = " ".join(view.latest.message.split())
    if view.state == "partial" and said and len(said) <= MAX_MESSAGE:
        when += f": {said}"
    return f"e-LAAS กลับมา{back} (ประกาศ {when}) {DO_NOW[view.state]} {FOR_REFERENCE}"


def ref_note(snap: Snapshot) -> str:
    """One line quoting the letter the operators' latest announcement cites, dated and
    labelled, with the knowledge answer after it as background ("" when that announcement
    cites none, or is the knowledge seed, whose letter the answer itself tells)."""
    view = snap.view
    if view is None or not view.ref or view.latest.by == "seed":
        return ""
    when = view.latest.when_th
    if snap.stale:
        when += f", {snap.age_days:,} วันก่อน"
    return (f"ประกาศล่าสุดจากผู้ดูแลระบบ ({when}) อ้างอิง {view.ref}\n"
            "ด้านล่างคือหนังสือและระเบียบเดิมเรื่อง e-LAAS ขัดข้อง ไว้ประกอบค่ะ")
