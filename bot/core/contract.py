"""The values the core and the channel adapters exchange: Incoming in, Reply out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["line", "telegram", "console"]


@dataclass(frozen=True)
class UserKey:
    """Who is talking: a channel plus that channel's user id (aiogram's StorageKey habit)."""

    channel: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> UserKey:
        """Parse ``channel:user_id`` as written in ELAAS_ADMINS and in the store."""
        channel, _, user_id = text.strip().partition(":")
        if not channel or not user_id:
            raise ValueError(f"not a channel:user id: {text!r}")
        return cls(channel, user_id)


@dataclass(frozen=True)
class Incoming:
    """One user event, already translated from the channel's format.

    ``text`` is what the user typed; ``action`` is the decoded data of a pressed button
    (LINE postback / Telegram callback data). ``event_id`` is the channel's id used to
    de-duplicate redelivered events. ``kind`` marks non-message events the core reacts to
    (``follow``, ``unfollow``, ``unsupported``). ``forwarded`` marks a message the user
    passed on from someone else (Telegram; LINE does not tell): answered, never recorded.
    """

    channel: str
    user_id: str
    chat_id: str
    text: str | None = None
    action: str | None = None
    event_id: str = ""
    received_at: datetime | None = None
    kind: str = "message"
    display_name: str = ""
    is_group: bool = False
    forwarded: bool = False

    @property
    def user(self) -> UserKey:
        return UserKey(self.channel, self.user_id)

    @property
    def anonymous(self) -> bool:
        """True when the channel gave no real user id (a LINE group member without one):
        such an event may read answers, status and the form list, nothing identity-bound."""
        return not self.user_id


@dataclass(frozen=True)
class Choice:
    """A button: ``label`` is shown (short Thai), ``action`` comes back as Incoming.action."""

    label: str
    action: str


@dataclass(frozen=True)
class FileBlob:
    """A file to hand to the user: Telegram sends it, LINE gets a signed link to it."""

    data: bytes
    filename: str
    mime_type: str


@dataclass(frozen=True)
class Reply:
    """One message back to the user. Adapters render choices as quick replies / buttons.

    ``private`` marks content only its user may see (join codes, member lists, ledger lines,
    files, drafts): in a group the adapter delivers it to the user's 1:1 chat, never to the
    group. ``open_private`` asks the adapter to add a link that opens the 1:1 chat.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    file: FileBlob | None = None
    link: str | None = None
    topic: str | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    private: bool = False
    open_private: bool = False


MAX_REPLIES = 5
# Reply.meta key: the text already lists the choices as "1. …" in order, so a channel that
# numbers choices itself (the terminal) need not print them again.
META_LISTED = "listed"
# Reply.meta key: the reply reports a write already done (an entry saved, a void, a join...);
# its value is what to type in the 1:1 chat to see the result ("" for nothing). If the reply
# cannot reach the user, the group is told it was done: typing it again would do it twice.
META_SAVED = "saved"
# Reply.meta key: a question the user typed along with the input this reply is about ("จ่ายค่าน้ำ
# 500 บาท แล้วต้องเก็บใบเสร็จไว้ไหม"); the engine answers it before this reply.
META_ASKED = "asked"
MAX_CHOICES = 13


def wrote(see: str = "") -> dict[str, str]:
    """The ``Reply.meta`` of a reply that reports a write just done (see ``META_SAVED``); set
    where the write happens, never guessed from the reply's text."""
    return {META_SAVED: see}
