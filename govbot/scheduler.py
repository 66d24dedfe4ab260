"""Wake-ups: plugins ask to be called again at a moment, with no event then.

A plugin returns `WakeAt(key=..., when=...)`; the scheduler (its reporter)
stores it, and at that moment submits a `Wakeup` event (an API event, defined in
govbot.events) to the dispatcher, in the lane the plugin named (so a change's
wake-up is ordered with its other events).
Wake-ups live in the state store: a restart keeps them, and one that fell due
while the bot was down fires at start. One pending wake-up per plugin and key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from govbot.actions import Action, WakeAt
from govbot.clock import Clock
from govbot.dispatcher import Envelope
from govbot.events import Wakeup
from govbot.state.store import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Row:
    plugin: str
    key: str
    due: float
    lane: str
    payload: str
    version: int


#: Seconds past its time after which a wake-up counts as late.
LATE_AFTER = 60.0


class Scheduler:
    action_types: tuple[type[Action], ...] = (WakeAt,)

    def __init__(self, store: StateStore, clock: Clock,
                 submit: Callable[[Envelope], Awaitable[None]]) -> None:
        self._store = store
        self._clock = clock
        self._submit = submit
        self._changed = asyncio.Event()
        self._in_flight: set[tuple[str, str, int]] = set()
        self.fired = 0
        #: By plugin: wake-ups fired, and those fired over LATE_AFTER past their time
        #: (the bot was down, or the loop was blocked): a reminder sent late.
        self.fired_by: Counter[str] = Counter()
        self.late: Counter[str] = Counter()

    async def report(self, action: Action) -> None:
        assert isinstance(action, WakeAt)
        plugin, key = action.plugin, action.key
        if action.when is None:
            await self._store.call(lambda db: db.execute(
                "DELETE FROM wakeups WHERE plugin = ? AND key = ?", (plugin, key)))
        else:
            row = (plugin, key, action.when.timestamp(), action.lane,
                   json.dumps(action.payload, sort_keys=True, default=str))
            await self._store.call(lambda db: db.execute(
                "INSERT INTO wakeups (plugin, key, due_at, lane, payload, version) "
                "VALUES (?,?,?,?,?,0) ON CONFLICT (plugin, key) DO UPDATE SET "
                "due_at = excluded.due_at, lane = excluded.lane, payload = excluded.payload, "
                "version = wakeups.version + 1", row))
        self._changed.set()

    async def pending(self) -> list[_Row]:
        def rows(db: sqlite3.Connection) -> list[_Row]:
            return [_Row(*r) for r in db.execute(
                "SELECT plugin, key, due_at, lane, payload, version FROM wakeups "
                "ORDER BY due_at")]
        return await self._store.call(rows)

    async def run(self) -> None:
        """Fire wake-ups as they fall due, until cancelled."""
        while True:
            self._changed.clear()
            rows = [r for r in await self.pending()
                    if (r.plugin, r.key, r.version) not in self._in_flight]
            if not rows:
                await self._changed.wait()
                continue
            nxt = rows[0]
            due = dt.datetime.fromtimestamp(nxt.due, dt.UTC)
            if due > self._clock.now():
                sleeper = asyncio.ensure_future(self._clock.sleep_until(due))
                changed = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleeper.cancel()
                    changed.cancel()
                    # gather, not `suppress(CancelledError)`: a cancel of this task
                    # arriving right now must propagate, not be swallowed.
                    await asyncio.gather(sleeper, changed, return_exceptions=True)
                continue  # re-read: an earlier wake-up may have been added
            for row in rows:
                if row.due > self._clock.now().timestamp():
                    break
                await self._fire(row)

    async def _fire(self, row: _Row) -> None:
        marker = (row.plugin, row.key, row.version)
        self._in_flight.add(marker)
        event = Wakeup(row.plugin, row.key, dt.datetime.fromtimestamp(row.due, dt.UTC),
                       row.lane, json.loads(row.payload))

        async def done() -> None:
            # Delete only this wake-up: the handler (or another lane) may already have
            # set a new one for the key, even for the same instant; its version differs.
            await self._store.call(lambda db: db.execute(
                "DELETE FROM wakeups WHERE plugin = ? AND key = ? AND version = ?",
                (row.plugin, row.key, row.version)))
            self._in_flight.discard(marker)
            self._changed.set()

        self.fired += 1
        self.fired_by[row.plugin] += 1
        if self._clock.now().timestamp() - row.due > LATE_AFTER:
            self.late[row.plugin] += 1
        log.debug("wake-up %s/%s due %s", row.plugin, row.key, event.due.isoformat())
        await self._submit(Envelope(f"wakeup-{row.plugin}-{row.key}-{int(row.due)}", event,
                                    event.lane, done))
