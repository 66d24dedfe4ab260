"""The state store: one SQLite database in WAL mode, used from one worker thread.

sqlite3 blocks, so every call runs on a dedicated single thread (never on the
event loop). One thread also means one connection and no locking surprises.

SQLite that waits instead of dying: when another process holds the database locked
(`database is locked`, SQLITE_BUSY/LOCKED past SQLite's own short `busy_timeout`), a
call is retried with backoff on the event loop, cancellable, one WARNING when the wait
begins and one INFO line when it ends. Writers (the inbox, the coverage, reporters)
wait as long as it takes: their sources keep buffering (bounded) meanwhile. A
plugin's reads wait at most `READ_PATIENCE` seconds and then raise `StateBusy`, a
`TransientReadError`: the dispatcher retries that event later. A database that is
corrupt or unreadable stops the start with its path, SQLite's own words and how to
restore it (`StateError`); `backup()` copies it consistently with SQLite's backup API.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from govbot.backoff import backoff
from govbot.context import TransientReadError
from govbot.state.checkpoint import FALLBACK_PAGES, Checkpointer
from govbot.state.migrations import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a plugin's read waits for a locked database before it is a transient failure.
READ_PATIENCE = 5.0
#: SQLite's primary result codes for "someone else holds a lock".
_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


class StateError(Exception):
    """The database is unusable (newer schema than this govbot, or corrupt)."""


class StateBusy(TransientReadError):
    """The database stayed locked by another process for longer than a read may wait."""


def is_busy(exc: BaseException) -> bool:
    """Whether an sqlite3 error means "locked by someone else, try again"."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(exc)
    return "locked" in text or "busy" in text


def restore_hint(path: str) -> str:
    return (f"restore it from a backup (`govbot state backup FILE` makes one; copy it to "
            f"{path} while govbot is stopped), or move it away to start with an empty state")


@dataclass(frozen=True, slots=True)
class InboxItem:
    seq: int
    event_id: str
    source: str
    payload: bytes
    parked_at: float | None = None  # parked after transient failures (None: not parked)
    attempts: int = 0
    error: str = ""
    received_at: float = 0.0


