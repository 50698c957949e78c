"""The web edge: the app factory, pages, JSON API, sessions, sharing and the CLI."""

from web.app import create_app
from web.settings import Settings

__all__ = ["Settings", "create_app"]
