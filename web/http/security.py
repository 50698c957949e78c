"""Security headers on every HTTP response (a pure ASGI middleware; WebSockets pass through).

The Content-Security-Policy allows nothing inline: every script and style is a file under
`/static/`. Images, media and connections go only to the site itself and the stream/CDN
hosts in `MEDIA_ORIGINS` (WebSockets only to the site). Only `/embed/` pages may be
framed, by the sources in `FRAME_ANCESTORS`. Strict-Transport-Security is sent when
`PUBLIC_BASE_URL` is https.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.settings import Settings

KAKAO_SDK_ORIGIN = "https://t1.kakaocdn.net"
HSTS = "max-age=31536000; includeSubDomains"


def socket_origin(public_origin: str) -> str:
    """The ws:// or wss:// origin of the site (older browsers don't count it as 'self')."""
    return (
        "wss://" + public_origin.removeprefix("https://")
        if public_origin.startswith("https://")
        else "ws://" + public_origin.removeprefix("http://")
    )


def content_security_policy(settings: Settings, *, embed: bool) -> str:
    scripts = "'self'" + (f" {KAKAO_SDK_ORIGIN}" if settings.kakao_js_key else "")
    ancestors = settings.frame_ancestors if embed else "'none'"
    media = "".join(f" {origin}" for origin in settings.media_origins)
    sockets = socket_origin(settings.public_origin)
    if settings.kakao_js_key:  # the SDK calls Kakao's API for sharing
        sockets += " https://kapi.kakao.com"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"img-src 'self' data:{media}",
            f"media-src 'self' blob:{media}",
            f"connect-src 'self' {sockets}{media}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self._page = content_security_policy(settings, embed=False)
        self._embed = content_security_policy(settings, embed=True)
        self._hsts = settings.public_base_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embed = scope["path"].startswith("/embed/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self._embed if embed else self._page)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if not embed:
                    headers.setdefault("X-Frame-Options", "DENY")
                if self._hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if headers.get("content-type", "").startswith("text/html"):
                    # pages follow the language cookie and Accept-Language (and the session)
                    headers.setdefault("Vary", "Cookie, Accept-Language")
            await send(message)

        await self.app(scope, receive, send_with_headers)
