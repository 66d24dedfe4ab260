"""The dispatcher: per-change order, global concurrency, bounded memory.

Each event carries a *lane* (`change:project~42`, `ref:project:refs/tags/x`, an IRC
channel, ...). Events in one lane are handled strictly one after another, so a
change's votes are decided and posted in the order its events arrived; different
lanes are served concurrently by a fixed pool of workers. At most `max_pending`
events wait at once: `submit` blocks when the dispatcher is full, which pushes
back on the source (whose own inbox is durable) instead of growing memory.

Every plugin call is isolated: a timeout, an exception logged with the event id,
and per-plugin counters. One plugin's failure never skips the plugins after it.

Chat and MeetBot commands are events too (`govbot.commands.CommandEvent`, in the
lane of their channel): the router decides who handles one, and the dispatcher
calls that plugin's command handler like any other handler (same lane order,
timeout and stats). Plugins with a handler for `CommandEvent` itself (a meeting
journals every line) see each command event first, except the one they offer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from govbot.actions import Action
from govbot.commands import CommandCall, CommandEvent, CommandRouter, Named
from govbot.config.model import GovernanceConfig
from govbot.context import MinutesLibrary, StatusReader
from govbot.events import Event
from govbot.plugin import (
    ChangeReader,
    IrcReader,
    PluginContext,
    PluginRegistry,
    PluginSettings,
    ProposalChecker,
    StateReader,
)
from govbot.reporters import ReporterSet
from govbot.zuul.model import CiReader

log = logging.getLogger(__name__)

#: A plugin's settings when the context source has none for it (replay, tests): the
#: plugin reads its own defaults (`PluginContext.settings_as`).
NO_SETTINGS = PluginSettings()


@dataclass(slots=True)
class Envelope:
    """An event on its way through the dispatcher.

    `on_done` is called once every plugin has handled the event and every action
    was reported (the durable inbox uses it to mark the event done).
    """

    id: str
    event: Event
    lane: str
    on_done: Callable[[], Awaitable[None]] | None = None


@dataclass(slots=True)
class PluginStats:
    calls: int = 0
    errors: int = 0
    timeouts: int = 0
    actions: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class DispatchStats:
    handled: int = 0
    plugins: dict[str, PluginStats] = field(default_factory=dict)


class ContextSource:
    """Supplies what handlers may read; the daemon, replay and tests each build one.

    `clock(event)` gives "now" for handling that event: the wall clock in the
    daemon, the event's own time (or a fixed `--now`) in a deterministic replay.
    `offers` (what plugins offer each other, `ctx.offer`) defaults to the registry's
    of the dispatcher it is given to.
    """

    def __init__(
        self,
        *,
        config: Callable[[], GovernanceConfig],
        gerrit: ChangeReader,
        state: Callable[[str], StateReader],
        clock: Callable[[Event], dt.datetime],
        settings: Mapping[str, msgspec.Struct] | None = None,
        proposals: ProposalChecker | None = None,
        irc: IrcReader | None = None,
        ci: CiReader | None = None,
        offers: Mapping[type, object] | None = None,
        bot_nick: str = "govbot",
        public_url: str = "",
        minutes: MinutesLibrary | None = None,
        status: StatusReader | None = None,
    ) -> None:
        self.config = config
        self.gerrit = gerrit
        self.state = state
        self.clock = clock
        self.settings = settings or {}
        self.proposals = proposals
        self.irc = irc
        self.ci = ci
        #: What plugins offer each other; None: the dispatcher fills in its registry's.
        self.offers = offers
        self.bot_nick = bot_nick
        self.public_url = public_url.rstrip("/")
        self.minutes = minutes
        self.status = status
        self._states: dict[str, StateReader] = {}

    def context(self, plugin: str, event_id: str, now: dt.datetime,
                config: GovernanceConfig) -> PluginContext:
        state = self._states.get(plugin)
        if state is None:
            state = self._states[plugin] = self.state(plugin)
        return PluginContext(plugin, event_id, config, self.gerrit, state, now,
                             self.settings.get(plugin, NO_SETTINGS), self.proposals, self.irc,
                             self.ci, self.offers or {}, bot_nick=self.bot_nick,
                             public_url=self.public_url, minutes=self.minutes,
                             status=self.status)


class Dispatcher:
    """Route events to plugin handlers and their actions to the reporters."""

    def __init__(
        self,
        registry: PluginRegistry,
        reporters: ReporterSet,
        contexts: ContextSource,
        *,
        workers: int = 16,
        max_pending: int = 10_000,
        handler_timeout: float = 60.0,
        ignore_usernames: Sequence[str] = (),
        commands: CommandRouter | None = None,
    ) -> None:
        if workers < 1 or max_pending < 1:
            raise ValueError("workers and max_pending must be at least 1")
        self._registry = registry
        #: Chat and MeetBot commands (prefix, rate limits, built-ins); see govbot.commands.
        self.commands = commands or CommandRouter(registry.commands)
        self._reporters = reporters
        self._contexts = contexts
        if contexts.offers is None:
            contexts.offers = registry.offers
        self._workers = workers
        self._timeout = handler_timeout
        self._ignore = frozenset(ignore_usernames)
        self._max_pending = max_pending
        self._space = asyncio.Event()
        self._lanes: dict[str, deque[Envelope]] = {}
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._unfinished = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = DispatchStats()
        for plugin in registry.plugins:
            self.stats.plugins[plugin.name] = PluginStats()
        if commands is not None:  # its built-ins and failures are counted as one plugin
            self.stats.plugins.setdefault(commands.name, PluginStats())

    async def submit(self, envelope: Envelope) -> None:
        """Queue one event; waits while `max_pending` events are already queued."""
        while self._unfinished >= self._max_pending:
            self._space.clear()
            await self._space.wait()
        self._unfinished += 1
        self._idle.clear()
        lane = self._lanes.get(envelope.lane)
        if lane is not None:
            lane.append(envelope)
        else:
            self._lanes[envelope.lane] = deque((envelope,))
            self._ready.put_nowait(envelope.lane)

    async def join(self) -> None:
        """Wait until every submitted event has been handled and reported."""
        await self._idle.wait()

    @property
    def pending(self) -> int:
        return self._unfinished

    async def run(self) -> None:
        """Serve lanes until cancelled. Cancel it only after `join()` to lose nothing."""
        async with asyncio.TaskGroup() as group:
            for n in range(self._workers):
                group.create_task(self._serve(), name=f"dispatch-worker-{n}")

    async def _serve(self) -> None:
        while True:
            name = await self._ready.get()
            lane = self._lanes[name]
            while lane:
                # The envelope stays at the head while it is handled, so a concurrent
                # submit for this lane appends behind it instead of opening a new lane.
                try:
                    await self._process(lane[0])
                except Exception:
                    # Reporters and inbox callbacks isolate their own failures; this is
                    # the last guard so that one event can never stall its lane.
                    log.exception("event %s: dispatch failed", lane[0].id)
                lane.popleft()
                self._finish()
            del self._lanes[name]

    def _finish(self) -> None:
        self._unfinished -= 1
        self._space.set()
        self.stats.handled += 1
        if self._unfinished == 0:
            self._idle.set()

    async def _process(self, envelope: Envelope) -> None:
        event = envelope.event
        actor = event.actor if self._ignore else None
        if actor is not None and actor.username in self._ignore:
            # Our own votes come back as comment-added: reacting to them loops.
            log.debug("event %s: caused by the bot itself, ignored", envelope.id)
        elif type(event) is CommandEvent:
            await self._command(envelope.id, event)
        else:
            handlers = self._registry.handlers_for(type(event))
            if handlers:
                contexts = self._contexts
                config = contexts.config()
                now = contexts.clock(event)
                for plugin, handler in handlers:
                    ctx = contexts.context(plugin.name, envelope.id, now, config)
                    for action in await self._call(plugin, handler, event, ctx):
                        await self._reporters.report(action)
        if envelope.on_done is not None:
            await envelope.on_done()

    async def _command(self, event_id: str, event: CommandEvent) -> None:
        contexts = self._contexts
        config = contexts.config()
        now = contexts.clock(event)
        route = self.commands.route(event, config, now)
        for plugin, handler in self._registry.handlers_for(CommandEvent):
            if plugin is not route.owner:  # the owner gets it once: as its command
                ctx = contexts.context(plugin.name, event_id, now, config)
                for action in await self._call(plugin, handler, event, ctx):
                    await self._reporters.report(action)
        for action in route.replies:
            await self._reporters.report(dataclasses.replace(action, event_id=event_id))
        owner, command, call = route.owner, route.command, route.call
        if owner is None or command is None or call is None:
            return
        failure: list[bool] = []  # [timed out?] when the handler failed
        ctx = contexts.context(owner.name, event_id, now, config)
        actions = await self._call(owner, command.handler, call, ctx, failure)
        if failure:
            actions = [dataclasses.replace(
                self.commands.failed(call, command, event_id, timed_out=failure[0]),
                event_id=event_id)]
        for action in actions:
            await self._reporters.report(action)

    async def _call(self, plugin: Named, handler: Any, event: Any,
                    ctx: PluginContext, failure: list[bool] | None = None) -> Sequence[Action]:
        stats = self.stats.plugins.get(plugin.name)
        if stats is None:  # the command router's built-ins
            stats = self.stats.plugins[plugin.name] = PluginStats()
        stats.calls += 1
        started = time.perf_counter()
        try:
            actions = await _eager(handler(event, ctx), self._timeout)
        except TimeoutError:
            stats.timeouts += 1
            log.error("event %s: plugin %s timed out after %.0f s",
                      ctx.event_id, plugin.name, self._timeout)
            if failure is not None:
                failure.append(True)
            return ()
        except Exception:
            stats.errors += 1
            log.exception("event %s: plugin %s failed on %s",
                          ctx.event_id, plugin.name, _what(event))
            if failure is not None:
                failure.append(False)
            return ()
        finally:
            stats.seconds += time.perf_counter() - started
        if not actions:
            return ()
        stats.actions += len(actions)
        return [
            a if a.plugin and a.event_id
            else dataclasses.replace(a, plugin=a.plugin or plugin.name,
                                     event_id=a.event_id or ctx.event_id)
            for a in actions
        ]


def _what(event: Any) -> str:
    if isinstance(event, CommandCall):  # say which command, and who used it
        return f"command {event.name} (by {event.nick}, account {event.account})"
    return type(event).__name__


async def _eager(coro: Coroutine[Any, Any, Sequence[Action]], timeout: float
                 ) -> Sequence[Action]:
    """Run a handler; apply the timeout only if it actually has to wait.

    Most handlers decide without awaiting anything that suspends. Arming a timer
    for each of them costs more than the handler itself, so the coroutine is
    first stepped directly; only when it suspends is the rest of it run under
    `asyncio.timeout`, delegated with `yield from` exactly as a Task would.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration as done:
        result: Sequence[Action] = done.value
        return result
    except BaseException:
        coro.close()
        raise
    async with asyncio.timeout(timeout):
        rest: Sequence[Action] = await _Resumed(coro, waiting_on)
    return rest


class _Resumed:
    """An awaitable that continues a coroutine that already yielded `first`."""

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    return done.value
