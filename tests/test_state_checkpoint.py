"""WAL checkpoints run on a thread of their own, never inside the state thread's
commits, and keep the log bounded while writes flow."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from govbot.state.checkpoint import FALLBACK_PAGES, Checkpointer
from govbot.state.store import StateStore
from tests.helpers import eventually

PAYLOAD = b"x" * 1500  # about a Gerrit comment event


async def write_events(store: StateStore, first: int, count: int) -> None:
    for n in range(first, first + count):
        await store.inbox_accept([(f"e{n}", [f"e{n}"], "gerrit", PAYLOAD)])


def wal_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


async def test_the_log_stays_bounded_by_checkpoints_off_the_state_thread(
        tmp_path: Path) -> None:
    path = tmp_path / "govbot.db"
    async with StateStore(path, checkpoint_interval=0.02) as store:
        checkpointer = store.checkpointer
        assert checkpointer is not None
        # The state thread's own commits would checkpoint only past the fallback bound.
        auto = await store.call(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone())
        assert auto == (FALLBACK_PAGES,)
        state_threads = await store.call(lambda db: threading.current_thread().name)
        assert state_threads.startswith("govbot-state")
        written = 0
        for _ in range(10):  # 10 x 200 events: 2,000 commits, ~10,000 pages of log
            await write_events(store, written, 200)
            written += 200
            done = checkpointer.checkpoints
            await eventually(lambda done=done: checkpointer.checkpoints > done, 10,
                             "a checkpoint after the writes")
        # Each checkpoint let the log start over: it grew to about one round of writes
        # (~1,000 pages), where without them it would hold every commit.
        assert wal_pages(path) < 3_000, wal_pages(path)
        assert checkpointer.failures == 0
        count = await store.call(lambda db: db.execute("SELECT count(*) FROM inbox").fetchone())
        assert count == (written,)
    assert store.checkpointer is None
    assert not any(t.name == "govbot-checkpoint" for t in threading.enumerate())
    assert not path.with_name(path.name + "-wal").exists()  # the last close folded it in
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM inbox").fetchone() == (written,)


async def test_only_writes_wake_the_checkpoints_and_a_memory_store_has_none(tmp_path: Path) -> None:
    async with StateStore(":memory:") as memory:
        assert memory.checkpointer is None
        await write_events(memory, 0, 10)
    async with StateStore(tmp_path / "govbot.db", checkpoint_interval=0.01) as store:
        checkpointer = store.checkpointer
        assert checkpointer is not None
        await write_events(store, 0, 10)
        await eventually(lambda: checkpointer.checkpoints >= 1, 10,
                         "the checkpoint after the writes")
        after = checkpointer.checkpoints
        # Reads are no reason to wake the thread: asked a hundred times, nothing more.
        for _ in range(100):
            await store.get_value("x", "y")
        await write_events(store, 10, 1)
        await eventually(lambda: checkpointer.checkpoints > after, 10,
                         "the checkpoint after one more write")
        assert checkpointer.checkpoints == after + 1


def test_a_failing_checkpoint_is_logged_once_and_the_thread_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "not-a-database"
    path.write_bytes(b"this is not SQLite " * 300)
    checkpointer = Checkpointer(str(path), interval=0.0)
    caplog.set_level(logging.WARNING)
    checkpointer.start()
    try:
        for round_ in range(3):
            checkpointer.wrote()
            deadline = threading.Event()
            for _ in range(1000):  # at most 10 s, woken as soon as the failure counts
                if checkpointer.failures > round_:
                    break
                deadline.wait(0.01)
        assert checkpointer.failures == 3 and checkpointer.checkpoints == 0
    finally:
        checkpointer.stop()
    warnings = [r for r in caplog.records if "WAL checkpoint failed" in r.getMessage()]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage()
