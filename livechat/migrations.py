"""Tables owned by `livechat`, as numbered migrations (migration n at index n-1).

`broadcast_id` is a plain integer: livechat does not know what a broadcast is.
`created_at` is ISO-8601 UTC with microseconds (`2026-11-25T05:00:00.000000+00:00`), so text
order is time order. `video_offset` is set for comments written while watching a replay:
seconds from the broadcast's start (the replay maps it onto its recording, so a comment
stays on its scene when the recording is trimmed); live comments have NULL there.
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
    # 2: moderation (livechat.moderation.moderation_store): the audit log, removals with their reason,
    # chat restrictions (timeouts and bans), blocked words, viewer reports and appeals.
    # Removal is soft: comments.status = 'removed'; the audit row keeps the text.
    """
    CREATE TABLE moderation_actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        broadcast_id INTEGER,
        action TEXT NOT NULL,
        actor_key TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        comment_id INTEGER,
        target_key TEXT NOT NULL DEFAULT '',
        target_name TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        reason_text TEXT NOT NULL DEFAULT '',
        comment_text TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX moderation_actions_by_broadcast ON moderation_actions (broadcast_id, id);
    CREATE INDEX moderation_actions_by_comment ON moderation_actions (comment_id)
        WHERE comment_id IS NOT NULL;
    CREATE TABLE comment_removals (
        comment_id INTEGER PRIMARY KEY REFERENCES comments (id),
        broadcast_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        reason_text TEXT NOT NULL DEFAULT '',
        action_id INTEGER NOT NULL REFERENCES moderation_actions (id),
        removed_at TEXT NOT NULL
    );
    CREATE INDEX comment_removals_by_broadcast ON comment_removals (broadcast_id, reason);
    CREATE TABLE chat_restrictions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        author_key TEXT NOT NULL,
        author_name TEXT NOT NULL,
        broadcast_id INTEGER,
        kind TEXT NOT NULL CHECK (kind IN ('timeout', 'ban')),
        until TEXT,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        lifted_at TEXT
    );
    CREATE INDEX chat_restrictions_active ON chat_restrictions (author_key)
        WHERE lifted_at IS NULL;
    CREATE TABLE blocked_words (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        word TEXT NOT NULL,
        folded TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE comment_reports (
        comment_id INTEGER NOT NULL REFERENCES comments (id),
        reporter_key TEXT NOT NULL,
        reason TEXT NOT NULL,
        reason_text TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        PRIMARY KEY (comment_id, reporter_key)
    );
    CREATE TABLE appeals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        comment_id INTEGER NOT NULL UNIQUE REFERENCES comments (id),
        broadcast_id INTEGER NOT NULL,
        author_key TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'reinstated')),
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX appeals_by_broadcast ON appeals (broadcast_id, status);
    """,
    # (abuse resistance) where a comment came from (`livechat.network.address_key`: an
    # IPv4 address or IPv6 /64; never shown or exported), so a timeout or ban can also bind
    # it for a while; who reported from which network block and with what weight, so the
    # hide threshold needs reporters that are not obviously one person.
    """
    ALTER TABLE comments ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE chat_restrictions ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    ALTER TABLE chat_restrictions ADD COLUMN origin_until TEXT;
    CREATE INDEX chat_restrictions_by_origin ON chat_restrictions (origin)
        WHERE lifted_at IS NULL AND origin != '';
    ALTER TABLE comment_reports ADD COLUMN network TEXT NOT NULL DEFAULT '';
    ALTER TABLE comment_reports ADD COLUMN weight REAL NOT NULL DEFAULT 1.0;
    """,
    # 3: signed-in authors (social sign-in): the provider mark shown beside their name, and
    # who may take part per broadcast (guests with a nickname, or signed-in accounts only;
    # "closed" is chat_settings.closed).
    """
    ALTER TABLE comments ADD COLUMN author_mark TEXT NOT NULL DEFAULT '';
    CREATE INDEX comments_by_author ON comments (author_key, id);
    CREATE TABLE comment_access (
        broadcast_id INTEGER PRIMARY KEY,
        accounts_only INTEGER NOT NULL DEFAULT 0,
        questions_need_account INTEGER NOT NULL DEFAULT 0,
        votes_need_account INTEGER NOT NULL DEFAULT 0
    );
    """,
)
