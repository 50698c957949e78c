"""The pure rules of the question track: statuses, roles, votes, order, tally."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat import CommentRejected
from livechat.questions.questions import (
    STATUSES,
    TRANSITIONS,
    Question,
    QuestionStatus,
    Tally,
    after_answer,
    allowed_moves,
    check_department,
    check_owner,
    check_transition,
    check_vote,
    clean_answer,
    clean_department,
    clean_note,
    merge_tallies,
    parse_sort,
    sort_questions,
)

ROLES = ("viewer", "official", "moderator", "admin")
OPEN, ANSWERED, FORWARDED, WILL_REFLECT, NOT_IN_REMIT = QuestionStatus


def code_of(fn: object, *args: object) -> str | None:
    try:
        fn(*args)  # type: ignore[operator]
    except CommentRejected as exc:
        return exc.code
    return None


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OPEN, FORWARDED),
        (OPEN, WILL_REFLECT),
        (OPEN, NOT_IN_REMIT),
        (FORWARDED, WILL_REFLECT),
        (FORWARDED, NOT_IN_REMIT),
        (ANSWERED, WILL_REFLECT),
        (ANSWERED, FORWARDED),
        (NOT_IN_REMIT, FORWARDED),
    ],
)
def test_official_may_make_each_documented_move(current: str, target: str) -> None:
    """Every move in the documented graph is open to officials, moderators and admins."""
    for role in ("official", "moderator", "admin"):
        check_transition(role, current, target)


def test_answered_only_by_answering() -> None:
    """No status change makes a question `answered` (`answer_required`), for any role
    and any current status: only an answer does; the menu never offers it."""
    for role in ("official", "moderator", "admin"):
        for current in (OPEN, FORWARDED, WILL_REFLECT, NOT_IN_REMIT):
            assert code_of(check_transition, role, current, ANSWERED) == "answer_required"
            assert ANSWERED not in allowed_moves(role, current)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (WILL_REFLECT, NOT_IN_REMIT),
        (ANSWERED, NOT_IN_REMIT),
    ],
)
def test_moves_outside_the_graph_are_refused(current: str, target: str) -> None:
    """A move the graph does not contain is `bad_transition`, whoever asks."""
    assert code_of(check_transition, "admin", current, target) == "bad_transition"


def test_viewers_never_change_a_status() -> None:
    """A viewer is refused (`forbidden`) for every pair of statuses."""
    for current in STATUSES:
        for target in STATUSES:
            if target != current:
                assert code_of(check_transition, "viewer", current, target) == "forbidden"


def test_only_moderators_reopen() -> None:
    """Reopening is for moderators and admins; an official gets `forbidden`."""
    assert code_of(check_transition, "official", ANSWERED, OPEN) == "forbidden"
    check_transition("moderator", ANSWERED, OPEN)
    check_transition("admin", WILL_REFLECT, OPEN)


def test_same_status_and_unknown_status_are_refused() -> None:
    """Moving to the current status is `no_change`; an unknown status is `bad_status`."""
    assert code_of(check_transition, "official", OPEN, OPEN) == "no_change"
    assert code_of(check_transition, "official", OPEN, "closed") == "bad_status"


@settings(max_examples=150)
@given(st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(STATUSES)), max_size=30))
def test_any_run_of_requests_stays_on_the_graph(requests: list[tuple[str, str]]) -> None:
    """Applying random (role, target) requests, only allowed ones succeed, and every
    accepted move is an edge of the graph (or a moderator's reopen)."""
    status = OPEN
    for role, target in requests:
        try:
            check_transition(role, status, target)
        except CommentRejected:
            assert target not in allowed_moves(role, status) or target == status
            continue
        assert role != "viewer"
        assert target in TRANSITIONS[status] or (target == OPEN and role in ("moderator", "admin"))
        status = target


def test_answering_keeps_a_policy_promise() -> None:
    """An answer makes a question `answered`, except one already `will_reflect`."""
    assert [after_answer(s) for s in STATUSES] == [
        ANSWERED,
        ANSWERED,
        ANSWERED,
        WILL_REFLECT,
        ANSWERED,
    ]


def test_forwarding_needs_a_department() -> None:
    """`forwarded` without a department is refused, naming the field."""
    with pytest.raises(CommentRejected) as info:
        check_department(FORWARDED, "")
    assert info.value.extra["field"] == "department"
    check_department(FORWARDED, "교통정책과")
    check_department(ANSWERED, "")


def test_a_forwarded_question_belongs_to_its_department() -> None:
    """Once forwarded, only officials of that department (spacing and case aside) or
    moderators and admins may act on it; before forwarding, any official may."""
    check_owner("official", "도시 교통실", FORWARDED, "도시교통실")
    check_owner("official", "Transport Office", FORWARDED, "transport  office")
    check_owner("moderator", "", FORWARDED, "도시교통실")
    check_owner("admin", "복지정책과", FORWARDED, "도시교통실")
    check_owner("official", "복지정책과", ANSWERED, "도시교통실")
    check_owner("official", "복지정책과", OPEN, "")
    for department in ("복지정책과", ""):
        with pytest.raises(CommentRejected) as info:
            check_owner("official", department, FORWARDED, "도시교통실")
        assert info.value.code == "forbidden" and "도시교통실" in info.value.message


def test_nobody_votes_for_their_own_question() -> None:
    """A vote from the asker is `own_question`; anyone else may vote."""
    assert code_of(check_vote, "g:a", "g:a") == "own_question"
    check_vote("g:b", "g:a")


def test_notes_are_cleaned_and_bounded() -> None:
    """Notes and departments are normalised and limited; an empty answer is refused."""
    assert clean_note("  교통정책과로\u202e 전달  ") == "교통정책과로 전달"
    assert code_of(clean_note, "가" * 201) == "too_long"
    assert code_of(clean_note, 5) == "bad_field"
    assert clean_department(" 교통   정책과 ") == "교통 정책과"
    assert code_of(clean_answer, "   ") == "empty"
    assert parse_sort(None) == "votes" and parse_sort("time") == "time"
    assert code_of(parse_sort, "random") == "bad_sort"


def q(qid: int, votes: int) -> Question:
    return Question(
        id=qid,
        broadcast_id=1,
        text="?",
        author="a",
        role="viewer",
        created_at="",
        asker_key=f"g:{qid}",
        votes=votes,
    )


@settings(max_examples=100)
@given(st.lists(st.integers(0, 20), max_size=25))
def test_sorting_by_votes_then_age_and_by_time(votes: list[int]) -> None:
    """By votes: never fewer votes before more, older first among equals; by time: newest
    first. Both are permutations of the input."""
    questions = [q(i + 1, v) for i, v in enumerate(votes)]
    by_votes = sort_questions(questions, "votes")
    assert sorted(x.id for x in by_votes) == [x.id for x in questions]
    for a, b in itertools.pairwise(by_votes):
        assert (a.votes, -a.id) >= (b.votes, -b.id)
    assert [x.id for x in sort_questions(questions, "time")] == sorted(
        (x.id for x in questions), reverse=True
    )


def test_tally_counts_only_real_answers() -> None:
    """The percentage is real answers of questions received, rounded down (856 of 1,196
    is 71%); forwarded or out-of-remit questions are responses, not answers, and a
    promise answered keeps counting; merging tallies adds them up."""
    tally = Tally.of(
        [(ANSWERED, True)] * 776
        + [(WILL_REFLECT, True)] * 80
        + [(FORWARDED, False)] * 156
        + [(NOT_IN_REMIT, False)] * 20
        + [(OPEN, False)] * 164
    )
    assert (tally.received, tally.answers, tally.percent) == (1196, 856, 71)
    assert tally.responded == 1032
    total = merge_tallies([tally, Tally.of([OPEN, ANSWERED])])
    assert total.public()["received"] == 1198 and total.public()["answered"] == 777
    assert total.answers == 857
    assert Tally().percent == 0
