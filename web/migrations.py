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

# PostgreSQL: the final SQLite schema in one migration (db.migrate picks by engine), text
# compared byte-wise like SQLite (`COLLATE "C"`). `COLLATE NOCASE` on the username becomes
# a unique index on `lower(username)` (both fold ASCII letters only).
POSTGRES_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        id BIGSERIAL PRIMARY KEY,
        username TEXT COLLATE "C" NOT NULL,
        display_name TEXT COLLATE "C" NOT NULL,
        department TEXT COLLATE "C" NOT NULL DEFAULT '',
        role TEXT COLLATE "C" NOT NULL
            CHECK (role IN ('official', 'operator', 'moderator', 'admin')),
        password_hash TEXT COLLATE "C" NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX accounts_by_username ON accounts (lower(username));
    CREATE TABLE share_clicks (
        kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('live', 'replay', 'schedule')),
        target TEXT COLLATE "C" NOT NULL,
        network TEXT COLLATE "C" NOT NULL,
        clicks INTEGER NOT NULL DEFAULT 0,
        first_at TEXT COLLATE "C" NOT NULL,
        last_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (kind, target, network)
    );
    CREATE TABLE revoked_sessions (
        sid TEXT COLLATE "C" PRIMARY KEY,
        account_id BIGINT NOT NULL,
        revoked_at TEXT COLLATE "C" NOT NULL,
        expires_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
    CREATE TABLE session_epochs (
        account_id BIGINT PRIMARY KEY,
        epoch INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE push_subscriptions (
        endpoint TEXT COLLATE "C" PRIMARY KEY,
        p256dh TEXT COLLATE "C" NOT NULL,
        auth TEXT COLLATE "C" NOT NULL,
        session_key TEXT COLLATE "C",
        locale TEXT COLLATE "C" NOT NULL DEFAULT 'ko',
        created_at TEXT COLLATE "C" NOT NULL,
        expires_at TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_key);
    CREATE INDEX push_subscriptions_by_expiry ON push_subscriptions (expires_at);
    CREATE TABLE push_reminders (
        endpoint TEXT COLLATE "C" NOT NULL
            REFERENCES push_subscriptions (endpoint) ON DELETE CASCADE,
        kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('broadcast', 'question')),
        target BIGINT NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (endpoint, kind, target)
    );
    CREATE INDEX push_reminders_by_target ON push_reminders (kind, target);
    CREATE TABLE members (
        id BIGSERIAL PRIMARY KEY,  -- never reused: comments keep "m:<id>"
        display_name TEXT COLLATE "C" NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        consented_at TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE provider_links (
        provider TEXT COLLATE "C" NOT NULL,
        subject_key TEXT COLLATE "C" NOT NULL,
        member_id BIGINT REFERENCES members (id) ON DELETE CASCADE,
        account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
        linked_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (provider, subject_key),
        CHECK ((member_id IS NULL) <> (account_id IS NULL))
    );
    CREATE INDEX provider_links_by_member ON provider_links (member_id);
    CREATE INDEX provider_links_by_account ON provider_links (account_id);
    """,
)
