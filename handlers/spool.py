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

import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.entries import Lao
from bot.ledger import Role
from bot.notices import Publisher
from bot.outbox import Notice
from bot.status import BANGKOK, StatusUpdate
from bot.store import Store, atomic_write

_LOG = logging.getLogger(__name__)
SPOOL_DIR = "spool"
SUFFIX = ".req"
KINDS = ("status", "announce", "lao_add", "lao_invite")
_ID = re.compile(r"^[0-9A-Za-z_.\-]{1,80}$")


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

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["created_at"] = self.created_at.isoformat()
        return json.dumps(doc, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> SpoolRequest:
        doc: dict[str, Any] = json.loads(raw)
        if not _ID.match(str(doc.get("id", ""))) or doc.get("kind") not in KINDS:
            raise ValueError("bad spool request: id or kind")
        doc["created_at"] = datetime.fromisoformat(doc["created_at"])
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in doc.items() if k in fields})


def new_request_id(now: datetime | None = None) -> str:
    """A sortable, unique id: ``20240715T103000-cli-1a2b3c4d``."""
    at = (now or datetime.now(BANGKOK)).astimezone(BANGKOK)
    return f"{at:%Y%m%dT%H%M%S}-cli-{secrets.token_hex(4)}"


def spool_dir(data_dir: Path) -> Path:
    return Path(data_dir) / SPOOL_DIR


def write_request(data_dir: Path, req: SpoolRequest) -> Path:
    """Drop ``req`` into the spool atomically; returns the file's path."""
    folder = spool_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{req.id}{SUFFIX}"
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
        publisher.directory.add_lao(Lao(req.lao_code, req.lao_name, req.province))
        return None, None
    if req.kind == "lao_invite":
        role: Role = "admin" if req.role == "admin" else "member"
        publisher.directory.invite(req.lao_code, role, req.by, req.created_at, days=req.days,
                                   code=req.join_code or None)
        return None, None
    if req.kind == "announce":
        return None, publisher.announce(text=req.message, key=req.id, now=req.created_at,
                                        by=req.by, province=req.province)
    return publisher.set_status(
        state=req.state, message=req.message, key=req.id, now=req.created_at, phase=req.phase,
        expected=req.expected, ref=req.ref, by=req.by, notify=req.notify,
        province=req.province,
    )  # fmt: skip


def apply_spool(data_dir: Path, publisher: Publisher) -> list[str]:
    """Apply every spooled request, then delete its file; bad files go to ``spool/rejected``.

    Returns:
        The ids of the requests applied.
    """
    done: list[str] = []
    for path in pending_files(data_dir):
        try:
            req = SpoolRequest.from_json(path.read_bytes())
            apply_request(req, publisher)
        except (ValueError, KeyError, TypeError) as exc:
            _LOG.error("spool request %s rejected: %s", path.name, exc)
            rejected = path.parent / "rejected"
            rejected.mkdir(exist_ok=True)
            os.replace(path, rejected / path.name)
            continue
        path.unlink()
        done.append(req.id)
        _LOG.info("applied spool request %s (%s)", req.id, req.kind)
    return done


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
    from bot.status import StatusBoard
    from bot.store import StoreError, TinyStore, lock_data_dir

    if store is not None:  # a shared database: write to it directly, no spool and no lock
        status = StatusBoard(store, seed=seed)
        update, notice = apply_request(req, Publisher(store, status, status_url=status_url))
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
