"""ReplayStore against a real database (SQLite and PostgreSQL): live-to-replay, search,
pages, edits, views."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay import Caption, CursorError, ReplayEdit, ReplayQuery
from replay.search import squash
from tests.replay.kit import T0, Stores, stores


async def titles(s: Stores, text: str, **kw: object) -> list[str]:
    page = await s.replays.search(ReplayQuery(text=text, **kw))  # type: ignore[arg-type]
    return [r.title for r in page.items]


async def test_ended_broadcast_becomes_a_replay_once(database_url: str) -> None:
    """create_from_broadcast copies the broadcast (title, staff, times), derives the duration,
    keeps chapters in order, and returns the same replay when called again."""
    async with stores(database_url) as s:
        broadcast = await s.add_broadcast(
            "시장과의 대화",
            minutes=90,
            category="시정",
            staff=("오세훈", "김교통"),
            description="시민 질의응답",
        )
        first = await s.replays.create_from_broadcast(
            broadcast,
            recording_url="/rec/1.m3u8",
            chapters=[(600, "질의"), (0, "인사")],
            captions=[Caption("ko", "한국어", "/rec/1.ko.vtt")],
        )
        again = await s.replays.create_from_broadcast(broadcast, recording_url="/other.m3u8")
        assert again == first
        assert first.broadcast_id == broadcast.id
        assert first.duration_seconds == 90 * 60
        assert first.staff == ("오세훈", "김교통")
        assert first.recording_started_at == broadcast.starts_at == first.aired_at
        assert [c.title for c in first.chapters] == ["인사", "질의"]
        assert first.captions[0].language == "ko"
        assert (await s.replays.get(first.id)) == first
        assert await titles(s, "질의응답") == ["시장과의 대화"]


async def test_concurrent_transitions_create_one_replay(database_url: str) -> None:
    """Two end-of-broadcast events racing still leave exactly one replay."""
    async with stores(database_url) as s:
        broadcast = await s.add_broadcast("동시 종료")
        made = await asyncio.gather(
            *(s.replays.create_from_broadcast(broadcast, recording_url="/x.m3u8") for _ in range(5))
        )
        assert len({r.id for r in made}) == 1


async def test_chapter_outside_recording_is_refused(database_url: str) -> None:
    """A chapter after the end raises ValueError and writes nothing."""
    async with stores(database_url) as s:
        broadcast = await s.add_broadcast("짧은 방송", minutes=1)
        with pytest.raises(ValueError, match="outside"):
            await s.replays.create_from_broadcast(
                broadcast, recording_url="/x.m3u8", chapters=[(61, "너무 늦음")]
            )
        assert await s.replays.for_broadcast(broadcast.id) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("청책토론", ["청책토론회를 엽니다"]),
        ("교통", ["교통정책 설명회"]),
        ("정책", ["교통정책 설명회"]),
        ("책", ["교통정책 설명회", "청책토론회를 엽니다"]),
        ("설명회 교통", ["교통정책 설명회"]),
        ("traffic", ["Seoul traffic-calming forum"]),
        ("CALM", ["Seoul traffic-calming forum"]),
        ("ai", ["AI and the city"]),
        ("東京", ["東京都との交流会"]),
        ("交流会", ["東京都との交流会"]),
        ("ＡＩ", ["AI and the city"]),
        ("김교통", ["교통정책 설명회"]),
        ("없는말", []),
    ],
)
async def test_substring_search_in_korean_english_japanese(
    database_url: str, query: str, expected: list[str]
) -> None:
    """Korean finds substrings inside words of any length ("청책토론" in "청책토론회를",
    "교통" in "교통정책"); English is case-insensitive; Japanese and staff names work too."""
    async with stores(database_url) as s:
        await s.publish("청책토론회를 엽니다", starts_at=T0)
        await s.publish("교통정책 설명회", starts_at=T0 + timedelta(days=1), staff=("김교통",))
        await s.publish("Seoul traffic-calming forum", starts_at=T0 + timedelta(days=2))
        await s.publish("東京都との交流会", starts_at=T0 + timedelta(days=3))
        await s.publish("AI and the city", starts_at=T0 + timedelta(days=4))
        found = await titles(s, query)
        assert sorted(found) == sorted(expected)


HOSTILE = [
    '"',
    '""',
    '"청책',
    "AND",
    "OR",
    "NOT",
    "교통 AND",
    "NEAR(교통 정책)",
    "*",
    "교*",
    "^교통",
    "document:교통",
    "title:",
    "(",
    ")",
    "((교통",
    "교통)",
    "-교통",
    "+",
    "'; DROP TABLE replays; --",
    "%",
    "_",
    "\\",
    "NEAR",
    "a OR b",
    "{교통}",
    ":)",
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_are_searched_as_text(database_url: str, query: str) -> None:
    """Quotes, operators, `*`, NEAR, `^`, column filters and unbalanced parentheses never
    raise, and match only replays that contain them as text."""
    async with stores(database_url) as s:
        await s.publish("교통정책 설명회")
        await s.publish('특수문자 "따옴표" (괄호 NEAR AND OR NOT * ^ : % _ \\ {교통} :) 제목')
        found = await titles(s, query)
        for title in found:
            assert all(term.lower() in title.lower() for term in query.split())


@given(st.text(alphabet='교통정책토론회 AaBb東京"*():^%_-', min_size=1, max_size=12))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_search_matches_exactly_the_titles_containing_every_term(
    database_url: str, query: str
) -> None:
    """For any query, the results are exactly the titles containing every term (case-folded,
    with or without the title's spaces): the indexes never miss a substring and never
    invent one."""
    corpus = ["교통정책 토론회", "AAbb 東京 교통", '"특수" (문자) *^:%_-', "정책 a-b"]

    async def run() -> list[str]:
        async with stores(database_url) as s:
            existing = [r.title for r in (await s.replays.search(ReplayQuery(limit=100))).items]
            for title in corpus:
                if title not in existing:  # category "행사" shares no letter with queries
                    await s.publish(title, category="행사")
            return await titles(s, query, limit=100)

    found = asyncio.run(run())
    words = query.lower().split()
    expected = [t for t in corpus if all(w in t.lower() or w in squash(t) for w in words)]
    assert sorted(found) == sorted(expected)


async def test_filters_category_dates_staff(database_url: str) -> None:
    """Category, aired date range [from, to) and staff filter the catalog."""
    async with stores(database_url) as s:
        await s.publish("가", category="교통", starts_at=T0, staff=("김서울",))
        await s.publish("나", category="문화", starts_at=T0 + timedelta(days=1))
        await s.publish("다", category="교통", starts_at=T0 + timedelta(days=2), staff=("김서울",))
        assert await titles(s, "", category="교통") == ["다", "가"]
        assert await titles(
            s, "", aired_from=T0 + timedelta(hours=1), aired_to=T0 + timedelta(days=2)
        ) == ["나"]
        assert await titles(s, "", staff="김서울") == ["다", "가"]
        assert await titles(s, "", staff="김서울", aired_to=T0 + timedelta(days=1)) == ["가"]


async def test_spacing_differences_are_ignored_both_ways(database_url: str) -> None:
    """ "보행친화" finds "보행 친화", "디지털배움터" finds "디지털 배움터" and the other way
    round; a word that is not there still finds nothing."""
    async with stores(database_url) as s:
        await s.publish("청책토론회: 보행 친화 도시 서울", starts_at=T0)
        await s.publish("어르신 디지털배움터 공개 수업", starts_at=T0 + timedelta(days=1))
        await s.publish("디지털 배움터 개강", starts_at=T0 + timedelta(days=2))
        assert await titles(s, "보행친화") == ["청책토론회: 보행 친화 도시 서울"]
        assert await titles(s, "보행 친화") == ["청책토론회: 보행 친화 도시 서울"]
        both = ["디지털 배움터 개강", "어르신 디지털배움터 공개 수업"]
        assert await titles(s, "디지털배움터") == both
        assert await titles(s, "디지털 배움터") == both
        assert await titles(s, "배움터개강") == ["디지털 배움터 개강"]
        assert await titles(s, "보행친화도로") == []


async def test_staff_filter_matches_part_of_a_title(database_url: str) -> None:
    """The staff filter finds part of a name or post ("교통" finds 도시교통실장), spacing
    aside, and nothing else."""
    async with stores(database_url) as s:
        await s.publish("가", starts_at=T0, staff=("도시교통실장", "보행정책과장"))
        await s.publish("나", starts_at=T0 + timedelta(days=1), staff=("기후환경본부장",))
        await s.publish("다", starts_at=T0 + timedelta(days=2), staff=("교통정책과장",))
        assert await titles(s, "", staff="교통") == ["다", "가"]
        assert await titles(s, "", staff="도시교통 실장") == ["가"]
        assert await titles(s, "", staff="교통국") == []
        assert await titles(s, "가", staff="기후") == []


async def test_suggestions_offer_names_and_titles(database_url: str) -> None:
    """What the search fields suggest: staff names and titles containing the typed text,
    spacing aside; nothing for empty text."""
    async with stores(database_url) as s:
        await s.publish("대중교통 요금 자문위원회", starts_at=T0, staff=("도시교통실장",))
        await s.publish(
            "청책토론회: 보행 친화 도시 서울",
            starts_at=T0 + timedelta(days=1),
            staff=("교통정책과장",),
        )
        assert await s.replays.suggest("교통") == (
            ["교통정책과장", "도시교통실장"],
            ["대중교통 요금 자문위원회"],
        )
        assert await s.replays.suggest("보행친화") == ([], ["청책토론회: 보행 친화 도시 서울"])
        assert await s.replays.suggest("  ") == ([], [])


async def test_keyset_pages_are_stable_under_concurrent_inserts(database_url: str) -> None:
    """Paging newest-first while new replays keep arriving (newer and older ones, with equal
    air times) returns every replay that existed at the start exactly once."""
    async with stores(database_url) as s:
        initial = set()
        for i in range(23):
            initial.add(await s.publish(f"회차 {i}", starts_at=T0 + timedelta(hours=i // 2)))
        for sort in ("newest", "most_viewed"):
            seen: list[int] = []
            cursor = None
            step = 0
            while True:
                page = await s.replays.search(ReplayQuery(sort=sort, cursor=cursor, limit=4))
                seen.extend(r.id for r in page.items)
                step += 1
                await s.publish(f"새 회차 {sort} {step}", starts_at=T0 + timedelta(hours=step))
                await s.publish(f"옛 회차 {sort} {step}", starts_at=T0 - timedelta(days=step))
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert len(seen) == len(set(seen))
            assert initial <= set(seen)


async def test_cursor_of_another_sort_is_refused(database_url: str) -> None:
    """A newest-cursor used with sort=most_viewed is a CursorError."""
    async with stores(database_url) as s:
        for i in range(3):
            await s.publish(f"회차 {i}")
        page = await s.replays.search(ReplayQuery(limit=1))
        assert page.next_cursor
        with pytest.raises(CursorError):
            await s.replays.search(ReplayQuery(sort="most_viewed", cursor=page.next_cursor))


async def test_most_viewed_counts_each_viewer_once(database_url: str) -> None:
    """A view counts once per viewer; most_viewed orders by the count."""
    async with stores(database_url) as s:
        quiet = await s.publish("조용한 방송")
        popular = await s.publish("인기 방송", starts_at=T0 - timedelta(days=1))
        assert await s.replays.record_view(popular, "a")
        assert not await s.replays.record_view(popular, "a")
        assert await s.replays.record_view(popular, "b")
        assert await s.replays.record_view(quiet, "a")
        page = await s.replays.search(ReplayQuery(sort="most_viewed"))
        assert [(r.id, r.view_count) for r in page.items] == [(popular, 2), (quiet, 1)]


async def test_edit_hide_and_unpublish(database_url: str) -> None:
    """Edits reindex the text; hidden and unpublished replays leave the catalog and the
    channel; get() still finds them."""
    async with stores(database_url) as s:
        first = await s.publish("원래 제목")
        second = await s.publish("둘째 방송")
        edited = await s.replays.update(first, ReplayEdit(title="바뀐 제목", staff=("새직원",)))
        assert edited is not None and edited.title == "바뀐 제목"
        assert await titles(s, "바뀐") == ["바뀐 제목"]
        assert await titles(s, "원래") == []
        assert await titles(s, "", staff="새직원") == ["바뀐 제목"]
        await s.replays.update(first, ReplayEdit(hidden=True))
        await s.replays.update(second, ReplayEdit(status="unpublished"))
        assert await titles(s, "") == []
        got = await s.replays.get(first)
        assert got is not None and got.hidden and got.public
        got = await s.replays.get(second)
        assert got is not None and not got.public
        assert await s.replays.update(999, ReplayEdit(title="없음")) is None


async def test_related_replays(database_url: str) -> None:
    """Related: same category and staff first, then text similarity; never itself."""
    async with stores(database_url) as s:
        me = await s.publish("교통정책 토론회 1부", category="교통", staff=("김교통",))
        await s.publish("전혀 다른 이야기", category="교통", staff=("김교통",))
        await s.publish("교통정책 토론회 2부", category="복지")
        await s.publish("음악회", category="문화")
        replay = await s.replays.get(me)
        assert replay is not None
        related = [r.title for r in await s.replays.related(replay)]
        assert related == ["전혀 다른 이야기", "교통정책 토론회 2부"]


async def test_common_and_rare_word_plans_agree(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a word counts as common (walk the listing index) or rare (sort the matches),
    the same replays come back in the same order."""
    import replay.store

    async with stores(database_url) as s:
        for i in range(12):
            await s.publish(
                f"교통정책 {i}회 {'청책토론' if i % 3 else 'traffic'}",
                starts_at=T0 + timedelta(hours=i),
            )
        queries = ["교통", "청책토론", "교통 traffic", "책", "없는말"]
        rare = [await titles(s, q) for q in queries]
        monkeypatch.setattr(replay.store, "COMMON_MATCHES", 2)
        common = [await titles(s, q) for q in queries]
        assert common == rare
        assert rare[0][0] == "교통정책 11회 청책토론"


async def test_channel_candidates_are_the_listed_replays(database_url: str) -> None:
    """The channel may schedule published, not hidden replays only, with their popularity."""
    async with stores(database_url) as s:
        shown = await s.publish("편성 가능", minutes=30)
        hidden = await s.publish("숨김")
        gone = await s.publish("비공개")
        await s.replays.update(hidden, ReplayEdit(hidden=True))
        await s.replays.update(gone, ReplayEdit(status="unpublished"))
        await s.replays.record_view(shown, "a")
        [candidate] = await s.replays.channel_candidates()
        assert (
            candidate.id,
            candidate.title,
            candidate.duration_seconds,
            candidate.popularity,
        ) == (shown, "편성 가능", 1800, 1)
        assert candidate.published_at.tzinfo is not None


def corpus(count: int) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(title, description, category, staff) of `count` replays, Korean mostly, seeded."""
    import random

    rng = random.Random(11)
    words = [
        "교통정책",
        "청책토론회",
        "주택공급",
        "미세먼지",
        "지하철",
        "버스노선",
        "따릉이",
        "한강공원",
        "광화문",
        "보행",
        "친화",
        "도시",
        "서울",
        "시장과의대화",
        "재개발",
        "traffic",
        "Forum",
        "東京都",
        "交通",
        "AI",
        "설명회",
        "책",
    ]
    names = ("김교통", "이주택", "박 민준", "최서연")
    return [
        (
            " ".join(rng.sample(words, rng.randint(2, 4))),
            " ".join(rng.sample(words, rng.randint(3, 6))),
            rng.choice(("교통", "주택", "문화")),
            tuple(rng.sample(names, rng.randint(0, 2))),
        )
        for _ in range(count)
    ]


SAME_QUERIES = [
    ("교통정책", {}),
    ("교통", {}),
    ("책", {}),
    ("통", {}),
    ("정책 교통", {}),
    ("청책토론", {}),
    ("친화도시", {}),
    ("보행 친화", {}),
    ("traffic", {}),
    ("FORUM", {}),
    ("東京", {}),
    ("交", {}),
    ("ai", {}),
    ("민준", {}),
    ("박민준", {}),
    ("없는말", {}),
    ("", {"staff": "민준"}),
    ("서울", {"category": "교통"}),
    ("", {"sort": "most_viewed"}),
    ("도시", {"sort": "most_viewed"}),
    ('"교통', {}),
    ("%", {}),
    ("_", {}),
    ("a-b", {}),
]


async def test_both_engines_answer_every_query_alike(
    tmp_path: Path, postgres_schema: tuple[str, str]
) -> None:
    """The same catalog on SQLite (FTS5) and PostgreSQL (pg_trgm and the bigram tsvector):
    every query, filter and sort returns the same replays in the same order, page by page."""
    engines = [f"sqlite:///{tmp_path / 'same.db'}", postgres_schema[0]]
    answers: list[list[list[str]]] = []
    for url in engines:
        async with stores(url) as s:
            for i, (title, description, category, staff) in enumerate(corpus(120)):
                replay_id = await s.publish(
                    title,
                    description=description,
                    category=category,
                    staff=staff,
                    starts_at=T0 + timedelta(hours=i),
                )
                for viewer in range(i % 7):
                    await s.replays.record_view(replay_id, f"v{viewer}")
            pages: list[list[str]] = []
            for text, extra in SAME_QUERIES:
                cursor = None
                while True:
                    page = await s.replays.search(
                        ReplayQuery(text=text, limit=25, cursor=cursor, **extra)
                    )
                    pages.append([r.title + "|" + str(r.aired_at) for r in page.items])
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
            answers.append(pages)
    assert answers[0] == answers[1]
    assert sum(len(p) for p in answers[0]) > 300  # the queries do find things
