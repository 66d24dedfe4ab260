"""Reminders through the whole daemon with a manual clock: the right instants, once each,
across restarts; late within the grace window, dropped and counted beyond it."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from govbot.actions import Say
from govbot.clock import ManualClock
from govbot.daemon import Daemon
from govbot.plugins.reminders.plugin import RemindersPlugin
from govbot.settings import parse_settings
from govbot.state.store import StateStore
from tests.reminders.kit import at, make_repo, settle

TC = """project: Technical Committee
meeting_id: tc
agenda_url: https://wiki.example.org/tc
chair: Ada
description: Weekly TC meeting.
schedule:
  - time: '1500'
    day: Thursday
    irc: example-tc
    frequency: weekly
    start_date: 20260101
"""
REMINDERS = """grace: {meetings: 15m, deadlines: 1h}
meetings:
  minutes_before: 10
  overrides:
    tc: {ping_body: tc}
"""
DEADLINES = """nominations:
  title: "TC election: nominations close"
  at: '2026-11-27 18:00'
  body: tc
  remind: [1d, 0]
"""
MEETING_KEY = "meeting:tc:thursday-1500-example-tc"
DEADLINE_KEY = "deadline:nominations"
AGENDA = "https://wiki.example.org/tc"
PING = "ping: ada bruno_o chiara dvolk farah greis hana ivo"  # eun-ji opted out


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"})


class Bot:
    """One daemon at a time over the same state, as restarts would run it."""

    def __init__(self, tmp: Path, clock: ManualClock) -> None:
        repo = make_repo(tmp, {"meetings/tc.yaml": TC, "reminders.yaml": REMINDERS,
                               "deadlines.yaml": DEADLINES})
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
        self._seen = 0  # Says of the current run already copied into `said`
        self.task: asyncio.Task[int] | None = None

    async def start(self, *, reload: bool = False) -> Daemon:
        self.daemon = Daemon(self.settings, dry_run=True, plugins=[RemindersPlugin()],
                             clock=self.clock)
        self.task = asyncio.create_task(self.daemon.run())
        self._seen = 0
        await asyncio.wait_for(self.daemon.started.wait(), 10)
        if reload:  # what the core will emit at start-up (see docs/reminders.md)
            await self.daemon.reload_config("start-up", True)
        await self.settle()
        return self.daemon

    async def stop(self) -> None:
        assert self.daemon is not None and self.task is not None
        await self.settle()
        self.daemon.stop()
        assert await asyncio.wait_for(self.task, 10) == 0
        self.daemon = None

    async def settle(self) -> None:
        """Until no wake-up is due and every event is handled (with a deadline)."""
        daemon = self.daemon
        assert daemon is not None
        await settle(daemon, self.clock)
        # Count, never compare: a repeated reminder must show up twice here.
        said = daemon.recorder.of_type(Say)
        self.said += [a for a in said[self._seen:] if isinstance(a, Say)]
        self._seen = len(said)

    async def at(self, when: Any) -> list[Say]:
        """Move the clock to `when`; return what was said because of it."""
        before = len(self.said)
        self.clock.set(when)
        await self.settle()
        return self.said[before:]

    async def pending(self) -> dict[str, str]:
        assert self.daemon is not None and self.daemon.scheduler is not None
        return {r.key: dt.datetime.fromtimestamp(r.due, dt.UTC).strftime("%Y-%m-%d %H:%M")
                for r in await self.daemon.scheduler.pending() if r.plugin == "reminders"}

    async def record(self, key: str) -> Any:
        async with StateStore(self.settings.state.path) as store:
            return await store.get_value("reminders", key)


def texts(said: list[Say]) -> list[tuple[str, str]]:
    return [(s.target, s.text) for s in said]


async def test_reminders_fire_once_each_across_restarts_and_downtime(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(at(2026, 11, 25, 12))  # a Wednesday
    bot = Bot(tmp_path, clock)
    await bot.start(reload=True)
    assert await bot.pending() == {MEETING_KEY: "2026-11-26 14:50",
                                   DEADLINE_KEY: "2026-11-26 18:00"}

    # to the second: nothing before, one line at the instant
    assert await bot.at(at(2026, 11, 26, 14, 49, 59)) == []
    assert texts(await bot.at(at(2026, 11, 26, 14, 50))) == [(
        "#example-tc", "Technical Committee meeting starts in 10 minutes (15:00 UTC) in "
        f"#example-tc, #startmeeting tc. Agenda: {AGENDA} | {PING}")]
    assert (await bot.pending())[MEETING_KEY] == "2026-12-03 14:50"

    # a restart (and the start-up reload) repeats nothing and keeps the schedule
    await bot.stop()
    await bot.start(reload=True)
    assert await bot.at(at(2026, 11, 26, 17, 59)) == []
    assert await bot.pending() == {MEETING_KEY: "2026-12-03 14:50",
                                   DEADLINE_KEY: "2026-11-26 18:00"}
    assert texts(await bot.at(at(2026, 11, 26, 18))) == [(
        "#example-tc", "Deadline in 1 day: TC election: nominations close "
        "(2026-11-27 18:00 UTC)")]

    # down from 17:50 to 18:10: the 18:00 reminder is sent late, within the hour of grace;
    # the wake-up kept in the state store is what fires, no reload needed
    await bot.at(at(2026, 11, 27, 17, 50))
    await bot.stop()
    clock.set(at(2026, 11, 27, 18, 10))
    await bot.start()
    assert texts(bot.said[-1:]) == [(
        "#example-tc", "Deadline passed 10 minutes ago: TC election: nominations close "
        "(2026-11-27 18:00 UTC) (late reminder: the bot was offline)")]
    assert DEADLINE_KEY not in await bot.pending()  # its last reminder: the chain ends

    # down across the next meeting reminder, 20 minutes past it: beyond the 15-minute
    # grace, so it is dropped, counted and logged, and the next week is scheduled
    await bot.at(at(2026, 12, 3, 14, 40))
    await bot.stop()
    clock.set(at(2026, 12, 3, 15, 10))
    said_before = len(bot.said)
    with caplog.at_level(logging.WARNING, logger="govbot.plugins.reminders.plugin"):
        await bot.start()
    assert bot.said[said_before:] == []
    assert await bot.pending() == {MEETING_KEY: "2026-12-10 14:50"}
    assert any("dropped 1 reminder(s) of meeting:tc:thursday-1500-example-tc" in r.message
               and "2026-12-03T14:50:00+00:00" in r.message for r in caplog.records)

    # down again until 14:59 the week after: 9 minutes late is within grace
    await bot.stop()
    clock.set(at(2026, 12, 10, 14, 59))
    await bot.start()
    assert texts(bot.said[said_before:]) == [(
        "#example-tc", "Technical Committee meeting starts in 1 minute (15:00 UTC) in "
        f"#example-tc, #startmeeting tc. Agenda: {AGENDA} (late reminder: the bot was "
        f"offline) | {PING}")]
    await bot.stop()

    # over every run: each reminder exactly once, in order
    assert [s.text.split(" (")[0] for s in bot.said] == [
        "Technical Committee meeting starts in 10 minutes",
        "Deadline in 1 day: TC election: nominations close",
        "Deadline passed 10 minutes ago: TC election: nominations close",
        "Technical Committee meeting starts in 1 minute",
    ]
    assert await bot.record(MEETING_KEY) == {"cursor": "2026-12-10T14:50:00+00:00",
                                             "dropped": 1}
    assert await bot.record(DEADLINE_KEY) == {"cursor": "2026-11-27T18:00:00+00:00",
                                              "dropped": 0}


async def test_a_new_meeting_starts_from_when_it_is_first_seen(tmp_path: Path) -> None:
    """The first reload records 'now' for each stream: older reminders are not its own
    to send (nor to count as dropped), later ones are."""
    clock = ManualClock(at(2026, 11, 26, 14, 55))  # after Thursday's reminder time
    bot = Bot(tmp_path, clock)
    await bot.start(reload=True)
    assert bot.said == []
    assert await bot.record(MEETING_KEY) == {"cursor": "2026-11-26T14:55:00+00:00",
                                             "dropped": 0}
    assert (await bot.pending())[MEETING_KEY] == "2026-12-03 14:50"
    await bot.stop()
