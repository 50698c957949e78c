"""Citizen questions over HTTP: the list, votes, answers, statuses, follows, exports, tallies.

JSON endpoints (documented in `docs/protocol.md`, section "Questions"):

- `GET  /api/broadcasts/{id}/questions?sort=votes|time` — visible questions, the tally, and
  for the caller which ones they voted for and follow.
- `POST /api/broadcasts/{id}/questions` `{text, client_id}` — ask (same path as a comment
  posted with `question: true`).
- `GET  /api/questions/{qid}` — one question with its timestamped history.
- `POST /api/questions/{qid}/vote` · `/unvote` · `/follow` · `/unfollow` — any session.
- `POST /api/questions/{qid}/answer` `{text, mode: live|written, client_id?, pin?}` and
  `POST /api/questions/{qid}/status` `{status, note, department}` — officials, moderators
  and admins (403 for anyone else).
- `GET  /api/me/notifications` and `POST /api/me/notifications/seen` `{ids?}`.
- `GET  /api/broadcasts/{id}/questions.csv` · `.json` — staff exports (`?department=`).
- `GET  /api/questions/tally` — the city-wide tally.

Pages: `/broadcasts/{id}/questions` (a broadcast's tally and live list) and `/questions`
(city-wide). `panel_context` gives any page what `_questions_panel.html` needs.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from livechat import CommentRejected, Question, Role, Tally
from livechat.protocol import CLIENT_ID
from livechat.questions.question_service import mask_confirmed
from livechat.questions.questions import STATUSES, allowed_moves, merge_tallies, parse_sort
from web.http.errors import ApiError, rejected
from web.http.requests import (
    body_client_id,
    current_session,
    json_body,
    require_access,
    require_session,
    search_text,
)
from web.identity.roles import Access, may
from web.identity.sessions import Session
from web.pages.broadcasts import as_datetime, find_broadcast
from web.pages.errors import error_page
from web.rendering.csv_cells import csv_cell
from web.services import Services, services

LIST_LIMIT = 1000
CITY_ROWS = 200

_FIELD = {
    "bad_status": "status",
    "bad_transition": "status",
    "no_change": "status",
    "answer_required": "status",
    "too_long": "text",
    "empty": "text",
    "own_question": "question_id",
    "not_found": "question_id",
    "bad_sort": "sort",
}


def question_rejected(exc: CommentRejected, field: str | None = None) -> ApiError:
    """The HTTP form of a question rule's refusal, naming the field at fault."""
    name = str(exc.extra.get("field") or field or _FIELD.get(exc.code) or "") or None
    return rejected(exc, name, shown=("masked", "kinds", "reason"))


async def _broadcast_id(request: Request) -> int:
    broadcast_id = int(request.path_params["broadcast_id"])
    if not await services(request).schedule.exists(broadcast_id):
        raise ApiError(404, "broadcast_id", f"no broadcast {broadcast_id}")
    return broadcast_id


def _question_id(request: Request) -> int:
    return int(request.path_params["question_id"])


def question_view(
    question: Question, voted: set[int], followed: set[int], role: Role | None
) -> dict[str, Any]:
    """The public question plus what this caller may do with it."""
    view = question.public()
    view["voted"] = question.id in voted
    view["following"] = question.id in followed
    view["moves"] = sorted(allowed_moves(role, question.status))
    return view


async def list_for(
    svc: Services, broadcast_id: int, session: Session | None, sort: str
) -> dict[str, Any]:
    store = svc.questions.store
    questions = await store.of_broadcast(broadcast_id, sort, LIST_LIMIT)
    voted: set[int] = set()
    followed: set[int] = set()
    if session is not None:
        key = session.identity.key
        voted = await store.voted(broadcast_id, key)
        followed = await store.followed(broadcast_id, key)
    tally = (await store.tallies(broadcast_id)).get(broadcast_id, Tally())
    role = session.role if session else None
    departments: list[str] = []
    if may(role, Access.QUESTIONS):  # the desk's department picker: every one used so far
        used = {*await store.departments(), *(a.department for a in await svc.accounts.list())}
        departments = sorted(d for d in used if d)
    return {
        "broadcast_id": broadcast_id,
        "sort": sort,
        "tally": tally.public(),
        "items": [question_view(q, voted, followed, role) for q in questions],
        "you": {"role": role, "can_answer": may(role, Access.QUESTIONS)},
        "departments": departments,
    }


