"""Builders for the meetings tests: the plugin driven through its handlers, no I/O.

`Bot` plays the core: it turns each line into its one event with the core's command
router (a `#cmd` line becomes a command event), builds a `PluginContext` per event,
calls the plugin's handler (or its command handler) as the dispatcher would, and
feeds the `Append` actions into a `JournalState` (as the state reporter would write
them), so a second `Bot` over the same state is a restarted bot.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from govbot.actions import Action, Append, Remember, Say, SetTopic, Vote, WriteMinutes
from govbot.commands import CommandEvent, CommandRouter
from govbot.config.loader import load_config
from govbot.config.model import GovernanceConfig
from govbot.events import MinutesWritten, Wakeup
from govbot.irc.events import IrcJoin, IrcMessage, IrcNickChange
from govbot.plugin import PluginContext, PluginRegistry
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.meetings.settings import MeetingsSettings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "etc" / "governance"
CHANNEL = "#example-tc"
T0 = dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)  # a Thursday


class JournalState:
    """A StateReader whose journals are written by the plugin's Append actions."""

    def __init__(self) -> None:
        self.journals: dict[str, list[Any]] = {}
        self.closed: set[str] = set()
        self.values: dict[str, Any] = {}

    async def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def items(self, prefix: str) -> list[tuple[str, Any]]:
        return sorted((k, v) for k, v in self.values.items()
                      if k.startswith(prefix) and v is not None)

    async def journal(self, name: str) -> list[Any]:
        return list(self.journals.get(name, ()))

    async def open_journals(self) -> list[str]:
        return sorted(n for n in self.journals if n not in self.closed)

    def record(self, actions: Sequence[Action]) -> None:
        for action in actions:
            if isinstance(action, Append):
                if action.entry:  # through JSON, as the store keeps it
                    entry = json.loads(json.dumps(action.entry, sort_keys=True, default=str))
                    self.journals.setdefault(action.journal, []).append(entry)
                if action.close:
                    self.closed.add(action.journal)
            if isinstance(action, Remember):
                self.values[action.key] = action.value

    def jsonl(self, name: str) -> str:
        return "".join(json.dumps(e) + "\n" for e in self.journals[name])


@dataclass
class FakeIrc:
    accounts: dict[str, str | None] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)  # channel -> topic
    members: set[str] | None = None  # nicks in the channel; None: not known

    async def account_of(self, nick: str) -> str | None:
        return self.accounts.get(nick.lower())

    def topic_of(self, channel: str) -> str | None:
        return self.topics.get(channel.lower())

    def in_channel(self, channel: str, nick: str) -> bool | None:
        return None if self.members is None else nick.lower() in self.members


@dataclass
class FakeGerrit:
    changes: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def add(self, project: str, number: int, patchset: int = 1) -> None:
        info = {"project": project, "_number": number, "current_revision": f"rev{patchset}",
                "revisions": {f"rev{patchset}": {"_number": patchset}}}
        self.changes[f"{project}~{number}"] = info
        self.changes[str(number)] = info

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        self.calls.append(change)
        return self.changes.get(change)

    async def query(self, query: str, *, limit: int = 500) -> Sequence[Mapping[str, Any]]:
        return ()


@functools.cache
def _config(meetbot: str | None) -> GovernanceConfig:
    import tempfile
    root = Path(tempfile.mkdtemp(prefix="meetings-config-"))
    for name in ("people.yaml", "bodies.yaml"):
        shutil.copy(EXAMPLE / name, root / name)
    if meetbot is not None:
        (root / "meetbot.yaml").write_text(meetbot)
    result = load_config(root, PluginRegistry([MeetingsPlugin()]).config_sections())
    assert result.config is not None, result.errors
    return result.config


def example_config(meetbot: str | None = None) -> GovernanceConfig:
    """etc/governance's people and bodies (tc: 9 members, channel #example-tc)."""
    return _config(meetbot)


