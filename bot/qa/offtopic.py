"""Question frames that are off-topic even when they share a distinctive word with a topic."""

from __future__ import annotations

import functools
import re

from bot.core.text import Normalized

# Every test below is on the normalised flat text (synonyms folded: ล่ม -> ขัดข้อง, salary ->
# เงินเดือน, bank -> ธนาคาร) and, for English pronouns the pipeline drops as stop words, on the
# raw text. The lists name kinds of things (pay, careers, other organisations), not phrasings of
# any question set: issue 15 round 4 measured each rule on every development set.

# Words that tie a question to the outage or to the office's accounting work: with one of them
# the question is about the work, whatever else it names.
WORK_CUES = (
    "elaas", "ขัดข้อง", "ระบบ", "ใช้ไม่ได้", "เข้าไม่ได้", "ฎีกา", "บันทึก", "คีย์", "ทำมือ",
    "ด้วยมือ", "สมุด", "ทะเบียน", "ใบเสร็จ", "เบิก", "ช่วงนี้", "บอท", "outage", "system", "bot",
)
# Pay of a person: the payroll topic answers how the office pays staff during the outage, not
# how much someone earns, when their own pay arrives or what a career step brings.
PAY_WORDS = ("เงินเดือน", "ค่าจ้าง", "ค่าแรง", "ค่าตอบแทน", "โบนัส", "bonus")
AMOUNT_FRAME = ("เท่าไหร่", "เท่าไร", "กี่บาท", "กี่เปอร์เซ็น", "เปอร์เซ็นต์", "อัตรา", "ขั้นต่ำ",
                "ได้กี่", "ฐานเงินเดือน")
HOW_MUCH = "กี่"  # "how much" after the English lexicon, as a token of its own
# Other jobs: a teacher's or nurse's pay in general is not the office's payroll question.
OTHER_JOBS = ("ครู", "หมอ", "พยาบาล", "ตำรวจ", "ทหาร", "วิศวกร", "teacher", "nurse", "doctor",
              "police", "soldier", "engineer")
PROCESS_CUES = ("จ่าย", "โอน", "ทำ", "อย่างไร", "ลง", "หัก", "พนักงาน", "ลูกจ้าง")
PERSONAL_TH = ("ฉัน", "ผม", "หนู", "ดิฉัน", "ตัวเอง", "กู", "ของเค้า")
PERSONAL_EN = re.compile(r"\b(my|i|me|mine)\b")
# Pay as one's own ("my salary", "เงินเดือนผม"): the clerk's own pay, whatever else is said.
OWN_PAY_EN = re.compile(r"\bmy (own )?(salary|pay|wages?|bonus)\b")
OWN_PAY_TH = re.compile(r"(เงินเดือน|ค่าจ้าง|โบนัส)(ของ)?(ฉัน|ผม|หนู|ดิฉัน|ตัวเอง|กู)")
# Steps of one's own career: never a topic of this bot.
CAREER = ("เลื่อนขั้น", "เลื่อนตำแหน่ง", "เลื่อนระดับ", "ขึ้นเงินเดือน", "สอบบรรจุ", "ลาออก",
          "โอนย้าย", "ย้ายไป", "บรรจุ", "สอบท้องถิ่น", "สอบราชการ", "promot", "pay rise", "raise",
          "resign", "exam")
# Organisations and services other than the LAO, the provincial office, DLA and e-LAAS: the
# contact and status topics know nothing about their phones or their state.
OTHER_ORGS = (
    "ธนาคาร", "กรุงไทย", "ออมสิน", "ธกส", "ธ.ก.ส", "กสิกร", "ไทยพาณิชย์", "กรุงศรี", "สรรพากร",
    "ประกันสังคม", "กรมบัญชีกลาง", "ไปรษณีย์", "การไฟฟ้า", "ประปา", "สปสช", "ร้าน", "ศูนย์ซ่อม",
    "ktb", "krungthai", "revenue department", "social security", "post office", "shop", "store",
)
# One's own money matters and procurement law: words no topic uses for the office's money work.
PERSONAL_MONEY = ("คืนภาษี", "tax refund", "ลดหย่อน", "บัตรเครดิต", "credit card", "สหกรณ์ออมทรัพย์",
                  "กู้สหกรณ์", "ผ่อนบ้าน", "ผ่อนรถ", "บัตรประชาชน", "id card", "passport",
                  "พาสปอร์ต", "ใบขับขี่", "driving licence", "driver's license")
