"""The demo channel (`live-seoul serve --demo`): a week of Seoul broadcasts, ~40 replays,
comments, and one broadcast live at any hour.

`load_demo` is idempotent and safe when several workers start at once: each Seoul day is
written by `ScheduleStore.create_many` in one locked transaction together with a marker
(`demo:YYYY-MM-DD`), so exactly one process writes it; replays (`create_from_broadcast`
returns the existing one) and comments (`INSERT OR IGNORE` on fixed client ids) are
idempotent by construction. A server restarted days later adds the days it lacks.

`ensure_demo_live` keeps one broadcast live: it ends lives that are over, starts the
planned broadcast that is due, and otherwise opens an "열린 스튜디오" segment until the
next broadcast (at most an hour). The lifespan runs it every `DIRECTOR_INTERVAL` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

from livechat import CommentHub, CommentStore
from replay import Caption, ReplayEdit, ReplayStore
from schedule import (
    SEOUL,
    BatchError,
    Broadcast,
    BroadcastDraft,
    BroadcastError,
    ScheduleStore,
)
from web.schedule.routes import publish_status

log = logging.getLogger("web.demo")

DEMO_MEDIA = "/static/media/demo-replay/index.m3u8"
DEMO_CAPTIONS = (
    Caption("ko", "한국어", "/static/media/demo-replay/captions.ko.vtt"),
    Caption("en", "English", "/static/media/demo-replay/captions.en.vtt"),
)
DIRECTOR_INTERVAL = 20.0
ARCHIVE_DAYS = 20  # older ended broadcasts, so the catalog has ~40 replays
STUDIO_TITLE = "라이브서울 24시 열린 스튜디오"
STUDIO_LENGTH = timedelta(hours=1)

# (category, title, description, staff, minutes)
PROGRAMMES: tuple[tuple[str, str, str, tuple[str, ...], int], ...] = (
    (
        "시정현장",
        "서울시장이 간다: 청계천 복원 현장 점검",
        "청계천 보행로 정비 공사 현장을 서울시장이 직접 둘러보고 시민들의 의견을 듣습니다.",
        ("서울시장", "물순환안전국장"),
        60,
    ),
    (
        "시정현장",
        "한강 수상버스 운항 준비 현장",
        "한강 리버버스 선착장 공사와 시범 운항 준비 상황을 현장에서 전해 드립니다.",
        ("미래한강본부장", "한강사업기획과장"),
        50,
    ),
    (
        "시정현장",
        "동대문 디자인 플라자 겨울 축제 현장",
        "DDP 빛 축제 준비 현장과 안전 관리 대책을 소개합니다.",
        ("문화본부장",),
        40,
    ),
    (
        "시정현장",
        "침수 취약 지역 빗물 터널 공사 점검",
        "도림천 대심도 빗물 배수 터널 공사 진행 상황을 점검합니다.",
        ("서울시장", "물순환안전국장", "치수안전과장"),
        60,
    ),
    (
        "회의",
        "서울시 확대간부회의 생중계",
        "시정 주요 현안과 부서별 추진 상황을 공유하는 확대간부회의를 생중계합니다.",
        ("서울시장", "행정1부시장", "행정2부시장"),
        90,
    ),
    (
        "회의",
        "대중교통 요금 체계 개편 자문위원회",
        "기후동행카드 이후의 대중교통 요금 체계에 대해 전문가 자문위원들이 논의합니다.",
        ("교통정책과장", "도시교통실장"),
        80,
    ),
    (
        "회의",
        "서울시 재난안전대책본부 겨울철 대비 회의",
        "폭설과 한파에 대비한 제설 장비와 취약계층 보호 대책을 점검합니다.",
        ("행정1부시장", "재난안전관리실장"),
        60,
    ),
    (
        "기자설명회",
        "2027년 서울시 예산안 기자설명회",
        "내년도 예산안의 주요 내용과 분야별 투자 계획을 설명합니다.",
        ("기획조정실장", "예산담당관"),
        45,
    ),
    (
        "기자설명회",
        "버스 노선 개편안 발표",
        "출퇴근 혼잡 완화를 위한 시내버스 노선 개편안을 발표하고 질문에 답합니다.",
        ("교통정책과장", "버스정책과장"),
        40,
    ),
    (
        "기자설명회",
        "서울형 키즈카페 확대 계획 발표",
        "서울형 키즈카페를 자치구별로 확대하는 계획을 설명합니다.",
        ("여성가족실장",),
        40,
    ),
    (
        "기자설명회",
        "미세먼지 계절관리제 시행 브리핑",
        "12월부터 시행되는 미세먼지 계절관리제의 주요 조치를 안내합니다.",
        ("기후환경본부장", "대기정책과장"),
        40,
    ),
    (
        "시민참여",
        "시민과 함께하는 정책 톡: 1인 가구 지원",
        "1인 가구 시민들과 함께 안심 귀가, 병원 동행 서비스 개선 방안을 이야기합니다.",
        ("1인가구특별대책추진단장",),
        60,
    ),
    (
        "시민참여",
        "청년 정책 타운홀 미팅",
        "청년 월세 지원과 일자리 정책에 대해 청년들이 직접 묻고 서울시가 답합니다.",
        ("서울시장", "청년정책과장"),
        90,
    ),
    (
        "시민참여",
        "어르신 디지털 배움터 공개 수업",
        "키오스크와 모바일 민원 사용법을 어르신들과 함께 배웁니다.",
        ("디지털정책과장",),
        50,
    ),
    (
        "정책토론",
        "청책토론회: 보행 친화 도시 서울",
        "보행자 중심 도로 재편에 대해 전문가와 시민이 함께 토론합니다.",
        ("도시교통실장", "보행정책과장"),
        100,
    ),
    (
        "정책토론",
        "청책토론회: 기후동행카드 1년의 성과와 과제",
        "기후동행카드 이용 실적을 돌아보고 개선 과제를 토론합니다.",
        ("교통정책과장", "기후환경본부장"),
        90,
    ),
)

START_TIMES = (time(9, 30), time(11, 0), time(14, 0), time(16, 0), time(19, 30), time(21, 0))

COMMENTS = (
    "안녕하세요, 잘 보고 있습니다!",
    "오늘 주제 정말 궁금했어요.",
    "버스 노선 바뀌면 언제부터 적용되나요?",
    "화질 좋네요 👍",
    "자막도 있어서 좋아요.",
    "우리 동네 이야기도 해 주세요.",
    "질문 답변해 주셔서 감사합니다.",
    "다시보기로 또 볼게요.",
    "현장 분위기가 생생하네요.",
    "좋은 정책 기대합니다!",
)
OFFICIAL_REPLY = (
    "질문 감사합니다. 자세한 일정은 서울시 누리집에 안내해 드리겠습니다.",
    "교통정책과",
    "교통정책과장",
)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, SEOUL).astimezone(UTC)


def _status(start: datetime, end: datetime, now: datetime) -> str:
    if end <= now:
        return "ended"
    return "live" if start <= now else "planned"


def day_drafts(day: date, now: datetime, *, count: int | None = None) -> list[BroadcastDraft]:
    """The demo broadcasts of one Seoul day: same day, same broadcasts (seeded by date)."""
    rng = random.Random(f"live-seoul-demo:{day.isoformat()}")
    weekend = day.weekday() >= 5
    n = count if count is not None else rng.randint(3, 4) if weekend else rng.randint(4, 6)
    starts = sorted(rng.sample(START_TIMES, n))
    pool = rng.sample(PROGRAMMES, len(PROGRAMMES))
    drafts = []
    for i, moment in enumerate(starts):
        start = _at(day, moment)
        room = _at(day, starts[i + 1]) - start if i + 1 < len(starts) else timedelta(hours=3)
        fits = next(p for p in pool if timedelta(minutes=p[4]) <= room)
        pool.remove(fits)
        category, title, description, staff, minutes = fits
        end = start + timedelta(minutes=minutes)
        drafts.append(
            BroadcastDraft(
                title=title,
                category=category,
                starts_at=start,
                ends_at=end,
                description=description,
                stream_url=DEMO_MEDIA,
                staff=staff,
                status=_status(start, end, now),
            )
        )
    return drafts


def archive_drafts(day: date, now: datetime) -> list[BroadcastDraft]:
    """One or two past broadcasts for an older day (they become catalog replays)."""
    rng = random.Random(f"live-seoul-archive:{day.isoformat()}")
    return day_drafts(day, now, count=1 if rng.random() < 0.6 else 2)


async def load_demo(
    schedule: ScheduleStore,
    replays: ReplayStore,
    comments: CommentStore,
    *,
    now: datetime | None = None,
) -> None:
    """Fill the demo week (today-3 … today+3 in Seoul), the archive, replays, comments."""
    instant = now or datetime.now(UTC)
    today = instant.astimezone(SEOUL).date()
    for offset in range(-ARCHIVE_DAYS, 4):
        day = today + timedelta(days=offset)
        drafts = archive_drafts(day, instant) if offset < -3 else day_drafts(day, instant)
        try:
            await schedule.create_many(drafts, marker=f"demo:{day.isoformat()}", now=instant)
        except BatchError as exc:  # an operator's broadcast already holds that time
            log.warning("demo day %s skipped: %s", day, exc.problems[0][1].message)
    await _demo_replays(schedule, replays, instant)
    await _demo_comments(schedule, comments, instant)
    await ensure_demo_live(schedule, replays, now=instant)


async def _ended_demo(schedule: ScheduleStore, instant: datetime) -> list[Broadcast]:
    past = await schedule.between(instant - timedelta(days=ARCHIVE_DAYS + 1), instant)
    return [b for b in past if b.status == "ended" and b.stream_url == DEMO_MEDIA]


async def _demo_replays(schedule: ScheduleStore, replays: ReplayStore, instant: datetime) -> None:
    for b in await _ended_demo(schedule, instant):
        await make_replay(replays, b)
    # A few views, so "popular" means something on the channel and in the catalog.
    for b in (await _ended_demo(schedule, instant))[-12:]:
        found = await replays.for_broadcast(b.id)
        if found is None:
            continue
        for n in range(random.Random(b.id).randint(1, 6)):
            await replays.record_view(found.id, f"demo-viewer-{n}")


async def make_replay(replays: ReplayStore, b: Broadcast) -> int:
    length = b.duration_seconds
    chapters = [
        (0, "오프닝"),
        (min(120, length // 3), "주요 내용"),
        (min(150, 2 * length // 3), "질의응답"),
    ]
    replay = await replays.create_from_broadcast(
        b,
        recording_url=b.stream_url or DEMO_MEDIA,
        chapters=chapters,
        captions=DEMO_CAPTIONS if b.stream_url == DEMO_MEDIA else (),
    )
    if replay.thumbnail_seconds is None and b.stream_url == DEMO_MEDIA:
        # Every demo replay plays the same 3-minute recording: a different second each,
        # so their thumbnails (real frames, see web.rendering.pictures) tell them apart.
        await replays.update(
            replay.id,
            ReplayEdit(thumbnail_seconds=random.Random(f"thumb:{b.id}").randrange(5, 175)),
        )
    return replay.id


def comment_rows(b: Broadcast, instant: datetime, count: int = 6) -> list[tuple[object, ...]]:
    """Deterministic demo comments over the broadcast's air time (up to `instant`)."""
    rng = random.Random(f"comments:{b.id}")
    end = min(b.ends_at, instant)
    span = max(1.0, (end - b.starts_at).total_seconds())
    rows: list[tuple[object, ...]] = []
    for i in range(count):
        created = b.starts_at + timedelta(seconds=span * (i + 1) / (count + 1))
        rows.append(
            (
                b.id,
                f"g:demo-{i % 4}",
                ("시민", "서울러", "한강산책", "마포주민")[i % 4],
                "viewer",
                "",
                f"demo-{b.id}-{i}",
                rng.choice(COMMENTS),
                created.isoformat(timespec="microseconds"),
                None,
                "visible",
                "",
            )
        )
    text, department, name = OFFICIAL_REPLY
    created = b.starts_at + timedelta(seconds=span * 0.95)
    rows.append(
        (
            b.id,
            "u:demo-official",
            name,
            "official",
            department,
            f"demo-{b.id}-answer",
            text,
            created.isoformat(timespec="microseconds"),
            None,
            "visible",
            "",
        )
    )
    return rows


