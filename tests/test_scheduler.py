"""Wake-ups: a plugin is called again at a moment in time, with no event then."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govbot.actions import Action, Say, WakeAt
from govbot.clock import ManualClock
from govbot.daemon import Daemon
from govbot.events import Wakeup
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext
from govbot.settings import parse_settings
from govbot.state.store import StateStore
from govbot.testing.samples import sample_event
from tests.test_daemon import governance_repo, settings_text  # noqa: F401 (fixture)

START = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


class WeekLater(Plugin):
    """Asks to be woken 7 days after a change is proposed; says so when woken."""

    name = "week-later"
    emits = (Say, WakeAt)

    def handlers(self) -> dict[type, Any]:
        return {ev.PatchsetCreated: self.proposed, Wakeup: self.woken}

    async def proposed(self, event: ev.PatchsetCreated, ctx: PluginContext
                       ) -> Sequence[Action]:
        return [WakeAt(key=event.change.key, when=ctx.now + dt.timedelta(days=7),
                       lane=event.lane, payload={"change": event.change.key})]

    async def woken(self, event: Wakeup, ctx: PluginContext) -> Sequence[Action]:
        if event.plugin != self.name:
            return ()
        return [Say(target="#tc", text=f"{event.payload['change']} waited since "
                                       f"{event.due:%Y-%m-%d %H:%M}; now {ctx.now:%Y-%m-%d}")]


async def start(tmp_path: Path, repo: Path, clock: ManualClock) -> tuple[Daemon, Any]:
    settings = parse_settings(settings_text(tmp_path, repo), "s.yaml", base=tmp_path)
    daemon = Daemon(settings, dry_run=True, plugins=[WeekLater()], clock=clock)
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.started.wait(), 10)
    return daemon, task


async def test_a_wakeup_fires_exactly_when_due_and_survives_a_restart(
        tmp_path: Path, governance_repo: Path) -> None:  # noqa: F811
    clock = ManualClock(START)
    daemon, task = await start(tmp_path, governance_repo, clock)
    assert daemon.intake is not None and daemon.dispatcher is not None
    await daemon.intake.accept("stream", [json.dumps(sample_event("patchset-created")).encode()])
    await daemon.dispatcher.join()
    assert daemon.scheduler is not None
    assert [r.key for r in await daemon.scheduler.pending()] == ["example/governance~1234"]
    clock.advance(days=6, hours=23)  # not yet due: the scheduler's sleeper stays asleep
    await daemon.dispatcher.join()
    assert daemon.recorder.of_type(Say) == [] and daemon.scheduler.fired == 0
    daemon.stop()
    await asyncio.wait_for(task, 10)

    # a restart keeps the wake-up; it fires at the 7-day mark, with no event then
    daemon, task = await start(tmp_path, governance_repo, clock)
    clock.advance(hours=1)
    await daemon.recorder.wait_for(lambda a: any(isinstance(x, Say) for x in a), timeout=5)
    said = daemon.recorder.of_type(Say)
    assert said == [Say(target="#tc", text="example/governance~1234 waited since "
                                          "2026-11-29 10:00; now 2026-11-29",
                        plugin="week-later", event_id=said[0].event_id)]
    assert daemon.scheduler is not None
    await daemon.dispatcher.join()  # type: ignore[union-attr]
    assert await daemon.scheduler.pending() == []
    daemon.stop()
    await asyncio.wait_for(task, 10)
    async with StateStore(tmp_path / "state" / "govbot.db") as store:
        rows = await store.call(lambda db: db.execute("SELECT * FROM wakeups").fetchall())
        assert rows == []


async def test_finishing_a_wakeup_keeps_a_new_one_for_the_same_key_and_instant(
        tmp_path: Path) -> None:
    """The handler of a wake-up may set the same key again, even for the same instant
    (a reload finding it overdue): that new one must survive the old one's clean-up."""
    from govbot.dispatcher import Envelope
    from govbot.scheduler import Scheduler

    clock = ManualClock(START)
    fired: list[Envelope] = []

    async def submit(envelope: Envelope) -> None:
        fired.append(envelope)

    async with StateStore(tmp_path / "s.db") as store:
        scheduler = Scheduler(store, clock, submit)
        wake = WakeAt(key="k", when=START, plugin="p")
        await scheduler.report(wake)
        await scheduler._fire((await scheduler.pending())[0])
        await scheduler.report(wake)  # set again, same instant, while the first is handled
        assert fired[0].on_done is not None
        await fired[0].on_done()  # the first one is finished
        assert [(r.key, r.due) for r in await scheduler.pending()] == [("k", START.timestamp())]
