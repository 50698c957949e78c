"""`live-seoul import-schedule FILE` (filled in by the schedule work)."""

from __future__ import annotations

from pathlib import Path

from web.settings import Settings


async def run_import(settings: Settings, path: Path, *, dry_run: bool = False) -> int:
    raise NotImplementedError
