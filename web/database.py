"""The application's schema: every package's migrations, in the order they apply.

Order matters only for foreign keys between packages (replay refers to schedule). The
storage layer (`db`) applies them; this module only says which. `migrate(path)` and
`connect(path)` are the SQLite-only forms older callers use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import livechat.migrations
import livechat.questions.question_migrations
import replay.migrations
import schedule.migrations
import web.migrations
from db import Database, PackageMigrations, open_database
from db import migrate as migrate_database
from db.migrate import migrate_sqlite
from db.sqlite import connect
from web.settings import Settings

PACKAGES: tuple[PackageMigrations, ...] = (
    PackageMigrations("web", web.migrations.MIGRATIONS, web.migrations.POSTGRES_MIGRATIONS),
    PackageMigrations(
        "schedule", schedule.migrations.MIGRATIONS, schedule.migrations.POSTGRES_MIGRATIONS
    ),
    PackageMigrations(
        "replay", replay.migrations.MIGRATIONS, replay.migrations.POSTGRES_MIGRATIONS
    ),
    PackageMigrations(
        "livechat", livechat.migrations.MIGRATIONS, livechat.migrations.POSTGRES_MIGRATIONS
    ),
    PackageMigrations(
        "livechat.questions",
        livechat.questions.question_migrations.MIGRATIONS,
        livechat.questions.question_migrations.POSTGRES_MIGRATIONS,
    ),
)
PACKAGE_MIGRATIONS: tuple[tuple[str, Sequence[str]], ...] = tuple(
    (entry.package, entry.sqlite) for entry in PACKAGES
)

__all__ = ["PACKAGES", "PACKAGE_MIGRATIONS", "connect", "migrate", "open_migrated"]


async def open_migrated(settings: Settings) -> Database:
    """The database `settings` name, brought up to date and opened (the CLI commands and
    the app's lifespan)."""
    await migrate_database(settings.database_url, PACKAGES)
    return await open_database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        statement_cache_size=settings.database_statement_cache_size,
    )


def migrate(
    path: Path,
    packages: Sequence[tuple[str, Sequence[str]]] = PACKAGE_MIGRATIONS,
) -> list[tuple[str, int]]:
    """Bring the SQLite file at `path` up to date (see `db.migrate`)."""
    return migrate_sqlite(path, [PackageMigrations(name, sql, ()) for name, sql in packages])
