"""The layers hold: import-linter's contracts in .importlinter are all kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    """web on top, schedule and livechat alone, plugins above the hub: no contract broken.

    In a process of its own: import-linter reconfigures logging in the process it runs in,
    which silenced later tests' log capture."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports;"
            " raise SystemExit(lint_imports(config_filename='.importlinter', no_cache=True,"
            " no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
