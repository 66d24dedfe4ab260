"""The durable inbox between sources and the dispatcher (principle 6: nothing is lost).

A source hands over raw lines in small batches; they are parsed, written to the
inbox in one transaction, and only then queued for the plugins. When every plugin
has handled an event and its actions are reported, it is marked done (marks are
flushed in batches). After a crash, `recover()` queues again what was not done;
reporting is idempotent, so an event handled twice never posts twice.

An event the dispatcher parks after its transient failures stays pending, marked
parked (`inbox_park`): a restart holds it parked again (tried with the next event of
its change), and `govbot inbox retry` un-parks it in the database, which the running
daemon notices within `unpark_poll` seconds and tries it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from govbot.dispatcher import Dispatcher, Envelope
from govbot.gerrit.events import Event, EventParser, Parsed
from govbot.gerrit.identity import equivalent_ids, event_id
from govbot.state.parked import ParkedInbox
from govbot.state.store import StateBusy, StateStore

log = logging.getLogger(__name__)

#: Seconds the last flush of done marks waits for a locked database at shutdown.
SHUTDOWN_PATIENCE = 5.0


class Intake:
    def __init__(self, store: StateStore, dispatcher: Dispatcher, *,
                 flush_interval: float = 0.2,
                 observers: Sequence[Callable[[Event], None]] = (),
                 ignore_usernames: Sequence[str] = (), settle_delay: float = 0.0,
                 unpark_poll: float = 2.0) -> None:
        self._store = store
        self._parked_inbox = ParkedInbox(store)
        self._dispatcher = dispatcher
        self._parsers: dict[str, EventParser] = {}
        self._done: list[int] = []
        self._flush_interval = flush_interval
        self._wake = asyncio.Event()  # 500 marks waiting: flush now
        # Set by the first mark after a flush, and by a park: the flusher sleeps until
        # then, so an idle bot is never woken (a wake-up costs ~0.5 ms of CPU here).
        self._work = asyncio.Event()
        self._lock = asyncio.Lock()
        self._observers = tuple(observers)  # see gerrit.index: fed before handling
        self.duplicates = 0  # events dropped because they were already received
        self.own = 0  # events caused by the bot's own account, dropped
        self.line_failures = 0  # lines that raised while parsed or stored: logged, dropped
        self._ignore = frozenset(ignore_usernames)
        # Gerrit may serve stale data right after an event (Zuul waits ~10 s before
        # re-reading): with a settle delay, events are handled that long after arrival.
        # All wait equally long, so a FIFO keeps each change's order.
        self._settle = settle_delay
        self._delayed: deque[tuple[float, Envelope]] = deque()
        self._delayed_ready = asyncio.Event()
        self._parked: dict[int, str] = {}  # inbox seq -> event id, parked in this run
        self._unpark_poll = unpark_poll
        self._polled = time.monotonic()
        EventParser.prepare()  # the first event must not wait for the decoders

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
        parsed = [(p, line) for p, line in ((self._parse(parser, source, line), line)
                                            for line in lines) if p is not None]
        if not parsed:
            return []
        # Check-then-append must not interleave with another source's batch, or the
        # same event arriving by stream and webhook at once would be kept twice.
        async with self._lock:
            # An event is known under its id and under the ids it would have a second
            # either side (a re-created event can be a second off; see equivalent_ids).
            aliases = {item.id: equivalent_ids(item.event) for item, _ in parsed}
            kept, seqs = await self._store_new(source, parsed, aliases)
            self.duplicates += len(parsed) - len(kept)
            if not kept:
                return []
        for observe in self._observers:
            for item, _ in kept:
                observe(item.event)
        for seq, (item, _) in zip(seqs, kept, strict=True):
            envelope = Envelope(item.id, item.event, item.event.lane, self._marker(seq),
                                self._parker(seq, item.id))
            if self._settle > 0:
                self._delayed.append((time.monotonic() + self._settle, envelope))
                self._delayed_ready.set()
            else:
                await self._dispatcher.submit(envelope)
        return [p for p, _ in kept]

    def _parse(self, parser: EventParser, source: str, line: bytes) -> Parsed | None:
        """One line to an event to keep, or None; whatever the line holds, never raises.

        A line about a project no plugin acts on (`Dispatcher.wanted_kind`) is counted
        and dropped before it is decoded: it is not stored, de-duplicated or handled,
        since nothing would be done with it (most lines of a big Gerrit are such)."""
        try:
            event = parser.decode_wanted(line, self._dispatcher.wanted_kind)
            if event is None or self._own(event):
                return None
            return Parsed(event_id(event), event)
        except Exception as exc:  # principle 6: no line stops a source
            self.line_failures += 1
            log.warning("%s: event line not handled (%s: %s): %r...", source,
                        type(exc).__name__, exc, bytes(line[:200]))
            return None

    async def _store_new(self, source: str, parsed: list[tuple[Parsed, bytes]],
                         aliases: dict[str, tuple[str, ...]]
                         ) -> tuple[list[tuple[Parsed, bytes]], list[int]]:
        """Check and write the batch in one hand-off to the state thread; if that fails,
        line by line, so one bad line costs only itself.

        A database that is unusable as a whole (locked, disk I/O) still raises: the
        source then keeps its cursor where it was and reads the batch again later.
        """
        try:
            found = await self._store.inbox_accept(
                [(p.id, aliases[p.id], source, line.strip()) for p, line in parsed])
        except sqlite3.OperationalError:
            raise
        except Exception:  # sorted out line by line below
            log.warning("%s: a batch of %d event(s) could not be stored; storing them "
                        "one by one", source, len(parsed))
        else:
            kept = [(p, line.strip()) for (p, line), seq in zip(parsed, found, strict=True)
                    if seq is not None]
            return kept, [seq for seq in found if seq is not None]
        known = await self._store.inbox_known(
            sorted({alias for ids in aliases.values() for alias in ids}))
        fresh: dict[str, tuple[Parsed, bytes]] = {}
        for item, line in parsed:
            if any(alias in known for alias in aliases[item.id]):
                continue
            known.update(aliases[item.id])  # later copies in this batch are duplicates
            fresh[item.id] = (item, line.strip())
        stored: list[tuple[Parsed, bytes]] = []
        seqs: list[int] = []
        for item, raw in fresh.values():
            try:
                seqs.extend(await self._store.inbox_append([(item.id, source, raw)]))
            except sqlite3.OperationalError:
                raise
            except Exception as exc:  # this line only
                self.line_failures += 1
                log.warning("%s: event %s not stored (%s: %s): %r...", source, item.id,
                            type(exc).__name__, exc, raw[:200])
            else:
                stored.append((item, raw))
        return stored, seqs

    async def recover(self) -> int:
        """Queue the events a previous run received but did not finish."""
        pending = await self._store.inbox_pending()
        for item in pending:
            parsed = self.parser(item.source).parse(item.payload)
            if parsed is None:
                await self._store.inbox_done([item.seq])
                continue
            envelope = Envelope(parsed.id, parsed.event, parsed.event.lane,
                                self._marker(item.seq), self._parker(item.seq, parsed.id))
            if item.parked_at is not None:  # still parked: it waits for its lane's next
                self._parked[item.seq] = parsed.id
                self._work.set()
                self._dispatcher.park(envelope)
            else:
                await self._dispatcher.submit(envelope)
        if pending:
            parked = sum(1 for item in pending if item.parked_at is not None)
            log.info("recovered %d unfinished event(s) from the inbox%s", len(pending),
                     f", {parked} of them parked" if parked else "")
        return len(pending)

    def _marker(self, seq: int):  # type: ignore[no-untyped-def]
        async def done() -> None:
            self._parked.pop(seq, None)
            self._done.append(seq)
            if len(self._done) == 1:
                self._work.set()
            elif len(self._done) >= 500:
                self._wake.set()
        return done

    def _parker(self, seq: int, event_id: str) -> Callable[[str], Awaitable[None]]:
        async def parked(error: str) -> None:
            self._parked[seq] = event_id
            self._work.set()  # polled for `govbot inbox retry` while any is parked
            await self._parked_inbox.park(seq, 1, error)
        return parked

    async def retry_released(self) -> int:
        """Try again the parked events `govbot inbox retry` un-parked in the database."""
        if not self._parked:
            return 0
        released = await self._parked_inbox.released(list(self._parked))
        ids = {self._parked.pop(seq) for seq in released}
        count = self._dispatcher.retry_parked(ids) if ids else 0
        if count:
            log.info("inbox: %d parked event(s) released by `govbot inbox retry`; trying "
                     "them again", count)
        return count

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

    async def flush(self, *, patience: float | None = None) -> None:
        if self._done:
            batch, self._done = self._done, []
            try:
                await self._store.inbox_done(batch, patience=patience)
            except BaseException:
                self._done[:0] = batch  # written by the next flush, or replayed: idempotent
                raise

    async def run(self) -> None:
        """Flush done marks `flush_interval` after the first one (at once from 500 on);
        sleeps while there is nothing to flush and nothing parked; flushes one last time
        when cancelled."""
        try:
            while True:
                if not self._done and not self._parked:
                    self._work.clear()
                    await self._work.wait()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._flush_interval):
                        await self._wake.wait()
                self._wake.clear()
                await self.flush()
                if self._parked and time.monotonic() - self._polled >= self._unpark_poll:
                    self._polled = time.monotonic()
                    await self.retry_released()
        finally:
            # Bounded: a database another process keeps locked must not hold up the stop
            # (marks not written mean those events are handled again: idempotent).
            try:
                await asyncio.shield(self.flush(patience=SHUTDOWN_PATIENCE))
            except StateBusy:
                log.warning("stopping: the state database stayed locked; %d event(s) "
                            "not marked done are handled again at the next start",
                            len(self._done))

