"""The storage layer: one `Database` interface over SQLite (aiosqlite) and PostgreSQL (asyncpg).

Nothing here knows about comments, broadcasts or HTTP. Packages above own their tables,
their numbered migrations and the one store module that writes each table; they reach the
engine only through `Database` (and `Transaction` inside `Database.transaction()`).
"""

from db.connect import DatabaseURL, open_database
from db.database import Database, Executor, Row, Transaction, now_text
from db.errors import ConfigurationError, DatabaseError, IntegrityError, UniqueViolation
from db.migrate import PackageMigrations, migrate

__all__ = [
    "ConfigurationError",
    "Database",
    "DatabaseError",
    "DatabaseURL",
    "Executor",
    "IntegrityError",
    "PackageMigrations",
    "Row",
    "Transaction",
    "UniqueViolation",
    "migrate",
    "now_text",
    "open_database",
]