async def _demo_comments(
    schedule: ScheduleStore, comments: CommentStore, instant: datetime
) -> None:
    rows: list[tuple[object, ...]] = []
    for b in await schedule.between(instant - timedelta(days=4), instant):
        if b.stream_url == DEMO_MEDIA and b.starts_at < instant:
            rows.extend(comment_rows(b, instant))
    if rows:
        await comments.insert_many(rows)


# ---- one live at any hour -----------------------------------------------------------------


async def ensure_demo_live(
    schedule: ScheduleStore,
    replays: ReplayStore | None = None,
    hub: CommentHub | None = None,
    *,
    now: datetime | None = None,
) -> Broadcast | None:
    """Keep one demo broadcast live at `now`; return it (None if another worker is
    creating it right now). Ended demo broadcasts get their replay when `replays` is given;
    status changes reach open pages when `hub` is given."""
    instant = now or datetime.now(UTC)
    changed: list[tuple[Broadcast, int | None]] = []
    for b in await schedule.with_status("live"):
        if b.ends_at <= instant and b.stream_url == DEMO_MEDIA:
            ended = await schedule.set_status(b.id, "ended", now=instant)
            if ended is not None:
                replay_id = await make_replay(replays, ended) if replays else None
                changed.append((ended, replay_id))
    nearby = await schedule.between(instant - timedelta(days=1), instant + timedelta(days=1))
    for b in nearby:  # demo broadcasts nobody started: they aired, as far as the demo goes
        if b.status == "planned" and b.ends_at <= instant and b.stream_url == DEMO_MEDIA:
            with contextlib.suppress(BroadcastError):
                await schedule.set_status(b.id, "live", now=instant)
                await schedule.set_status(b.id, "ended", now=instant)
    live = [b for b in await schedule.with_status("live") if b.ends_at > instant]
    result: Broadcast | None = live[0] if live else None
    if result is None:
        due = [b for b in nearby if b.status == "planned" and b.starts_at <= instant < b.ends_at]
        if due:
            try:
                result = await schedule.set_status(due[0].id, "live", now=instant)
            except BroadcastError:
                result = None
            if result is not None:
                changed.append((result, None))
        else:
            result = await _open_studio(schedule, nearby, instant)
            if result is not None:
                changed.append((result, None))
    if hub is not None:
        for b, replay_id in changed:
            publish_status(hub, b, replay_id)
    return result


