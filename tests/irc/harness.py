"""Shared pieces for the IRC tests: a bot on a real server, waiting with deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from govbot.actions import Action
from govbot.commands import CommandRouter
from govbot.config.model import Body, GovernanceConfig, Person
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.irc.events import IrcMessage
from govbot.irc.service import IrcService, IrcTuning
from govbot.plugin import MemoryState, NoGerrit, Plugin, PluginRegistry
from govbot.reporters import RecordingReporter, ReporterSet
from govbot.settings import IrcRate, IrcSettings
from tests.helpers import eventually as eventually  # the IRC tests' import of it

#: Fast reconnects and keepalive for tests; production defaults are in IrcTuning.
FAST = IrcTuning(connect_timeout=5, registration_timeout=10, reconnect_min=0.2,
                 reconnect_max=1.0, auth_retry_min=1.0, whois_timeout=3.0,
                 identify_timeout=3.0, maintenance_interval=0.3, quit_timeout=1.0)


def settings(host: str, port: int | None = None, **kw: Any) -> IrcSettings:
    kw.setdefault("rate", IrcRate(burst=10, per_second=100.0))
    kw.setdefault("tls", False)
    if port is not None:
        kw["port"] = port
    return IrcSettings(host=host, **kw)




@dataclass
class Received:
    """Envelopes the service submitted, for tests that do not need a dispatcher."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def submit(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def messages(self, text: str | None = None) -> list[IrcMessage]:
        return [e.event for e in self.envelopes if isinstance(e.event, IrcMessage)
                and (text is None or e.event.text == text)]

    async def message(self, text: str, timeout: float = 5.0) -> IrcMessage:
        await eventually(lambda: bool(self.messages(text)), timeout, f"message {text!r}")
        return self.messages(text)[0]


@contextlib.asynccontextmanager
async def running_bot(irc_settings: IrcSettings, *, tuning: IrcTuning = FAST,
                      received: Received | None = None,
                      connected: bool = True) -> AsyncIterator[IrcService]:
    """An IrcService running in a task; waits until connected unless told not to."""
    received = received or Received()
    async with IrcService(irc_settings, submit=received.submit, tuning=tuning) as irc:
        task = asyncio.create_task(irc.run())
        try:
            if connected:
                await irc.wait_connected(15)
            yield irc
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@dataclass
class Pipeline:
    """IRC -> command events -> dispatcher -> plugins -> reporters (IRC + a recorder)."""

    irc: IrcService
    dispatcher: Dispatcher
    recorder: RecordingReporter
    router: CommandRouter


@contextlib.asynccontextmanager
async def running_pipeline(irc_settings: IrcSettings, config: GovernanceConfig, *,
                           plugins: Sequence[Plugin] = (), tuning: IrcTuning = FAST
                           ) -> AsyncIterator[Pipeline]:
    """The whole path a command takes in the daemon, against a real server."""
    contexts = ContextSource(config=lambda: config, gerrit=NoGerrit(),
                             state=lambda plugin: MemoryState(),
                             clock=lambda event: dt.datetime.now(dt.UTC))
    registry = PluginRegistry(list(plugins))
    router = CommandRouter(registry.commands, prefix=irc_settings.command_prefix)
    recorder = RecordingReporter()
    submit_to: list[Dispatcher] = []

    async def submit(envelope: Envelope) -> None:
        await submit_to[0].submit(envelope)

    async with IrcService(irc_settings, submit=submit, tuning=tuning, commands=router) as irc:
        reporters = ReporterSet([irc.reporter, recorder])
        dispatcher = Dispatcher(registry, reporters, contexts, commands=router)
        submit_to.append(dispatcher)
        tasks = [asyncio.create_task(dispatcher.run()), asyncio.create_task(irc.run())]
        try:
            await irc.wait_connected(15)
            yield Pipeline(irc, dispatcher, recorder, router)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def governance(*people: Person, admins: Sequence[str] = (), **bodies: Body) -> GovernanceConfig:
    """A config with `people`, an `admins` body of the given person ids, and `bodies`."""
    all_bodies = {"admins": Body(id="admins", name="Administrators", members=tuple(admins)),
                  **bodies}
    return GovernanceConfig(people={p.id: p for p in people}, bodies=all_bodies, teams={},
                             sections={})


def of_type(actions: Sequence[Action], kind: type[Action]) -> list[Action]:
    return [a for a in actions if isinstance(a, kind)]
