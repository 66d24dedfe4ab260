"""The dispatcher: order within a change, concurrency across changes, isolation."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pytest

from govbot.actions import Action, Say
from govbot.commands import CommandEvent
from govbot.dispatcher import Dispatcher, Envelope
from govbot.gerrit import events as ev
from govbot.irc.events import IrcMessage
from govbot.plugin import Command, CommandCall, Plugin, PluginContext, TransientReadError
from govbot.testing.samples import comment_added, sample_event
from tests.helpers import FIXED_NOW, make_dispatcher


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


# --- commands: events in the channel's lane, handled like any other event ---------------

CHANNEL = "#tc"


def line(text: str, n: int, nick: str = "bob") -> IrcMessage:
    when = FIXED_NOW + dt.timedelta(seconds=n)
    return IrcMessage(CHANNEL, CHANNEL, nick, nick, text, {"msgid": f"m{n}"}, when)


class Chatty(Plugin):
    """Offers `!slow`, `!boom`, `!ok` and `#mark`; records every line it sees, in order."""

    name = "chatty"
    emits = (Say,)

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.progress = asyncio.Event()

    def handlers(self) -> dict[type, Any]:
        return {IrcMessage: self.on_line}

    def commands(self) -> Sequence[Command]:
        return [Command("slow", self.slow, "slow", "Never answers."),
                Command("boom", self.boom, "boom", "Always fails."),
                Command("ok", self.ok, "ok", "Answers."),
                Command("mark", self.ok, "mark TEXT", "A MeetBot-style line.",
                        aliases=("m",), syntax="meetbot")]

    def _saw(self, text: str) -> None:
        self.seen.append(text)
        self.progress.set()

    async def on_line(self, event: IrcMessage, ctx: PluginContext) -> Sequence[Action]:
        await asyncio.sleep(0)  # let other workers run: only the lane keeps the order
        self._saw(event.text)
        return ()

    async def slow(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        self._saw(f"!{call.name}")
        await asyncio.Event().wait()  # hangs: the dispatcher's timeout must cut it
        return ()

    async def boom(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        self._saw(f"!{call.name}")
        raise RuntimeError("command bug")

    async def ok(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        assert call.message is not None
        await asyncio.sleep(0)
        self._saw(call.message.text)
        return [Say(target=call.reply_to, text=f"{call.name} {call.args}".strip())]


async def said_in_order(dispatcher: Dispatcher, texts: Sequence[str], *,
                        crowd: bool = False) -> list[IrcMessage]:
    """Each text as one line of CHANNEL, turned into its event where IRC does it;
    `crowd`: each said by someone else (no one meets the per-person rate limit)."""
    messages = [line(text, n, f"p{n}" if crowd else "bob") for n, text in enumerate(texts)]
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        for message in messages:
            event = dispatcher.commands.event_of(message, "govbot")
            assert event.lane == message.lane  # a command keeps its channel's lane
            await dispatcher.submit(Envelope(event.id, event, event.lane))
        await asyncio.wait_for(dispatcher.join(), 10)
        runner.cancel()
    return messages


async def test_a_commands_calls_errors_and_timeouts_are_the_plugins_stats(
        caplog: pytest.LogCaptureFixture) -> None:
    plugin = Chatty()
    dispatcher, recorder = make_dispatcher([plugin], handler_timeout=0.05)
    messages = await said_in_order(dispatcher, ["!ok", "!boom", "!slow", "#mark x", "hello"])
    stats = dispatcher.stats.plugins["chatty"]
    # 4 command calls + 1 plain line; one error, one timeout; the two `ok` answers.
    assert (stats.calls, stats.errors, stats.timeouts, stats.actions) == (5, 1, 1, 2)
    assert stats.seconds > 0
    replies = [(a.text, a.plugin, a.event_id) for a in recorder.actions if isinstance(a, Say)]
    assert replies == [
        ("ok", "chatty", messages[0].id),
        (f"bob: internal error, logged as {messages[1].id}", "commands", messages[1].id),
        (f"bob: slow took too long; logged as {messages[2].id}", "commands", messages[2].id),
        ("mark x", "chatty", messages[3].id),
    ]
    failure = next(r for r in caplog.records if "plugin chatty failed" in r.getMessage())
    assert messages[1].id in failure.getMessage() and "command boom" in failure.getMessage()


async def test_a_hanging_command_is_cut_and_the_channel_goes_on_in_order() -> None:
    plugin = Chatty()
    dispatcher, recorder = make_dispatcher([plugin], workers=4, handler_timeout=0.05)
    await said_in_order(dispatcher, ["!slow", "after", "!ok next", "#m last"])
    assert plugin.seen == ["!slow", "after", "!ok next", "#m last"]
    assert dispatcher.stats.plugins["chatty"].timeouts == 1
    assert [a.text for a in recorder.actions if isinstance(a, Say)][1:] == ["ok next",
                                                                          "mark last"]


async def test_command_lines_and_plain_lines_are_delivered_in_the_order_said() -> None:
    plugin = Chatty()
    dispatcher, _ = make_dispatcher([plugin], workers=8)
    texts = [f"#mark {n}" if n % 3 == 0 else (f"!ok {n}" if n % 3 == 1 else f"chat {n}")
             for n in range(60)]
    await said_in_order(dispatcher, texts, crowd=True)
    assert plugin.seen == texts


class Journal(Plugin):
    """Sees every line of the channel, commands of other plugins included (a meeting)."""

    name = "journal"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handlers(self) -> dict[type, Any]:
        return {IrcMessage: self.on_line, CommandEvent: self.on_command}

    async def on_line(self, event: IrcMessage, ctx: PluginContext) -> Sequence[Action]:
        self.seen.append(event.text)
        return ()

    async def on_command(self, event: CommandEvent, ctx: PluginContext) -> Sequence[Action]:
        self.seen.append(event.message.text)
        return ()


async def test_a_plugin_sees_other_plugins_commands_once_and_in_order() -> None:
    journal, chatty = Journal(), Chatty()
    dispatcher, recorder = make_dispatcher([journal, chatty], workers=4)
    await said_in_order(dispatcher, ["hi", "!ok 1", "#mark 2", "!nosuch", "bye"])
    assert journal.seen == ["hi", "!ok 1", "#mark 2", "!nosuch", "bye"]
    assert chatty.seen == ["hi", "!ok 1", "#mark 2", "bye"]
    assert dispatcher.stats.plugins["journal"].calls == 5
    # An unknown bare "!nosuch" may be another bot's: no answer.
    assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["ok 1", "mark 2"]


class Flaky(Plugin):
    """Fails transiently while `failing` is set; counts its calls by event text."""

    name = "flaky"

    def __init__(self) -> None:
        self.failing = True
        self.calls: list[str] = []
        self.progress = asyncio.Event()

    def handlers(self) -> dict[type, Any]:
        return {ev.CommentAdded: self.on_comment}

    async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext) -> Sequence[Action]:
        self.calls.append(event.text)
        self.progress.set()
        if self.failing:
            raise TransientReadError("Gerrit answered 503")
        return [Say(target="#test", text=f"flaky {event.text}")]


async def test_a_transient_failure_retries_only_the_failed_plugin() -> None:
    flaky, steady = Flaky(), Gated()
    dispatcher, recorder = make_dispatcher([flaky, steady], retry_min_delay=0.01,
                                           retry_max_delay=0.02)
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        await dispatcher.submit(comment(1, "a"))
        await wait_until(lambda: len(flaky.calls) >= 3, flaky.progress)
        flaky.failing = False
        await dispatcher.join()
        runner.cancel()
    assert steady.finished == ["a"]  # called once, not once per retry
    assert [a.text for a in recorder.actions] == ["a", "flaky a"]  # type: ignore[attr-defined]
    assert dispatcher.stats.plugins["flaky"].errors == 0
    assert dispatcher.stats.plugins["flaky"].transient == dispatcher.stats.retries >= 2


async def test_settled_does_not_wait_for_a_retrying_lane_and_drain_leaves_it_pending(
        ) -> None:
    flaky = Flaky()
    dispatcher, recorder = make_dispatcher([flaky], retry_min_delay=30, retry_max_delay=30)
    done: list[str] = []

    async def finished() -> None:
        done.append("a")

    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        first = comment(1, "a")
        first.on_done = finished
        await dispatcher.submit(first)
        await dispatcher.submit(comment(1, "a2"))  # waits behind it, in order
        await dispatcher.submit(comment(2, "b"))
        async with asyncio.timeout(5):
            await dispatcher.settled()  # both lanes wait 30 s for their retry
        assert flaky.calls == ["a", "b"] and dispatcher.pending == 3
        dispatcher.drain()
        async with asyncio.timeout(1):
            await dispatcher.join()
        runner.cancel()
    assert done == [] and dispatcher.stats.abandoned == 3 and recorder.actions == []


async def test_parked_after_the_tries_and_retried_with_the_lane_s_next_event() -> None:
    flaky = Flaky()
    parked: list[str] = []

    async def on_parked(why: str) -> None:
        parked.append(why)

    dispatcher, recorder = make_dispatcher([flaky], retry_attempts=2, retry_min_delay=0.01,
                                           retry_max_delay=0.01)
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        first = comment(1, "a")
        first.on_parked = on_parked
        await dispatcher.submit(first)
        await dispatcher.join()
        assert flaky.calls == ["a", "a"] and len(parked) == 1 and "503" in parked[0]
        assert [e.id for e in dispatcher.parked()] == [first.id]
        flaky.failing = False
        await dispatcher.submit(comment(1, "a2"))
        await dispatcher.join()
        runner.cancel()
    assert flaky.calls == ["a", "a", "a", "a2"] and dispatcher.parked() == []
    assert [a.text for a in recorder.actions] == ["flaky a", "flaky a2"]  # type: ignore[attr-defined]
