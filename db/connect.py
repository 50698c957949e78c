"""`DATABASE_URL` → a `Database`: `sqlite:///relative.db`, `sqlite:////absolute.db`,
`postgresql://user@host:port/name` (or `postgres://`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from db.database import Database, Engine
from db.errors import ConfigurationError
from db.postgres import PostgresDatabase
from db.sqlite import SqliteDatabase


@dataclass(frozen=True, slots=True)
class DatabaseURL:
    url: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ConfigurationError(
                f"DATABASE_URL must start with sqlite:/// or postgresql://, got {self.url!r}"
            )

    @property
    def engine(self) -> Engine:
        return "sqlite" if self.url.startswith("sqlite:") else "postgresql"

    @property
    def path(self) -> Path:
        """The SQLite file (`sqlite:///` + a relative or absolute path)."""
        if self.engine != "sqlite":
            raise ConfigurationError(f"{self.url!r} is not an SQLite file")
        return Path(self.url.removeprefix("sqlite:///"))

    @property
    def dsn(self) -> str:
        return "postgresql://" + self.url.split("://", 1)[1]


async def open_database(
    url: str | DatabaseURL, *, pool_size: int = 10, statement_cache_size: int = 100
) -> Database:
    """Open the database the URL names (after `migrate`)."""
    parsed = url if isinstance(url, DatabaseURL) else DatabaseURL(url)
    if parsed.engine == "sqlite":
        return await SqliteDatabase.open(parsed.path)
    return await PostgresDatabase.open(
        parsed.dsn, max_size=pool_size, statement_cache_size=statement_cache_size
    )
