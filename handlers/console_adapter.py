"""Terminal chat: stdin/stdout as a channel; interactive on a TTY, a message per line if piped."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO

from bot.contract import Choice, Incoming, Reply
from bot.engine import Engine

PROMPT = "คุณ> "
QUIT = {"/quit", "/exit", "ออก", "quit", "exit"}


class ConsoleAdapter:
    """Translates lines to Incoming and Replies to text; choices are numbered, picked by number."""

    def __init__(self, engine: Engine, out: TextIO, user_id: str = "local"):
        self.engine = engine
        self.out = out
        self.user_id = user_id
        self._choices: list[Choice] = []

    def incoming_from_line(self, line: str) -> Incoming:
        text = line.strip()
        action = None
        if text.isdigit() and self._choices and 1 <= int(text) <= len(self._choices):
            action = self._choices[int(text) - 1].action
            text = ""
        return Incoming(
            channel="console", user_id=self.user_id, chat_id=self.user_id,
            text=text or None, action=action, event_id=uuid.uuid4().hex,
            received_at=datetime.now().astimezone(), display_name="ผู้ใช้ในเครื่อง",
        )  # fmt: skip

    def render(self, replies: Iterable[Reply]) -> None:
        self._choices = []
        for r in replies:
            self.out.write("บอท> " + r.text.replace("\n", "\n     ") + "\n")
            if r.file is not None:
                self.out.write(f"     [ไฟล์: {r.file.filename}, {len(r.file.data):,} ไบต์]\n")
            if r.link:
                self.out.write(f"     ลิงก์: {r.link}\n")
            for c in r.choices:
                self._choices.append(c)
                self.out.write(f"  {len(self._choices)}) {c.label}\n")
        self.out.flush()

    def handle(self, line: str) -> list[Reply]:
        replies = self.engine.reply_to(self.incoming_from_line(line))
        self.render(replies)
        return replies

    def run(self, stdin: TextIO, interactive: bool) -> None:
        if interactive:
            self.render(self.engine.reply_to(Incoming("console", self.user_id, self.user_id,
                                                      kind="follow", event_id="start")))
            self.out.write("(พิมพ์ข้อความ หรือเลขของตัวเลือก; พิมพ์ 'ออก' หรือกด Ctrl+D เพื่อจบ)\n")
        while True:
            if interactive:
                self.out.write(PROMPT)
                self.out.flush()
            line = stdin.readline()
            if not line:
                break
            if line.strip() in QUIT:
                break
            if not interactive:
                self.out.write(f"{PROMPT}{line.strip()}\n")
            self.handle(line)
        if interactive:
            self.out.write("\nลาก่อนค่ะ\n")


def run_console(engine: Engine, user_id: str = "local") -> None:
    """Run the terminal chat on stdin/stdout."""
    ConsoleAdapter(engine, sys.stdout, user_id).run(sys.stdin, sys.stdin.isatty())
