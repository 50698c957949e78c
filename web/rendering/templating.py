"""Jinja2 set-up: autoescaping, translation, Seoul-time formatting, hashed static URLs."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from web.identity.providers import BY_NAME, PROVIDERS, enabled_providers
from web.rendering.i18n import format_date, format_time, negotiate, translate
from web.settings import Settings

_STATIC = Path(__file__).parent.parent / "static"
_TEMPLATES = Path(__file__).parent.parent / "templates"


@cache
def static_hash(path: str) -> str:
    data = (_STATIC / path).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(path: str) -> str:
    """`/static/<path>?v=<content hash>`: cacheable for a year, new URL on every change."""
    return f"/static/{path}?v={static_hash(path)}"


def request_locale(request: Request) -> str:
    return negotiate(request.cookies.get("lang"), request.headers.get("accept-language"))


NAME_HUES = 8


def name_hue(name: str) -> int:
    """A stable colour slot (0-7) for a commenter's name; livechat.js `nameHue` is the same."""
    value = 0
    for ch in name:
        value = (value * 31 + ord(ch)) & 0xFFFFFFFF
    return value % NAME_HUES


def make_templates(settings: Settings) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.globals["settings"] = settings
    env.globals["name_hue"] = name_hue
    env.globals["signin_providers"] = [p.spec for p in enabled_providers(settings)]
    env.globals["provider_labels"] = {p.name: p.label for p in PROVIDERS}
    env.globals["provider_marks"] = {
        p.name: {"src": static_url(f"img/providers/{p.name}.svg"), "label": p.label}
        for p in PROVIDERS
    }
    env.filters["provider_label"] = lambda name: BY_NAME[name].label if name in BY_NAME else name
    env.filters["fromiso"] = datetime.fromisoformat

    def context(request: Request) -> dict[str, Any]:
        locale = request_locale(request)
        return {
            "locale": locale,
            "_": lambda message: translate(locale, message),
            "fmt_date": lambda value: format_date(value, locale),
            "fmt_time": lambda value: format_time(value, locale),
        }

    return Jinja2Templates(env=env, context_processors=[context])
