"""Tables owned by `web`: staff accounts, share-click counts."""

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
)
