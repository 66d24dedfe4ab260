"""Transient failures retry, permanent ones are told (issue 12, item 3): a REST API
answering 500 delays a vote but never loses it; the failing change's lane waits while
other changes proceed; past the retries the event is parked until the change's next
event or `govbot inbox retry`; a stop while a vote is being retried is quick and loses
nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from govbot.actions import Action, Vote
from govbot.daemon import Daemon
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext
from govbot.testing.gerrit import Change, FakeClock, GerritEmulator
from tests.gerrit.harness import PROJECT, ROOT, World, make_world, review_posts

START = 1_790_000_000


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(START)) as emulator:
        yield emulator


class ReadingApprover(Plugin):
    """Reads the change over REST (as the governance plugin does) and gives +1 once the
    answer shows a Code-Review+2; keeps the comments it decided on, in order."""

    name = "reading-approver"
    emits = (Vote,)

    def __init__(self) -> None:
        self.decided: list[str] = []

    def handlers(self) -> dict[type, Any]:
        return {ev.CommentAdded: self.on_comment}

    async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext) -> Sequence[Action]:
        info = await ctx.gerrit.get_change(event.change.key)  # raises while REST fails
        self.decided.append(event.text)
        if info is None or "approved" not in info.get("labels", {}).get("Code-Review", {}):
            return ()
        revision = info["revisions"][info["current_revision"]]["_number"]
        return [Vote(change=event.change.key, patchset=revision,
                     labels={"Governance-Check": 1}, message="Approved by a core reviewer.",
                     fingerprint="approved")]


async def world_with(emu: GerritEmulator, tmp_path: Path, *, attempts: int = 1000) -> World:
    world = await make_world(emu, tmp_path)
    world.settings_path.write_text(
        world.settings_path.read_text()
        + f"dispatcher: {{retry_attempts: {attempts}, retry_min_delay: 0.02, "
          "retry_max_delay: 0.1}\n")
    return world


async def running(world: World, plugin: Plugin) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = Daemon(world.settings(), plugins=[plugin])
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(15):
        await daemon.started.wait()
        assert daemon.gerrit is not None and daemon.gerrit.stream is not None
        await daemon.gerrit.stream.connected.wait()
    await world.emu.wait_for(lambda: world.emu.stream_count >= 1)
    return daemon, task


async def stop(daemon: Daemon, task: asyncio.Task[int], timeout: float = 30) -> None:
    daemon.stop()
    assert await asyncio.wait_for(task, timeout) == 0


async def change(world: World, subject: str) -> Change:
    return await world.emu.create_change(PROJECT, "master", world.alice, subject,
                                         {subject.replace(" ", "_"): "1\n"})


def stats(daemon: Daemon) -> Any:
    assert daemon.dispatcher is not None
    return daemon.dispatcher.stats


def pending_ids(world: World) -> list[tuple[str, Any]]:
    db = sqlite3.connect(world.tmp / "state" / "govbot.db")
    try:
        return db.execute("SELECT event_id, parked_at FROM inbox WHERE done_at IS NULL "
                          "ORDER BY seq").fetchall()
    finally:
        db.close()


def govbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govbot", *map(str, args)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


async def test_fifteen_seconds_of_500_on_every_call_delay_the_vote(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await world_with(emu, tmp_path)
    plugin = ReadingApprover()
    daemon, task = await running(world, plugin)
    storm = await change(world, "Storm")
    emu.faults.fail_rest_for(15, status=500)  # on the emulator's clock
    await emu.review(storm, world.bob, {"Code-Review": 2}, "approve")
    await emu.wait_for(lambda: stats(daemon).retries >= 5, timeout=20)
    assert review_posts(emu) == [] and plugin.decided == []
    emu.clock.advance(15)  # type: ignore[attr-defined]
    await emu.wait_for(lambda: len(review_posts(emu, storm.number)) == 1, timeout=20)
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()
    assert len(review_posts(emu, storm.number)) == 1 and plugin.decided == ["approve"]
    assert stats(daemon).plugins["reading-approver"].transient >= 5
    assert stats(daemon).plugins["reading-approver"].errors == 0  # not a failure: a delay
    assert daemon.web is not None
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{daemon.web.bound_port}/metrics") as resp:
        metrics = await resp.text()
    assert "govbot_events_retried_total" in metrics and "govbot_events_parked 0.0" in metrics
    await stop(daemon, task)


async def test_a_failing_change_waits_while_the_others_proceed(emu: GerritEmulator,
                                                               tmp_path: Path) -> None:
    world = await world_with(emu, tmp_path)
    plugin = ReadingApprover()
    daemon, task = await running(world, plugin)
    stuck, other = await change(world, "Stuck"), await change(world, "Other")
    emu.faults.fail_rest_for(10_000, status=500, path_contains=f"compute~{stuck.number}")
    await emu.review(stuck, world.bob, {"Code-Review": 2}, "stuck 1")
    await emu.review(stuck, world.alice, {"Code-Review": 1}, "stuck 2")
    await emu.review(other, world.bob, {"Code-Review": 2}, "other")
    await emu.wait_for(lambda: len(review_posts(emu, other.number)) == 1, timeout=20)
    await emu.wait_for(lambda: stats(daemon).retries >= 3, timeout=20)
    # The stuck change's second event waits behind its first: its order is kept.
    assert plugin.decided == ["other"] and review_posts(emu, stuck.number) == []
    emu.faults.clear()
    await emu.wait_for(lambda: len(review_posts(emu, stuck.number)) == 1, timeout=20)
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()
    assert plugin.decided == ["other", "stuck 1", "stuck 2"]
    assert len(review_posts(emu)) == 2
    await stop(daemon, task)


async def test_parked_after_the_retries_then_retried_by_the_command(
        emu: GerritEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    world = await world_with(emu, tmp_path, attempts=3)
    plugin = ReadingApprover()
    daemon, task = await running(world, plugin)
    stuck = await change(world, "Parked")
    emu.faults.fail_rest_for(10_000, status=500, path_contains=f"compute~{stuck.number}")
    with caplog.at_level(logging.WARNING, logger="govbot.dispatcher"):
        await emu.review(stuck, world.bob, {"Code-Review": 2}, "approve")
        await emu.wait_for(lambda: stats(daemon).retries >= 1, timeout=20)
        assert daemon.dispatcher is not None
        await daemon.dispatcher.join()  # parked: no longer in flight
        assert stats(daemon).parked == 1
    parked = [r.getMessage() for r in caplog.records if "parked" in r.getMessage()]
    assert len(parked) == 1 and "after 3 tries" in parked[0]
    assert "govbot inbox retry" in parked[0]
    assert stats(daemon).plugins["reading-approver"].transient == 3
    assert [p is not None for _, p in pending_ids(world)] == [True]  # recorded by join()
    listed = govbot("inbox", "list", "--config", world.settings_path)
    assert listed.returncode == 0, listed.stderr
    assert "parked 1 time(s)" in listed.stdout and "HTTP 500" in listed.stdout
    emu.faults.clear()
    retried = govbot("inbox", "retry", "--config", world.settings_path)
    assert retried.returncode == 0, retried.stderr
    assert "1 parked event(s) released" in retried.stderr
    await emu.wait_for(lambda: len(review_posts(emu, stuck.number)) == 1, timeout=20)
    await daemon.dispatcher.join()
    assert daemon.intake is not None
    await daemon.intake.flush()
    assert pending_ids(world) == []  # done now
    assert plugin.decided == ["approve"]
    await stop(daemon, task)


async def test_a_parked_event_is_retried_with_the_next_event_of_its_change(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await world_with(emu, tmp_path, attempts=2)
    plugin = ReadingApprover()
    daemon, task = await running(world, plugin)
    stuck = await change(world, "Parked")
    emu.faults.fail_rest_for(10_000, status=500, path_contains=f"compute~{stuck.number}")
    await emu.review(stuck, world.bob, {"Code-Review": 2}, "approve")
    await emu.wait_for(lambda: stats(daemon).retries >= 1, timeout=20)
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()
    assert stats(daemon).parked == 1
    await stop(daemon, task)  # parked across a restart too
    assert [p is not None for _, p in pending_ids(world)] == [True]
    emu.faults.clear()
    plugin = ReadingApprover()
    daemon, task = await running(world, plugin)
    assert daemon.dispatcher is not None and len(daemon.dispatcher.parked()) == 1
    assert plugin.decided == []  # held parked, not retried on its own
    await emu.review(stuck, world.alice, {"Code-Review": 1}, "me too")
    await emu.wait_for(lambda: len(review_posts(emu, stuck.number)) == 1, timeout=20)
    await daemon.dispatcher.join()
    assert plugin.decided == ["approve", "me too"]
    await stop(daemon, task)


async def test_a_stop_while_a_vote_is_retried_is_quick_and_loses_nothing(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await world_with(emu, tmp_path)
    daemon, task = await running(world, ReadingApprover())
    storm = await change(world, "Storm")
    # Reads answer; only the vote's POST fails: the reporter's side of the retry.
    emu.faults.fail_rest_for(10_000, status=500, path_contains="/review")
    await emu.review(storm, world.bob, {"Code-Review": 2}, "approve")
    await emu.wait_for(lambda: stats(daemon).retries >= 3, timeout=20)
    await stop(daemon, task, timeout=10)
    assert stats(daemon).abandoned == 1
    assert len(pending_ids(world)) == 1  # left pending for the next start
    emu.faults.clear()
    plugin = ReadingApprover()
    daemon, task = await running(world, plugin)
    await emu.wait_for(lambda: len(review_posts(emu, storm.number)) == 1, timeout=20)
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()
    assert len(review_posts(emu, storm.number)) == 1
    await stop(daemon, task)