# -- JSON endpoints ---------------------------------------------------------------------
async def list_questions(request: Request) -> Response:
    broadcast_id = await _broadcast_id(request)
    try:
        sort = parse_sort(request.query_params.get("sort"))
    except CommentRejected as exc:
        raise question_rejected(exc, "sort") from None
    return JSONResponse(
        await list_for(services(request), broadcast_id, current_session(request), sort)
    )


async def ask_question(request: Request) -> Response:
    broadcast_id = await _broadcast_id(request)
    session = require_session(request)
    data = await json_body(request)
    client_id = body_client_id(data)
    try:
        result = await services(request).questions.ask(
            broadcast_id,
            session.identity,
            client_id,
            data.get("text"),
            address=request.client.host if request.client else "",
        )
    except CommentRejected as exc:
        raise question_rejected(exc, "text") from None
    question = await services(request).questions.store.get(result.comment.id)
    body: dict[str, Any] = {
        "id": result.comment.id,
        "status": result.comment.status,
        "comment": result.comment.wire(),
        "question": question.public() if question else None,
    }
    if result.notice:
        body["notice"] = result.notice
    return JSONResponse(body, status_code=201 if result.created else 200)


async def get_question(request: Request) -> Response:
    store = services(request).questions.store
    question = await store.get(_question_id(request))
    if question is None or question.comment_status != "visible":
        raise ApiError(404, "question_id", f"no question {_question_id(request)}")
    events = await store.events(question.id)
    return JSONResponse({"question": question.public(), "events": [e.public() for e in events]})


async def _vote(request: Request, up: bool) -> Response:
    session = require_session(request)
    try:
        result = await services(request).questions.vote(
            None,
            _question_id(request),
            session.identity,
            up,
            address=request.client.host if request.client else "",
        )
    except CommentRejected as exc:
        raise question_rejected(exc) from None
    return JSONResponse(
        {
            "question_id": result.question.id,
            "voted": result.voted,
            "changed": result.changed,
            "votes": result.question.votes,
            "question": result.question.public(),
        }
    )


async def vote(request: Request) -> Response:
    return await _vote(request, True)


async def unvote(request: Request) -> Response:
    return await _vote(request, False)


async def answer(request: Request) -> Response:
    session = require_access(request, Access.QUESTIONS)
    data = await json_body(request)
    mode = data.get("mode", "live")
    if mode not in ("live", "written"):
        raise ApiError(400, "mode", "must be live or written")
    client_id = data.get("client_id")
    if client_id is not None and (
        not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id)
    ):
        raise ApiError(400, "client_id", "1–64 characters of A–Z a–z 0–9 _ . : -")
    pin = data.get("pin", False)
    if not isinstance(pin, bool):
        raise ApiError(400, "pin", "must be true or false")
    try:
        result = await services(request).questions.answer(
            None,
            _question_id(request),
            session.identity,
            data.get("text"),
            live=mode == "live",
            client_id=client_id,
            pin=pin,
            mask_confirmed=mask_confirmed(data),
        )
    except CommentRejected as exc:
        raise question_rejected(exc, "text") from None
    return JSONResponse({"question": result.question.public(), "comment_id": result.comment_id})


