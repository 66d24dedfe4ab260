"""What the Gerrit stream has read, and the catch-up that reads what it has not.

Coverage is the newest `eventCreatedOn` seen on the stream plus the gaps: every
second up to the newest has been read, except the gaps. A gap is opened, in the
state store, before anything that could skip it happens: when a stream session
starts (from the newest second seen, so a disconnect or a restart is covered),
and when Gerrit reports `dropped-output`. It is deleted only once a catch-up has
read it to its end. So a gap survives a failing events-log, a failing REST API
and a restart: the catch-up retries it with backoff until it is read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from govbot.backoff import backoff
from govbot.state.gaps import Gap, GapStore
from govbot.state.store import StateStore

log = logging.getLogger(__name__)

_CREATED = re.compile(rb'"eventCreatedOn"\s*:\s*"?(\d+)')
#: Events can be stamped a little out of order; gaps reach this far around their edges.
MARGIN = 5


def created_on(line: bytes) -> int | None:
    """The `eventCreatedOn` of a raw line, without parsing it (works on any line)."""
    found = _CREATED.search(line)
    return int(found.group(1)) if found else None


class GapReader(Protocol):
    async def read(self, start: int, end: Callable[[], int | None],
                   progress: Callable[[int], Awaitable[None]]) -> int:
        """Hand every event of seconds `start`..`end()` (inclusive; None: until now) to
        the intake; call `progress(s)` once everything before second `s` is handed
        over. Returns the events found. Raises when the range could not be read."""
        ...


class Coverage:
    """The newest second seen and the open gaps, persisted as they change."""

    def __init__(self, store: StateStore, namespace: str) -> None:
        self._store = store
        self._gaps_store = GapStore(store)
        self._namespace = namespace
        self.newest = 0
        self._saved = 0
        self.gaps: dict[int, Gap] = {}
        self.changed = asyncio.Event()  # set whenever a gap is opened or given an end
        self.session = 0  # stream sessions begun; bumped by `begin_session`
        self.live = False  # a stream session is up
        self._awaiting_first = False

    @property
    def value(self) -> int:
        return self.newest

    @property
    def oldest_unread(self) -> int:
        """The first second of the oldest gap (0: none)."""
        return min((g.start for g in self.gaps.values()), default=0)

    async def restore(self) -> int:
        self.newest = self._saved = int(
            await self._store.get_value(self._namespace, "cursor", 0) or 0)
        self.gaps = {g.id: g for g in await self._gaps_store.load()}
        if self.gaps:
            log.info("gerrit catch-up: %d unread range(s) from before, oldest from %d",
                     len(self.gaps), self.oldest_unread)
            self.changed.set()
        return self.newest

    async def begin_session(self) -> None:
        """A stream session is connected: what it cannot deliver is a gap from the newest
        second seen to its first event (at most one such open-ended gap exists)."""
        self.session += 1
        self._awaiting_first = True
        # From now on Gerrit sends everything to this session: a catch-up that starts
        # reading after this point and ends while it still runs has seen the rest.
        self.live = True
        if self.newest and not any(g.end is None for g in self.gaps.values()):
            await self.open(max(0, self.newest - MARGIN), None, "reconnect")
        self.changed.set()  # a gap read while no session was up can now be finished

    def end_session(self) -> None:
        self.live = False
        self._awaiting_first = False

    async def lines_arriving(self, lines: Sequence[bytes]) -> None:
        """Before the intake takes the very first lines: coverage starts at their second.

        Otherwise a run stopped between storing its first events and saving the newest
        second would restart knowing of no second at all, and open no gap. (Later
        batches move the newest second only once stored: see `lines_read`.)
        """
        if self.newest:
            return
        first = min((s for s in map(created_on, lines) if s is not None), default=0)
        if first:
            self.newest = self._saved = first
            await self._store.set_value(self._namespace, "cursor", first)

    async def lines_read(self, lines: Sequence[bytes]) -> None:
        """Lines the intake has stored: move the newest second, open what they say is lost."""
        previous = self.newest
        newest = previous
        for line in lines:
            second = created_on(line)
            if second is None:
                continue
            if self._awaiting_first:
                self._awaiting_first = False
                for gap in [g for g in self.gaps.values() if g.end is None]:
                    await self._replace(dataclasses.replace(gap, end=second + MARGIN))
                    self.changed.set()
            if b'"dropped-output"' in line:
                await self.open(max(0, (previous or second) - MARGIN), second + MARGIN,
                                "dropped-output")
            newest = max(newest, second)
        self.newest = newest
        if self.newest != self._saved:
            await self._store.set_value(self._namespace, "cursor", self.newest)
            self._saved = self.newest

    async def open(self, start: int, end: int | None, reason: str) -> Gap:
        gap = await self._gaps_store.open(start, end, reason)
        self.gaps[gap.id] = gap
        log.info("gerrit catch-up: unread range %d..%s (%s)", start,
                 "its end" if end is None else end, reason)
        self.changed.set()
        return gap

    async def progress(self, gap_id: int, second: int) -> None:
        gap = self.gaps.get(gap_id)
        if gap is not None and second > gap.start:
            await self._replace(dataclasses.replace(gap, start=second))

    async def failed(self, gap_id: int, error: str) -> Gap | None:
        gap = self.gaps.get(gap_id)
        if gap is None:
            return None
        gap = dataclasses.replace(gap, attempts=gap.attempts + 1, error=error[:500])
        await self._replace(gap)
        return gap

    async def close(self, gap_id: int) -> None:
        if self.gaps.pop(gap_id, None) is not None:
            await self._gaps_store.close(gap_id)

    def end_of(self, gap_id: int) -> int | None:
        gap = self.gaps.get(gap_id)
        return None if gap is None else gap.end

    async def _replace(self, gap: Gap) -> None:
        self.gaps[gap.id] = gap
        await self._gaps_store.save(gap)


class CatchUp:
    """Reads the gaps, oldest first, until cancelled; a failed read is retried with
    backoff (`min_delay` doubling up to `max_delay`), never given up."""

    def __init__(self, coverage: Coverage, reader: GapReader, *, min_delay: float = 1.0,
                 max_delay: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[], None] | None = None) -> None:
        self.coverage = coverage
        #: Called after each read, done or failed (the stream's readiness follows it).
        self._on_change = on_change
        self._reader = reader
        self.min_delay = min_delay
        self.max_delay = max_delay
        self._clock = clock
        self._retry_at: dict[int, float] = {}
        #: Open-ended gaps read up to "now" without a live session throughout, with the
        #: session then: read again once they get an end or a new session is up.
        self._parked: dict[int, int] = {}
        self.reads = 0  # gap reads that completed
        self.failures = 0  # gap reads that raised (each retried)
        self.done = asyncio.Event()  # set whenever no gap is left (tests wait on it)

    def _due(self) -> tuple[Gap | None, float | None]:
        now = self._clock()
        waits = []
        coverage = self.coverage
        self._parked = {i: session for i, session in self._parked.items()
                        if i in coverage.gaps and coverage.end_of(i) is None
                        and not (coverage.live and coverage.session != session)}
        for gap in sorted(self.coverage.gaps.values(), key=lambda g: (g.start, g.id)):
            if gap.id in self._parked:
                continue
            at = self._retry_at.get(gap.id, 0.0)
            if at <= now:
                return gap, None
            waits.append(at - now)
        return None, min(waits, default=None)

    async def run(self) -> None:
        while True:
            self.coverage.changed.clear()
            gap, wait = self._due()
            if gap is None:
                if not self.coverage.gaps:
                    self.done.set()
                # An end given to a parked gap, or a new gap, wakes us (`changed`).
                try:
                    await asyncio.wait_for(self.coverage.changed.wait(), wait)
                except TimeoutError:
                    pass
                continue
            self.done.clear()
            try:
                await self._read(gap)
                if self._on_change is not None:
                    self._on_change()
            except Exception:
                # Bookkeeping failed (the state store, say): the gap is still recorded;
                # wait as for a failed read rather than end the catch-up for this run.
                self.failures += 1
                self._retry_at[gap.id] = self._clock() + self.max_delay
                log.exception("gerrit catch-up of %d..%s: bookkeeping failed", gap.start,
                              "now" if gap.end is None else gap.end)

    async def _read(self, gap: Gap) -> None:
        coverage = self.coverage
        end, session, live = gap.end, coverage.session, coverage.live

        async def progress(second: int) -> None:
            await coverage.progress(gap.id, second)

        try:
            found = await self._reader.read(gap.start, lambda: coverage.end_of(gap.id),
                                            progress)
        except Exception as exc:
            self.failures += 1
            failed = await coverage.failed(gap.id, f"{type(exc).__name__}: {exc}")
            attempts = failed.attempts if failed else 1
            wait = backoff(attempts, self.min_delay, self.max_delay)
            self._retry_at[gap.id] = self._clock() + wait
            log.warning("gerrit catch-up of %d..%s failed (attempt %d: %s: %s); "
                        "retrying in %.1f s", gap.start, "now" if end is None else end,
                        attempts, type(exc).__name__, exc, wait)
            return
        self.reads += 1
        self._retry_at.pop(gap.id, None)
        # Read to "now" while a live session was up the whole time: what the read did
        # not see, the session did. Otherwise an open-ended gap waits for its end.
        if end is not None or (live and coverage.live and coverage.session == session):
            await coverage.close(gap.id)
            log.info("gerrit catch-up of %d..%s (%s): %d event(s)", gap.start,
                     "now" if end is None else end, gap.reason, found)
        else:
            self._parked[gap.id] = coverage.session
