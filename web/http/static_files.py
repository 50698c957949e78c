"""`/static/` with cache headers that follow the content hash in the URL.

`static_url()` writes `/static/<path>?v=<hash of the content>`. A request whose `v` is the
current hash can be cached for a year as immutable (a new file gets a new URL); any other
request (no `v`, or a stale one) must revalidate, so an old page never pins stale code.
"""

from __future__ import annotations

import mimetypes

from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from web.rendering.templating import static_hash

# HLS media: Python's table calls .ts "text/vnd.trolltech.linguist" (Qt translations).
mimetypes.add_type("video/mp2t", ".ts")
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("text/vtt", ".vtt")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class HashedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            version = QueryParams(scope.get("query_string", b"")).get("v")
            fresh = version is not None and version == _current_hash(path)
            response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
        return response


def _current_hash(path: str) -> str | None:
    try:
        return static_hash(path.replace("\\", "/"))
    except OSError:
        return None
