"""Operator requests from the CLI: applied at once when the data dir is free, else spooled.

``elaas-bot serve`` owns the data directory (a lock file), so ``elaas-bot status set`` cannot
open the store while it runs. The CLI then writes the request as one JSON file into
``data_dir/spool/`` (temp file + fsync + rename, so serve never reads half a file) and the
server's notice sender applies it within about a second and deletes the file. Each request
carries an id that keys the status update and the notice, so applying it twice (a crash
between applying and deleting) posts once. With no server running, the CLI takes the lock
and applies the request itself; its notice waits in the outbox until ``serve`` starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.contract import UserKey
from bot.core.store import Store, atomic_write
from bot.ledger.book import LedgerError, Role, valid_lao_code
from bot.ledger.directory import check_invite_days, checked_lao
from bot.notices.board import MAX_NOTICE_TEXT, Publisher
from bot.notices.operators import Operators
from bot.notices.outbox import Notice, normalize_province
from bot.notices.status import BANGKOK, PHASES, STATES, StatusUpdate

_LOG = logging.getLogger(__name__)
SPOOL_DIR = "spool"
REJECTED_DIR = "rejected"
SUFFIX = ".req"
KINDS = ("status", "announce", "lao_add", "lao_invite", "operator_add", "operator_remove")
MAX_AGE = timedelta(hours=1)
"""A status or announce request older than this is refused: it would post stale news."""
MAX_SKEW = timedelta(minutes=5)
MAX_FILE = 64 * 1024
_ID = re.compile(r"^[0-9A-Za-z_.\-]{1,80}$")
_JOIN_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{8}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LIMITS = {"by": 100, "state": 20, "message": MAX_NOTICE_TEXT, "phase": 20, "expected": 200,
           "ref": 300, "province": 400, "lao_code": 10, "lao_name": 200, "role": 10,
           "join_code": 8, "user": 100}


class SpoolRejected(ValueError):
    """A spooled request that must not be applied; ``str(e)`` says why (for the log)."""


def validate_doc(doc: Any) -> dict[str, Any]:
    """The fields of a spooled request, every one checked; raises SpoolRejected.

    Types (strings, a real bool, an int), lengths and control characters, an aware
    ``created_at``, the kind's own rules (state and phase names, LAO code, join code
    alphabet, province name, a join code's lifetime; an LAO by :func:`checked_lao`, the CLI's
    and the console's rule). Unknown fields are refused too.
    """
    if not isinstance(doc, dict):
        raise SpoolRejected("not a JSON object")
    known = {f.name for f in fields(SpoolRequest)}
    extra = sorted(set(doc) - known)
    if extra:
        raise SpoolRejected(f"unknown field(s) {extra}")
    out: dict[str, Any] = {}
    if not isinstance(doc.get("id"), str) or not _ID.match(doc["id"]):
        raise SpoolRejected("id")
    if doc.get("kind") not in KINDS:
        raise SpoolRejected("kind")
    out["id"], out["kind"] = doc["id"], doc["kind"]
    try:
        created = datetime.fromisoformat(str(doc["created_at"]))
    except (KeyError, ValueError):
        raise SpoolRejected("created_at is not an ISO date-time") from None
    if created.tzinfo is None or created.utcoffset() is None:
        raise SpoolRejected("created_at has no time zone")
    out["created_at"] = created
    for name, limit in _LIMITS.items():
        value = doc.get(name, "")
        if not isinstance(value, str) or len(value) > limit or _CONTROL.search(value):
            raise SpoolRejected(f"{name}: not a string of at most {limit} characters")
        out[name] = value
    if not isinstance(doc.get("notify", False), bool):
        raise SpoolRejected("notify is not true/false")
    days = doc.get("days", 7)
    if isinstance(days, bool) or not isinstance(days, int):
        raise SpoolRejected("days is not a whole number")
    out["notify"], out["days"] = doc.get("notify", False), days
    if not out["by"]:
        raise SpoolRejected("by is empty")
    out["phase"] = out["phase"] or "update"
    kind = out["kind"]
    if out["province"] and kind in ("status", "announce") and \
            normalize_province(out["province"]) is None:
        raise SpoolRejected("province is not a known province")
    if kind == "status" and (out["state"] not in STATES or not out["message"].strip()
                             or out["phase"] not in PHASES):
        raise SpoolRejected("status needs a known state and phase and a message")
    if kind == "announce" and not out["message"].strip():
        raise SpoolRejected("announce needs a message")
    if kind == "lao_invite" and not valid_lao_code(out["lao_code"]):
        raise SpoolRejected("lao_code is not 4-10 digits")
    if kind == "lao_add":  # the rule `lao add` and the console apply: code, name, province
        try:
            lao = checked_lao(out["lao_code"], out["lao_name"], out["province"])
        except LedgerError as exc:
            raise SpoolRejected(f"lao_add: {exc}") from None
        out["lao_name"], out["province"] = lao.name, lao.province
    if kind == "lao_invite" and (out["role"] not in ("admin", "member") or
                                 (out["join_code"] and not _JOIN_CODE.match(out["join_code"]))):
        raise SpoolRejected("lao_invite needs role admin/member and an 8-letter join code")
    if kind == "lao_invite":
        try:
            check_invite_days("admin" if out["role"] == "admin" else "member", days)
        except LedgerError:
            raise SpoolRejected(f"days {days} is out of range for a {out['role']} code") from None
    if kind in ("operator_add", "operator_remove"):
        try:
            UserKey.parse(out["user"])
        except ValueError:
            raise SpoolRejected("user is not channel:id") from None
        provinces = [p for p in out["province"].split(",") if p.strip()]
        if any(normalize_province(p) is None for p in provinces):
            raise SpoolRejected("province is not a known province")
        if kind == "operator_add" and not provinces:
            raise SpoolRejected("operator_add needs a province")
    return out


@dataclass(frozen=True)
class SpoolRequest:
    """One operator request: a status update (optionally notified), an announcement, or an
    LAO change (``lao_add``, ``lao_invite`` with the join code the CLI already printed)."""

    id: str
    kind: str  # "status" | "announce" | "lao_add" | "lao_invite"
    created_at: datetime
    by: str
    state: str = ""
    message: str = ""
    phase: str = "update"
    expected: str = ""
    ref: str = ""
    notify: bool = False
    province: str = ""
    lao_code: str = ""
    lao_name: str = ""
    role: str = "member"
    join_code: str = ""
    days: int = 7
    user: str = ""  # operator_add / operator_remove: channel:id (provinces in ``province``)

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["created_at"] = self.created_at.isoformat()
        return json.dumps(doc, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> SpoolRequest:
        """Parse and validate (see :func:`validate_doc`); raises SpoolRejected."""
        if len(raw) > MAX_FILE:
            raise SpoolRejected(f"over {MAX_FILE} bytes")
        try:
            doc = json.loads(raw)
        except ValueError:  # includes bad UTF-8
            raise SpoolRejected("not JSON") from None
        return cls(**validate_doc(doc))

    def check_fresh(self, now: datetime) -> None:
        """Refuse a status/announce request made too long ago (or in the future)."""
        if self.created_at - now > MAX_SKEW:
            raise SpoolRejected(f"created_at {self.created_at.isoformat()} is in the future")
        if self.kind in ("status", "announce") and now - self.created_at > MAX_AGE:
            raise SpoolRejected(f"stale: made {self.created_at.isoformat()}, more than "
                                f"{int(MAX_AGE.total_seconds() // 60)} minutes ago")


def new_request_id(now: datetime | None = None) -> str:
    """A sortable, unique id: ``20240715T103000-cli-1a2b3c4d``."""
    at = (now or datetime.now(BANGKOK)).astimezone(BANGKOK)
    return f"{at:%Y%m%dT%H%M%S}-cli-{secrets.token_hex(4)}"


def spool_dir(data_dir: Path) -> Path:
    return Path(data_dir) / SPOOL_DIR


def write_request(data_dir: Path, req: SpoolRequest) -> Path:
    """Drop ``req`` into the spool atomically; returns the file's path."""
    folder = spool_dir(data_dir)
    final = folder / f"{req.id}{SUFFIX}"  # atomic_write makes the folder owner-only
    atomic_write(final, req.to_json())
    return final


