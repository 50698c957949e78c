"""Move a single-machine installation to PostgreSQL: copy every table of an SQLite file
into a migrated, empty PostgreSQL database, then prove nothing was lost.

Generic: the tables come from the source's schema (`sqlite_master`), their order from its
foreign keys (referenced tables first), their columns from `PRAGMA table_info`. Left out:
`schema_migrations` (each engine has its own numbers), `sqlite_sequence`, and SQLite's
virtual tables with their shadow tables (full-text indexes: PostgreSQL has its own,
maintained by its migrations). Everything is copied in one transaction, with `COPY` in
text format, so PostgreSQL's own input functions turn SQLite's values into the target's
column types (`1` into a boolean, ISO text into a `timestamptz`). The target's sequences
are then set past the highest id (and past `sqlite_sequence`, so an `AUTOINCREMENT` id
that was deleted is never handed out again).

`compare` reads both sides afterwards: a row count and a checksum per table. A row's
checksum is the BLAKE2b of its values normalised to text by the *target* column's type
(so a `timestamptz` and the ISO text it came from agree); a table's is the sum of its
rows' modulo 2**128, independent of row order and of each engine's collation.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from db.connect import DatabaseURL
from db.errors import ConfigurationError, DatabaseError

BATCH = 5000
SKIPPED = frozenset({"schema_migrations", "sqlite_sequence"})
SHADOW_SUFFIXES = ("_config", "_content", "_data", "_docsize", "_idx")


class CopyError(DatabaseError):
    """The copy was refused or failed; nothing was committed."""


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


# ---- the source's schema -----------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_tables(conn: sqlite3.Connection) -> list[Table]:
    """The tables to copy, referenced tables before the tables that refer to them."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = {name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")}
    shadows = {f"{v}{suffix}" for v in virtual for suffix in SHADOW_SUFFIXES}
    names = sorted(
        name
        for name, _ in rows
        if name not in SKIPPED | virtual | shadows and not name.startswith("sqlite_")
    )
    refers = {
        name: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({_quote(name)})")}
        for name in names
    }
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise CopyError(f"foreign keys form a cycle through {name}")
        visiting.add(name)
        for parent in sorted(refers[name] - {name}):
            if parent in refers:
                visit(parent)
        visiting.discard(name)
        ordered.append(name)

    for name in names:
        visit(name)
    return [
        Table(name, tuple(r[1] for r in conn.execute(f"PRAGMA table_info({_quote(name)})")))
        for name in ordered
    ]


def _sqlite_rows(path: Path, table: Table) -> Iterator[Sequence[Any]]:
    # read in batches from worker threads, one at a time
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        cursor = conn.execute(
            f"SELECT {', '.join(map(_quote, table.columns))} FROM {_quote(table.name)}"
        )
        while batch := cursor.fetchmany(BATCH):
            yield from batch
    finally:
        conn.close()


def _sqlite_sequences(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
        return dict(conn.execute("SELECT name, seq FROM sqlite_sequence")) if has else {}
    finally:
        conn.close()


# ---- values ------------------------------------------------------------------------------


def copy_text(value: object) -> str:
    """One SQLite value in COPY's text format (PostgreSQL's input function parses it)."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def copy_line(row: Sequence[object]) -> bytes:
    return ("\t".join(copy_text(v) for v in row) + "\n").encode()


def _moment(value: object, aware: bool) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if aware:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def _json(value: object) -> str:
    parsed = json.loads(value) if isinstance(value, str | bytes) else value
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _number(value: object) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _integer(value: object) -> str:
    return str(int(str(value)))


def _float(value: object) -> str:
    return repr(float(str(value)))


def _bytes(value: object) -> str:
    return bytes(value).hex() if isinstance(value, bytes | bytearray | memoryview) else str(value)


def _boolean(value: object) -> str:
    return "true" if str(value).lower() in ("true", "1", "t") else "false"


def _date(value: object) -> str:
    return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()


NORMALISERS: dict[str, Callable[[object], str]] = {
    "boolean": _boolean,
    "timestamp with time zone": lambda v: _moment(v, aware=True),
    "timestamp without time zone": lambda v: _moment(v, aware=False),
    "date": _date,
    "json": _json,
    "jsonb": _json,
    "bytea": _bytes,
    "numeric": _number,
    "smallint": _integer,
    "integer": _integer,
    "bigint": _integer,
    "double precision": _float,
    "real": lambda v: _number(float(str(v))),
}


def row_digest(row: Sequence[object], types: Sequence[str]) -> int:
    """A row's hash over its values normalised by the target column types."""
    parts = []
    for value, kind in zip(row, types, strict=True):
        if value is None:
            parts.append("\x00N")
        else:
            parts.append("\x01" + NORMALISERS.get(kind, str)(value))
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


def _hex(total: int) -> str:
    return f"{total % 2**128:032x}"


# ---- the target --------------------------------------------------------------------------


async def _target_columns(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1",
        table,
    )
    return {r["column_name"]: r["data_type"] for r in rows}


async def _check_target(conn: asyncpg.Connection, tables: Sequence[Table]) -> dict[str, list[str]]:
    """The target column types per table, after refusing a target that lacks a table or a
    column, or already holds rows."""
    types: dict[str, list[str]] = {}
    for table in tables:
        columns = await _target_columns(conn, table.name)
        if not columns:
            raise CopyError(
                f"the target has no table {table.name}: run `live-seoul db "
                "migrate` against it first"
            )
        missing = [c for c in table.columns if c not in columns]
        if missing:
            raise CopyError(
                f"the target's {table.name} lacks column(s) {', '.join(missing)}:"
                " are both databases migrated to the same version?"
            )
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quote(table.name)})"):
            raise CopyError(
                f"the target is not empty ({table.name} has rows); copy only into"
                " a freshly migrated database"
            )
        types[table.name] = [columns[c] for c in table.columns]
    return types


