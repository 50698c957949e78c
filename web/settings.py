"""One frozen `Settings`, read from the environment once.

Every field carries its environment variable and help text in its metadata;
`docs/settings.md` lists them all and `tests/web/test_settings_docs.py` keeps it so.
Nothing below `create_app` reads `os.environ`.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _setting(env: str, default: Any, help: str, *, secret: bool = False) -> Any:
    return field(
        default=default,
        metadata={"env": env, "help": help, "secret": secret},
        repr=not secret,
    )


@dataclass(frozen=True)
class Settings:
    host: str = _setting("HOST", "127.0.0.1", "Address `live-seoul serve` binds to.")
    port: int = _setting("PORT", 8000, "TCP port `live-seoul serve` listens on.")
    workers: int = _setting(
        "WEB_CONCURRENCY", 1, "Number of worker processes `live-seoul serve` starts."
    )
    database_url: str = _setting(
        "DATABASE_URL",
        "sqlite:///./live-seoul.db",
        "SQLite database, as `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`.",
    )
    redis_url: str = _setting(
        "REDIS_URL",
        "",
        "Redis for fan-out across processes, e.g. `redis://127.0.0.1:6379/0`. "
        "Empty: an in-process broker (one process only).",
    )
    secret_key: str = _setting(
        "SECRET_KEY",
        "",
        "Key that signs session cookies and CSRF tokens. Empty: a random key is created "
        "once and kept beside the database file (`<db>.secret`), so workers share it.",
        secret=True,
    )
    public_base_url: str = _setting(
        "PUBLIC_BASE_URL",
        "http://127.0.0.1:8000",
        "The site's public origin, used for share links, Open Graph tags, exports and "
        "the WebSocket Origin check.",
    )
    demo: bool = _setting(
        "LIVE_SEOUL_DEMO",
        False,
        "Load the demo channel (a week of broadcasts, ~40 replays, one live at any hour).",
    )
    allowed_origins: tuple[str, ...] = _setting(
        "ALLOWED_ORIGINS",
        (),
        "Extra origins (comma-separated) allowed to open WebSockets besides PUBLIC_BASE_URL "
        "and the request's own host.",
    )
    comment_max_chars: int = _setting(
        "COMMENT_MAX_CHARS", 300, "Longest comment, in characters a person sees."
    )
    ws_max_message_bytes: int = _setting(
        "WS_MAX_MESSAGE_BYTES", 8192, "Largest WebSocket message a client may send."
    )
    ws_compression: bool = _setting(
        "WS_COMPRESSION",
        False,
        "Enable permessage-deflate (costs memory on every connection).",
    )
    comment_rate_per_minute: float = _setting(
        "COMMENT_RATE_PER_MINUTE", 20.0, "Comments per minute allowed per identity."
    )
    comment_burst: int = _setting(
        "COMMENT_BURST", 5, "Comments an identity may post at once before the rate applies."
    )
    address_rate_per_minute: float = _setting(
        "ADDRESS_RATE_PER_MINUTE",
        120.0,
        "Comments per minute allowed per client address (all identities on it).",
    )
    address_burst: int = _setting(
        "ADDRESS_BURST", 30, "Burst allowed per client address before its rate applies."
    )
    send_queue_frames: int = _setting(
        "SEND_QUEUE_FRAMES",
        64,
        "Frames queued for one WebSocket before the client is closed as too slow (4008).",
    )
    backfill_comments: int = _setting(
        "BACKFILL_COMMENTS", 50, "Recent comments sent to a viewer on connect."
    )
    replay_repeat_window_hours: int = _setting(
        "REPLAY_REPEAT_WINDOW_HOURS",
        6,
        "A replay is not scheduled again on the channel within this many hours.",
    )
    session_max_age_days: int = _setting(
        "SESSION_MAX_AGE_DAYS", 30, "How long a session cookie stays valid."
    )
    kakao_js_key: str = _setting(
        "KAKAO_JS_KEY", "", "Kakao JavaScript key; enables KakaoTalk sharing through its SDK."
    )
    frame_ancestors: str = _setting(
        "FRAME_ANCESTORS",
        "*",
        "CSP frame-ancestors for /embed/ pages (space-separated sources).",
    )
    vote_burst: int = _setting(
        "VOTE_BURST", 10, "Question votes and unvotes an identity may cast at once."
    )
    votes_per_minute: float = _setting(
        "VOTES_PER_MINUTE",
        30.0,
        "Question votes and unvotes per minute per identity, after the burst.",
    )
    report_hide_threshold: int = _setting(
        "REPORT_HIDE_THRESHOLD",
        3,
        "Distinct viewers whose reports (신고) hide a comment until a moderator reviews it; "
        "0 never hides.",
    )
    max_connections: int = _setting(
        "MAX_CONNECTIONS",
        20000,
        "WebSocket connections one process accepts; beyond it clients are told to retry "
        "(close code 1013) and /api/ answers 503 with Retry-After.",
    )
    admission_rate: float = _setting(
        "ADMISSION_RATE",
        1500.0,
        "New WebSocket connections per second admitted per broadcast and process (a "
        "reconnect storm after a restart is spread out instead of served at once).",
    )
    admission_burst: int = _setting(
        "ADMISSION_BURST",
        3000,
        "Connections admitted at once per broadcast before the rate applies.",
    )
    shutdown_timeout: float = _setting(
        "SHUTDOWN_TIMEOUT", 10.0, "Seconds a worker waits for in-flight work on SIGTERM."
    )
    log_level: str = _setting("LOG_LEVEL", "info", "Log level: debug, info, warning, error.")
    metrics_token: str = _setting(
        "METRICS_TOKEN",
        "",
        "Bearer token `/metrics` requires (`Authorization: Bearer <token>`). Empty: open.",
        secret=True,
    )
    metrics_dir: str = _setting(
        "METRICS_DIR",
        "",
        "Directory where each worker leaves its metrics every few seconds, so that any "
        "worker's `/metrics` reports all of them. Empty: `<db>.metrics/` beside the database.",
    )
    comment_retention_days: int = _setting(
        "COMMENT_RETENTION_DAYS",
        0,
        "Delete visible comments older than this many days (daily, and `live-seoul db prune`); "
        "removed comments and anything the moderation record refers to are kept. 0 keeps all.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default `os.environ`); raise `SettingsError`."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = f.metadata["env"]
            if name not in env or env[name] == "":
                continue
            raw = env[name].strip()
            values[f.name] = _parse(name, raw, f.default)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.database_url.startswith("sqlite:///"):
            raise SettingsError("DATABASE_URL must start with sqlite:///")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis://, rediss:// or unix://")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError("PUBLIC_BASE_URL must start with http:// or https://")
        for name in ("comment_max_chars", "ws_max_message_bytes", "send_queue_frames"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name.upper()} must be positive")

    @property
    def database_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def public_origin(self) -> str:
        return self.public_base_url.rstrip("/")

    def with_secret(self) -> Settings:
        """Return settings whose `secret_key` is set, creating `<db>.secret` if needed."""
        if self.secret_key:
            return self
        path = self.database_path.with_name(self.database_path.name + ".secret")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text().strip()
        else:
            key = secrets.token_urlsafe(48)
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
        return dataclasses.replace(self, secret_key=key)


def _parse(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(f"{name}: cannot use {raw!r}") from None
    return raw


def documented_settings() -> list[tuple[str, str, str]]:
    """(env name, default, help) for every setting, in declaration order."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        rows.append((f.metadata["env"], shown, f.metadata["help"]))
    return rows


def ws_transport_max(message_max: int) -> int:
    """The largest frame the WebSocket server reads at all (uvicorn's `ws_max_size`).

    Larger than `WS_MAX_MESSAGE_BYTES` on purpose: a frame between the two reaches the app,
    which answers `too_large` and keeps the connection; only a frame past this one is cut
    off by the server (close 1009) before it is buffered whole.
    """
    return max(8 * message_max, 65536)