async def _open_studio(
    schedule: ScheduleStore, nearby: Sequence[Broadcast], instant: datetime
) -> Broadcast | None:
    start = instant.replace(second=0, microsecond=0)
    for b in nearby:
        if b.on_channel and start < b.ends_at <= instant:
            start = b.ends_at
    later = [b.starts_at for b in nearby if b.on_channel and b.starts_at > instant]
    end = min([start + STUDIO_LENGTH, *later])
    if end - start < timedelta(minutes=1):
        return None
    draft = BroadcastDraft(
        title=STUDIO_TITLE,
        category="시민참여",
        starts_at=start,
        ends_at=end,
        description=(
            "언제 들어와도 서울의 지금을 만나는 열린 스튜디오입니다. "
            "시민 여러분의 질문과 의견을 실시간 댓글로 받습니다."
        ),
        stream_url=DEMO_MEDIA,
        staff=("라이브서울 진행자", "시민소통담당관"),
        status="live",
    )
    try:
        return await schedule.create(draft, now=instant)
    except BroadcastError:  # another worker opened it a moment ago
        return None


async def _director(
    schedule: ScheduleStore, replays: ReplayStore, hub: CommentHub | None, interval: float
) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await ensure_demo_live(schedule, replays, hub)
        except Exception:  # keep directing; the next tick tries again
            log.exception("demo director tick failed")


async def start_demo_director(
    stack: contextlib.AsyncExitStack,
    schedule: ScheduleStore,
    replays: ReplayStore,
    hub: CommentHub | None = None,
    interval: float = DIRECTOR_INTERVAL,
) -> None:
    """Run `ensure_demo_live` every `interval` seconds until the lifespan closes `stack`."""
    task = asyncio.create_task(_director(schedule, replays, hub, interval))

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


@contextlib.asynccontextmanager
async def demo_director(
    schedule: ScheduleStore,
    replays: ReplayStore,
    hub: CommentHub | None = None,
    interval: float = DIRECTOR_INTERVAL,
) -> AsyncIterator[None]:
    """The director for as long as the block runs: what `db.leader.elected` runs on the
    one elected process of every host."""
    async with contextlib.AsyncExitStack() as stack:
        await start_demo_director(stack, schedule, replays, hub, interval)
        yield
