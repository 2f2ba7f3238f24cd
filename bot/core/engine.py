"""The engine: one Incoming in, a few Replies out. Sync, no I/O to chat services.

Over 500 lines, for a reason: this file is the one routing decision (a pick of an offered
choice, a waiting step, a command, a quick entry, a follow-up, a question) and its order is the
behaviour; split across files, the order would be hidden. What each branch does lives elsewhere
(features, ``bot/core/steps.py``, ``bot/core/picks.py``, ``bot/qa/``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone

from bot.core.actions import Action, ActionRegistry
from bot.core.choices import offered_choices
from bot.core.contract import MAX_CHOICES, MAX_REPLIES, META_ASKED, Choice, Incoming, Reply
from bot.core.feature import MENU, Command, Context, Feature, Session
from bot.core.greetings import (
    DECLINE_REPLY,
    NOD_REPLY,
    nod_reply,
    social_text,
    social_words,
)
from bot.core.picks import (
    MAX_LABEL,
    NO_CHOICES,
    note_offer,
    offer_memory,
    out_of_range,
    pick_number,
)
from bot.core.privacy import for_audience, in_private, private_only, public_action, public_command
from bot.core.steps import STEP_MINUTES, Step, answer_word, asks_about_step
from bot.core.store import Store, StoreError
from bot.core.text import PARTICLES, Normalized, TextPipeline, clean, command_text
from bot.core.thaifmt import shorten
from bot.ledger.opening import entry_and_question, entry_lines
from bot.ledger.quickentry import QUESTION_RE, looks_like_entry
from bot.notices.backnote import back_note, ref_note
from bot.notices.signals import FIELD_DOWN, FIELD_UP, snapshot
from bot.notices.status import StatusBoard
from bot.qa.followup import is_followup, topic_memory, wants_forms
from bot.qa.gaps import GapLog
from bot.qa.knowledge import KnowledgeBase, Topic, citations
from bot.qa.matching import Matcher, MatchResult
from bot.qa.twoparts import SECOND_PART, second_part

_LOG = logging.getLogger(__name__)
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
MAX_TEXT = 2000
MAX_LINES_CUT = 5
CUT_KEEP = 200
FOLLOWUP_COVERAGE = 0.5
SESSIONS_TABLE = "sessions"

WELCOME = (
    "สวัสดีค่ะ ผู้ช่วยช่วงระบบ e-LAAS ขัดข้องยินดีให้บริการ\n"
    "ถามเป็นภาษาไทยได้เลย เช่น \"ระบบกลับมาหรือยัง\" \"จ่ายเงินตอนนี้ทำยังไง\"\n"
    "หรือบันทึกรายการ เช่น \"รับ 1,500 ค่าขยะ\"\nเลือกจากเมนูด้านล่างได้ค่ะ"
)
THANKS_REPLY = "ยินดีค่ะ มีอะไรให้ช่วยอีก เลือกจากเมนูหรือพิมพ์ถามได้เลยค่ะ"
OUT_OF_SCOPE = (
    "ขออภัยค่ะ เรื่องนี้อยู่นอกขอบเขตที่ช่วยได้\n"
    "ผู้ช่วยนี้ตอบเรื่อง e-LAAS ขัดข้องและการทำงานด้วยมือของ อปท. ลองเลือกจากเมนูด้านล่างนะคะ"
)
FORMS_FOR = "แบบฟอร์มสำหรับเรื่อง \"{title}\" เลือกได้เลยค่ะ (ส่งเป็น PDF พิมพ์ได้ทันที)"
SUGGEST_TEXT = "หมายถึงเรื่องไหนคะ เลือกได้เลย หรือพิมพ์ถามใหม่ให้ละเอียดขึ้นอีกนิดค่ะ"
CANT_READ = "ขออภัยค่ะ อ่านข้อความนี้ไม่ออก ลองพิมพ์เป็นภาษาไทยสั้น ๆ หรือเลือกจากเมนูนะคะ"
UNSUPPORTED = "ตอนนี้รับได้เฉพาะข้อความตัวอักษรค่ะ พิมพ์ถามหรือเลือกจากเมนูได้เลย"
ERROR_TEXT = "ขออภัยค่ะ ระบบขัดข้องชั่วคราว ลองใหม่อีกครั้งนะคะ ข้อมูลที่บันทึกไว้แล้วไม่สูญหาย"
SESSION_FAILED = (
    "ขออภัยค่ะ ระบบจำขั้นตอนการสนทนาไม่สำเร็จ (ที่เก็บข้อมูลของบอทขัดข้อง)\n"
    "ถ้าบอทถามต่อ กรุณาเริ่มคำสั่งใหม่อีกครั้ง แจ้งผู้ดูแลระบบด้วยนะคะ"
)
_SLASH = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.S)
_POLITE_TAIL = re.compile(r"(?:\s*(?:ครับ|คับ|ค่ะ|คะ|ค่า|จ้า|จ้ะ|นะ|[.!]))+$")
# "สรุปให้หน่อย", "ส่งออกให้ที" (not a bare "ด้วย": "ขอแบบฟอร์มด้วย" is the follow-up for the
# forms of the last answer, not the forms command)
_REQUEST_TAIL = re.compile(r"\s*ให้\s*(?:หน่อย|ที|ด้วย)$")
# "ระบบกลับมายัง": a trailing "ยัง" asks "yet?" (the parser's question words lack it)
_STILL_QUESTION = re.compile(r"ยัง(?:\s*(?:ครับ|คับ|ค่ะ|คะ|นะ|จ๊ะ|จ้ะ|อะ|เนี่ย))*$")


def status_citations(kb: KnowledgeBase, topic: Topic, ref: str) -> str:
    """The lines under a full status answer: "ที่มา" is the letter the live announcement gave
    (or that it gave none); the topic's own sources (the July 2024 letters) are background."""
    own = ref if ref not in ("", "-") else "ประกาศล่าสุดไม่ได้ระบุหนังสืออ้างอิง"
    background = dataclasses.replace(topic, sources=(), see_also=topic.sources + topic.see_also)
    return f"\n\nที่มา: {own}" + citations(kb, background).replace("\n\n", "\n", 1)