def pending_files(data_dir: Path) -> list[Path]:
    """Spooled request files, oldest first (their names start with a timestamp)."""
    folder = spool_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and p.is_file())


def apply_request(req: SpoolRequest, publisher: Publisher,
                  ) -> tuple[StatusUpdate | None, Notice | None]:
    """Apply one request through the publisher (idempotent by ``req.id``)."""
    if req.kind == "lao_add":
        # checked again: a request built in code (the CLI on PostgreSQL) skips validate_doc
        publisher.directory.add_lao(checked_lao(req.lao_code, req.lao_name, req.province))
        return None, None
    if req.kind == "lao_invite":
        role: Role = "admin" if req.role == "admin" else "member"
        publisher.directory.invite(req.lao_code, role, req.by, req.created_at, days=req.days,
                                   code=req.join_code or None)
        return None, None
    if req.kind in ("operator_add", "operator_remove"):
        operators = Operators(publisher.store)
        provinces = [p for p in req.province.split(",") if p.strip()]
        if req.kind == "operator_add":
            operators.add(req.user, provinces, by=req.by, now=req.created_at)
        else:
            operators.remove(req.user, provinces)
        return None, None
    if req.kind == "announce":
        return None, publisher.announce(text=req.message, key=req.id, now=req.created_at,
                                        by=req.by, province=req.province)
    return publisher.set_status(
        state=req.state, message=req.message, key=req.id, now=req.created_at, phase=req.phase,
        expected=req.expected, ref=req.ref, by=req.by, notify=req.notify,
        province=req.province,
    )  # fmt: skip


