"""The typed state the lifespan builds once per process and every endpoint reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.templating import Jinja2Templates

from livechat import AccessStore, Broker, CommentHub, CommentStore, QuestionService
from livechat.ratelimit import RateLimiter
from replay import ReplayStore
from schedule import Broadcast, ScheduleStore
from web.identity.login_limits import LoginLimits
from web.identity.members import MemberStore
from web.identity.sessions import SessionCodec
from web.identity.store import AccountStore
from web.rendering.pictures import Pictures
from web.settings import Settings

# Replay-page views from clients that bring no cookie, per address (web.replay.routes): a
# browser keeps the cookie it is given and counts once per replay anyway; a script that
# drops it could otherwise count a view per request.
COOKIELESS_VIEW_BURST = 20
COOKIELESS_VIEWS_PER_HOUR = 20.0

# What one feature's pages show of another, and how features react to each other, without
# importing each other: the composition root (web.app) fills these lists.
# A panel for a broadcast's page: (request, broadcast id, live?) → template context.
PagePanel = Callable[[Request, int, bool], Awaitable[dict[str, Any]]]
GoLive = Callable[[Broadcast], None]  # a broadcast just went live
ForgetPerson = Callable[[str], Awaitable[object]]  # a person's identity key: drop their data


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
    login_limits: LoginLimits
    pictures: Pictures
    members: MemberStore
    access: AccessStore
    page_panels: list[PagePanel] = field(default_factory=list)
    on_go_live: list[GoLive] = field(default_factory=list)
    on_forget_person: list[ForgetPerson] = field(default_factory=list)
    # "does broadcast N exist?" in flight: a reconnect storm asks the database once
    broadcast_lookups: dict[int, asyncio.Future[bool]] = field(default_factory=dict)
    # used while no shared (Redis) buckets answer
    cookieless_views: RateLimiter = field(
        default_factory=lambda: RateLimiter(COOKIELESS_VIEW_BURST, COOKIELESS_VIEWS_PER_HOUR / 60)
    )


def services(conn: HTTPConnection) -> Services:
    """The process's `Services` (works for HTTP requests and WebSockets alike)."""
    found: Services = conn.state.services
    return found
