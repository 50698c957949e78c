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
    # 4: people who sign in with a provider (members) and the provider identities linked to
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
