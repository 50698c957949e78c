"""Tables owned by `schedule`, as numbered migrations (migration n at index n-1).

Times are stored as ISO-8601 UTC text (`2026-11-25T05:00:00.000000+00:00`): text order is
time order. Display converts to Asia/Seoul.
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
    # 2: markers for one-time bulk loads (the demo week), written in the same transaction
    # as the rows they stand for; ends_at index for "what overlaps this range".
    """
    CREATE TABLE schedule_markers (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
    );
    CREATE INDEX broadcasts_by_end ON broadcasts (ends_at);
    CREATE INDEX broadcasts_by_status ON broadcasts (status);
    """,
    # 3: the published channel of a Seoul day (its replay and card slots as JSON), so
    # announced slots stay put while the catalog changes (see `channel.replan`).
    """
    CREATE TABLE channel_plans (
        day TEXT PRIMARY KEY,
        slots TEXT NOT NULL,
        published_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
)

# PostgreSQL: the final SQLite schema in one migration (db.migrate picks by engine). Text
# columns compare byte-wise (`COLLATE "C"`, SQLite's BINARY), so stored ISO times order and
# compare exactly as they do in SQLite whatever the database's default collation.
POSTGRES_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE broadcasts (
        id BIGSERIAL PRIMARY KEY,
        title TEXT COLLATE "C" NOT NULL,
        description TEXT COLLATE "C" NOT NULL DEFAULT '',
        category TEXT COLLATE "C" NOT NULL,
        starts_at TEXT COLLATE "C" NOT NULL,
        ends_at TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL DEFAULT 'planned'
            CHECK (status IN ('planned', 'live', 'ended', 'cancelled')),
        stream_url TEXT COLLATE "C" NOT NULL DEFAULT '',
        thumbnail_url TEXT COLLATE "C" NOT NULL DEFAULT '',
        staff TEXT COLLATE "C" NOT NULL DEFAULT '[]',
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX broadcasts_by_start ON broadcasts (starts_at);
    CREATE INDEX broadcasts_by_end ON broadcasts (ends_at);
    CREATE INDEX broadcasts_by_status ON broadcasts (status);
    CREATE TABLE schedule_markers (
        name TEXT COLLATE "C" PRIMARY KEY,
        created_at TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE channel_plans (
        day TEXT COLLATE "C" PRIMARY KEY,
        slots TEXT COLLATE "C" NOT NULL,
        published_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL
    );
    """,
)
