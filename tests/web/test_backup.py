"""`live-seoul db backup|restore|prune`: consistent online copies, safe restores, retention."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from db import open_database
from livechat import CommentStore, OpsStore
from tests.support import ROOT, TIMEOUT, AppServer, seed_broadcast
from web.database import migrate
from web.ops.backup import (
    BackupError,
    DatabaseInUse,
    backup_database,
    check_backup,
    restore_database,
)
from web.ops.retention import cutoff, retention

BATCH = 5

# A writer in another process: each transaction stores BATCH comments of one batch, so a
# consistent copy holds every batch completely or not at all.
WRITER = textwrap.dedent(
    """
    import sqlite3, sys, time
    path, stop, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = sqlite3.connect(path, isolation_level=None, timeout=15)
    conn.execute("PRAGMA journal_mode = WAL")
    batch = 0
    deadline = time.monotonic() + 60
    import os
    while batch < limit and time.monotonic() < deadline and not os.path.exists(stop):
        conn.execute("BEGIN IMMEDIATE")
        for i in range(BATCH):
            conn.execute(
                "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id,"
                " text, created_at) VALUES (1, 'w', 'writer', 'guest', ?, ?, ?)",
                (f"b{batch}-{i}", f"batch {batch}", "2026-01-01T00:00:00.000000+00:00"),
            )
        conn.execute("COMMIT")
        batch += 1
        if batch == 20:
            print("writing", flush=True)
    print(batch, flush=True)
    """
).replace("BATCH", str(BATCH))


def cli(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `live-seoul` as a real process against `db`."""
    full_env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "t", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )


def batches(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT text, COUNT(*) FROM comments WHERE author_key = 'w' GROUP BY text"
        ).fetchall()
    finally:
        conn.close()
    return {text: count for text, count in rows}


def test_backup_while_another_process_writes_is_consistent(tmp_path: Path) -> None:
    """Backups taken by the CLI while a writer commits batches hold only whole batches."""
    db = tmp_path / "live.db"
    migrate(db)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(stop), "100000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"
        copies = []
        for n in range(3):
            target = tmp_path / "backups" / f"copy{n}.db"
            result = cli(db, "db", "backup", str(target))
            assert result.returncode == 0, result.stderr
            assert "integrity ok" in result.stdout
            copies.append(target)
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=TIMEOUT * 6)
    assert writer.returncode == 0
    total = int(out.split()[-1])
    sizes = []
    for copy in copies:
        check_backup(copy)
        found = batches(copy)
        assert found, "the backup holds the writer's batches"
        assert set(found.values()) == {BATCH}, "every batch is whole or absent"
        sizes.append(len(found))
        assert not copy.with_name(copy.name + "-wal").exists()
        assert not copy.with_name(copy.name + ".partial").exists()
    assert sizes == sorted(sizes)
    assert sizes[0] < total, "the copy was taken while writes continued"


def test_backup_refuses_to_overwrite_the_database(tmp_path: Path) -> None:
    """A backup onto the database itself or from a missing file is refused with a reason."""
    db = tmp_path / "live.db"
    migrate(db)
    with pytest.raises(BackupError, match="overwrite"):
        backup_database(db, db)
    with pytest.raises(BackupError, match="no such database"):
        backup_database(tmp_path / "missing.db", tmp_path / "b.db")


