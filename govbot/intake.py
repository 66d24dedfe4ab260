"""The durable inbox between sources and the dispatcher (principle 6: nothing is lost).

A source hands over raw lines in small batches; they are parsed, written to the
inbox in one transaction, and only then queued for the plugins. When every plugin
has handled an event and its actions are reported, it is marked done (marks are
flushed in batches). After a crash, `recover()` queues again what was not done;
reporting is idempotent, so an event handled twice never posts twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence

from govbot.dispatcher import Dispatcher, Envelope
from govbot.gerrit.events import Event, EventParser, Parsed
from govbot.gerrit.identity import equivalent_ids
from govbot.state.store import StateStore

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, store: StateStore, dispatcher: Dispatcher, *,
                 flush_interval: float = 0.2,
                 observers: Sequence[Callable[[Event], None]] = (),
                 ignore_usernames: Sequence[str] = (), settle_delay: float = 0.0) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._parsers: dict[str, EventParser] = {}
        self._done: list[int] = []
        self._flush_interval = flush_interval
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._observers = tuple(observers)  # see gerrit.index: fed before handling
        self.duplicates = 0  # events dropped because they were already received
        self.own = 0  # events caused by the bot's own account, dropped
        self._ignore = frozenset(ignore_usernames)
        # Gerrit may serve stale data right after an event (Zuul waits ~10 s before
        # re-reading): with a settle delay, events are handled that long after arrival.
        # All wait equally long, so a FIFO keeps each change's order.
        self._settle = settle_delay
        self._delayed: deque[tuple[float, Envelope]] = deque()
        self._delayed_ready = asyncio.Event()

    def _own(self, event: Event) -> bool:
        """Our own votes come back as events: never worth storing or handling."""
        if not self._ignore:
            return False
        actor = event.actor
        if actor is not None and actor.username in self._ignore:
            self.own += 1
            return True
        return False

    def parsers(self) -> dict[str, EventParser]:
        return dict(self._parsers)

    def parser(self, source: str) -> EventParser:
        parser = self._parsers.get(source)
        if parser is None:
            parser = self._parsers[source] = EventParser()
        return parser

    async def accept(self, source: str, lines: Sequence[bytes]) -> list[Parsed]:
        """Persist and queue a batch of raw Gerrit event lines from `source`."""
        parser = self.parser(source)
        parsed = [(p, line) for p, line in ((parser.parse(line), line) for line in lines)
                  if p is not None and not self._own(p.event)]
        # Check-then-append must not interleave with another source's batch, or the
        # same event arriving by stream and webhook at once would be kept twice.
        async with self._lock:
            # An event is known under its id and under the ids it would have a second
            # either side (a re-created event can be a second off; see equivalent_ids).
            aliases = {item.id: equivalent_ids(item.event) for item, _ in parsed}
            known = await self._store.inbox_known(
                sorted({alias for ids in aliases.values() for alias in ids})
            ) if parsed else set()
            fresh: dict[str, tuple[Parsed, bytes]] = {}
            for item, line in parsed:
                if any(alias in known for alias in aliases[item.id]):
                    continue
                known.update(aliases[item.id])  # later copies in this batch are duplicates
                fresh[item.id] = (item, line.strip())
            self.duplicates += len(parsed) - len(fresh)
            if not fresh:
                return []
            kept = list(fresh.values())
            seqs = await self._store.inbox_append([(p.id, source, raw) for p, raw in kept])
        for observe in self._observers:
            for item, _ in kept:
                observe(item.event)
        for seq, (item, _) in zip(seqs, kept, strict=True):
            envelope = Envelope(item.id, item.event, item.event.lane, self._marker(seq))
            if self._settle > 0:
                self._delayed.append((time.monotonic() + self._settle, envelope))
                self._delayed_ready.set()
            else:
                await self._dispatcher.submit(envelope)
        return [p for p, _ in kept]

    async def recover(self) -> int:
        """Queue the events a previous run received but did not finish."""
        pending = await self._store.inbox_pending()
        for item in pending:
            parsed = self.parser(item.source).parse(item.payload)
            if parsed is None:
                await self._store.inbox_done([item.seq])
                continue
            await self._dispatcher.submit(Envelope(
                parsed.id, parsed.event, parsed.event.lane, self._marker(item.seq)))
        if pending:
            log.info("recovered %d unfinished event(s) from the inbox", len(pending))
        return len(pending)

    def _marker(self, seq: int):  # type: ignore[no-untyped-def]
        async def done() -> None:
            self._done.append(seq)
            if len(self._done) >= 500:
                self._wake.set()
        return done

    async def release_settled(self) -> None:
        """Hand settled events to the dispatcher, until cancelled (settle delay only)."""
        while True:
            if not self._delayed:
                self._delayed_ready.clear()
                await self._delayed_ready.wait()
                continue
            due, envelope = self._delayed[0]
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._delayed.popleft()
            await self._dispatcher.submit(envelope)

    async def flush(self) -> None:
        if self._done:
            batch, self._done = self._done, []
            await self._store.inbox_done(batch)

    async def run(self) -> None:
        """Flush done marks periodically; flushes one last time when cancelled."""
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._flush_interval)
                self._wake.clear()
                await self.flush()
        finally:
            await asyncio.shield(self.flush())

