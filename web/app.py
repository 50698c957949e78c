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

import aiosqlite
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount

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
from web.accounts.login_limits import LoginLimits
from web.accounts.members import MemberStore, close_member_readers
from web.accounts.password_gate import PasswordGate
from web.accounts.sessions import SessionCodec, SessionRefreshMiddleware
from web.accounts.store import AccountStore
from web.database import connect, migrate
from web.http import health
from web.http.errors import exception_handlers
from web.http.overload import OverloadMiddleware
from web.http.request_id import RequestIdMiddleware
from web.http.security import SecurityHeadersMiddleware
from web.http.static_files import HashedStaticFiles
from web.live import comment_routes, pages
from web.live import socket as live
from web.live.chat_window import LiveWindow
from web.live.socket import FrameSendMiddleware
from web.moderation import access_routes
from web.moderation import routes as moderation_routes
from web.ops import status as status_routes
from web.ops.metrics import MetricsRecorder, metrics_dir
from web.ops.metrics import routes as metrics_routes
from web.ops.retention import retention
from web.push import routes as push_routes
from web.push.sender import PushSender, VapidKeys
from web.push.store import PushStore
from web.pwa import routes as pwa_routes
from web.questions import routes as question_routes
from web.rendering.templating import make_templates
from web.replay import picture_routes
from web.replay import routes as replay_routes
from web.replay.pictures import Pictures
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


def push_sender(settings: Settings, writer: aiosqlite.Connection,
                reader: aiosqlite.Connection) -> PushSender:
    keys = (VapidKeys(settings.vapid_public_key, settings.vapid_private_key,
                      settings.vapid_subject) if settings.push_enabled else None)
    store = PushStore(writer, reader, timedelta(days=settings.push_subscription_days))
    return PushSender(store, keys, queue_size=settings.push_queue_size,
                      allow_loopback=settings.push_allow_loopback)


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
    sign_in = signin.build_signin(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        path = settings.database_path
        migrate(path)
        async with contextlib.AsyncExitStack() as stack:
            reader = await connect(path)
            stack.push_async_callback(reader.close)
            writers = []
            for _ in range(5):
                writer = await connect(path)
                stack.push_async_callback(writer.close)
                writers.append(writer)
            accounts = AccountStore(writers[0], reader, PasswordGate(
                settings.login_hash_concurrency, settings.login_hash_queue))
            schedule_store = ScheduleStore(writers[1], reader)
            replays = ReplayStore(writers[2], reader)
            comments = CommentStore(writers[3], reader)
            share_writer = await connect(path)
            stack.push_async_callback(share_writer.close)
            shares = ShareClickStore(share_writer, reader)
            broker = broker_from_url(settings.redis_url)
            await broker.connect()
            stack.push_async_callback(broker.disconnect)
            hub = CommentHub(comments, broker, hub_limits(settings))
            hub.chat_window = LiveWindow(schedule_store)
            await hub.start()
            stack.push_async_callback(hub.stop)
            push_writer = await connect(path)
            stack.push_async_callback(push_writer.close)
            push = await stack.enter_async_context(push_sender(settings, push_writer,
                                                               reader).running())
            questions = QuestionService(hub, QuestionStore(writers[4], reader),
                                        vote_burst=settings.vote_burst,
                                        votes_per_minute=settings.votes_per_minute,
                                        votes_per_address=settings.votes_per_address,
                                        votes_per_network=settings.votes_per_network,
                                        on_answered=lambda q: push_routes.question_answered(
                                            push, q))
            await questions.start()
            moderator = await moderation_routes.start_moderation(stack, hub, settings)
            social_writer = await connect(path)
            stack.push_async_callback(social_writer.close)
            members = MemberStore(social_writer, reader)
            stack.callback(close_member_readers, path)
            access = AccessStore(social_writer, reader)
            hub.policies.insert(0, access.policy)
            questions.access = access
            ops_writer = await connect(path)
            stack.push_async_callback(ops_writer.close)
            ops = OpsStore(ops_writer, reader)
            await stack.enter_async_context(retention(ops, settings.comment_retention_days))
            metrics = await stack.enter_async_context(MetricsRecorder(
                hub, comments, "redis" if settings.redis_url else "memory",
                metrics_dir(settings)).running())
            if settings.demo:
                from web.demo import load_demo, start_demo_director

                await load_demo(schedule_store, replays, comments)
                await start_demo_director(stack, schedule_store, replays, hub)
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
                    shares=shares,
                    login_limits=LoginLimits(settings, broker),
                    pictures=Pictures(Path(settings.preview_font_dir),
                                      settings.thumbnails_path),
                    push=push,
                    members=members,
                    access=access,
                    signin=sign_in,
                ),
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
            Middleware(FrameSendMiddleware),
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(SessionRefreshMiddleware, codec=codec),
            Middleware(OverloadMiddleware),
            # Only the sign-in flow writes here (state, nonce, PKCE verifier): ls_signin.
            Middleware(SessionMiddleware, secret_key="signin:" + settings.secret_key,
                       session_cookie=signin.SIGNIN_COOKIE, max_age=signin.SIGNIN_MAX_AGE,
                       same_site="lax", https_only=codec.secure),
        ],
        exception_handlers=exception_handlers(),
    )
    return app
