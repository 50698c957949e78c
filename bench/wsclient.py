"""A lean WebSocket client for the benchmarks' viewers: it receives and counts, little else.

The benchmark's clients share the machine's two cores with the server they measure, so
every microsecond a client spends per received frame is taken from the server and shows
up as the server's latency. The `websockets` library costs a task wake-up, a future and
(with a receive timeout) a timer per message; a viewer that only counts needs none of
that. `Socket` is an `asyncio.Protocol`: the HTTP upgrade (RFC 6455 §4.1, the accept key
checked), then the server's unmasked frames parsed in place as bytes arrive, each whole
text message handed to a callback as bytes. Pings are answered, a close is answered and
ends the connection; what the client sends (pongs, Engine.IO's "3" and "40") is masked as
§5.3 requires. No extensions are offered, so no system compresses (as with the
`websockets` client and `compression=None`).

Posters keep the `websockets` client: they are five connections, not thousands.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (FIN set)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big") if n else 0
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
    return header + mask + masked


class Socket(asyncio.Protocol):
    """One client connection; `on_text` gets each whole text message (bytes)."""

    def __init__(self, request: bytes, key: bytes, on_text: Callable[[Socket, bytes], None]):
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.open: asyncio.Future[None] = loop.create_future()
        # When the connection is gone: the close code the server sent (None: none came).
        self.ended: asyncio.Future[int | None] = loop.create_future()
        self.close_code: int | None = None
        self._request = request
        self._accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self._upgraded = False
        self._buf = bytearray()
        self._parts: list[bytes] = []  # a fragmented message's frames so far
        self._text = False  # whether that message is text

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("connection closed"))
        if not self.ended.done():
            self.ended.set_result(self.close_code)

    def send_text(self, text: str) -> None:
        if self.transport is not None:
            self.transport.write(frame(TEXT, text.encode()))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.write(frame(CLOSE, (1000).to_bytes(2, "big")))
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[: end + 4]
            status = head[0].split(" ", 2)
            accept = next(
                (
                    h.split(":", 1)[1].strip()
                    for h in head
                    if h.lower().startswith("sec-websocket-accept:")
                ),
                "",
            )
            if len(status) < 2 or status[1] != "101" or accept.encode() != self._accept:
                self.open.set_exception(ConnectionError(f"upgrade refused: {head[0]}"))
                assert self.transport is not None
                self.transport.close()
                return
            self._upgraded = True
            self.open.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, start = b1 & 0x7F, pos + 2
            if n == 126:
                if size - start < 2:
                    break
                n, start = int.from_bytes(buf[start : start + 2], "big"), start + 2
            elif n == 127:
                if size - start < 8:
                    break
                n, start = int.from_bytes(buf[start : start + 8], "big"), start + 8
            if size - start < n:
                break
            payload = bytes(buf[start : start + n])
            pos = start + n
            self._frame(b0, payload)
            if self.transport is None:
                return
        del buf[:pos]

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode, fin = b0 & 0x0F, b0 & 0x80
        if opcode == TEXT and fin and not self._parts:  # the common case: a whole message
            self.on_text(self, payload)
        elif opcode in (TEXT, BINARY, CONTINUATION):
            if opcode != CONTINUATION:
                self._text = opcode == TEXT
            self._parts.append(payload)
            if fin:
                message, self._parts = b"".join(self._parts), []
                if self._text:
                    self.on_text(self, message)
        elif opcode == PING:
            assert self.transport is not None
            self.transport.write(frame(PONG, payload))
        elif opcode == CLOSE:
            if len(payload) >= 2:
                self.close_code = int.from_bytes(payload[:2], "big")
            self.close()


async def connect(
    url: str,
    origin: str,
    on_text: Callable[[Socket, bytes], None],
    headers: dict[str, str] | None = None,
) -> Socket:
    """Open a connection to `url` (ws://) and complete the upgrade."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    key = base64.b64encode(random.randbytes(16))
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    _, sock = await loop.create_connection(lambda: Socket(request, key, on_text), host, port)
    await sock.open
    return sock


__all__ = ["Socket", "connect", "frame"]
