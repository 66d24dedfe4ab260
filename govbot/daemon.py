"""`govbot run`: wire sources, plugins and reporters, and shut down cleanly.

Lifecycle (aiohttp's setup → start → cleanup is the model): every long-lived part
is entered in one AsyncExitStack and torn down in reverse order; the running
parts live in one TaskGroup. SIGTERM or SIGINT stops the sources first, then
waits for the dispatcher to finish what is in flight (bounded by
`drain_timeout`), so an accepted event is either finished or left in the durable
inbox for the next start — never half-posted and forgotten.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import msgspec

from govbot.actions import Action, AddReviewers, ReloadConfig, Vote, WriteMinutes
from govbot.clock import Clock, SystemClock
from govbot.commands import CommandRouter
from govbot.config.model import GovernanceConfig
from govbot.config.repo import ConfigHolder, ConfigRepo
from govbot.context import ConfigReload
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.events import ConfigRejected, ConfigReloaded, Event
from govbot.gerrit.service import GerritService
from govbot.health import PartStatus, Readiness
from govbot.intake import Intake
from govbot.irc.service import IrcService
from govbot.logs import setup_logging
from govbot.minutes import MinutesReporter
from govbot.plugin import NoGerrit, Plugin, PluginError, PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.preflight import StartupError, check, secret_refs
from govbot.reporters import (
    LoggingReporter,
    RecordingReporter,
    Reporter,
    ReporterError,
    ReporterSet,
)
from govbot.scheduler import Scheduler
from govbot.settings import Settings, SettingsError, check_plugin_settings, load_settings
from govbot.state.lease import FileLease, LeaseHeld
from govbot.state.reporter import StateReporter
from govbot.state.search import MinutesIndex
from govbot.state.store import StateError, StateStore
from govbot.status import DaemonStatus
from govbot.web import WebServer
from govbot.zuul.client import ZuulClient

log = logging.getLogger(__name__)

#: How many config reloads the board lists.
RECENT_RELOADS = 10

#: A source runs until cancelled, handing raw Gerrit lines to the intake.
Source = Callable[[], Coroutine[Any, Any, None]]


class _ConfigReporter:
    """Carries out `ReloadConfig` (the `reload` command, a merged config change)."""

    action_types: tuple[type[Action], ...] = (ReloadConfig,)

    def __init__(self, reload: Callable[[str, bool], Coroutine[Any, Any, None]]) -> None:
        self._reload = reload

    async def report(self, action: Action) -> None:
        reason = getattr(action, "reason", "") or f"asked by {action.plugin}"
        await self._reload(reason, True)


class _NoGerrit:
    """Takes Gerrit actions when no `gerrit:` section is set: says so, once per kind."""

    action_types: tuple[type[Action], ...] = (Vote, AddReviewers)

    def __init__(self) -> None:
        self._said: set[str] = set()

    async def report(self, action: Action) -> None:
        if action.kind not in self._said:
            self._said.add(action.kind)
            log.warning("%s from %s dropped: no gerrit: section in the settings",
                        action.kind, action.plugin)


class _Proposals:
    """`ProposalChecker` over the config holder: loads a change ref of the config repo."""

    def __init__(self, holder: ConfigHolder) -> None:
        self._holder = holder

    async def check_ref(self, ref: str) -> Sequence[str]:
        result = await self._holder.check_ref(ref)
        return [str(e) for e in result.errors]

    async def config_at(self, ref: str) -> tuple[GovernanceConfig | None, Sequence[str]]:
        result = await self._holder.check_ref(ref)
        return result.config, [str(e) for e in result.errors]

    async def config_with(self, files: Mapping[str, str]
                          ) -> tuple[GovernanceConfig | None, Sequence[str]]:
        result = await self._holder.check_files(files)
        return result.config, [str(e) for e in result.errors]


class Daemon:
    def __init__(self, settings: Settings, *, dry_run: bool = False,
                 drain_timeout: float = 30.0, plugins: Sequence[Plugin] | None = None,
                 clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._plugins = plugins  # tests and embedders; normally from the settings
        self.dry_run = dry_run
        self.drain_timeout = drain_timeout
        self.stopping = asyncio.Event()
        self.started = asyncio.Event()
        self.recorder = RecordingReporter()
        self.sources: list[tuple[str, Source]] = []
        self.intake: Intake | None = None
        self.dispatcher: Dispatcher | None = None
        self.config_holder: ConfigHolder | None = None
        self.web: WebServer | None = None
        self.gerrit: GerritService | None = None
        self.scheduler: Scheduler | None = None
        self.irc: IrcService | None = None
        self.zuul: ZuulClient | None = None
        self.store: StateStore | None = None
        #: More reporters (e.g. the minutes writer) for embedders and tests.
        self.extra_reporters: list[Reporter] = []
        self._config_ready = Readiness("config", reason="not loaded yet")
        #: Config reloads by outcome: loaded, unchanged, rejected (errors), failed (git).
        self.config_reloads: Counter[str] = Counter()
        #: The recent reloads that changed something or failed, newest first (the board).
        self.recent_reloads: deque[ConfigReload] = deque(maxlen=RECENT_RELOADS)
        self._running: list[Plugin] = []
        #: Open journals per plugin (the meetings in progress), refreshed per scrape.
        self.open_journals: dict[str, int] = {}

    async def refresh_metrics(self) -> None:
        """Read the numbers that live in the database, before `/metrics` is rendered."""
        if self.store is None:
            return
        for plugin in self._running:
            self.open_journals[plugin.name] = len(await self.store.open_journals(plugin.name))

    def plugin_counters(self) -> dict[str, Mapping[str, int]]:
        """Each running plugin's own counters (`Plugin.counters`), for `/metrics`."""
        return {p.name: p.counters() for p in self._running}

    def readiness(self) -> list[PartStatus]:
        """Each part's readiness (config, gerrit, irc), as `/readyz` shows it."""
        parts = [self._config_ready.status()]
        if self.gerrit is not None:
            parts.append(self.gerrit.readiness())
        if self.irc is not None:
            parts.append(self.irc.readiness())
        return parts

    def fault_counts(self) -> dict[str, Counter[str]]:
        """Permanent faults seen so far, by part and kind (the `/metrics` counter)."""
        counts: dict[str, Counter[str]] = {}
        if self.gerrit is not None:
            counts["gerrit"] = self.gerrit.faults
        if self.irc is not None:
            counts["irc"] = self.irc.faults
        return counts

    def stop(self) -> None:
        self.stopping.set()

    def reporters(self, store: StateStore) -> list[Reporter]:
        reporters: list[Reporter] = [StateReporter(store)]
        if self.dry_run:
            reporters += [self.recorder, LoggingReporter(prefix="dry-run: ")]
        return reporters

    async def run(self) -> int:
        s = self.settings
        problems = await asyncio.to_thread(check, s)  # before anything is created
        if problems:
            raise StartupError(*problems)
        async with AsyncExitStack() as stack:
            # One instance per state, before anything else (raises LeaseHeld).
            if s.state.path != ":memory:":
                lease = FileLease.for_state(s.state.path)
                await lease.acquire()
                stack.push_async_callback(lease.release)
            store = await stack.enter_async_context(StateStore(s.state.path))
            self.store = store
            if self.dry_run:
                log.warning("dry run: %snothing is posted to Gerrit (votes, reviewers) and "
                            "no minutes are written; each action is logged as 'dry-run: ...'",
                            "not connecting to IRC; " if s.irc is not None else "")
            plugins = (list(self._plugins) if self._plugins is not None
                       else load_plugins(s.plugins.enabled))
            self.store, self._running = store, plugins
            registry = PluginRegistry(plugins)  # built once: handlers, commands, sections
            commands = CommandRouter(registry.commands,
                                     prefix=s.irc.command_prefix if s.irc else "!")
            holder = ConfigHolder(
                ConfigRepo(s.governance.repo, s.governance.branch, s.governance.subdir,
                           Path(s.state.workdir) / "governance"),
                registry.config_sections(), layout=s.governance.layout.as_layout(),
            )
            self.config_holder = holder
            result = await holder.reload()
            self._remember_reload("start-up", "loaded" if holder.loaded else "rejected",
                                  holder.attempted_revision,
                                  tuple(str(e) for e in result.errors))
            if not holder.loaded:
                for error in result.errors:
                    log.error("config: %s", error)
                log.error("no valid governance config at %s (%s): not starting; fix the "
                          "errors above or run `govbot check-config`",
                          s.governance.repo, s.governance.branch)
                return 1
            self._config_ready.set(True)
            plugin_settings = self.plugin_settings(plugins)
            library = MinutesIndex(store)  # the minutes written, for the web pages
            gerrit = await self._gerrit(stack, store)
            if s.zuul is not None:
                self.zuul = ZuulClient.from_settings(s.zuul)
                stack.push_async_callback(self.zuul.close)
            contexts = ContextSource(
                config=lambda: holder.config,
                gerrit=gerrit.rest if gerrit is not None else NoGerrit(),
                state=store.reader,
                clock=lambda event: self.clock.now(),
                settings=plugin_settings,
                proposals=_Proposals(holder),
                ci=self.zuul,
                bot_nick=s.irc.nick if s.irc else "govbot",
                public_url=s.web.public_url or "",
                minutes=library,
                status=DaemonStatus(self),
            )
            irc = await self._irc(stack, plugins, holder, commands)
            contexts.irc = irc
            reporters = self.reporters(store)
            reporters.append(_ConfigReporter(self.reload_config))
            self.scheduler = Scheduler(store, self.clock, self._submit)
            reporters.append(self.scheduler)
            if gerrit is not None and not self.dry_run:
                reporters.append(gerrit.reporter)
            if irc is not None:
                reporters.append(irc.reporter)
            emitted = {t for p in registry.plugins for t in getattr(p, "emits", ())}
            if irc is not None:  # commands arrive only over IRC: the router's answers
                emitted.update(commands.emits)
            if WriteMinutes in emitted and not self.dry_run:
                # Each action says where and how (from its plugin's settings); this is
                # the default directory for one that does not.
                minutes = MinutesReporter(
                    Path(s.state.workdir) / "minutes",
                    on_written=lambda root, action: library.record(
                        root, action.meeting, action.files, restricted=action.restricted),
                    on_outcome=lambda event: self._submit(Envelope(event.id, event,
                                                                   event.lane)))
                stack.push_async_callback(minutes.aclose)
                reporters.append(minutes)
            if gerrit is None:
                # Without Gerrit, plugins that also comment on changes (meetings) still run.
                reporters.append(_NoGerrit())
            reporters.extend(self.extra_reporters)
            own = [u for u in [s.gerrit and s.gerrit.own_username] if u]
            dispatcher = Dispatcher(
                registry, ReporterSet(reporters, required=emitted), contexts,
                workers=s.dispatcher.workers, max_pending=s.dispatcher.max_pending,
                handler_timeout=s.dispatcher.handler_timeout, ignore_usernames=own,
                commands=commands if irc is not None else None,
                retry_attempts=s.dispatcher.retry_attempts,
                retry_min_delay=s.dispatcher.retry_min_delay,
                retry_max_delay=s.dispatcher.retry_max_delay,
            )
            intake = Intake(store, dispatcher, ignore_usernames=own,
                            settle_delay=s.gerrit.settle_delay if s.gerrit else 0.0,
                            observers=[gerrit.index.observe] if gerrit is not None else [])
            self.dispatcher, self.intake = dispatcher, intake
            web_server = WebServer(
                self, s.web.listen,
                routes=[(p.name, route) for p in plugins for route in p.web_routes()],
                context=lambda plugin, request_id: contexts.context(
                    plugin, request_id, self.clock.now(), holder.config),
                handler_timeout=s.dispatcher.handler_timeout, auth_header=s.web.auth_header)
            if gerrit is not None and gerrit.webhook is not None:
                gerrit.webhook.add_routes(web_server.app)
            self.web = await stack.enter_async_context(web_server)
            await self._serve(dispatcher, intake, holder)
        return 0

    def plugin_settings(self, plugins: Sequence[Plugin]) -> dict[str, msgspec.Struct]:
        """Each plugin's settings as its `settings_type` (checked when the file was
        loaded). Facts of the core a plugin needs (the bot's nick) reach it through the
        context, never by writing into a plugin's settings."""
        types = {p.name: p.settings_type for p in plugins}
        raw = {k: v for k, v in self.settings.plugins.settings.items() if k in types}
        return check_plugin_settings(raw, types)

    async def _gerrit(self, stack: AsyncExitStack, store: StateStore) -> GerritService | None:
        s = self.settings
        if s.gerrit is None:
            return None
        gerrit = GerritService(s.gerrit, store, self._accept, workdir=Path(s.state.workdir),
                               webhook_secret=s.web.webhook_secret.resolve("web.webhook_secret"))
        stack.push_async_callback(gerrit.close)
        if gerrit.stream is not None:
            self.sources.append(("gerrit-stream", gerrit.stream.run))
        self.gerrit = gerrit
        return gerrit

    async def _irc(self, stack: AsyncExitStack, plugins: Sequence[Plugin],
                   holder: ConfigHolder, commands: CommandRouter) -> IrcService | None:
        s = self.settings
        if s.irc is None or self.dry_run:
            return None  # a dry run says nothing anywhere

        def channels() -> list[str]:
            wanted = list(s.irc.channels) if s.irc else []
            config = holder.config
            wanted += [b.channel for b in config.bodies.values() if b.channel]
            for plugin in plugins:
                wanted += list(plugin.irc_channels(config))
            return list(dict.fromkeys(c.lower() for c in wanted))

        irc = await stack.enter_async_context(
            IrcService(s.irc, submit=self._submit, channels=channels, commands=commands))
        self.irc = irc
        return irc

    async def _submit(self, envelope: Envelope) -> None:
        assert self.dispatcher is not None
        await self.dispatcher.submit(envelope)

    async def _accept(self, source: str, lines: Sequence[bytes]) -> Sequence[object]:
        assert self.intake is not None
        kept = await self.intake.accept(source, lines)
        if self.gerrit is not None:  # for the event -> vote latency
            now = time.monotonic()
            for parsed in kept:
                self.gerrit.reporter.arrivals.mark(parsed.id, now)
        return kept

    async def _serve(self, dispatcher: Dispatcher, intake: Intake, holder: ConfigHolder) -> None:
        async with asyncio.TaskGroup() as group:
            core = [group.create_task(dispatcher.run(), name="dispatcher"),
                    group.create_task(intake.run(), name="inbox-flusher")]
            core.append(group.create_task(intake.release_settled(), name="settle"))
            await intake.recover()
            # Plugins schedule from the config (reminders) and catch up on what changed
            # while the bot was down (governance re-evaluates open changes). Handled
            # before the scheduler starts, so a wake-up that fell due meanwhile fires
            # against the plugins' up-to-date view, not concurrently with it.
            await dispatcher.submit(Envelope(f"ConfigReloaded-startup-{holder.revision[:12]}",
                                             ConfigReloaded("", holder.revision), "config"))
            await dispatcher.settled()  # not held up by a Gerrit that is down: retried
            assert self.scheduler is not None
            sources = [group.create_task(self.scheduler.run(), name="scheduler")]
            sources += [group.create_task(source(), name=f"source-{name}")
                        for name, source in self.sources]
            irc_task = (group.create_task(self.irc.run(), name="irc")
                        if self.irc is not None else None)
            sources.append(group.create_task(self._poll_config(holder), name="config-poller"))
            log.info("govbot running (config %s%s)", holder.revision[:12] or "directory",
                     ", dry run" if self.dry_run else "")
            self.started.set()
            await self.stopping.wait()
            log.info("stopping: closing sources, finishing %d event(s) in flight",
                     dispatcher.pending)
            for task in sources:
                task.cancel()
            dispatcher.drain()  # a transient failure now leaves its lane pending
            if self.irc is not None:
                self.irc.accepting = False  # no new commands; replies to earlier ones go out
            try:
                async with asyncio.timeout(self.drain_timeout):
                    await dispatcher.join()
            except TimeoutError:
                log.warning("stopping: %d event(s) not finished after %.0f s; they stay in "
                            "the inbox for the next start", dispatcher.pending,
                            self.drain_timeout)
            if self.irc is not None and irc_task is not None:
                self.irc.reporter.flush()  # announcements held for batching go out now
                if not await self.irc.drain(10.0):
                    log.warning("stopping: IRC messages still queued after 10 s are dropped")
                irc_task.cancel()  # sends QUIT
            for task in core:
                task.cancel()
        log.info("stopped")

    async def _poll_config(self, holder: ConfigHolder) -> None:
        interval = self.settings.governance.poll_interval
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            await self.reload_config("poll", False)

    def _remember_reload(self, reason: str, outcome: str, revision: str,
                         errors: tuple[str, ...]) -> None:
        self.recent_reloads.appendleft(ConfigReload(
            at=self.clock.now(), reason=reason, outcome=outcome, revision=revision,
            errors=errors[:50]))

    async def reload_config(self, reason: str, force: bool) -> None:
        """Fetch and load the config repo; tell the plugins what happened."""
        holder = self.config_holder
        if holder is None:
            return
        before, attempted = holder.revision, holder.last_result
        try:
            result = await holder.reload(force=force)
        except Exception as exc:
            self.config_reloads["failed"] += 1
            self._remember_reload(reason, "failed", holder.attempted_revision,
                                  (f"{type(exc).__name__}: {exc}",))
            log.exception("config reload (%s) failed; keeping %s", reason, holder.revision[:12])
            return
        if result is attempted and not force:
            self.config_reloads["unchanged"] += 1
            return  # the same revision as last time: nothing new to say
        outcome = "loaded" if result.config is not None else "rejected"
        self.config_reloads[outcome] += 1
        self._remember_reload(reason, outcome, holder.attempted_revision,
                              tuple(str(e) for e in result.errors))
        if result.config is None:
            event: Event = ConfigRejected(holder.attempted_revision, before,
                                           tuple(str(e) for e in result.errors))
        elif holder.revision != before or force:
            event = ConfigReloaded(before, holder.revision)
        else:
            return
        log.info("config reload (%s): %s", reason, type(event).__name__)
        await self._submit(Envelope(f"{type(event).__name__}-{holder.attempted_revision[:12]}",
                                    event, "config"))


