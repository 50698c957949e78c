"""Tables owned by `livechat`, as numbered migrations (migration n at index n-1).

`broadcast_id` is a plain integer: livechat does not know what a broadcast is.
`created_at` is ISO-8601 UTC with microseconds (`2026-11-25T05:00:00.000000+00:00`), so text
order is time order. `video_offset` is set for comments written while watching a replay
(seconds into the recording); live comments have NULL there.
"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        broadcast_id INTEGER NOT NULL,
        author_key TEXT NOT NULL,
        author_name TEXT NOT NULL,
        role TEXT NOT NULL,
        department TEXT NOT NULL DEFAULT '',
        client_id TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        video_offset REAL,
        status TEXT NOT NULL DEFAULT 'visible' CHECK (status IN ('visible', 'held', 'removed')),
        flags TEXT NOT NULL DEFAULT '',
        UNIQUE (broadcast_id, author_key, client_id)
    );
    CREATE INDEX comments_by_broadcast ON comments (broadcast_id, id);
    CREATE INDEX comments_by_time ON comments (broadcast_id, created_at);
    CREATE INDEX comments_by_offset ON comments (broadcast_id, video_offset)
        WHERE video_offset IS NOT NULL;
    CREATE TABLE chat_settings (
        broadcast_id INTEGER PRIMARY KEY,
        slow_mode_seconds INTEGER NOT NULL DEFAULT 0,
        closed INTEGER NOT NULL DEFAULT 0,
        pinned_comment_id INTEGER
    );
    """,
)
