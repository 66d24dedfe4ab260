"""The plugin API: plugins decide, reporters act.

A plugin declares the event classes it handles, the chat commands it offers and
the config sections it owns. A handler receives a typed event and a read-only
`PluginContext`, and returns actions; it never opens a socket and never writes
state itself (it returns a `Remember` action for that). That purity is what makes
`--dry-run`, `govbot replay` and fast tests possible. See docs/plugins.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import msgspec

from govbot.actions import Action
from govbot.config.model import GovernanceConfig, Person
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


class PluginSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of a plugin's operator settings (`plugins.settings.<name>`) and of the
    structs nested in them. Subclasses inherit `forbid_unknown_fields`, so a typo in
    the operator's file is a start-up error with FILE:LINE, never a silent default.
    Itself, it is the settings of a plugin that takes none: any key is an error."""


SettingsT = TypeVar("SettingsT", bound=msgspec.Struct)


class PluginContext(msgspec.Struct, frozen=True):
    """What one handler call may read. Built per call, so it must be cheap: a frozen
    msgspec struct is built in C, several times faster than a frozen dataclass."""

    plugin: str
    event_id: str
    config: GovernanceConfig
    gerrit: ChangeReader
    state: StateReader
    now: dt.datetime
    #: The operator's settings for this plugin, an instance of its `settings_type`.
    settings: msgspec.Struct = msgspec.field(default_factory=PluginSettings)
    proposals: ProposalChecker | None = None  # None when no config repo can be fetched
    irc: IrcReader | None = None  # None when IRC is off (replay, no irc: settings)
    ci: CiReader | None = None  # Zuul's live view; None without a zuul: section (replay)

    def settings_as(self, settings_type: type[SettingsT]) -> SettingsT:
        """`settings` typed as the plugin's own `settings_type`; its defaults when the
        context carries none (replay, benchmarks and unit tests build it without)."""
        settings = self.settings
        if isinstance(settings, settings_type):
            return settings
        if type(settings) is PluginSettings:
            return settings_type()
        raise TypeError(f"plugin {self.plugin}: settings are a {type(settings).__name__}, "
                        f"not a {settings_type.__name__}")


Handler = Callable[[Any, PluginContext], Awaitable[Sequence[Action]]]


@dataclass(frozen=True, slots=True)
class CommandCall:
    """One chat command, as the IRC source parsed it."""

    name: str
    args: str
    nick: str
    account: str | None  # services account, None when not logged in
    person: Person | None  # the config's person for that account
    channel: str | None  # None for a private message

    @property
    def reply_to(self) -> str:
        return self.channel or self.nick


CommandHandler = Callable[[CommandCall, PluginContext], Awaitable[Sequence[Action]]]


@dataclass(frozen=True, slots=True)
class Command:
    """Help is data: `help` prints it, docs are generated from it, examples are tested."""

    name: str
    handler: CommandHandler
    usage: str
    description: str
    examples: tuple[str, ...] = ()
    # None: anyone. Otherwise "BODY" (any member) or "BODY:ROLE" (e.g. "tc:chair").
    permission: str | None = None


class Plugin:
    """Base class for plugins. Override what you need; everything defaults to empty."""

    name: ClassVar[str] = ""
    #: The type of the operator's `plugins.settings.<name>`: a `PluginSettings` subclass
    #: with a default for every field. Checked at start-up; handlers get an instance as
    #: `ctx.settings` (read it with `ctx.settings_as(...)`). See docs/settings.md.
    settings_type: ClassVar[type[PluginSettings]] = PluginSettings
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
        self.commands: dict[str, tuple[Plugin, Command]] = {}
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
                if command.name in self.commands:
                    other = self.commands[command.name][0].name
                    raise PluginError(
                        f"command {command.name!r} is offered by both {other!r} "
                        f"and {plugin.name!r}"
                    )
                self.commands[command.name] = (plugin, command)

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

