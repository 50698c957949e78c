"""Backup and restore of a PostgreSQL database with PostgreSQL's own tools.

`backup_postgres` runs `pg_dump --format=custom` (a consistent snapshot taken while the
service keeps writing: pg_dump reads in one repeatable-read transaction), writes beside
the destination, checks the archive with `pg_restore --list` (readable, and a Live Seoul
database: it has `schema_migrations`) and only then renames it into place.

`restore_postgres` is for a stopped service: it refuses while another client is connected
to the database, then runs `pg_restore --clean --if-exists --single-transaction`, so the
database is either the backup's or unchanged. The binaries come from PostgreSQL's client
package (Debian: `postgresql-client`); their major version must be at least the server's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from db.connect import DatabaseURL
from db.errors import ConfigurationError, DatabaseError


class PostgresBackupError(DatabaseError):
    """A backup or restore could not be made; the message says why and what to do."""


class PostgresInUse(PostgresBackupError):
    """Other clients (running app hosts) are connected to the database."""


@dataclass(frozen=True, slots=True)
class PostgresBackup:
    path: Path
    size_bytes: int
    tables: int


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{name} is not installed (or not on PATH): install PostgreSQL's client tools"
            f" of the server's major version or newer (Debian: apt-get install"
            f" postgresql-client) and run the command again"
        )
    return found


def _dsn(url: str | DatabaseURL) -> str:
    parsed = url if isinstance(url, DatabaseURL) else DatabaseURL(url)
    if parsed.engine != "postgresql":
        raise ConfigurationError(f"{parsed.url!r} is not a PostgreSQL URL")
    if urlsplit(parsed.dsn).query:  # libpq refuses asyncpg's extra parameters
        raise ConfigurationError(
            "a DATABASE_URL with query parameters cannot be given to"
            " pg_dump; back up with a plain postgresql://user@host/db"
        )
    return parsed.dsn


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 (our tools)
    if done.returncode != 0:
        raise PostgresBackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")
    return done.stdout


def check_archive(path: Path) -> int:
    """The number of tables in a `pg_dump --format=custom` archive; `PostgresBackupError`
    unless it is readable and holds a Live Seoul database."""
    if not path.is_file():
        raise PostgresBackupError(f"{path}: no such file")
    listing = _run(_tool("pg_restore"), "--list", str(path))
    tables = re.findall(r"^\d+; \d+ \d+ TABLE (?!DATA )\S+ (\S+) ", listing, re.MULTILINE)
    if "schema_migrations" not in tables:
        raise PostgresBackupError(f"{path}: not a Live Seoul database (no schema_migrations)")
    return len(tables)


def backup_postgres(url: str | DatabaseURL, dest: Path) -> PostgresBackup:
    """Dump the database at `url` (while it is served) into the file `dest`."""
    dsn = _dsn(url)
    pg_dump = _tool("pg_dump")
    if dest.is_dir():
        raise PostgresBackupError(f"{dest} is a directory; give a file name")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    try:
        _run(
            pg_dump,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={partial}",
            f"--dbname={dsn}",
        )
        tables = check_archive(partial)
        with partial.open("rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest)
    return PostgresBackup(dest, dest.stat().st_size, tables)


async def other_clients(url: str | DatabaseURL) -> int:
    """How many other client connections the database has (app hosts, PgBouncer)."""
    try:
        conn = await asyncpg.connect(_dsn(url))
    except (OSError, asyncpg.PostgresError) as error:
        raise ConfigurationError(f"cannot connect to PostgreSQL: {error}") from error
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def restore_postgres(archive: Path, url: str | DatabaseURL) -> int:
    """Replace the database at `url` with the archive; return its number of tables.

    The service must be stopped on every host (`PostgresInUse` otherwise); a damaged
    archive raises `PostgresBackupError` before anything changes, and a failure halfway
    rolls the whole restore back."""
    dsn = _dsn(url)
    pg_restore = _tool("pg_restore")
    tables = check_archive(archive)
    clients = await other_clients(url)
    if clients:
        raise PostgresInUse(
            f"{clients} other client(s) are connected to the database; stop the service on"
            " every host (and PgBouncer's pool to it) before restoring"
        )
    _run(
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={dsn}",
        str(archive),
    )
    return tables
