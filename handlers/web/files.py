"""Signed, expiring download links for files the bot hands out (LINE cannot send files)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import quote

from aiohttp import web

from bot.core.contract import FileBlob
from bot.core.sharing import is_shared
from bot.core.store import Store, StoreError
from handlers.settings import Settings

if TYPE_CHECKING:
    from bot.core.pgstore import PgStore

_LOG = logging.getLogger(__name__)

DEFAULT_TTL = 3600
MAX_FILES = 200
MAX_FILES_PER_USER = 5
"""Links one user may hold at once: their oldest goes first, so nobody can evict everyone's."""
MAX_BYTES = 200 * 1024 * 1024
PG_MAX_BYTES = 2 * 1024 * 1024 * 1024
"""Bytes the PostgreSQL vault keeps at most (every instance's links together)."""
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{16})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
_INLINE = ("application/pdf", "image/", "text/plain")

TAMPERED_TH = "ลิงก์นี้ไม่ถูกต้อง กรุณาขอไฟล์ใหม่ในแชตค่ะ"
EXPIRED_TH = "ลิงก์นี้หมดอายุแล้ว พิมพ์ขอไฟล์ใหม่ในแชตได้เลยค่ะ"
GONE_TH = "ไฟล์นี้ไม่มีในระบบแล้ว พิมพ์ขอไฟล์ใหม่ในแชตได้เลยค่ะ"
UNAVAILABLE_TH = "ระบบขัดข้องชั่วคราว กรุณาเปิดลิงก์นี้ใหม่อีกครั้งในอีกสักครู่ค่ะ"


class LinkError(Exception):
    """A download link that cannot be served; ``status`` is the HTTP status to answer."""

    status = 403
    message_th = TAMPERED_TH


class LinkTampered(LinkError):
    """Malformed token or a signature that does not match."""


class LinkExpired(LinkError):
    """A genuine link past its expiry time."""

    status = 410
    message_th = EXPIRED_TH


class LinkGone(LinkError):
    """A genuine, unexpired link whose file is no longer kept (evicted or restarted)."""

    status = 410
    message_th = GONE_TH


@dataclass(frozen=True)
class _Kept:
    blob: FileBlob
    expires_at: float
    owner: str = ""


