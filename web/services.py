"""The typed state the lifespan builds once per process and every endpoint reads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from livechat import AccessStore, Broker, CommentHub, CommentStore, QuestionService
from livechat.ratelimit import RateLimiter
from replay import ReplayStore
from schedule import ScheduleStore
from web.accounts.signin_clients import SignIn
from web.identity.login_limits import LoginLimits
from web.identity.members import MemberStore
from web.identity.sessions import SessionCodec
from web.identity.store import AccountStore
from web.push.sender import PushSender
from web.rendering.pictures import Pictures
from web.settings import Settings
from web.share.clicks import ShareClickStore

# Replay-page views from clients that bring no cookie, per address (web.replay.routes): a
# browser keeps the cookie it is given and counts once per replay anyway; a script that
# drops it could otherwise count a view per request.
COOKIELESS_VIEW_BURST = 20
COOKIELESS_VIEWS_PER_HOUR = 20.0


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
    login_limits: LoginLimits
    pictures: Pictures
    push: PushSender
    members: MemberStore
    access: AccessStore
    signin: SignIn
    # "does broadcast N exist?" in flight: a reconnect storm asks the database once
    broadcast_lookups: dict[int, asyncio.Future[bool]] = field(default_factory=dict)
    # used while no shared (Redis) buckets answer
    cookieless_views: RateLimiter = field(default_factory=lambda: RateLimiter(
        COOKIELESS_VIEW_BURST, COOKIELESS_VIEWS_PER_HOUR / 60))


def services(conn: HTTPConnection) -> Services:
    """The process's `Services` (works for HTTP requests and WebSockets alike)."""
    found: Services = conn.state.services
    return found
