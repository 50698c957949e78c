"""The web edge: the app factory, pages, JSON API, sessions, sharing and the CLI."""

import web.http.ids  # noqa: F401  (registers the `{name:id}` path convertor before routes are built)
from web.app import create_app
from web.settings import Settings

__all__ = ["Settings", "create_app"]
