"""Shared helpers for the reminders tests: config repos on disk, loading, .ics expansion."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import icalendar
from dateutil import rrule

from govbot.clock import ManualClock
from govbot.config.loader import LoadResult, load_config
from govbot.config.model import GovernanceConfig
from govbot.daemon import Daemon
from govbot.plugins.governance.plugin import GovernancePlugin
from govbot.plugins.reminders.plugin import SECTIONS, Schedules, schedules_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "etc" / "governance"
DATA = Path(__file__).resolve().parent / "data"
UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
       second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def load(root: Path, *, governance: bool = False) -> LoadResult:
    sections = [("reminders", s) for s in SECTIONS]
    if governance:
        sections += [("governance", s) for s in GovernancePlugin().config_sections()]
    return load_config(root, sections)


def loaded(root: Path, *, governance: bool = False) -> tuple[GovernanceConfig, Schedules]:
    result = load(root, governance=governance)
    assert result.config is not None, "\n".join(result.lines())
    return result.config, schedules_of(result.config)


def make_repo(tmp: Path, files: Mapping[str, str], *,
              core: Iterable[str] = ("people.yaml", "bodies.yaml")) -> Path:
    """A config root with etc/governance's core files and `files` (path -> text)."""
    root = tmp / "governance"
    root.mkdir(parents=True, exist_ok=True)
    for name in core:
        shutil.copy(EXAMPLE / name, root / name)
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def expand(event: icalendar.Event, since: dt.datetime, until: dt.datetime
           ) -> list[dt.datetime]:
    """Start times of one VEVENT in [since, until): RRULE, EXDATE, or its DTSTART alone."""
    start = event.decoded("dtstart")
    if "rrule" not in event:
        return [start] if since <= start < until else []
    dates = rrule.rruleset()
    dates.rrule(rrule.rrulestr(event["rrule"].to_ical().decode(), dtstart=start))
    exdates = event.get("exdate")
    for line in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
        for value in line.dts:
            dates.exdate(value.dt)
    return [d.astimezone(UTC) for d in dates.between(since, until, inc=True) if d < until]


async def settle(daemon: Daemon, clock: ManualClock, timeout: float = 10.0) -> None:
    """Wait (with a deadline) until no wake-up is due, every event is handled, and the
    scheduler is parked on the clock for the next wake-up.

    The last condition matters when the daemon is stopped next: cancelling the
    scheduler while it is between two waits can lose the cancellation (a race in
    `Scheduler.run`'s clean-up, reported to the lead), and the daemon never stops.
    """
    assert daemon.dispatcher is not None and daemon.scheduler is not None
    async with asyncio.timeout(timeout):
        while True:
            await daemon.dispatcher.join()
            now = clock.now().timestamp()
            rows = await daemon.scheduler.pending()
            parked = not rows or any(not f.done() for *_, f in clock._sleepers)
            if all(r.due > now for r in rows) and daemon.dispatcher.pending == 0 and parked:
                return
            await asyncio.sleep(0.005)
