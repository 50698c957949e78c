from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.settings import Settings, SettingsError, documented_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    """docs/settings.md has a row for every setting, and no row for a removed one."""
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.M))
    declared = {env for env, _, _ in documented_settings()}
    assert declared - documented == set(), "settings missing from docs/settings.md"
    assert documented - declared == set(), "docs/settings.md names unknown settings"


def test_every_setting_has_help() -> None:
    """Every field carries help text."""
    assert all(help.strip() for _, _, help in documented_settings())


def test_from_env_parses_types_and_rejects_nonsense() -> None:
    """Numbers, booleans and lists are parsed; a bad value names its variable."""
    s = Settings.from_env(
        {
            "PORT": "9000",
            "LIVE_SEOUL_DEMO": "yes",
            "ALLOWED_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert (s.port, s.demo, s.allowed_origins) == (
        9000,
        True,
        ("https://a.example", "https://b.example"),
    )
    with pytest.raises(SettingsError, match="PORT"):
        Settings.from_env({"PORT": "eighty"})
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.from_env({"REDIS_URL": "http://nope"})


def test_secret_is_hidden_in_repr() -> None:
    """The secret key never appears in a repr (logs, tracebacks)."""
    assert "hunter2-secret" not in repr(Settings(secret_key="hunter2-secret"))


def test_generated_secret_is_shared_through_the_database_folder(tmp_path: Path) -> None:
    """Without SECRET_KEY, workers share one key kept beside the database file."""
    s = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}")
    first, second = s.with_secret(), s.with_secret()
    assert first.secret_key and first.secret_key == second.secret_key
    assert (tmp_path / "a.db.secret").stat().st_mode & 0o777 == 0o600


def test_database_url_names_either_engine(tmp_path: Path) -> None:
    """PostgreSQL URLs are accepted, need SECRET_KEY (every host signs with it) and keep
    their files in DATA_DIR; SQLite keeps them beside its file; other URLs are refused."""
    pg_env = {
        "DATABASE_URL": "postgresql://u@h/d",
        "DATA_DIR": str(tmp_path),
        "DATABASE_POOL_SIZE": "4",
        "DATABASE_STATEMENT_CACHE_SIZE": "0",
    }
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.from_env(pg_env)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({**pg_env, "REDIS_URL": "redis://h:6379/0"})
    pg = Settings.from_env({**pg_env, "REDIS_URL": "redis://h:6379/0", "SECRET_KEY": "k"})
    assert (pg.database_pool_size, pg.database_statement_cache_size) == (4, 0)
    assert pg.with_secret().secret_key == "k"
    assert pg.thumbnails_path == tmp_path / "live-seoul.thumbnails"
    with pytest.raises(SettingsError, match="PostgreSQL"):
        pg.database_path  # noqa: B018
    lite = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    assert lite.thumbnails_path == tmp_path / "a.db.thumbnails"
    assert lite.with_secret().secret_key == (tmp_path / "a.db.secret").read_text().strip()
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        Settings.from_env({"DATABASE_URL": "mysql://u@h/d"})
    with pytest.raises(SettingsError, match="DATABASE_POOL_SIZE"):
        Settings.from_env({"DATABASE_POOL_SIZE": "0"})