class Bot:
    def __init__(self, *, state: JournalState | None = None, settings: Mapping[str, Any] = (),
                 config: GovernanceConfig | None = None, irc: FakeIrc | None = None,
                 gerrit: FakeGerrit | None = None, plugin: MeetingsPlugin | None = None,
                 no_irc: bool = False, offers: Mapping[type, object] | None = None,
                 bot_nick: str = "govbot") -> None:
        self.state = state or JournalState()
        self.bot_nick = bot_nick
        self.settings = dict(settings or {"minutes_url": "https://meetings.example.org"})
        self.config = config or example_config()
        self.irc = None if no_irc else (irc or FakeIrc())
        self.gerrit = gerrit or FakeGerrit()
        self.plugin = plugin or MeetingsPlugin()
        self.offers = dict(offers or {})  # what other plugins offer (ctx.offer)
        self.router = CommandRouter(PluginRegistry([self.plugin]).commands)
        self.now = T0
        self.actions: list[Action] = []
        self._n = 0
        self.write_minutes = True  # False: no MinutesWritten follows a WriteMinutes

    def ctx(self) -> PluginContext:
        self._n += 1
        return PluginContext(plugin="meetings", event_id=f"ev-{self._n}", config=self.config,
                             gerrit=self.gerrit, state=self.state, now=self.now,
                             settings=msgspec.convert(self.settings, MeetingsSettings),
                             irc=self.irc, offers=self.offers, bot_nick=self.bot_nick)

    async def _run(self, handler: Any, event: Any) -> list[Action]:
        actions = list(await handler(event, self.ctx()))
        self.state.record(actions)
        self.actions += actions
        if self.write_minutes:
            # As the core's minutes reporter does when the files are written: the outcome,
            # next in the channel's lane.
            for action in [a for a in actions if isinstance(a, WriteMinutes) and a.key]:
                written = MinutesWritten("meetings", action.key, action.meeting,
                                         tuple(action.files), "", 1, action.lane)
                actions += await self._run(self.plugin.on_minutes_written, written)
        return actions

    async def say(self, nick: str, text: str, *, account: str | bool | None = True,
                  channel: str = CHANNEL, minutes: float = 0.5, action: bool = False
                  ) -> list[Action]:
        """`nick` says `text`; `account=True` means "logged in with an account = nick"."""
        self.now += dt.timedelta(minutes=minutes)
        acct = nick.lower() if account is True else (account or None)
        message = IrcMessage(target=channel, channel=channel, nick=nick, account=acct,
                             text=text, time=self.now, action=action)
        return await self.line(message)

    async def line(self, message: IrcMessage) -> list[Action]:
        """One IRC line, delivered as the dispatcher delivers it."""
        # As the IRC service: a line played back from history is never a command event.
        event = message if message.history else self.router.event_of(message, "govbot")
        if not isinstance(event, CommandEvent):
            return await self._run(self.plugin.on_message, event)
        route = self.router.route(event, self.config, self.now)
        if route.owner is self.plugin and route.command is not None:
            return await self._run(route.command.handler, route.call)
        return await self._run(self.plugin.on_other_command, event)

    async def nick_change(self, old: str, new: str, account: str | None = None) -> list[Action]:
        self.now += dt.timedelta(seconds=5)
        event = IrcNickChange(channel=CHANNEL, old=old, new=new, account=account, time=self.now)
        return await self._run(self.plugin.on_nick, event)

    async def join(self, nick: str = "govbot", channel: str = CHANNEL) -> list[Action]:
        return await self._run(self.plugin.on_join, IrcJoin(channel, nick, None, self.now))

    async def wakeup(self, key: str) -> list[Action]:
        return await self._run(self.plugin.on_wakeup, Wakeup("meetings", key, self.now))

    def restarted(self) -> Bot:
        """A new plugin instance (empty cache) over the same journals."""
        other = Bot(state=self.state, settings=self.settings, config=self.config, irc=self.irc,
                    gerrit=self.gerrit, offers=self.offers)
        other.now = self.now
        return other


def texts(actions: Sequence[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


def topics(actions: Sequence[Action]) -> list[str]:
    return [a.topic for a in actions if isinstance(a, SetTopic)]


def minutes(actions: Sequence[Action]) -> WriteMinutes:
    found = [a for a in actions if isinstance(a, WriteMinutes)]
    assert found, "no WriteMinutes"
    return found[-1]


def file_of(written: WriteMinutes, ext: str) -> str:
    return next(v for k, v in written.files.items() if k.endswith("." + ext)
                and not (ext in ("html", "txt") and k.endswith(".log." + ext)))


def votes(actions: Sequence[Action]) -> list[Vote]:
    return [a for a in actions if isinstance(a, Vote)]
