"""One frozen `Settings`, read from the environment once.

Every field carries its environment variable and help text in its metadata;
`docs/settings.md` lists them all and `tests/web/test_settings_docs.py` keeps it so.
Nothing below `create_app` reads `os.environ`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livechat import redis_topology


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
        "The database: an SQLite file, as `sqlite:///relative/path.db` or "
        "`sqlite:////absolute/path.db` (one machine), or PostgreSQL, as "
        "`postgresql://user:password@host:5432/name` (several hosts; needs `SECRET_KEY`).",
    )
    database_pool_size: int = _setting(
        "DATABASE_POOL_SIZE",
        10,
        "PostgreSQL connections each worker process keeps open at most (its pool).",
    )
    database_statement_cache_size: int = _setting(
        "DATABASE_STATEMENT_CACHE_SIZE",
        100,
        "Prepared statements each PostgreSQL connection keeps; 0 behind PgBouncer in "
        "transaction mode.",
    )
    data_dir: str = _setting(
        "DATA_DIR",
        "",
        "Directory for the files kept beside the data (`live-seoul.secret`, "
        "`live-seoul.thumbnails/`, `live-seoul.metrics/`). Empty: beside the SQLite file "
        "(`<db>.secret`, …); with PostgreSQL, `./live-seoul-data/`.",
    )
    redis_url: str = _setting(
        "REDIS_URL",
        "",
        "Redis for fan-out across processes, e.g. `redis://127.0.0.1:6379/0`; "
        "`redis+sentinel://host:port[,host:port]/service[/db]` for a Sentinel-watched "
        "master; `redis+cluster://host:port[,host:port]` for a Redis Cluster (7 or later); "
        "`rediss…` for TLS; the master's or nodes' password as `:password@`, the "
        "Sentinels' own as `?sentinel_password=…` (docs/deploy.md). "
        "Empty: an in-process broker (one process only). Required with more than one "
        "worker and with PostgreSQL.",
    )
    host_id: str = _setting(
        "HOST_ID",
        "",
        "This machine's name in metrics, the status page and Redis (several hosts must "
        "differ). Empty: the hostname. On SQLite, a second host id seen on the same Redis "
        "stops start-up (SQLite serves one machine).",
    )
    secret_key: str = _setting(
        "SECRET_KEY",
        "",
        "Key that signs session cookies and CSRF tokens. Empty: a random key is created "
        "once and kept beside the database file (`<db>.secret`), so workers share it; "
        "required with PostgreSQL (every host must sign with the same key).",
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
    channel_publish_hours: int = _setting(
        "CHANNEL_PUBLISH_HOURS",
        48,
        "Days starting within this many hours are published: their replay slots then"
        " change only where a live is added, moved, extended or ended.",
    )
    thumbnail_dir: str = _setting(
        "THUMBNAIL_DIR",
        "",
        "Directory for replay thumbnails taken from recordings with ffmpeg (shared by every"
        " worker). Empty: `<db>.thumbnails/` beside the database (see `DATA_DIR`).",
    )
    preview_font_dir: str = _setting(
        "PREVIEW_FONT_DIR",
        "/usr/share/fonts/opentype/noto",
        "Where Noto Sans CJK (Debian's fonts-noto-cjk) is, to draw share previews and"
        " thumbnail cards; without it pages share the generic cards.",
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
    media_origins: tuple[str, ...] = _setting(
        "MEDIA_ORIGINS",
        (),
        "Origins (comma-separated, e.g. `https://cdn.example.org`) of the stream, recording "
        "and thumbnail hosts: the only hosts besides the site itself that the "
        "Content-Security-Policy lets pages load images and media from and connect to.",
    )
    vote_burst: int = _setting(
        "VOTE_BURST", 10, "Question votes and unvotes an identity may cast at once."
    )
    votes_per_minute: float = _setting(
        "VOTES_PER_MINUTE",
        30.0,
        "Question votes and unvotes per minute per identity, after the burst.",
    )
    report_hide_threshold: float = _setting(
        "REPORT_HIDE_THRESHOLD",
        3.0,
        "Weight of viewers' reports (신고) that hides a comment until a moderator reviews "
        "it: an established viewer weighs 1, a fresh cookie that has not commented 0.25, "
        "and each network block counts once (docs/security.md); 0 never hides.",
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
        "New WebSocket connections per second admitted per broadcast (a reconnect storm "
        "after a restart is spread out instead of served at once): for every process "
        "together when REDIS_URL is set, else per process.",
    )
    admission_burst: int = _setting(
        "ADMISSION_BURST",
        3000,
        "Connections admitted at once per broadcast before the rate applies (shared like "
        "ADMISSION_RATE).",
    )
    shutdown_timeout: float = _setting(
        "SHUTDOWN_TIMEOUT", 10.0, "Seconds a worker waits for in-flight work on SIGTERM."
    )
    request_header_timeout: float = _setting(
        "REQUEST_HEADER_TIMEOUT",
        10.0,
        "Seconds a client may take to send a request's headers before `live-seoul serve` "
        "closes the connection (slowloris); request bodies get 15 s.",
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
        "Where workers keep their metrics (prometheus-client's multiprocess files), in a "
        "folder per host (`<dir>/<HOST_ID>/`), so that any worker's `/metrics` reports "
        "every worker of its host. Empty: `<db>.metrics/` beside the database "
        "(see `DATA_DIR`).",
    )
    comment_retention_days: int = _setting(
        "COMMENT_RETENTION_DAYS",
        0,
        "Delete visible comments older than this many days (daily, and `live-seoul db prune`); "
        "removed comments and anything the moderation record refers to are kept. 0 keeps all.",
    )
    # -- abuse resistance: accounts and login, Sybil and ban evasion (docs/security.md)
    staff_idle_minutes: int = _setting(
        "STAFF_IDLE_MINUTES",
        60,
        "A staff session ends after this many minutes without a request (every request "
        "renews it; an open socket's messages keep it for that socket).",
    )
    login_window_seconds: int = _setting(
        "LOGIN_WINDOW_SECONDS", 300, "The window the LOGIN_FAILURES_* limits count in."
    )
    login_failures_per_name: int = _setting(
        "LOGIN_FAILURES_PER_NAME",
        5,
        "Failed logins per window for one username (normalised) from one address.",
    )
    login_failures_per_account: int = _setting(
        "LOGIN_FAILURES_PER_ACCOUNT",
        30,
        "Failed logins per window for one username (normalised) from all addresses.",
    )
    login_failures_per_address: int = _setting(
        "LOGIN_FAILURES_PER_ADDRESS",
        20,
        "Failed logins per window from one address (an IPv6 /64), whatever the username.",
    )
    login_failures_global: int = _setting(
        "LOGIN_FAILURES_GLOBAL",
        60,
        "Failed logins per window for the whole site. Past it only browsers that logged in "
        "to that account before may try (with their own limit of LOGIN_FAILURES_PER_NAME).",
    )
    login_hash_concurrency: int = _setting(
        "LOGIN_HASH_CONCURRENCY",
        1,
        "Password hashes (argon2id, 64 MiB each) one process runs at once; one more slot "
        "is kept for browsers that logged in before, and while one of those hashes no "
        "other starts.",
    )
    login_hash_queue: int = _setting(
        "LOGIN_HASH_QUEUE",
        8,
        "Logins that may wait for a hashing slot; past it a login is refused at once (503).",
    )
    votes_per_address: int = _setting(
        "VOTES_PER_ADDRESS",
        10,
        "Votes one address (an IPv6 /64) may cast on one question (per day).",
    )
    votes_per_network: int = _setting(
        "VOTES_PER_NETWORK",
        30,
        "Votes one network block (IPv4 /24, IPv6 /64) may cast on one question (per day).",
    )
    reports_per_address: int = _setting(
        "REPORTS_PER_ADDRESS",
        20,
        "Comment reports (신고) per hour from one address (an IPv6 /64).",
    )
    reports_per_network: int = _setting(
        "REPORTS_PER_NETWORK",
        60,
        "Comment reports per hour from one network block (IPv4 /24, IPv6 /64).",
    )
    restriction_address_hours: int = _setting(
        "RESTRICTION_ADDRESS_HOURS",
        24,
        "A timeout or ban also keeps the author's address (IPv4 address, IPv6 /64) from "
        "commenting under other identities for this many hours (at most the restriction's "
        "own length); 0 binds the identity only.",
    )
    connections_per_address: int = _setting(
        "CONNECTIONS_PER_ADDRESS",
        50,
        "WebSocket connections one address (an IPv6 /64) may hold per process; generous "
        "for offices and phones behind one NAT address.",
    )
    pwa_release: str = _setting(
        "PWA_RELEASE",
        "",
        "Mixed into the service worker's version (e.g. the deployed commit). Changed static "
        "files already make a new worker; this forces one. Installed apps switch to it on "
        "their next visit.",
    )
    vapid_public_key: str = _setting(
        "VAPID_PUBLIC_KEY",
        "",
        "Web Push application server key: the P-256 public key, uncompressed, base64url. "
        "Empty (or no private key): reminders offer only the .ics file.",
    )
    vapid_private_key: str = _setting(
        "VAPID_PRIVATE_KEY",
        "",
        "The matching private key: base64url of the raw 32-byte P-256 scalar (the form "
        "`npx web-push generate-vapid-keys` and `vapid --gen` print).",
        secret=True,
    )
    vapid_subject: str = _setting(
        "VAPID_SUBJECT",
        "mailto:live-seoul@seoul.go.kr",
        "Contact the push services see in every message (`mailto:` or `https:` URL).",
    )
    push_subscription_days: int = _setting(
        "PUSH_SUBSCRIPTION_DAYS",
        90,
        "A push subscription not renewed for this many days expires and is deleted.",
    )
    push_queue_size: int = _setting(
        "PUSH_QUEUE_SIZE",
        1000,
        "Notifications waiting to be sent per process; beyond it new ones are dropped (and "
        "counted in the log) rather than slow down going live or answering.",
    )
    push_allow_loopback: bool = _setting(
        "PUSH_ALLOW_LOOPBACK",
        False,
        "Tests only: accept http:// push endpoints on 127.0.0.1. Otherwise an endpoint must "
        "be https on a public address.",
    )

    # -- sign-in providers (docs/deploy.md says how to register with each). A provider is
    # enabled when its client id and secret are both set. Endpoint settings default to the
    # provider's own; a test provider (or a proxy) stands in by overriding them.
    kakao_client_id: str = _setting(
        "KAKAO_CLIENT_ID", "", "Kakao Login REST API key (client id); enables Kakao sign-in."
    )
    kakao_client_secret: str = _setting(
        "KAKAO_CLIENT_SECRET", "", "Kakao Login client secret.", secret=True
    )
    kakao_issuer: str = _setting(
        "KAKAO_ISSUER",
        "https://kauth.kakao.com",
        "Kakao's OpenID Connect issuer; its `/.well-known/openid-configuration` gives the "
        "endpoints and keys, and ID tokens must name it.",
    )
    kakao_authorize_url: str = _setting(
        "KAKAO_AUTHORIZE_URL", "", "Overrides Kakao's authorization endpoint (empty: discovery)."
    )
    kakao_token_url: str = _setting(
        "KAKAO_TOKEN_URL", "", "Overrides Kakao's token endpoint (empty: discovery)."
    )
    kakao_userinfo_url: str = _setting(
        "KAKAO_USERINFO_URL", "", "Overrides Kakao's userinfo endpoint (empty: discovery)."
    )
    kakao_jwks_url: str = _setting(
        "KAKAO_JWKS_URL", "", "Overrides where Kakao's ID-token keys are read (empty: discovery)."
    )
    naver_client_id: str = _setting(
        "NAVER_CLIENT_ID", "", "Naver Login client id; enables Naver sign-in."
    )
    naver_client_secret: str = _setting(
        "NAVER_CLIENT_SECRET", "", "Naver Login client secret.", secret=True
    )
    naver_authorize_url: str = _setting(
        "NAVER_AUTHORIZE_URL",
        "https://nid.naver.com/oauth2.0/authorize",
        "Naver's authorization endpoint.",
    )
    naver_token_url: str = _setting(
        "NAVER_TOKEN_URL", "https://nid.naver.com/oauth2.0/token", "Naver's token endpoint."
    )
    naver_userinfo_url: str = _setting(
        "NAVER_USERINFO_URL",
        "https://openapi.naver.com/v1/nid/me",
        'Naver\'s profile endpoint (answers `{"response": {"id": …}}`).',
    )
    google_client_id: str = _setting(
        "GOOGLE_CLIENT_ID", "", "Google OAuth client id; enables Google sign-in."
    )
    google_client_secret: str = _setting(
        "GOOGLE_CLIENT_SECRET", "", "Google OAuth client secret.", secret=True
    )
    google_issuer: str = _setting(
        "GOOGLE_ISSUER",
        "https://accounts.google.com",
        "Google's OpenID Connect issuer (discovery and the ID tokens' `iss`).",
    )
    google_authorize_url: str = _setting(
        "GOOGLE_AUTHORIZE_URL", "", "Overrides Google's authorization endpoint (empty: discovery)."
    )
    google_token_url: str = _setting(
        "GOOGLE_TOKEN_URL", "", "Overrides Google's token endpoint (empty: discovery)."
    )
    google_userinfo_url: str = _setting(
        "GOOGLE_USERINFO_URL", "", "Overrides Google's userinfo endpoint (empty: discovery)."
    )
    google_jwks_url: str = _setting(
        "GOOGLE_JWKS_URL", "", "Overrides where Google's ID-token keys are read (empty: discovery)."
    )
    x_client_id: str = _setting(
        "X_CLIENT_ID", "", "X (Twitter) OAuth 2.0 client id; enables X sign-in."
    )
    x_client_secret: str = _setting(
        "X_CLIENT_SECRET", "", "X OAuth 2.0 client secret (confidential client).", secret=True
    )
    x_authorize_url: str = _setting(
        "X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize", "X's authorization endpoint."
    )
    x_token_url: str = _setting(
        "X_TOKEN_URL", "https://api.x.com/2/oauth2/token", "X's token endpoint."
    )
    x_userinfo_url: str = _setting(
        "X_USERINFO_URL",
        "https://api.x.com/2/users/me",
        'X\'s user endpoint (answers `{"data": {"id": …, "username": …}}`).',
    )
    facebook_client_id: str = _setting(
        "FACEBOOK_CLIENT_ID", "", "Facebook App ID; enables Facebook Login."
    )
    facebook_client_secret: str = _setting(
        "FACEBOOK_CLIENT_SECRET", "", "Facebook App secret.", secret=True
    )
    facebook_authorize_url: str = _setting(
        "FACEBOOK_AUTHORIZE_URL",
        "https://www.facebook.com/v19.0/dialog/oauth",
        "Facebook Login's authorization endpoint.",
    )
    facebook_token_url: str = _setting(
        "FACEBOOK_TOKEN_URL",
        "https://graph.facebook.com/v19.0/oauth/access_token",
        "Facebook Login's token endpoint.",
    )
    facebook_userinfo_url: str = _setting(
        "FACEBOOK_USERINFO_URL",
        "https://graph.facebook.com/v19.0/me?fields=id,name",
        'Facebook\'s Graph API `me` endpoint (answers `{"id": …, "name": …}`).',
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
        self._validate_topology()
        if not self.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise SettingsError("DATABASE_URL must start with sqlite:/// or postgresql://")
        if self.database_pool_size <= 0 or self.database_statement_cache_size < 0:
            raise SettingsError(
                "DATABASE_POOL_SIZE must be positive and DATABASE_STATEMENT_CACHE_SIZE at least 0"
            )
        if self.redis_url:
            try:
                redis_topology.parse(self.redis_url)
            except redis_topology.RedisUrlError as exc:
                raise SettingsError(f"REDIS_URL: {exc}") from None
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError("PUBLIC_BASE_URL must start with http:// or https://")
        if bool(self.vapid_public_key) != bool(self.vapid_private_key):
            raise SettingsError("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together")
        if not self.vapid_subject.startswith(("mailto:", "https://")):
            raise SettingsError("VAPID_SUBJECT must start with mailto: or https://")
        if self.push_queue_size <= 0 or self.push_subscription_days <= 0:
            raise SettingsError("PUSH_QUEUE_SIZE and PUSH_SUBSCRIPTION_DAYS must be positive")
        for origin in self.media_origins:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise SettingsError(
                    f"MEDIA_ORIGINS: {origin!r} is not an origin like https://cdn.example.org"
                )
        for name in ("comment_max_chars", "ws_max_message_bytes", "send_queue_frames"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name.upper()} must be positive")

    def _validate_topology(self) -> None:
        """Refuse what would run, but silently wrong, on several processes or hosts."""
        if self.workers > 1 and not self.redis_url:
            raise SettingsError(
                f"WEB_CONCURRENCY={self.workers} (serve --workers) needs REDIS_URL: without "
                "Redis each worker has its own comment stream and its own limits, and "
                "comments reach the other workers only through the 5-second database poll. "
                "Set REDIS_URL=redis://… or run one worker."
            )
        if self.database_is_postgres:
            if not self.redis_url:
                raise SettingsError(
                    "DATABASE_URL is PostgreSQL, which serves several hosts: set REDIS_URL "
                    "too, so every process shares one comment stream and one set of limits."
                )
            if not self.secret_key:
                raise SettingsError(
                    "DATABASE_URL is PostgreSQL: set SECRET_KEY (the same on every host); "
                    "there is no database file to keep a generated key beside."
                )

    @property
    def database_is_postgres(self) -> bool:
        """True for `postgresql://` and `postgres://` URLs (the scheme alone decides)."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def host_name(self) -> str:
        """`HOST_ID`, else this machine's hostname."""
        return self.host_id or socket.gethostname()

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def database_path(self) -> Path:
        """The SQLite file (SQLite only)."""
        if not self.sqlite:
            raise SettingsError("DATABASE_URL names PostgreSQL: there is no database file")
        return Path(self.database_url.removeprefix("sqlite:///"))

    def data_file(self, suffix: str) -> Path:
        """Where a file kept beside the data lives (`.secret`, `.thumbnails`, `.metrics`)."""
        if self.data_dir:
            return Path(self.data_dir) / f"live-seoul{suffix}"
        if self.sqlite:
            return self.database_path.with_name(self.database_path.name + suffix)
        return Path("live-seoul-data") / f"live-seoul{suffix}"

    @property
    def thumbnails_path(self) -> Path:
        if self.thumbnail_dir:
            return Path(self.thumbnail_dir)
        return self.data_file(".thumbnails")

    @property
    def push_enabled(self) -> bool:
        return bool(self.vapid_public_key and self.vapid_private_key)

    @property
    def public_origin(self) -> str:
        return self.public_base_url.rstrip("/")

    def with_secret(self) -> Settings:
        """Return settings whose `secret_key` is set, creating `<db>.secret` if needed."""
        if self.secret_key:
            return self
        if not self.sqlite:
            # Every host must sign with the same key: a file on one host cannot be shared.
            raise SettingsError(
                "SECRET_KEY is required when DATABASE_URL is PostgreSQL "
                "(every host must sign cookies with the same key)"
            )
        path = self.data_file(".secret")
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
