"""Tables owned by `schedule`, as numbered migrations (migration n at index n-1).

Times are stored as ISO-8601 UTC text (`2026-11-25T05:00:00+00:00`): text order is time
order. Display converts to Asia/Seoul.
"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE broadcasts (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'planned'
            CHECK (status IN ('planned', 'live', 'ended', 'cancelled')),
        stream_url TEXT NOT NULL DEFAULT '',
        thumbnail_url TEXT NOT NULL DEFAULT '',
        staff TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX broadcasts_by_start ON broadcasts (starts_at);
    """,
)
