"""The dispatcher: per-change order, global concurrency, bounded memory.

Each event carries a *lane* (`change:project~42`, `ref:project:refs/tags/x`, an IRC
channel, ...). Events in one lane are handled strictly one after another, so a
change's votes are decided and posted in the order its events arrived; different
lanes are served concurrently by a fixed pool of workers. At most `max_pending`
events wait at once: `submit` blocks when the dispatcher is full, which pushes
back on the source (whose own inbox is durable) instead of growing memory.

Every plugin call is isolated: a timeout, an exception logged with the event id,
and per-plugin counters. One plugin's failure never skips the plugins after it.

Transient failures are retried, permanent ones are told: a plugin call that raises
`TransientReadError` (a read that failed for a reason that passes: Gerrit 5xx or
timeouts, the state database busy), or whose actions a reporter could not carry out
for such a reason, leaves its event pending. The lane of that change waits (no worker
is held: a timer puts the lane back), other lanes proceed, and after a backoff only
the plugins that failed are called again. After `retry_attempts` tries the event is
*parked* (`on_parked`, a metric, one log line): the lane moves on, and the event is
tried again in front of the next event of its lane, or when `retry_parked` is called
(`govbot inbox retry`). While draining (shutdown), a transient failure is not retried:
its lane is left pending in the inbox, in order, for the next start. Any other
exception is permanent: logged once with the event id, never retried.

Chat and MeetBot commands are events too (`govbot.commands.CommandEvent`, in the
lane of their channel): the router decides who handles one, and the dispatcher
calls that plugin's command handler like any other handler (same lane order,
timeout and stats). Plugins with a handler for `CommandEvent` itself (a meeting
journals every line) see each command event first, except the one they offer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import AsyncGeneratorType
from typing import Any

from govbot.actions import Action
from govbot.backoff import backoff
from govbot.commands import CommandCall, CommandEvent, CommandRouter, Named
from govbot.context_source import NO_SETTINGS as NO_SETTINGS
from govbot.context_source import ContextSource as ContextSource
from govbot.eager import eager as _eager
from govbot.eager import resume as _resume
from govbot.events import Event
from govbot.plugin import PluginContext, PluginRegistry, TransientReadError
from govbot.reporters import ReporterSet
from govbot.routing import Routes

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Envelope:
    """An event on its way through the dispatcher.

    `on_done` is called once every plugin has handled the event and every action
    was reported (the durable inbox uses it to mark the event done); `on_parked(why)`
    when the event is parked after its transient failures (the inbox records it).
    """

    id: str
    event: Event
    lane: str
    on_done: Callable[[], Awaitable[None]] | None = None
    on_parked: Callable[[str], Awaitable[None]] | None = None
    #: Transient failures so far, and the plugins still to call (None: all of them).
    attempts: int = 0
    remaining: frozenset[str] | None = None
    error: str = ""  # the last transient failure, for the log and `govbot inbox list`


@dataclass(slots=True)
class PluginStats:
    calls: int = 0
    errors: int = 0
    timeouts: int = 0
    transient: int = 0  # calls (or their reporting) that failed transiently: retried
    actions: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class DispatchStats:
    handled: int = 0
    retries: int = 0  # events put back into their lane after a transient failure
    parked: int = 0  # events parked after `retry_attempts` tries (counted each time)
    abandoned: int = 0  # events left pending in the inbox by a drain
    plugins: dict[str, PluginStats] = field(default_factory=dict)


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
        retry_attempts: int = 8,
        retry_min_delay: float = 1.0,
        retry_max_delay: float = 60.0,
    ) -> None:
        if workers < 1 or max_pending < 1 or retry_attempts < 1:
            raise ValueError("workers, max_pending and retry_attempts must be at least 1")
        self._registry = registry
        self._routes = Routes(registry, contexts.context)
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
        #: Past this many events in flight, `submit` lets the workers run before it
        #: queues more: events are handled while their memory is still in the CPU's
        #: cache, and a long catch-up does not build up thousands of queued events
        #: (each costing more to free the longer it waited) before the first is
        #: handled. `max_pending` stays the hard bound on memory.
        self._soft_pending = min(max_pending, max(256, 16 * workers))
        self._space = asyncio.Event()
        self._lanes: dict[str, deque[Envelope]] = {}
        #: Lanes waiting for a worker, and the workers waiting for a lane (a lane is
        #: handed to a waiting worker directly: cheaper than an asyncio.Queue).
        self._ready: deque[str] = deque()
        self._free: deque[asyncio.Future[str]] = deque()
        self._unfinished = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._retry_attempts = retry_attempts
        self._retry_delays = (retry_min_delay, retry_max_delay)
        #: Lanes waiting out a backoff: the timer that puts each back.
        self._waiting: dict[str, asyncio.TimerHandle] = {}
        #: Parked events by lane, in order: tried again with the lane's next event.
        self._parked: dict[str, list[Envelope]] = {}
        self._draining = False
        self._progress = asyncio.Event()  # set when an event finishes or a lane waits
        self.stats = DispatchStats()
        for plugin in registry.plugins:
            self.stats.plugins[plugin.name] = PluginStats()
        if commands is not None:  # its built-ins and failures are counted as one plugin
            self.stats.plugins.setdefault(commands.name, PluginStats())

    async def submit(self, envelope: Envelope) -> None:
        """Queue one event; waits while `max_pending` events are already queued.

        Events parked in its lane go first: the next event of a change retries them.
        An event no plugin handles (`Routes`: its class, its project) is finished at
        once, unless earlier events of its lane are still waiting."""
        while self._unfinished >= self._max_pending:
            self._space.clear()
            await self._space.wait()
        name = envelope.lane
        if name not in self._lanes and name not in self._parked and not self.wanted(
                envelope.event):
            self.stats.handled += 1
            if envelope.on_done is not None:
                await envelope.on_done()
            return
        for parked in self._parked.pop(name, ()):
            parked.attempts = 0
            self._enqueue(parked)
        self._enqueue(envelope)
        if self._unfinished >= self._soft_pending:
            await asyncio.sleep(0)  # one turn of the loop: the workers take what is queued

    def wanted(self, event: Event) -> bool:
        """Whether any plugin would be called for `event` now (`Plugin.wants`); a
        source may skip an unwanted event before it builds an envelope for it."""
        if type(event) is CommandEvent:
            return True  # the command router decides, with the registry's commands
        return bool(self._routes.handlers(event, self._contexts.config()))

    def wanted_kind(self, event_type: type, project: str | None) -> bool:
        """`wanted` for any event of `event_type` about `project` (None: about no one
        project), for a source that has not decoded the event yet
        (`EventParser.decode_wanted`). Commands are always wanted."""
        return event_type is CommandEvent or bool(
            self._routes.for_kind(event_type, project, self._contexts.config()))

    def _enqueue(self, envelope: Envelope) -> None:
        self._unfinished += 1
        self._idle.clear()
        lane = self._lanes.get(envelope.lane)
        if lane is not None:
            lane.append(envelope)
        else:
            self._lanes[envelope.lane] = deque((envelope,))
            self._make_ready(envelope.lane)

    def park(self, envelope: Envelope) -> None:
        """Hold an event parked by an earlier run (the inbox's recovery): it is tried
        with the next event of its lane, or by `retry_parked`."""
        self._parked.setdefault(envelope.lane, []).append(envelope)

    def parked(self) -> list[Envelope]:
        return [e for lane in self._parked.values() for e in lane]

    def retry_parked(self, ids: set[str] | None = None) -> int:
        """Queue the parked events with these ids (None: all) again; returns how many."""
        count = 0
        for name in list(self._parked):
            keep: list[Envelope] = []
            for envelope in self._parked[name]:
                if ids is None or envelope.id in ids:
                    envelope.attempts = 0
                    self._enqueue(envelope)
                    count += 1
                else:
                    keep.append(envelope)
            if keep:
                self._parked[name] = keep
            else:
                del self._parked[name]
        return count

    def drain(self) -> None:
        """Shutdown: stop retrying. Lanes waiting out a backoff are left pending in the
        inbox (in order, for the next start) at once; a transient failure from now on
        does the same to its lane instead of waiting."""
        self._draining = True
        for name, timer in list(self._waiting.items()):
            timer.cancel()
            del self._waiting[name]
            self._abandon(name)

    async def join(self) -> None:
        """Wait until every submitted event has been handled and reported."""
        await self._idle.wait()

    async def settled(self) -> None:
        """Wait until every submitted event is handled, parked, or in a lane waiting out
        a backoff (start-up: a Gerrit that is down must not keep the sources from
        starting)."""
        while self._unfinished > sum(len(self._lanes.get(n, ())) for n in self._waiting):
            self._progress.clear()
            await self._progress.wait()

    @property
    def pending(self) -> int:
        return self._unfinished

    async def run(self) -> None:
        """Serve lanes until cancelled. Cancel it only after `join()` to lose nothing."""
        async with asyncio.TaskGroup() as group:
            for n in range(self._workers):
                group.create_task(self._serve(), name=f"dispatch-worker-{n}")

    def _make_ready(self, name: str) -> None:
        free = self._free
        while free:
            waiter = free.popleft()
            if not waiter.done():  # a cancelled worker's waiter is skipped
                waiter.set_result(name)
                return
        self._ready.append(name)

    async def _serve(self) -> None:
        while True:
            if self._ready:
                name = self._ready.popleft()
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._free.append(waiter)
                try:
                    name = await waiter
                except BaseException:
                    if waiter.done() and not waiter.cancelled():
                        self._ready.appendleft(waiter.result())  # handed over: not lost
                    raise
            lane = self._lanes.get(name)
            while lane:
                # The envelope stays at the head while it is handled, so a concurrent
                # submit for this lane appends behind it instead of opening a new lane.
                envelope = lane[0]
                failed: dict[str, str] = {}
                try:
                    failed = await self._process(envelope)
                except Exception:
                    # Reporters and inbox callbacks isolate their own failures; this is
                    # the last guard so that one event can never stall its lane.
                    log.exception("event %s: dispatch failed", envelope.id)
                if failed and await self._transient(name, envelope, failed):
                    break  # the lane waits (or was left pending): serve another one
                lane.popleft()
                self._finish()
            else:
                if lane is not None:
                    del self._lanes[name]

    async def _transient(self, name: str, envelope: Envelope, failed: dict[str, str]
                         ) -> bool:
        """After a transient failure: True when the lane waits for a retry (or was left
        pending by a drain), False when the event was parked and the lane moves on."""
        envelope.attempts += 1
        envelope.remaining = frozenset(failed)
        envelope.error = "; ".join(f"{p}: {e}" for p, e in sorted(failed.items()))
        if self._draining:
            self._abandon(name)
            return True
        if envelope.attempts < self._retry_attempts:
            self.stats.retries += 1
            wait = backoff(envelope.attempts, *self._retry_delays)
            log.log(logging.INFO if envelope.attempts == 1 else logging.DEBUG,
                    "event %s: transient failure (%s); try %d of %d in %.1f s, lane %s "
                    "waits", envelope.id, envelope.error, envelope.attempts + 1,
                    self._retry_attempts, wait, name)
            self._waiting[name] = asyncio.get_running_loop().call_later(
                wait, self._wake_lane, name)
            self._progress.set()
            return True
        self.stats.parked += 1
        log.warning("event %s: parked after %d tries (%s); tried again with the next event "
                    "of %s or by `govbot inbox retry`", envelope.id, envelope.attempts,
                    envelope.error, name)
        self._parked.setdefault(name, []).append(envelope)
        if envelope.on_parked is not None:
            try:
                await envelope.on_parked(envelope.error)
            except Exception:
                log.exception("event %s: could not record it as parked", envelope.id)
        return False

    def _wake_lane(self, name: str) -> None:
        self._waiting.pop(name, None)
        self._make_ready(name)

    def _abandon(self, name: str) -> None:
        """Drop a lane from this run, its events left pending in the inbox."""
        lane = self._lanes.pop(name, None)
        if not lane:
            return
        log.warning("stopping: %d event(s) of %s left pending after a transient failure "
                    "(%s)", len(lane), name, lane[0].error)
        self.stats.abandoned += len(lane)
        self._unfinished -= len(lane)
        self._space.set()
        self._progress.set()
        if self._unfinished == 0:
            self._idle.set()

    def _finish(self) -> None:
        self._unfinished -= 1
        self._space.set()
        self._progress.set()
        self.stats.handled += 1
        if self._unfinished == 0:
            self._idle.set()

    async def _process(self, envelope: Envelope) -> dict[str, str]:
        """Handle one event; returns the plugins that failed transiently (and why)."""
        event = envelope.event
        actor = event.actor if self._ignore else None
        failed: dict[str, str] = {}
        if actor is not None and actor.username in self._ignore:
            # Our own votes come back as comment-added: reacting to them loops.
            log.debug("event %s: caused by the bot itself, ignored", envelope.id)
        elif type(event) is CommandEvent:
            try:
                await self._command(envelope.id, event)
            except TransientReadError:  # a reply is not worth holding the channel's lane
                log.exception("event %s: a command's action failed (transient; commands "
                              "are not retried)", envelope.id)
        else:
            contexts = self._contexts
            config = contexts.config()
            handlers = self._routes.handlers(event, config)
            if handlers:
                now = contexts.clock(event)
                remaining = envelope.remaining
                for plugin, handler in handlers:
                    if remaining is not None and plugin.name not in remaining:
                        continue  # done on an earlier try
                    ctx = contexts.context(plugin.name, envelope.id, now, config)
                    try:
                        for action in await self._call(plugin, handler, event, ctx,
                                                       retry=True):
                            await self._reporters.report(action)
                    except TransientReadError as exc:
                        self.stats.plugins[plugin.name].transient += 1
                        failed[plugin.name] = f"{type(exc).__name__}: {exc}"[:300]
        if failed:
            return failed
        if envelope.on_done is not None:
            await envelope.on_done()
        return failed

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
                    ctx: PluginContext, failure: list[bool] | None = None, *,
                    retry: bool = False) -> Sequence[Action]:
        """One handler call, isolated. A `TransientReadError` is raised to the caller
        when it will `retry`, else it is a failure like any other.

        A handler that is an async generator streams: each action it yields is reported
        as it comes (memory bounded by what it holds, not by all it decides), and ()
        is returned. The timeout then bounds its own time, not the reporting; a failure
        midway is handled as a handler's, after the actions before it were reported."""
        stats = self.stats.plugins.get(plugin.name)
        if stats is None:  # the command router's built-ins
            stats = self.stats.plugins[plugin.name] = PluginStats()
        stats.calls += 1
        started = time.perf_counter()
        stream: AsyncGenerator[Action, None] | None = None
        left, reporting = self._timeout, 0.0
        try:
            call = handler(event, ctx)
            if type(call) is not AsyncGeneratorType:
                # Stepped here, not in a task: most handlers decide without waiting, and
                # a timer (asyncio.timeout) is armed only for one that does (govbot.eager).
                try:
                    waiting_on = call.send(None)
                except StopIteration as done:
                    actions = done.value
                else:
                    actions = await _resume(call, waiting_on, self._timeout)
            else:
                stream, actions = call, ()
                while True:
                    step = time.perf_counter()
                    try:
                        action = await _eager(stream.__anext__(), left)
                    except StopAsyncIteration:
                        break
                    left -= time.perf_counter() - step
                    stats.actions += 1
                    step = time.perf_counter()
                    await self._reporters.report(_stamped(action, plugin.name, ctx.event_id))
                    reporting += time.perf_counter() - step
        except TimeoutError:
            stats.timeouts += 1
            log.error("event %s: plugin %s timed out after %.0f s",
                      ctx.event_id, plugin.name, self._timeout)
            if failure is not None:
                failure.append(True)
            return ()
        except TransientReadError:
            if retry:
                raise
            stats.errors += 1
            log.exception("event %s: plugin %s failed on %s (transient; commands are not "
                          "retried)", ctx.event_id, plugin.name, _what(event))
            if failure is not None:
                failure.append(False)
            return ()
        except Exception:
            stats.errors += 1
            log.exception("event %s: plugin %s failed on %s",
                          ctx.event_id, plugin.name, _what(event))
            if failure is not None:
                failure.append(False)
            return ()
        finally:
            stats.seconds += time.perf_counter() - started - reporting
            if stream is not None:
                await stream.aclose()  # a reporter's failure left it suspended at a yield
        if not actions:
            return ()
        stats.actions += len(actions)
        return [_stamped(a, plugin.name, ctx.event_id) for a in actions]


def _stamped(action: Action, plugin: str, event_id: str) -> Action:
    """The action with the plugin and event that produced it, unless it names them."""
    if action.plugin and action.event_id:
        return action
    return dataclasses.replace(action, plugin=action.plugin or plugin,
                               event_id=action.event_id or event_id)


def _what(event: Any) -> str:
    if isinstance(event, CommandCall):  # say which command, and who used it
        return f"command {event.name} (by {event.nick}, account {event.account})"
    return type(event).__name__
