"""Versioned schema migrations. Append only: never edit a released step.

Each step runs in one transaction with the new `user_version`, so a crash
mid-migration leaves the previous version intact.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the durable inbox (principle 6) and the plugins' key-value state.
    """
    CREATE TABLE inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        source TEXT NOT NULL,
        payload BLOB NOT NULL,
        received_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX inbox_pending ON inbox (seq) WHERE done_at IS NULL;
    CREATE TABLE plugin_values (
        plugin TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (plugin, key)
    );
    """,
    # 2: de-duplication looks events up by id (stream, backfill and webhook overlap).
    """
    CREATE INDEX inbox_event_id ON inbox (event_id);
    """,
    # 3: what the Gerrit reporter posted, so a decision is posted once per patch set.
    """
    CREATE TABLE posted (
        change TEXT NOT NULL,
        patchset INTEGER NOT NULL,
        plugin TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        labels TEXT NOT NULL,
        status TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (change, patchset, plugin)
    );
    """,
    # 4: wake-ups plugins asked for (`WakeAt`): waiting periods, deadlines.
    """
    CREATE TABLE wakeups (
        plugin TEXT NOT NULL,
        key TEXT NOT NULL,
        due_at REAL NOT NULL,
        lane TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
    );
    CREATE INDEX wakeups_due ON wakeups (due_at);
    """,
    # 5: append-only journals of plugins (`Append`): meeting lines as they arrive.
    """
    CREATE TABLE journals (
        plugin TEXT NOT NULL,
        journal TEXT NOT NULL,
        seq INTEGER NOT NULL,
        entry TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (plugin, journal, seq)
    );
    CREATE TABLE journals_closed (
        plugin TEXT NOT NULL,
        journal TEXT NOT NULL,
        closed_at REAL NOT NULL,
        PRIMARY KEY (plugin, journal)
    );
    """,
    # 6: wake-ups get a version, bumped on every change, so finishing a fired wake-up
    # never deletes a newer one set for the same key and instant meanwhile.
    """
    ALTER TABLE wakeups ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: the Gerrit stream's coverage: the ranges of seconds it has not read yet (after a
    # disconnect, a restart or a `dropped-output`), kept until a catch-up has read them.
    """
    CREATE TABLE gerrit_gaps (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        start INTEGER NOT NULL,
        end_at INTEGER,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        opened_at REAL NOT NULL
    );
    """,
    # 8: events parked after their transient failures (`govbot inbox list/retry`): when,
    # after how many tries, and the last failure. `parked_at` NULL: not parked.
    """
    ALTER TABLE inbox ADD COLUMN parked_at REAL;
    ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN error TEXT NOT NULL DEFAULT '';
    """,
)
