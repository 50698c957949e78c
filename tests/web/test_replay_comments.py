"""Comments replayed in sync: the window API, trimmed replays, replay-time comments."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from livechat import Identity, NewComment
from tests.replay.kit import add_broadcast, stores
from tests.web.pagekit import guest
from web.settings import Settings

VIEWER = Identity("g:v", "시민")


def seed(
    path: Path,
    *,
    trim: int = 0,
    live: dict[int, str],
    removed: tuple[int, ...] = (),
    minutes: int = 10,
) -> int:
    """A replay of a broadcast with live comments at the given broadcast seconds; the
    recording starts `trim` seconds into the broadcast."""

    async def run() -> int:
        async with stores(path) as s:
            broadcast = add_broadcast(path, "토론회", minutes=minutes)
            for second, text in live.items():
                at = broadcast.starts_at + timedelta(seconds=second)
                comment, _ = await s.comments.insert(
                    NewComment(
                        broadcast.id,
                        VIEWER,
                        f"c{second}",
                        text,
                        created_at=at.isoformat(timespec="microseconds"),
                    )
                )
                if second in removed:
                    await s.comments.set_status([comment.id], "removed")
            replay = await s.replays.create_from_broadcast(
                broadcast,
                recording_url="/r.m3u8",
                recording_started_at=broadcast.starts_at + timedelta(seconds=trim),
            )
            return replay.id

    return asyncio.run(run())


def window(client: TestClient, replay_id: int, start: float, end: float) -> list[tuple[float, str]]:
    response = client.get(f"/api/replays/{replay_id}/comments", params={"from": start, "to": end})
    assert response.status_code == 200, response.text
    return [(c["offset"], c["text"]) for c in response.json()["items"]]


def test_live_comments_land_at_their_offset(client: TestClient, settings: Settings) -> None:
    """A comment written 65 s into the broadcast is at 65 s of the replay, inside [60, 120)
    and not in [0, 60); the window end is exclusive."""
    replay_id = seed(settings.database_path, live={5: "처음", 65: "일분", 120: "이분"})
    assert window(client, replay_id, 60, 120) == [(65.0, "일분")]
    assert window(client, replay_id, 0, 60) == [(5.0, "처음")]
    assert window(client, replay_id, 0, 121) == [(5.0, "처음"), (65.0, "일분"), (120.0, "이분")]


def test_trimmed_replay_keeps_comments_on_the_recording(
    client: TestClient, settings: Settings
) -> None:
    """When the recording starts 5 minutes into the broadcast, a comment written at 5:30 of
    the broadcast is at 0:30 of the replay; comments from the cut part never show."""
    replay_id = seed(settings.database_path, trim=300, live={100: "잘린 부분", 330: "삼십초"})
    assert window(client, replay_id, 0, 60) == [(30.0, "삼십초")]
    assert window(client, replay_id, 0, 600) == [(30.0, "삼십초")]


def test_removed_comments_never_reappear(client: TestClient, settings: Settings) -> None:
    """A comment removed by a moderator is absent from every window."""
    replay_id = seed(settings.database_path, live={10: "보임", 20: "삭제됨"}, removed=(20,))
    assert window(client, replay_id, 0, 60) == [(10.0, "보임")]


def test_bad_window_times(client: TestClient, settings: Settings) -> None:
    """Negative, reversed, non-numeric, non-finite or over-long windows are 400 naming the
    parameter; a window past the end is clamped to the duration (10 minutes here)."""
    replay_id = seed(settings.database_path, live={599: "끝"})
    url = f"/api/replays/{replay_id}/comments"
    for params, field in [
        ({"from": "-1"}, "from"),
        ({"from": "x"}, "from"),
        ({"from": "10", "to": "5"}, "to"),
        ({"from": "0", "to": "601"}, "to"),
        ({"from": "nan"}, "from"),
        ({"from": "0", "to": "inf"}, "to"),
    ]:
        response = client.get(url, params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["field"] == field
    body = client.get(url, params={"from": 590, "to": 650}).json()
    assert (body["from"], body["to"]) == (590, 600)
    assert [c["text"] for c in body["items"]] == ["끝"]
    assert client.get(url, params={"from": 700}).json()["items"] == []
    assert client.get(url).json()["to"] == 60


def test_comment_posted_on_a_replay_is_replayed_at_its_offset(
    client: TestClient, settings: Settings
) -> None:
    """POST stores a comment at an offset through the hub; it shows in that window for
    everyone, and a retry with the same client_id is not stored twice."""
    replay_id = seed(settings.database_path, trim=60, live={90: "라이브"})
    csrf = guest(client, nickname="나중시청자")
    sent = client.post(
        f"/api/replays/{replay_id}/comments",
        headers={"X-CSRF-Token": csrf},
        json={"text": "다시보기 댓글", "offset": 42.5, "client_id": "r1"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["comment"]["offset"] == 42.5
    again = client.post(
        f"/api/replays/{replay_id}/comments",
        headers={"X-CSRF-Token": csrf},
        json={"text": "다시보기 댓글", "offset": 42.5, "client_id": "r1"},
    )
    assert again.status_code == 200
    with TestClient(client.app) as later:
        assert window(later, replay_id, 0, 60) == [(30.0, "라이브"), (42.5, "다시보기 댓글")]


def test_replay_comment_offset_survives_a_later_trim(
    client: TestClient, settings: Settings
) -> None:
    """A comment written at 0:40 of an untrimmed replay sits at 0:10 once the operator trims
    the first 30 seconds: it stays with the moment it was about."""
    path = settings.database_path
    replay_id = seed(path, live={})
    csrf = guest(client)
    client.post(
        f"/api/replays/{replay_id}/comments",
        headers={"X-CSRF-Token": csrf},
        json={"text": "이 장면", "offset": 40, "client_id": "t1"},
    )

    async def trim() -> None:
        from replay import ReplayEdit

        async with stores(path) as s:
            replay = await s.replays.get(replay_id)
            assert replay is not None
            started: datetime = replay.recording_started_at + timedelta(seconds=30)
            await s.replays.update(replay_id, ReplayEdit(recording_started_at=started))

    asyncio.run(trim())
    assert window(client, replay_id, 0, 60) == [(10.0, "이 장면")]


def test_bad_replay_comments(client: TestClient, settings: Settings) -> None:
    """No session is 401, no CSRF 403; bad offset, client_id or text are 400 naming them."""
    replay_id = seed(settings.database_path, live={}, minutes=1)
    url = f"/api/replays/{replay_id}/comments"
    assert client.post(url, json={"text": "x", "offset": 1, "client_id": "a"}).status_code == 401
    csrf = guest(client)
    assert client.post(url, json={"text": "x", "offset": 1, "client_id": "a"}).status_code == 403
    for body, field in [
        ({"text": "x", "offset": -1, "client_id": "a"}, "offset"),
        ({"text": "x", "offset": 61, "client_id": "a"}, "offset"),
        ({"text": "x", "offset": "1", "client_id": "a"}, "offset"),
        ({"text": "x", "offset": True, "client_id": "a"}, "offset"),
        ({"text": "x", "offset": 1, "client_id": "a b"}, "client_id"),
        ({"text": "", "offset": 1, "client_id": "a"}, "text"),
    ]:
        response = client.post(url, json=body, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 400, body
        assert response.json()["error"]["field"] == field
