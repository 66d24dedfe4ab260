"""WAL checkpoints on a thread of their own, off the state thread's path.

In WAL mode SQLite copies the log back into the database ("checkpoints") from the
connection whose commit made the log pass `wal_autocheckpoint` pages, inside that
commit, with an fsync. On the state thread that is the event in hand waiting for
it: at 50 events/s one vote in about 140 came 7-11 ms late (benchmarks/latency.py
found its slowest votes 2.8 s apart). Here a second connection, on its own thread,
runs PASSIVE checkpoints: they never wait for a lock and never block the writer, and
the sqlite3 module lets go of the GIL while SQLite works.

The thread sleeps until the state thread says it wrote (`wrote()`, a flag: no
wake-up of either thread while the flag is already set), then lets writes gather
for `interval` seconds and checkpoints once. An idle bot wakes it never. Should it
fall behind or fail, the writer's own automatic checkpoint is still there, at
`FALLBACK_PAGES` instead of SQLite's 1,000: the log stays bounded either way.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

#: The writer's own checkpoint, kept as a bound should this thread not keep up
#: (pages of the page size: 40 MB at 4 KiB).
FALLBACK_PAGES = 10_000


class Checkpointer:
    def __init__(self, path: str, *, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0  # PASSIVE checkpoints run
        self.failures = 0  # checkpoints that raised (logged once per kind of error)
        self._wrote = threading.Event()
        self._stop = threading.Event()
        self._failed: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="govbot-checkpoint",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wrote(self) -> None:
        """The state thread committed something (cheap when the flag is already set)."""
        if not self._wrote.is_set():
            self._wrote.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (a checkpoint under way finishes first)."""
        self._stop.set()
        self._wrote.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            log.warning("state %s: no checkpoint thread (%s); SQLite checkpoints on the "
                        "state thread every %d pages", self.path, exc, FALLBACK_PAGES)
            return
        try:
            while True:
                self._wrote.wait()
                # Let the writes of the next `interval` gather into one checkpoint.
                if self._stop.wait(self.interval):
                    return
                self._wrote.clear()
                self._checkpoint(db)
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        try:
            # fetchall: the statement is finished here, not whenever its cursor is freed
            # (an unfinished one holds a snapshot, and the log cannot start over).
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            self.failures += 1
            kind = f"{type(exc).__name__}: {exc}"
            if kind not in self._failed:
                self._failed.add(kind)
                log.warning("state %s: WAL checkpoint failed (%s); retried after the next "
                            "writes", self.path, kind)
            return
        self.checkpoints += 1
