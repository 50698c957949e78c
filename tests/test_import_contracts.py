"""The layers hold: import-linter's contracts in .importlinter are all kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """web on top, schedule and livechat alone, plugins above the hub: no contract broken."""
    monkeypatch.chdir(ROOT)
    assert os.path.exists(".importlinter")
    assert lint_imports(config_filename=".importlinter", no_cache=True, no_logo=True) == 0
