"""The Gerrit stream's unread ranges (gaps), kept until a catch-up has read them."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from govbot.state.store import StateStore


@dataclass(frozen=True, slots=True)
class Gap:
    """Seconds `start`..`end` (inclusive, Gerrit's `eventCreatedOn`) not known to be read.

    `end` is None while the gap is still open towards the future: it is closed by the
    first event the next stream session receives (everything after that arrives live).
    """

    id: int
    start: int
    end: int | None
    reason: str
    attempts: int = 0
    error: str = ""


class GapStore:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def load(self) -> list[Gap]:
        rows = await self._store.call(lambda db: db.execute(
            "SELECT id, start, end_at, reason, attempts, error FROM gerrit_gaps "
            "ORDER BY start, id").fetchall())
        return [Gap(*row) for row in rows]

    async def open(self, start: int, end: int | None, reason: str) -> Gap:
        def insert(db: sqlite3.Connection) -> int:
            cur = db.execute("INSERT INTO gerrit_gaps (start, end_at, reason, opened_at) "
                             "VALUES (?, ?, ?, ?)", (start, end, reason, time.time()))
            return int(cur.lastrowid or 0)
        return Gap(await self._store.call(insert), start, end, reason)

    async def save(self, gap: Gap) -> None:
        await self._store.call(lambda db: db.execute(
            "UPDATE gerrit_gaps SET start = ?, end_at = ?, attempts = ?, error = ? "
            "WHERE id = ?", (gap.start, gap.end, gap.attempts, gap.error, gap.id)))

    async def close(self, gap_id: int) -> None:
        await self._store.call(lambda db: db.execute(
            "DELETE FROM gerrit_gaps WHERE id = ?", (gap_id,)))
