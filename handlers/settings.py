"""Settings read once from the environment (and an optional .env file) as a frozen dataclass."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.contract import UserKey
from bot.core.store import atomic_write

MIN_FILE_SECRET = 32
"""ELAAS_FILE_SECRET signs download links: shorter keys are refused (HMAC-SHA256 wants 32+)."""


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a .env file (comments, blanks and ``export`` allowed)."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


@dataclass(frozen=True)
class Settings:
    """Configuration as in shared/design.md. Secrets are excluded from repr."""

    data_dir: Path = Path("data")
    line_channel_secret: str = field(default="", repr=False)
    line_channel_access_token: str = field(default="", repr=False)
    line_api_base: str = "https://api.line.me"
    line_basic_id: str = ""
    telegram_bot_token: str = field(default="", repr=False)
    telegram_api_base: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: str = field(default="", repr=False)
    public_base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    admins: frozenset[UserKey] = frozenset()
    file_secret: str = field(default="", repr=False)
    export_dir: Path = Path("exports")
    status_stale_days: int = 14
    probe_url: str = ""
    probe_interval: float = 300.0
    status_alert_minutes: int = 30
    database_url: str = field(default="", repr=False)  # holds the database password
    log_text: bool = False  # ELAAS_LOG_TEXT=1: log what users typed (debugging only)

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def telegram_webhook(self) -> bool:
        return bool(self.telegram_webhook_secret)

    @property
    def database_password(self) -> str:
        """The password inside ELAAS_DATABASE_URL (for redaction), or ""."""
        from urllib.parse import unquote, urlsplit

        try:
            return unquote(urlsplit(self.database_url).password or "")
        except ValueError:
            return ""

    def missing_for_serve(self) -> list[str]:
        """Variables to set so that at least one channel is on (empty when one is)."""
        if self.line_enabled or self.telegram_enabled:
            return []
        return ["LINE_CHANNEL_SECRET + LINE_CHANNEL_ACCESS_TOKEN", "TELEGRAM_BOT_TOKEN"]

    def is_admin(self, user: UserKey) -> bool:
        return user in self.admins

    def warnings(self) -> list[str]:
        """Settings that work but are unsafe in production (logged by ``serve``)."""
        out = []
        if not self.public_base_url.startswith("https://"):
            out.append(f"PUBLIC_BASE_URL {self.public_base_url} is not https: download links "
                       "and the status page travel unencrypted (LINE and Telegram webhooks "
                       "need https too)")
        return out

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None
    ) -> Settings:
        """Settings from ``env`` (default: os.environ) over a .env file (default ``./.env``).

        Raises:
            ValueError: listing every variable that is set but malformed.
        """
        values = read_dotenv(dotenv if dotenv is not None else Path(".env"))
        values.update(dict(os.environ if env is None else env))
        errors: list[str] = []
        port = 8080
        try:
            port = int(values.get("PORT", "8080") or 8080)
        except ValueError:
            errors.append("PORT must be a number")
        def number(key: str, default: float, low: float) -> float:
            raw = (values.get(key) or "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                errors.append(f"{key} must be a number")
                return default
            if value < low:
                errors.append(f"{key} must be at least {low:g}")
                return default
            return value

        stale_days = int(number("ELAAS_STATUS_STALE_DAYS", 14, 0))
        probe_interval = number("ELAAS_PROBE_INTERVAL", 300, 5)
        alert_minutes = int(number("ELAAS_STATUS_ALERT_MINUTES", 30, 0))
        probe_url = (values.get("ELAAS_PROBE_URL") or "").strip()
        if probe_url and not probe_url.startswith(("http://", "https://")):
            errors.append("ELAAS_PROBE_URL must start with http:// or https://")
        admins: set[UserKey] = set()
        for item in filter(None, (a.strip() for a in values.get("ELAAS_ADMINS", "").split(","))):
            try:
                admins.add(UserKey.parse(item))
            except ValueError:
                errors.append(f"ELAAS_ADMINS: {item!r} is not channel:user_id")
        line_keys = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN")
        if len({bool(values.get(k)) for k in line_keys}) > 1:
            errors.append("LINE needs both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN")
        file_secret = values.get("ELAAS_FILE_SECRET", "")
        if file_secret and len(file_secret) < MIN_FILE_SECRET:
            errors.append(f"ELAAS_FILE_SECRET must be at least {MIN_FILE_SECRET} characters "
                          "(make one: python3 -c 'import secrets; print(secrets.token_hex(32))')")
        database_url = values.get("ELAAS_DATABASE_URL", "").strip()
        if database_url and not database_url.startswith(("postgresql://", "postgres://")):
            errors.append("ELAAS_DATABASE_URL must start with postgresql://")
        if errors:
            raise ValueError("; ".join(errors))
        return cls(
            data_dir=Path(values.get("ELAAS_DATA_DIR") or "data"),
            line_channel_secret=values.get("LINE_CHANNEL_SECRET", ""),
            line_channel_access_token=values.get("LINE_CHANNEL_ACCESS_TOKEN", ""),
            line_api_base=(values.get("LINE_API_BASE") or "https://api.line.me").rstrip("/"),
            line_basic_id=(values.get("LINE_BOT_BASIC_ID") or "").strip(),
            telegram_bot_token=values.get("TELEGRAM_BOT_TOKEN", ""),
            telegram_api_base=values.get("TELEGRAM_API_BASE") or "https://api.telegram.org/bot",
            telegram_webhook_secret=values.get("TELEGRAM_WEBHOOK_SECRET", ""),
            public_base_url=(values.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8080").rstrip("/"),
            host=values.get("HOST") or "127.0.0.1",
            port=port,
            admins=frozenset(admins),
            file_secret=file_secret,
            export_dir=Path(values.get("ELAAS_EXPORT_DIR") or "exports"),
            status_stale_days=stale_days,
            probe_url=probe_url,
            probe_interval=probe_interval,
            status_alert_minutes=alert_minutes,
            database_url=database_url,
            log_text=values.get("ELAAS_LOG_TEXT") == "1",
        )

    def resolved_file_secret(self) -> bytes:
        """ELAAS_FILE_SECRET, or a key generated once into the data dir (mode 600).

        Raises:
            ValueError: the key file exists but is empty or too short (named in the message;
                it is never overwritten, since links already handed out depend on it), or
                ELAAS_DATABASE_URL is set without ELAAS_FILE_SECRET.
        """
        if self.file_secret:
            return self.file_secret.encode()
        if self.database_url:  # a key in one instance's data dir would not open the others'
            raise ValueError("ELAAS_FILE_SECRET must be set when ELAAS_DATABASE_URL is: every "
                             "instance signs download and console links with the same key")
        path = self.data_dir / ".file_secret"
        if not path.exists():
            # temp file + fsync + rename: a crash never leaves an empty or torn key file
            atomic_write(path, secrets.token_hex(32).encode())
        key = path.read_text().strip()
        if len(key) < MIN_FILE_SECRET:
            raise ValueError(f"{path} is {'empty' if not key else 'too short'}: delete it to "
                             "generate a new key, or set ELAAS_FILE_SECRET")
        return key.encode()
