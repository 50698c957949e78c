"""Hosts whose clocks are off: what several app hosts on one database look like to a test.

`SkewedHosts` moves the process clock (`datetime.now`) of every loaded module of the
packages above the storage layer by `offset`; the database's clock (PostgreSQL's, SQLite's
own `'now'`) stays where it is. A store that still stamped a row, or cut off old rows, by
its host's clock would be `offset` away from the database's.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import pytest

from db import Database

APP_PACKAGES = ("livechat", "web", "schedule", "replay")


class _SkewedType(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)  # real datetimes pass `isinstance` checks


class SkewedHosts:
    """The skew of this process's clock; change `offset` to play another host."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, offset: timedelta) -> None:
        self.offset = offset
        hosts = self

        class SkewedDatetime(datetime, metaclass=_SkewedType):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> Any:
                return datetime.now(tz) + hosts.offset

        self.patched = []
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in APP_PACKAGES and vars(module).get("datetime") is datetime:
                monkeypatch.setattr(module, "datetime", SkewedDatetime)
                self.patched.append(name)
        assert "schedule.store" in self.patched, "the skew reached none of the stores"


async def database_now(db: Database) -> str:
    """The database's clock, as its own text (`now_sql`)."""
    return str(await db.fetchval(f"SELECT {db.now_sql}"))


def between(stamp: str, before: str, after: str) -> bool:
    """Whether `stamp` (stores' text) lies in [before, after] of the database's clock, to
    the millisecond (SQLite's clock has no finer resolution)."""
    return before[:23] <= stamp[:23] <= after[:23] and stamp.endswith("+00:00")


def far(stamp: str, moment: datetime) -> bool:
    """Whether `stamp` is over an hour from `moment` (what a skewed host would write)."""
    return abs(datetime.fromisoformat(stamp) - moment.astimezone(UTC)) > timedelta(hours=1)
