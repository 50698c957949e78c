"""Small helpers shared by the JSON endpoints: body parsing, session and role checks."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from livechat.protocol import CLIENT_ID
from livechat.text import has_visible, one_line
from web.http.errors import ApiError
from web.identity.roles import ROLES, Access, may
from web.identity.sessions import Session
from web.services import services

MAX_JSON_BODY = 64 * 1024
MAX_FORM_BODY = 64 * 1024
# A client that has not sent its whole (small) body by then is holding a worker slot.
BODY_TIMEOUT_SECONDS = 15.0


async def bounded_body(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk and never past `limit` bytes: `ApiError(413)`
    as soon as the declared length or the bytes received exceed it (a chunked upload of
    300 MiB costs at most `limit` bytes of memory), `ApiError(408)` when it takes longer
    than `BODY_TIMEOUT_SECONDS`. `request.form()` and `request.body()` reuse what it read."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, None, f"body larger than {limit} bytes", code="too_large")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT_SECONDS):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, None, f"body larger than {limit} bytes", code="too_large")
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(
            408, None, f"body not received within {BODY_TIMEOUT_SECONDS:g} s", code="body_timeout"
        ) from None
    body = b"".join(chunks)
    # Starlette's own cache of the body: `form()` and `body()` read it instead of the
    # (consumed) stream.
    request._body = body
    return body


async def form_body(request: Request) -> Any:
    """The request's form, read within `MAX_FORM_BODY` bytes (see `bounded_body`)."""
    await bounded_body(request, MAX_FORM_BODY)
    return await request.form(max_files=0)


async def json_body(request: Request) -> JSONObject:
    """The request's JSON object, or `ApiError(400/408/413)` saying what is wrong with it."""
    raw = await bounded_body(request, MAX_JSON_BODY)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, None, f"body is not valid JSON: {exc}", code="malformed_json") from None
    except RecursionError:
        raise ApiError(400, None, "body is nested too deeply", code="malformed_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, None, "body must be a JSON object", code="malformed_json")
    return data


# A request's JSON object: every value is checked before use.
JSONObject = dict[str, object]

_INTEGER = re.compile(r"-?[0-9]{1,18}")


def ascii_int(raw: str) -> int | None:
    """`raw` as an integer if it is one written in ASCII digits (at most 18), else None.

    Python's `int()` also takes `"١٢"`, `" 12 "` and `"1_2"`, and `str.isdigit()` says yes
    to `"²"`, which `int()` then refuses: neither is a rule to give a client."""
    return int(raw) if _INTEGER.fullmatch(raw) else None


def query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """Query parameter `name` as an integer in [lo, hi]; 400 naming it otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = ascii_int(raw)
    if value is None:
        raise ApiError(400, name, f"must be an integer, got {raw[:20]!r}")
    if not lo <= value <= hi:
        raise ApiError(400, name, f"must be between {lo} and {hi}")
    return value


def search_text(request: Request, name: str, max_chars: int = 200) -> str:
    """Search input `name` from the query string, cleaned like comment text (`clean_text`:
    control, bidi and invisible characters removed) and on one line; "" when absent or
    empty. 400 naming it when it is too long, or when it was given but nothing visible is
    left (`q=%00` searches for nothing, it does not list everything)."""
    raw = request.query_params.get(name, "")
    if len(raw) > max_chars:
        raise ApiError(400, name, f"at most {max_chars} characters")
    text = one_line(raw)
    if raw.strip() and not has_visible(text):
        raise ApiError(
            400,
            name,
            "has no visible characters (only control or invisible characters)",
            code="empty",
        )
    return text


def body_client_id(data: JSONObject) -> str:
    """The `client_id` a client chose for a post (the key that makes retries safe)."""
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise ApiError(400, "client_id", "1–64 characters of A–Z a–z 0–9 _ . : -")
    return client_id


def current_session(conn: HTTPConnection) -> Session | None:
    return services(conn).sessions.load(conn)


def require_session(request: Request, *, csrf: bool = True) -> Session:
    """The caller's session; 401 without one; 403 when a state-changing call lacks CSRF."""
    session = current_session(request)
    if session is None:
        raise ApiError(401, None, "no session: pick a nickname or log in first")
    if csrf and request.method not in ("GET", "HEAD", "OPTIONS"):
        token = request.headers.get("x-csrf-token")
        if not services(request).sessions.csrf_ok(session, token):
            raise ApiError(403, "X-CSRF-Token", "missing or wrong CSRF token", code="csrf")
    return session


def require_access(request: Request, access: Access) -> Session:
    """The caller's session if its role has `access` (`web.identity.roles`): 401 without a session,
    403 (code `forbidden`) with one that lacks it, 403 `csrf` as `require_session`."""
    session = require_session(request)
    if not may(session.role, access):
        holders = ", ".join(r for r in ROLES if may(r, access))
        raise ApiError(403, None, f"needs {access} access (roles: {holders})", code="forbidden")
    return session


def same_origin(conn: HTTPConnection) -> bool:
    """True when the Origin header (if any) is our public origin or the request's own host."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    settings = services(conn).settings
    allowed = {settings.public_origin, *settings.allowed_origins}
    host = conn.headers.get("host", "")
    allowed.update({f"http://{host}", f"https://{host}"})
    return origin in allowed


def local_path(candidate: str | None) -> str:
    """`candidate` if it is a path on this site, else `/` (so `next` is never off-site)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return "/"
    if "\\" in candidate or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return "/"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return "/"
    return candidate
