"""The state under real process faults (issue 12, items 4 and 5): a second `govbot run` on
one state refuses to start, naming the first one's PID; another process holding the
database locked is waited out with nothing lost; a corrupt database stops the start
with one line; `govbot state backup` copies the database while the daemon writes."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.daemon import Daemon
from govbot.gerrit import events as ev
from govbot.state.lease import FileLease, LeaseHeld
from govbot.testing.gerrit import FakeClock, GerritEmulator
from tests.gerrit.harness import PROJECT, ROOT, Approver, Recorder, World, make_world, review_posts
from tests.test_daemon import governance_repo, settings_text  # noqa: F401  (a fixture)

#: How long the locking process holds the database in the lock test. The issue's figure is
#: 30 s (run by hand: GOVBOT_LOCK_TEST_SECONDS=30); the daemon's wait has no limit, so a
#: short hold shows the same path: the wait begins, the stream buffers, nothing is lost.
LOCK_SECONDS = float(os.environ.get("GOVBOT_LOCK_TEST_SECONDS", "3"))


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(1_790_000_000)) as emulator:
        yield emulator


async def govbot(*args: str | Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", *map(str, args), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def read_until(stream: asyncio.StreamReader, needle: str, timeout: float = 30) -> None:
    seen: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"ended before {needle!r}:\n{''.join(seen)}")
            seen.append(line)
            if needle in line:
                return


async def test_a_file_lease_is_held_once_and_says_by_whom(tmp_path: Path) -> None:
    first, second = FileLease(tmp_path), FileLease(tmp_path)
    assert await second.holder() is None
    await first.acquire()
    with pytest.raises(LeaseHeld) as refused:
        await second.acquire()
    assert f"PID {os.getpid()}" in str(refused.value) and str(tmp_path) in str(refused.value)
    assert await second.holder() == f"PID {os.getpid()} on {os.uname().nodename}"
    await first.release()
    await second.acquire()  # free again
    await second.release()


async def test_a_second_instance_on_one_state_refuses_to_start(
        tmp_path: Path, governance_repo: Path) -> None:  # noqa: F811
    config = tmp_path / "govbot.yaml"
    config.write_text(settings_text(tmp_path, governance_repo))
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", "run", "--config", str(config), "--dry-run",
        cwd=ROOT, stderr=asyncio.subprocess.PIPE)
    try:
        assert first.stderr is not None
        await read_until(first.stderr, "govbot running")
        status, out = await govbot("run", "--config", config, "--dry-run")
        assert status == 1
        assert f"PID {first.pid} on" in out and "govbot.lock" in out, out
        assert "Traceback" not in out and len(out.strip().splitlines()) == 1
        first.send_signal(signal.SIGKILL)  # the kernel drops the lock of a dead process
        await first.wait()
        again = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "govbot", "run", "--config", str(config), "--dry-run",
            cwd=ROOT, stderr=asyncio.subprocess.PIPE)
        assert again.stderr is not None
        await read_until(again.stderr, "govbot running")
        again.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(again.wait(), 20) == 0
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()


async def test_a_corrupt_database_stops_the_start_with_one_line(
        tmp_path: Path, governance_repo: Path) -> None:  # noqa: F811
    config = tmp_path / "govbot.yaml"
    config.write_text(settings_text(tmp_path, governance_repo))
    database = tmp_path / "state" / "govbot.db"
    database.parent.mkdir()
    database.write_bytes(b"this is not what SQLite wrote\n" * 200)
    status, out = await govbot("run", "--config", config, "--dry-run")
    assert status == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out, out
    assert str(database) in lines[0] and "file is not a database" in lines[0]
    assert "restore it from a backup" in lines[0] and "govbot state backup" in lines[0]


def count_rows(path: Path, sql: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


async def start(world: World, *plugins: object) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = Daemon(world.settings(), plugins=list(plugins))  # type: ignore[arg-type]
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(15):
        await daemon.started.wait()
        assert daemon.gerrit is not None and daemon.gerrit.stream is not None
        await daemon.gerrit.stream.connected.wait()
    await world.emu.wait_for(lambda: world.emu.stream_count >= 1)
    return daemon, task


def comments(recorder: Recorder) -> collections.Counter[str]:
    return collections.Counter(e.text for e in recorder.events
                               if isinstance(e, ev.CommentAdded))


async def test_a_database_locked_by_another_process_is_waited_out(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    recorder = Recorder()
    daemon, task = await start(world, recorder, Approver())
    changes = [await emu.create_change(PROJECT, "master", world.alice, f"Change {i}",
                                       {f"f{i}": "1\n"}) for i in range(4)]
    await recorder.wait_for(lambda: len(recorder.events) >= 4)
    assert daemon.store is not None and daemon.dispatcher is not None
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.state_locker", str(tmp_path / "state" / "govbot.db"),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        assert locker.stdout is not None and locker.stdin is not None
        await read_until(locker.stdout, "locked")
        for i in range(40):
            change = changes[i % len(changes)]
            approve = i >= 36
            await emu.review(change, world.bob if approve else world.alice,
                             {"Code-Review": 2 if approve else 1}, f"review {i}")
        async with asyncio.timeout(15):
            await daemon.store.busy_started.wait()
        await asyncio.sleep(LOCK_SECONDS)  # the other process keeps its lock this long
        assert daemon.store.busy and not task.done()
        assert review_posts(emu) == []  # nothing could be recorded, so nothing was posted
        locker.stdin.write(b"go\n")
        await read_until(locker.stdout, "released")
        assert await locker.wait() == 0
    finally:
        if locker.returncode is None:
            locker.kill()
            await locker.wait()
    await recorder.wait_for(lambda: len(comments(recorder)) >= 40, timeout=30)
    assert comments(recorder) == {f"review {i}": 1 for i in range(40)}
    await emu.wait_for(lambda: len(review_posts(emu)) == 4, timeout=20)
    await daemon.dispatcher.join()
    assert sorted(int(p.path.split("~")[1].split("/")[0]) for p in review_posts(emu)) == \
        sorted(c.number for c in changes)
    assert daemon.store.busy_waits >= 1 and daemon.store.busy_retries >= 1
    assert not daemon.store.busy
    daemon.stop()
    assert await asyncio.wait_for(task, 30) == 0


async def test_a_backup_taken_during_a_run_opens_and_holds_the_data(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    recorder = Recorder()
    daemon, task = await start(world, recorder, Approver())
    change = await emu.create_change(PROJECT, "master", world.alice, "Kept", {"a": "1\n"})
    await emu.review(change, world.bob, {"Code-Review": 2}, "approve")
    await emu.wait_for(lambda: len(review_posts(emu)) == 1, timeout=20)
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()

    async def more() -> None:  # the daemon keeps writing while the copy is made
        for i in range(200):
            await emu.review(change, world.alice, {"Code-Review": 1}, f"more {i}")

    writer = asyncio.create_task(more())
    copy = tmp_path / "backup" / "copy.db"
    copy.parent.mkdir()
    status, out = await govbot("state", "backup", copy, "--config", world.settings_path)
    await writer
    assert status == 0, out
    assert count_rows(copy, "SELECT COUNT(*) FROM inbox") >= 3
    assert count_rows(copy, "SELECT COUNT(*) FROM posted WHERE status = 'posted'") == 1
    db = sqlite3.connect(copy)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    assert not (tmp_path / "backup" / "copy.db.partial").exists()
    daemon.stop()
    assert await asyncio.wait_for(task, 30) == 0


async def test_a_stop_while_the_database_is_locked_is_quick_and_loses_nothing(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    recorder = Recorder()
    daemon, task = await start(world, recorder, Approver())
    change = await emu.create_change(PROJECT, "master", world.alice, "Locked", {"a": "1\n"})
    await recorder.wait_for(lambda: len(recorder.events) >= 1)
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.state_locker", str(tmp_path / "state" / "govbot.db"),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        assert locker.stdout is not None and locker.stdin is not None
        await read_until(locker.stdout, "locked")
        await emu.review(change, world.bob, {"Code-Review": 2}, "approve")
        assert daemon.store is not None
        async with asyncio.timeout(15):
            await daemon.store.busy_started.wait()
        daemon.stop()
        assert await asyncio.wait_for(task, 20) == 0  # the lock does not hold up the stop
        locker.stdin.write(b"go\n")
        await read_until(locker.stdout, "released")
    finally:
        if locker.returncode is None:
            locker.kill()
        await locker.wait()
    recorder = Recorder()
    daemon, task = await start(world, recorder, Approver())  # the catch-up reads it again
    await emu.wait_for(lambda: len(review_posts(emu)) == 1, timeout=30)
    assert comments(recorder) == {"approve": 1}
    daemon.stop()
    assert await asyncio.wait_for(task, 30) == 0
    assert len(review_posts(emu)) == 1
