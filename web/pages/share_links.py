"""Share links and page metadata: a pure core (no I/O), data in, URLs and tags out.

A `Shareable` names one of our pages — a live broadcast, a replay (optionally at a second)
or a day of the schedule (optionally at one slot, `#at-1400`) — with what a card shows of
it. From it:

- `share_links()` builds the network links (X web intent, Facebook sharer, LINE, KakaoTalk,
  copy-link). Every shared page URL carries `utm_source=<network>`, `utm_medium=social`,
  `utm_campaign=<kind>-<id>`; every query value is percent-encoded as UTF-8 (`quote`,
  nothing left "safe", so `&`, `#`, `+`, spaces, Korean and emoji are all escaped).
- `tweet_weight()` counts a tweet the way twitter-text v3 does (URLs 23; code points in
  U+0000-U+10FF and three punctuation ranges 1; everything else, CJK included, 2; an emoji
  sequence 2), and the X intent's title is cut with "…" so text, hashtags, link and `via`
  stay within 280.
- `page_meta()` gives the Open Graph / Twitter card tags and the schema.org JSON-LD
  (`VideoObject` published by a `BroadcastEvent`) every shareable page renders.
- `kakao_feed()` is the feed template for `Kakao.Share.sendDefault`.
- `parse_page_url()` accepts only our own pages (same scheme, host and port as
  `PUBLIC_BASE_URL`, a known path): it is the gate against open redirects and phishing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from livechat.text import one_line
from replay.timeline import format_clock, parse_timestamp
from web.rendering.i18n import format_date

Kind = Literal["live", "replay", "schedule"]

#: Share targets in the order the share bar shows them.
NETWORKS: tuple[str, ...] = ("x", "facebook", "line", "kakaotalk", "copy")

TWEET_MAX = 280
TWEET_URL_WEIGHT = 23
ELLIPSIS = "…"

OG_IMAGE_WIDTH = 1200
OG_IMAGE_HEIGHT = 630

EMBED_WIDTH = 640
EMBED_HEIGHT = 360

#: Kakao's JavaScript SDK, loaded only when `KAKAO_JS_KEY` is set. The integrity value is
#: the SHA-384 of exactly this version's file (Kakao's "다운로드" page lists it per version);
#: change both together or the browser refuses the script. This value could not be hashed
#: from the file here (no internet); it matches what ten unrelated public projects load
#: 2.7.2 with, which a wrong value would have broken for them.
KAKAO_SDK_VERSION = "2.7.2"
KAKAO_SDK_URL = f"https://t1.kakaocdn.net/kakao_js_sdk/{KAKAO_SDK_VERSION}/kakao.min.js"
KAKAO_SDK_INTEGRITY = "sha384-TiCUE00h649CAMonG018J2ujOgDKW/kVWlChEuu4jK2vxfAAD0eZxzCKakxg55G4"

MAX_URL_CHARS = 2048
MAX_ID = 2**63 - 1
MAX_OFFSET_SECONDS = 7 * 24 * 3600

OG_LOCALES = {"ko": "ko_KR", "en": "en_US", "ja": "ja_JP"}

_TEXT: dict[str, dict[str, str]] = {
    "ko": {
        "site": "라이브서울",
        "live": "[생방송] ",
        "replay": "[다시보기] ",
        "schedule": "[편성표] ",
        "from": " ({t}부터)",
        "watch_live": "생방송 보기",
        "watch_replay": "다시보기",
        "see_schedule": "편성표 보기",
        "schedule_title": "라이브서울 편성표 · {date}",
        "schedule_description": "서울특별시 24시간 소셜방송 라이브서울의 {date} 편성표입니다.",
        "default_description": "서울특별시 소셜방송 라이브서울에서 함께 보세요.",
        "untitled_live": "라이브서울 생방송",
        "untitled_replay": "라이브서울 다시보기",
        "image_live": "라이브서울 생방송",
        "image_replay": "라이브서울 다시보기",
        "image_schedule": "라이브서울 편성표",
    },
    "en": {
        "site": "Live Seoul",
        "live": "[LIVE] ",
        "replay": "[Replay] ",
        "schedule": "[Schedule] ",
        "from": " (from {t})",
        "watch_live": "Watch live",
        "watch_replay": "Watch replay",
        "see_schedule": "See schedule",
        "schedule_title": "Live Seoul schedule · {date}",
        "schedule_description": "What is on Live Seoul, Seoul's 24-hour channel, on {date}.",
        "default_description": "Watch together on Live Seoul, the Seoul Metropolitan "
        "Government's social broadcasting channel.",
        "untitled_live": "Live Seoul live broadcast",
        "untitled_replay": "Live Seoul replay",
        "image_live": "Live Seoul live broadcast",
        "image_replay": "Live Seoul replay",
        "image_schedule": "Live Seoul schedule",
    },
    "ja": {
        "site": "ライブソウル",
        "live": "[ライブ] ",
        "replay": "[見逃し配信] ",
        "schedule": "[番組表] ",
        "from": " ({t}から)",
        "watch_live": "ライブを見る",
        "watch_replay": "見逃し配信を見る",
        "see_schedule": "番組表を見る",
        "schedule_title": "ライブソウル番組表 · {date}",
        "schedule_description": "ソウル市の24時間ソーシャル放送ライブソウル、{date}の番組表です。",
        "default_description": "ソウル特別市のソーシャル放送ライブソウルで一緒に見ましょう。",
        "untitled_live": "ライブソウルのライブ配信",
        "untitled_replay": "ライブソウルの見逃し配信",
        "image_live": "ライブソウルのライブ配信",
        "image_replay": "ライブソウルの見逃し配信",
        "image_schedule": "ライブソウルの番組表",
    },
}

NETWORK_LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "line": "LINE",
    "kakaotalk": "카카오톡",
    "copy": "링크 복사",
}


def text(locale: str, key: str) -> str:
    return _TEXT.get(locale, _TEXT["ko"])[key]


# ---- what can be shared ----------------------------------------------------------------


# A slot of a schedule day, as the page's fragment: its Seoul start time, `at-1400`
# (`at-140030` when two slots start in the same minute).
SLOT_ANCHOR = re.compile(r"at-(?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9])?")


@dataclass(frozen=True)
class Shareable:
    """One of our pages, with what a card or a tweet says about it.

    `key` is the broadcast id, the replay id, or the ISO date of a schedule day.
    `offset` (replays only) is the second the shared link opens at; `anchor` (schedule
    days only) the slot it opens at, as the page's fragment (`at-1400`).
    """

    kind: Kind
    key: str
    title: str
    description: str = ""
    offset: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration_seconds: int | None = None
    is_live: bool = False
    thumbnail_url: str = ""
    anchor: str | None = None

    @property
    def path(self) -> str:
        """The canonical path (with `?t=` / `?date=` when they say where it opens)."""
        if self.kind == "live":
            return f"/live/{self.key}"
        if self.kind == "replay":
            return f"/replays/{self.key}" + (f"?t={self.offset}" if self.offset else "")
        return f"/schedule?date={self.key}"

    @property
    def campaign(self) -> str:
        return f"{self.kind}-{self.key}"

    @property
    def embed_path(self) -> str | None:
        if self.kind == "live":
            return f"/embed/broadcasts/{self.key}"
        if self.kind == "replay":
            return f"/embed/replays/{self.key}" + (f"?t={self.offset}" if self.offset else "")
        return None


def for_broadcast(
    broadcast_id: int,
    title: str,
    *,
    description: str = "",
    status: str = "live",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    thumbnail_url: str = "",
    locale: str = "ko",
) -> Shareable:
    title = one_line(title) or text(locale, "untitled_live")
    return Shareable(
        "live",
        str(broadcast_id),
        title,
        one_line(description),
        starts_at=starts_at,
        ends_at=ends_at,
        is_live=status == "live",
        thumbnail_url=thumbnail_url,
    )


def for_replay(
    replay_id: int,
    title: str,
    *,
    description: str = "",
    offset: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    duration_seconds: int | None = None,
    thumbnail_url: str = "",
    locale: str = "ko",
) -> Shareable:
    if offset is not None and not 0 <= offset <= MAX_OFFSET_SECONDS:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET_SECONDS} seconds")
    title = one_line(title) or text(locale, "untitled_replay")
    return Shareable(
        "replay",
        str(replay_id),
        title,
        one_line(description),
        offset=offset or None,
        starts_at=starts_at,
        ends_at=ends_at,
        duration_seconds=duration_seconds,
        thumbnail_url=thumbnail_url,
    )


def for_schedule_day(day: date, *, locale: str = "ko", anchor: str | None = None) -> Shareable:
    """A day of the channel; with `anchor` (`at-1400`), the slot the link opens at."""
    if anchor is not None and not SLOT_ANCHOR.fullmatch(anchor):
        raise ValueError("anchor must look like at-1400 (a slot's Seoul start time)")
    shown = format_date(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), locale)
    return Shareable(
        "schedule",
        day.isoformat(),
        text(locale, "schedule_title").format(date=shown),
        text(locale, "schedule_description").format(date=shown),
        anchor=anchor,
    )


# ---- URLs ------------------------------------------------------------------------------


def query(pairs: Iterable[tuple[str, str]]) -> str:
    """`k=v&…` with every value percent-encoded as UTF-8 (space is %20, never +)."""
    return urlencode(list(pairs), quote_via=quote, safe="")


def page_url(base_url: str, item: Shareable) -> str:
    """The canonical absolute URL (og:url): no UTM, no fragment."""
    return base_url.rstrip("/") + item.path


def tagged_url(base_url: str, item: Shareable, network: str) -> str:
    """The page URL as shared on `network`: canonical plus the three UTM parameters, then
    the slot's fragment if there is one."""
    utm = query(
        [("utm_source", network), ("utm_medium", "social"), ("utm_campaign", item.campaign)]
    )
    url = page_url(base_url, item)
    return url + ("&" if "?" in url else "?") + utm + (f"#{item.anchor}" if item.anchor else "")


