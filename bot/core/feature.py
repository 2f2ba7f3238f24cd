"""What a feature plugs into the engine: commands, button actions, free text, pending steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.core.contract import Choice, Incoming, Reply
from bot.core.steps import Step, step_doc, step_from_doc

Handler = Callable[["Context", str], list[Reply]]

# How far a message's send time may lie from the processing time and still date it: a clock
# ahead by more than a few minutes, or a time older than any redelivery or backlog, is wrong.
SENT_AHEAD = timedelta(minutes=5)
SENT_BEHIND = timedelta(days=7)


@dataclass
class Session:
    """Per channel+user conversation state, kept by the core (not by the channel library)."""

    data: dict[str, Any] = field(default_factory=dict)

    @property
    def step(self) -> Step | None:
        """The typed step waiting for the user's next message (see bot.core.steps), if any."""
        return step_from_doc(self.data.get("step"))

    def set_step(self, step: Step) -> None:
        """Wait for ``step``; it replaces any step that was waiting."""
        self.data["step"] = step_doc(step)

    def clear_step(self) -> None:
        self.data.pop("step", None)
        self.data.pop("pending", None)  # the old untyped form: never completed after an upgrade


@dataclass
class Context:
    """One incoming event as a feature sees it."""

    incoming: Incoming
    session: Session
    now: datetime
    done: str = ""  # the ``cmd:name`` being answered: its reply does not offer it again

    @property
    def user(self) -> str:
        return str(self.incoming.user)

    @property
    def today(self) -> date:
        """The day the user sent the message, in the bot's time zone: what "วันนี้" and
        "เมื่อวาน" mean in it, even when it is handled later (a redelivery, a backlog after a
        restart, an entry typed at 23:55 handled after midnight). Falls back to ``now`` when
        the channel gave no time or an implausible one."""
        sent = self.incoming.received_at
        if sent is None or sent.tzinfo is None or self.now.tzinfo is None:
            return self.now.date()
        if not self.now - SENT_BEHIND <= sent <= self.now + SENT_AHEAD:
            return self.now.date()
        return sent.astimezone(self.now.tzinfo).date()


@dataclass(frozen=True)
class Command:
    """A command: slash names (``/today``) and Thai words (``วันนี้``).

    With ``takes_args`` a Thai word also matches as a prefix followed by a space or a digit
    (``ยกเลิก 12``) when ``accepts`` (if given) takes what follows; otherwise it must be the
    whole message, so that ``วันนี้ระบบกลับมายัง`` is a question, not the ``วันนี้`` command,
    and ``เข้าร่วม กลุ่มไลน์ได้ไหม`` is a question, not a join code. Slash forms take any
    arguments. ``glued`` (stricter than ``accepts``) lets the argument follow the word with no
    space: ``สรุปเดือนนี้`` is the summary of this month, ``สรุปยอดส่งใคร`` a question.
    A ``staff`` command is left out of the command menu clerks see (it still answers them).
    """

    slash: tuple[str, ...]
    words: tuple[str, ...]
    handler: Handler
    takes_args: bool = False
    accepts: Callable[[str], bool] | None = None
    glued: Callable[[str], bool] | None = None
    staff: bool = False  # for operators and national admins: menus show it to them only


class Feature:
    """Base of a feature; override what it needs. Each hook returns None to pass."""

    name = "feature"
    action_prefixes: tuple[str, ...] = ()
    """The button action prefixes (``kind`` of ``kind:…``) whose presses reach on_action."""

    def commands(self) -> list[Command]:
        """Commands this feature answers."""
        return []

    def on_action(self, ctx: Context, action: str) -> list[Reply] | None:
        """A pressed button whose prefix is in ``action_prefixes`` (None: expired button)."""
        return None

    def on_step(self, ctx: Context, step: Step, text: str) -> list[Reply]:
        """The input for a step this feature set; the engine has already cleared the step.

        The engine decides what reaches here (see ``Engine._step_text``): never a command, a
        quick entry or a question unless the user confirmed it as the step's input.
        """
        return [Reply(step.undone_text())]

    def on_text(self, ctx: Context, text: str) -> list[Reply] | None:
        """Free text before knowledge matching (e.g. a quick entry)."""
        return None

    def on_event(self, ctx: Context) -> list[Reply] | None:
        """A non-message event (``follow``, ``unfollow``)."""
        return None


MENU: tuple[Choice, ...] = (
    Choice("สถานะระบบ", "cmd:status"),
    Choice("วิธีปฏิบัติ", "topic:guide.overview"),
    Choice("แบบฟอร์ม", "cmd:forms"),
    Choice("บันทึกรายการ", "topic:bot.log_howto"),
    Choice("ส่งออก", "cmd:export"),
    Choice("รับแจ้งเตือน", "cmd:subscribe"),
)
