"""Pending steps: typed, cancellable, expiring values for a conversation waiting on the user."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, TypeVar

import msgspec
from msgspec.structs import replace

from bot.core.codec import encode
from bot.core.contract import Choice
from bot.core.picks import pick_number
from bot.core.text import PARTICLES, bare_text, clean

STEP_MINUTES = 10
Waits = Literal["text", "confirm"]
Answer = Literal["yes", "cancel", "wait"]

# Short answers to "…ใช่ไหม" / a preview; compared after text.clean (lower case, no spaces) and
# without polite endings ("ได้ครับ", "ยืนยันค่ะ", "ใช่ครับผม").
YES_WORDS = frozenset({"ใช่", "ใช่แล้ว", "ใช่เลย", "ยืนยัน", "ยืนยันส่ง", "ส่งเลย", "ส่งได้เลย",
                       "ได้", "ได้เลย", "ตกลง", "ok", "okay", "yes", "y", "โอเค"})
# Typed while a step waits, these end the step (bare "ยกเลิก" too: it cannot be a void then).
CANCEL_WORDS = frozenset({"ยกเลิก", "ไม่", "ไม่ใช่", "ไม่ยกเลิก", "ไม่ส่ง", "ไม่ลบ", "ยกเลิกขั้นตอน",
                          "พอ", "ไม่ต้อง", "ไม่ต้องแล้ว", "ไม่เอา", "ไม่เอาแล้ว", "ไม่เป็นไร", "ยังก่อน",
                          "cancel", "no", "n", "nope", "/cancel"})
def answer_word(text: str) -> Literal["yes", "cancel"] | None:
    """Whether ``text`` is a bare yes or a bare no/cancel to a waiting step, or neither."""
    bare = bare_text(text)
    if bare in CANCEL_WORDS:
        return "cancel"
    if bare in YES_WORDS:
        return "yes"
    return None


# Words that, alone or run together ("ไม่บันทึกแล้วค่ะ", "ขอโทษพิมพ์ผิด", "ไม่ใช่ค่ะ ผิด"), answer
# a waiting step: no/stop, an own mistake ("oops, wrong"), wait, yes; the fillers carry nothing.
# A reply made only of them is never a step's input (never saved as an entry's description).
_REPLY_WORDS: dict[str, str] = {
    **dict.fromkeys((
        "ยกเลิก ไม่ ไม่ใช่ ไม่ต้อง ไม่เอา ไม่บันทึก ไม่จด ไม่ลง ไม่ส่ง ไม่ลบ ไม่ย้าย ไม่ยืนยัน ไม่ทำ "
        "ไม่เป็นไร ไม่ล่ะ พอ ช่างมัน ช่าง ลืม ลบ ทิ้ง หยุด เลิก ยังก่อน ไว้ก่อน ไว้ทีหลัง เอาใหม่ "
        "เริ่มใหม่ cancel stop no nope not never nevermind quit exit forget skip").split(), "no"),
    **dict.fromkeys((
        "ผิด พิมพ์ผิด กดผิด ส่งผิด ใส่ผิด จดผิด กรอกผิด ลงผิด ผิดพลาด ขอโทษ โทษที ขออภัย อุ๊ย อุ้ย "
        "sorry oops wrong mistake typo").split(), "oops"),
    **dict.fromkeys(("เดี๋ยว เด๋ว รอ แป๊บ แปป แปบ แป๊ป อ้าว เอ๊ะ เอะ หืม ยัง wait hold sec later "
                     "moment").split(), "wait"),
    **dict.fromkeys((*YES_WORDS, "ถูก", "ถูกต้อง", "เอา", "บันทึก", "บันทึกซ้ำ", "save", "sure"),
                    "yes"),
    **dict.fromkeys((*PARTICLES, "แล้ว", "ก่อน", "ไป", "เถอะ", "เหอะ", "ด้วย", "ละ", "ล่ะ", "รายการ",
                     "นี้", "นั้น", "อัน", "ดีกว่า", "ซ้ำ", "ทั้งหมด", "อีก", "ที", "ทีนะ", "นึง", "หนึ่ง",
                     "สักครู่", "มัน", "ขอ", "it", "this", "please", "thanks", "now", "do", "i",
                     "the", "a", "mind", "me"), ""),
}
_REPLY_TOKEN = re.compile("|".join(sorted(map(re.escape, _REPLY_WORDS), key=len, reverse=True)))
# "ต้องตอบอะไรนะ", "ให้พิมพ์อะไร": a question about the step itself, answered with its prompt.
_ABOUT_STEP = re.compile(r"(?:ตอบ|พิมพ์|ใส่|กรอก|เลือก|กด)\s*(?:ว่า)?\s*(?:อะไร|ยังไง|ไง|ตรงไหน)"
                         r"|หมายถึง(?:อะไร)?|ถามอะไร|^งง|what (?:do|should) i")


def reply_word(text: str, mistakes: bool = True) -> Answer | None:
    """What a short reply made only of answer words says to a waiting step (see
    ``_REPLY_WORDS``): any no (or, with ``mistakes``, an own mistake) cancels, else a yes
    confirms, else a "wait" keeps the step; None for anything else (the step's input)."""
    if len(text) > 60:
        return None
    chunks = clean(text).split()
    words = [w for chunk in chunks for w in _REPLY_TOKEN.findall(chunk)]
    if not chunks or "".join(words) != "".join(chunks):
        return None
    said = {_REPLY_WORDS[w] for w in words}
    if "no" in said or (mistakes and "oops" in said):
        return "cancel"
    if "yes" in said:
        return "yes"
    return "wait" if "wait" in said else None


def asks_about_step(text: str) -> bool:
    """``text`` asks what the step wants ("ต้องตอบอะไรนะ")."""
    return bool(_ABOUT_STEP.search(clean(text)))


S = TypeVar("S", bound="Step")
_KINDS: dict[str, type[Step]] = {}


def step_kind(cls: type[S]) -> type[S]:
    """Register a step class so that a stored session can be read back into it."""
    _KINDS[cls.kind] = cls
    return cls


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """A step waiting for the user's next message; subclasses add what the step needs.

    ``waits`` is ``"text"`` (free text such as a void reason: the engine refuses to feed it a
    command, a quick entry or a question) or ``"confirm"`` (only a yes word or its button).
    ``proposed`` holds free text the engine asked the user to confirm as this step's input.
    """

    kind: ClassVar[str] = "step"
    feature: ClassVar[str] = ""
    waits: ClassVar[Waits] = "text"
    # Knowledge topics that free text for this step naturally matches ("ยอดผิด" matches the
    # how-to-void topic): such a match is the step's input, not a question to answer.
    input_topics: ClassVar[frozenset[str]] = frozenset()
    cancel_label: ClassVar[str] = "ยกเลิกขั้นตอนนี้"
    yes_label: ClassVar[str] = "ใช่"
    # "พิมพ์ผิด" ends most steps ("oops, wrong"), but it is a reason for a void.
    mistake_is_input: ClassVar[bool] = False
    # Words that only say "go ahead" to this step ("ยกเลิกเลย" to a void): never its input.
    go_ahead_words: ClassVar[frozenset[str]] = frozenset()
    # Free text that matches a knowledge topic is still this step's input (a ledger description
    # such as "ค่าขยะ" matches the receipts topic), unless it asks about the system's status.
    any_topic_is_input: ClassVar[bool] = False

    created_at: datetime
    expires_at: datetime
    token: str = msgspec.field(default_factory=lambda: secrets.token_hex(4))
    proposed: str = ""

    @classmethod
    def start(cls: type[S], now: datetime, **values: Any) -> S:
        """A new step of this kind that expires ``STEP_MINUTES`` after ``now``."""
        return cls(created_at=now, expires_at=now + timedelta(minutes=STEP_MINUTES), **values)

    # ---------------------------------------------------------------- texts (Thai)

    @property
    def prompt(self) -> str:
        """What the step waits for, short, e.g. ``เหตุผลที่ยกเลิกรายการที่ 2``."""
        return "คำตอบ"

    def undone_text(self) -> str:
        """Said when the step ends without being done."""
        return f"ยังไม่ได้ทำ ({self.prompt})"

    def confirm_text(self, text: str) -> str:
        """The question asked before taking ``text`` as this step's input."""
        return f"ใช้ “{text}” เป็น{self.prompt} ใช่ไหมคะ"

    def goes_ahead(self, text: str) -> bool:
        """``text`` only says "go ahead" (see ``go_ahead_words``)."""
        return bare_text(text) in self.go_ahead_words

    def answer(self, text: str) -> Answer | None:
        """What ``text`` says to this step: a yes (or "go ahead"), a cancel, a "wait", or None
        (it may be the step's input). The labels of the step's own buttons count as typed, and
        so do their list numbers ("1" for "ไม่ยกเลิก", the terminal's "1)"), as in every list."""
        word = answer_word(text)
        if word is not None:
            return word
        bare = bare_text(text)
        choices = self.choices()
        n = pick_number(text)
        if n is not None and 1 <= n <= len(choices) and choices[n - 1].action.startswith("step:"):
            return "cancel" if choices[n - 1].action.startswith("step:cancel:") else "yes"
        if bare in (bare_text(c.label) for c in choices if c.action.startswith("step:")):
            return "cancel" if bare == bare_text(self.cancel_label) else "yes"
        if self.goes_ahead(text):
            return "yes"
        return reply_word(text, mistakes=not self.mistake_is_input)

    def waiting_text(self) -> str:
        """Said after answering something else (a question) while this step still waits."""
        return f"(ยังรอ{self.prompt} อยู่ค่ะ พิมพ์ได้เลย หรือกด “{self.cancel_label}”)"

    def again_text(self) -> str:
        """Said when a bare yes ("ได้ค่ะ", "ok") comes instead of the text the step waits for."""
        return f"ขอ{self.prompt}ด้วยค่ะ หรือกด “{self.cancel_label}”"

    def owns_action(self, action: str) -> bool:
        """A button that belongs to this step (pressing it does not leave the step)."""
        return False

    def takes(self, text: str) -> bool:
        """``text`` could be this step's input; otherwise it ends the step and is handled as
        itself (a step that waits for an amount does not take a sentence without one)."""
        return True

    def continues(self, command: str, args: str) -> bool:
        """Command ``command`` (its first slash name) with ``args`` repeats what this step is
        doing (``ยกเลิก 2`` while the reason for 2 is awaited): it runs without the note that
        the step was not done."""
        return False

    # ---------------------------------------------------------------- buttons

    def yes_choice(self, label: str = "") -> Choice:
        return Choice(label or self.yes_label, f"step:yes:{self.token}")

    def cancel_choice(self, label: str = "") -> Choice:
        return Choice(label or self.cancel_label, f"step:cancel:{self.token}")

    def choices(self) -> tuple[Choice, ...]:
        """The step's buttons: yes and cancel when it waits for a confirmation, else cancel."""
        if self.waits == "confirm":
            return (self.yes_choice(), self.cancel_choice())
        return (self.cancel_choice(),)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def proposing(self, text: str) -> Step:
        return replace(self, proposed=text)


def registered_kinds() -> list[str]:
    """Every step kind known to this process (the features' modules register theirs)."""
    return sorted(_KINDS)


def step_doc(step: Step) -> dict[str, Any]:
    """The document kept in the session: the step's fields and its registered ``kind``."""
    return {"kind": step.kind, **encode(step)}


def step_from_doc(doc: object) -> Step | None:
    """The step stored in a session, or None (unknown kind, old untyped form, damaged)."""
    if not isinstance(doc, dict):
        return None
    cls = _KINDS.get(str(doc.get("kind")))
    if cls is None:
        return None
    try:
        return msgspec.convert(doc, cls)
    except msgspec.ValidationError:
        return None
