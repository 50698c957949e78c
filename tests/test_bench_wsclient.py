"""The benchmarks' lean WebSocket client against a real `websockets` server on a socket:
whatever the figures in docs/performance.md count, it counts because this holds."""

from __future__ import annotations

import asyncio

from websockets.asyncio.server import ServerConnection, serve

from bench import wsclient


async def test_the_lean_client_receives_whole_messages_answers_pings_and_closes() -> None:
    got: list[bytes] = []
    done = asyncio.Event()
    heard: list[str] = []
    origins: list[str | None] = []

    async def handler(ws: ServerConnection) -> None:
        origins.append(ws.request.headers.get("Origin") if ws.request else None)
        await ws.send("첫 메시지")
        await ws.send("조각" * 3 for _ in range(3))  # one message in three frames
        await ws.send(b"binary, not counted")
        await ws.send(b"ab" for _ in range(2))  # fragmented binary: its continuation neither
        await ws.send("x" * 70_000)  # a 64-bit length
        pong = await ws.ping(b"p")
        await pong  # the client answered the ping
        heard.append(str(await ws.recv()))  # what the client sent, masked
        await ws.send("마지막")
        await ws.wait_closed()
        done.set()

    def on_text(sock: wsclient.Socket, raw: bytes) -> None:
        got.append(raw)
        if raw == "마지막".encode():
            sock.close()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        sock = await wsclient.connect(f"ws://127.0.0.1:{port}/room?x=1", "http://o", on_text)
        sock.send_text("안녕")
        await asyncio.wait_for(done.wait(), 10)

    assert origins == ["http://o"]
    assert heard == ["안녕"]
    assert got == [
        "첫 메시지".encode(),
        ("조각" * 9).encode(),
        b"x" * 70_000,
        "마지막".encode(),
    ]


async def test_the_lean_client_refuses_a_server_that_does_not_upgrade() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        try:
            await wsclient.connect(f"ws://127.0.0.1:{port}/", "http://o", lambda s, r: None)
        except ConnectionError as exc:
            assert "403" in str(exc)
        else:
            raise AssertionError("a 403 was taken for an upgrade")
    finally:
        server.close()
        await server.wait_closed()
