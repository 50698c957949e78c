"""A bound on argon2 work: how many password hashes run at once, and how many may wait.

Each argon2id hash takes 64 MiB and tens of milliseconds of a core. Without a bound, a
flood of logins (each with a fresh username, so no per-name limit applies) queues hashes
without end: memory grows and a real login waits behind thousands of guesses. The gate
runs `slots` hashes at once, lets `queue` more wait, and refuses the rest at once
(`PasswordGateBusy`) — a refusal costs microseconds, not a hash. One more slot is kept for
`trusted` logins (a browser that logged in to that account before, see
`web.identity.sessions.SessionCodec.load_device`), so staff get in during a flood of strangers, and
while a trusted login hashes no other hash starts: argon2 uses several threads, and a
trusted hash sharing the cores with guesses took 3 s instead of 0.6 (bench/login_flood).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class PasswordGateBusy(RuntimeError):
    """Too many password hashes are running and waiting; try again shortly."""


class PasswordGate:
    def __init__(self, slots: int, queue: int, trusted_slots: int = 1) -> None:
        self._general = asyncio.Semaphore(max(1, slots))
        self._trusted = asyncio.Semaphore(max(1, trusted_slots))
        self._queue = max(0, queue)
        self._waiting = {id(self._general): 0, id(self._trusted): 0}
        self._trusted_active = 0
        self._trusted_idle = asyncio.Event()
        self._trusted_idle.set()
        self.refused = 0

    @contextlib.asynccontextmanager
    async def slot(self, trusted: bool = False) -> AsyncIterator[None]:
        """Hold one hashing slot for the body; raise `PasswordGateBusy` when the queue is
        full. A trusted caller takes a free general slot if there is one, else its own."""
        semaphore = self._general
        if trusted and self._general.locked():
            semaphore = self._trusted
        lane = id(semaphore)
        if semaphore.locked() and self._waiting[lane] >= self._queue:
            self.refused += 1
            raise PasswordGateBusy("too many logins at once")
        if trusted:
            self._trusted_active += 1
            self._trusted_idle.clear()
        self._waiting[lane] += 1
        try:
            await semaphore.acquire()
        except BaseException:
            self._trusted_done(trusted)
            raise
        finally:
            self._waiting[lane] -= 1
        try:
            if not trusted:
                await self._trusted_idle.wait()
            yield
        finally:
            semaphore.release()
            self._trusted_done(trusted)

    def _trusted_done(self, trusted: bool) -> None:
        if trusted:
            self._trusted_active -= 1
            if self._trusted_active == 0:
                self._trusted_idle.set()
