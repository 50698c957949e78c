"""`/api/broadcasts/{id}/comment-access`: who may comment, ask and vote (operator's choice).

`{"comments": "anyone" | "accounts" | "closed", "questions_need_account": bool,
"votes_need_account": bool}`. "closed" is the chat's closed switch, set through the
moderator so that it is audited and reaches every viewer like the console's button.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livechat import CommentAccess, ModerationError, access_from_json
from web.http.errors import ApiError, refused
from web.http.requests import json_body, require_access
from web.identity.roles import Access
from web.moderation.routes import moderation
from web.services import services

COMMENTS = ("anyone", "accounts", "closed")


async def _state(request: Request, broadcast_id: int) -> dict[str, Any]:
    svc = services(request)
    access = await svc.access.get(broadcast_id)
    closed = (await svc.comments.get_chat_settings(broadcast_id)).closed
    comments = "closed" if closed else ("accounts" if access.accounts_only else "anyone")
    return {
        "comments": comments,
        "questions_need_account": access.questions_need_account,
        "votes_need_account": access.votes_need_account,
    }


async def _broadcast_id(request: Request) -> int:
    broadcast_id = int(request.path_params["broadcast_id"])
    if not await services(request).schedule.exists(broadcast_id):
        raise ApiError(404, None, "no such broadcast")
    return broadcast_id


async def read_access(request: Request) -> Response:
    return JSONResponse(await _state(request, await _broadcast_id(request)))


async def write_access(request: Request) -> Response:
    session = require_access(request, Access.MODERATE)  # a chat setting, like closing it
    broadcast_id = await _broadcast_id(request)
    data = await json_body(request)
    svc = services(request)
    comments = data.get("comments")
    if comments is not None and comments not in COMMENTS:
        raise ApiError(400, "comments", "must be one of " + ", ".join(COMMENTS))
    current = await svc.access.get(broadcast_id)
    try:
        access = access_from_json(data, current)
    except ValueError as exc:
        raise ApiError(400, str(exc), "must be true or false") from None
    if comments is not None and comments != "closed":
        access = CommentAccess(
            comments == "accounts", access.questions_need_account, access.votes_need_account
        )
    await svc.access.set(broadcast_id, access)
    if comments is not None:
        closed = (await svc.comments.get_chat_settings(broadcast_id)).closed
        if closed != (comments == "closed"):
            try:
                await moderation(request).perform(
                    session.identity,
                    broadcast_id,
                    {"action": "chat", "closed": comments == "closed"},
                )
            except ModerationError as exc:
                raise refused(exc) from None
    return JSONResponse(await _state(request, broadcast_id))


routes = [
    Route("/api/broadcasts/{broadcast_id:id}/comment-access", read_access, methods=["GET"]),
    Route("/api/broadcasts/{broadcast_id:id}/comment-access", write_access, methods=["PUT"]),
]
