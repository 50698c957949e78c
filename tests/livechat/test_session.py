"""The sans-I/O connection state: plain calls, no socket, no database, no event loop."""

from __future__ import annotations

import json
from typing import Any

from livechat import protocol
from livechat.identity import Identity
from livechat.session import (
    Action,
    Close,
    EndSignIn,
    PostComment,
    Recheck,
    ResumeFrom,
    RunCommand,
    SendFrame,
    Session,
    refusal,
)
from livechat.text import CommentRejected

MAX = 8192
GUEST = Identity("g:abc", "guest")
MEMBER = Identity("m:7", "member", mark="kakao")
MODERATOR = Identity("u:1", "mod", role="moderator")
COMMANDS = frozenset({"moderate", "vote"})


def frames(actions: list[Action]) -> list[dict[str, Any]]:
    """The frames among `actions`, decoded; every action must be a `SendFrame`."""
    assert all(isinstance(a, SendFrame) for a in actions), actions
    return [json.loads(a.frame) for a in actions if isinstance(a, SendFrame)]


def msg(**body: Any) -> str:
    return json.dumps(body)


def test_ping_answers_pong_for_anyone() -> None:
    """A ping earns a pong, signed in or not, with no re-check."""
    for who in (None, GUEST, MODERATOR):
        assert frames(Session(who, MAX).receive(msg(type="ping"))) == [{"type": "pong"}]


def test_resume_asks_the_hub_to_resume_without_recheck() -> None:
    """`resume` becomes one ResumeFrom(after), even for staff (no session read)."""
    assert Session(MODERATOR, MAX).receive(msg(type="resume", after=41)) == [ResumeFrom(41)]


def test_post_then_ack() -> None:
    """A guest's post becomes PostComment; the stored comment's outcome becomes an ack."""
    session = Session(GUEST, MAX)
    [action] = session.receive(msg(type="post", client_id="c1", text="hi"))
    assert action == PostComment(protocol.Post("hi", "c1"), GUEST)
    assert isinstance(action, PostComment)
    assert frames(session.posted(action.post, 12, "held", "held for review")) == [
        {"type": "ack", "client_id": "c1", "id": 12, "status": "held", "notice": "held for review"}
    ]


def test_question_flag_travels_with_the_post() -> None:
    """`question: true` reaches the hub on the post."""
    [action] = Session(GUEST, MAX).receive(msg(type="post", client_id="q", text="?", question=True))
    assert isinstance(action, PostComment) and action.post.question


def test_rejected_post_earns_error_with_client_id_and_extra() -> None:
    """A refused comment earns an error frame carrying its client id and the extras."""
    session = Session(GUEST, MAX)
    post = protocol.Post("hi", "c9")
    out = frames(
        session.rejected(post, CommentRejected("rate_limited", "slow down", retry_after=3))
    )
    assert out == [
        {
            "type": "error",
            "code": "rate_limited",
            "message": "slow down",
            "client_id": "c9",
            "retry_after": 3,
        }
    ]


def test_post_without_identity_is_refused() -> None:
    """Without a nickname a post earns `no_session` and reaches no hub."""
    out = frames(Session(None, MAX).receive(msg(type="post", client_id="c1", text="hi")))
    assert [(f["code"], f["client_id"]) for f in out] == [("no_session", "c1")]


def test_staff_and_members_are_rechecked_before_post_and_commands() -> None:
    """Staff and members' posts and commands wait on a session re-check; guests' do not."""
    post = msg(type="post", client_id="c1", text="hi")
    for who in (MODERATOR, MEMBER):
        [action] = Session(who, MAX, COMMANDS).receive(post)
        assert action == Recheck(protocol.Post("hi", "c1"))
    [action] = Session(MODERATOR, MAX, COMMANDS).receive(msg(type="moderate", action="x"))
    assert isinstance(action, Recheck) and isinstance(action.message, protocol.Command)
    assert isinstance(Session(GUEST, MAX).receive(post)[0], PostComment)


def test_recheck_passed_goes_on() -> None:
    """A still-valid session goes on to post (or run the command) as that identity."""
    session = Session(MODERATOR, MAX, COMMANDS)
    [check] = session.receive(msg(type="post", client_id="c1", text="hi"))
    assert isinstance(check, Recheck)
    assert session.rechecked(check.message, True) == [
        PostComment(protocol.Post("hi", "c1"), MODERATOR)
    ]
    command = protocol.Command("moderate", {"type": "moderate"})
    assert session.rechecked(command, True) == [RunCommand(command)]
    assert session.identity == MODERATOR


def test_recheck_failed_ends_the_sign_in_for_good() -> None:
    """A session that ended: `no_session`, the identity is dropped, later posts refused
    without another re-check."""
    session = Session(MODERATOR, MAX, COMMANDS)
    [check] = session.receive(msg(type="post", client_id="c1", text="hi"))
    assert isinstance(check, Recheck)
    out = session.rechecked(check.message, False)
    assert out[-1] == EndSignIn()
    assert [f["code"] for f in frames(out[:-1])] == ["no_session"]
    assert session.identity is None
    again = frames(session.receive(msg(type="post", client_id="c2", text="hi")))
    assert [(f["code"], f["client_id"]) for f in again] == [("no_session", "c2")]


def test_registered_commands_are_dispatched_unknown_ones_refused() -> None:
    """A type the hub registered becomes RunCommand; any other is `unknown_type`."""
    session = Session(GUEST, MAX, COMMANDS)
    [action] = session.receive(msg(type="vote", question_id=3))
    assert action == RunCommand(protocol.Command("vote", {"type": "vote", "question_id": 3}))
    out = frames(Session(GUEST, MAX).receive(msg(type="vote", question_id=3)))
    assert [f["code"] for f in out] == ["unknown_type"]


def test_bad_frames_earn_stable_error_codes_and_the_session_goes_on() -> None:
    """Malformed, non-object, oversized and ill-typed messages each earn one error frame
    with the decoder's code; the next good message is handled as usual."""
    session = Session(GUEST, 64)
    cases = {
        "{not json": "malformed_json",
        "[1, 2]": "not_object",
        msg(type="post", client_id="c", text="x" * 100): "too_large",
        msg(type=3): "bad_field",
        msg(type="resume", after=-1): "bad_field",
        b"\xff\xfe": "malformed_json",
    }
    for raw, code in cases.items():
        assert [f["code"] for f in frames(session.receive(raw))] == [code], raw
    bad_text = frames(session.receive(msg(type="post", client_id="c7", text=5)))
    assert [(f["code"], f["client_id"]) for f in bad_text] == [("bad_field", "c7")]
    assert frames(session.receive(msg(type="ping"))) == [{"type": "pong"}]


def test_refusal_tells_why_then_closes_busy() -> None:
    """Admission refusals: a counter per cause, an error with retry_after, close 1013."""
    cases = {
        (True, False): ("connection_cap_refused", "busy"),
        (False, True): ("address_cap_refused", "too_many_connections"),
        (False, False): ("admission_refused", "busy"),
    }
    for (saturated, address_full), (counter, code) in cases.items():
        refused = refusal(4, saturated, address_full)
        assert refused.counter == counter
        send, close = refused.actions
        assert isinstance(send, SendFrame) and isinstance(close, Close)
        frame = json.loads(send.frame)
        assert (frame["code"], frame["retry_after"]) == (code, 4)
        assert close.code == 1013 and "retry in 4 s" in close.reason