async def set_status(request: Request) -> Response:
    session = require_access(request, Access.QUESTIONS)
    data = await json_body(request)
    try:
        question = await services(request).questions.set_status(
            None,
            _question_id(request),
            session.identity,
            data.get("status"),
            data.get("note", ""),
            data.get("department", ""),
            mask_confirmed=mask_confirmed(data),
        )
    except CommentRejected as exc:
        raise question_rejected(exc) from None
    return JSONResponse({"question": question.public()})


async def follow(request: Request) -> Response:
    session = require_session(request)
    question_id = _question_id(request)
    store = services(request).questions.store
    question = await store.get(question_id)
    if question is None or question.comment_status != "visible":
        raise ApiError(404, "question_id", f"no question {question_id}")
    created = await store.follow(session.identity.key, question_id)
    return JSONResponse({"question_id": question_id, "following": True, "changed": created})


async def unfollow(request: Request) -> Response:
    session = require_session(request)
    question_id = _question_id(request)
    removed = await services(request).questions.store.unfollow(session.identity.key, question_id)
    return JSONResponse({"question_id": question_id, "following": False, "changed": removed})


async def notifications(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return JSONResponse({"items": []})
    found = await services(request).questions.store.notifications(session.identity.key)
    return JSONResponse({"items": [n.public() for n in found]})


async def notifications_seen(request: Request) -> Response:
    session = require_session(request)
    data = await json_body(request)
    ids = data.get("ids")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > 500
        or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids)
    ):
        raise ApiError(400, "ids", "must be a list of at most 500 question ids")
    marked = await services(request).questions.store.mark_seen(session.identity.key, ids)
    return JSONResponse({"marked": marked})


async def city_tally_json(request: Request) -> Response:
    tallies = await services(request).questions.store.tallies()
    return JSONResponse(
        {
            "total": merge_tallies(list(tallies.values())).public(),
            "broadcasts": [
                {"broadcast_id": bid, **t.public()}
                for bid, t in sorted(tallies.items(), key=lambda kv: -kv[1].received)
            ],
        }
    )


# -- exports ----------------------------------------------------------------------------
CSV_COLUMNS = (
    "id",
    "broadcast_id",
    "created_at",
    "author",
    "text",
    "votes",
    "status",
    "status_note",
    "department",
    "answer_text",
    "answered_by",
    "answer_department",
    "answered_at",
    "answer_live",
    "answer_comment_id",
    "updated_at",
)


def export_row(question: Question) -> dict[str, object]:
    answer = question.answer
    return {
        "id": question.id,
        "broadcast_id": question.broadcast_id,
        "created_at": question.created_at,
        "author": question.author,
        "text": question.text,
        "votes": question.votes,
        "status": question.status,
        "status_note": question.status_note,
        "department": question.department,
        "answer_text": answer.text if answer else "",
        "answered_by": answer.author if answer else "",
        "answer_department": answer.department if answer else "",
        "answered_at": answer.at if answer else "",
        "answer_live": (answer.comment_id is not None) if answer else "",
        "answer_comment_id": answer.comment_id if answer else "",
        "updated_at": question.updated_at,
    }


async def _export_questions(request: Request) -> tuple[int, list[Question]]:
    require_access(request, Access.QUESTIONS)
    broadcast_id = await _broadcast_id(request)
    questions = await services(request).questions.store.of_broadcast(
        broadcast_id, "time", LIST_LIMIT * 100
    )
    questions.reverse()  # oldest first
    department = search_text(request, "department")
    if department:
        questions = [
            q
            for q in questions
            if q.department == department
            or (q.answer is not None and q.answer.department == department)
        ]
    return broadcast_id, questions


async def export_csv(request: Request) -> Response:
    broadcast_id, questions = await _export_questions(request)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the Korean text as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for question in questions:
        row = export_row(question)
        writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="questions-{broadcast_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