_stuck: set[Path] = set()  # rejected files that could be neither moved nor removed


def apply_spool(data_dir: Path, publisher: Publisher, now: datetime | None = None) -> list[str]:
    """Apply every spooled request, then delete its file; a file that fails for any reason
    (unreadable, invalid, stale, refused by the ledger) goes to ``spool/rejected`` with a log
    line and the next file is applied: one bad file never blocks the queue.

    Returns:
        The ids of the requests applied.
    """
    done: list[str] = []
    at = now or datetime.now(BANGKOK)
    for path in pending_files(data_dir):
        if path in _stuck:
            continue
        try:
            req = SpoolRequest.from_json(path.read_bytes())
            req.check_fresh(at)
            apply_request(req, publisher)
        except Exception as exc:  # any failure: set the file aside, go on with the next
            _LOG.error("spool request %s rejected: %s", path.name,
                       str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
            _reject(path)
            continue
        try:
            path.unlink()
        except OSError as exc:
            _LOG.error("spool request %s applied but not removed: %s", path.name, exc)
            _stuck.add(path)
        done.append(req.id)
        _LOG.info("applied spool request %s (%s)", req.id, req.kind)
    return done


def _reject(path: Path) -> None:
    rejected = path.parent / REJECTED_DIR
    try:
        rejected.mkdir(mode=0o700, exist_ok=True)
        os.replace(path, rejected / path.name)
    except OSError as exc:
        _LOG.error("spool request %s could not be moved to %s/: %s", path.name, REJECTED_DIR,
                   exc)
        try:
            path.unlink()
        except OSError:
            _stuck.add(path)


@dataclass(frozen=True)
class Posted:
    """What became of an operator request: applied here, by the server, or still waiting."""

    how: str  # "applied" (this process held the lock) | "served" (serve applied it) | "queued"
    request: SpoolRequest
    update: StatusUpdate | None = None
    notice: Notice | None = None
    path: Path | None = None


def post_request(data_dir: Path, req: SpoolRequest, *, seed: Path | None = None,
                 status_url: str = "", wait: float = 5.0, store: Store | None = None) -> Posted:
    """Apply ``req`` directly when no server owns ``data_dir``, else spool it for the server.

    Args:
        data_dir: the data directory.
        req: the request.
        seed: knowledge/status.yaml, to seed an empty timeline before the first update.
        status_url: the public status page, quoted in the notice.
        wait: seconds to wait for a running server to pick a spooled request up.
        store: the PostgreSQL store when ``ELAAS_DATABASE_URL`` is set (applied directly).
    """
    from bot.core.store import StoreError, TinyStore, lock_data_dir
    from bot.notices.status import StatusBoard

    if store is not None:  # a shared database: write to it directly, no spool and no lock
        # One transaction: the status update and its notice are both written or neither is
        # (the database going down midway leaves nothing half-posted). The running instances
        # find the notice on their next outbox poll (every second).
        with store.transaction("elaas-operator-request"):
            status = StatusBoard(store, seed=seed)
            update, notice = apply_request(req, Publisher(store, status,
                                                          status_url=status_url))
        return Posted("applied", req, update, notice)
    try:
        lock = lock_data_dir(data_dir)
    except StoreError:
        path = write_request(data_dir, req)
        deadline = time.monotonic() + wait
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return Posted("queued" if path.exists() else "served", req, path=path)
    try:
        store = TinyStore(data_dir)
        try:
            status = StatusBoard(store, seed=seed)
            update, notice = apply_request(req, Publisher(store, status, status_url=status_url))
        finally:
            store.close()
    finally:
        lock.release()
    return Posted("applied", req, update, notice)


async def run_spool(apply: Callable[[], Awaitable[list[str]]], applied: Callable[[], None], *,
                    poll: float = 1.0) -> None:
    """Apply spooled CLI requests every ``poll`` seconds until cancelled; call ``applied()``
    after a pass that applied something (the notice sender then delivers at once)."""
    while True:
        try:
            if await apply():
                applied()
        except Exception:  # a bad pass is logged; the next one may succeed
            _LOG.exception("applying spool requests failed")
        await asyncio.sleep(poll)
