"""Replay catalog persistence (through `db.Database`, SQLite or PostgreSQL). Every SQL
statement of `replay`.

A replay, its staff, chapters, captions and its search rows are written in one
transaction, so a reader never sees half a replay. Search is the one engine-specific part
(see `replay.search`): SQLite matches two FTS5 tables, PostgreSQL one `replay_search`
table with a `pg_trgm` GIN index on the document and a GIN index on the bigram tsvector;
both answer the same queries with the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from db import Database, Executor, Row, Transaction
from replay import cursor as cursors
from replay import related, search
from replay.models import Caption, Chapter, Replay, ReplayEdit, ReplayPage, ReplayQuery
from replay.search import SearchPlan
from replay.timeline import utc_iso
from schedule import Broadcast, ReplayCandidate

_COLUMNS = (
    "r.id, r.broadcast_id, r.title, r.description, r.category, r.staff, r.recording_url,"
    " r.thumbnail_url, r.duration_seconds, r.aired_at, r.recording_started_at,"
    " r.published_at, r.status, r.hidden, r.view_count, r.thumbnail_seconds"
)
LISTED = "r.status = 'published' AND r.hidden = 0"  # literal: the partial indexes need it
MAX_LIMIT = 100
COMMON_MATCHES = 2000  # above this many matches, walking the listing index is cheaper


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _replay(
    row: Any, chapters: tuple[Chapter, ...] = (), captions: tuple[Caption, ...] = ()
) -> Replay:
    return Replay(
        id=row[0],
        broadcast_id=row[1],
        title=row[2],
        description=row[3],
        category=row[4],
        staff=tuple(json.loads(row[5])),
        recording_url=row[6],
        thumbnail_url=row[7],
        duration_seconds=row[8],
        aired_at=_time(row[9]),
        recording_started_at=_time(row[10]),
        published_at=_time(row[11]),
        status=row[12],
        hidden=bool(row[13]),
        view_count=row[14],
        chapters=chapters,
        captions=captions,
        thumbnail_seconds=row[15],
    )


def clean_chapters(
    chapters: Sequence[tuple[int, str]] | Sequence[Chapter], duration_seconds: int
) -> tuple[Chapter, ...]:
    """Chapters sorted by start, one per start; raises ValueError for a start outside
    `[0, duration]` (any start when the duration is unknown, 0) or an empty title."""
    found: dict[int, Chapter] = {}
    for item in chapters:
        start, title = (item.start_seconds, item.title) if isinstance(item, Chapter) else item
        if start < 0 or (duration_seconds and start > duration_seconds):
            raise ValueError(f"chapter start {start} is outside the recording")
        if not title.strip():
            raise ValueError("a chapter needs a title")
        found[int(start)] = Chapter(int(start), title.strip())
    return tuple(found[k] for k in sorted(found))


class ReplayStore:
    """Reads and writes replays; each write is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._postgres = db.engine == "postgresql"

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._db.fetch(sql, tuple(params))

    def _transaction(self) -> AbstractAsyncContextManager[Transaction]:
        return self._db.transaction()

    # -- reading -----------------------------------------------------------------------
    async def get(self, replay_id: int) -> Replay | None:
        """The replay with its chapters and captions, whatever its status; None if unknown."""
        rows = await self._fetch(f"SELECT {_COLUMNS} FROM replays r WHERE r.id = ?", (replay_id,))
        if not rows:
            return None
        chapters = await self._fetch(
            "SELECT start_seconds, title FROM replay_chapters WHERE replay_id = ?"
            " ORDER BY start_seconds",
            (replay_id,),
        )
        captions = await self._fetch(
            "SELECT language, label, url FROM replay_captions WHERE replay_id = ?"
            " ORDER BY language",
            (replay_id,),
        )
        return _replay(
            rows[0],
            tuple(Chapter(r[0], r[1]) for r in chapters),
            tuple(Caption(r[0], r[1], r[2]) for r in captions),
        )

    async def for_broadcast(self, broadcast_id: int) -> Replay | None:
        rows = await self._fetch("SELECT id FROM replays WHERE broadcast_id = ?", (broadcast_id,))
        return await self.get(int(rows[0][0])) if rows else None

    async def search(self, query: ReplayQuery) -> ReplayPage:
        """One page of the public catalog (published, not hidden), by `query.sort`.

        Raises `search.QueryError` for unusable text and `cursor.CursorError` for a cursor
        that is malformed or belongs to another sort.
        """
        terms = search.terms(query.text)
        staff = search.squash(query.staff or "")[: search.MAX_QUERY_CHARS]
        # A staff filter matches part of a name ("교통" finds 도시교통실장), spacing aside;
        # the name is also a search term, so the index narrows the rows to check.
        plan = search.plan([*terms, staff] if staff and staff not in terms else terms)
        limit = max(1, min(query.limit, MAX_LIMIT))
        where: list[str] = [LISTED]
        params: list[Any] = []
        if query.category:
            where.append("r.category = ?")
            params.append(query.category)
        if query.aired_from is not None:
            where.append("r.aired_at >= ?")
            params.append(utc_iso(query.aired_from))
        if query.aired_to is not None:
            where.append("r.aired_at < ?")
            params.append(utc_iso(query.aired_to))
        if staff:
            found = "strpos" if self._postgres else "instr"
            where.append(
                "EXISTS (SELECT 1 FROM replay_staff s WHERE s.replay_id = r.id"
                f" AND {found}(lower(replace(s.name, ' ', '')), ?) > 0)"
            )
            params.append(staff)
        if self._postgres:
            clauses, values = search.postgres_match(plan)
            where.extend(clauses)
            params.extend(values)
        else:
            await self._sqlite_match(plan, where, params)
        key = "r.aired_at" if query.sort == "newest" else "r.view_count"
        if query.cursor:
            after = cursors.decode(query.cursor, query.sort)
            where.append(f"({key}, r.id) < (?, ?)")
            params.extend([after.key, after.id])
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM replays r WHERE {' AND '.join(where)}"
            f" ORDER BY {key} DESC, r.id DESC LIMIT ?",
            [*params, limit + 1],
        )
        items = tuple(_replay(r) for r in rows[:limit])
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = cursors.encode(cursors.after(items[-1], query.sort, last[9]))
        return ReplayPage(items, next_cursor, terms)

    async def suggest(self, text: str, limit: int = 8) -> tuple[list[str], list[str]]:
        """Staff names and titles that contain `text` (spacing aside), from the best
        matches of a catalog search: what the search fields offer as the user types."""
        key = search.squash(text)
        if not key:
            return [], []
        page = await self.search(ReplayQuery(text=text, limit=40))
        names: dict[str, None] = {}
        titles: dict[str, None] = {}
        for replay in page.items:
            for name in replay.staff:
                if key in search.squash(name):
                    names.setdefault(name, None)
            if key in search.squash(replay.title):
                titles.setdefault(replay.title, None)
        return sorted(names)[:limit], list(titles)[:limit]

    async def _sqlite_match(self, plan: SearchPlan, where: list[str], params: list[Any]) -> None:
        matches = [
            (table, expr)
            for table, expr in (("replay_fts", plan.trigram), ("replay_grams", plan.bigram))
            if expr
        ]
        # Common words: walk the listing index newest-first and stop after one page
        # ("+" keeps SQLite from driving the query by the match list); rare words: fetch
        # the few matches and sort them. Which is which costs one bounded count.
        walk = bool(matches) and all([await self._common(t, e) for t, e in matches])
        for table, expression in matches:
            where.append(
                f"{'+' if walk else ''}r.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"
            )
            params.append(expression)
        for pattern in plan.like:
            where.append("r.id IN (SELECT rowid FROM replay_fts WHERE document LIKE ? ESCAPE '\\')")
            params.append(pattern)

    async def _common(self, table: str, expression: str) -> bool:
        """True when `expression` matches at least COMMON_MATCHES replays."""
        rows = await self._fetch(
            f"SELECT count(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?)",
            (expression, COMMON_MATCHES),
        )
        return int(rows[0][0]) >= COMMON_MATCHES

    async def categories(self) -> list[str]:
        rows = await self._fetch(
            f"SELECT DISTINCT r.category FROM replays r WHERE {LISTED} AND r.category != ''"
            " ORDER BY r.category"
        )
        return [str(r[0]) for r in rows]

    async def related(self, replay: Replay, limit: int = 6) -> list[Replay]:
        """Listed replays most like `replay` (see `replay.related.rank`)."""
        marks = ",".join("?" * len(replay.staff))
        staff_clause = (
            f" OR r.id IN (SELECT replay_id FROM replay_staff WHERE name IN ({marks}))"
            if replay.staff
            else ""
        )
        rows = await self._fetch(
            f"SELECT {_COLUMNS} FROM replays r WHERE {LISTED} AND r.id != ?"
            f" AND (r.category = ?{staff_clause}) ORDER BY r.aired_at DESC LIMIT 200",
            (replay.id, replay.category, *replay.staff),
        )
        words = [
            t
            for t in search.terms(" ".join(replay.title.split()[: search.MAX_TERMS]))
            if len(t) >= 3
        ]
        if words and self._postgres:
            # No BM25 here: the newest 100 replays containing any of the words (the
            # ranking below decides among them).
            rows += await self._fetch(
                f"SELECT {_COLUMNS} FROM replays r WHERE {LISTED} AND r.id != ? AND r.id IN"
                " (SELECT replay_id FROM replay_search WHERE "
                + " OR ".join(["document LIKE ?"] * len(words))
                + " ORDER BY replay_id DESC LIMIT 100)",
                (replay.id, *(search.like_pattern(w) for w in words)),
            )
        elif words:
            match = " OR ".join(search.plan([w]).trigram or "" for w in words)
            rows += await self._fetch(
                f"SELECT {_COLUMNS} FROM replays r WHERE {LISTED} AND r.id != ? AND r.id IN"
                " (SELECT rowid FROM replay_fts WHERE replay_fts MATCH ? ORDER BY rank"
                " LIMIT 100)",
                (replay.id, match),
            )
        return related.rank(replay, (_replay(r) for r in rows), limit)

    async def channel_candidates(self) -> list[ReplayCandidate]:
        """Every published, not hidden replay the linear channel may schedule, by id."""
        rows = await self._fetch(
            f"SELECT r.id, r.title, r.duration_seconds, r.published_at, r.view_count"
            f" FROM replays r WHERE {LISTED} ORDER BY r.id"
        )
        return [
            ReplayCandidate(
                id=r[0],
                title=r[1],
                duration_seconds=r[2],
                published_at=_time(r[3]),
                popularity=r[4],
            )
            for r in rows
        ]

    # -- writing -----------------------------------------------------------------------
    async def create_from_broadcast(
        self,
        broadcast: Broadcast,
        *,
        recording_url: str,
        duration_seconds: int | None = None,
        chapters: Sequence[tuple[int, str]] = (),
        recording_started_at: datetime | None = None,
        captions: Sequence[Caption] = (),
        now: datetime | None = None,
    ) -> Replay:
        """The replay of an ended broadcast, created once: calling again for the same
        broadcast returns the existing replay unchanged.

        The duration defaults to the broadcast's length; `recording_started_at` (default:
        the broadcast's start) is later for a recording that misses the opening. Raises
        ValueError for chapters outside the recording.
        """
        existing = await self.for_broadcast(broadcast.id)
        if existing is not None:
            return existing
        started = (recording_started_at or broadcast.starts_at).astimezone(UTC)
        if duration_seconds is None:
            duration_seconds = max(0, int((broadcast.ends_at - started).total_seconds()))
        cleaned = clean_chapters(chapters, duration_seconds)
        moment = utc_iso(now or await self._db.now())
        async with self._transaction() as db:
            row = await db.fetchone(
                "INSERT INTO replays (broadcast_id, title, description, category, staff,"
                " recording_url, thumbnail_url, duration_seconds, aired_at,"
                " recording_started_at, published_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (broadcast_id) DO NOTHING RETURNING id",
                (
                    broadcast.id,
                    broadcast.title,
                    broadcast.description,
                    broadcast.category,
                    json.dumps(list(broadcast.staff), ensure_ascii=False),
                    recording_url,
                    broadcast.thumbnail_url,
                    duration_seconds,
                    utc_iso(broadcast.starts_at),
                    utc_iso(started),
                    moment,
                    moment,
                    moment,
                ),
            )
            if row is not None:
                replay_id = int(row[0])
                await self._write_children(db, replay_id, broadcast.staff, cleaned, tuple(captions))
                await self._write_search(db, replay_id)
        found = await self.for_broadcast(broadcast.id)
        assert found is not None
        return found

    async def update(
        self, replay_id: int, edit: ReplayEdit, now: datetime | None = None
    ) -> Replay | None:
        """Apply an operator's edit; None if there is no such replay. Raises ValueError
        (nothing written) for chapters outside the recording."""
        current = await self.get(replay_id)
        if current is None:
            return None
        duration = (
            edit.duration_seconds if edit.duration_seconds is not None else current.duration_seconds
        )
        chapters = clean_chapters(
            edit.chapters if edit.chapters is not None else current.chapters, duration
        )
        columns: dict[str, Any] = {}
        for name in (
            "title",
            "description",
            "category",
            "thumbnail_url",
            "recording_url",
            "duration_seconds",
            "status",
            "thumbnail_seconds",
        ):
            value = getattr(edit, name)
            if value is not None:
                columns[name] = value
        if edit.staff is not None:
            columns["staff"] = json.dumps(list(edit.staff), ensure_ascii=False)
        if edit.hidden is not None:
            columns["hidden"] = int(edit.hidden)
        if edit.recording_started_at is not None:
            columns["recording_started_at"] = utc_iso(edit.recording_started_at)
        columns["updated_at"] = utc_iso(now or await self._db.now())
        assignments = ", ".join(f"{name} = ?" for name in columns)
        async with self._transaction() as db:
            await db.execute(
                f"UPDATE replays SET {assignments} WHERE id = ?", (*columns.values(), replay_id)
            )
            await self._write_children(
                db,
                replay_id,
                edit.staff if edit.staff is not None else current.staff,
                chapters,
                edit.captions if edit.captions is not None else current.captions,
            )
            await self._write_search(db, replay_id)
        return await self.get(replay_id)

    async def record_view(self, replay_id: int, viewer: str) -> bool:
        """Count one view per (replay, viewer); True if this one counted."""
        async with self._transaction() as db:
            counted = (
                await db.execute(
                    "INSERT INTO replay_views (replay_id, viewer) VALUES (?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (replay_id, viewer),
                )
                == 1
            )
            if counted:
                await db.execute(
                    "UPDATE replays SET view_count = view_count + 1 WHERE id = ?", (replay_id,)
                )
        return counted

    @staticmethod
    async def _write_children(
        db: Executor,
        replay_id: int,
        staff: Sequence[str],
        chapters: Sequence[Chapter],
        captions: Sequence[Caption],
    ) -> None:
        for table in ("replay_staff", "replay_chapters", "replay_captions"):
            await db.execute(f"DELETE FROM {table} WHERE replay_id = ?", (replay_id,))
        await db.executemany(
            "INSERT INTO replay_staff (replay_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(replay_id, name) for name in staff],
        )
        await db.executemany(
            "INSERT INTO replay_chapters (replay_id, start_seconds, title) VALUES (?, ?, ?)",
            [(replay_id, c.start_seconds, c.title) for c in chapters],
        )
        await db.executemany(
            "INSERT INTO replay_captions (replay_id, language, label, url)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (replay_id, language)"
            " DO UPDATE SET label = excluded.label, url = excluded.url",
            [(replay_id, c.language, c.label, c.url) for c in captions],
        )

    async def _write_search(self, db: Executor, replay_id: int) -> None:
        row = await db.fetchone(
            "SELECT title, description, category, staff FROM replays WHERE id = ?", (replay_id,)
        )
        assert row is not None
        chapter_titles = [
            r[0]
            for r in await db.fetch(
                "SELECT title FROM replay_chapters WHERE replay_id = ? ORDER BY start_seconds",
                (replay_id,),
            )
        ]
        text = search.document(row[0], row[1], row[2], json.loads(row[3]), chapter_titles)
        grams = search.grams(text)
        if self._postgres:
            await db.execute(
                "INSERT INTO replay_search (replay_id, document, grams) VALUES"
                " (?, ?, array_to_tsvector(array_remove(string_to_array(?, ' '), '')))"
                " ON CONFLICT (replay_id) DO UPDATE SET document = excluded.document,"
                " grams = excluded.grams",
                (replay_id, text, grams),
            )
            return
        await db.execute("DELETE FROM replay_fts WHERE rowid = ?", (replay_id,))
        await db.execute("DELETE FROM replay_grams WHERE rowid = ?", (replay_id,))
        await db.execute(
            "INSERT INTO replay_fts (rowid, document) VALUES (?, ?)", (replay_id, text)
        )
        await db.execute(
            "INSERT INTO replay_grams (rowid, grams) VALUES (?, ?)", (replay_id, grams)
        )
