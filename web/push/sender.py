"""Web Push, the I/O edge: a bounded queue of reminders and one task that sends them.

Going live and answering a question only *offer* a job (`PushSender.offer`, never awaits):
when the queue is full the job is dropped and logged, so a slow or unreachable push
service can never slow those requests down. The task reads the reminder's recipients,
encrypts each message for its subscription (RFC 8291 `aes128gcm`, http_ece's encoder),
signs a VAPID JWT (RFC 8292, py_vapid) for the push service's origin and POSTs it with
httpx: no redirects followed, a short timeout, and only after the endpoint's host resolved
to public addresses (`web.push.messages.public_addresses`). A 404 or 410 deletes the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped]
import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from starlette.requests import HTTPConnection

from web.push.messages import Notice, PushSubscription, b64url_bytes, public_addresses
from web.push.store import PushStore

log = logging.getLogger("web.push.messages")


def encrypt(payload: bytes, sub: PushSubscription) -> bytes:
    """`payload` encrypted for `sub` (RFC 8291: ECDH with a key made for this message
    alone and the subscription's `p256dh`, the `auth` secret; RFC 8188 `aes128gcm`)."""
    body: bytes = http_ece.encrypt(
        payload,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_bytes(sub.p256dh),
        auth_secret=b64url_bytes(sub.auth),
        version="aes128gcm",
    )
    return body


SEND_TIMEOUT = 10.0
CONCURRENT_SENDS = 16
PRUNE_EVERY = 3600.0
JWT_LIFETIME = 12 * 3600


@dataclass(frozen=True)
class Reminder:
    """A reminder that fired: who asked for it (`kind`, `target`) and what to say."""

    kind: str
    target: int
    notice: Callable[[str], Notice]  # locale -> the notice in that language
    ttl: int = 3600
    urgency: str = "normal"


@dataclass(frozen=True)
class VapidKeys:
    public_key: str
    private_key: str
    subject: str


class PushSender:
    def __init__(
        self,
        store: PushStore,
        keys: VapidKeys | None,
        *,
        queue_size: int,
        allow_loopback: bool = False,
    ) -> None:
        self.store = store
        self._vapid = Vapid02.from_raw(keys.private_key.encode()) if keys else None
        self._subject = keys.subject if keys else ""
        self._queue: asyncio.Queue[Reminder] = asyncio.Queue(queue_size)
        self._allow_loopback = allow_loopback
        self.dropped = 0
        self.sent = 0
        self.gone = 0

    @property
    def enabled(self) -> bool:
        return self._vapid is not None

    def offer(self, reminder: Reminder) -> bool:
        """Queue `reminder` without waiting; False (and logged) when disabled or full."""
        if not self.enabled:
            return False
        try:
            self._queue.put_nowait(reminder)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "push queue full: %s %d dropped (%d so far)",
                reminder.kind,
                reminder.target,
                self.dropped,
            )
            return False
        return True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PushSender]:
        """Run the sending task for the block; on exit it is cancelled (queued jobs drop)."""
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT, follow_redirects=False) as client:
            task = asyncio.create_task(self._run(client), name="push-sender")
            try:
                yield self
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def idle(self) -> None:
        """Wait until every queued reminder has been handled (tests and shutdown)."""
        await self._queue.join()

    async def _run(self, client: httpx.AsyncClient) -> None:
        next_prune = 0.0
        while True:
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY
                try:
                    pruned = await self.store.prune()
                    if pruned:
                        log.info("deleted %d expired push subscription(s)", pruned)
                except Exception:
                    log.exception("pruning push subscriptions failed")
            try:
                reminder = await asyncio.wait_for(self._queue.get(), PRUNE_EVERY)
            except TimeoutError:
                continue
            try:
                await self._deliver(client, reminder)
            except Exception:
                log.exception("push for %s %d failed", reminder.kind, reminder.target)
            finally:
                self._queue.task_done()

    async def _deliver(self, client: httpx.AsyncClient, reminder: Reminder) -> None:
        recipients = await self.store.recipients(reminder.kind, reminder.target)
        limit = asyncio.Semaphore(CONCURRENT_SENDS)

        async def one(sub: PushSubscription, locale: str) -> None:
            async with limit:
                await self._send(client, sub, reminder.notice(locale), reminder)

        await asyncio.gather(*(one(r.subscription, r.locale) for r in recipients))
        await self.store.done(
            reminder.kind, reminder.target, [r.subscription.endpoint for r in recipients]
        )

    async def _send(
        self, client: httpx.AsyncClient, sub: PushSubscription, notice: Notice, reminder: Reminder
    ) -> None:
        parts = urlsplit(sub.endpoint)
        host = parts.hostname or ""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443)
        except OSError as exc:
            log.info("push endpoint host %s does not resolve: %s", host, exc)
            return
        if not public_addresses(
            (str(info[4][0]) for info in infos), allow_loopback=self._allow_loopback
        ):
            log.warning("push endpoint host %s resolves to a private address: not sent", host)
            return
        body = encrypt(notice.payload(), sub)
        audience = f"{parts.scheme}://{parts.netloc}"
        claims = {"aud": audience, "sub": self._subject, "exp": int(time.time()) + JWT_LIFETIME}
        assert self._vapid is not None  # offer() queues nothing without keys
        headers = dict(self._vapid.sign(claims))
        headers.update(
            {
                "TTL": str(reminder.ttl),
                "Urgency": reminder.urgency,
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
            }
        )
        try:
            response = await client.post(sub.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("push to %s failed: %s", audience, exc)
            return
        if response.status_code in (404, 410):
            self.gone += 1
            await self.store.remove(sub.endpoint)
        elif response.status_code >= 400:
            log.info("push service %s answered %d", audience, response.status_code)
        else:
            self.sent += 1


def push_sender(conn: HTTPConnection) -> PushSender:
    """This process's `PushSender` (kept by the lifespan in the app's state)."""
    found: PushSender = conn.state.push
    return found
