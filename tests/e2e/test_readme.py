"""The README's two commands stay true."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, TIMEOUT, free_port, wait_for

pytestmark = pytest.mark.e2e


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_opens_with_two_commands_and_ci_runs_the_second() -> None:
    """The first two code blocks are install-and-run and install-and-test; CI runs the
    latter."""
    run, test = readme_commands()[:2]
    assert run == "python3 -m pip install -e . && live-seoul serve --demo"
    assert test == "./scripts/test"
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_serve_demo_shows_todays_channel_with_something_live(tmp_path: Path) -> None:
    """`live-seoul serve --demo` (as the README runs it, in a fresh folder) serves the home
    page and an /api/now that names a live broadcast."""
    exe = shutil.which("live-seoul")
    assert exe is not None, "the console script is installed by `pip install -e .`"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL")
    }
    env.update(PORT=str(port), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    proc = subprocess.Popen(
        [exe, "serve", "--demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:

        def up() -> bool:
            assert proc.poll() is None, "serve exited"
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).is_success
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=TIMEOUT * 6, what="live-seoul serve --demo")
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=TIMEOUT)
        assert home.status_code == 200 and "라이브서울" in home.text
        now = httpx.get(f"http://127.0.0.1:{port}/api/now", timeout=TIMEOUT).json()
        assert "live" in str(now)
        assert (tmp_path / "live-seoul.db").exists()  # the embedded default database
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=TIMEOUT).json()
        assert ready["ready"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(TIMEOUT * 2)