class StateStore:
    """Open with `async with StateStore(path) as store:`; `:memory:` works for tests.

    `read_only=True` (the command line reading a running bot's state) opens an existing
    database without migrating it; a missing one is a StateError, never created.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False,
                 busy_timeout: float = 1.0, busy_min_delay: float = 0.05,
                 busy_max_delay: float = 2.0, checkpoint_interval: float = 1.0) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govbot-state")
        self._db: sqlite3.Connection | None = None
        #: WAL checkpoints off the state thread (None: in memory, read-only, not open).
        self.checkpointer: Checkpointer | None = None
        self._checkpoint_interval = checkpoint_interval
        self._changes = 0  # the connection's total_changes after the last call
        self._later: list[tuple[Callable[[sqlite3.Connection], object], str]] = []
        # SQLite's own wait blocks the state thread (uncancellable): kept short, the
        # longer waits are ours, on the event loop.
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._busy_delays = (busy_min_delay, busy_max_delay)
        self._busy_since: float | None = None
        self.busy_waits = 0  # times the database was found locked and waited for
        self.busy_started = asyncio.Event()  # set when a wait for a lock begins
        self.busy_retries = 0  # calls retried because the database was locked

    async def __aenter__(self) -> StateStore:
        try:
            await self._run(self._open)
        except BaseException:
            await self.close()  # the worker thread too
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._close)
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any, patience: float | None = None
                   ) -> T:
        """`fn(*args)` on the state thread, retried while the database is locked (at most
        `patience` seconds, then `StateBusy`; None: until it is free or cancelled)."""
        loop = asyncio.get_running_loop()
        failures = 0
        started = 0.0
        writes, self._later = self._later, []
        while True:
            try:
                if writes:  # run once, before the first attempt (each write on its own)
                    attempt, writes = functools.partial(self._then, writes, fn, *args), []
                    result = await loop.run_in_executor(self._executor, self._on_thread,
                                                        attempt)
                else:
                    result = await loop.run_in_executor(self._executor, self._on_thread,
                                                        functools.partial(fn, *args))
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                failures += 1
                now = time.monotonic()
                if failures == 1:
                    started = now
                if self._busy_since is None:
                    self._busy_since = now
                    self.busy_waits += 1
                    self.busy_started.set()
                    log.warning("state %s: %s (another process holds a lock); waiting for "
                                "it, retrying with backoff", self.path, exc)
                if patience is not None and now - started >= patience:
                    raise StateBusy(f"{self.path}: {exc} for {now - started:.1f} s") from None
                self.busy_retries += 1
                await asyncio.sleep(backoff(failures, *self._busy_delays))
                continue
            if self._busy_since is not None:
                log.info("state %s: usable again after %.1f s locked", self.path,
                         time.monotonic() - self._busy_since)
                self._busy_since = None
            return result

    @property
    def busy(self) -> bool:
        """Whether calls are waiting for another process's lock right now."""
        return self._busy_since is not None

    # -- runs on the state thread -------------------------------------------------
    def _on_thread(self, fn: Callable[[], T]) -> T:
        """`fn()`, then tell the checkpoint thread if it wrote anything."""
        try:
            return fn()
        finally:
            db, checkpointer = self._db, self.checkpointer
            if db is not None and checkpointer is not None and db.total_changes != self._changes:
                self._changes = db.total_changes
                checkpointer.wrote()

    def _open(self) -> None:
        if self.read_only:
            self._open_read_only()
            return
        on_disk = self.path != ":memory:"
        if on_disk:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise StateError(self._unusable(exc)) from None
        try:
            db.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._migrate(db)
            if on_disk:
                db.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
        except sqlite3.DatabaseError as exc:
            db.close()
            if is_busy(exc):
                raise  # waited for by `_run`, then opened again
            raise StateError(self._unusable(exc)) from None
        except BaseException:
            db.close()
            raise
        self._db = db
        if on_disk:
            self.checkpointer = Checkpointer(self.path, interval=self._checkpoint_interval)
            self.checkpointer.start()

    def _unusable(self, exc: sqlite3.DatabaseError) -> str:
        """One line for the operator: where, SQLite's own words, how to restore."""
        return (f"{self.path}: the state database cannot be used: {exc} (SQLite); "
                f"{restore_hint(self.path)}")

    def _open_read_only(self) -> None:
        path = Path(self.path)
        if not path.is_file():
            raise StateError(f"{self.path}: no state database there")
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                 check_same_thread=False, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            current = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if is_busy(exc):
                raise
            raise StateError(f"{self.path}: cannot read the state database: {exc}") from exc
        if current > len(MIGRATIONS):
            db.close()
            raise StateError(f"{self.path}: schema version {current} is newer than this "
                             f"govbot knows ({len(MIGRATIONS)})")
        self._db = db

    def _close(self) -> None:
        assert self._db is not None
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self._db.close()  # when it is the last connection, SQLite checkpoints the log away
        self._db = None

    def _migrate(self, db: sqlite3.Connection) -> None:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        if current > len(MIGRATIONS):
            raise StateError(
                f"{self.path}: schema version {current} is newer than this govbot knows "
                f"({len(MIGRATIONS)}); upgrade govbot or restore a matching backup"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            log.info("state %s: migrating schema to version %d", self.path, version)
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(MIGRATIONS[version - 1]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={version}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StateError("state store is not open")
        return self._db

    # -- public API (async) ---------------------------------------------------------
    async def call(self, fn: Callable[[sqlite3.Connection], T], *,
                   patience: float | None = None) -> T:
        """Run `fn(connection)` on the state thread (for stores added by later features).

        While another process holds the database locked, `fn` is run again after a
        backoff: it must be one statement or one `_transaction` (both roll back whole).
        `patience`: seconds to wait at most, then `StateBusy` (None: as long as it takes).
        """
        return await self._run(lambda: fn(self.db), patience=patience)

    def write_later(self, fn: Callable[[sqlite3.Connection], object], *, what: str) -> None:
        """Run `fn(connection)` on the state thread first thing in the next hand-off
        (any call: the inbox's done marks come within their flush interval, `close()`
        at the latest), so that neither thread is woken for it. Only for a write whose
        loss a crash already covers (the Gerrit reporter's `posted` mark after its
        `pending` one). Calls made later see it. A failure (a lock held past
        `busy_timeout`) is logged, not retried."""
        self._later.append((fn, what))

    def _then(self, writes: list[tuple[Callable[[sqlite3.Connection], object], str]],
              fn: Callable[..., T], *args: Any) -> T:
        """On the state thread: the writes handed over by `write_later`, then `fn`."""
        for write, what in writes:
            try:
                write(self.db)
            except Exception as exc:  # nobody to raise to: the caller did not wait
                log.warning("state %s: %s not written (%s: %s)", self.path, what,
                            type(exc).__name__, exc)
        return fn(*args)

    async def backup(self, target: Path | str) -> None:
        """A consistent copy of the database in `target`, with SQLite's backup API (safe
        while a daemon writes to it): written beside it and renamed into place."""
        final = Path(target)
        partial = final.with_name(final.name + ".partial")

        def copy(db: sqlite3.Connection) -> None:
            partial.unlink(missing_ok=True)
            out = sqlite3.connect(partial)
            try:
                db.backup(out)  # all pages in one step: one snapshot of the source
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                problem = out.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                out.close()
            if problem != "ok":
                partial.unlink(missing_ok=True)
                raise StateError(f"{final}: the copy does not check out: {problem}")
            partial.replace(final)
        await self.call(copy)

    async def schema_version(self) -> int:
        return await self.call(lambda db: db.execute("PRAGMA user_version").fetchone()[0])

    async def inbox_append(self, items: Sequence[tuple[str, str, bytes]]) -> list[int]:
        """Append (event_id, source, payload) rows in one transaction; return their seqs."""
        def append(db: sqlite3.Connection) -> list[int]:
            now = time.time()
            seqs = []
            with _transaction(db):
                for event_id, source, payload in items:
                    seqs.append(_inbox_insert(db, event_id, source, payload, now))
            return seqs
        return await self.call(append)

    async def inbox_accept(self, items: Sequence[tuple[str, Sequence[str], str, bytes]]
                           ) -> list[int | None]:
        """Check and append in one hand-off to the state thread (one transaction):
        each (event_id, aliases, source, payload) is appended unless the inbox, or an
        earlier item of the batch, holds one of its aliases. Returns each item's seq,
        None for a duplicate."""
        def accept(db: sqlite3.Connection) -> list[int | None]:
            now = time.time()
            seqs: list[int | None] = []
            with _transaction(db):
                known = _known(db, sorted({a for _, aliases, _, _ in items for a in aliases}))
                for event_id, aliases, source, payload in items:
                    if any(alias in known for alias in aliases):
                        seqs.append(None)
                        continue
                    known.update(aliases)  # later copies in this batch are duplicates
                    seqs.append(_inbox_insert(db, event_id, source, payload, now))
            return seqs
        return await self.call(accept)

    async def inbox_known(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids the inbox already holds (done or not)."""
        return await self.call(lambda db: _known(db, event_ids))

    async def inbox_pending(self, limit: int = 10_000, *,
                            parked_only: bool = False) -> list[InboxItem]:
        """Events received but not finished (parked ones too): replayed after a crash."""
        where = "done_at IS NULL" + (" AND parked_at IS NOT NULL" if parked_only else "")

        def pending(db: sqlite3.Connection) -> list[InboxItem]:
            rows = db.execute(
                "SELECT seq, event_id, source, payload, parked_at, attempts, error, "
                f"received_at FROM inbox WHERE {where} ORDER BY seq LIMIT ?",
                (limit,)).fetchall()
            return [InboxItem(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7])
                    for r in rows]
        return await self.call(pending)

    async def inbox_done(self, seqs: Iterable[int], *, patience: float | None = None) -> None:
        done = [(time.time(), s) for s in seqs]
        def mark(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.executemany("UPDATE inbox SET done_at = ? WHERE seq = ?", done)
        await self.call(mark, patience=patience)

    async def inbox_prune(self, older_than: float) -> int:
        """Delete finished events older than `older_than` (epoch seconds)."""
        def prune(db: sqlite3.Connection) -> int:
            cur = db.execute("DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?",
                             (older_than,))
            return cur.rowcount
        return await self.call(prune)

    async def get_value(self, plugin: str, key: str, default: Any = None, *,
                        patience: float | None = None) -> Any:
        row = await self.call(lambda db: db.execute(
            "SELECT value FROM plugin_values WHERE plugin = ? AND key = ?",
            (plugin, key)).fetchone(), patience=patience)
        return default if row is None else json.loads(row[0])

    async def set_value(self, plugin: str, key: str, value: Any) -> None:
        encoded = json.dumps(value, sort_keys=True)
        await self.call(lambda db: db.execute(
            "INSERT INTO plugin_values (plugin, key, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at", (plugin, key, encoded, time.time())))

    async def values_with_prefix(self, plugin: str, prefix: str) -> list[tuple[str, Any]]:
        """(key, value) of `plugin`'s values whose key starts with `prefix`, by key; values
        stored as None (forgotten) are left out. Decoded on the state thread."""
        # A range on the primary key, not LIKE: prefixes may hold `%` or `_`.
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None
        decode = msgspec.json.Decoder().decode

        def read(db: sqlite3.Connection) -> list[tuple[str, Any]]:
            if end is None:
                rows = db.execute("SELECT key, value FROM plugin_values WHERE plugin = ? "
                                  "AND value != 'null' ORDER BY key", (plugin,))
            else:
                rows = db.execute("SELECT key, value FROM plugin_values WHERE plugin = ? "
                                  "AND key >= ? AND key < ? AND value != 'null' ORDER BY key",
                                  (plugin, prefix, end))
            # msgspec decodes JSON several times faster than json: a board reads thousands.
            return [(key, decode(value)) for key, value in rows]
        return await self.call(read)

    async def journal_append(self, plugin: str, journal: str, entry: Any | None,
                             close: bool = False) -> int:
        """Append an entry (and/or close the journal); return the entry's seq (0: none)."""
        encoded = None if entry is None else json.dumps(entry, sort_keys=True, default=str)

        def append(db: sqlite3.Connection) -> int:
            seq = 0
            with _transaction(db):
                if encoded is not None:
                    row = db.execute("SELECT COALESCE(MAX(seq), 0) FROM journals "
                                     "WHERE plugin = ? AND journal = ?",
                                     (plugin, journal)).fetchone()
                    seq = row[0] + 1
                    db.execute("INSERT INTO journals (plugin, journal, seq, entry, at) "
                               "VALUES (?, ?, ?, ?, ?)",
                               (plugin, journal, seq, encoded, time.time()))
                if close:
                    db.execute("INSERT OR REPLACE INTO journals_closed VALUES (?, ?, ?)",
                               (plugin, journal, time.time()))
            return seq
        return await self.call(append)

    async def journal(self, plugin: str, journal: str, *,
                      patience: float | None = None) -> list[Any]:
        rows = await self.call(lambda db: db.execute(
            "SELECT entry FROM journals WHERE plugin = ? AND journal = ? ORDER BY seq",
            (plugin, journal)).fetchall(), patience=patience)
        return [json.loads(r[0]) for r in rows]

    async def open_journals(self, plugin: str, *,
                            patience: float | None = None) -> list[str]:
        """Journals with entries that were never closed (e.g. meetings a crash interrupted)."""
        rows = await self.call(lambda db: db.execute(
            "SELECT DISTINCT journal FROM journals j WHERE plugin = ? AND NOT EXISTS "
            "(SELECT 1 FROM journals_closed c WHERE c.plugin = j.plugin "
            "AND c.journal = j.journal) ORDER BY journal", (plugin,)).fetchall(),
            patience=patience)
        return [r[0] for r in rows]

    async def journal_names(self, plugin: str) -> list[str]:
        """Every journal of `plugin`, closed or not, sorted."""
        rows = await self.call(lambda db: db.execute(
            "SELECT DISTINCT journal FROM journals WHERE plugin = ? ORDER BY journal",
            (plugin,)).fetchall())
        return [r[0] for r in rows]

    def reader(self, plugin: str) -> PluginStateReader:
        return PluginStateReader(self, plugin)


class PluginStateReader:
    """The read-only view a plugin gets of its own namespace. Its reads wait at most
    `READ_PATIENCE` seconds for a locked database, then raise `StateBusy` (transient)."""

    def __init__(self, store: StateStore, plugin: str) -> None:
        self._store = store
        self._plugin = plugin

    async def get(self, key: str, default: Any = None) -> Any:
        return await self._store.get_value(self._plugin, key, default,
                                           patience=READ_PATIENCE)

    async def journal(self, name: str) -> list[Any]:
        return await self._store.journal(self._plugin, name, patience=READ_PATIENCE)

    async def open_journals(self) -> list[str]:
        return await self._store.open_journals(self._plugin, patience=READ_PATIENCE)

    async def items(self, prefix: str) -> list[tuple[str, Any]]:
        return await self._store.values_with_prefix(self._plugin, prefix)


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type:
            self.db.execute("ROLLBACK")
            return
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error:
            # A COMMIT that failed (busy) leaves the transaction open: end it, so the
            # retry of the whole call can BEGIN again.
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise


def _inbox_insert(db: sqlite3.Connection, event_id: str, source: str, payload: bytes,
                  received_at: float) -> int:
    """One inbox row; its seq."""
    cur = db.execute("INSERT INTO inbox (event_id, source, payload, received_at) "
                     "VALUES (?, ?, ?, ?)", (event_id, source, payload, received_at))
    return int(cur.lastrowid or 0)


def _known(db: sqlite3.Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of these event ids the inbox holds (on the state thread)."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):  # SQLite's variable limit
        chunk = event_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in db.execute(
            f"SELECT event_id FROM inbox WHERE event_id IN ({marks})", chunk))
    return found


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