def test_restore_round_trip_replaces_the_database_and_keeps_the_old_one(tmp_path: Path) -> None:
    """Restore brings back exactly the backed-up rows, drops the stale WAL, keeps the old file."""
    db = tmp_path / "live.db"
    seed_broadcast(db, 1)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id,"
        " text, created_at) VALUES (1, 'a', 'A', 'guest', 'c1', '백업 전', 'x')"
    )
    conn.close()
    backup = tmp_path / "b.db"
    assert cli(db, "db", "backup", str(backup)).returncode == 0
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # leave the later write in the WAL
    conn.execute(
        "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id,"
        " text, created_at) VALUES (1, 'a', 'A', 'guest', 'c2', '백업 후', 'x')"
    )
    conn.close()

    result = cli(db, "db", "restore", str(backup))
    assert result.returncode == 0, result.stderr
    assert "restored" in result.stdout
    for suffix in ("-wal", "-shm"):
        assert not db.with_name(db.name + suffix).exists()
    conn = sqlite3.connect(db)
    texts = [r[0] for r in conn.execute("SELECT text FROM comments ORDER BY id")]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert texts == ["백업 전"]
    kept = sqlite3.connect(db.with_name(db.name + ".pre-restore"))
    assert [r[0] for r in kept.execute("SELECT text FROM comments ORDER BY id")] == [
        "백업 전",
        "백업 후",
    ]
    kept.close()


def test_restore_rejects_a_damaged_backup_and_changes_nothing(tmp_path: Path) -> None:
    """A corrupt or foreign file is refused by the integrity check; the database is untouched."""
    db = tmp_path / "live.db"
    seed_broadcast(db, 1)
    before = db.read_bytes()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(BackupError):
        restore_database(junk, db)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    result = cli(db, "db", "restore", str(foreign))
    assert result.returncode == 1
    assert "not a Live Seoul database" in result.stderr
    assert db.read_bytes() == before


def test_restore_refuses_while_the_service_is_running(tmp_path: Path) -> None:
    """While a server process has the database open, restore says to stop it and waits."""
    db = tmp_path / "live.db"
    seed_broadcast(db, 1)
    backup = tmp_path / "b.db"
    backup_database(db, backup)
    server = AppServer(db)
    server.start()
    try:
        assert httpx.get(server.base + "/readyz", timeout=TIMEOUT).status_code == 200
        result = cli(db, "db", "restore", str(backup))
        assert result.returncode == 1
        assert "stop the service" in result.stderr
        with pytest.raises(DatabaseInUse):
            restore_database(backup, db)
    finally:
        server.stop()
    assert cli(db, "db", "restore", str(backup)).returncode == 0


OLD = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="microseconds")
NEW = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="microseconds")


