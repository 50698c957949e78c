"""`WS /ws/broadcasts/{id}`: the transport edge of the comment hub.

The endpoint only moves data: it checks the Origin, resolves the session, joins the hub
and then runs two loops — one reads client messages, one drains the viewer's queue. What
to do with each message is decided by `livechat.session.Session` (no I/O there); this
module carries out the actions it returns.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from livechat import CommentRejected, Frame, Identity, Viewer
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
from web.http.request_id import RequestTrace
from web.http.requests import ascii_int, same_origin
from web.identity.sessions import has_session_cookie
from web.services import Services, services

log = logging.getLogger("web.live.socket")

CLOSE_POLICY = 1008
CLOSE_NOT_FOUND = 4404


async def broadcast_exists(svc: Services, broadcast_id: int) -> bool:
    return await svc.schedule.exists(broadcast_id)


KNOWN_FOR = 30.0  # seconds a "yes, it exists" answer is reused (a room takes over)


async def _known(svc: Services, broadcast_id: int) -> bool:
    """Whether the broadcast exists; concurrent askers share one database read, and a
    yes is reused for a while (while its room opens, a storm keeps arriving)."""
    pending = svc.broadcast_lookups.get(broadcast_id)
    if pending is None:
        svc.hub.stats.db_broadcast_lookups += 1
        pending = asyncio.ensure_future(broadcast_exists(svc, broadcast_id))
        svc.broadcast_lookups[broadcast_id] = pending

        def forget(done: asyncio.Future[bool]) -> None:
            keep = not done.cancelled() and done.exception() is None and done.result()
            loop = asyncio.get_running_loop()
            loop.call_later(
                KNOWN_FOR if keep else 0.0, svc.broadcast_lookups.pop, broadcast_id, None
            )

        pending.add_done_callback(forget)
    return await asyncio.shield(pending)


def client_address(ws: WebSocket) -> str:
    return ws.client.host if ws.client else ""


class CommentSocketShortcut:
    """The outermost middleware: a comment socket skips the rest of the chain.

    An idle viewer's connection lives for hours, and every middleware between the server
    and the endpoint would keep its coroutine frame (and its closures) alive all that time:
    with ten of them, a few KiB per connection. So for `/ws/broadcasts/{id}` (matched by the
    route itself) this does what the chain does for a WebSocket — the request id, the
    `X-Request-ID` header on the handshake and the access log line (as
    `RequestIdMiddleware`), the check of a staff or member session against the database
    (as `SessionRefreshMiddleware`) — and calls the endpoint; the rest of the chain is about
    HTTP (security headers, overload shedding, error pages, the sign-in session). Every
    other request and WebSocket goes down the chain.

    Frames go out through the server's own `send`: nothing between the server and the
    endpoint concerns a text frame after the handshake, and fan-out sends thousands of them
    per tick; the handshake and the close go through `send_with_id`."""

    def __init__(self, app: ASGIApp, route: WebSocketRoute | None = None) -> None:
        self.app = app
        self.route = route or COMMENTS_ROUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            match, child = self.route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                await self._socket(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        trace = RequestTrace(scope, send)
        failed = True
        try:
            ws = WebSocket(scope, receive, trace.send)
            if has_session_cookie(scope):
                await services(ws).sessions.verify(ws)
            await comments_socket(ws, send)
            failed = False
        finally:
            trace.end(scope, failed)


class AsgiOutlet:
    """Any ASGI server: every frame goes through the server's `send` (awaited)."""

    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    def write(self, frame: Frame) -> bool:
        return False  # nothing is known about the transport: let the viewer await `send`

    async def send(self, frame: Frame) -> None:
        await self._send(frame.event())

    async def close(self, code: int, reason: str) -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


class SansIOOutlet(AsgiOutlet):
    """uvicorn's `websockets-sansio` server (the one `live-seoul serve` runs): a frame is
    written straight to the connection's transport as pre-framed bytes, the same bytes
    for every viewer (a server-to-client frame is not masked), in the fan-out loop. Only
    after the handshake and while the server has neither closed nor paused the connection;
    otherwise the viewer waits on the server's own `send`, which knows what to do."""

    __slots__ = ("_proto",)

    def __init__(self, send: Send, proto: WebSocketsSansIOProtocol) -> None:
        super().__init__(send)
        self._proto = proto
        # uvicorn keeps the handshake's request and response (their headers: ~2 KiB) for
        # the connection's whole life but never reads them after the handshake; and
        # websockets' parser keeps the request too (a local of its generator, alive while
        # the connection is), so its headers are emptied, not only unreferenced here.
        if proto.request is not None:
            proto.request.headers.clear()
        proto.request = proto.response = None  # type: ignore[assignment]

    def write(self, frame: Frame) -> bool:
        proto = self._proto
        if proto.close_sent or proto.disconnected or not proto.writable.is_set():
            return False
        transport = proto.transport
        if transport.is_closing():
            return False
        transport.write(frame.wire())
        return True


def outlet_for(send: Send) -> AsgiOutlet:
    proto = getattr(send, "__self__", None)
    if isinstance(proto, WebSocketsSansIOProtocol) and proto.handshake_complete:
        return SansIOOutlet(send, proto)
    return AsgiOutlet(send)


