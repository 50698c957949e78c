"""Web Push, the pure part: what a subscription is, which endpoints we send to, what we say.

A browser that grants notification permission gives us a subscription: the push service's
`endpoint` URL and two keys (`p256dh`, the browser's P-256 public key, and `auth`, a
16-byte secret). A citizen asks for one *reminder* at a time — a planned broadcast going
live, or a followed question being answered — and nothing is ever pushed without one.

The endpoint is a URL the browser hands us, so it is hostile input: the server would POST
to it. `check_endpoint` accepts only `https` on a public host name or address (no
loopback, private, link-local or reserved ranges, no credentials, no odd ports), and
`public_addresses` checks what the name resolves to right before each send.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from web.rendering.i18n import translate

KINDS = ("broadcast", "question")
ENDPOINT_MAX = 1024
P256_POINT_BYTES = 65  # uncompressed: 0x04 || x || y
AUTH_BYTES = 16
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


class SubscriptionError(ValueError):
    """A subscription (or reminder request) the server will not store; `field` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PushSubscription:
    endpoint: str
    p256dh: str  # base64url, as the browser's PushSubscription.toJSON() gives it
    auth: str


@dataclass(frozen=True)
class Notice:
    """One notification as the service worker shows it."""

    title: str
    body: str
    url: str  # a path on this site, opened when the notification is tapped
    tag: str  # a newer notice with the same tag replaces the older one

    def payload(self) -> bytes:
        return json.dumps(
            {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag},
            ensure_ascii=False,
        ).encode()


def b64url_bytes(value: str) -> bytes:
    """Decode base64url with or without padding; `ValueError` if it is not base64url."""
    if not _B64URL.fullmatch(value):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def on_p256(point: bytes) -> bool:
    """Whether `point` (uncompressed, 65 bytes) is a P-256 public key: a key that is not
    would make every message to it fail to encrypt."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


def parse_subscription(raw: object, *, allow_loopback: bool = False) -> PushSubscription:
    """A `PushSubscription.toJSON()` object, checked; `SubscriptionError` names the field."""
    if not isinstance(raw, dict):
        raise SubscriptionError("subscription", "must be an object {endpoint, keys}")
    endpoint = raw.get("endpoint")
    if not isinstance(endpoint, str):
        raise SubscriptionError("subscription.endpoint", "must be a URL")
    check_endpoint(endpoint, allow_loopback=allow_loopback)
    keys = raw.get("keys")
    if not isinstance(keys, dict):
        raise SubscriptionError("subscription.keys", "must be an object {p256dh, auth}")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    for name, value, size in (("p256dh", p256dh, P256_POINT_BYTES), ("auth", auth, AUTH_BYTES)):
        try:
            decoded = b64url_bytes(value) if isinstance(value, str) and len(value) < 200 else b""
        except ValueError:
            decoded = b""
        if len(decoded) != size or (name == "p256dh" and decoded[0] != 4):
            raise SubscriptionError(
                f"subscription.keys.{name}", f"must be base64url of {size} bytes"
            )
        if name == "p256dh" and not on_p256(decoded):
            raise SubscriptionError("subscription.keys.p256dh", "must be a point on P-256")
    assert isinstance(p256dh, str) and isinstance(auth, str)
    return PushSubscription(endpoint, p256dh.rstrip("="), auth.rstrip("="))


def check_endpoint(url: str, *, allow_loopback: bool = False) -> None:
    """Refuse an endpoint the server must not POST to (`SubscriptionError`).

    https only, on a public host; `allow_loopback` (tests) also admits `http://127.0.0.1`."""
    field = "subscription.endpoint"
    if len(url) > ENDPOINT_MAX or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise SubscriptionError(field, f"must be a URL of at most {ENDPOINT_MAX} characters")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise SubscriptionError(field, "has an invalid port") from None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or parts.username is not None or parts.password is not None:
        raise SubscriptionError(field, "must name a host, without user or password")
    loopback_ok = allow_loopback and parts.scheme in ("http", "https") and _is_loopback(host)
    if loopback_ok:
        return
    if parts.scheme != "https":
        raise SubscriptionError(field, "must be an https URL")
    if port not in (None, 443):
        raise SubscriptionError(field, "must use the standard https port")
    if host == "localhost" or host.endswith(_BLOCKED_SUFFIXES) or "." not in host:
        raise SubscriptionError(field, "must be a public host")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: its addresses are checked when we send (`public_addresses`)
    if not address.is_global:
        raise SubscriptionError(field, "must be a public address")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_addresses(addresses: Iterable[str], *, allow_loopback: bool = False) -> bool:
    """True when every address a host resolved to is public (or loopback, when allowed)."""
    found = False
    for raw in addresses:
        found = True
        address = ipaddress.ip_address(raw.split("%")[0])
        if not (address.is_global or (allow_loopback and address.is_loopback)):
            return False
    return found


def live_notice(locale: str, broadcast_id: int, title: str) -> Notice:
    return Notice(
        title=translate(locale, "지금 방송을 시작했습니다"),
        body=title,
        url=f"/live/{broadcast_id}",
        tag=f"live-{broadcast_id}",
    )


def answer_notice(locale: str, broadcast_id: int, question_id: int, text: str) -> Notice:
    shown = text if len(text) <= 80 else text[:79] + "…"
    return Notice(
        title=translate(locale, "팔로우한 질문에 답변이 달렸습니다"),
        body=shown,
        url=f"/broadcasts/{broadcast_id}/questions#q-{question_id}",
        tag=f"question-{question_id}",
    )