def _comment(
    conn: sqlite3.Connection, client_id: str, created: str, status: str = "visible"
) -> int:
    cur = conn.execute(
        "INSERT INTO comments (broadcast_id, author_key, author_name, role, client_id, text,"
        " created_at, status) VALUES (1, 'a', 'A', 'guest', ?, ?, ?, ?)",
        (client_id, client_id, created, status),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _seed_retention(db: Path) -> dict[str, int]:
    migrate(db)
    conn = sqlite3.connect(db)
    with conn:
        ids = {
            "old": _comment(conn, "old", OLD),
            "old2": _comment(conn, "old2", OLD),
            "recent": _comment(conn, "recent", NEW),
            "removed": _comment(conn, "removed", OLD, "removed"),
            "held": _comment(conn, "held", OLD, "held"),
            "reported": _comment(conn, "reported", OLD),
            "audited": _comment(conn, "audited", OLD),
            "pinned": _comment(conn, "pinned", OLD),
            "appealed": _comment(conn, "appealed", OLD),
        }
        action = conn.execute(
            "INSERT INTO moderation_actions (created_at, broadcast_id, action, actor_key,"
            " actor_name, actor_role, comment_id, comment_text) VALUES"
            " (?, 1, 'remove', 'm', 'M', 'moderator', ?, 'removed')",
            (OLD, ids["removed"]),
        ).lastrowid
        conn.execute(
            "INSERT INTO comment_removals (comment_id, broadcast_id, reason, action_id,"
            " removed_at) VALUES (?, 1, 'spam', ?, ?)",
            (ids["removed"], action, OLD),
        )
        conn.execute(
            "INSERT INTO moderation_actions (created_at, broadcast_id, action,"
            " actor_key, actor_name, actor_role, comment_id) VALUES"
            " (?, 1, 'approve', 'm', 'M', 'moderator', ?)",
            (OLD, ids["audited"]),
        )
        conn.execute(
            "INSERT INTO comment_reports (comment_id, reporter_key, reason, created_at)"
            " VALUES (?, 'r', 'spam', ?)",
            (ids["reported"], OLD),
        )
        conn.execute(
            "INSERT INTO appeals (comment_id, broadcast_id, author_key, text,"
            " created_at) VALUES (?, 1, 'a', '억울합니다', ?)",
            (ids["appealed"], OLD),
        )
        conn.execute(
            "INSERT INTO chat_settings (broadcast_id, pinned_comment_id) VALUES (1, ?)",
            (ids["pinned"],),
        )
    conn.close()
    return ids


def _remaining(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT client_id FROM comments")}
    finally:
        conn.close()


def test_prune_deletes_old_visible_comments_but_keeps_the_audit_trail(tmp_path: Path) -> None:
    """`db prune` deletes old visible comments only; removed, held, reported, appealed,
    audited and pinned comments (and the audit rows) stay."""
    db = tmp_path / "live.db"
    ids = _seed_retention(db)
    result = cli(db, "db", "prune", env={"COMMENT_RETENTION_DAYS": "30"})
    assert result.returncode == 0, result.stderr
    assert "deleted 2 " in result.stdout
    assert _remaining(db) == set(ids) - {"old", "old2"}
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT comment_text FROM moderation_actions WHERE comment_id = ?", (ids["removed"],)
    ).fetchone() == ("removed",)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_prune_is_off_by_default(tmp_path: Path) -> None:
    """With COMMENT_RETENTION_DAYS=0 and no --days, nothing is deleted."""
    db = tmp_path / "live.db"
    ids = _seed_retention(db)
    result = cli(db, "db", "prune")
    assert result.returncode == 0 and "nothing pruned" in result.stdout
    assert _remaining(db) == set(ids)


async def test_prune_in_small_batches_and_in_the_background(tmp_path: Path) -> None:
    """Pruning works batch by batch; the background task prunes shortly after start."""
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    ids = _seed_retention(first)
    _seed_retention(second)
    database = await open_database(f"sqlite:///{first}")
    try:
        ops = OpsStore(database, CommentStore(database))
        assert ("comment_reports", "comment_id") in await ops.referrers()
        assert ("chat_settings", "pinned_comment_id") in await ops.referrers()
        assert await ops.prune(cutoff(datetime.now(UTC), 30), batch=1) == 2
    finally:
        await database.close()
    assert _remaining(first) == set(ids) - {"old", "old2"}
    database = await open_database(f"sqlite:///{second}")
    try:
        async with retention(
            OpsStore(database, CommentStore(database)), 30, first_delay=0.0, interval=3600
        ):
            async with asyncio.timeout(TIMEOUT):
                while {"old", "old2"} & _remaining(second):
                    await asyncio.sleep(0.02)
    finally:
        await database.close()
    assert _remaining(second) == set(ids) - {"old", "old2"}


def test_cutoff_is_in_the_stored_format() -> None:
    """The bound compares as text with stored `created_at` values (UTC, microseconds)."""
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert cutoff(now, 30) == "2026-10-26T14:00:00.000000+00:00"
    with pytest.raises(ValueError):
        cutoff(now, 0)


def test_status_counts_held_and_recent(tmp_path: Path) -> None:
    """The ops store counts the moderation queue and recent comments per broadcast."""
    db = tmp_path / "live.db"
    _seed_retention(db)

    async def run() -> tuple[dict[int, int], dict[int, int]]:
        database = await open_database(f"sqlite:///{db}")
        try:
            ops = OpsStore(database, CommentStore(database))
            return await ops.held_counts(), await ops.counts_since(
                (datetime.now(UTC) - timedelta(days=2)).isoformat()
            )
        finally:
            await database.close()

    held, recent = asyncio.run(run())
    assert held == {1: 1}
    assert recent == {1: 1}
