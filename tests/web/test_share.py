"""The pure share core: exact share URLs, tweet weighting, metadata, the own-page gate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.timeline import format_clock
from web.pages import share_links as share

BASE = "https://live.seoul.go.kr"

# UTF-8 percent-encodings spelled out once, so expectations below read as text.
SEO, UL, SI, MIN, TO, RON = (
    "%EC%84%9C",
    "%EC%9A%B8",
    "%EC%8B%9C",
    "%EB%AF%BC",
    "%ED%86%A0",
    "%EB%A1%A0",
)
LIVE_PREFIX = "%5B%EC%83%9D%EB%B0%A9%EC%86%A1%5D%20"  # "[생방송] "
TAG = "%EB%9D%BC%EC%9D%B4%EB%B8%8C%EC%84%9C%EC%9A%B8"  # 라이브서울
PARTY = "%F0%9F%8E%89"  # 🎉
GA = "%EA%B0%80"  # 가


def links_by_network(item: share.Shareable, **kwargs: object) -> dict[str, share.ShareLink]:
    return {link.network: link for link in share.share_links(BASE, item, **kwargs)}  # type: ignore[arg-type]


def test_live_links_exact_with_korean_ampersand_hash_and_emoji() -> None:
    """Every network's URL for a live broadcast is exactly as expected, all values escaped."""
    item = share.for_broadcast(12, "서울 & 시민 #토론 🎉")
    links = links_by_network(item)
    shared = (
        "https%3A%2F%2Flive.seoul.go.kr%2Flive%2F12%3Futm_source%3D{}"
        "%26utm_medium%3Dsocial%26utm_campaign%3Dlive-12"
    )
    assert links["x"].href == (
        "https://twitter.com/intent/tweet?text="
        + LIVE_PREFIX
        + f"{SEO}{UL}%20%26%20{SI}{MIN}%20%23{TO}{RON}%20{PARTY}"
        + "&url="
        + shared.format("x")
        + "&hashtags="
        + TAG
    )
    assert links["facebook"].href == (
        "https://www.facebook.com/sharer/sharer.php?u=" + shared.format("facebook")
    )
    assert links["line"].href == (
        "https://social-plugins.line.me/lineit/share?url=" + shared.format("line")
    )
    assert links["kakaotalk"].href == (
        "https://live.seoul.go.kr/live/12?utm_source=kakaotalk&utm_medium=social"
        "&utm_campaign=live-12"
    )
    assert links["copy"].url == (
        "https://live.seoul.go.kr/live/12?utm_source=copy&utm_medium=social&utm_campaign=live-12"
    )
    assert [link.network for link in share.share_links(BASE, item)] == list(share.NETWORKS)


def test_replay_link_keeps_offset_and_says_where_it_starts() -> None:
    """A replay shared at 95 s links to ?t=95 (UTM after it) and the tweet says 1:35."""
    item = share.for_replay(5, "예산 설명회", offset=95)
    links = links_by_network(item, via="@seoul_city", hashtags=("#서울", "라이브 서울!"))
    assert links["facebook"].url == (
        "https://live.seoul.go.kr/replays/5?t=95&utm_source=facebook&utm_medium=social"
        "&utm_campaign=replay-5"
    )
    assert links["x"].href == (
        "https://twitter.com/intent/tweet?text=%5B%EB%8B%A4%EC%8B%9C%EB%B3%B4%EA%B8%B0%5D%20"
        "%EC%98%88%EC%82%B0%20%EC%84%A4%EB%AA%85%ED%9A%8C%20%281%3A35%EB%B6%80%ED%84%B0%29"
        "&url=https%3A%2F%2Flive.seoul.go.kr%2Freplays%2F5%3Ft%3D95%26utm_source%3Dx"
        "%26utm_medium%3Dsocial%26utm_campaign%3Dreplay-5"
        f"&hashtags={SEO}{UL}%2C{TAG}&via=seoul_city"
    )


