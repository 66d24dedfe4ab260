"""The IRC service's inbound queue: events wait here for the dispatcher, never dropped.

The queue itself is unbounded; its bound (`limit`) is kept by the read loop, which
awaits `room()` before each line: while the queue is full nothing is read from the
socket, so TCP back-pressure slows the server instead of events being discarded.
One line may still bring several events (a QUIT: one per shared channel), so the
bound can be passed by one line's worth. While a WHOIS answer is awaited the reader
reads on (`whois()`): the answer is itself a line to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from govbot.irc.events import IrcEvent

log = logging.getLogger(__name__)

PAUSE_LOG_INTERVAL = 60.0  # seconds: at most one WARNING about pausing per interval


class Inbound:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.paused = 0  # times the reader paused
        self._queue: asyncio.Queue[tuple[IrcEvent, bool]] = asyncio.Queue()
        self._room = asyncio.Event()
        self._whois = 0  # WHOIS answers awaited
        self._logged = float("-inf")

    def put(self, event: IrcEvent, resolve_account: bool) -> None:
        self._queue.put_nowait((event, resolve_account))

    async def get(self) -> tuple[IrcEvent, bool]:
        item = await self._queue.get()
        self._room.set()  # a paused reader re-checks the size
        return item

    def full(self) -> bool:
        return self._queue.qsize() >= self.limit and not self._whois

    async def room(self) -> None:
        """Return once there is room for more events (at once, usually)."""
        if not self.full():
            return
        self.paused += 1
        now = asyncio.get_running_loop().time()
        if now - self._logged >= PAUSE_LOG_INTERVAL:
            self._logged = now
            log.warning("irc: %d events wait for the dispatcher; reading from the server "
                        "pauses until there is room (paused %d time(s) so far)",
                        self._queue.qsize(), self.paused)
        while self.full():
            self._room.clear()
            await self._room.wait()

    @contextlib.contextmanager
    def whois(self) -> Iterator[None]:
        """Around awaiting a WHOIS answer: the reader reads on meanwhile."""
        self._whois += 1
        self._room.set()
        try:
            yield
        finally:
            self._whois -= 1
