"""Events of the inbox parked after their transient failures (`govbot inbox list|retry`).

The dispatcher parks an event after `dispatcher.retry_attempts` tries; the intake marks
it here. `govbot inbox retry` un-parks it in the database (another process), and the
running daemon's intake asks `released` which of its parked events that happened to.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from govbot.state.store import StateStore


class ParkedInbox:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def park(self, seq: int, attempts: int, error: str) -> None:
        """Record that the event `seq` is parked after `attempts` transient failures."""
        await self._store.call(lambda db: db.execute(
            "UPDATE inbox SET parked_at = ?, attempts = attempts + ?, error = ? "
            "WHERE seq = ?", (time.time(), attempts, error, seq)))

    async def unpark(self, event_ids: Sequence[str] | None = None) -> int:
        """Un-park pending events (these ids; None: all): `govbot inbox retry`. The
        running daemon notices (`released`) and tries them again."""
        def unpark(db: sqlite3.Connection) -> int:
            if event_ids is None:
                return db.execute("UPDATE inbox SET parked_at = NULL WHERE done_at IS NULL "
                                  "AND parked_at IS NOT NULL").rowcount
            count = 0  # each statement is whole; a retry after a lock repeats it harmlessly
            for start in range(0, len(event_ids), 500):
                chunk = list(event_ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                count += db.execute(
                    "UPDATE inbox SET parked_at = NULL WHERE done_at IS NULL AND "
                    f"parked_at IS NOT NULL AND event_id IN ({marks})", chunk).rowcount
            return count
        return await self._store.call(unpark)

    async def released(self, seqs: Sequence[int]) -> set[int]:
        """Which of these (parked) events are no longer parked or pending in the database."""
        def released(db: sqlite3.Connection) -> set[int]:
            found: set[int] = set()
            for start in range(0, len(seqs), 500):
                chunk = seqs[start:start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in db.execute(
                    f"SELECT seq FROM inbox WHERE seq IN ({marks}) AND (parked_at IS NULL "
                    "OR done_at IS NOT NULL)", chunk))
            return found
        return await self._store.call(released)
