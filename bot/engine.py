"""The engine: one Incoming in, a few Replies out. Sync, no I/O to chat services."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone

from bot.contract import MAX_CHOICES, MAX_REPLIES, Choice, Incoming, Reply
from bot.feature import MENU, Command, Context, Feature, Session
from bot.followup import TopicMemory, is_followup, wants_forms
from bot.knowledge import KnowledgeBase
from bot.matching import Matcher, MatchResult
from bot.status import StatusBoard
from bot.store import Store
from bot.text import PARTICLES, Normalized, TextPipeline, command_text

_LOG = logging.getLogger(__name__)
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
MAX_TEXT = 2000
MAX_LINES_CUT = 5
CUT_KEEP = 200
FOLLOWUP_COVERAGE = 0.5
GAPS_TABLE = "kb/gaps"
SESSIONS_TABLE = "sessions"

GREETINGS = frozenset(
    "สวัสดี หวัดดี ดีจ้า ดีครับ ดีค่ะ hello hi hey ทักทาย สวัสดีตอนเช้า อรุณสวัสดิ์ start".split()
)
THANKS = frozenset("ขอบคุณ ขอบใจ thank thanks thx ขอบคุณมาก แต๊งกิ้ว ขอบพระคุณ โอเค ok".split())

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
_SLASH = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.S)
_POLITE_TAIL = re.compile(r"(?:\s*(?:ครับ|คับ|ค่ะ|คะ|ค่า|จ้า|จ้ะ|นะ|[.!]))+$")


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
    ):
        self.kb = kb
        self.pipeline = pipeline
        self.matcher = Matcher(kb, pipeline)
        self.store = store
        self.status = status
        self.features = list(features)
        self.form_labels = dict(form_labels or {})
        self.clock = clock or (lambda: datetime.now(BANGKOK))
        self._sessions = store.table(SESSIONS_TABLE)
        self.memory = TopicMemory()
        self._gaps = store.table(GAPS_TABLE)
        self._slash: dict[str, Command] = {}
        self._words: list[tuple[str, Command]] = []
        for cmd in self._core_commands() + [c for f in self.features for c in f.commands()]:
            for s in cmd.slash:
                self._slash[s.lower()] = cmd
            for w in cmd.words:
                self._words.append((command_text(w).lower(), cmd))
        self._words.sort(key=lambda wc: -len(wc[0]))  # longest word first: ค้างคีย์ before คีย์

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
        if session.data != before:
            self._sessions.put(str(incoming.user), session.data)
        answered = next((r.topic for r in replies if r.topic), None)
        if answered:  # what a follow-up ("แล้วเงินเดือนล่ะ") refers to
            self.memory.remember(str(incoming.user), answered, ctx.now)
        return self._finish(replies)

    def _finish(self, replies: list[Reply]) -> list[Reply]:
        if not replies:
            replies = [Reply(CANT_READ, MENU)]
        out = []
        for r in replies[:MAX_REPLIES]:
            if len(r.choices) > MAX_CHOICES:
                r = Reply(r.text, r.choices[:MAX_CHOICES], r.file, r.link, r.topic, r.meta)
            out.append(r)
        return out

    def _load_session(self, incoming: Incoming) -> Session:
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
            if text.count("\n") >= MAX_LINES_CUT:  # a long paste (entries?): cutting loses lines
                return [Reply(f"ข้อความยาวเกินไปค่ะ (เกิน {MAX_TEXT:,} ตัวอักษร) "
                              "ช่วยพิมพ์สั้น ๆ ทีละเรื่องนะคะ", MENU)]
            return self._answer_long(ctx, text)
        if not text:
            return [Reply(WELCOME, MENU)]
        pending = ctx.session.pending
        if pending:
            if self._command(text) is None:
                owner = self._feature(str(pending.get("feature")))
                if owner is not None:
                    out = owner.on_pending(ctx, text)
                    if out is not None:
                        return out
            ctx.session.clear_pending()
        cmd_hit = self._command(text)
        if cmd_hit is not None:
            cmd, args = cmd_hit
            return cmd.handler(ctx, args)
        for f in self.features:
            out = f.on_text(ctx, text)
            if out is not None:
                return out
        return self._answer_text(ctx, text)

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
        bare = _POLITE_TAIL.sub("", t)  # "สถานะครับ", "เมนู!" are still the command
        for word, cmd in self._words:
            if t == word or bare == word:
                return cmd, ""
            if cmd.takes_args and t.startswith(word):
                rest = typed[len(word):]
                # A command word inside a question is not the command: the words after it must
                # have the argument's shape (a join code, an entry number, a period...).
                if (rest[:1] == " " or rest[:1].isdigit()) and (
                        cmd.accepts is None or cmd.accepts(rest.strip())):
                    return cmd, rest.strip()
        return None

    def _action(self, ctx: Context, action: str) -> list[Reply]:
        kind, _, arg = action.partition(":")
        if kind == "topic":
            return self.answer_topic(arg) if self.kb.has(arg) else [Reply(CANT_READ, MENU)]
        if kind == "menu":
            return [Reply(WELCOME, MENU)]
        if kind == "cmd":
            cmd = self._slash.get(arg)
            if cmd is not None:
                return cmd.handler(ctx, "")
        for f in self.features:
            out = f.on_action(ctx, action)
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
        norm = self.pipeline.normalize(text)
        if not norm.tokens:
            return [Reply(CANT_READ, MENU)]
        words = set(norm.tokens) - PARTICLES
        if words and words <= GREETINGS | {"ครับ", "ค่ะ"}:
            return [Reply(WELCOME, MENU)]
        if words and (words & THANKS) and len(words) <= 3:
            return [Reply(THANKS_REPLY, MENU)]
        last = self.memory.recall(ctx.user, ctx.now)
        if last is not None and not self.kb.has(last):
            last = None
        if last is not None and wants_forms(norm):
            forms = self._forms_of(ctx, last, norm)
            if forms:
                return forms
        result = self.matcher.match(norm)
        if last is not None and result.outcome != "answer" and not result.off_topic \
                and is_followup(norm):
            result = self._with_context(last, norm, result)
        if result.outcome == "answer" and result.topic:
            return self.answer_topic(result.topic)
        self._record_gap(norm.spaced)
        if result.outcome == "suggest":
            choices = tuple(
                Choice(self.kb.topic(s.topic).title, f"topic:{s.topic}") for s in result.ranked
            )
            return [Reply(SUGGEST_TEXT, (*choices, Choice("เมนูหลัก", "menu:")))]
        return [Reply(OUT_OF_SCOPE, MENU)]

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
        choices = tuple(Choice(self.form_labels.get(f, f)[:20], f"form:{f}") for f in topic.forms)
        return [Reply(FORMS_FOR.format(title=topic.title),
                      (*choices, Choice("แบบฟอร์มทั้งหมด", "cmd:forms")))]

    def answer_topic(self, topic_id: str) -> list[Reply]:
        """The reply for a topic: its answer, its sources, related topics and forms as choices."""
        topic = self.kb.topic(topic_id)
        text = topic.answer
        if topic.is_status:
            view = self.status.current()
            fields = view.fields() if view else {k: "-" for k in
                                                 ("state", "since", "expected", "message",
                                                  "ref", "updated")}
            text = text.format(**fields)
        names = [self.kb.sources[s].label for s in topic.sources if s in self.kb.sources]
        if names:
            text += "\n\nที่มา: " + "; ".join(names)
        choices: list[Choice] = []
        if topic.is_status or topic.id == "status.notify":
            choices.append(Choice("รับแจ้งเตือน", "cmd:subscribe"))
        for f in topic.forms:
            choices.append(Choice(self.form_labels.get(f, f)[:20], f"form:{f}"))
        for r in topic.related:
            if self.kb.has(r):
                choices.append(Choice(self.kb.topic(r).title, f"topic:{r}"))
        choices.append(Choice("เมนูหลัก", "menu:"))
        first: dict[str, Choice] = {}
        for c in choices:
            first.setdefault(c.action, c)
        unique = tuple(first.values())
        return [Reply(text, unique[:MAX_CHOICES], topic=topic.id)]

    def _record_gap(self, normalized: str) -> None:
        """Remember a question we could not answer (normalised text only, no user id)."""
        key = normalized[:200]
        if not key:
            return
        doc = self._gaps.get(key) or {"text": key, "count": 0}
        doc["count"] = int(doc.get("count", 0)) + 1
        doc["last"] = self.clock().date().isoformat()
        self._gaps.put(key, doc)

    def gaps(self, limit: int = 30) -> list[tuple[str, int]]:
        """The most frequent unanswered questions."""
        docs = self._gaps.all().values()
        ranked = sorted(docs, key=lambda d: (-int(d.get("count", 0)), d.get("text", "")))
        return [(d["text"], int(d["count"])) for d in ranked[:limit]]

