"""The SQLite state store: WAL, migrations, the durable inbox, plugin values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govbot.state.migrations import MIGRATIONS
from govbot.state.store import StateError, StateStore

ROOT = Path(__file__).resolve().parent.parent


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


async def test_a_lock_held_by_another_process_is_waited_for_then_transient(
        tmp_path: Path) -> None:
    import asyncio
    import sys

    from govbot.context import TransientReadError
    from govbot.state.store import StateBusy

    path = tmp_path / "state.db"
    async with StateStore(path, busy_timeout=0.05) as store:
        locker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.state_locker", str(path),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert locker.stdin is not None and locker.stdout is not None
        try:
            assert (await locker.stdout.readline()).strip() == b"locked"
            with pytest.raises(StateBusy) as waited:  # a bounded wait: a plugin's read
                await store.call(lambda db: db.execute(
                    "INSERT INTO plugin_values VALUES ('p', 'k', '1', 0)"), patience=0.3)
            assert isinstance(waited.value, TransientReadError)
            assert store.busy and store.busy_waits == 1 and store.busy_retries >= 1
            # An unbounded wait (a writer) goes on until the other process lets go.
            write = asyncio.create_task(store.set_value("p", "k", 2))
            await asyncio.sleep(0.3)  # the other process holds its lock this long
            assert not write.done()
            locker.stdin.write(b"go\n")
            await asyncio.wait_for(write, 10)
        finally:
            if locker.returncode is None:
                locker.stdin.write(b"go\n")
            await locker.wait()
        assert await store.get_value("p", "k") == 2 and not store.busy


async def test_a_corrupt_database_is_named_with_sqlite_s_words(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StateError) as refused:
        async with StateStore(path):
            pass
    text = str(refused.value)
    assert text.startswith(f"{path}: ") and "file is not a database (SQLite)" in text
    assert "govbot state backup" in text and "\n" not in text


async def test_inbox_accept_checks_and_appends_in_one_call(tmp_path: Path) -> None:
    async with StateStore(tmp_path / "s.db") as store:
        first = await store.inbox_append([("a", "stream", b"{1}")])
        seqs = await store.inbox_accept([
            ("a2", ("a2", "a"), "webhook", b"{1'}"),  # known under an alias: a duplicate
            ("b", ("b", "b+1"), "stream", b"{2}"),
            ("b+1", ("b+1", "b"), "events-log", b"{2'}"),  # a copy of b in the same batch
            ("c", ("c",), "stream", b"{3}"),
        ])
        assert seqs[0] is None and seqs[2] is None
        assert seqs[1] is not None and seqs[3] is not None and seqs[1] > first[0]
        assert [(i.event_id, i.source) for i in await store.inbox_pending()] == [
            ("a", "stream"), ("b", "stream"), ("c", "stream")]
        assert await store.inbox_accept([("c", ("c",), "stream", b"{3}")]) == [None]


async def test_posted_claim_writes_pending_once_and_put_soon_runs_in_order(
        tmp_path: Path) -> None:
    import threading

    from govbot.state.posted import Posted, PostedStore

    path = tmp_path / "s.db"
    async with StateStore(path) as store:
        posted = PostedStore(store)
        assert await posted.claim("p~1", 1, "g", "fp1", "{}") == (None, True)
        assert await posted.get("p~1", 1, "g") == Posted("fp1", "{}", "pending")
        # The same decision again: the row is returned, nothing written.
        assert await posted.claim("p~1", 1, "g", "fp1", "{}") == (
            Posted("fp1", "{}", "pending"), False)
        # Not waited for, and no hand-off of its own: the next call writes it first.
        posted.put_soon("p~1", 1, "g", "fp1", "{}", "posted")
        assert await posted.get("p~1", 1, "g") == Posted("fp1", "{}", "posted")
        # A new decision on the same patch set claims the row again.
        assert await posted.claim("p~1", 1, "g", "fp2", "{}") == (
            Posted("fp1", "{}", "posted"), True)
        # A write that fails on the thread is logged there, never raised at a caller.
        failed = threading.Event()

        def broken(db: sqlite3.Connection) -> None:
            failed.set()
            raise sqlite3.OperationalError("disk I/O error")
        store.write_later(broken, what="a test row")
        assert await store.schema_version() == len(MIGRATIONS) and failed.is_set()
        posted.put_soon("p~1", 1, "g", "fp2", "{}", "posted")  # written by the close
    async with StateStore(path) as store:
        assert await PostedStore(store).get("p~1", 1, "g") == Posted("fp2", "{}", "posted")
