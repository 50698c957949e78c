"""The typed state the lifespan builds once per process and every endpoint reads."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from livechat import Broker, CommentHub, CommentStore, QuestionService
from replay import ReplayStore
from schedule import ScheduleStore
from web.accounts import AccountStore
from web.sessions import SessionCodec
from web.settings import Settings
from web.share_clicks import ShareClickStore


@dataclass
class Services:
    settings: Settings
    templates: Jinja2Templates
    accounts: AccountStore
    schedule: ScheduleStore
    replays: ReplayStore
    comments: CommentStore
    broker: Broker
    hub: CommentHub
    sessions: SessionCodec
    questions: QuestionService
    shares: ShareClickStore


def services(conn: HTTPConnection) -> Services:
    """The process's `Services` (works for HTTP requests and WebSockets alike)."""
    found: Services = conn.state.services
    return found
