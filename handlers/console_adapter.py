"""Terminal chat: stdin/stdout as a channel; interactive on a TTY, a message per line if piped."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.core.contract import META_LISTED, Choice, FileBlob, Incoming, Reply
from bot.core.engine import Engine
from bot.core.picks import offered_choices_of

PROMPT = "คุณ> "
QUIT = {"/quit", "/exit", "ออก", "quit", "exit"}
PASTE_ON, PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"  # bracketed paste mode (xterm and the like)
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
MAX_PASTE_LINES = 500  # a paste that never ends is cut here rather than read forever


class ConsoleAdapter:
    """Translates lines to Incoming and Replies to text; choices are numbered (a typed number
    is sent as text: the core picks the choice, as on LINE and Telegram, see bot.core.picks).

    Files the bot sends are written to ``export_dir`` and the reply shows their path.
    """

    def __init__(self, engine: Engine, out: TextIO, user_id: str = "local",
                 export_dir: Path | None = None):
        self.engine = engine
        self.out = out
        self.user_id = user_id
        self.export_dir = export_dir or Path("exports")
        self._choices: list[Choice] = []

    def incoming_from_line(self, line: str) -> Incoming:
        """A typed line as an event; a typed choice number is text too (the core picks)."""
        return Incoming(
            channel="console", user_id=self.user_id, chat_id=self.user_id,
            text=line.strip() or None, event_id=uuid.uuid4().hex,
            received_at=datetime.now().astimezone(), display_name="ผู้ใช้ในเครื่อง",
        )  # fmt: skip

    def save_file(self, blob: FileBlob) -> Path:
        """Write a sent file into the export folder (never over an older file); its path."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        name = Path(blob.filename).name or "file"
        stem, suffix = Path(name).stem, Path(name).suffix
        target = self.export_dir / name
        n = 1
        while target.exists():
            n += 1
            target = self.export_dir / f"{stem}-{n}{suffix}"
        fd, tmp = tempfile.mkstemp(dir=self.export_dir, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(blob.data)
        mask = os.umask(0)  # mkstemp makes 0600; the clerk's file gets the usual permissions
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
        return target.resolve()

    def render(self, replies: Sequence[Reply]) -> None:
        """Print the replies; the choices a typed number picks (see bot.core.picks) are
        numbered, any others listed without numbers."""
        self._choices = list(offered_choices_of(replies))
        numbered = next((i for i in range(len(replies) - 1, -1, -1) if replies[i].choices), -1)
        for i, r in enumerate(replies):
            self.out.write("บอท> " + r.text.replace("\n", "\n     ") + "\n")
            if r.file is not None:
                try:
                    path = self.save_file(r.file)
                    self.out.write(f"     ไฟล์: {path} ({len(r.file.data):,} ไบต์)\n")
                except OSError as exc:
                    self.out.write(f"     บันทึกไฟล์ {r.file.filename} ไม่ได้ ({exc.strerror})\n")
            if r.link:
                self.out.write(f"     ลิงก์: {r.link}\n")
            if i != numbered:
                for c in r.choices:
                    self.out.write(f"  - {c.label}\n")
            elif r.meta.get(META_LISTED):  # the text already lists them 1..n: how to pick
                self.out.write(f"     (พิมพ์เลข 1-{len(r.choices)} เพื่อเลือก)\n")
            else:
                for n, c in enumerate(r.choices, 1):
                    self.out.write(f"  {n}) {c.label}\n")
        self.out.flush()

    def handle(self, line: str) -> list[Reply]:
        replies = self.engine.reply_to(self.incoming_from_line(line))
        self.render(replies)
        return replies

    def read_message(self, stdin: TextIO) -> str | None:
        """One message: a line, or a whole bracketed paste (several lines) as one message."""
        line = stdin.readline()
        if not line or PASTE_START not in line:
            return line or None
        before, _, rest = line.partition(PASTE_START)
        lines = [before + rest]
        while PASTE_END not in lines[-1] and len(lines) < MAX_PASTE_LINES:
            more = stdin.readline()
            if not more:
                break
            lines.append(more)
        text = "".join(lines)
        pasted, _, typed_after = text.partition(PASTE_END)
        return (pasted + typed_after).replace(PASTE_START, "").rstrip("\r\n") + "\n"

    def run(self, stdin: TextIO, interactive: bool) -> None:
        if interactive:
            self.out.write(PASTE_ON)
            self.render(self.engine.reply_to(Incoming("console", self.user_id, self.user_id,
                                                      kind="follow", event_id="start")))
            self.out.write("(พิมพ์ข้อความ หรือเลขของตัวเลือก; วางหลายบรรทัดได้เป็นข้อความเดียว; "
                           "พิมพ์ 'ออก' หรือกด Ctrl+D เพื่อจบ)\n")
        try:
            while True:
                if interactive:
                    self.out.write(PROMPT)
                    self.out.flush()
                message = self.read_message(stdin)
                if message is None:
                    break
                if message.strip() in QUIT:
                    break
                if not interactive:
                    shown = message.strip().replace("\n", "\n     ")
                    self.out.write(f"{PROMPT}{shown}\n")
                self.handle(message)
        finally:
            if interactive:
                self.out.write(PASTE_OFF)
        if interactive:
            self.out.write("\nลาก่อนค่ะ\n")
            self.out.flush()


@contextlib.contextmanager
def quiet_control_echo(stream: TextIO) -> Iterator[None]:
    """Stop the terminal echoing the paste brackets as ``^[[200~`` while the chat runs."""
    try:
        import termios

        fd = stream.fileno()
        saved = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError, io.UnsupportedOperation):
        yield
        return
    quiet = list(saved)
    quiet[3] = quiet[3] & ~termios.ECHOCTL
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def run_console(engine: Engine, user_id: str = "local", export_dir: Path | None = None) -> None:
    """Run the terminal chat on stdin/stdout."""
    adapter = ConsoleAdapter(engine, sys.stdout, user_id, export_dir)
    if not sys.stdin.isatty():
        adapter.run(sys.stdin, False)
        return
    with quiet_control_echo(sys.stdin):
        adapter.run(sys.stdin, True)