class Engine:
    """Routes an incoming event: button, pending step, command, feature text, knowledge."""

    def __init__(
        self,
        kb: KnowledgeBase,
        pipeline: TextPipeline,
        store: Store,
        status: StatusBoard,
        features: Sequence[Feature] = (),
        clock: Callable[[], datetime] | None = None,
        form_labels: Mapping[str, str] | None = None,
        form_gap: Callable[[str, Sequence[str]], list[Reply] | None] | None = None,
    ):
        self.kb = kb
        self.pipeline = pipeline
        self.matcher = Matcher(kb, pipeline)
        self.store = store
        self.status = status
        self.features = list(features)
        self.form_labels = dict(form_labels or {})
        # Asks for a form the bot does not have ("มีแบบฟอร์มงบทดลองไหม"): the forms feature says
        # so before matching, where the catalog or the last topic's form would answer instead.
        self.form_gap = form_gap
        self.clock = clock or (lambda: datetime.now(BANGKOK))
        self._sessions = store.table(SESSIONS_TABLE)
        self.gap_log = GapLog(store, lambda: self.clock().date())
        self.memory = topic_memory(store)
        self.offers = offer_memory(store)
        self._slash: dict[str, Command] = {}
        self._words: list[tuple[str, Command]] = []
        for cmd in self._core_commands() + [c for f in self.features for c in f.commands()]:
            for s in cmd.slash:
                self._slash[s.lower()] = cmd
            for w in cmd.words:
                self._words.append((command_text(w).lower(), cmd))
        self._words.sort(key=lambda wc: -len(wc[0]))  # longest word first: ค้างคีย์ before คีย์
        # The same order, looked up rather than scanned (every message is tried as a command):
        # the first whole-message word, and the words taking arguments by their first letter.
        self._exact: dict[str, tuple[int, Command]] = {}
        self._prefixed: dict[str, list[tuple[int, str, Command]]] = {}
        for i, (w, cmd) in enumerate(self._words):
            self._exact.setdefault(w, (i, cmd))
            if cmd.takes_args:
                self._prefixed.setdefault(w[:1], []).append((i, w, cmd))
        self.actions: ActionRegistry[Feature] = ActionRegistry()
        for f in self.features:  # a clash raises here, when serve starts, not on a press
            for prefix in f.action_prefixes:
                self.actions.register(prefix, f, f.name)

    # ------------------------------------------------------------------ entry point

    def reply_to(self, incoming: Incoming) -> list[Reply]:
        """The replies for one event: never empty, at most five, never raises."""
        session = self._load_session(incoming)
        before = dict(session.data)
        ctx = Context(incoming, session, self.clock())
        try:
            replies = self._route(ctx)
        except Exception:  # one bad event must never reach the user as a stack trace
            _LOG.exception("engine failed on event %s", incoming.event_id or "-")
            replies = [Reply(ERROR_TEXT, MENU)]
        if session.data != before and not incoming.anonymous:
            try:
                self._sessions.put(str(incoming.user), session.data)
            except (OSError, StoreError) as exc:  # disk full: answer anyway, say so
                _LOG.error("session write failed for event %s: %s", incoming.event_id or "-",
                           exc)
                replies = [*replies[:MAX_REPLIES - 1], Reply(SESSION_FAILED, MENU)]
        answered = next((r.topic for r in replies if r.topic), None)
        if answered and not incoming.anonymous:  # what a follow-up ("แล้วเงินเดือนล่ะ") means
            self.memory.remember(str(incoming.user), answered, ctx.now)
        replies = self._finish(for_audience(incoming, replies), incoming.channel, ctx.done)
        note_offer(self.offers, incoming, replies, ctx.now)  # what a typed "2" picks next
        return replies

    def _finish(self, replies: list[Reply], channel: str = "", done: str = "") -> list[Reply]:
        if not replies:
            replies = [Reply(CANT_READ, MENU)]
        out = []
        for r in replies[:MAX_REPLIES]:
            choices = offered_choices(r.choices, channel, done)[:MAX_CHOICES]
            if choices != r.choices:
                r = dataclasses.replace(r, choices=choices)
            out.append(r)
        return out

    def _load_session(self, incoming: Incoming) -> Session:
        if incoming.anonymous:  # anonymous events are stateless: no session to share
            return Session({})
        doc = self._sessions.get(str(incoming.user))
        return Session(doc or {})

    # ------------------------------------------------------------------ routing

    def _route(self, ctx: Context) -> list[Reply]:
        inc = ctx.incoming
        if inc.kind != "message":
            return self._event(ctx)
        if inc.action:
            return self._action(ctx, inc.action)
        text = (inc.text or "").strip()
        if len(text) > MAX_TEXT:
            # A long paste, or an entry: cutting loses lines, or reads a cut entry as a question
            if text.count("\n") >= MAX_LINES_CUT or looks_like_entry(text[:CUT_KEEP]):
                return [Reply(f"ข้อความยาวเกินไปค่ะ (เกิน {MAX_TEXT:,} ตัวอักษร) "
                              "ช่วยพิมพ์สั้น ๆ ทีละเรื่องนะคะ", MENU)]
            return self._answer_long(ctx, text)
        if not text:
            return [Reply(WELCOME, MENU)]
        step = ctx.session.step
        # A typed list number picks a choice, unless a step waits for text: that step reads it
        # ("2" at an amount choice is its button 2, see PickAmount); a step that waits for a
        # yes may be answered by its button's number.
        if step is None or step.waits == "confirm" or step.proposed or step.expired(ctx.now):
            picked = self._pick(ctx, text)
            if picked is not None:
                return picked
        ctx.session.clear_step()
        if step is not None:
            return in_private(inc, self._step_text(ctx, step, text))
        return self._route_text(ctx, text)

    def commands(self) -> list[Command]:
        """The commands this engine answers, once each, in the order they were registered (its
        own, then each feature's): what a channel's command menu shows."""
        return list(dict.fromkeys(self._slash.values()))

    def slash_names(self) -> set[str]:
        """Every slash name a message (or a topic's ``command:``) can reach a command by."""
        return set(self._slash)

    def _pick(self, ctx: Context, text: str) -> list[Reply] | None:
        """A message that is only a list number or the label of a choice just offered (see
        bot.core.picks); None: route it as text."""
        n = pick_number(text)
        if ctx.incoming.anonymous or (n is None and len(text) > MAX_LABEL):
            return None
        offer = self.offers.offered(ctx.user, ctx.incoming.chat_id, ctx.now)
        if n is None:  # a typed label
            n = offer.labelled(text) if offer is not None else None
            return None if offer is None or n is None else self._action(ctx, offer.actions[n - 1])
        if offer is None:
            return None if ctx.incoming.is_group else [Reply(NO_CHOICES, MENU)]
        if not 1 <= n <= len(offer.actions):  # the same choices again, to pick from
            return [Reply(out_of_range(n, len(offer.actions)), offer.choices)]
        return self._action(ctx, offer.actions[n - 1])

    def _route_text(self, ctx: Context, text: str) -> list[Reply]:
        inc = ctx.incoming
        cmd_hit = self._command(text)
        if cmd_hit is not None:
            cmd, args = cmd_hit
            ctx.done = f"cmd:{cmd.slash[0]}" if cmd.slash and not args else ""
            if public_command(cmd.slash):
                return cmd.handler(ctx, args)
            return [private_only()] if inc.anonymous else in_private(inc, cmd.handler(ctx, args))
        for f in self.features:
            out = f.on_text(ctx, text)
            if out is not None:
                return in_private(inc, self._also_answered(ctx, out))
        return self._answer_text(ctx, text)

    def _also_answered(self, ctx: Context, replies: list[Reply]) -> list[Reply]:
        """A feature's replies after the answer to a question typed with its input (see
        ``META_ASKED``): the answer first, the feature's buttons last (a typed "1" picks them)."""
        asked = next((r.meta[META_ASKED] for r in replies if META_ASKED in r.meta), None)
        if asked is None:
            return replies
        return [*self._answer_text(ctx, asked)[:MAX_REPLIES - len(replies)], *replies]

    def _event(self, ctx: Context) -> list[Reply]:
        replies: list[Reply] = []
        for f in self.features:
            out = f.on_event(ctx)
            if out:
                replies.extend(out)
        if ctx.incoming.kind == "follow":
            return [Reply(WELCOME, MENU), *replies]
        if ctx.incoming.kind == "unsupported":
            return [Reply(UNSUPPORTED, MENU)]
        return replies or [Reply(WELCOME, MENU)]

    def _feature(self, name: str) -> Feature | None:
        return next((f for f in self.features if f.name == name), None)

    def _command(self, text: str) -> tuple[Command, str] | None:
        m = _SLASH.match(text.strip())
        if m:
            cmd = self._slash.get(m.group(1).lower())
            if cmd is not None:
                return cmd, (m.group(2) or "").strip()
            return None
        typed = command_text(text)
        t = typed.lower()
        if len(t) != len(typed):  # a rare letter whose lower case is longer: compare only
            typed = t
        # "สถานะครับ", "เมนู!", "สรุปให้หน่อย" are still the command
        bare = _REQUEST_TAIL.sub("", _POLITE_TAIL.sub("", t))
        hits = [h for h in (self._exact.get(t), self._exact.get(bare)) if h is not None]
        whole = min(hits, key=lambda h: h[0]) if hits else None
        for i, word, cmd in self._prefixed.get(t[:1], ()):
            if whole is not None and i >= whole[0]:
                break  # a longer word taking arguments would have come first
            if t.startswith(word):
                rest = _POLITE_TAIL.sub("", typed[len(word):])  # "สรุป เดือนนี้ค่ะ"
                # A command word inside a question is not the command: the words after it must
                # have the argument's shape (a join code, an entry number, a period...).
                if (rest[:1] in (" ", ":") or rest[:1].isdigit()) and (
                        cmd.accepts is None or cmd.accepts(rest.lstrip(" :").strip())):
                    return cmd, rest.lstrip(" :").strip()
                if rest[:1] not in " :" and cmd.glued is not None and cmd.glued(rest):
                    return cmd, rest.strip()
        return (whole[1], "") if whole is not None else None

    # ------------------------------------------------------------------ pending steps

    def _step_text(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        """A message while ``step`` waits (already cleared): the one rule for every step.

        Its yes, no, "wait" or own button labels (``Step.answer``) are never its input. A
        command, a quick entry, text it does not take (``Step.takes``) or what a confirmation
        did not ask for is handled as itself, saying the step was not done (not for a command
        that repeats it: ``Step.continues``). A question is answered and the step waits on;
        text with a knowledge answer is only its input once confirmed; the rest is its input.
        """
        if step.expired(ctx.now):
            return [Reply(f"{step.undone_text()} (รอเกิน {STEP_MINUTES} นาทีแล้ว)"),
                    *self._route_text(ctx, text)]
        answer = step.answer(text)
        if step.proposed:  # "…ใช่ไหมคะ" was asked about earlier text
            if answer == "yes":
                return self._do_step(ctx, step, step.proposed)
            if answer == "cancel":  # not the input: it was a question, answer it
                return self._answer_waiting(ctx, step.proposing(""), step.proposed)
            return self._step_text(ctx, step.proposing(""), text)
        if answer == "cancel":
            return [Reply(f"ยกเลิกขั้นตอนนี้แล้วค่ะ {step.undone_text()}", MENU)]
        if answer == "yes" and step.waits == "confirm":
            return self._do_step(ctx, step, text)
        if answer in ("yes", "wait") or asks_about_step(text) or (  # "ต้องตอบอะไรนะ"
                step.waits == "text" and nod_reply(text) == NOD_REPLY):
            ctx.session.set_step(step)  # not the text the step waits for: ask for it again
            wait = f"ได้ค่ะ รอได้ {STEP_MINUTES} นาที " if answer == "wait" else ""
            return [Reply(wait + step.again_text(), step.choices())]
        hit = self._command(text)
        if hit is not None and hit[0].slash and step.continues(hit[0].slash[0], hit[1]):
            return self._route_text(ctx, text)  # the same request again: no "not done" note
        if hit is not None:
            return [Reply(step.undone_text()), *self._route_text(ctx, text)]
        entry = entry_lines(text, correction=True)
        if any(looks_like_entry(line) for line in entry):  # a new entry in place of this one
            return [Reply(step.undone_text()), *self._route_text(ctx, "\n".join(entry))]
        if entry_and_question(text, ctx.today):  # the same, with a question after it
            return [Reply(step.undone_text()), *self._route_text(ctx, text)]
        # A greeting keeps a text step waiting, not a confirmation (a notice's draft is dropped)
        if self._asks(text, greeting=step.waits != "confirm"):
            return self._answer_waiting(ctx, step, text)
        if step.waits == "confirm" or not step.takes(text):
            return [Reply(step.undone_text()), *self._route_text(ctx, text)]
        if self._is_question(text, step):
            asked = step.proposing(text[:200])
            ctx.session.set_step(asked)
            return [Reply(asked.confirm_text(asked.proposed),
                          (asked.yes_choice("ใช่"), Choice("ไม่ใช่", f"step:no:{asked.token}")))]
        return self._do_step(ctx, step, text)

    def _answer_waiting(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        """A question asked while ``step`` waits: its answer, and the step still waiting."""
        ctx.session.set_step(step)
        answer = self._answer_text(ctx, text)[:MAX_REPLIES - 1]
        return [*answer, Reply(step.waiting_text(), step.choices())]

    def _asks(self, text: str, *, greeting: bool = True) -> bool:
        """Text that reads as a question ("ระบบกลับมายัง", "?") or (``greeting``) a greeting."""
        if QUESTION_RE.search(text) or _STILL_QUESTION.search(clean(text)):
            return True
        if not greeting:
            return False
        if social_text(text):
            return True
        words = set(self.pipeline.normalize(text).tokens) - PARTICLES
        return social_words(words, thanks_max=0) is not None

    def _is_question(self, text: str, step: Step) -> bool:
        """Text with a confident knowledge answer rather than the step's input."""
        norm = self.pipeline.normalize(text)
        if not norm.tokens:
            return False
        result = self.matcher.match(norm)
        if result.outcome != "answer" or not result.topic:
            return False
        if step.any_topic_is_input:  # "ค่าขยะ" matches a how-to topic; "ระบบกลับมายัง" asks
            return self.kb.topic(result.topic).is_status
        return result.topic not in step.input_topics

    def _do_step(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        owner = self._feature(step.feature)
        if owner is None:
            return [Reply(step.undone_text(), MENU)]
        return owner.on_step(ctx, step, text)

    def _step_action(self, ctx: Context, step: Step | None, action: str) -> list[Reply]:
        """A ``step:yes|no|cancel:token`` button."""
        verb, _, token = action.removeprefix("step:").partition(":")
        if step is None or step.token != token:
            return [Reply("ปุ่มนี้หมดอายุแล้วค่ะ ขั้นตอนนี้จบไปแล้ว เลือกจากเมนูใหม่ได้เลย", MENU)]
        if step.expired(ctx.now):
            return [Reply(f"{step.undone_text()} (รอเกิน {STEP_MINUTES} นาทีแล้ว)", MENU)]
        if verb == "yes":
            return self._do_step(ctx, step, step.proposed)
        if verb == "no" and step.proposed:  # not the input: a question, answered; still waits
            return self._answer_waiting(ctx, step.proposing(""), step.proposed)
        return [Reply(f"ยกเลิกขั้นตอนนี้แล้วค่ะ {step.undone_text()}", MENU)]

    def _action(self, ctx: Context, action: str) -> list[Reply]:
        if not public_action(action):
            if ctx.incoming.anonymous:
                return [private_only()]
            return in_private(ctx.incoming, self._button(ctx, action))
        return self._button(ctx, action)

    def _button(self, ctx: Context, action: str) -> list[Reply]:
        step = ctx.session.step
        if action.startswith("step:"):
            ctx.session.clear_step()
            return self._step_action(ctx, step, action)
        if step is not None and not step.owns_action(action):
            # a choice that leaves the step ends it, and says so
            ctx.session.clear_step()
            return [Reply(step.undone_text()), *self._plain_action(ctx, action)]
        return self._plain_action(ctx, action)

    def _plain_action(self, ctx: Context, action: str) -> list[Reply]:
        kind, _, arg = action.partition(":")
        if kind == "topic":
            return self.answer_topic(arg) if self.kb.has(arg) else [Reply(CANT_READ, MENU)]
        if kind == "full":
            if self.kb.has(arg):
                return self.answer_topic(arg, full=True)
            return [Reply(CANT_READ, MENU)]
        if kind == "menu":
            return [Reply(WELCOME, MENU)]
        if kind == "cmd":  # "cmd:join H4KP7W2M": a command with its arguments
            name, _, args = arg.partition(" ")
            cmd = self._slash.get(name)
            if cmd is not None:
                ctx.done = f"cmd:{cmd.slash[0]}" if cmd.slash and not args else ""
                return cmd.handler(ctx, args)
        owner = self.actions.owner(Action.decode(action)) if kind else None
        out = owner.on_action(ctx, action) if owner is not None else None
        if out is not None:
            return out
        return [Reply("ปุ่มนี้หมดอายุแล้วค่ะ เลือกจากเมนูใหม่ได้เลย", MENU)]

    # ------------------------------------------------------------------ core commands

    def _core_commands(self) -> list[Command]:
        return [
            Command(("start", "menu"), ("เมนู", "menu", "start"),
                    lambda ctx, a: [Reply(WELCOME, MENU)]),
            Command(("help",), ("ช่วยเหลือ", "วิธีใช้", "help"),
                    lambda ctx, a: self.answer_topic("bot.help")),
            Command(("status",), ("สถานะ", "สถานะระบบ"),
                    lambda ctx, a: self.answer_topic("status.current")),
            Command(("guide",), ("วิธีปฏิบัติ", "คู่มือ"),
                    lambda ctx, a: self.answer_topic("guide.overview")),
        ]

    # ------------------------------------------------------------------ knowledge answers

    def _answer_text(self, ctx: Context, text: str) -> list[Reply]:
        nod = nod_reply(text)
        if nod is not None:
            return [Reply(nod, MENU)]
        if answer_word(text) == "cancel":  # "ไม่ยกเลิก" after the step it answered has ended
            return [Reply(DECLINE_REPLY, MENU)]
        kind = social_text(text)
        norm = self.pipeline.normalize(text)
        if kind is None and not norm.tokens:
            return [Reply(CANT_READ, MENU)]
        kind = kind or social_words(set(norm.tokens) - PARTICLES)
        if kind == "hello":
            return [Reply(WELCOME, MENU)]
        if kind == "thanks":
            return [Reply(THANKS_REPLY, MENU)]
        if kind == "who":
            return self.answer_topic("bot.help")
        gap = self.form_gap(text, norm.tokens) if self.form_gap is not None else None
        if gap is not None:
            return gap
        last = self.memory.recall(ctx.user, ctx.now)
        if last is not None and not self.kb.has(last):
            last = None
        if last is not None and wants_forms(norm):
            forms = self._forms_of(ctx, last, norm)
            if forms:
                return forms
        result = self.matcher.match(norm)
        if last is not None and result.outcome != "answer" and is_followup(norm, result):
            # A word with an everyday sense ("เช็ค": to check) may sit nearest an off-topic
            # example; read with the last topic, it may then only continue that same topic.
            both = self._with_context(last, norm, result)
            if not result.off_topic or both.topic == last:
                result = both
        if result.outcome == "answer" and result.topic:
            own = self._own_data(ctx, result.topic, f"{text} {norm.spaced}")
            if own is not None:
                return own
            also = second_part(self.matcher, norm, result.topic)
            return self.answer_topic(result.topic, also=also)
        self._record_gap(norm.spaced)
        if result.outcome == "suggest":
            choices = tuple(
                Choice(self.kb.topic(s.topic).title, f"topic:{s.topic}") for s in result.ranked
            )
            return [Reply(SUGGEST_TEXT, (*choices, Choice("เมนูหลัก", "menu:")))]
        return [Reply(OUT_OF_SCOPE, MENU)]

    def _own_data(self, ctx: Context, topic_id: str, text: str) -> list[Reply] | None:
        """A question about the clerk's own data ("ยอดวันนี้เท่าไหร่") naming the word of the
        topic's command ("วันนี้", as typed or normalised): that command's reply, the topic's
        answer one tap away."""
        topic = self.kb.topic(topic_id)
        cmd = self._slash.get(topic.command) if topic.command else None
        said = text.lower()
        if cmd is None or ctx.incoming.anonymous or not any(
                w.lower() in said for w in (*cmd.words, *cmd.slash)):
            return None
        *head, last = in_private(ctx.incoming, cmd.handler(ctx, "")) or [Reply(CANT_READ)]
        how = Choice(topic.title, f"topic:{topic.id}")
        return [*head, dataclasses.replace(last, choices=(*last.choices, how), topic=topic.id)]

    def _answer_long(self, ctx: Context, text: str) -> list[Reply]:
        """A question after (or before) a pasted letter: the end, then the start, carry it."""
        chunks = text.split()
        for k in range(1, 7):  # the last few phrases, then the first few, shortest first
            for part in (" ".join(chunks[-k:]), " ".join(chunks[:k])):
                if len(part) <= CUT_KEEP and self.matcher.match(part).outcome == "answer":
                    return self._answer_text(ctx, part)
        return self._answer_text(ctx, f"{text[:CUT_KEEP]} {text[-CUT_KEEP:]}")

    def _with_context(self, last: str, norm: Normalized, alone: MatchResult) -> MatchResult:
        """An elliptical follow-up read together with the topic answered just before."""
        if self.matcher.coverage(norm) < FOLLOWUP_COVERAGE:
            return alone  # "แล้วหวยล่ะ": its own words are not the topics' words
        topic = self.kb.topic(last)
        joined = self.pipeline.normalize(f"{topic.title} {' '.join(topic.keywords)}")
        both = self.matcher.match(Normalized((*joined.tokens, *norm.tokens)))
        return both if both.outcome == "answer" else alone

    def _forms_of(self, ctx: Context, last: str, norm: Normalized) -> list[Reply] | None:
        """"ขอแบบฟอร์มด้วย" right after an answer: that topic's forms (None: match as usual)."""
        alone = self.matcher.match(norm)
        if alone.topic and alone.topic.startswith("forms.") and alone.topic != "forms.catalog":
            return None  # the question names a form itself
        topic = self.kb.topic(last)
        if not topic.forms or topic.id == "forms.catalog":
            return None
        if len(topic.forms) == 1:
            return self._action(ctx, f"form:{topic.forms[0]}")
        choices = tuple(Choice(shorten(self.form_labels.get(f, f), 20), f"form:{f}")
                        for f in topic.forms)
        return [Reply(FORMS_FOR.format(title=topic.title),
                      (*choices, Choice("แบบฟอร์มทั้งหมด", "cmd:forms")))]

    def answer_topic(self, topic_id: str, *, full: bool = False,
                     also: str | None = None) -> list[Reply]:
        """The reply for a topic: the short answer first (the full answer and its sources one
        tap away), or with ``full`` the whole answer with its sources; related topics and
        forms as choices. ``also``: the topic of a second question in the same message,
        offered as the first choice after the full answer."""
        topic = self.kb.topic(topic_id)
        fields: dict[str, str] | None = None
        note = ""
        if topic.is_status or (topic.manual and not full) or topic.latest_ref:
            snap = snapshot(self.status, self.store, self.clock(),
                            probe_on=self.status.probe_enabled)
            fields = snap.fields() if topic.is_status else None
            # said first: e-LAAS works again, or the operators cite a letter of their own
            note = back_note(snap) if topic.manual else ref_note(snap) if topic.latest_ref else ""
        text = topic.answer if full else topic.first
        if fields is not None:
            text = text.format(**fields)
        if full:
            text += (citations(self.kb, topic) if fields is None
                     else status_citations(self.kb, topic, fields["ref"]))
        choices: list[Choice] = []
        if not full and (topic.has_more or topic.sources or topic.see_also):
            choices.append(Choice("ดูขั้นตอนเต็ม" if topic.has_more else "ดูที่มา",
                                  f"full:{topic.id}"))
        if also is not None and also != topic.id and self.kb.has(also):
            second = self.kb.topic(also).title
            text += SECOND_PART.format(title=second)
            choices.append(Choice(second, f"topic:{also}"))
        if topic.is_status:
            choices += [FIELD_UP, FIELD_DOWN]
        if topic.is_status or topic.id == "status.notify":
            choices.append(Choice("รับแจ้งเตือน", "cmd:subscribe"))
        forms = [Choice(shorten(self.form_labels.get(f, f), 20), f"form:{f}")
                 for f in topic.forms]
        if topic.id.startswith("forms."):  # a forms topic lists its forms: buttons first, in
            choices = [*forms, *choices]   # that order (the terminal numbers them as listed)
        else:
            choices += forms
        for r in topic.related:
            # a form's own topic next to that form's button: two buttons, one label, one form
            if self.kb.has(r) and r.removeprefix("forms.") not in topic.forms:
                choices.append(Choice(self.kb.topic(r).title, f"topic:{r}"))
        choices.append(Choice("เมนูหลัก", "menu:"))
        first: dict[str, Choice] = {}
        for c in choices:
            first.setdefault(c.action, c)
        unique = tuple(first.values())
        answer = Reply(text, unique[:MAX_CHOICES], topic=topic.id)
        return [Reply(note), answer] if note else [answer]

    def _record_gap(self, normalized: str) -> None:
        """Remember a question we could not answer (normalised text only, no user id)."""
        self.gap_log.record(normalized)

    def flush(self) -> None:
        """Write what the engine keeps in memory between events (the gap counts); ``serve``
        calls it every few seconds on the engine thread."""
        self.gap_log.flush()

    def close(self) -> None:
        """At shutdown, before the store is closed: :meth:`flush`."""
        self.flush()

    def gaps(self, limit: int = 30) -> list[tuple[str, int]]:
        """The most frequent unanswered questions (see :class:`bot.qa.gaps.GapLog`)."""
        return [(g.text, g.count) for g in self.gap_log.top(limit)]

