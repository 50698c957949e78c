"""Tables of the question track, as numbered migrations (migration n at index n-1).

Registered in `web.database.PACKAGE_MIGRATIONS` as `livechat.questions`, after `livechat`,
because every question *is* a comment (`questions.comment_id` references `comments.id`):
moderating the comment (held, removed) hides the question too.

`votes` is the count of `question_votes` rows, kept in the same transaction as the vote
itself; `version` grows with every change of a question, so a client holding two updates
keeps the newer one whatever order they arrived in.
"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE questions (
        comment_id INTEGER PRIMARY KEY REFERENCES comments (id),
        broadcast_id INTEGER NOT NULL,
        asker_key TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN
            ('open', 'answered', 'forwarded', 'will_reflect', 'not_in_remit')),
        status_note TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        votes INTEGER NOT NULL DEFAULT 0 CHECK (votes >= 0),
        answered_by TEXT NOT NULL DEFAULT '',
        answered_by_key TEXT NOT NULL DEFAULT '',
        answer_role TEXT NOT NULL DEFAULT '',
        answer_department TEXT NOT NULL DEFAULT '',
        answer_text TEXT NOT NULL DEFAULT '',
        answer_comment_id INTEGER REFERENCES comments (id),
        answered_at TEXT,
        version INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX questions_by_broadcast ON questions (broadcast_id, comment_id);
    CREATE INDEX questions_by_department ON questions (department);
    CREATE TABLE question_votes (
        comment_id INTEGER NOT NULL REFERENCES questions (comment_id),
        voter_key TEXT NOT NULL,
        voted_at TEXT NOT NULL,
        PRIMARY KEY (comment_id, voter_key)
    ) WITHOUT ROWID;
    CREATE TABLE question_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        comment_id INTEGER NOT NULL REFERENCES questions (comment_id),
        broadcast_id INTEGER NOT NULL,
        from_status TEXT NOT NULL,
        to_status TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        actor_key TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'status' CHECK (kind IN ('status', 'answer')),
        at TEXT NOT NULL
    );
    CREATE INDEX question_events_by_question ON question_events (comment_id, id);
    CREATE TABLE question_follows (
        session_key TEXT NOT NULL,
        comment_id INTEGER NOT NULL REFERENCES questions (comment_id),
        last_seen_status TEXT NOT NULL,
        last_seen_event INTEGER NOT NULL DEFAULT 0,
        followed_at TEXT NOT NULL,
        PRIMARY KEY (session_key, comment_id)
    ) WITHOUT ROWID;
    """,
)