def test_schedule_day_link_exact() -> None:
    """A schedule day is shared as /schedule?date=… with a dated campaign."""
    item = share.for_schedule_day(date(2026, 11, 25))
    links = links_by_network(item)
    assert links["line"].href == (
        "https://social-plugins.line.me/lineit/share?url=https%3A%2F%2Flive.seoul.go.kr"
        "%2Fschedule%3Fdate%3D2026-11-25%26utm_source%3Dline%26utm_medium%3Dsocial"
        "%26utm_campaign%3Dschedule-2026-11-25"
    )
    assert item.title == "라이브서울 편성표 · 2026년 11월 25일 (수)"


def test_schedule_slot_link_keeps_its_fragment_after_the_utm() -> None:
    """A slot of the channel is shared as the day's page with the slot's fragment, which
    must come after the query (else the UTM parameters would be part of the fragment);
    the canonical og:url has no fragment, and a malformed anchor is refused."""
    item = share.for_schedule_day(date(2026, 11, 25), anchor="at-1400")
    links = links_by_network(item)
    assert links["copy"].href == (
        "https://live.seoul.go.kr/schedule?date=2026-11-25&utm_source=copy"
        "&utm_medium=social&utm_campaign=schedule-2026-11-25#at-1400"
    )
    assert links["facebook"].href == (
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Flive.seoul.go.kr"
        "%2Fschedule%3Fdate%3D2026-11-25%26utm_source%3Dfacebook%26utm_medium%3Dsocial"
        "%26utm_campaign%3Dschedule-2026-11-25%23at-1400"
    )
    assert share.page_url(BASE, item) == "https://live.seoul.go.kr/schedule?date=2026-11-25"
    for bad in ("at-2400", "at-14", "slot-now", "at-1400<script>"):
        with pytest.raises(ValueError, match="anchor"):
            share.for_schedule_day(date(2026, 11, 25), anchor=bad)


def test_overlong_title_is_cut_with_an_ellipsis_to_exactly_fit() -> None:
    """A 200-syllable title keeps 116 syllables + "…": 9 + 232 + 2 + 12 (#라이브서울) + 24 = 279."""
    item = share.for_broadcast(1, "가" * 200)
    href = links_by_network(item)["x"].href
    text = parse_qs(urlsplit(href).query)["text"][0]
    assert text == "[생방송] " + "가" * 116 + "…"
    assert href.startswith(
        "https://twitter.com/intent/tweet?text=" + LIVE_PREFIX + GA * 116 + "%E2%80%A6&url="
    )
    assert share.tweet_weight(share.composed_tweet(href)) == 279


def test_overlong_replay_title_keeps_its_start_time() -> None:
    """Only the title is shortened: the "(1:02:05부터)" suffix survives truncation."""
    item = share.for_replay(9, "Seoul budget hearing " * 30, offset=3725)
    text = parse_qs(urlsplit(links_by_network(item)["x"].href).query)["text"][0]
    assert text.startswith("[다시보기] Seoul budget hearing")
    assert text.endswith("… (1:02:05부터)")
    assert share.tweet_weight(share.composed_tweet(links_by_network(item)["x"].href)) <= 280


