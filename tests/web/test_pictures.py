"""Pictures made on the server: share previews (Pillow, Noto Sans CJK) wired into the
pages' og:image / twitter:image, and replay thumbnails (a frame taken with ffmpeg, or a
drawn card). Every image is decoded and looked at."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from pathlib import Path

from PIL import Image, ImageStat
from starlette.testclient import TestClient

from replay import ReplayEdit
from tests.replay.kit import stores
from tests.support import seed_broadcast
from tests.web.test_replay_api import add_operator, login
from web.app import create_app
from web.rendering.preview_card import HEIGHT, WIDTH
from web.settings import Settings

DEMO_MEDIA = "/static/media/demo-replay/index.m3u8"  # 180 s of real H.264 HLS, committed


def add_replay(path: Path, title: str, recording: str, **kw: object) -> int:
    async def run() -> int:
        async with stores(path) as s:
            replay_id = await s.publish(title, **kw)
            await s.replays.update(
                replay_id, ReplayEdit(recording_url=recording, duration_seconds=180)
            )
            return replay_id

    return asyncio.run(run())


def meta(page: str, name: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', page)
    assert found, name
    return found.group(1).replace("&amp;", "&")


def decode(body: bytes, fmt: str, size: tuple[int, int]) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    assert (image.format, image.size) == (fmt, size)
    return image.convert("RGB")


def inked(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """The share of near-white pixels (drawn text) in `box`."""
    region = image.crop(box).convert("L")
    hist = region.histogram()
    return sum(hist[200:]) / (region.width * region.height)


def test_replay_preview_is_drawn_and_in_the_meta(client: TestClient, settings: Settings) -> None:
    """A replay page's og:image and twitter:image name its own 1200×630 PNG; the PNG
    decodes, and its title and date lines hold drawn text; a second request is the same
    cached picture."""
    replay_id = add_replay(
        settings.database_path, "청책토론회: 보행 친화 도시 서울", DEMO_MEDIA, category="정책토론"
    )
    page = client.get(f"/replays/{replay_id}").text
    image_url = meta(page, "og:image")
    assert re.fullmatch(
        rf"http://testserver/og/replays/{replay_id}\.png\?v=[0-9a-f]{{12}}", image_url
    )
    assert meta(page, "twitter:image") == image_url
    assert meta(page, "twitter:card") == "summary_large_image"
    response = client.get(image_url.removeprefix("http://testserver"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert "max-age" in response.headers["cache-control"]
    image = decode(response.content, "PNG", (WIDTH, HEIGHT))
    assert inked(image, (80, 262, 1120, 360)) > 0.03  # the title's first line
    assert inked(image, (80, HEIGHT - 92, 700, HEIGHT - 40)) > 0.01  # the date line
    assert inked(image, (80, 400, 1120, 520)) < 0.001  # a one-line title leaves this empty
    assert client.get(image_url.removeprefix("http://testserver")).content == response.content


def test_broadcast_preview_follows_its_status(client: TestClient, settings: Settings) -> None:
    """A live page's preview says its status: when the broadcast ends, the page's
    og:image URL changes (crawlers fetch the new picture) and the picture differs."""
    seed_broadcast(settings.database_path, 1, title="서울시장과의 대화")
    add_operator(settings.database_path)
    before = meta(client.get("/live/1").text, "og:image")
    assert "/og/live/1.png?v=" in before
    first = client.get(before.removeprefix("http://testserver")).content
    decode(first, "PNG", (WIDTH, HEIGHT))
    csrf = {"X-CSRF-Token": login(client)}
    assert client.post("/api/broadcasts/1/end", headers=csrf, json={}).status_code == 200
    after = meta(client.get("/live/1").text, "og:image")
    assert after != before
    second = client.get(after.removeprefix("http://testserver")).content
    assert (
        decode(second, "PNG", (WIDTH, HEIGHT)).tobytes()
        != decode(first, "PNG", (WIDTH, HEIGHT)).tobytes()
    )
    assert client.get("/og/live/999.png").status_code == 404


def test_missing_font_falls_back_to_the_generic_cards(settings: Settings, tmp_path: Path) -> None:
    """Without Noto Sans CJK the meta names the committed generic card and the preview
    URL redirects there; nothing fails."""
    replay_id = add_replay(settings.database_path, "교통정책 토론회", "/media/none.m3u8")
    bare = dataclasses.replace(settings, preview_font_dir=str(tmp_path / "no-fonts"))
    with TestClient(create_app(bare)) as client:
        assert client.app_state["services"].pictures.fonts is None
        image_url = meta(client.get(f"/replays/{replay_id}").text, "og:image")
        assert re.fullmatch(r"http://testserver/static/og/replay\.png\?v=\w+", image_url)
        moved = client.get(f"/og/replays/{replay_id}.png", follow_redirects=False)
        assert moved.status_code == 307 and "/static/og/replay.png" in moved.headers["location"]
        card = client.get(f"/og/replays/{replay_id}.png")
        decode(card.content, "PNG", (WIDTH, HEIGHT))


def test_thumbnail_is_a_frame_of_the_recording(client: TestClient, settings: Settings) -> None:
    """With ffmpeg, the catalog card shows a frame of the recording (stored once in
    THUMBNAIL_DIR); choosing another second (PATCH thumbnail_seconds) shows another
    frame under a new URL."""
    replay_id = add_replay(settings.database_path, "교통정책 토론회", DEMO_MEDIA)
    catalog = client.get("/replays").text
    src = re.search(rf'src="(/replays/{replay_id}/thumbnail\.jpg\?v=\d+)"', catalog)
    assert src, "the card links its thumbnail"
    first = client.get(src.group(1))
    assert first.headers["content-type"] == "image/jpeg"
    frame = decode(first.content, "JPEG", (480, 270))
    stored = list(settings.thumbnails_path.glob(f"{replay_id}-*.jpg"))
    assert [p.read_bytes() for p in stored] == [first.content]
    # ffmpeg's test pattern: saturated colour bars, nothing like the drawn card's blue
    assert max(ImageStat.Stat(frame).stddev) > 60
    add_operator(settings.database_path)
    csrf = {"X-CSRF-Token": login(client)}
    edited = client.patch(
        f"/api/replays/{replay_id}", headers=csrf, json={"thumbnail_seconds": 150}
    )
    assert edited.status_code == 200, edited.text
    moved = re.search(
        rf'src="(/replays/{replay_id}/thumbnail\.jpg\?v=150)"', client.get("/replays").text
    )
    assert moved
    later = client.get(moved.group(1)).content
    assert later != first.content and decode(later, "JPEG", (480, 270))
    bad = client.patch(f"/api/replays/{replay_id}", headers=csrf, json={"thumbnail_seconds": -1})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "thumbnail_seconds"


def test_thumbnail_without_a_frame_is_a_drawn_card(client: TestClient, settings: Settings) -> None:
    """A recording ffmpeg cannot read gives a 480×270 card with the title and date drawn
    on it, and no file in THUMBNAIL_DIR."""
    replay_id = add_replay(
        settings.database_path, "어르신 디지털 배움터 공개 수업", "/media/missing.m3u8"
    )
    response = client.get(f"/replays/{replay_id}/thumbnail.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    card = decode(response.content, "JPEG", (480, 270))
    assert inked(card, (24, 74, 456, 120)) > 0.03  # the title
    assert inked(card, (24, 222, 300, 262)) > 0.01  # the date
    assert not list(settings.thumbnails_path.glob(f"{replay_id}-*.jpg"))
    assert client.get("/replays/999/thumbnail.jpg").status_code == 404
