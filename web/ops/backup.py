"""Online backup and offline restore of the SQLite database.

`backup_database` copies a database that is being served: SQLite's online backup API
copies every page inside one read transaction, and in WAL mode a reader neither blocks
nor is blocked by writers, so the copy is the database as of one instant, taken while
comments keep arriving. The copy is written beside the destination, checked with
`PRAGMA integrity_check`, switched to a self-contained rollback journal and only then
renamed into place: a crash never leaves a half-written backup under the final name.

`restore_database` is for a stopped service. It refuses while another connection has
the target open, checks the backup, keeps the current file as `<db>.pre-restore`, and
atomically renames a fresh copy of the backup over the database, removing the old
`-wal`/`-shm` files first (a stale WAL would otherwise be replayed onto the restored file).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

BUSY_TIMEOUT_S = 15.0


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why and what to do."""


class DatabaseInUse(BackupError):
    """Another connection (a running server) has the database open."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    pages: int
    size_bytes: int
    tables: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, dest_path: Path) -> None:
    """Copy `source` into a new file at `dest_path` (one step: a consistent snapshot)."""
    dest_path.unlink(missing_ok=True)
    dest = sqlite3.connect(dest_path, isolation_level=None)
    try:
        source.backup(dest)  # pages=-1: everything in one read transaction
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        dest.close()
    with dest_path.open("rb+") as fh:
        os.fsync(fh.fileno())


def check_backup(path: Path) -> BackupReport:
    """Raise `BackupError` unless `path` is an intact Live Seoul database."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot open: {exc}") from None
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if result != ["ok"]:
            raise BackupError(f"{path}: integrity check failed: {'; '.join(result[:5])}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_migrations" not in tables:
            raise BackupError(f"{path}: not a Live Seoul database (no schema_migrations)")
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a readable SQLite database: {exc}") from None
    finally:
        conn.close()
    return BackupReport(path, pages, path.stat().st_size, len(tables))


def backup_database(source_path: Path, dest_path: Path) -> BackupReport:
    """Copy the live database at `source_path` to `dest_path`; return what was written."""
    if not source_path.is_file():
        raise BackupError(f"{source_path}: no such database")
    if dest_path.resolve() == source_path.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    if dest_path.is_dir():
        raise BackupError(f"{dest_path} is a directory; give a file name")
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    partial = dest_path.with_name(dest_path.name + ".partial")
    source = sqlite3.connect(source_path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    try:
        _copy(source, partial)
    finally:
        source.close()
    try:
        check_backup(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest_path)
    _fsync_dir(dest_path.parent)
    return check_backup(dest_path)


def _take_offline(target: Path) -> None:
    """Checkpoint `target` and switch it out of WAL, or raise `DatabaseInUse`."""
    conn = sqlite3.connect(target, isolation_level=None, timeout=0)
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = DELETE")  # checkpoints and removes the WAL
    except sqlite3.OperationalError as exc:
        raise DatabaseInUse(
            f"{target} is in use ({exc}); stop the service (every worker) before restoring"
        ) from None
    finally:
        conn.close()


def restore_database(backup_path: Path, target: Path) -> Path | None:
    """Replace the database at `target` with the backup; return where the old file was kept.

    The service must be stopped: raises `DatabaseInUse` otherwise, `BackupError` when the
    backup is damaged. Nothing is changed unless every check passes.
    """
    check_backup(backup_path)
    if target.exists() and backup_path.resolve() == target.resolve():
        raise BackupError("the backup is the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    kept: Path | None = None
    if target.exists():
        _take_offline(target)
        kept = target.with_name(target.name + ".pre-restore")
        kept.unlink(missing_ok=True)
        try:
            os.link(target, kept)
        except OSError:
            import shutil

            shutil.copy2(target, kept)
    incoming = target.with_name(target.name + ".restoring")
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True, isolation_level=None)
    try:
        _copy(source, incoming)
    finally:
        source.close()
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    os.replace(incoming, target)
    _fsync_dir(target.parent)
    return kept
