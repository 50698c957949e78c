"""A local push service for the tests: a real HTTP server on a free port that does what a
browser vendor's push service and the browser do together — checks the VAPID JWT against
the application server's public key (RFC 8292) and decrypts the `aes128gcm` body with the
subscription's private keys (RFC 8291). Also: VAPID key pairs and subscriptions."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.support import TIMEOUT


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def vapid_keys() -> tuple[str, str]:
    """(public, private) as VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY take them."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(public_bytes(key)), b64url(key.private_numbers().private_value.to_bytes(32))


@dataclass
class Browser:
    """What a browser keeps for one push subscription: its key pair and auth secret."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public_bytes(self.key)), "auth": b64url(self.auth)},
        }


@dataclass
class Delivery:
    path: str
    claims: dict[str, Any]
    message: dict[str, Any]
    headers: dict[str, str]


class PushService:
    """Accepts pushes at `/push/<name>`; `status` is what it answers; `gate`, while clear,
    holds each request (a slow push service)."""

    def __init__(self, vapid_public: str) -> None:
        self.vapid_public = vapid_public
        self.browsers: dict[str, Browser] = {}
        self.deliveries: list[Delivery] = []
        self.failures: list[str] = []
        self.status = 201
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                service.gate.wait(TIMEOUT)
                try:
                    delivery = service.check(self.path, dict(self.headers.items()), body)
                except Exception as exc:  # a test failure, reported by the test
                    with service.arrived:
                        service.failures.append(f"{type(exc).__name__}: {exc}")
                        service.arrived.notify_all()
                    self.send_response(400)
                    self.end_headers()
                    return
                with service.arrived:
                    service.deliveries.append(delivery)
                    service.arrived.notify_all()
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def browser(self, name: str) -> Browser:
        self.browsers[name] = Browser(f"{self.origin}/push/{name}")
        return self.browsers[name]

    def check(self, path: str, headers: dict[str, str], body: bytes) -> Delivery:
        """Verify the VAPID signature, then decrypt: exactly what a real push path does."""
        lower = {k.lower(): v for k, v in headers.items()}
        scheme, _, params = lower["authorization"].partition(" ")
        assert scheme == "vapid", scheme
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert fields["k"] == self.vapid_public, "k is not the server's VAPID key"
        head, payload, signature = fields["t"].split(".")
        raw = unb64url(signature)
        assert len(raw) == 64, "ES256 signatures are r||s, 64 bytes"
        key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), unb64url(self.vapid_public)
        )
        try:
            key.verify(
                encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
                f"{head}.{payload}".encode(),
                ec.ECDSA(hashes.SHA256()),
            )
        except InvalidSignature:
            raise AssertionError("VAPID JWT signature does not verify") from None
        assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
        claims = json.loads(unb64url(payload))
        assert claims["aud"] == self.origin and claims["exp"] > time.time()
        assert lower["content-encoding"] == "aes128gcm"
        browser = self.browsers[path.rsplit("/", 1)[-1]]
        plain = http_ece.decrypt(
            body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
        )
        return Delivery(path, claims, json.loads(plain), lower)

    def wait(self, count: int) -> list[Delivery]:
        """Block until `count` pushes arrived (or a check failed); bounded by TIMEOUT."""
        with self.arrived:
            done = self.arrived.wait_for(
                lambda: self.failures or len(self.deliveries) >= count, TIMEOUT
            )
        assert not self.failures, self.failures
        assert done, f"{len(self.deliveries)} of {count} pushes arrived"
        return list(self.deliveries)

    def __enter__(self) -> PushService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