def test_emoji_title_is_never_cut_inside_a_sequence() -> None:
    """Family emoji (ZWJ sequences) and flags are kept whole or dropped whole."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    item = share.for_broadcast(1, family * 200)
    text = parse_qs(urlsplit(links_by_network(item)["x"].href).query)["text"][0]
    body = text.removeprefix("[생방송] ").removesuffix("…")
    assert body == family * (len(body) // len(family))
    assert share.tweet_weight(share.composed_tweet(links_by_network(item)["x"].href)) <= 280


@pytest.mark.parametrize(
    ("value", "weight"),
    [
        ("hello", 5),
        ("안녕", 4),
        ("日本語", 6),
        ("café—“ok”", 9),  # U+2014 and curly quotes are in twitter-text's light ranges
        ("…", 2),
        ("https://example.com/a/very/long/path/that/is/longer/than/23", 23),
        ("see seoul.go.kr now", 8 + 23),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", 2),
        ("\U0001f1f0\U0001f1f7", 2),
        ("\u2764\ufe0f", 2),
        ("#\ufe0f\u20e3", 2),
        ("\U0001f44d\U0001f3fd", 2),
        ("e\u0301", 1),  # NFC makes it é first
    ],
)
def test_tweet_weight_follows_twitter_text_v3(value: str, weight: int) -> None:
    """URLs weigh 23, Latin 1, CJK 2, an emoji sequence 2."""
    assert share.tweet_weight(value) == weight


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(max_size=400),
    offset=st.one_of(st.none(), st.integers(0, 86400)),
    via=st.text(alphabet="abcXYZ_09", max_size=15),
)
def test_any_title_fits_and_round_trips(title: str, offset: int | None, via: str) -> None:
    """Whatever the title, the tweet weighs ≤ 280 and every parameter decodes back intact."""
    item = share.for_replay(3, title, offset=offset)
    link = links_by_network(item, via=via)["x"]
    params = parse_qs(urlsplit(link.href).query)
    assert share.tweet_weight(share.composed_tweet(link.href)) <= share.TWEET_MAX
    assert params["url"] == [link.url]
    assert params["text"][0].startswith("[다시보기] ")
    prefix, full_title, suffix = share.tweet_parts(item)
    body = params["text"][0].removeprefix(prefix).removesuffix(suffix)
    assert body == full_title or (
        body.endswith("…") and full_title.startswith(body.removesuffix("…").rstrip())
    )


def test_page_meta_has_every_tag_crawlers_read() -> None:
    """og:* (canonical URL without UTM), twitter:*, image 1200×630 with alt, locales."""
    item = share.for_broadcast(
        7,
        "시민 토론회",
        description="예산을 함께 정합니다.",
        starts_at=datetime(2026, 11, 25, 5, tzinfo=UTC),
        ends_at=datetime(2026, 11, 25, 6, tzinfo=UTC),
    )
    meta = share.page_meta(BASE, item, BASE + "/static/og/live.png?v=1")
    tags = {(t.attr, t.key): t.content for t in meta.tags}
    assert tags[("property", "og:url")] == "https://live.seoul.go.kr/live/7" == meta.canonical
    assert tags[("property", "og:type")] == "video.other"
    assert tags[("property", "og:title")] == "시민 토론회"
    assert tags[("property", "og:description")] == "예산을 함께 정합니다."
    assert tags[("property", "og:image")] == BASE + "/static/og/live.png?v=1"
    assert tags[("property", "og:image:width")] == "1200"
    assert tags[("property", "og:image:height")] == "630"
    assert tags[("property", "og:image:alt")] == "라이브서울 생방송"
    assert tags[("property", "og:locale")] == "ko_KR"
    assert tags[("property", "og:site_name")] == "라이브서울"
    assert tags[("name", "twitter:card")] == "summary_large_image"
    alternates = [t.content for t in meta.tags if t.key == "og:locale:alternate"]
    assert alternates == ["en_US", "ja_JP"]
    (ld,) = meta.json_ld
    assert ld["@type"] == "VideoObject" and ld["embedUrl"] == BASE + "/embed/broadcasts/7"
    assert ld["publication"] == {
        "@type": "BroadcastEvent",
        "isLiveBroadcast": True,
        "name": "시민 토론회",
        "startDate": "2026-11-25T05:00:00+00:00",
        "endDate": "2026-11-25T06:00:00+00:00",
    }
    assert ld["uploadDate"] == "2026-11-25T05:00:00+00:00"
    assert meta.oembed_url == (
        BASE + "/oembed?url=https%3A%2F%2Flive.seoul.go.kr%2Flive%2F7&format=json"
    )


def test_page_meta_in_english_and_for_replays() -> None:
    """The page's locale leads og:locale; a replay's JSON-LD carries its ISO duration."""
    item = share.for_replay(4, "Budget", offset=30, duration_seconds=3725)
    meta = share.page_meta(BASE, item, BASE + "/og.png", locale="en")
    tags = {t.key: t.content for t in meta.tags if t.key != "og:locale:alternate"}
    assert tags["og:locale"] == "en_US" and tags["og:site_name"] == "Live Seoul"
    assert tags["og:url"] == BASE + "/replays/4?t=30"
    assert meta.json_ld[0]["duration"] == "PT1H2M5S"
    assert share.iso_duration(0) == "PT0S" and share.iso_duration(60) == "PT1M"


def test_kakao_feed_template() -> None:
    """The Kakao feed: title, description, 1200×630 image, link, and two buttons."""
    item = share.for_broadcast(3, "청년 정책 생중계")
    feed = share.kakao_feed(BASE, item, BASE + "/static/og/live.png")
    own = BASE + "/live/3?utm_source=kakaotalk&utm_medium=social&utm_campaign=live-3"
    assert feed == {
        "objectType": "feed",
        "content": {
            "title": "청년 정책 생중계",
            "description": "서울특별시 소셜방송 라이브서울에서 함께 보세요.",
            "imageUrl": BASE + "/static/og/live.png",
            "imageWidth": 1200,
            "imageHeight": 630,
            "link": {"mobileWebUrl": own, "webUrl": own},
        },
        "buttons": [
            {"title": "생방송 보기", "link": {"mobileWebUrl": own, "webUrl": own}},
            {
                "title": "다시보기",
                "link": {"mobileWebUrl": BASE + "/replays", "webUrl": BASE + "/replays"},
            },
        ],
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://live.seoul.go.kr/live/12", share.PageRef("live", "12")),
        ("https://LIVE.seoul.go.kr:443/live/12?utm_source=x#top", share.PageRef("live", "12")),
        ("/live/12", share.PageRef("live", "12")),
        ("/replays/5?t=1m30s", share.PageRef("replay", "5", 90)),
        ("https://live.seoul.go.kr/replays/5?t=95", share.PageRef("replay", "5", 95)),
        ("/schedule?date=2026-11-25", share.PageRef("schedule", "2026-11-25")),
        (
            "/schedule?date=2026-11-25#at-1400",
            share.PageRef("schedule", "2026-11-25", anchor="at-1400"),
        ),
        (
            "/schedule/2026-11-25#at-093015",
            share.PageRef("schedule", "2026-11-25", anchor="at-093015"),
        ),
        ("/schedule?date=2026-11-25#at-2500", share.PageRef("schedule", "2026-11-25")),
        ("/schedule/2026-11-25", share.PageRef("schedule", "2026-11-25")),
        ("/schedule", share.PageRef("schedule", "today")),
        ("/embed/broadcasts/3", share.PageRef("live", "3")),
        ("/broadcasts/3", share.PageRef("live", "3")),
    ],
)
def test_own_pages_are_accepted(url: str, expected: share.PageRef) -> None:
    """Our own pages parse, by absolute URL or path; UTM and fragments are ignored."""
    assert share.parse_page_url(url, BASE) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://evil.com/live/1",
        "//evil.com/live/1",
        "///evil.com/live/1",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.domain)//live/1",
        "data:text/html,<script>alert(1)</script>",
        "https://live.seoul.go.kr@evil.com/live/1",
        "https://evil.com@live.seoul.go.kr/live/1",
        "https://user:pass@live.seoul.go.kr/live/1",
        "https://live.seoul.go.kr.evil.com/live/1",
        "https://live.seoul.go.kr./live/1",
        "http://live.seoul.go.kr/live/1",
        "https://live.seoul.go.kr:8443/live/1",
        "https://live.seoul.go.kr:99999/live/1",
        "/\\evil.com/live/1",
        "\\\\evil.com\\live\\1",
        "https:\\\\evil.com/live/1",
        "https://live.seoul.go.kr\\@evil.com/live/1",
        " https://live.seoul.go.kr/live/1",
        "/live/1\n",
        "/live/1\x00",
        "live/1",
        "/live/abc",
        "/live/0",
        "/live/99999999999999999999",
        "/live/1/../../admin",
        "/admin",
        "/replays/5?t=soon",
        "/schedule?date=2026-13-01",
        "%2F%2Fevil.com/live/1",
        "/" + "a" * 3000,
    ],
)
def test_foreign_and_tricky_urls_are_refused(url: str) -> None:
    """Other hosts, schemes, userinfo, backslashes, whitespace and unknown paths: refused."""
    with pytest.raises(share.ShareUrlError):
        share.parse_page_url(url, BASE)


def test_clean_hashtag_and_clock() -> None:
    """Hashtags lose '#', spaces and punctuation; offsets read as players show them."""
    assert share.clean_hashtag("#서울 시청!") == "서울시청"
    assert share.clean_hashtag("＃Seoul_2026") == "Seoul_2026"
    assert format_clock(95) == "1:35" and format_clock(3725) == "1:02:05"
    assert share.parse_offset("1h2m5s") == 3725 and share.parse_offset("90") == 90
