"""`live-seoul import-schedule`: CSV or JSON, validated, all or nothing, line numbers."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, TIMEOUT, seed_broadcast
from web.schedule.importer import run_import
from web.settings import Settings

HEADER = "title,category,starts_at,ends_at,description,staff\n"


def count(settings: Settings) -> int:
    with sqlite3.connect(settings.database_path) as con:
        value: int = con.execute("SELECT count(*) FROM broadcasts").fetchone()[0]
    con.close()
    return value


async def run(settings: Settings, path: Path, dry_run: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_import(settings, path, dry_run=dry_run, out=out)
    return code, out.getvalue()


async def test_good_csv_is_imported(settings: Settings, tmp_path: Path) -> None:
    """A clean CSV is written, staff split on ';', and the report counts it."""
    path = tmp_path / "week.csv"
    path.write_text(
        HEADER + "확대간부회의,회의,2027-03-02T09:00:00+09:00,2027-03-02T10:30:00+09:00,"
        '"주요 현안, 공유",서울시장; 행정1부시장\n'
        + "버스 노선 개편안 발표,기자설명회,2027-03-02T11:00:00+09:00,"
        "2027-03-02T11:40:00+09:00,,교통정책과장\n",
        encoding="utf-8",
    )
    code, report = await run(settings, path)
    assert (code, report.strip()) == (0, "2 broadcast(s) imported")
    with sqlite3.connect(settings.database_path) as con:
        rows = con.execute("SELECT title, staff, starts_at FROM broadcasts ORDER BY id").fetchall()
    con.close()
    assert rows[0] == (
        "확대간부회의",
        '["서울시장", "행정1부시장"]',
        "2027-03-02T00:00:00.000000+00:00",
    )


async def test_bad_csv_reports_every_line_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """Bad rows are each reported with their line (multi-line cells counted), overlaps
    name the other line or stored broadcast, and nothing at all is written."""
    seed_broadcast(settings.database_path, 7, title="기존 방송", status="planned")
    with sqlite3.connect(settings.database_path) as con:
        con.execute(
            "UPDATE broadcasts SET starts_at = '2027-03-03T00:00:00+00:00',"
            " ends_at = '2027-03-03T01:00:00+00:00' WHERE id = 7"
        )
    con.close()
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "좋은 방송,회의,2027-03-02T09:00:00+09:00,2027-03-02T10:00:00+09:00,"
        '"설명 첫 줄\n설명 둘째 줄",\n'  # lines 2-3
        + ",회의,2027-03-02T11:00:00+09:00,2027-03-02T10:00:00+09:00,,\n"  # line 4
        + "겹치는 방송,회의,2027-03-02T09:30:00+09:00,2027-03-02T09:50:00+09:00,,\n"  # line 5
        + "기존과 겹침,회의,2027-03-03T09:30:00+09:00,2027-03-03T10:30:00+09:00,,\n"  # line 6
        + "일 먼저,회의,4/3/2027 09:00,2027-03-04T10:00:00+09:00,,\n",  # line 7
        encoding="utf-8",
    )
    before = count(settings)
    code, report = await run(settings, path)
    assert code == 2
    lines = report.strip().splitlines()
    assert lines[:4] == [
        "line 4: title: required",
        "line 4: ends_at: must be after starts_at",
        'line 5: starts_at: overlaps line 2 "좋은 방송"',
        'line 6: starts_at: overlaps broadcast 7 "기존 방송" (2027-03-03 09:00–10:00 Seoul time)',
    ]
    assert lines[4].startswith("line 7: starts_at: write the year first")
    assert lines[-1] == "import refused: 5 problem(s) in 4 row(s) of 5; nothing was written"
    assert count(settings) == before


async def test_json_with_line_numbers_and_dry_run(settings: Settings, tmp_path: Path) -> None:
    """JSON items are reported by the line they start on; --dry-run writes nothing."""
    items = [
        {
            "title": "청년 정책 타운홀",
            "category": "시민참여",
            "starts_at": "2027-03-05T19:00:00+09:00",
            "ends_at": "2027-03-05T20:30:00+09:00",
            "staff": ["서울시장"],
        },
        {
            "title": "x" * 200,
            "category": "시민참여",
            "starts_at": "2027-03-06T19:00:00+09:00",
            "ends_at": "2027-03-06T20:00:00+09:00",
        },
    ]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
    code, report = await run(settings, path)
    assert code == 2 and report.startswith("line 11: title: at most 120 characters")
    path.write_text(json.dumps(items[:1], ensure_ascii=False, indent=2), encoding="utf-8")
    code, report = await run(settings, path, dry_run=True)
    assert (code, count(settings)) == (0, 0) and "dry run" in report
    assert (await run(settings, path))[0] == 0 and count(settings) == 1
    path.write_text('[\n  {"title": "a",\n   "category": }\n]', encoding="utf-8")
    code, report = await run(settings, path)
    assert code == 2 and report.startswith("line 3: file: invalid JSON")


async def test_unknown_columns_and_missing_files(settings: Settings, tmp_path: Path) -> None:
    """An unknown CSV column and a missing file are refused with exit status 2."""
    path = tmp_path / "odd.csv"
    path.write_text("title,colour\n회의,red\n", encoding="utf-8")
    code, report = await run(settings, path)
    assert code == 2 and report.startswith("line 1: file: unknown column(s): colour")
    assert (await run(settings, tmp_path / "missing.csv"))[0] == 2


def test_cli_exit_codes(tmp_path: Path) -> None:
    """The real `live-seoul import-schedule` exits 2 with the report, then 0 when fixed."""
    db = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "k"}
    path = tmp_path / "in.csv"
    path.write_text(
        HEADER + "회의,회의,2027-03-02T09:00:00+09:00,2027-03-02T08:00:00+09:00,,\n",
        encoding="utf-8",
    )
    args = [sys.executable, "-m", "web.cli", "import-schedule", str(path)]
    bad = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT * 3
    )
    assert bad.returncode == 2 and "line 2: ends_at: must be after starts_at" in bad.stdout
    path.write_text(
        HEADER + "회의,회의,2027-03-02T09:00:00+09:00,2027-03-02T10:00:00+09:00,,\n",
        encoding="utf-8",
    )
    good = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT * 3
    )
    assert good.returncode == 0, good.stdout + good.stderr


async def test_spreadsheet_times_are_seoul_time_and_bad_ones_are_numbered(
    settings: Settings, tmp_path: Path
) -> None:
    """Offset-less spreadsheet times import as Seoul time; a day-first date is refused with
    its line and nothing of the file is written."""
    path = tmp_path / "sheet.csv"
    path.write_text(
        HEADER
        + "아침 회의,회의,2027/03/02 09:00,2027/03/02 10:30,,\n"
        + "점심 설명회,기자설명회,2027.03.02 오전 11:00:00,2027.03.02 11:40,,\n",
        encoding="utf-8",
    )
    code, report = await run(settings, path)
    assert (code, report.strip()) == (0, "2 broadcast(s) imported")
    with sqlite3.connect(settings.database_path) as con:
        starts = [r[0] for r in con.execute("SELECT starts_at FROM broadcasts ORDER BY id")]
    con.close()
    assert starts == ["2027-03-02T00:00:00.000000+00:00", "2027-03-02T02:00:00.000000+00:00"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "저녁 토론,정책토론,2027-03-04 19:00,2027-03-04 20:00,,\n"
        + "밤 토론,정책토론,3/4/2027 21:00,2027-03-04 22:00,,\n",
        encoding="utf-8",
    )
    code, report = await run(settings, bad)
    assert code == 2
    assert report.splitlines()[0].startswith("line 3: starts_at: write the year first")
    assert count(settings) == 2
