"""The minutes library: which minutes files the core wrote, and a full-text search over them.

The minutes reporter calls `MinutesIndex.record` after each write; the web pages read
it through the `govbot.context.MinutesLibrary` Protocol (`ctx.minutes`). The text
files (`.txt` minutes and `.log.txt` logs) are indexed line by line in an SQLite FTS5
table of the state database, so a search answers with the file and line number (a
log's line n is the anchor `#l-n` of its `.log.html`).

The tables are derived data, rebuilt from the files if lost, so they are created on
first use (`IF NOT EXISTS`) rather than as a numbered migration of the state schema.
Restricted minutes (`#restrictlogs`) are never recorded: they are neither listed,
served nor searchable.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from govbot.context import MinutesFile, SearchHit
from govbot.state.store import StateStore

__all__ = ["MinutesIndex", "fts_query"]

_SCHEMA = (
    # first_row/last_row: the file's lines in minutes_lines (by rowid), so writing a file
    # again deletes its old lines by rowid range, never by scanning the index.
    "CREATE TABLE IF NOT EXISTS minutes_files (path TEXT PRIMARY KEY, root TEXT NOT NULL, "
    "meeting TEXT NOT NULL, written_at REAL NOT NULL, first_row INTEGER, last_row INTEGER)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS minutes_lines USING fts5(text, path UNINDEXED, "
    "line UNINDEXED, meeting UNINDEXED, tokenize = 'unicode61')",
)
_TERMS = re.compile(r'"([^"]*)"|(\S+)')


def fts_query(text: str) -> str:
    """A user's search as an FTS5 query: every word and "phrase" quoted (so `AND`, `*`,
    `:` or a stray quote are plain text, never FTS syntax), all of them required."""
    terms = []
    for phrase, word in _TERMS.findall(text):
        term = (phrase or word).replace('"', "").strip()
        if term:
            terms.append('"' + term + '"')
    return " ".join(terms)


class MinutesIndex:
    """The `MinutesLibrary` over a state store. Every method runs on the store's thread."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._ready = False

    async def _ensure(self) -> None:
        if not self._ready:
            def create(db: sqlite3.Connection) -> None:
                for statement in _SCHEMA:
                    db.execute(statement)
            await self._store.call(create)
            self._ready = True

    async def record(self, root: Path, meeting: str, files: Mapping[str, str], *,
                     restricted: bool = False) -> None:
        """The minutes reporter wrote `files` (relative path -> text) under `root`."""
        if restricted:
            return
        await self._ensure()
        now = time.time()

        def write(db: sqlite3.Connection) -> None:
            resolved = str(root.resolve())
            db.execute("BEGIN IMMEDIATE")
            try:
                for path, text in files.items():
                    old = db.execute("SELECT first_row, last_row FROM minutes_files "
                                     "WHERE path = ?", (path,)).fetchone()
                    if old is not None and old[0] is not None:
                        db.execute("DELETE FROM minutes_lines WHERE rowid BETWEEN ? AND ?", old)
                    rows: tuple[int | None, int | None] = (None, None)
                    if path.endswith(".txt"):
                        lines = [(line, path, n, meeting)
                                 for n, line in enumerate(text.splitlines(), 1) if line.strip()]
                        first = db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 "
                                           "FROM minutes_lines").fetchone()[0]
                        db.executemany("INSERT INTO minutes_lines (rowid, text, path, line, "
                                       "meeting) VALUES (?, ?, ?, ?, ?)",
                                       [(first + i, *row) for i, row in enumerate(lines)])
                        rows = (first, first + len(lines) - 1) if lines else (None, None)
                    db.execute("INSERT OR REPLACE INTO minutes_files VALUES (?, ?, ?, ?, ?, ?)",
                               (path, resolved, meeting, now, *rows))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        await self._store.call(write)

    async def files(self) -> Sequence[MinutesFile]:
        await self._ensure()
        rows = await self._store.call(lambda db: db.execute(
            "SELECT path, meeting, written_at FROM minutes_files ORDER BY path").fetchall())
        return [MinutesFile(path, meeting, at) for path, meeting, at in rows]

    async def read(self, path: str) -> bytes | None:
        await self._ensure()
        row = await self._store.call(lambda db: db.execute(
            "SELECT root FROM minutes_files WHERE path = ?", (path,)).fetchone())
        if row is None:
            return None
        from govbot.minutes import UnsafePath, safe_target

        def load() -> bytes | None:
            try:
                return safe_target(Path(row[0]), path).read_bytes()
            except (UnsafePath, OSError):
                return None
        return await asyncio.to_thread(load)

    async def search(self, query: str, *, limit: int = 50) -> Sequence[SearchHit]:
        match = fts_query(query)
        if not match:
            return []
        await self._ensure()
        rows = await self._store.call(lambda db: db.execute(
            "SELECT path, line, text, meeting FROM minutes_lines WHERE minutes_lines MATCH ? "
            "ORDER BY rank LIMIT ?", (match, limit)).fetchall())
        return [SearchHit(path, int(line), text, meeting) for path, line, text, meeting in rows]
