"""A notice's delivery plan (frozen audience per channel) and what its journal says was sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.contract import Choice
from bot.core.store import atomic_write
from bot.notices.board import Audience, OutMessage

LINE_BATCH = 500
RETRY_NAMESPACE = uuid.UUID("6f1c2a0e-5b8d-4c47-9a51-3d0b6e2f7c11")
FINAL_TG = frozenset({"ok", "blocked", "failed", "unknown", "skipped"})


def retry_key(notice_id: str, batch: int, part: int) -> str:
    """The X-Line-Retry-Key of one multicast: the same UUID every time it is re-sent."""
    return str(uuid.uuid5(RETRY_NAMESPACE, f"{notice_id}/line/{batch}/{part}"))


@dataclass(frozen=True)
class Plan:
    """A notice's frozen audience: variants, LINE batches and Telegram chats."""

    notice_id: str
    variants: Mapping[str, OutMessage]
    line_batches: tuple[tuple[str, tuple[str, ...]], ...]  # (variant, user ids)
    telegram: tuple[tuple[str, str], ...]  # (chat id, variant)
    skipped: int = 0

    @property
    def total(self) -> int:
        return sum(len(b[1]) for b in self.line_batches) + len(self.telegram)


def make_plan(notice_id: str, audience: Audience, channels: Iterable[str]) -> Plan:
    """Group the audience per channel and variant; LINE batches hold at most 500 ids."""
    on = set(channels)
    by_variant: dict[str, list[str]] = {}
    telegram: list[tuple[str, str]] = []
    skipped = 0
    for r in audience.recipients:
        if r.channel not in on:
            skipped += 1
        elif r.channel == "line":
            by_variant.setdefault(r.variant, []).append(r.user_id)
        elif r.channel == "telegram":
            telegram.append((r.user_id, r.variant))
    batches = tuple(
        (variant, tuple(ids[i:i + LINE_BATCH]))
        for variant, ids in sorted(by_variant.items())
        for i in range(0, len(ids), LINE_BATCH)
    )  # fmt: skip
    used = {v for v, _ in batches} | {v for _, v in telegram}
    variants = {k: v for k, v in audience.variants.items() if k in used}
    return Plan(notice_id, variants, batches, tuple(telegram), skipped)


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    """The plan as JSON rows: a header (variants), then one row per LINE batch and chat."""
    rows: list[dict[str, Any]] = [{
        "notice": plan.notice_id, "skipped": plan.skipped,
        "variants": {k: {"text": v.text, "choices": [[c.label, c.action] for c in v.choices]}
                     for k, v in plan.variants.items()},
    }]  # fmt: skip
    rows += [{"line": i, "variant": v, "to": list(ids)}
             for i, (v, ids) in enumerate(plan.line_batches)]
    rows += [{"tg": c, "variant": v} for c, v in plan.telegram]
    return rows


def plan_from_rows(rows: list[dict[str, Any]]) -> Plan:
    """The inverse of :func:`plan_rows`."""
    head = rows[0]
    variants = {k: OutMessage(v["text"], tuple(Choice(a, b) for a, b in v["choices"]))
                for k, v in head["variants"].items()}
    batches = tuple((r["variant"], tuple(r["to"])) for r in rows[1:] if "line" in r)
    chats = tuple((str(r["tg"]), r["variant"]) for r in rows[1:] if "tg" in r)
    return Plan(head["notice"], variants, batches, chats, int(head.get("skipped", 0)))


def save_plan(folder: Path, plan: Plan) -> None:
    """Write the plan once, atomically, as JSON lines (header, batches, chats)."""
    lines = [json.dumps(r, ensure_ascii=False) for r in plan_rows(plan)]
    atomic_write(folder / "plan.jsonl", ("\n".join(lines) + "\n").encode())


def load_plan(folder: Path) -> Plan | None:
    path = folder / "plan.jsonl"
    if not path.exists():
        return None
    return plan_from_rows([json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()
                           if x.strip()])


TG_STATE = {"ok": "ok", "blocked": "blocked", "failed": "failed", "unknown": "unknown",
             "retry": "retry", "broken": "retry"}


def summarize(plan: Plan, records: Iterable[Mapping[str, Any]],
              requests_of: Callable[[OutMessage], int]) -> dict[str, int]:
    """Counts of a notice from its plan and journal: delivered, unreachable, failed, uncertain,
    pending (still to try). ``requests_of(message)``: how many LINE requests one message
    takes (the channel's renderer decides)."""
    line_parts: dict[tuple[int, int], str] = {}
    line_sent: dict[int, int] = {}
    tg: dict[str, str] = {}
    for r in records:
        if "line" in r:
            line_parts[(int(r["line"]), int(r["part"]))] = str(r["s"])
            if int(r["part"]) == 0 and "sent" in r:
                line_sent[int(r["line"])] = int(r["sent"])
        elif "tg" in r:
            tg[str(r["tg"])] = str(r["s"])
    out = {"delivered": 0, "unreachable": 0, "failed": 0, "uncertain": 0, "skipped": 0,
           "pending": 0}
    for i, (variant, ids) in enumerate(plan.line_batches):
        parts = requests_of(plan.variants[variant])
        states = [line_parts.get((i, k)) for k in range(parts)]
        if all(s == "ok" for s in states):
            sent = min(len(ids), line_sent.get(i, len(ids)))
            out["delivered"] += sent
            out["skipped"] += len(ids) - sent
        elif any(s == "failed" for s in states):
            out["failed"] += len(ids)
        else:
            out["pending"] += len(ids)
    for chat, _ in plan.telegram:
        s = tg.get(chat)
        if s == "ok":
            out["delivered"] += 1
        elif s == "blocked":
            out["unreachable"] += 1
        elif s == "failed":
            out["failed"] += 1
        elif s == "skipped":
            out["skipped"] += 1
        elif s in ("unknown", "sending"):
            out["uncertain"] += 1
        else:
            out["pending"] += 1
    return out
