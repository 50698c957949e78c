"""Broadcast persistence (through `db.Database`, SQLite or PostgreSQL). Every SQL
statement of `schedule`.

Every write is one transaction holding the `schedule` lock key; the overlap check runs
inside the same transaction as the write, so two operators, two worker processes or two
hosts can never both book the same hour (SQLite: the file's single writer; PostgreSQL: a
transaction-scoped advisory lock on the key).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from db import Database, Executor, Transaction
from schedule.broadcast import (
    TRANSITIONS,
    Broadcast,
    BroadcastDraft,
    BroadcastError,
    FieldError,
    OverlapError,
    TransitionError,
    check_times,
    find_overlap,
    overlap_message,
)
from schedule.channel import CARD_TITLE, ChannelSlot

_COLUMNS = (
    "id, title, description, category, starts_at, ends_at, status, stream_url, thumbnail_url, staff"
)
# Text comparison of stored times is exact except for `...:00+00:00` against
# `...:00.000000+00:00`; queries widen by this much and filter exactly in Python.
_SLACK = timedelta(seconds=1)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _row(row: Any) -> Broadcast:
    try:
        staff = tuple(str(x) for x in json.loads(row[9] or "[]"))
    except ValueError:
        staff = ()
    return Broadcast(
        id=row[0],
        title=row[1],
        description=row[2],
        category=row[3],
        starts_at=_time(row[4]),
        ends_at=_time(row[5]),
        status=row[6],
        stream_url=row[7],
        thumbnail_url=row[8],
        staff=staff,
    )


def _slot_record(slot: ChannelSlot) -> dict[str, Any]:
    return {
        "kind": slot.kind,
        "title": slot.title,
        "start": utc_iso(slot.start),
        "end": utc_iso(slot.end),
        "replay_id": slot.replay_id,
        "cut": slot.cut,
    }


def _slot(record: dict[str, Any]) -> ChannelSlot:
    replay_id = record.get("replay_id")
    return ChannelSlot(
        "replay" if record.get("kind") == "replay" else "card",
        str(record.get("title", CARD_TITLE)),
        _time(str(record["start"])),
        _time(str(record["end"])),
        replay_id=replay_id if isinstance(replay_id, int) else None,
        cut=bool(record.get("cut")),
    )


class BatchError(ValueError):
    """Problems found while writing several broadcasts: `(index, FieldError)` pairs."""

    def __init__(self, problems: Sequence[tuple[int, FieldError]]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s)")


# Every write of the schedule holds this key: the overlap check and the write it guards
# are one step for every process and host.
LOCK = "schedule"


class ScheduleStore:
    """Reads and writes broadcasts; every write is one transaction under `LOCK`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self._db.transaction(lock=LOCK)

    @staticmethod
    async def _select(db: Executor, sql: str, params: Sequence[Any] = ()) -> list[Broadcast]:
        rows = await db.fetch(f"SELECT {_COLUMNS} FROM broadcasts {sql}", tuple(params))
        return [_row(r) for r in rows]

    # -- reading -----------------------------------------------------------------------
    async def exists(self, broadcast_id: int) -> bool:
        return (
            await self._db.fetchone("SELECT 1 FROM broadcasts WHERE id = ?", (broadcast_id,))
            is not None
        )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        found = await self._select(self._db, "WHERE id = ?", (broadcast_id,))
        return found[0] if found else None

    async def between(
        self, start: datetime, end: datetime, *, include_cancelled: bool = False
    ) -> list[Broadcast]:
        """Broadcasts whose `[starts_at, ends_at)` intersects `[start, end)`, by start."""
        return await self._between(self._db, start, end, include_cancelled)

    async def _between(
        self, db: Executor, start: datetime, end: datetime, include_cancelled: bool
    ) -> list[Broadcast]:
        status = "" if include_cancelled else " AND status != 'cancelled'"
        found = await self._select(
            db,
            f"WHERE starts_at < ? AND ends_at > ?{status} ORDER BY starts_at, id",
            (utc_iso(end + _SLACK), utc_iso(start - _SLACK)),
        )
        return [b for b in found if b.overlaps(start, end)]

    async def with_status(self, status: str) -> list[Broadcast]:
        return await self._select(self._db, "WHERE status = ? ORDER BY starts_at, id", (status,))

    async def marker_exists(self, name: str) -> bool:
        return (
            await self._db.fetchone("SELECT 1 FROM schedule_markers WHERE name = ?", (name,))
            is not None
        )

    # -- writing -----------------------------------------------------------------------
    async def _check_free(
        self,
        db: Executor,
        start: datetime,
        end: datetime,
        exclude_id: int | None,
        field: str = "starts_at",
    ) -> None:
        others = await self._between(db, start, end, include_cancelled=False)
        other = find_overlap(start, end, others, exclude_id)
        if other is not None:
            raise OverlapError(other, field)

    @staticmethod
    async def _insert(db: Executor, d: BroadcastDraft, moment: str) -> Broadcast:
        row = await db.fetchone(
            "INSERT INTO broadcasts (title, description, category, starts_at, ends_at, status,"
            " stream_url, thumbnail_url, staff, created_at, updated_at)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (
                d.title,
                d.description,
                d.category,
                utc_iso(d.starts_at),
                utc_iso(d.ends_at),
                d.status,
                d.stream_url,
                d.thumbnail_url,
                json.dumps(list(d.staff), ensure_ascii=False),
                moment,
                moment,
            ),
        )
        assert row is not None
        return _row(row)

    async def create(self, draft: BroadcastDraft, *, now: datetime | None = None) -> Broadcast:
        """Store a new broadcast; `OverlapError` names the broadcast it would collide with."""
        moment = utc_iso(now or await self._db.now())
        async with self._transaction() as db:
            if draft.status != "cancelled":
                await self._check_free(db, draft.starts_at, draft.ends_at, None)
            return await self._insert(db, draft, moment)

    async def create_many(
        self,
        drafts: Sequence[BroadcastDraft],
        *,
        marker: str | None = None,
        now: datetime | None = None,
    ) -> list[Broadcast] | None:
        """All of `drafts` in one transaction, or none of them.

        Raises `BatchError` listing every draft that overlaps a stored broadcast or an
        earlier draft. With `marker`, the batch is written at most once: if the marker is
        already stored nothing is written and None is returned (safe when several workers
        load the same batch at once).
        """
        moment = utc_iso(now or await self._db.now())
        async with self._transaction() as db:
            if marker is not None:
                claimed = await db.execute(
                    "INSERT INTO schedule_markers (name, created_at) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (marker, moment),
                )
                if claimed != 1:
                    return None
            problems: list[tuple[int, FieldError]] = []
            accepted: list[Broadcast] = []
            for index, draft in enumerate(drafts):
                if draft.status == "cancelled":
                    continue
                stored = await self._between(db, draft.starts_at, draft.ends_at, False)
                other = find_overlap(draft.starts_at, draft.ends_at, [*stored, *accepted])
                if other is None:
                    accepted.append(
                        Broadcast(
                            -(index + 1),
                            draft.title,
                            "",
                            draft.category,
                            draft.starts_at,
                            draft.ends_at,
                        )
                    )
                elif other.id > 0:
                    problems.append((index, FieldError("starts_at", overlap_message(other))))
                else:
                    problems.append(
                        (
                            index,
                            FieldError(
                                "starts_at",
                                f'overlaps item {-other.id} "{other.title}" of this batch',
                            ),
                        )
                    )
            if problems:
                raise BatchError(problems)
            return [await self._insert(db, d, moment) for d in drafts]

    async def update(
        self, broadcast_id: int, draft: BroadcastDraft, *, now: datetime | None = None
    ) -> Broadcast | None:
        """Replace a broadcast's fields (not its status) with `draft`; None if unknown.

        Raises `OverlapError` when new times collide, `BroadcastError` when the times of an
        ended or cancelled broadcast would change."""
        moment = utc_iso(now or await self._db.now())
        async with self._transaction() as db:
            found = await self._select(db, "WHERE id = ?", (broadcast_id,))
            if not found:
                return None
            current = found[0]
            moved = (draft.starts_at, draft.ends_at) != (current.starts_at, current.ends_at)
            if moved and current.status in ("ended", "cancelled"):
                raise BroadcastError(
                    [FieldError("starts_at", f"a {current.status} broadcast cannot be rescheduled")]
                )
            if moved and current.on_channel:
                await self._check_free(db, draft.starts_at, draft.ends_at, broadcast_id)
            await db.execute(
                "UPDATE broadcasts SET title = ?, description = ?, category = ?,"
                " starts_at = ?, ends_at = ?, stream_url = ?, thumbnail_url = ?, staff = ?,"
                " updated_at = ? WHERE id = ?",
                (
                    draft.title,
                    draft.description,
                    draft.category,
                    utc_iso(draft.starts_at),
                    utc_iso(draft.ends_at),
                    draft.stream_url,
                    draft.thumbnail_url,
                    json.dumps(list(draft.staff), ensure_ascii=False),
                    moment,
                    broadcast_id,
                ),
            )
            updated = await self._select(db, "WHERE id = ?", (broadcast_id,))
            return updated[0]

    async def set_status(
        self, broadcast_id: int, status: str, *, now: datetime | None = None
    ) -> Broadcast | None:
        """Move a broadcast along planned → live → ended (or planned → cancelled).

        Going live before the planned start moves the start to now; ending before the
        planned end moves the end to now (the channel fills the rest with replays).
        Returns None for an unknown id; raises `TransitionError` for any other move and
        `OverlapError` if an early start would collide with the broadcast before it.
        """
        instant = (now or await self._db.now()).replace(microsecond=0)
        moment = utc_iso(instant)
        async with self._transaction() as db:
            found = await self._select(db, "WHERE id = ?", (broadcast_id,))
            if not found:
                return None
            current = found[0]
            if status not in TRANSITIONS.get(current.status, ()):
                raise TransitionError(current.status, status)
            starts_at, ends_at = current.starts_at, current.ends_at
            if status == "live" and instant < starts_at:
                starts_at = instant
                errors = check_times(starts_at, ends_at)
                if errors:
                    raise BroadcastError(errors)
                await self._check_free(db, starts_at, ends_at, broadcast_id, "status")
            if status == "ended" and starts_at < instant < ends_at:
                ends_at = instant
            await db.execute(
                "UPDATE broadcasts SET status = ?, starts_at = ?, ends_at = ?, updated_at = ?"
                " WHERE id = ?",
                (status, utc_iso(starts_at), utc_iso(ends_at), moment, broadcast_id),
            )
            updated = await self._select(db, "WHERE id = ?", (broadcast_id,))
            return updated[0]

    # -- the published channel -----------------------------------------------------------
    async def channel_plan(self, day: date) -> list[ChannelSlot] | None:
        """The published replay and card slots of a Seoul day; None if not published."""
        text = await self._db.fetchval(
            "SELECT slots FROM channel_plans WHERE day = ?", (day.isoformat(),)
        )
        if text is None:
            return None
        return [_slot(r) for r in json.loads(text)]

    async def publish_plan(
        self,
        day: date,
        slots: Sequence[ChannelSlot],
        *,
        replace: bool = False,
        now: datetime | None = None,
    ) -> list[ChannelSlot]:
        """Store the replay and card slots of `day` (lives are never stored: they are read
        from `broadcasts`). Without `replace` the first publication wins (several workers
        may publish the same day at once) and the stored plan is returned."""
        moment = utc_iso(now or await self._db.now())
        text = json.dumps([_slot_record(s) for s in slots if s.kind != "live"], ensure_ascii=False)
        async with self._transaction() as db:
            if replace:
                await db.execute(
                    "INSERT INTO channel_plans (day, slots, published_at, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (day) DO UPDATE"
                    " SET slots = excluded.slots, updated_at = excluded.updated_at",
                    (day.isoformat(), text, moment, moment),
                )
            else:
                await db.execute(
                    "INSERT INTO channel_plans (day, slots, published_at, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (day) DO NOTHING",
                    (day.isoformat(), text, moment, moment),
                )
            stored = await db.fetchval(
                "SELECT slots FROM channel_plans WHERE day = ?", (day.isoformat(),)
            )
        return [_slot(r) for r in json.loads(stored)]
