"""The application factory: `create_app(settings=None)` builds the ASGI app.

The lifespan migrates the database, opens the stores, the broker and the comment hub, and
closes them in reverse order. `settings=None` reads the environment, so
`uvicorn --factory web.app:create_app` works.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount

from db import Database
from db.leader import elected
from livechat import (
    AccessStore,
    CommentHub,
    CommentStore,
    HubLimits,
    OpsStore,
    QuestionService,
    QuestionStore,
    broker_from_url,
)
from replay import ReplayStore
from schedule import ScheduleStore
from web.accounts import auth, signin, staff_pages
from web.accounts import routes as account_routes
from web.accounts.signin_clients import build_signin
from web.database import open_migrated
from web.demo import demo_director, load_demo
from web.http import health
from web.http.overload import OverloadMiddleware
from web.http.request_id import RequestIdMiddleware
from web.http.security import SecurityHeadersMiddleware
from web.http.static_files import HashedStaticFiles
from web.identity.login_limits import LoginLimits
from web.identity.members import MemberStore
from web.identity.password_gate import PasswordGate
from web.identity.sessions import SessionCodec, SessionRefreshMiddleware, SessionStores
from web.identity.store import AccountStore
from web.live import comment_routes, pages
from web.live import socket as live
from web.live.chat_window import LiveWindow
from web.live.socket import CommentSocketShortcut
from web.moderation import access_routes
from web.moderation import routes as moderation_routes
from web.ops import status as status_routes
from web.ops.metrics import MetricsRecorder, metrics_dir
from web.ops.metrics import routes as metrics_routes
from web.ops.retention import retention
from web.ops.single_host import single_host
from web.pages.errors import exception_handlers
from web.push import routes as push_routes
from web.push.sender import PushSender, VapidKeys
from web.push.store import PushStore
from web.pwa import routes as pwa_routes
from web.questions import routes as question_routes
from web.rendering.pictures import Pictures
from web.rendering.templating import make_templates
from web.replay import picture_routes
from web.replay import routes as replay_routes
from web.schedule import routes as schedule_routes
from web.schedule.channel_feed import ChannelFeed
from web.schedule.channel_feed import routes as channel_feed_routes
from web.services import Services
from web.settings import Settings
from web.share import routes as share_routes
from web.share.clicks import ShareClickStore

STATIC_DIR = Path(__file__).parent / "static"


def hub_limits(settings: Settings) -> HubLimits:
    return HubLimits(
        max_chars=settings.comment_max_chars,
        rate_per_minute=settings.comment_rate_per_minute,
        burst=settings.comment_burst,
        address_rate_per_minute=settings.address_rate_per_minute,
        address_burst=settings.address_burst,
        send_queue_frames=settings.send_queue_frames,
        backfill=settings.backfill_comments,
        max_message_bytes=settings.ws_max_message_bytes,
        max_connections=settings.max_connections,
        connections_per_address=settings.connections_per_address,
        admission_rate=settings.admission_rate,
        admission_burst=settings.admission_burst,
    )


def push_sender(settings: Settings, database: Database) -> PushSender:
    keys = (
        VapidKeys(settings.vapid_public_key, settings.vapid_private_key, settings.vapid_subject)
        if settings.push_enabled
        else None
    )
    store = PushStore(database, timedelta(days=settings.push_subscription_days))
    return PushSender(
        store,
        keys,
        queue_size=settings.push_queue_size,
        allow_loopback=settings.push_allow_loopback,
    )


def settle_heap() -> None:
    """Tune the cyclic garbage collector for a server that holds thousands of connections.

    With the defaults, objects that were merely in flight (frames, ASGI messages) were
    promoted so fast that a full collection ran every few seconds under load and paused the
    event loop for 130–160 ms each time: that pause was the comment benchmark's p99. So:
    one collection, then `gc.freeze()` moves what start-up built (modules, routes,
    templates, stores) to the permanent generation, out of every later pass; and a young
    generation of 50,000 objects instead of 700 lets in-flight objects die before they are
    promoted. Full collections still happen, only rarely and without the start-up heap."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = (settings or Settings.from_env()).with_secret()
    codec = SessionCodec(
        settings.secret_key,
        settings.session_max_age_days,
        secure=settings.public_base_url.startswith("https://"),
        staff_idle_minutes=settings.staff_idle_minutes,
    )
    templates = make_templates(settings)
    templates.context_processors.append(staff_pages.bar_context)
    sign_in = build_signin(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        async with contextlib.AsyncExitStack() as stack:
            # The process's one Database (migrated first): SQLite's one serialised writer
            # and a reader, or a PostgreSQL pool.
            database = await open_migrated(settings)
            stack.push_async_callback(database.close)
            accounts = AccountStore(
                database, PasswordGate(settings.login_hash_concurrency, settings.login_hash_queue)
            )
            schedule_store = ScheduleStore(database)
            replays = ReplayStore(database)
            comments = CommentStore(database)
            shares = ShareClickStore(database)
            broker = broker_from_url(settings.redis_url)
            await broker.connect()
            stack.push_async_callback(broker.disconnect)
            if not settings.database_is_postgres:
                await stack.enter_async_context(single_host(broker, settings.host_name))
            hub = CommentHub(comments, broker, hub_limits(settings))
            hub.chat_window = LiveWindow(schedule_store)
            await hub.start()
            stack.push_async_callback(hub.stop)
            push = await stack.enter_async_context(push_sender(settings, database).running())
            questions = QuestionService(
                hub,
                QuestionStore(database, comments),
                vote_burst=settings.vote_burst,
                votes_per_minute=settings.votes_per_minute,
                votes_per_address=settings.votes_per_address,
                votes_per_network=settings.votes_per_network,
                on_answered=lambda q: push_routes.question_answered(push, q),
            )
            await questions.start()
            stack.push_async_callback(questions.stop)
            moderator = await moderation_routes.start_moderation(stack, hub, settings)
            questions.pinner = moderator.pin
            members = MemberStore(database)
            access = AccessStore(database)
            hub.register(access, first=True)  # who may comment at all, before moderation
            stack.callback(hub.unregister, access)
            questions.access = access
            ops = OpsStore(database, comments)
            if settings.comment_retention_days > 0:  # one process of all hosts prunes
                await stack.enter_async_context(
                    elected(
                        database,
                        "retention",
                        lambda: retention(ops, settings.comment_retention_days),
                    )
                )
            metrics = await stack.enter_async_context(
                MetricsRecorder(
                    hub,
                    comments,
                    "redis" if settings.redis_url else "memory",
                    metrics_dir(settings),
                    settings.host_name,
                ).running()
            )
            if settings.demo:
                await load_demo(schedule_store, replays, comments)
                await stack.enter_async_context(
                    elected(
                        database,
                        "demo-director",
                        lambda: demo_director(schedule_store, replays, hub),
                    )
                )
            channel_feed = await stack.enter_async_context(ChannelFeed(broker).running())
            settle_heap()
            yield {
                "channel_feed": channel_feed,
                "moderator": moderator,
                "ops": ops,
                "metrics": metrics,
                "services": Services(
                    settings=settings,
                    templates=templates,
                    accounts=accounts,
                    schedule=schedule_store,
                    replays=replays,
                    comments=comments,
                    broker=broker,
                    hub=hub,
                    sessions=codec,
                    questions=questions,
                    login_limits=LoginLimits(settings, broker),
                    pictures=Pictures(Path(settings.preview_font_dir), settings.thumbnails_path),
                    members=members,
                    access=access,
                    page_panels=[question_routes.panel_context],
                    on_go_live=[lambda b: push_routes.broadcast_live(push, b)],
                    on_forget_person=[push.store.forget],
                ),
                # state one feature owns, read through its own accessor
                "session_stores": SessionStores(accounts, members),
                "share_clicks": shares,
                "push": push,
                "sign_in": sign_in,
            }

    routes: list[BaseRoute] = [
        *health.routes,
        *metrics_routes,
        *status_routes.routes,
        *auth.routes,
        *account_routes.routes,
        *staff_pages.routes,
        *signin.routes,
        *access_routes.routes,
        *schedule_routes.routes,
        *replay_routes.routes,
        *picture_routes.routes,
        *channel_feed_routes,
        *comment_routes.routes,
        *moderation_routes.routes,
        *question_routes.routes,
        *share_routes.routes,
        *push_routes.routes,
        *pwa_routes.routes,
        *live.routes,
        *pages.routes,
        Mount("/static", app=HashedStaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(CommentSocketShortcut),
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(SessionRefreshMiddleware, codec=codec),
            Middleware(OverloadMiddleware),
            # Only the sign-in flow writes here (state, nonce, PKCE verifier): ls_signin.
            Middleware(
                SessionMiddleware,
                secret_key="signin:" + settings.secret_key,
                session_cookie=signin.SIGNIN_COOKIE,
                max_age=signin.SIGNIN_MAX_AGE,
                same_site="lax",
                https_only=codec.secure,
            ),
        ],
        exception_handlers=exception_handlers(),
    )
    return app