class FileVault:
    """Files kept in memory (bounded LRU) behind HMAC-signed, expiring tokens.

    A token is ``<file id>.<expiry unix time>.<HMAC-SHA256(secret, id.expiry), base64url>``:
    changing any part breaks the signature, and the expiry is checked before the file is
    looked up. Embedded mode: one process owns the data directory, so memory is the whole
    truth (several instances on PostgreSQL use :class:`PgFileVault`).
    """

    def __init__(self, secret: bytes, base_url: str, *, ttl: int = DEFAULT_TTL,
                 max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES,
                 per_user: int = MAX_FILES_PER_USER, clock: Callable[[], float] = time.time):
        if not secret:
            raise ValueError("the file link secret must not be empty")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.per_user = per_user
        self.clock = clock
        self._files: OrderedDict[str, _Kept] = OrderedDict()
        self._bytes = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> FileVault:
        """A vault keyed with ELAAS_FILE_SECRET (or the generated one) for PUBLIC_BASE_URL."""
        return cls(settings.resolved_file_secret(), settings.public_base_url)

    def __repr__(self) -> str:  # never show the key
        return f"FileVault({len(self._files)} files, {self._bytes} bytes)"

    def _sign(self, file_id: str, expiry: int) -> str:
        mac = hmac.new(self._secret, f"{file_id}.{expiry}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def put(self, blob: FileBlob, ttl: int | None = None, *, owner: str = "") -> str:
        """Keep ``blob`` and return a signed token valid for ``ttl`` seconds (default 1 hour).

        ``owner`` (``channel:user``) holds at most ``per_user`` links: a new one drops that
        owner's oldest, never somebody else's.
        """
        file_id = secrets.token_urlsafe(12)
        expiry = int(self.clock()) + (self.ttl if ttl is None else ttl)
        if owner:
            mine = [f for f, k in self._files.items() if k.owner == owner]
            for fid in mine[:max(0, len(mine) - self.per_user + 1)]:
                _LOG.info("file links: quota of %d reached, oldest link dropped", self.per_user)
                self._drop(fid)
        self._files[file_id] = _Kept(blob, float(expiry), owner)
        self._bytes += len(blob.data)
        self._evict()
        return f"{file_id}.{expiry}.{self._sign(file_id, expiry)}"

    def url(self, token: str) -> str:
        """The public download address of ``token``."""
        return f"{self.base_url}/files/{token}"

    def link(self, blob: FileBlob, ttl: int | None = None, *, owner: str = "") -> str:
        """Keep ``blob`` and return its signed download URL."""
        return self.url(self.put(blob, ttl, owner=owner))

    def _evict(self) -> None:
        now = self.clock()
        for fid in [f for f, k in self._files.items() if k.expires_at < now]:
            self._drop(fid)
        while self._files and (len(self._files) > self.max_files or
                               self._bytes > self.max_bytes):
            self._drop(next(iter(self._files)))

    def _drop(self, file_id: str) -> None:
        kept = self._files.pop(file_id, None)
        if kept is not None:
            self._bytes -= len(kept.blob.data)

    def _verify(self, token: str) -> str:
        """The file id of a genuine, unexpired token (raises LinkTampered / LinkExpired)."""
        m = _TOKEN.match(token)
        if m is None:
            raise LinkTampered()
        file_id, expiry_s, sig = m.groups()
        expiry = int(expiry_s)
        if not hmac.compare_digest(sig, self._sign(file_id, expiry)):
            raise LinkTampered()
        if expiry < self.clock():
            self._drop(file_id)
            raise LinkExpired()
        return file_id

    def open(self, token: str) -> FileBlob:
        """The file behind ``token``.

        Raises:
            LinkTampered: malformed token or wrong signature (403).
            LinkExpired: the link's time is over (410).
            LinkGone: the file is no longer kept (410).
        """
        kept = self._files.get(self._verify(token))
        if kept is None:
            raise LinkGone()
        return kept.blob

    async def open_async(self, token: str) -> FileBlob:
        """:meth:`open` for the web handler (memory: no I/O, so on the event loop)."""
        return self.open(token)

    def __len__(self) -> int:
        return len(self._files)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /files/{token}``: the bytes with type and (Thai) filename, or a Thai page."""
        token = request.match_info.get("token", "")
        try:
            blob = await self.open_async(token)
        except LinkError as exc:
            _LOG.info("file link refused: %s (%d)", type(exc).__name__, exc.status)
            return error_page(exc.status, exc.message_th)
        except StoreError as exc:  # the shared database is down: the link may work later
            _LOG.warning("file link not served: %s", exc)
            return error_page(503, UNAVAILABLE_TH)
        return web.Response(body=blob.data, headers={
            "Content-Type": blob.mime_type or "application/octet-stream",
            "Content-Disposition": content_disposition(blob.filename, blob.mime_type),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        })  # fmt: skip


class PgFileVault(FileVault):
    """The vault on PostgreSQL (``elaas_files``): a link made on one instance downloads from
    any other behind the proxy.

    The bytes are kept rather than regenerated on download: an export or a filled form shows
    the ledger as it was when the clerk asked, and regenerating later would give another file
    under the same link once an entry is added or voided. Files are small (tens of KB to a few
    MB) and live one hour; expired rows are deleted on every write (an index on expiry keeps
    that cheap), the per-user quota holds across instances, and ``max_bytes`` bounds the table.
    """

    def __init__(self, store: PgStore, secret: bytes, base_url: str, *, ttl: int = DEFAULT_TTL,
                 max_bytes: int = PG_MAX_BYTES, per_user: int = MAX_FILES_PER_USER,
                 clock: Callable[[], float] = time.time):
        super().__init__(secret, base_url, ttl=ttl, max_bytes=max_bytes, per_user=per_user,
                         clock=clock)
        self._store = store
        self._count = 0

    def __repr__(self) -> str:  # never show the key
        return f"PgFileVault({self._store.where})"

    def put(self, blob: FileBlob, ttl: int | None = None, *, owner: str = "") -> str:
        file_id = secrets.token_urlsafe(12)
        now = self.clock()
        expiry = int(now) + (self.ttl if ttl is None else ttl)
        with self._store.begin() as conn:
            conn.execute("DELETE FROM elaas_files WHERE expires_at < to_timestamp(%s)", (now,))
            if owner:  # serialised per owner, so two instances never both keep a sixth link
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                             (f"files:{owner}",))
                conn.execute(
                    "DELETE FROM elaas_files WHERE id IN (SELECT id FROM elaas_files"
                    " WHERE owner = %s ORDER BY created_at DESC OFFSET %s)",
                    (owner, max(0, self.per_user - 1)))
            conn.execute(
                "INSERT INTO elaas_files (id, owner, filename, mime_type, data, size,"
                " expires_at) VALUES (%s, %s, %s, %s, %s, %s, to_timestamp(%s))",
                (file_id, owner, blob.filename, blob.mime_type, blob.data, len(blob.data),
                 expiry))
            # Over the byte budget: the oldest files go first (running total, newest first).
            conn.execute(
                "DELETE FROM elaas_files WHERE id IN (SELECT id FROM (SELECT id, sum(size)"
                " OVER (ORDER BY created_at DESC, id) AS total FROM elaas_files) t"
                " WHERE total > %s)", (self.max_bytes,))
            row = conn.execute("SELECT count(*) FROM elaas_files").fetchone()
        self._count = int(row[0]) if row else 0
        return f"{file_id}.{expiry}.{self._sign(file_id, expiry)}"

    def _evict(self) -> None:
        """Expired rows are deleted by :meth:`put`; nothing is kept in memory."""

    def _drop(self, file_id: str) -> None:
        """An expired link's row goes with the next write (a read never writes)."""

    def open(self, token: str) -> FileBlob:
        file_id = self._verify(token)
        with self._store.cursor() as conn:
            row = conn.execute("SELECT data, filename, mime_type FROM elaas_files WHERE id = %s",
                               (file_id,)).fetchone()
        if row is None:
            raise LinkGone()
        return FileBlob(bytes(row[0]), str(row[1]), str(row[2]))

    async def open_async(self, token: str) -> FileBlob:
        """:meth:`open` on a worker thread: a database read must not stall the event loop."""
        return await asyncio.to_thread(self.open, token)

    def __len__(self) -> int:
        """Files in the table at this instance's last write (health output, no query)."""
        return self._count


def vault_for(settings: Settings, store: Store) -> FileVault:
    """The vault for ``serve``: in PostgreSQL when the store is shared, else in memory."""
    if is_shared(store):
        return PgFileVault(cast("PgStore", store), settings.resolved_file_secret(),
                           settings.public_base_url)
    return FileVault.from_settings(settings)


def content_disposition(filename: str, mime_type: str = "") -> str:
    """A Content-Disposition value with an ASCII fallback and the RFC 5987 UTF-8 name."""
    disposition = "inline" if mime_type.startswith(_INLINE) else "attachment"
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_") or "file"
    ascii_ext = re.sub(r"[^A-Za-z0-9]+", "", ext)
    fallback = ascii_stem + (f".{ascii_ext}" if ascii_ext else "")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def error_page(status: int, message_th: str) -> web.Response:
    """A short Thai HTML page for a refused download."""
    body = (
        "<!doctype html><html lang=\"th\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>ดาวน์โหลดไม่ได้</title></head>"
        "<body style=\"font-family:sans-serif;margin:2em;line-height:1.6\">"
        f"<h1 style=\"font-size:1.3em\">ดาวน์โหลดไม่ได้</h1><p>{html.escape(message_th)}</p>"
        "</body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})