@dataclass(frozen=True)
class ShareLink:
    """One network's share action: `href` opens the network, `url` is our tagged page."""

    network: str
    label: str
    href: str
    url: str

    def as_json(self) -> dict[str, str]:
        return {"network": self.network, "label": self.label, "href": self.href, "url": self.url}


def share_links(
    base_url: str,
    item: Shareable,
    *,
    locale: str = "ko",
    hashtags: Sequence[str] = ("라이브서울",),
    via: str = "",
) -> tuple[ShareLink, ...]:
    """The five share actions for `item`, in `NETWORKS` order.

    KakaoTalk's and copy-link's `href` is the tagged page URL itself: the browser script
    hands it to Kakao's SDK, the native share sheet or the clipboard.
    """
    links = []
    for network in NETWORKS:
        url = tagged_url(base_url, item, network)
        if network == "x":
            prefix, title, suffix = tweet_parts(item, locale)
            href = tweet_intent(
                url, title, prefix=prefix, suffix=suffix, hashtags=hashtags, via=via
            )
        elif network == "facebook":
            href = "https://www.facebook.com/sharer/sharer.php?" + query([("u", url)])
        elif network == "line":
            href = "https://social-plugins.line.me/lineit/share?" + query([("url", url)])
        else:
            href = url
        links.append(ShareLink(network, NETWORK_LABELS[network], href, url))
    return tuple(links)


