"""A handler that is an async generator streams: the dispatcher reports each action as
it is yielded (what the governance plugin's reload relies on to hold one page of
changes, not every action it decides), with the usual isolation around it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from govbot.actions import Action, Say
from govbot.config.model import EMPTY_CONFIG
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.events import ConfigReloaded
from govbot.plugin import (
    MemoryState,
    NoGerrit,
    Plugin,
    PluginContext,
    PluginRegistry,
    TransientReadError,
)
from govbot.reporters import RecordingReporter, ReporterSet
from tests.helpers import FIXED_NOW, make_dispatcher


class Streaming(Plugin):
    """Yields `count` Says; before each one it records how many were reported so far."""

    name = "streaming"

    def __init__(self, recorder: list[RecordingReporter], count: int = 3,
                 fail_at: int | None = None, transient_at: int | None = None) -> None:
        self.recorder = recorder
        self.count = count
        self.fail_at = fail_at
        self.transient_at = transient_at
        self.seen_before: list[int] = []  # actions reported when each one was decided
        self.calls = 0
        self.closed = 0

    def handlers(self) -> dict[type, Any]:
        return {ConfigReloaded: self.on_reload}

    async def on_reload(self, event: ConfigReloaded, ctx: PluginContext
                        ) -> AsyncIterator[Action]:
        self.calls += 1
        try:
            for n in range(self.count):
                if n == self.fail_at:
                    raise RuntimeError("plugin bug midway")
                if n == self.transient_at and self.calls == 1:
                    raise TransientReadError("Gerrit answered 503")
                await asyncio.sleep(0)  # a page read that suspends, as a REST call does
                self.seen_before.append(len(self.recorder[0].actions))
                yield Say(target="#tc", text=f"change {n}")
        finally:
            self.closed += 1


def streaming(count: int = 3, **kw: Any) -> tuple[Streaming, Dispatcher, RecordingReporter]:
    holder: list[RecordingReporter] = []
    plugin = Streaming(holder, count, **kw)
    dispatcher, recorder = make_dispatcher([plugin], retry_min_delay=0.001, retry_max_delay=0.001)
    holder.append(recorder)
    return plugin, dispatcher, recorder


async def run(dispatcher: Dispatcher, envelope: Envelope) -> None:
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        await dispatcher.submit(envelope)
        await dispatcher.join()
        runner.cancel()


def reload_event(n: int = 1) -> Envelope:
    return Envelope(f"reload-{n}", ConfigReloaded("a", "b"), "config")


async def test_each_yielded_action_is_reported_before_the_next_is_decided() -> None:
    plugin, dispatcher, recorder = streaming(4)
    await run(dispatcher, reload_event())
    assert [a.text for a in recorder.actions if isinstance(a, Say)] == [
        "change 0", "change 1", "change 2", "change 3"]
    assert plugin.seen_before == [0, 1, 2, 3]  # never more than one action held
    assert all(a.plugin == "streaming" and a.event_id == "reload-1" for a in recorder.actions)
    stats = dispatcher.stats.plugins["streaming"]
    assert (stats.calls, stats.actions, stats.errors) == (1, 4, 0)
    assert plugin.closed == 1


async def test_a_failure_midway_keeps_what_was_reported_and_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    plugin, dispatcher, recorder = streaming(4, fail_at=2)
    await run(dispatcher, reload_event())
    assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["change 0", "change 1"]
    assert dispatcher.stats.plugins["streaming"].errors == 1
    assert any("plugin streaming failed" in r.getMessage() and r.exc_info
               for r in caplog.records)
    assert plugin.closed == 1


async def test_a_transient_failure_midway_retries_the_event_from_the_start() -> None:
    plugin, dispatcher, recorder = streaming(3, transient_at=1)
    await run(dispatcher, reload_event())
    said = [a.text for a in recorder.actions if isinstance(a, Say)]
    # The first try reported change 0, then failed; the retry decides everything again.
    assert said == ["change 0", "change 0", "change 1", "change 2"]
    assert plugin.calls == 2 and plugin.closed == 2
    assert dispatcher.stats.plugins["streaming"].transient == 1


class FailingReporter(RecordingReporter):
    """Fails transiently on the second action it is given, once."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def report(self, action: Action) -> None:
        if len(self.actions) == 1 and not self.failed:
            self.failed = True
            raise TransientReadError("the state database is locked")
        await super().report(action)


async def test_a_reporter_failure_closes_the_stream_and_retries_the_event() -> None:
    reporter = FailingReporter()
    plugin = Streaming([reporter], 3)
    contexts = ContextSource(config=lambda: EMPTY_CONFIG, gerrit=NoGerrit(),
                             state=lambda plugin: MemoryState(), clock=lambda e: FIXED_NOW)
    dispatcher = Dispatcher(PluginRegistry([plugin]), ReporterSet([reporter]), contexts,
                            retry_min_delay=0.001, retry_max_delay=0.001)
    await run(dispatcher, reload_event())
    # Suspended at its second yield when the report failed: closed there (its `finally`
    # ran), then called again from the start.
    assert plugin.calls == 2 and plugin.closed == 2
    assert [a.text for a in reporter.actions if isinstance(a, Say)] == [
        "change 0", "change 0", "change 1", "change 2"]


async def test_the_timeout_ends_a_stream_that_hangs() -> None:
    class Hanging(Plugin):
        name = "hanging"

        def handlers(self) -> dict[type, Any]:
            return {ConfigReloaded: self.on_reload}

        async def on_reload(self, event: ConfigReloaded, ctx: PluginContext
                            ) -> AsyncIterator[Action]:
            yield Say(target="#tc", text="first")
            await asyncio.Event().wait()  # never set: the handler timeout must end it
            yield Say(target="#tc", text="never")

    dispatcher, recorder = make_dispatcher([Hanging()], handler_timeout=0.05)
    await run(dispatcher, reload_event())
    assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["first"]
    assert dispatcher.stats.plugins["hanging"].timeouts == 1
