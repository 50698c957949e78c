"""The signed-in member's session check: one read per request and socket message.

    python3 -m bench.session_check              # 100k members, 5 runs of 5,000 checks
    python3 -m bench.session_check --members 1000 --checks 20000

`SessionCodec.load` asks `web.accounts.members.member_name` whether a member still exists (and
its current name) on every request and every socket message of a member, so that
deleting an account ends every copy of its cookie at once. It reads on a connection kept
per database file and thread. The baseline, in the same run, opens a connection per check
(what `staff_session_live` does for staff): the same query, and the same answer (checked).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from web.accounts.members import close_member_readers, member_name
from web.database import migrate


def per_check_connection(db: Path, member_id: int) -> str | None:
    conn = sqlite3.connect(db, timeout=0.5, isolation_level=None)
    try:
        row = conn.execute("SELECT display_name FROM members WHERE id = ?"
                           " AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = ?)",
                           (member_id, "")).fetchone()
    finally:
        conn.close()
    return str(row[0]) if row else None


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--members", type=int, default=100_000)
    args.add_argument("--checks", type=int, default=5_000)
    args.add_argument("--runs", type=int, default=5)
    opts = args.parse_args()
    db = Path(tempfile.mkdtemp(prefix="bench-session-")) / "bench.db"
    migrate(db)
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO members (display_name, created_at, consented_at) VALUES (?, '', '')",
            ((f"시민{i}",) for i in range(opts.members)))
    conn.close()
    rng = random.Random(7)
    ids = [rng.randrange(1, opts.members + 1) for _ in range(opts.checks)]
    for i in ids[:100]:
        assert member_name(db, i) == per_check_connection(db, i)
    print(f"{opts.members:,} members, {opts.checks:,} checks per run, {opts.runs} runs")
    for label, check in (("kept connection", member_name),
                         ("baseline: connection per check", per_check_connection)):
        times = []
        for _ in range(opts.runs):
            start = time.perf_counter()
            for i in ids:
                check(db, i)
            times.append((time.perf_counter() - start) / len(ids) * 1e6)
        print(f"{label:32} median {statistics.median(times):8.1f} µs/check"
              f"  (min {min(times):.1f}, max {max(times):.1f})")
    close_member_readers(db)


if __name__ == "__main__":
    main()
