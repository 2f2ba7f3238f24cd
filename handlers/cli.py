"""The ``elaas-bot`` command line: chat, ask, kb, and the operator commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.store import StoreError
from bot.yamlload import DataError
from handlers.settings import Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise SystemExit(f"configuration error: {exc}") from exc


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.store import lock_data_dir
    from handlers.app import build_core
    from handlers.console_adapter import run_console

    settings = _settings()
    lock = lock_data_dir(settings.data_dir)
    try:
        core = build_core(settings)
        run_console(core.engine, user_id=args.user)
        core.store.close()
    finally:
        lock.release()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from handlers.app import build_core

    core = build_core(_settings(), memory=True)
    text = " ".join(args.text)
    if args.json:
        result = core.engine.matcher.match(text)
        print(json.dumps({
            "topic": result.topic,
            "score": round(result.score, 1),
            "alternatives": [{"topic": s.topic, "score": s.score} for s in result.ranked
                             if s.topic != result.topic][:3],
        }, ensure_ascii=False))  # fmt: skip
        return 0
    from bot.contract import Incoming

    for r in core.engine.reply_to(Incoming("console", "ask", "ask", text=text, event_id="ask")):
        print(r.text)
        for i, c in enumerate(r.choices, 1):
            print(f"  {i}) {c.label}")
    return 0


def cmd_kb_check(args: argparse.Namespace) -> int:
    from bot.kbcheck import run_checks

    problems = run_checks(Path(args.knowledge) if args.knowledge else None)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("knowledge OK")
    return 0


def cmd_kb_gaps(args: argparse.Namespace) -> int:
    from bot.engine import GAPS_TABLE
    from bot.store import TinyStore

    settings = _settings()
    table = TinyStore(settings.data_dir).table(GAPS_TABLE)
    docs = sorted(table.all().values(), key=lambda d: (-int(d.get("count", 0)), d["text"]))
    if not docs:
        print("no unanswered questions recorded yet")
    for d in docs[: args.limit]:
        print(f"{int(d['count']):5d}  {d['text']}  (last {d.get('last', '-')})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="elaas-bot", description="e-LAAS outage assistant")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="terminal chat on the data dir (ELAAS_DATA_DIR, ./data)")
    chat.add_argument("--user", default="local", help="the local user id (default: local)")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("--json", action="store_true", help="print the match as JSON")
    ask.add_argument("text", nargs="+")
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kbs = kb.add_subparsers(dest="kb_command", required=True)
    check = kbs.add_parser("check", help="validate knowledge/ (exit 1 on any problem)")
    check.add_argument("--knowledge", help="knowledge folder (default: the shipped one)")
    check.set_defaults(func=cmd_kb_check)
    gaps = kbs.add_parser("gaps", help="most frequent unanswered questions")
    gaps.add_argument("--limit", type=int, default=30)
    gaps.set_defaults(func=cmd_kb_gaps)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``elaas-bot`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (DataError, StoreError) as exc:
        print(f"elaas-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
