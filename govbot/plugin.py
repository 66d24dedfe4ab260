"""The plugin API: plugins decide, reporters act.

A plugin declares the event classes it handles, the chat commands it offers
(`Command`, from govbot.commands, re-exported here) and the config sections it
owns. A handler receives a typed event and a read-only `PluginContext`, and
returns actions; it never opens a socket and never writes
state itself (it returns a `Remember` action for that). That purity is what makes
`--dry-run`, `govbot replay` and fast tests possible. See docs/plugins.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

import msgspec

from govbot.actions import Action

# The command types live in govbot.commands; plugins import them from here.
from govbot.commands import BUILTIN, Syntax
from govbot.commands import Command as Command
from govbot.commands import CommandCall as CommandCall
from govbot.commands import CommandHandler as CommandHandler
from govbot.config.model import GovernanceConfig
from govbot.config.sections import ConfigSection
from govbot.zuul.model import CiReader


class ChangeReader(Protocol):
    """Read-only Gerrit access. Results are Gerrit's REST JSON (ChangeInfo)."""

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        """Return the change `project~number` with labels, revisions and messages."""

    async def query(self, query: str, *, limit: int = 500) -> Sequence[Mapping[str, Any]]:
        """Run a change query (all pages, up to `limit`)."""


class StateReader(Protocol):
    """Read-only view of the plugin's own namespace in the state store."""

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored with `Remember(key=...)` by this plugin."""

    async def journal(self, name: str) -> list[Any]:
        """The entries appended with `Append(journal=name)`, in order."""

    async def open_journals(self) -> list[str]:
        """Journals of this plugin with entries that were never closed."""


class IrcReader(Protocol):
    """Read-only IRC facts a plugin may need (e.g. `#chair NICK` resolves an account)."""

    async def account_of(self, nick: str) -> str | None:
        """The services account `nick` is logged in as right now (None: not logged in)."""


class ProposalChecker(Protocol):
    """Loads a proposed governance config (a Gerrit change of the config repo)."""

    async def check_ref(self, ref: str) -> Sequence[str]:
        """Return the `FILE:LINE: message` errors of the config at `ref` (empty: valid)."""


class NoGerrit:
    """A ChangeReader for contexts without Gerrit (replay of recorded events)."""

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        return None

    async def query(self, query: str, *, limit: int = 500) -> Sequence[Mapping[str, Any]]:
        return ()


class MemoryState:
    """A StateReader over plain dicts (replay, tests)."""

    def __init__(self, values: Mapping[str, Any] | None = None,
                 journals: Mapping[str, list[Any]] | None = None) -> None:
        self._values = dict(values or {})
        self._journals = {k: list(v) for k, v in (journals or {}).items()}

    async def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    async def journal(self, name: str) -> list[Any]:
        return list(self._journals.get(name, ()))

    async def open_journals(self) -> list[str]:
        return sorted(self._journals)


class PluginContext(msgspec.Struct, frozen=True):
    """What one handler call may read. Built per call, so it must be cheap: a frozen
    msgspec struct is built in C, several times faster than a frozen dataclass."""

    plugin: str
    event_id: str
    config: GovernanceConfig
    gerrit: ChangeReader
    state: StateReader
    now: dt.datetime
    settings: Mapping[str, Any] = msgspec.field(default_factory=dict)  # operator settings
    proposals: ProposalChecker | None = None  # None when no config repo can be fetched
    irc: IrcReader | None = None  # None when IRC is off (replay, no irc: settings)
    ci: CiReader | None = None  # Zuul's live view; None without a zuul: section (replay)


Handler = Callable[[Any, PluginContext], Awaitable[Sequence[Action]]]


class Plugin:
    """Base class for plugins. Override what you need; everything defaults to empty."""

    name: ClassVar[str] = ""
    #: Action types this plugin may return; start-up checks each has a reporter.
    emits: ClassVar[tuple[type[Action], ...]] = ()

    def handlers(self) -> Mapping[type, Handler]:
        """Event class -> handler. A handler for a base class gets its subclasses too."""
        return {}

    def commands(self) -> Sequence[Command]:
        return ()

    def config_sections(self) -> Sequence[ConfigSection]:
        return ()

    def irc_channels(self, config: GovernanceConfig) -> Iterable[str]:
        """IRC channels this plugin needs joined under `config` (announcement targets)."""
        return ()


class PluginError(Exception):
    """A plugin set that cannot work together (duplicate names or commands)."""


class PluginRegistry:
    """One registry keyed by event class; the dispatcher asks it, never string-matches."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self.plugins = tuple(plugins)
        self._declared: list[tuple[type, Plugin, Handler]] = []
        self._by_type: dict[type, tuple[tuple[Plugin, Handler], ...]] = {}
        #: (syntax, lower-cased name or alias) -> the one plugin offering it, and the command
        self.commands: dict[tuple[Syntax, str], tuple[Plugin, Command]] = {}
        names: set[str] = set()
        for plugin in self.plugins:
            if not plugin.name:
                raise PluginError(f"{type(plugin).__qualname__} has no name")
            if plugin.name in names:
                raise PluginError(f"two plugins are named {plugin.name!r}")
            names.add(plugin.name)
            for event_type, handler in plugin.handlers().items():
                self._declared.append((event_type, plugin, handler))
            for command in plugin.commands():
                self._add_command(plugin, command)

    def _add_command(self, plugin: Plugin, command: Command) -> None:
        shown = f"{command.sigil}{command.name}"
        for name in (command.name, *command.aliases):
            key = (command.syntax, name.lower())
            if command.syntax == "chat" and key[1] in BUILTIN:
                raise PluginError(f"command(s) {key[1]} are built into the router "
                                  f"(offered by {plugin.name!r})")
            if key in self.commands:
                other = self.commands[key][0].name
                raise PluginError(f"command {shown!r} ({command.sigil}{name}) is offered by "
                                  f"both {other!r} and {plugin.name!r}")
            self.commands[key] = (plugin, command)

    def handlers_for(self, event_type: type) -> tuple[tuple[Plugin, Handler], ...]:
        """Handlers for an event class, in plugin order; resolved once per class."""
        found = self._by_type.get(event_type)
        if found is None:
            found = tuple(
                (plugin, handler)
                for declared, plugin, handler in self._declared
                if issubclass(event_type, declared)
            )
            self._by_type[event_type] = found
        return found

    def config_sections(self) -> list[tuple[str, ConfigSection]]:
        return [(p.name, s) for p in self.plugins for s in p.config_sections()]

    def by_name(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)

