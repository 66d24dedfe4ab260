"""The SQLite state store: WAL, migrations, the durable inbox, plugin values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govbot.state.migrations import MIGRATIONS
from govbot.state.store import StateError, StateStore


async def test_new_database_is_wal_and_fully_migrated(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "govbot.db"
    async with StateStore(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        mode = await store.call(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
        assert mode == "wal"
    assert path.exists()


async def test_newer_schema_is_refused_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "govbot.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match=r"newer than this govbot knows.*upgrade govbot"):
        async with StateStore(path):
            pass


async def test_inbox_survives_reopen_until_marked_done(tmp_path: Path) -> None:
    path = tmp_path / "govbot.db"
    async with StateStore(path) as store:
        seqs = await store.inbox_append([("a", "gerrit", b"{1}"), ("b", "gerrit", b"{2}"),
                                         ("c", "webhook", b"{3}")])
        await store.inbox_done([seqs[0]])
    async with StateStore(path) as store:  # as after a crash and restart
        pending = await store.inbox_pending()
        assert [(i.event_id, i.source, i.payload) for i in pending] == [
            ("b", "gerrit", b"{2}"), ("c", "webhook", b"{3}")]
        await store.inbox_done([i.seq for i in pending])
        assert await store.inbox_pending() == []
        assert await store.inbox_prune(older_than=4e9) == 3


async def test_plugin_values_are_namespaced_and_json(tmp_path: Path) -> None:
    async with StateStore(tmp_path / "s.db") as store:
        await store.set_value("meetings", "current", {"name": "tc", "lines": [1, 2]})
        await store.set_value("other", "current", "x")
        await store.set_value("meetings", "current", {"name": "tc", "lines": [1, 2, 3]})
        assert await store.reader("meetings").get("current") == {"name": "tc",
                                                                  "lines": [1, 2, 3]}
        assert await store.reader("other").get("current") == "x"
        assert await store.reader("nobody").get("current", 42) == 42


async def test_journals_append_in_order_survive_reopen_and_close(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    async with StateStore(path) as store:
        for n in range(3):
            await store.journal_append("meetings", "tc-2026-11-22", {"line": n})
        await store.journal_append("meetings", "other", {"line": "x"})
    async with StateStore(path) as store:  # a restart
        reader = store.reader("meetings")
        assert await reader.journal("tc-2026-11-22") == [{"line": 0}, {"line": 1}, {"line": 2}]
        assert await reader.open_journals() == ["other", "tc-2026-11-22"]
        await store.journal_append("meetings", "other", None, close=True)
        assert await reader.open_journals() == ["tc-2026-11-22"]
        assert await store.reader("announce").open_journals() == []
