"""A real PostgreSQL for the tests: one fresh database per test run, one schema per test.

`TEST_DATABASE_URL` names a server and a role allowed to create databases (the test
command sets it after making sure a server runs). The run's database is created with a
UTF-8 `LC_CTYPE` (Korean search needs it) and dropped at exit; each test gets a schema of
its own through the URL's `search_path`, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "")
NO_POSTGRES = (
    "TEST_DATABASE_URL is not set: no PostgreSQL server to test against"
    " (scripts/test starts one and sets it)"
)

_run_database: str | None = None


def _with_path(url: str, database: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, query, ""))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_database() -> str:
    """The URL of this run's database (created on first use)."""
    global _run_database
    if _run_database is None:
        name = f"live_seoul_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        asyncio.run(
            _admin(
                f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8'"
                f" LC_CTYPE 'C.UTF-8' TEMPLATE template0"
            )
        )
        url = _with_path(ADMIN_URL, name)
        asyncio.run(_execute(url, "CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        atexit.register(_drop, name)
        _run_database = url
    return _run_database


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _drop(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def fresh_schema() -> tuple[str, str]:
    """(url whose search_path is a new empty schema, then public; the schema's name)."""
    base = run_database()
    schema = "t_" + uuid.uuid4().hex[:12]
    asyncio.run(_execute(base, f"CREATE SCHEMA {schema}"))
    query = "search_path=" + quote(f"{schema},public")
    return _with_path(base, urlsplit(base).path.lstrip("/"), query), schema


def drop_schema(schema: str) -> None:
    asyncio.run(_execute(run_database(), f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@contextlib.contextmanager
def schema() -> Iterator[tuple[str, str]]:
    """(URL, name) of a new empty schema for one test, dropped afterwards; the test is
    skipped when no PostgreSQL server was given (TEST_DATABASE_URL)."""
    if not ADMIN_URL:
        pytest.skip(NO_POSTGRES)
    url, name = fresh_schema()
    try:
        yield url, name
    finally:
        drop_schema(name)