async def _reset_sequences(conn: asyncpg.Connection, table: Table, floor: int) -> list[str]:
    """Set every sequence owned by a column of `table` past the highest value (and past
    SQLite's `AUTOINCREMENT` high-water mark `floor`); return their names."""
    reset = []
    for column in table.columns:
        sequence = await conn.fetchval(
            "SELECT pg_get_serial_sequence($1, $2)", _quote(table.name), column
        )
        if sequence is None:
            continue
        highest = await conn.fetchval(f"SELECT max({_quote(column)}) FROM {_quote(table.name)}")
        top = max(int(highest or 0), floor)
        if top > 0:
            await conn.execute("SELECT setval($1::regclass, $2, true)", sequence, top)
        else:
            await conn.execute("SELECT setval($1::regclass, 1, false)", sequence)
        reset.append(sequence)
    return reset


async def _connect(url: str | DatabaseURL) -> asyncpg.Connection:
    parsed = url if isinstance(url, DatabaseURL) else DatabaseURL(url)
    if parsed.engine != "postgresql":
        raise ConfigurationError(f"the target must be a postgresql:// URL, not {parsed.url!r}")
    try:
        return await asyncpg.connect(parsed.dsn)
    except (OSError, asyncpg.PostgresError) as error:
        raise ConfigurationError(f"cannot connect to PostgreSQL: {error}") from error


def source_path(url: str | DatabaseURL) -> Path:
    parsed = url if isinstance(url, DatabaseURL) else DatabaseURL(url)
    if parsed.engine != "sqlite":
        raise ConfigurationError(f"the source must be a sqlite:/// URL, not {parsed.url!r}")
    if not parsed.path.is_file():
        raise ConfigurationError(f"{parsed.path}: no such database")
    return parsed.path


def _tables(path: Path) -> list[Table]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return source_tables(conn)
    finally:
        conn.close()


async def copy_database(source: str | DatabaseURL, target: str | DatabaseURL) -> list[TableCheck]:
    """Copy every table of the SQLite `source` into the empty, migrated PostgreSQL
    `target` in one transaction; return the per-table comparison (`compare`).

    Raises `CopyError` (nothing written) for a non-empty target or one missing a table or
    column, and whatever PostgreSQL refused (a value its column type does not accept)."""
    path = source_path(source)
    tables = await asyncio.to_thread(_tables, path)
    sequences = await asyncio.to_thread(_sqlite_sequences, path)
    conn = await _connect(target)
    try:
        async with conn.transaction():
            await _check_target(conn, tables)
            for table in tables:
                await conn.copy_to_table(
                    table.name,
                    source=_lines(path, table),
                    columns=list(table.columns),
                    format="text",
                )
                await _reset_sequences(conn, table, sequences.get(table.name, 0))
    finally:
        await conn.close()
    return await compare(source, target)


async def _lines(path: Path, table: Table) -> AsyncIterator[bytes]:
    """The source rows of `table` as COPY text, read off the event loop in batches."""
    rows = _sqlite_rows(path, table)

    def take() -> list[Sequence[Any]]:
        return list(itertools.islice(rows, BATCH))

    while batch := await asyncio.to_thread(take):
        yield b"".join(copy_line(row) for row in batch)


def _source_checksum(path: Path, table: Table, types: Sequence[str]) -> tuple[int, int]:
    count, total = 0, 0
    for row in _sqlite_rows(path, table):
        count += 1
        total += row_digest(row, types)
    return count, total


async def compare(source: str | DatabaseURL, target: str | DatabaseURL) -> list[TableCheck]:
    """Row count and checksum of every copied table on both sides."""
    path = source_path(source)
    tables = await asyncio.to_thread(_tables, path)
    conn = await _connect(target)
    checks = []
    try:
        for table in tables:
            columns = await _target_columns(conn, table.name)
            types = [columns.get(c, "text") for c in table.columns]
            source_rows, source_total = await asyncio.to_thread(
                _source_checksum, path, table, types
            )
            target_rows, target_total = 0, 0
            if columns:
                async with conn.transaction():
                    sql = (
                        f"SELECT {', '.join(map(_quote, table.columns))} FROM {_quote(table.name)}"
                    )
                    async for row in conn.cursor(sql, prefetch=BATCH):
                        target_rows += 1
                        target_total += row_digest(tuple(row), types)
            checks.append(
                TableCheck(
                    table.name, source_rows, target_rows, _hex(source_total), _hex(target_total)
                )
            )
    finally:
        await conn.close()
    return checks


def report(checks: Sequence[TableCheck]) -> str:
    """The comparison as a table for the terminal, with a verdict line."""
    width = max([len("table"), *(len(c.table) for c in checks)])
    lines = [f"{'table':<{width}}  {'source':>9}  {'target':>9}  {'checksum':<16}  result"]
    for c in checks:
        same = c.source_checksum == c.target_checksum
        checksum = (
            c.source_checksum[:16] if same else (f"{c.source_checksum[:7]}≠{c.target_checksum[:7]}")
        )
        lines.append(
            f"{c.table:<{width}}  {c.source_rows:>9}  {c.target_rows:>9}"
            f"  {checksum:<16}  {'ok' if c.ok else 'MISMATCH'}"
        )
    bad = [c.table for c in checks if not c.ok]
    lines.append(
        f"{len(checks)} table(s), {sum(c.source_rows for c in checks)} row(s): "
        + (f"MISMATCH in {', '.join(bad)}" if bad else "identical")
    )
    return "\n".join(lines)
