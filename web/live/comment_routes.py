"""Comments over HTTP, for clients without WebSockets.

`GET /api/broadcasts/{id}/comments?after=&limit=` pages visible comments oldest first
(keyset: pass the last id as `after`). `POST` stores one comment through the same hub path
as the WebSocket (validation, limits, persist then publish).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livechat import CommentRejected
from web.http.errors import ApiError, rejected
from web.http.requests import body_client_id, json_body, query_int, require_session
from web.services import services

MAX_PAGE = 200


async def _broadcast_id(request: Request) -> int:
    broadcast_id = int(request.path_params["broadcast_id"])
    if not await services(request).schedule.exists(broadcast_id):
        raise ApiError(404, "broadcast_id", f"no broadcast {broadcast_id}")
    return broadcast_id


async def list_comments(request: Request) -> Response:
    broadcast_id = await _broadcast_id(request)
    after = query_int(request, "after", 0, 0, 2**62)
    limit = query_int(request, "limit", 50, 1, MAX_PAGE)
    page = await services(request).comments.visible_page(broadcast_id, after, limit)
    items = [c.wire() for c in page]
    return JSONResponse(
        {
            "broadcast_id": broadcast_id,
            "items": items,
            "next_after": items[-1]["id"] if len(items) == limit else None,
        }
    )


async def post_comment(request: Request) -> Response:
    broadcast_id = await _broadcast_id(request)
    session = require_session(request)
    data = await json_body(request)
    client_id = body_client_id(data)
    question = data.get("question", False)
    if not isinstance(question, bool):
        raise ApiError(400, "question", "must be true or false")
    hub = services(request).hub
    try:
        result = await hub.post(
            broadcast_id,
            session.identity,
            client_id,
            data.get("text"),
            address=request.client.host if request.client else "",
            question=question,
        )
    except CommentRejected as exc:
        raise rejected(exc, "text") from None
    body = {
        "id": result.comment.id,
        "client_id": client_id,
        "status": result.comment.status,
        "comment": result.comment.wire(),
    }
    if result.notice:
        body["notice"] = result.notice
    return JSONResponse(body, status_code=201 if result.created else 200)


routes = [
    Route("/api/broadcasts/{broadcast_id:id}/comments", list_comments, methods=["GET"]),
    Route("/api/broadcasts/{broadcast_id:id}/comments", post_comment, methods=["POST"]),
]