PROCUREMENT = ("เฉพาะเจาะจง", "ประกวดราคา", "e-bidding", "ebidding", "สัญญาจ้าง", "ยกเลิกสัญญา",
               "วงเงินจัดซื้อ", "ผู้ชนะการเสนอราคา")
# Settings of the chat apps themselves (not of this bot).
APPS = ("ไลน์", "line", "telegram", "เทเลแกรม", "เฟซบุ๊ก", "facebook")
APP_SETTINGS = ("ตั้งค่า", "ตั้งภาษา", "ภาษาไทย", "ลบแชท", "รหัสผ่าน", "password", "สติ๊กเกอร์",
                "sticker", "อัปเดต", "แชทในไลน์", "กู้แชท", "กู้คืนแชท", "ประวัติแชท")
APP_TOPICS = ("bot.", "status.notify")
OWN_ORGS = ("elaas", "สถ", "ท้องถิ่น", "อปท", "อบต", "เทศบาล", "อบจ", "บอท", "dla", "lao")
ORG_TOPICS = ("contact", "refs.elaas", "bot.help", "status.")


def _has(flat: str, words: tuple[str, ...]) -> bool:
    """A Thai word anywhere (Thai has no spaces); an English one only where a word starts, so
    "store" is not found in "restored" nor "line" in "online"."""
    thai, english, pattern = _split(words)
    # ``in`` for the Thai words (a regex alternation tries every word at every position); the
    # pattern only when an English word is there at all.
    return (any(w in flat for w in thai)
            or (any(w in flat for w in english) and pattern.search(flat) is not None))


@functools.cache
def _split(words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], re.Pattern[str]]:
    """The Thai words, the English ones, and a pattern that finds the English ones where a
    word starts."""
    english = tuple(w for w in words if w.isascii())
    pattern = re.compile("|".join(r"(?<![a-z])" + re.escape(w) for w in english) or "(?!)")
    return tuple(w for w in words if not w.isascii()), english, pattern


def off_topic_frame(q: Normalized, raw: str, topic: str) -> bool:
    """True when the question is about pay, a career or another organisation, not the work."""
    flat = q.flat
    lower = raw.lower()
    names_other = _has(flat + " " + lower, OTHER_ORGS) and not _has(flat, OWN_ORGS)
    personal = _has(flat, PERSONAL_TH) or PERSONAL_EN.search(lower) is not None
    if OWN_PAY_EN.search(lower) or OWN_PAY_TH.search(flat):
        return True
    # The bot's own notices included: a chat app's notification settings are the app's.
    if topic.startswith(APP_TOPICS) and _has(flat, APPS) and _has(flat + lower, APP_SETTINGS):
        return not ("บอท" in flat or "bot" in lower)
    if _has(flat, WORK_CUES):
        return False
    if _has(flat, APPS) and _has(flat + lower, APP_SETTINGS):  # a chat app's own chats, settings
        return True
    if _has(flat, PERSONAL_MONEY) or _has(lower, PERSONAL_MONEY) or _has(flat, PROCUREMENT):
        return True
    if _has(flat, CAREER) or _has(lower, CAREER):
        return True
    if _has(flat, PAY_WORDS):
        process = _has(flat, PROCESS_CUES)
        if (_has(flat, AMOUNT_FRAME) or HOW_MUCH in q.tokens) and not process:
            return True
        if (personal or _has(flat, OTHER_JOBS)) and not process:
            return True
        if personal and ("เข้า" in flat or "not" in flat):  # my pay has not come in
            return True
    return topic.startswith(ORG_TOPICS) and names_other
