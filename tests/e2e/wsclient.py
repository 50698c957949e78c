"""A real WebSocket viewer for end-to-end tests (the `websockets` client library)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support import TIMEOUT


async def guest_cookie(base: str, nickname: str) -> tuple[str, str]:
    """Create a guest session over HTTP; return (cookie header, csrf token)."""
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/session", json={"nickname": nickname})
        r.raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        return cookie, r.json()["csrf_token"]


class ViewerClient:
    """Connects, records every comment id with its arrival time, reconnects with ?after=."""

    def __init__(
        self, ws_base: str, broadcast_id: int, cookie: str = "", origin: str | None = None
    ) -> None:
        self.ws_base = ws_base
        self.broadcast_id = broadcast_id
        self.cookie = cookie
        self.origin = origin or ws_base.replace("ws://", "http://")
        self.ids: list[int] = []
        self.arrivals: dict[int, float] = {}
        self.acks: dict[str, int] = {}
        self.errors: list[dict[str, Any]] = []
        self.closes: list[int] = []
        self.ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def open(self) -> None:
        last = self.ids[-1] if self.ids else None
        query = f"?after={last}" if last is not None else ""
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.ws = await connect(
            f"{self.ws_base}/ws/broadcasts/{self.broadcast_id}{query}",
            additional_headers=headers,
            origin=self.origin,  # type: ignore[arg-type]
            open_timeout=TIMEOUT,
            max_size=2**22,
        )
        self._task = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                now = time.monotonic()
                if frame["type"] == "comments":
                    for item in frame["items"]:
                        self.ids.append(item["id"])
                        self.arrivals[item["id"]] = now
                elif frame["type"] == "ack":
                    self.acks[frame["client_id"]] = frame["id"]
                elif frame["type"] == "error":
                    self.errors.append(frame)
                self._changed.set()
        except Exception:  # connection dropped: the test decides what to do
            pass
        finally:
            if ws.close_code is not None:
                self.closes.append(ws.close_code)
            self._changed.set()

    async def post(self, text: str, client_id: str) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "post", "text": text, "client_id": client_id}))

    async def wait(self, predicate: Any, timeout: float = TIMEOUT * 3) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()

    @property
    def connected(self) -> bool:
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task
