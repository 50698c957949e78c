"""Tables owned by `replay`, as numbered migrations (migration n at index n-1).

Times are ISO-8601 UTC text with microseconds (`2026-11-25T05:00:00.000000+00:00`), the
form `livechat` uses, so text order is time order. `replays.staff` is the display copy of
the staff list; `replay_staff` is the same list for filtering. The two FTS5 tables are
plain (they keep their own copy of the text, rowid = replay id) and are written by
`ReplayStore` in the same transaction as the replay; see `replay.search` for why there
are two. The listing indexes are partial on what the public catalog shows.
"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE replays (
        id INTEGER PRIMARY KEY,
        broadcast_id INTEGER UNIQUE REFERENCES broadcasts (id) ON DELETE SET NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        staff TEXT NOT NULL DEFAULT '[]',
        recording_url TEXT NOT NULL,
        thumbnail_url TEXT NOT NULL DEFAULT '',
        duration_seconds INTEGER NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
        aired_at TEXT NOT NULL,
        recording_started_at TEXT NOT NULL,
        published_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'published'
            CHECK (status IN ('published', 'unpublished')),
        hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
        view_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX replays_listed_by_aired ON replays (aired_at, id)
        WHERE status = 'published' AND hidden = 0;
    CREATE INDEX replays_listed_by_views ON replays (view_count, id)
        WHERE status = 'published' AND hidden = 0;
    CREATE INDEX replays_listed_by_category ON replays (category, aired_at, id)
        WHERE status = 'published' AND hidden = 0;
    CREATE TABLE replay_staff (
        replay_id INTEGER NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        PRIMARY KEY (name, replay_id)
    ) WITHOUT ROWID;
    CREATE INDEX replay_staff_by_replay ON replay_staff (replay_id);
    CREATE TABLE replay_chapters (
        replay_id INTEGER NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        start_seconds INTEGER NOT NULL CHECK (start_seconds >= 0),
        title TEXT NOT NULL,
        PRIMARY KEY (replay_id, start_seconds)
    ) WITHOUT ROWID;
    CREATE TABLE replay_captions (
        replay_id INTEGER NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        language TEXT NOT NULL,
        label TEXT NOT NULL,
        url TEXT NOT NULL,
        PRIMARY KEY (replay_id, language)
    ) WITHOUT ROWID;
    CREATE TABLE replay_views (
        replay_id INTEGER NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        viewer TEXT NOT NULL,
        PRIMARY KEY (replay_id, viewer)
    ) WITHOUT ROWID;
    CREATE VIRTUAL TABLE replay_fts USING fts5 (document, tokenize = 'trigram');
    CREATE VIRTUAL TABLE replay_grams USING fts5 (
        grams, tokenize = 'unicode61 remove_diacritics 0'
    );
    """,
    # 2: spacing-insensitive search: the indexed text also carries the title without
    # spaces (`search.document` writes the full form, with staff and chapters, for every
    # new or edited replay).
    """
    UPDATE replay_fts SET document = document || char(10)
        || replace((SELECT lower(title) FROM replays WHERE replays.id = replay_fts.rowid),
                   ' ', '')
        WHERE rowid IN (SELECT id FROM replays WHERE title LIKE '% %');
    """,
    # 3: the second of the recording a generated thumbnail shows (NULL: the default).
    """
    ALTER TABLE replays ADD COLUMN thumbnail_seconds INTEGER
        CHECK (thumbnail_seconds IS NULL OR thumbnail_seconds >= 0);
    """,
)

# PostgreSQL: the final SQLite schema in one migration (db.migrate picks by engine), text
# compared byte-wise like SQLite (`COLLATE "C"`). Instead of the two FTS5 tables, one
# `replay_search` row per replay: the same document under a pg_trgm GIN index (LIKE
# '%term%' for terms of three or more characters) and the same bigram pieces as a tsvector
# of exact lexemes under a GIN index (one- and two-character terms); see `replay.search`.
POSTGRES_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE TABLE replays (
        id BIGSERIAL PRIMARY KEY,
        broadcast_id BIGINT UNIQUE REFERENCES broadcasts (id) ON DELETE SET NULL,
        title TEXT COLLATE "C" NOT NULL,
        description TEXT COLLATE "C" NOT NULL DEFAULT '',
        category TEXT COLLATE "C" NOT NULL DEFAULT '',
        staff TEXT COLLATE "C" NOT NULL DEFAULT '[]',
        recording_url TEXT COLLATE "C" NOT NULL,
        thumbnail_url TEXT COLLATE "C" NOT NULL DEFAULT '',
        duration_seconds INTEGER NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
        aired_at TEXT COLLATE "C" NOT NULL,
        recording_started_at TEXT COLLATE "C" NOT NULL,
        published_at TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL DEFAULT 'published'
            CHECK (status IN ('published', 'unpublished')),
        hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
        view_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        thumbnail_seconds INTEGER CHECK (thumbnail_seconds IS NULL OR thumbnail_seconds >= 0)
    );
    CREATE INDEX replays_listed_by_aired ON replays (aired_at, id)
        WHERE status = 'published' AND hidden = 0;
    CREATE INDEX replays_listed_by_views ON replays (view_count, id)
        WHERE status = 'published' AND hidden = 0;
    CREATE INDEX replays_listed_by_category ON replays (category, aired_at, id)
        WHERE status = 'published' AND hidden = 0;
    CREATE TABLE replay_staff (
        replay_id BIGINT NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        name TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (name, replay_id)
    );
    CREATE INDEX replay_staff_by_replay ON replay_staff (replay_id);
    CREATE TABLE replay_chapters (
        replay_id BIGINT NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        start_seconds INTEGER NOT NULL CHECK (start_seconds >= 0),
        title TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (replay_id, start_seconds)
    );
    CREATE TABLE replay_captions (
        replay_id BIGINT NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        language TEXT COLLATE "C" NOT NULL,
        label TEXT COLLATE "C" NOT NULL,
        url TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (replay_id, language)
    );
    CREATE TABLE replay_views (
        replay_id BIGINT NOT NULL REFERENCES replays (id) ON DELETE CASCADE,
        viewer TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (replay_id, viewer)
    );
    CREATE TABLE replay_search (
        replay_id BIGINT PRIMARY KEY REFERENCES replays (id) ON DELETE CASCADE,
        document TEXT COLLATE "C" NOT NULL,
        grams tsvector NOT NULL
    );
    CREATE INDEX replay_search_trigrams ON replay_search USING gin (document gin_trgm_ops);
    CREATE INDEX replay_search_grams ON replay_search USING gin (grams);
    """,
)