def cmd_run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    redact = setup_logging(fmt=args.log_format or settings.log.format,
                           level=args.log_level or settings.log.level)
    redact.add(_secrets(settings))
    daemon = Daemon(settings, dry_run=args.dry_run)
    try:
        return asyncio.run(_main(daemon))
    except StartupError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except LeaseHeld as exc:
        log.error("%s", exc)
        return 1
    except (PluginError, ReporterError, StateError, SettingsError) as exc:
        # Start-up problems an operator fixes in the settings: a message, no traceback.
        log.error("%s", exc)
        return 2


async def _freeze_startup(daemon: Daemon) -> None:
    """Once the daemon runs: collect, then freeze what start-up left (modules, config,
    plugins) out of the cyclic collector's reach. Otherwise the first full collection
    comes with one of the first events and scans all of it: 38-54 ms on one vote
    (benchmarks/latency.py). A process-wide step, so done here, by `govbot run`'s own
    entry point, not by `Daemon.run` (a test process runs many daemons)."""
    await daemon.started.wait()
    gc.collect()
    gc.freeze()


async def _main(daemon: Daemon) -> int:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop)
    freeze = asyncio.create_task(_freeze_startup(daemon), name="freeze-start-up")
    try:
        return await daemon.run()
    finally:
        freeze.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)


def _secrets(settings: Settings) -> list[str | None]:
    found: list[str | None] = []
    for what, ref in secret_refs(settings):
        with contextlib.suppress(SettingsError):
            found.append(ref.resolve(what))
    return found
