"""`live-seoul import-schedule FILE`: broadcasts from CSV or JSON, all or nothing.

CSV: a header row naming the columns (`title`, `category`, `starts_at`, `ends_at`, and
optionally `description`, `stream_url`, `thumbnail_url`, `staff` — names separated by
`;`). JSON: an array of objects with the same keys (`staff` a list). Times are Seoul
time unless they carry an offset, in the spellings spreadsheets export (`2026-12-05 10:00`,
`2026/12/05 10:00`, `2026.12.05 10:00`, `2026-12-05 오후 3:00:00`, an Excel serial day) or
ISO 8601 (`2026-11-25T14:00:00+09:00`); see `schedule.wall_clock`.

Every row is validated and checked against the other rows and the stored schedule; the
report names the line of every bad row. Only a clean file is written, in one transaction.
Exit status: 0 imported (or valid, with `--dry-run`), 2 refused.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from schedule import (
    BatchError,
    BroadcastDraft,
    BroadcastError,
    FieldError,
    ScheduleStore,
    find_overlap,
    parse_draft,
)
from schedule.broadcast import KNOWN_FIELDS, Broadcast, overlap_message
from web.database import open_migrated
from web.settings import Settings

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
OK, INVALID = 0, 2


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class FileError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(line, "file", message)


def read_csv(text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in KNOWN_FIELDS]
    if not header:
        raise FileError(1, "empty file: expected a header row")
    if unknown:
        raise FileError(
            1, f"unknown column(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_FIELDS))}"
        )
    rows: list[Row] = []
    start = reader.line_num + 1
    for record in reader:
        if None in record:
            raise FileError(start, "more values than columns")
        values = {k: v for k, v in record.items() if v not in (None, "")}
        if values:
            rows.append(Row(start, values))
        start = reader.line_num + 1
    return rows


def read_json(text: str) -> list[Row]:
    """Items of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    pos = skip(0)
    if pos >= len(text) or text[pos] != "[":
        raise FileError(line_of(pos), "expected a JSON array of broadcasts")
    pos = skip(pos + 1)
    rows: list[Row] = []
    if pos < len(text) and text[pos] == "]":
        return rows
    while True:
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise FileError(exc.lineno, f"invalid JSON: {exc.msg}") from None
        if not isinstance(item, dict):
            raise FileError(line_of(pos), "each broadcast must be a JSON object")
        rows.append(Row(line_of(pos), item))
        pos = skip(end)
        if pos < len(text) and text[pos] == ",":
            pos = skip(pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if skip(pos + 1) != len(text):
                raise FileError(line_of(pos), "unexpected text after the array")
            return rows
        raise FileError(line_of(pos), "expected , or ] after a broadcast")


def read_rows(path: Path) -> list[Row]:
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise FileError(1, f"file larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileError(line, "not UTF-8 text") from None
    suffix = path.suffix.lower()
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip().startswith("["))
    rows = read_json(text) if is_json else read_csv(text)
    if len(rows) > MAX_ROWS:
        raise FileError(1, f"at most {MAX_ROWS} broadcasts per file")
    return rows


def validate(rows: list[Row]) -> tuple[list[tuple[Row, BroadcastDraft]], list[Problem]]:
    """Drafts of the good rows, and every problem (fields, then overlaps within the file)."""
    problems: list[Problem] = []
    good: list[tuple[Row, BroadcastDraft]] = []
    for row in rows:
        try:
            good.append((row, parse_draft(row.data)))
        except BroadcastError as exc:
            problems.extend(Problem(row.line, e.field, e.message) for e in exc.errors)
    placed: list[Broadcast] = []
    lines: dict[int, int] = {}
    for index, (row, d) in enumerate(sorted(good, key=lambda item: item[1].starts_at)):
        other = find_overlap(d.starts_at, d.ends_at, placed)
        if other is not None:
            problems.append(
                Problem(row.line, "starts_at", f'overlaps line {lines[other.id]} "{other.title}"')
            )
            continue
        stand_in = Broadcast(index + 1, d.title, "", d.category, d.starts_at, d.ends_at)
        placed.append(stand_in)
        lines[stand_in.id] = row.line
    return good, sorted(problems, key=lambda p: p.line)


async def _against_store(
    store: ScheduleStore, good: list[tuple[Row, BroadcastDraft]], write: bool
) -> list[Problem]:
    drafts = [d for _, d in good]
    if write:
        try:
            await store.create_many(drafts)
        except BatchError as exc:
            return [Problem(good[i][0].line, e.field, e.message) for i, e in exc.problems]
        return []
    problems = []
    for row, d in good:
        stored = await store.between(d.starts_at, d.ends_at)
        other = find_overlap(d.starts_at, d.ends_at, stored)
        if other is not None:
            problems.append(Problem(row.line, "starts_at", overlap_message(other)))
    return problems


async def run_import(
    settings: Settings, path: Path, *, dry_run: bool = False, out: TextIO | None = None
) -> int:
    """Import `path` into the database of `settings`; print a report; 0 ok, 2 refused."""
    stream = out or sys.stdout
    try:
        rows = read_rows(path)
    except FileError as exc:
        print(exc.problem, file=stream)
        print("import refused: nothing was written", file=stream)
        return INVALID
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=stream)
        return INVALID
    good, problems = validate(rows)
    database = await open_migrated(settings)
    try:
        store = ScheduleStore(database)
        # Read-only first, so the report lists every bad row; then the write re-checks
        # inside its transaction (a broadcast booked meanwhile still refuses the file).
        problems = sorted(
            [*problems, *await _against_store(store, good, write=False)], key=lambda p: p.line
        )
        if not problems and not dry_run:
            problems = await _against_store(store, good, write=True)
    finally:
        await database.close()
    if problems:
        for problem in problems:
            print(problem, file=stream)
        bad_lines = len({p.line for p in problems})
        print(
            f"import refused: {len(problems)} problem(s) in {bad_lines} row(s) of "
            f"{len(rows)}; nothing was written",
            file=stream,
        )
        return INVALID
    verb = "valid (dry run, nothing written)" if dry_run else "imported"
    print(f"{len(rows)} broadcast(s) {verb}", file=stream)
    return OK


__all__ = ["FieldError", "Problem", "read_rows", "run_import", "validate"]
