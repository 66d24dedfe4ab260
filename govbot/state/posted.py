"""What the Gerrit reporter posted: one row per change, patch set and plugin."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from govbot.state.store import StateStore


@dataclass(frozen=True, slots=True)
class Posted:
    fingerprint: str
    labels: str  # JSON of the labels voted, to tell a changed vote from a new message
    status: str  # pending | posted | forbidden | closed | rejected


class PostedStore:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def get(self, change: str, patchset: int, plugin: str) -> Posted | None:
        def get(db: sqlite3.Connection) -> Posted | None:
            row = db.execute(
                "SELECT fingerprint, labels, status FROM posted "
                "WHERE change = ? AND patchset = ? AND plugin = ?",
                (change, patchset, plugin)).fetchone()
            return Posted(*row) if row else None
        return await self._store.call(get)

    async def put(self, change: str, patchset: int, plugin: str, fingerprint: str,
                  labels: str, status: str) -> None:
        row = (change, patchset, plugin, fingerprint, labels, status, time.time())
        await self._store.call(lambda db: _upsert(db, row))

    async def claim(self, change: str, patchset: int, plugin: str, fingerprint: str,
                    labels: str) -> tuple[Posted | None, bool]:
        """The row as `get` reads it and, unless it holds this fingerprint already, the
        `pending` row written in the same hand-off to the state thread. Returns the row
        found and whether `pending` was written."""
        def claim(db: sqlite3.Connection) -> tuple[Posted | None, bool]:
            found = db.execute(
                "SELECT fingerprint, labels, status FROM posted "
                "WHERE change = ? AND patchset = ? AND plugin = ?",
                (change, patchset, plugin)).fetchone()
            row = Posted(*found) if found else None
            if row is not None and row.fingerprint == fingerprint:
                return row, False
            _upsert(db, (change, patchset, plugin, fingerprint, labels, "pending",
                         time.time()))
            return row, True
        return await self._store.call(claim)

    def put_soon(self, change: str, patchset: int, plugin: str, fingerprint: str,
                 labels: str, status: str) -> None:
        """`put` with the next hand-off to the state thread, not waited for
        (`StateStore.write_later`): for `posted`, whose loss leaves `pending`, which a
        later decision checks against the change's messages."""
        row = (change, patchset, plugin, fingerprint, labels, status, time.time())
        self._store.write_later(lambda db: _upsert(db, row),
                                what=f"the {status} mark of {change} patch set {patchset}")


def _upsert(db: sqlite3.Connection, row: tuple[object, ...]) -> None:
    db.execute(
        "INSERT INTO posted (change, patchset, plugin, fingerprint, labels, status, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (change, patchset, plugin) "
        "DO UPDATE SET fingerprint = excluded.fingerprint, labels = excluded.labels, "
        "status = excluded.status, updated_at = excluded.updated_at", row)
