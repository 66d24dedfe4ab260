"""The election timeline through the whole daemon with a manual clock: each reminder at
its instant, once, across restarts; late within grace, dropped beyond it."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
from pathlib import Path

import pytest

from govbot.actions import Say
from govbot.clock import ManualClock
from govbot.daemon import Daemon
from govbot.plugins.elections.plugin import ElectionsPlugin
from govbot.settings import parse_settings
from tests.elections.kit import at, config_files, write_repo
from tests.reminders.kit import settle

ELECTIONS = """\
elections:
  2027.1-ptl:
    kind: ptl
    title: 2027.1 PTL elections
    repository: example/election
    channels: ['#example-election']
    grace: 60
    timeline:
      nominations-open: '2027-01-08 12:00'
      nominations-close: '2027-01-11 12:00'
      polling-start: '2027-01-12 12:00'
      polling-end: '2027-01-14 12:00'
    qualifying-period: {start: '2026-01-01 00:00', end: '2027-01-01 00:00'}
"""
KEY = "timeline:2027.1-ptl"
MISSING = "Teams without a candidate yet: compute, docs, stable branch maintenance."


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"})


class Bot:
    """One daemon at a time over the same state, as restarts would run it."""

    def __init__(self, tmp: Path, clock: ManualClock) -> None:
        repo = write_repo(tmp / "governance", config_files(**{"elections.yaml": ELECTIONS}))
        git("init", "-q", "-b", "master", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", "initial", cwd=repo)
        self.settings = parse_settings(
            f"governance: {{repo: {repo}, poll_interval: 0}}\n"
            f"state: {{path: {tmp}/state/govbot.db, workdir: {tmp}/state/work}}\n"
            "web: {listen: '127.0.0.1:0'}\n", "s.yaml", base=tmp)
        self.clock = clock
        self.said: list[Say] = []  # every Say of every run, in order
        self.daemon: Daemon | None = None
        self.task: asyncio.Task[int] | None = None
        self._seen = 0

    async def start(self, *, reload: bool = False) -> None:
        self.daemon = Daemon(self.settings, dry_run=True, plugins=[ElectionsPlugin()],
                             clock=self.clock)
        self.task = asyncio.create_task(self.daemon.run())
        self._seen = 0
        await asyncio.wait_for(self.daemon.started.wait(), 10)
        if reload:  # what the core emits at start-up
            await self.daemon.reload_config("start-up", True)
        await self.settle()

    async def stop(self) -> None:
        assert self.daemon is not None and self.task is not None
        await self.settle()
        self.daemon.stop()
        assert await asyncio.wait_for(self.task, 10) == 0

    async def settle(self) -> None:
        assert self.daemon is not None
        await settle(self.daemon, self.clock)
        said = self.daemon.recorder.of_type(Say)
        self.said += [a for a in said[self._seen:] if isinstance(a, Say)]
        self._seen = len(said)

    async def at(self, when: dt.datetime) -> list[str]:
        before = len(self.said)
        self.clock.set(when)
        await self.settle()
        assert all(s.target == "#example-election" for s in self.said[before:])
        return [s.text for s in self.said[before:]]

    async def pending(self) -> dict[str, str]:
        assert self.daemon is not None and self.daemon.scheduler is not None
        return {r.key: dt.datetime.fromtimestamp(r.due, dt.UTC).strftime("%Y-%m-%d %H:%M")
                for r in await self.daemon.scheduler.pending() if r.plugin == "elections"}


async def test_the_timeline_fires_once_each_across_restarts(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(at(2027, 1, 8, 10))
    bot = Bot(tmp_path, clock)
    await bot.start(reload=True)
    assert await bot.pending() == {KEY: "2027-01-08 12:00"}

    assert await bot.at(at(2027, 1, 8, 11, 59)) == []
    assert await bot.at(at(2027, 1, 8, 12)) == [
        "Nominations for the 2027.1 PTL elections are open until 2027-01-11 12:00 UTC: "
        "propose a change to example/election adding candidates/{election}/{team}/{email}. "
        + MISSING]
    assert await bot.pending() == {KEY: "2027-01-09 12:00"}

    # a restart with the start-up reload repeats nothing
    await bot.stop()
    await bot.start(reload=True)
    assert await bot.at(at(2027, 1, 9, 11, 59)) == []
    assert await bot.at(at(2027, 1, 9, 12)) == [
        "2027.1 PTL elections: nominations are open until 2027-01-11 12:00 UTC. " + MISSING]

    # down across "last 24 hours": 30 minutes late is within the hour of grace
    await bot.stop()
    clock.set(at(2027, 1, 10, 12, 30))
    await bot.start()
    assert [s.text for s in bot.said[-1:]] == [
        "Last 24 hours of nominations for the 2027.1 PTL elections: they close "
        "2027-01-11 12:00 UTC. " + MISSING]

    # down across the close of nominations, 2 hours late: dropped and logged
    await bot.stop()
    clock.set(at(2027, 1, 11, 14))
    before = len(bot.said)
    with caplog.at_level(logging.WARNING, logger="govbot.plugins.elections.plugin"):
        await bot.start(reload=True)
    assert bot.said[before:] == []
    assert any("dropped 1 reminder(s) of 2027.1-ptl" in r.message
               and "nominations-close 2027-01-11 12:00" in r.message for r in caplog.records)
    assert await bot.pending() == {KEY: "2027-01-12 12:00"}

    assert await bot.at(at(2027, 1, 12, 12)) == [
        "Polling for the 2027.1 PTL elections is open until 2027-01-14 12:00 UTC."]
    assert await bot.at(at(2027, 1, 13, 12)) == [
        "Last 24 hours of polling for the 2027.1 PTL elections: it closes "
        "2027-01-14 12:00 UTC."]
    await bot.stop()
    await bot.start(reload=True)
    assert await bot.at(at(2027, 1, 14, 12)) == [
        "Polling for the 2027.1 PTL elections is closed."]
    assert await bot.pending() == {}  # the last reminder: the chain ends
    await bot.stop()

    # over every run: each reminder once, in order
    assert [s.text.split(" ")[0:3] for s in bot.said] == [
        ["Nominations", "for", "the"], ["2027.1", "PTL", "elections:"],
        ["Last", "24", "hours"], ["Polling", "for", "the"], ["Last", "24", "hours"],
        ["Polling", "for", "the"]]
    assert len(bot.said) == len({s.text for s in bot.said})
