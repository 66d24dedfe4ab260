"""`govbot replay`: recorded Gerrit events through the plugins, deterministically.

Nothing is posted: the recording reporter collects the actions. "Now" is the
`--now` given, or else each event's own `eventCreatedOn`, so the same file and
config always give the same actions in the same order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from govbot.actions import Action
from govbot.config.model import GovernanceConfig
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.events import Event
from govbot.gerrit.events import Event as GerritEventBase
from govbot.gerrit.events import EventParser, ParseStats
from govbot.plugin import MemoryState, NoGerrit, Plugin, PluginRegistry
from govbot.reporters import RecordingReporter, ReporterSet


@dataclass(slots=True)
class ReplayResult:
    actions: list[Action]
    stats: ParseStats
    events: int
    plugin_errors: dict[str, int] = field(default_factory=dict)


def event_time(event: Event) -> dt.datetime:
    """The event's own time: Gerrit's `eventCreatedOn` (the epoch for other events)."""
    created_on = event.created_on if isinstance(event, GerritEventBase) else 0
    return dt.datetime.fromtimestamp(created_on or 0, dt.UTC)


async def replay(
    lines: Iterable[bytes],
    plugins: Sequence[Plugin],
    config: GovernanceConfig,
    *,
    now: dt.datetime | None = None,
    workers: int = 1,
) -> ReplayResult:
    """Feed `lines` through `plugins`; return the actions in event order."""
    registry = PluginRegistry(plugins)
    recorder = RecordingReporter()
    contexts = ContextSource(
        config=lambda: config,
        gerrit=NoGerrit(),
        state=lambda plugin: MemoryState(),
        clock=(lambda event: now) if now is not None else event_time,
    )
    dispatcher = Dispatcher(registry, ReporterSet([recorder]), contexts, workers=workers)
    parser = EventParser()
    order: dict[str, int] = {}
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        count = 0
        for line in lines:
            if not line.strip():
                continue
            parsed = parser.parse(line)
            if parsed is None:
                continue
            order.setdefault(parsed.id, count)
            count += 1
            await dispatcher.submit(Envelope(parsed.id, parsed.event, parsed.event.lane))
        await dispatcher.join()
        runner.cancel()
    # Stable sort: actions of one event keep the order their plugins returned them in.
    actions = sorted(recorder.actions, key=lambda a: order.get(a.event_id, 0))
    errors = {name: s.errors + s.timeouts for name, s in dispatcher.stats.plugins.items()
              if s.errors or s.timeouts}
    return ReplayResult(actions, parser.stats, count, errors)
