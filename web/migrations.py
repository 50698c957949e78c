"""Tables owned by `web`: staff accounts and their revoked sessions, share-click counts."""

MIGRATIONS: tuple[str, ...] = (
    # 1: staff accounts (guests have no row; their identity lives in the signed cookie)
    """
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name TEXT NOT NULL,
        department TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL CHECK (role IN ('official', 'moderator', 'admin')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: share clicks, counted per page and network (no visitor data: a counter only)
    """
    CREATE TABLE share_clicks (
        kind TEXT NOT NULL CHECK (kind IN ('live', 'replay', 'schedule')),
        target TEXT NOT NULL,
        network TEXT NOT NULL,
        clicks INTEGER NOT NULL DEFAULT 0,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL,
        PRIMARY KEY (kind, target, network)
    ) WITHOUT ROWID;
    """,
    # 3: staff sessions ended by logout. The cookie stays validly signed until it expires,
    # so its sid is kept here until then (`expires_at`, pruned on the next logout).
    """
    CREATE TABLE revoked_sessions (
        sid TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL,
        revoked_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
    """,
    # 4: a staff account's session epoch: cookies carry the epoch they were signed in;
    # disabling the account or changing its role or password raises it, ending them all.
    """
    CREATE TABLE session_epochs (
        account_id INTEGER PRIMARY KEY,
        epoch INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 5: Web Push subscriptions and the reminders each one asked for (web.push.store). A
    # subscription expires unless renewed; the push service's 404/410 deletes it at once.
    """
    CREATE TABLE push_subscriptions (
        endpoint TEXT PRIMARY KEY,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        session_key TEXT,
        locale TEXT NOT NULL DEFAULT 'ko',
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_key);
    CREATE INDEX push_subscriptions_by_expiry ON push_subscriptions (expires_at);
    CREATE TABLE push_reminders (
        endpoint TEXT NOT NULL REFERENCES push_subscriptions (endpoint) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('broadcast', 'question')),
        target INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (endpoint, kind, target)
    ) WITHOUT ROWID;
    CREATE INDEX push_reminders_by_target ON push_reminders (kind, target);
    """,
    # 6: the `operator` role (the schedule desk). Only the CHECK constraint changes, so the
    # stored table definition is edited in place — SQLite's documented procedure for
    # changing a CHECK ("ALTER TABLE", section 7) — which keeps every column and row as
    # they are, whichever other migration added columns. The throwaway table bumps the
    # schema cookie so every open connection re-reads the definition.
    """
    PRAGMA writable_schema = ON;
    UPDATE sqlite_schema SET sql = replace(sql,
        "CHECK (role IN ('official', 'moderator', 'admin'))",
        "CHECK (role IN ('official', 'operator', 'moderator', 'admin'))")
        WHERE type = 'table' AND name = 'accounts';
    PRAGMA writable_schema = OFF;
    CREATE TABLE operator_role_schema_bump (x);
    DROP TABLE operator_role_schema_bump;
    """,
    # 7: people who sign in with a provider (members) and the provider identities linked to
    # a member or, linked by an admin, to a staff account. The provider's subject is kept
    # only as an HMAC under SECRET_KEY (`subject_key`); no e-mail, no real name.
    """
    CREATE TABLE members (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: comments keep "m:<id>"
        display_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        consented_at TEXT NOT NULL
    );
    CREATE TABLE provider_links (
        provider TEXT NOT NULL,
        subject_key TEXT NOT NULL,
        member_id INTEGER REFERENCES members (id) ON DELETE CASCADE,
        account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
        linked_at TEXT NOT NULL,
        PRIMARY KEY (provider, subject_key),
        CHECK ((member_id IS NULL) <> (account_id IS NULL))
    ) WITHOUT ROWID;
    CREATE INDEX provider_links_by_member ON provider_links (member_id);
    CREATE INDEX provider_links_by_account ON provider_links (account_id);
    """,
)
