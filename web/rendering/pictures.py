"""Pictures made on the server, once, then cached: share previews and replay thumbnails.

* A share preview (1200×630 PNG) is drawn by `web.rendering.preview_card` on first request and kept
  in a small in-process LRU keyed by its text, so a changed title, time or status is a new
  image (and a new `?v=` in the page's meta, so crawlers fetch it again).
* A replay thumbnail is one frame of the recording at `Replay.thumbnail_at`, taken with
  ffmpeg (Debian's package) when it is installed, stored as `THUMBNAIL_DIR/{id}-{s}.jpg`
  and served from there on. Without ffmpeg, or when the recording gives no frame, the
  thumbnail is a card drawn with the title and date (cached like a preview).
* Without the CJK font (`FontMissing`) nothing is drawn: previews fall back to the
  committed generic cards and a thumbnail to a frame or nothing; one warning at start-up
  says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from replay import Replay
from web.rendering.preview_card import CardFonts, FontMissing, PreviewText, preview, thumbnail

log = logging.getLogger("web.rendering.pictures")
CACHE_ENTRIES = 256  # ~40 KB a preview: ~10 MB at most per process
FRAME_TIMEOUT = 20.0  # seconds ffmpeg may take for one frame (remote recordings included)
STATIC_ROOT = Path(__file__).parent.parent / "static"


def version(*parts: object) -> str:
    """A short, stable digest of what a picture shows (for `?v=` and cache keys)."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


class Pictures:
    """Previews and thumbnails for one process. `fonts` is None when the CJK font is
    missing; `ffmpeg` is None when ffmpeg is not installed."""

    def __init__(self, font_dir: Path, thumbnail_dir: Path, *, ffmpeg: str | None = None) -> None:
        try:
            self.fonts: CardFonts | None = CardFonts.load(font_dir)
        except FontMissing as exc:
            log.warning("%s", exc)
            self.fonts = None
        self.ffmpeg = ffmpeg if ffmpeg is not None else shutil.which("ffmpeg")
        if self.ffmpeg is None:
            log.warning(
                "ffmpeg not found: replay thumbnails are drawn cards, not frames"
                " (Debian: apt-get install ffmpeg)"
            )
        self.thumbnail_dir = thumbnail_dir
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._failed: set[str] = set()  # frames ffmpeg could not take, not retried
        self._frames = asyncio.Semaphore(2)  # at most two ffmpeg processes at once

    async def _cached(self, key: str, draw: Callable[[], bytes]) -> bytes:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        image = await asyncio.to_thread(draw)
        self._cache[key] = image
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return image

    async def preview(self, text: PreviewText) -> bytes | None:
        """The PNG share preview of `text`; None without the font."""
        fonts = self.fonts
        if fonts is None:
            return None
        key = "p:" + version(text.title, text.when, text.status, text.status_key, text.category)
        return await self._cached(key, lambda: preview(fonts, text))

    def frame_path(self, replay: Replay) -> Path:
        return self.thumbnail_dir / f"{replay.id}-{replay.thumbnail_at}.jpg"

    async def thumbnail(self, replay: Replay, when: str) -> bytes | None:
        """The JPEG thumbnail of `replay`: its frame if one can be taken, else a drawn
        card; None only if neither ffmpeg nor the font can make one."""
        path = self.frame_path(replay)
        with contextlib.suppress(FileNotFoundError):
            return path.read_bytes()
        if await self.take_frame(replay):
            return path.read_bytes()
        fonts = self.fonts
        if fonts is None:
            return None
        key = "t:" + version(replay.id, replay.title, when)
        return await self._cached(key, lambda: thumbnail(fonts, replay.title, when))

    def _source(self, url: str) -> str | None:
        """What ffmpeg reads: a file under web/static (never outside it), or an http(s)
        URL; None for anything else."""
        if url.startswith(("https://", "http://")):
            return url
        if url.startswith("/static/"):
            path = (STATIC_ROOT / url.removeprefix("/static/").split("?", 1)[0]).resolve()
            if path.is_relative_to(STATIC_ROOT.resolve()) and path.is_file():
                return str(path)
        return None

    async def take_frame(self, replay: Replay) -> bool:
        """Store the frame at `replay.thumbnail_at` under `frame_path`; False (and no file)
        if ffmpeg is missing, the recording unreadable, or it took longer than
        FRAME_TIMEOUT. A failed frame is not tried again by this process."""
        path = self.frame_path(replay)
        source = self._source(replay.recording_url)
        if self.ffmpeg is None or source is None or path.name in self._failed:
            return False
        async with self._frames:
            if path.exists():
                return True
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part.jpg")
            process = await asyncio.create_subprocess_exec(
                self.ffmpeg,
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-protocol_whitelist",
                "file,http,https,tcp,tls,crypto",
                "-ss",
                str(replay.thumbnail_at),
                "-i",
                source,
                "-frames:v",
                "1",
                "-vf",
                "scale=480:-2",
                "-q:v",
                "5",
                str(partial),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                _, err = await asyncio.wait_for(process.communicate(), FRAME_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
                err = b"timed out"
            if process.returncode == 0 and partial.is_file() and partial.stat().st_size:
                partial.replace(path)  # atomic: other workers see all of it or nothing
                return True
            partial.unlink(missing_ok=True)
            self._failed.add(path.name)
            log.warning(
                "no thumbnail frame for replay %s at %ss: %s",
                replay.id,
                replay.thumbnail_at,
                err.decode(errors="replace").strip()[:200],
            )
            return False
