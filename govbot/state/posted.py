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
        await self._store.call(lambda db: db.execute(
            "INSERT INTO posted (change, patchset, plugin, fingerprint, labels, status, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (change, patchset, plugin) "
            "DO UPDATE SET fingerprint = excluded.fingerprint, labels = excluded.labels, "
            "status = excluded.status, updated_at = excluded.updated_at",
            (change, patchset, plugin, fingerprint, labels, status, time.time())))