async def export_json(request: Request) -> Response:
    broadcast_id, questions = await _export_questions(request)
    events = await services(request).questions.store.broadcast_events(broadcast_id)
    history: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        history.setdefault(event.comment_id, []).append(event.public())
    body = {
        "broadcast_id": broadcast_id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tally": Tally.of((q.status, q.answer is not None) for q in questions).public(),
        "questions": [{**q.public(), "events": history.get(q.id, [])} for q in questions],
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="questions-{broadcast_id}.json"',
            "Cache-Control": "no-store",
        },
    )


# -- pages ------------------------------------------------------------------------------
def _thousands(n: int) -> str:
    return f"{n:,}"


async def panel_context(request: Request, broadcast_id: int, live: bool = True) -> dict[str, Any]:
    """What `_questions_panel.html` needs, as `{"qpanel": {...}}` for a page's context.

    The live page and the replay page call this and include the partial; it brings its
    own stylesheet and script.
    """
    svc = services(request)
    session = current_session(request)
    data = await list_for(svc, broadcast_id, session, "votes")
    for item in data["items"]:
        item["created"] = as_datetime(item["created_at"])
        if item["answer"]:
            item["answer"]["when"] = as_datetime(item["answer"]["at"])
    return {
        "qpanel": {
            **data,
            "live": live,
            "signed_in": session is not None,
            "csrf": svc.sessions.csrf_token(session),
            "statuses": STATUSES,
        }
    }


async def broadcast_page(request: Request) -> Response:
    svc = services(request)
    broadcast_id = int(request.path_params["broadcast_id"])
    broadcast = await find_broadcast(svc, broadcast_id)
    if broadcast is None:
        return await error_page(request, 404, "no such broadcast")
    context = await panel_context(request, broadcast_id, live=True)
    tally = context["qpanel"]["tally"]
    context.update(broadcast=broadcast, tally=tally, n=_thousands)
    return svc.templates.TemplateResponse(request, "questions/questions.html", context)


async def city_page(request: Request) -> Response:
    svc = services(request)
    tallies = await svc.questions.store.tallies()
    ranked = sorted(tallies.items(), key=lambda kv: -kv[1].received)[:CITY_ROWS]
    rows = []
    for broadcast_id, tally in ranked:
        broadcast = await find_broadcast(svc, broadcast_id)
        rows.append(
            {
                "id": broadcast_id,
                "title": broadcast.title if broadcast else "",
                "tally": tally.public(),
            }
        )
    total = merge_tallies(list(tallies.values())).public()
    return svc.templates.TemplateResponse(
        request, "questions/questions_city.html", {"rows": rows, "total": total, "n": _thousands}
    )


routes: list[BaseRoute] = [
    Route("/api/broadcasts/{broadcast_id:id}/questions", list_questions, methods=["GET"]),
    Route("/api/broadcasts/{broadcast_id:id}/questions", ask_question, methods=["POST"]),
    Route("/api/broadcasts/{broadcast_id:id}/questions.csv", export_csv, methods=["GET"]),
    Route("/api/broadcasts/{broadcast_id:id}/questions.json", export_json, methods=["GET"]),
    Route("/api/questions/tally", city_tally_json, methods=["GET"]),
    Route("/api/questions/{question_id:id}", get_question, methods=["GET"]),
    Route("/api/questions/{question_id:id}/vote", vote, methods=["POST"]),
    Route("/api/questions/{question_id:id}/unvote", unvote, methods=["POST"]),
    Route("/api/questions/{question_id:id}/answer", answer, methods=["POST"]),
    Route("/api/questions/{question_id:id}/status", set_status, methods=["POST"]),
    Route("/api/questions/{question_id:id}/follow", follow, methods=["POST"]),
    Route("/api/questions/{question_id:id}/unfollow", unfollow, methods=["POST"]),
    Route("/api/me/notifications", notifications, methods=["GET"]),
    Route("/api/me/notifications/seen", notifications_seen, methods=["POST"]),
    Route("/broadcasts/{broadcast_id:id}/questions", broadcast_page, methods=["GET", "HEAD"]),
    Route("/questions", city_page, methods=["GET", "HEAD"]),
]
