"""The dispatcher: order within a change, concurrency across changes, isolation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from govbot.actions import Action, Say
from govbot.dispatcher import Envelope
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext
from govbot.testing.samples import comment_added, sample_event
from tests.helpers import make_dispatcher


def envelope(data: dict[str, Any]) -> Envelope:
    parsed = ev.EventParser().parse(json.dumps(data))
    assert parsed is not None
    return Envelope(parsed.id, parsed.event, parsed.event.lane)


def comment(number: int, text: str, author: str = "bob") -> Envelope:
    return envelope(comment_added("example/compute", number, author, {"Code-Review": 1},
                                  text=text))


class Gated(Plugin):
    """Records handling order; events whose text is in `gates` wait for that gate."""

    name = "gated"

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.started: list[str] = []
        self.finished: list[str] = []
        self.progress = asyncio.Event()

    def handlers(self) -> dict[type, Any]:
        return {ev.CommentAdded: self.on_comment}

    async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext) -> Sequence[Action]:
        self.started.append(event.text)
        self.progress.set()
        gate = self.gates.get(event.text)
        if gate is not None:
            await gate.wait()
        self.finished.append(event.text)
        self.progress.set()
        return [Say(target="#test", text=event.text)]


async def wait_until(condition: Any, progress: asyncio.Event, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            progress.clear()
            await progress.wait()


async def test_one_change_in_order_while_another_change_proceeds() -> None:
    plugin = Gated()
    plugin.gates["a1"] = asyncio.Event()
    dispatcher, recorder = make_dispatcher([plugin], workers=4)
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        for env in (comment(1, "a1"), comment(1, "a2"), comment(1, "a3"),
                    comment(2, "b1"), comment(2, "b2")):
            await dispatcher.submit(env)
        # Change 1 is stuck on a1; change 2 must still be handled completely.
        await wait_until(lambda: {"b1", "b2"} <= set(plugin.finished), plugin.progress)
        assert "a2" not in plugin.started and "a3" not in plugin.started
        plugin.gates["a1"].set()
        await dispatcher.join()
        runner.cancel()
    said = [a.text for a in recorder.actions if isinstance(a, Say)]
    assert [t for t in said if t.startswith("a")] == ["a1", "a2", "a3"]
    assert plugin.finished.index("b2") < plugin.finished.index("a1")


async def test_actions_are_stamped_with_plugin_and_event() -> None:
    plugin = Gated()
    dispatcher, recorder = make_dispatcher([plugin])
    env = comment(1, "hello")
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        await dispatcher.submit(env)
        await dispatcher.join()
        runner.cancel()
    assert recorder.actions == [Say(target="#test", text="hello", plugin="gated",
                                    event_id=env.id)]


class Failing(Plugin):
    name = "failing"

    def handlers(self) -> dict[type, Any]:
        return {ev.ChangeEvent: self.boom}

    async def boom(self, event: ev.ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
        raise RuntimeError("plugin bug")


class Slow(Plugin):
    name = "slow"

    def handlers(self) -> dict[type, Any]:
        return {ev.ChangeEvent: self.hang}

    async def hang(self, event: ev.ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
        await asyncio.Event().wait()  # never returns: the timeout must end it
        return ()


async def test_a_failing_or_hanging_plugin_does_not_stop_the_others(
        caplog: pytest.LogCaptureFixture) -> None:
    good = Gated()
    dispatcher, recorder = make_dispatcher([Failing(), Slow(), good], handler_timeout=0.05)
    env = comment(7, "still handled")
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        await dispatcher.submit(env)
        await dispatcher.join()
        runner.cancel()
    assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["still handled"]
    stats = dispatcher.stats.plugins
    assert stats["failing"].errors == 1 and stats["slow"].timeouts == 1
    assert stats["gated"].actions == 1
    failure = next(r for r in caplog.records if "plugin failing failed" in r.getMessage())
    assert env.id in failure.getMessage() and failure.exc_info is not None


async def test_handlers_for_a_base_class_see_subclasses() -> None:
    seen: list[str] = []

    class Watcher(Plugin):
        name = "watcher"

        def handlers(self) -> dict[type, Any]:
            return {ev.ChangeEvent: self.on_any}

        async def on_any(self, event: ev.ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
            seen.append(event.type_name)
            return ()

    dispatcher, _ = make_dispatcher([Watcher()])
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        for t in ("patchset-created", "change-merged", "ref-updated", "topic-changed"):
            await dispatcher.submit(envelope(sample_event(t)))
        await dispatcher.join()
        runner.cancel()
    assert sorted(seen) == ["change-merged", "patchset-created", "topic-changed"]


async def test_queue_is_bounded_and_submit_waits() -> None:
    plugin = Gated()
    plugin.gates["first"] = asyncio.Event()
    dispatcher, _ = make_dispatcher([plugin], workers=1, max_pending=3)
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        for i, text in enumerate(("first", "x2", "x3")):
            await dispatcher.submit(comment(i + 1, text))
        blocked = group.create_task(dispatcher.submit(comment(9, "x4")))
        await wait_until(lambda: "first" in plugin.started, plugin.progress)
        assert not blocked.done() and dispatcher.pending == 3
        plugin.gates["first"].set()
        await blocked
        await dispatcher.join()
        runner.cancel()
    assert sorted(plugin.finished) == ["first", "x2", "x3", "x4"]


async def test_events_caused_by_the_bot_itself_are_ignored() -> None:
    plugin = Gated()
    dispatcher, _ = make_dispatcher([plugin], ignore_usernames=["govbot"])
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        await dispatcher.submit(comment(1, "from the bot", author="govbot"))
        await dispatcher.submit(comment(1, "from a human", author="bob"))
        await dispatcher.join()
        runner.cancel()
    assert plugin.started == ["from a human"]
