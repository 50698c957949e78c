"""Helpers for page tests: a broadcast row and a guest who can comment over HTTP."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol


class HttpClient(Protocol):
    def post(self, url: str, **kwargs: Any) -> Any: ...


def add_live_broadcast(db_path: Path, title: str = "서울시장과의 대화") -> int:
    """Insert a broadcast that is on air now (written straight to the schedule's table)."""
    now = datetime.now(UTC)
    with sqlite3.connect(db_path) as con:
        cur = con.execute(
            "INSERT INTO broadcasts (title, description, category, starts_at, ends_at, status,"
            " created_at, updated_at) VALUES (?, ?, 'talk', ?, ?, 'live', ?, ?)",
            (
                title,
                "시민과 함께하는 생방송",
                (now - timedelta(minutes=10)).isoformat(),
                (now + timedelta(hours=1)).isoformat(),
                now.isoformat(),
                now.isoformat(),
            ),
        )
        broadcast_id = cur.lastrowid
    assert broadcast_id is not None
    return broadcast_id


def guest(client: HttpClient, base: str = "", nickname: str = "시민") -> str:
    """Start a guest session on `client` (cookie kept by the client); return its CSRF token."""
    response = client.post(base + "/api/session", json={"nickname": nickname})
    assert response.status_code == 201, response.text
    token: str = response.json()["csrf_token"]
    return token


def post_comment(
    client: HttpClient,
    csrf: str,
    broadcast_id: int,
    text: str,
    base: str = "",
    question: bool = False,
) -> dict[str, Any]:
    """Post one comment through the HTTP API (same hub path as the WebSocket)."""
    response = client.post(
        f"{base}/api/broadcasts/{broadcast_id}/comments",
        json={"text": text, "client_id": uuid.uuid4().hex, "question": question},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body
