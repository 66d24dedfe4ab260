"""Time, injectable: the wall clock in production, a manual clock in tests.

Everything that waits for a moment in time (the scheduler, reminders, waiting
periods) waits through a `Clock`, so a test can move time forward by days and see
exactly what fires, without sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""

    async def sleep_until(self, when: dt.datetime) -> None:
        """Return once `now() >= when` (immediately if it already is)."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    async def sleep_until(self, when: dt.datetime) -> None:
        while True:
            delta = (when - self.now()).total_seconds()
            if delta <= 0:
                return
            # Long sleeps drift; re-check at least hourly.
            await asyncio.sleep(min(delta, 3600))


class ManualClock:
    """A clock that only moves when told to; sleepers wake as `advance` passes them.

    `timestamp()` (epoch seconds) lets the same clock drive the Gerrit emulator.
    """

    def __init__(self, start: dt.datetime | float) -> None:
        self._now = (start if isinstance(start, dt.datetime)
                     else dt.datetime.fromtimestamp(start, UTC))
        self._sleepers: list[tuple[dt.datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> dt.datetime:
        return self._now

    def timestamp(self) -> float:
        return self._now.timestamp()

    __call__ = timestamp  # the emulator takes a callable returning epoch seconds

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0,
                days: float = 0) -> None:
        self.set(self._now + dt.timedelta(seconds=seconds, minutes=minutes, hours=hours,
                                          days=days))

    def set(self, when: dt.datetime) -> None:
        if when < self._now:
            raise ValueError("a manual clock never goes backwards")
        self._now = when
        while self._sleepers and self._sleepers[0][0] <= when:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def sleep_until(self, when: dt.datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), future))
        await future
