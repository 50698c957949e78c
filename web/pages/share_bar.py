"""The share bar every page shows (links, Kakao template, Open Graph image and text) and
the lookups it needs: shared by the features' pages, so no feature imports another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from starlette.requests import Request

from replay import Replay
from replay.timeline import format_clock
from web.pages import share_links as share
from web.rendering.i18n import SEOUL, format_date, format_time
from web.rendering.pictures import version
from web.rendering.preview_card import PreviewText
from web.rendering.templating import request_locale, static_url
from web.services import Services, services


@dataclass(frozen=True)
class ShareBar:
    """What `_share.html` renders: the links, the Kakao template, the canonical URL."""

    item: share.Shareable
    canonical: str
    links: tuple[share.ShareLink, ...]
    kakao: dict[str, Any]

    def link(self, network: str) -> share.ShareLink:
        return next(link for link in self.links if link.network == network)

    sdk_url = share.KAKAO_SDK_URL
    sdk_integrity = share.KAKAO_SDK_INTEGRITY


def absolute(request: Request, url: str) -> str:
    """`url` made absolute against PUBLIC_BASE_URL (crawlers need absolute image URLs)."""
    if url.startswith(("https://", "http://")):
        return url
    return services(request).settings.public_origin + "/" + url.lstrip("/")


STATUS_LABELS = {
    "live": "생방송 중",
    "planned": "방송 예정",
    "ended": "방송 종료",
    "cancelled": "방송 취소",
    "replay": "다시보기",
}


def preview_text(item: share.Shareable, status: str, category: str = "") -> PreviewText:
    """What the share preview of a broadcast (`status` its status) or a replay (`status`
    "replay") says, in Korean (crawlers send no language), times in Seoul."""
    when = ""
    if item.starts_at is not None:
        when = format_date(item.starts_at, "ko")
        if item.kind == "replay":
            when += " 방송"
            if item.duration_seconds:
                when += f" · {format_clock(item.duration_seconds)}"
        else:
            when += f" {format_time(item.starts_at, 'ko')}"
            if item.ends_at is not None:
                when += f"–{format_time(item.ends_at, 'ko')}"
            when += " KST"
    return PreviewText(item.title, when, STATUS_LABELS.get(status, status), status, category)


def og_image(
    request: Request, item: share.Shareable, status: str | None = None, category: str = ""
) -> str:
    """The absolute URL of the page's 1200×630 preview: its own drawn picture for a
    broadcast or replay (`?v=` changes with what it shows), else the kind's generic card."""
    pictures = services(request).pictures
    if pictures.fonts is not None and status is not None and item.kind in ("live", "replay"):
        text = preview_text(item, status, category)
        v = version(text.title, text.when, text.status, text.category)
        folder = "live" if item.kind == "live" else "replays"
        return absolute(request, f"/og/{folder}/{item.key}.png?v={v}")
    return absolute(request, static_url(f"og/{item.kind}.png"))


def share_context(
    request: Request, item: share.Shareable, status: str | None = None, category: str = ""
) -> dict[str, Any]:
    """`{"meta": PageMeta, "share": ShareBar}` for a shareable page's template."""
    base = services(request).settings.public_origin
    locale = request_locale(request)
    image = og_image(request, item, status, category)
    return {
        "meta": share.page_meta(base, item, image, locale=locale),
        "share": ShareBar(
            item=item,
            canonical=share.page_url(base, item),
            links=share.share_links(base, item, locale=locale),
            kakao=share.kakao_feed(base, item, image, locale=locale),
        ),
    }


class BroadcastLike(Protocol):
    """A `web.pages.broadcasts.LiveBroadcast` or a `schedule.Broadcast`: what a card needs."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def starts_at(self) -> datetime | None: ...
    @property
    def ends_at(self) -> datetime | None: ...


def broadcast_item(broadcast: BroadcastLike, locale: str = "ko") -> share.Shareable:
    thumbnail = getattr(broadcast, "thumbnail_url", "") or getattr(broadcast, "poster_url", "")
    return share.for_broadcast(
        broadcast.id,
        broadcast.title,
        description=broadcast.description,
        status=broadcast.status,
        starts_at=broadcast.starts_at,
        ends_at=broadcast.ends_at,
        thumbnail_url=str(thumbnail or ""),
        locale=locale,
    )


def replay_item(replay: Replay, offset: int | None = None, locale: str = "ko") -> share.Shareable:
    return share.for_replay(
        replay.id,
        replay.title,
        description=replay.description,
        offset=offset or None,
        starts_at=replay.aired_at,
        duration_seconds=replay.duration_seconds,
        thumbnail_url=replay.thumbnail_url,
        locale=locale,
    )


def context_for_broadcast(request: Request, broadcast: BroadcastLike) -> dict[str, Any]:
    """`meta` + `share` for a page about `broadcast` (`web.pages.broadcasts.LiveBroadcast` or
    `schedule.Broadcast`); what is shared is its live page, `/live/{id}`."""
    return share_context(
        request,
        broadcast_item(broadcast, request_locale(request)),
        broadcast.status,
        str(getattr(broadcast, "category", "") or ""),
    )


def context_for_replay(
    request: Request, replay: Replay, offset: int | None = None
) -> dict[str, Any]:
    """`meta` + `share` for a replay page; `offset` (the page's `?t=`) goes into og:url."""
    return share_context(
        request, replay_item(replay, offset, request_locale(request)), "replay", replay.category
    )


def context_for_schedule_day(request: Request, day: date) -> dict[str, Any]:
    """`meta` + `share` for the schedule page of one day."""
    return share_context(request, share.for_schedule_day(day, locale=request_locale(request)))


# ---- looking pages up ------------------------------------------------------------------


async def find_replay(svc: Services, replay_id: int) -> Replay | None:
    replay = await svc.replays.get(replay_id)
    return replay if replay is not None and replay.public else None


def today_in_seoul() -> date:
    return datetime.now(SEOUL).date()