class CommentsSocket:
    """The route's ASGI app, for an app without `CommentSocketShortcut` in front (which
    serves the route itself)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await comments_socket(WebSocket(scope, receive, send), send)


async def comments_socket(ws: WebSocket, send: Send) -> None:
    svc = services(ws)
    if not same_origin(ws):
        await ws.close(code=CLOSE_POLICY, reason="origin not allowed")
        return
    broadcast_id = int(ws.path_params["broadcast_id"])
    # Accepted before closing, so the client sees the close code (a refused handshake
    # is only an HTTP 403 to a browser, the same as a foreign Origin).
    # A room exists only for a broadcast that did: a reconnect storm costs no lookups.
    if broadcast_id not in svc.hub.rooms and not await _known(svc, broadcast_id):
        await ws.accept()
        await ws.close(code=CLOSE_NOT_FOUND, reason="unknown broadcast")
        return
    after: int | None = None
    raw_after = ws.query_params.get("after")
    if raw_after is not None:
        after = ascii_int(raw_after)
        if after is None or after < 0:
            await ws.accept()
            await ws.close(code=CLOSE_POLICY, reason="after must be a non-negative integer")
            return
    signed_in = svc.sessions.load(ws)
    identity = signed_in.identity if signed_in else None
    _forget_headers(ws)
    hub = svc.hub
    address = client_address(ws)
    retry = await hub.admit(broadcast_id, address)
    await ws.accept()
    if retry:
        refused = refusal(retry, hub.admission.saturated, hub.admission.address_full(address))
        hub.stats.refused(refused.counter)
        for action in refused.actions:
            if isinstance(action, SendFrame):
                await send({"type": "websocket.send", "text": action.frame})
            elif isinstance(action, Close):
                await ws.close(code=action.code, reason=action.reason)
        return
    try:
        await _serve(ws, send, svc, broadcast_id, identity, after)
    finally:
        hub.admission.release(address)


def _forget_headers(ws: WebSocket) -> None:
    """Empty the handshake's header list, which the scope (kept by the server for the
    connection's life) would hold all along (~1 KiB); nothing reads it after the
    handshake but the session cookie, parsed here once and kept (`ws.cookies`) for the
    re-checks of a staff or member session."""
    ws.cookies  # noqa: B018 -- parsed and cached by Starlette before the headers go
    ws.scope["headers"] = []
    ws.__dict__.pop("_headers", None)


async def _serve(
    ws: WebSocket,
    send: Send,
    svc: Services,
    broadcast_id: int,
    identity: Identity | None,
    after: int | None,
) -> None:
    hub = svc.hub
    viewer = Viewer(identity, hub.limits.send_queue_frames, address=client_address(ws))
    await hub.join(broadcast_id, viewer, after)
    viewer.attach(outlet_for(send))
    session = Session(identity, svc.settings.ws_max_message_bytes, hub.message_types)
    try:
        await _read(ws, svc, broadcast_id, viewer, session)
    finally:
        hub.leave(broadcast_id, viewer)
        viewer.detach()


async def _read(
    ws: WebSocket, svc: Services, broadcast_id: int, viewer: Viewer, session: Session
) -> None:
    """Feed each client message to the session and carry out the actions it returns."""
    while True:
        try:
            message = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        if not await _carry_out(ws, svc, broadcast_id, viewer, session, session.receive(raw)):
            return
        if ws.client_state != WebSocketState.CONNECTED or viewer.closed:
            return


async def _carry_out(
    ws: WebSocket,
    svc: Services,
    broadcast_id: int,
    viewer: Viewer,
    session: Session,
    actions: list[Action],
) -> bool:
    """Do what the session asked, in order; False once it closed the connection."""
    hub = svc.hub
    while actions:
        action = actions.pop(0)
        if isinstance(action, SendFrame):
            viewer.offer_direct(action.frame)
        elif isinstance(action, ResumeFrom):
            await hub.resume(broadcast_id, viewer, action.after)
        elif isinstance(action, Recheck):
            actions[:0] = session.rechecked(action.message, await _still_signed_in(ws, svc))
        elif isinstance(action, EndSignIn):
            viewer.identity = None
        elif isinstance(action, PostComment):
            post = action.post
            try:
                result = await hub.post(
                    broadcast_id,
                    action.author,
                    post.client_id,
                    post.text,
                    address=client_address(ws),
                    question=post.question,
                    retry=post.retry,
                )
            except CommentRejected as exc:
                actions[:0] = session.rejected(post, exc)
            else:
                actions[:0] = session.posted(
                    post, result.comment.id, result.comment.status, result.notice
                )
        elif isinstance(action, RunCommand):
            await hub.handle_command(broadcast_id, viewer, action.command)
        else:
            await ws.close(code=action.code, reason=action.reason)
            return False
    return True


async def _still_signed_in(ws: WebSocket, svc: Services) -> bool:
    """Whether the staff or member session this socket opened with is still valid (one
    small database read per such message; guests' messages never pay it). Not idle: the
    message being handled is activity."""
    await svc.sessions.verify(ws)
    return svc.sessions.load(ws, check_idle=False) is not None


COMMENTS_ROUTE = WebSocketRoute("/ws/broadcasts/{broadcast_id:id}", CommentsSocket())
routes = [COMMENTS_ROUTE]
