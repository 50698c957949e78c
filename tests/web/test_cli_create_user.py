"""`live-seoul create-user` run the way scripts run it: no terminal, maybe no password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, TIMEOUT


def create_user(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "LIVE_SEOUL_PASSWORD"}
    environ.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "create-user", "kim", "--role", "operator"],
        cwd=ROOT,
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )


def test_no_terminal_and_no_password_variable_is_a_clear_refusal(tmp_path: Path) -> None:
    """Without a terminal and without LIVE_SEOUL_PASSWORD: one line naming the variable,
    exit status 2, no traceback."""
    done = create_user(tmp_path)
    assert done.returncode == 2
    assert "LIVE_SEOUL_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_password_variable_creates_the_account(tmp_path: Path) -> None:
    """With LIVE_SEOUL_PASSWORD the account is created, also for the operator role."""
    done = create_user(tmp_path, LIVE_SEOUL_PASSWORD="long enough password")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("created operator kim")


def test_short_password_is_refused_in_words(tmp_path: Path) -> None:
    """A short password is refused with the field and the rule, exit status 2."""
    done = create_user(tmp_path, LIVE_SEOUL_PASSWORD="short")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: password: at least 10 characters"