# ---- tweets ----------------------------------------------------------------------------

# twitter-text config v3: weight 100 (= 1 character) for these code point ranges,
# defaultWeight 200 (= 2) for everything else; scale 100.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# twitter-text counts any URL (with or without a scheme, on a valid TLD) as 23. A bare
# domain-like word counts at least 23 here, so we never under-count.
_URLISH = re.compile(
    r"(?:https?://)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:[/?#][^\s]*)?", re.IGNORECASE
)


def _code_point_weight(ch: str) -> int:
    cp = ord(ch)
    for start, end in _LIGHT_RANGES:
        if start <= cp <= end:
            return 1
    return 2


def _is_emoji_base(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2190 <= cp <= 0x21FF
        or cp in (0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _extends(ch: str) -> bool:
    cp = ord(ch)
    return (
        cp in (0xFE0E, 0xFE0F, 0x20E3)
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or unicodedata.category(ch) in ("Mn", "Me")
    )


def clusters(value: str) -> list[str]:
    """Split into what a reader sees as one character: a base plus its marks, variation
    selectors, skin tones, keycaps and tag characters; ZWJ sequences; flag pairs."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        start = i
        cp = ord(value[i])
        i += 1
        if 0x1F1E6 <= cp <= 0x1F1FF and i < n and 0x1F1E6 <= ord(value[i]) <= 0x1F1FF:
            i += 1
        while i < n:
            if _extends(value[i]):
                i += 1
            elif value[i] == "\u200d" and i + 1 < n:
                i += 2
            else:
                break
        out.append(value[start:i])
    return out


def _cluster_weight(cluster: str) -> int:
    first = ord(cluster[0])
    keycap = "\u20e3" in cluster
    if _is_emoji_base(first) or 0x1F1E6 <= first <= 0x1F1FF or keycap:
        return 2  # twitter-text: one emoji sequence weighs defaultWeight
    return sum(_code_point_weight(ch) for ch in cluster)


def tweet_weight(value: str) -> int:
    """The weighted length twitter-text v3 gives `value` (NFC-normalised first)."""
    value = unicodedata.normalize("NFC", value)
    total, pos = 0, 0
    for match in _URLISH.finditer(value):
        total += sum(_cluster_weight(c) for c in clusters(value[pos : match.start()]))
        if match.group().lower().startswith(("http://", "https://")):
            total += TWEET_URL_WEIGHT
        else:  # a bare domain: 23 if X links it, else its characters; count the larger
            plain = sum(_cluster_weight(c) for c in clusters(match.group()))
            total += max(TWEET_URL_WEIGHT, plain)
        pos = match.end()
    return total + sum(_cluster_weight(c) for c in clusters(value[pos:]))


def clean_hashtag(tag: str) -> str:
    """`#서울 시청!` -> `서울시청`: letters, digits, marks and `_` only (no `#`)."""
    tag = unicodedata.normalize("NFC", tag).lstrip("#＃")
    return "".join(ch for ch in tag if ch == "_" or unicodedata.category(ch)[0] in "LNM")


def tweet_parts(item: Shareable, locale: str = "ko") -> tuple[str, str, str]:
    """(prefix, title, suffix) of the tweet: kind label, title, the replay's start time.
    Only the title is ever shortened."""
    suffix = text(locale, "from").format(t=format_clock(item.offset)) if item.offset else ""
    return text(locale, item.kind), item.title, suffix


def fit(title: str, budget: int, prefix: str = "", suffix: str = "") -> str:
    """`prefix + title + suffix` if it weighs at most `budget`; else with the title cut to
    its longest prefix of whole clusters (trailing space dropped) plus "…" that fits; else
    (not even "…" fits) the title alone, cut to fit, or ""."""
    if tweet_weight(prefix + title + suffix) <= budget:
        return prefix + title + suffix
    parts = clusters(title)

    def build(k: int) -> str:
        return prefix + "".join(parts[:k]).rstrip() + ELLIPSIS + suffix

    if tweet_weight(build(0)) > budget:
        return fit(title, budget) if prefix or suffix else ""
    lo, hi = 0, len(parts)
    while lo < hi:  # the largest k whose build(k) fits
        mid = (lo + hi + 1) // 2
        if tweet_weight(build(mid)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    while lo > 0 and tweet_weight(build(lo)) > budget:  # weights are monotone in practice
        lo -= 1
    return build(lo)


def tweet_intent(
    url: str,
    title: str,
    *,
    prefix: str = "",
    suffix: str = "",
    hashtags: Sequence[str] = (),
    via: str = "",
    limit: int = TWEET_MAX,
) -> str:
    """`https://twitter.com/intent/tweet?text=…&url=…&hashtags=…&via=…` within `limit`.

    X composes "text #tag1 #tag2 url via @via"; the link weighs 23 whatever its length.
    Hashtags are dropped from the end while even "…" of a title would not fit; then the
    title (never the prefix or suffix) is cut with "…".
    """
    tags = [t for t in (clean_hashtag(h) for h in hashtags) if t]
    via = re.sub(r"[^A-Za-z0-9_]", "", via.lstrip("@"))[:15]
    fixed = 1 + TWEET_URL_WEIGHT + (tweet_weight(f" via @{via}") if via else 0)

    def tags_weight(ts: Sequence[str]) -> int:
        return sum(1 + tweet_weight("#" + t) for t in ts)

    floor = tweet_weight(prefix + ELLIPSIS + suffix)
    while tags and fixed + tags_weight(tags) + floor > limit:
        tags.pop()
    body = fit(one_line(title), limit - fixed - tags_weight(tags), prefix, suffix)
    pairs = [("text", body), ("url", url)]
    if tags:
        pairs.append(("hashtags", ",".join(tags)))
    if via:
        pairs.append(("via", via))
    return "https://twitter.com/intent/tweet?" + query(pairs)


def composed_tweet(intent: str) -> str:
    """The tweet X would compose from an intent URL (for checking its length)."""
    params = dict(parse_qsl(urlsplit(intent).query, keep_blank_values=True))
    parts = [params.get("text", "")]
    parts += ["#" + t for t in params.get("hashtags", "").split(",") if t]
    parts.append(params.get("url", ""))
    if params.get("via"):
        parts.append(f"via @{params['via']}")
    return " ".join(p for p in parts if p)


# ---- Kakao -----------------------------------------------------------------------------


def kakao_feed(
    base_url: str, item: Shareable, image_url: str, *, locale: str = "ko"
) -> dict[str, Any]:
    """The object for `Kakao.Share.sendDefault`: a feed with up to two buttons."""
    origin = base_url.rstrip("/")

    def link(url: str) -> dict[str, str]:
        return {"mobileWebUrl": url, "webUrl": url}

    own = tagged_url(base_url, item, "kakaotalk")
    buttons: list[dict[str, Any]] = []
    if item.kind == "live":
        buttons.append({"title": text(locale, "watch_live"), "link": link(own)})
        buttons.append({"title": text(locale, "watch_replay"), "link": link(origin + "/replays")})
    elif item.kind == "replay":
        buttons.append({"title": text(locale, "watch_replay"), "link": link(own)})
        buttons.append({"title": text(locale, "watch_live"), "link": link(origin + "/")})
    else:
        buttons.append({"title": text(locale, "see_schedule"), "link": link(own)})
        buttons.append({"title": text(locale, "watch_live"), "link": link(origin + "/")})
    return {
        "objectType": "feed",
        "content": {
            "title": item.title[:200],
            "description": description_for(item, locale)[:200],
            "imageUrl": image_url,
            "imageWidth": OG_IMAGE_WIDTH,
            "imageHeight": OG_IMAGE_HEIGHT,
            "link": link(own),
        },
        "buttons": buttons[:2],
    }


# ---- page metadata ---------------------------------------------------------------------


@dataclass(frozen=True)
class MetaTag:
    """`<meta {attr}="{key}" content="{content}">` (attr is `property` or `name`)."""

    attr: Literal["property", "name"]
    key: str
    content: str


@dataclass(frozen=True)
class PageMeta:
    canonical: str
    tags: tuple[MetaTag, ...]
    json_ld: tuple[dict[str, Any], ...]
    oembed_url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def description_for(item: Shareable, locale: str) -> str:
    value = item.description or text(locale, "default_description")
    return value if len(value) <= 300 else value[:299].rstrip() + ELLIPSIS


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def iso_duration(seconds: int) -> str:
    """3725 -> "PT1H2M5S" (schema.org durations are ISO 8601)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return out + (f"{secs}S" if secs or out == "PT" else "")


def page_meta(
    base_url: str,
    item: Shareable,
    image_url: str,
    *,
    locale: str = "ko",
    image_alt: str | None = None,
) -> PageMeta:
    """Everything a crawler reads from a shareable page's `<head>`.

    `image_url` is an absolute 1200×630 PNG. The canonical URL keeps `?t=`/`?date=` (where
    the page opens) and drops everything else, UTM included.
    """
    origin = base_url.rstrip("/")
    canonical = page_url(base_url, item)
    site = text(locale, "site")
    description = description_for(item, locale)
    alt = image_alt or text(locale, f"image_{item.kind}")
    og_type = "website" if item.kind == "schedule" else "video.other"
    tags = [
        MetaTag("property", "og:site_name", site),
        MetaTag("property", "og:type", og_type),
        MetaTag("property", "og:url", canonical),
        MetaTag("property", "og:title", item.title),
        MetaTag("property", "og:description", description),
        MetaTag("property", "og:image", image_url),
        MetaTag("property", "og:image:type", "image/png"),
        MetaTag("property", "og:image:width", str(OG_IMAGE_WIDTH)),
        MetaTag("property", "og:image:height", str(OG_IMAGE_HEIGHT)),
        MetaTag("property", "og:image:alt", alt),
        MetaTag("property", "og:locale", OG_LOCALES.get(locale, "ko_KR")),
    ]
    tags += [
        MetaTag("property", "og:locale:alternate", tag)
        for code, tag in OG_LOCALES.items()
        if code != locale
    ]
    embed = origin + item.embed_path if item.embed_path else None
    tags += [
        MetaTag("name", "description", description),
        MetaTag("name", "twitter:card", "summary_large_image"),
        MetaTag("name", "twitter:title", item.title),
        MetaTag("name", "twitter:description", description),
        MetaTag("name", "twitter:image", image_url),
        MetaTag("name", "twitter:image:alt", alt),
    ]
    return PageMeta(
        canonical=canonical,
        tags=tuple(tags),
        json_ld=(json_ld(base_url, item, image_url, locale=locale),),
        oembed_url=(
            origin + "/oembed?" + query([("url", canonical), ("format", "json")]) if embed else None
        ),
    )


def json_ld(
    base_url: str, item: Shareable, image_url: str, *, locale: str = "ko"
) -> dict[str, Any]:
    """schema.org JSON-LD: a `VideoObject` whose `publication` is a `BroadcastEvent`
    (live broadcasts and replays), or a `WebPage` about a day's `BroadcastEvent`s."""
    origin = base_url.rstrip("/")
    canonical = page_url(base_url, item)
    publisher = {"@type": "Organization", "name": text(locale, "site"), "url": origin + "/"}
    if item.kind == "schedule":
        return {
            "@context": "https://schema.org",
            "@type": "WebPage",
            "url": canonical,
            "name": item.title,
            "description": description_for(item, locale),
            "inLanguage": locale,
            "publisher": publisher,
        }
    event: dict[str, Any] = {"@type": "BroadcastEvent", "isLiveBroadcast": True, "name": item.title}
    if item.starts_at:
        event["startDate"] = _iso(item.starts_at)
    if item.ends_at:
        event["endDate"] = _iso(item.ends_at)
    video: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": item.title,
        "description": description_for(item, locale),
        "thumbnailUrl": [image_url] + ([item.thumbnail_url] if item.thumbnail_url else []),
        "url": canonical,
        "inLanguage": "ko",
        "publisher": publisher,
        "publication": event,
    }
    if item.embed_path:
        video["embedUrl"] = origin + item.embed_path
    upload = item.starts_at
    if upload is not None:
        video["uploadDate"] = _iso(upload)
    if item.duration_seconds:
        video["duration"] = iso_duration(item.duration_seconds)
    elif item.starts_at and item.ends_at and item.kind == "replay":
        video["duration"] = iso_duration(int((item.ends_at - item.starts_at).total_seconds()))
    return video


# ---- our own URLs only -----------------------------------------------------------------


class ShareUrlError(ValueError):
    """The URL is not one of our shareable pages (the message says why)."""


@dataclass(frozen=True)
class PageRef:
    """A parsed shareable page: what it is, which one, and where it opens."""

    kind: Kind
    key: str
    offset: int | None = None
    anchor: str | None = None


_PATHS = (
    ("live", re.compile(r"/live/([0-9]{1,19})")),
    ("replay", re.compile(r"/replays/([0-9]{1,19})")),
    ("live", re.compile(r"/broadcasts/([0-9]{1,19})")),
    ("live", re.compile(r"/embed/broadcasts/([0-9]{1,19})")),
    ("replay", re.compile(r"/embed/replays/([0-9]{1,19})")),
    ("schedule", re.compile(r"/schedule/?")),
    ("schedule", re.compile(r"/schedule/([0-9]{4}-[0-9]{2}-[0-9]{2})")),
)


def parse_offset(raw: str) -> int:
    """`90`, `90s`, `1m30s`, `1h2m5s` -> seconds (`replay.parse_timestamp`);
    `ShareUrlError` otherwise."""
    total = parse_timestamp(raw)
    if total is None:
        raise ShareUrlError("t must be seconds, like 90 or 1m30s")
    if total > MAX_OFFSET_SECONDS:
        raise ShareUrlError("t is longer than any replay")
    return total


def parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ShareUrlError("date must be YYYY-MM-DD") from None


def parse_page_url(raw: str, base_url: str) -> PageRef:
    """The shareable page `raw` names, if it is ours; `ShareUrlError` otherwise.

    Accepted: an absolute URL whose scheme, host and port equal `base_url`'s (no userinfo),
    or a path starting with a single `/`; the path one of `/live/{id}` (also
    `/broadcasts/{id}`), `/replays/{id}` (`?t=`), `/schedule` (`?date=`, and a slot's
    fragment `#at-1400`), `/schedule/{date}`, or an `/embed/` player. Other query
    parameters (UTM included) and fragments are ignored. Backslashes, whitespace and
    control characters are refused outright: browsers read them in ways `urlsplit` does
    not.
    """
    if not raw:
        raise ShareUrlError("url is required")
    if len(raw) > MAX_URL_CHARS:
        raise ShareUrlError(f"url is longer than {MAX_URL_CHARS} characters")
    if "\\" in raw or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in raw):
        raise ShareUrlError("url must not contain backslashes, spaces or control characters")
    base = urlsplit(base_url)
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or raw.startswith("//"):
        if parts.scheme.lower() != base.scheme.lower():
            raise ShareUrlError(f"only {base.scheme}:// pages of this site can be shared")
        if "@" in parts.netloc:
            raise ShareUrlError("url must not contain a user name or password")
        try:
            port, base_port = parts.port, base.port
        except ValueError:
            raise ShareUrlError("url has an invalid port") from None
        default = {"http": 80, "https": 443}.get(base.scheme.lower())
        if (parts.hostname or "") != (base.hostname or "").lower() or (port or default) != (
            base_port or default
        ):
            raise ShareUrlError(f"only pages of {base.scheme}://{base.netloc} can be shared")
    elif not raw.startswith("/"):
        raise ShareUrlError("url must be an absolute URL of this site or a path like /live/1")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    for kind, pattern in _PATHS:
        match = pattern.fullmatch(parts.path)
        if match is None:
            continue
        if kind == "schedule":
            day = match.group(1) if match.groups() else params.get("date")
            anchor = parts.fragment if SLOT_ANCHOR.fullmatch(parts.fragment) else None
            return PageRef(
                "schedule", parse_day(day).isoformat() if day else "today", anchor=anchor
            )
        key = match.group(1)
        if int(key) > MAX_ID or int(key) < 1:
            raise ShareUrlError("id is out of range")
        offset = None
        if kind == "replay" and params.get("t"):
            offset = parse_offset(params["t"]) or None
        return PageRef(kind, str(int(key)), offset)  # type: ignore[arg-type]
    raise ShareUrlError("url is not a shareable page (a live broadcast, replay or schedule)")
