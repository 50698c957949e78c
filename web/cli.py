"""The `live-seoul` command: serve, database tasks, imports, staff accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from db import DatabaseError, open_database
from db import migrate as migrate_database
from db.copy import copy_database, report, source_path
from db.postgres_backup import backup_postgres, restore_postgres
from livechat import CommentStore, OpsStore
from web.accounts.signin_clients import build_signin
from web.database import PACKAGES, open_migrated
from web.http.logs import log_config
from web.identity.roles import ROLES
from web.identity.store import AccountError, AccountStore
from web.ops.backup import BackupError, backup_database, restore_database
from web.ops.metrics import clear_metrics_dir, metrics_dir
from web.ops.retention import prune_once
from web.schedule.importer import run_import
from web.settings import Settings, SettingsError, ws_transport_max

POSTGRES_BACKUP = (
    "DATABASE_URL is PostgreSQL: back up with `pg_dump --format=custom --file=FILE URL` "
    "(online) and restore into an empty database with `pg_restore --dbname=URL FILE` "
    "(service stopped); `live-seoul db migrate` then applies newer migrations"
)
LISTEN_BACKLOG = 65_535


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")


def serve(args: argparse.Namespace) -> int:
    if args.demo:
        os.environ["LIVE_SEOUL_DEMO"] = "1"
    if args.host:
        os.environ["HOST"] = args.host
    if args.port is not None:
        os.environ["PORT"] = str(args.port)
    if args.workers is not None:
        os.environ["WEB_CONCURRENCY"] = str(args.workers)
    settings = _settings().with_secret()
    # Workers must share the key; with_secret() wrote it beside the database.
    os.environ.setdefault("SECRET_KEY", settings.secret_key)

    try:
        asyncio.run(migrate_database(settings.database_url, PACKAGES))
    except DatabaseError as exc:
        sys.exit(f"database error: {exc}")
    clear_metrics_dir(metrics_dir(settings))
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        # The sans-I/O websockets implementation: the lightest per connection, and the one
        # the benchmark measures (docs/performance.md); with a lighter inbox and flag.
        ws="web.http.websocket_protocol:LeanWebSocketsProtocol",
        # httptools with a request-header deadline (slowloris); web/http/header_timeout.py.
        http="web.http.header_timeout:HeaderTimeoutProtocol",
        # A restarted worker gets every viewer's reconnect within seconds; past a full
        # accept queue the kernel drops the SYN and the client's TCP tries again only after
        # 1, 3, 7, 15 s (the storm's long tail, docs/performance.md). The kernel caps this
        # at net.core.somaxconn (4,096 by default since Linux 5.4; uvicorn asks 2,048).
        backlog=LISTEN_BACKLOG,
        ws_max_size=ws_transport_max(settings.ws_max_message_bytes),
        ws_per_message_deflate=settings.ws_compression,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        # uvicorn's supervisor replaces a worker that does not answer its ping in time; 5 s
        # (the default) killed workers still importing on a busy host, in a loop.
        timeout_worker_healthcheck=30,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=False,  # web.access logs each request, with its request id
        proxy_headers=True,
        server_header=False,
    )
    return 0


def db_migrate(args: argparse.Namespace) -> int:
    try:
        applied = asyncio.run(migrate_database(_settings().database_url, PACKAGES))
    except DatabaseError as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 1
    for package, number in applied:
        print(f"applied {package} {number:04d}")
    print("database is up to date" if not applied else f"{len(applied)} migration(s) applied")
    return 0


def _postgres_backup(url: str, path: Path) -> int:

    try:
        report = backup_postgres(url, path)
    except DatabaseError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up the PostgreSQL database to {report.path} (pg_dump custom format, "
        f"{report.size_bytes} bytes, {report.tables} tables)"
    )
    return 0


def _postgres_restore(path: Path, url: str) -> int:

    try:
        tables = asyncio.run(restore_postgres(path, url))
    except DatabaseError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    print(f"restored the PostgreSQL database from {path} ({tables} tables, pg_restore)")
    print("start the service again; it applies any newer migrations on start")
    return 0


def db_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.sqlite:
        return _postgres_backup(settings.database_url, Path(args.path))
    try:
        report = backup_database(settings.database_path, Path(args.path))
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up {settings.database_path} to {report.path} "
        f"({report.size_bytes} bytes, {report.tables} tables, integrity ok)"
    )
    return 0


def db_restore(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.sqlite:
        return _postgres_restore(Path(args.path), settings.database_url)
    try:
        kept = restore_database(Path(args.path), settings.database_path)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    print(f"restored {settings.database_path} from {args.path} (integrity ok)")
    if kept is not None:
        print(f"the previous database is kept as {kept}")
    print("start the service again; it applies any newer migrations on start")
    return 0


def db_copy(args: argparse.Namespace) -> int:
    async def run() -> int:
        source_path(args.source)  # never create an empty source by migrating it
        await migrate_database(args.source, PACKAGES)
        await migrate_database(args.target, PACKAGES)
        checks = await copy_database(args.source, args.target)
        print(report(checks))
        return 0 if all(check.ok for check in checks) else 1

    try:
        return asyncio.run(run())
    except DatabaseError as exc:
        print(f"copy refused: {exc}", file=sys.stderr)
        return 1


def db_prune(args: argparse.Namespace) -> int:
    settings = _settings()
    days = args.days if args.days is not None else settings.comment_retention_days
    if days <= 0:
        print("retention is off (COMMENT_RETENTION_DAYS=0 and no --days): nothing pruned")
        return 0

    async def run() -> int:
        await migrate_database(settings.database_url, PACKAGES)
        database = await open_database(settings.database_url)
        try:
            return await prune_once(OpsStore(database, CommentStore(database)), days)
        finally:
            await database.close()

    deleted = asyncio.run(run())
    print(
        f"deleted {deleted} visible comment(s) older than {days} day(s); "
        "removed comments and the moderation record were kept"
    )
    return 0


def import_schedule(args: argparse.Namespace) -> int:
    code: int = asyncio.run(run_import(_settings(), Path(args.file), dry_run=args.dry_run))
    return code


def _new_password() -> str | None:
    """LIVE_SEOUL_PASSWORD, else typed twice at a terminal; None (reason printed) when
    there is neither, or the two differ, or the typing was interrupted."""
    password = os.environ.get("LIVE_SEOUL_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        print(
            "error: password: no terminal to type it in; set LIVE_SEOUL_PASSWORD "
            "(at least 10 characters) in the environment",
            file=sys.stderr,
        )
        return None
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("password again: ")
    except (EOFError, KeyboardInterrupt):
        print("\nerror: password: not entered; no account created", file=sys.stderr)
        return None
    if first != again:
        print("error: password: the two entries differ; no account created", file=sys.stderr)
        return None
    return first


def create_user(args: argparse.Namespace) -> int:
    password = _new_password()
    if password is None:
        return 2

    async def run() -> int:
        database = await open_migrated(_settings())
        try:
            store = AccountStore(database)
            account = await store.create(
                args.username, password, args.role, args.display_name or "", args.department or ""
            )
        except AccountError as exc:
            print(f"error: {exc.field}: {exc}", file=sys.stderr)
            return 2
        finally:
            await database.close()
        print(f"created {account.role} {account.username} (id {account.id})")
        return 0

    return asyncio.run(run())


def change_user(args: argparse.Namespace) -> int:
    """`live-seoul account ACTION USERNAME`: disable, enable, change role or password; each
    ends every session of the account on every worker at once."""

    password = ""
    if args.action == "password":
        password = os.environ.get("LIVE_SEOUL_PASSWORD") or getpass.getpass("new password: ")

    async def run() -> int:
        database = await open_migrated(_settings())
        try:
            store = AccountStore(database)
            found = await store.find(args.username)
            if found is None:
                print(f"error: username: no account {args.username!r}", file=sys.stderr)
                return 2
            if args.action in ("disable", "enable"):
                account = await store.set_disabled(found.id, args.action == "disable")
            elif args.action == "role":
                account = await store.set_role(found.id, args.role or "")
            else:
                account = await store.set_password(found.id, password)
        except AccountError as exc:
            print(f"error: {exc.field}: {exc}", file=sys.stderr)
            return 2
        finally:
            await database.close()
        state = "disabled" if account.disabled else "enabled"
        print(
            f"{args.action}: {account.username} is a {state} {account.role}; "
            "its sessions have ended"
        )
        return 0

    return asyncio.run(run())


def link_provider(args: argparse.Namespace) -> int:
    """Print a one-hour URL with which a staff member links a sign-in provider to their
    account (the same as the admin API `POST /api/admin/accounts/{id}/provider-link`)."""

    settings = _settings().with_secret()

    async def run() -> int:
        database = await open_migrated(settings)
        try:
            accounts = await AccountStore(database).list()
        finally:
            await database.close()
        found = [a for a in accounts if a.username.lower() == args.username.lower()]
        if not found:
            print(f"error: username: no account {args.username!r}", file=sys.stderr)
            return 2
        signin = build_signin(settings)
        token = signin.staff_links().dumps(found[0].id)
        print(f"{signin.public_origin}/auth/staff-link/{token}")
        print(
            "valid for one hour; open it, then sign in with the provider to link", file=sys.stderr
        )
        return 0

    return asyncio.run(run())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="live-seoul", description="Live Seoul companion")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the web service")
    s.add_argument("--host", default=None, help="bind address (default $HOST or 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default $PORT or 8000)")
    s.add_argument("--workers", type=int, default=None, help="worker processes")
    s.add_argument("--demo", action="store_true", help="load the demo channel")
    s.set_defaults(func=serve)

    db = sub.add_parser("db", help="database tasks")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    m = dbsub.add_parser("migrate", help="apply pending migrations in place")
    m.set_defaults(func=db_migrate)
    b = dbsub.add_parser("backup", help="copy the database while it is served (online)")
    b.add_argument("path", help="file to write (replaced atomically when complete)")
    b.set_defaults(func=db_backup)
    r = dbsub.add_parser(
        "restore", help="replace the database with a backup (stop the service first)"
    )
    r.add_argument("path", help="a file written by `db backup`")
    r.set_defaults(func=db_restore)
    cp = dbsub.add_parser(
        "copy",
        help="copy an SQLite installation into an empty "
        "PostgreSQL database (migrates both), then compare every table",
    )
    cp.add_argument("source", help="sqlite:///path/to/live-seoul.db")
    cp.add_argument("target", help="postgresql://user@host/db (empty)")
    cp.set_defaults(func=db_copy)
    pr = dbsub.add_parser("prune", help="delete old visible comments (COMMENT_RETENTION_DAYS)")
    pr.add_argument("--days", type=int, default=None, help="override COMMENT_RETENTION_DAYS")
    pr.set_defaults(func=db_prune)

    i = sub.add_parser("import-schedule", help="import broadcasts from CSV or JSON")
    i.add_argument("file")
    i.add_argument("--dry-run", action="store_true", help="validate only")
    i.set_defaults(func=import_schedule)

    u = sub.add_parser("create-user", help="create a staff account")
    u.add_argument("username")
    u.add_argument("--role", required=True, choices=ROLES)
    u.add_argument("--display-name")
    u.add_argument("--department")
    u.set_defaults(func=create_user)

    a = sub.add_parser(
        "account",
        help="disable, enable, change role or password of a staff account (ends its sessions)",
    )
    a.add_argument("action", choices=["disable", "enable", "role", "password"])
    a.add_argument("username")
    a.add_argument("--role", choices=ROLES, help="the new role (with `role`)")
    a.set_defaults(func=change_user)
    lp = sub.add_parser(
        "link-provider",
        help="print a one-hour link with which a staff "
        "member links a sign-in provider (Kakao, …) to their account",
    )
    lp.add_argument("username")
    lp.set_defaults(func=link_provider)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
