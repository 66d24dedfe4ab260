"""The plugin API: plugins decide, reporters act.

A plugin declares the event classes it handles, the chat commands it offers
(`Command`, from govbot.commands, re-exported here) and the config sections it
owns. A handler receives a typed event and a read-only `PluginContext`, and
returns actions; it never opens a socket and never writes
state itself (it returns a `Remember` action for that). That purity is what makes
`--dry-run`, `govbot replay` and fast tests possible. See docs/plugins.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from govbot.actions import Action

# The command types live in govbot.commands; plugins import them from here.
from govbot.commands import BUILTIN, Syntax
from govbot.commands import Command as Command
from govbot.commands import CommandCall as CommandCall
from govbot.commands import CommandHandler as CommandHandler
from govbot.config.model import GovernanceConfig
from govbot.config.sections import ConfigSection
from govbot.context import ChangeReader as ChangeReader
from govbot.context import IrcReader as IrcReader
from govbot.context import MemoryState as MemoryState
from govbot.context import NoGerrit as NoGerrit
from govbot.context import PluginContext as PluginContext
from govbot.context import PluginSettings as PluginSettings
from govbot.context import ProposalChecker as ProposalChecker
from govbot.context import StateReader as StateReader
from govbot.context import TransientReadError as TransientReadError

if TYPE_CHECKING:
    from govbot.extensions import CliCommand, WebRoute


#: `async def` returning its actions, or an async generator yielding them one by one
#: (the dispatcher reports each as it comes: for handlers deciding thousands of them).
Handler = Callable[[Any, PluginContext], Awaitable[Sequence[Action]] | AsyncIterator[Action]]


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

    def wants(self, event_type: type, project: str, ctx: PluginContext) -> bool:
        """Whether events of `event_type` about `project` can matter to this plugin under
        `ctx.config` (and its settings). False: the dispatcher does not call it for them.

        Asked once per (event class, project, loaded config) and remembered, so the
        answer must depend on nothing else (not the event's other fields, not the
        clock). Most of a big Gerrit's events are about projects no plugin acts on;
        answered here, such an event costs a dictionary look-up instead of a handler
        call per plugin (issue #18). Events without a project (IRC, wake-ups, config
        reloads) are not asked about. The default wants everything.
        """
        return True

    def commands(self) -> Sequence[Command]:
        return ()

    def config_sections(self) -> Sequence[ConfigSection]:
        return ()

    def irc_channels(self, config: GovernanceConfig) -> Iterable[str]:
        """IRC channels this plugin needs joined under `config` (announcement targets)."""
        return ()

    def offers(self) -> Mapping[type, object]:
        """Protocol (of govbot.offers) -> this plugin's implementation of it, for the
        other plugins (`ctx.offer(Protocol)`). Called once, when the registry is built."""
        return {}
    def cli_commands(self) -> Sequence[CliCommand]:
        """`govbot` subcommands this plugin offers (see govbot.extensions)."""
        return ()

    def web_routes(self) -> Sequence[WebRoute]:
        """Pages this plugin serves on the daemon's web server (see govbot.extensions)."""
        return ()

    def counters(self) -> Mapping[str, int]:
        """Counts since start an operator may alert on (e.g. reminders sent, dropped):
        `/metrics` shows them as `govbot_plugin_counter_total{plugin, counter}`."""
        return {}


class PluginError(Exception):
    """A plugin set that cannot work together (duplicate names, commands or offers)."""


class PluginRegistry:
    """One registry keyed by event class; the dispatcher asks it, never string-matches."""

    def __init__(self, plugins: Sequence[Plugin]) -> None:
        self.plugins = tuple(plugins)
        self._declared: list[tuple[type, Plugin, Handler]] = []
        self._by_type: dict[type, tuple[tuple[Plugin, Handler], ...]] = {}
        #: (syntax, lower-cased name or alias) -> the one plugin offering it, and the command
        self.commands: dict[tuple[Syntax, str], tuple[Plugin, Command]] = {}
        #: Protocol -> implementation, one provider each (what `ctx.offer` answers).
        self.offers: dict[type, object] = {}
        offered_by: dict[type, str] = {}
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
            for protocol, implementation in plugin.offers().items():
                name = getattr(protocol, "__name__", repr(protocol))
                if protocol in offered_by:
                    raise PluginError(f"{name} is offered by both {offered_by[protocol]!r} "
                                      f"and {plugin.name!r}")
                if not _implements(implementation, protocol):
                    raise PluginError(f"{plugin.name!r} offers {name} with "
                                      f"{type(implementation).__qualname__}, which lacks "
                                      "its methods")
                offered_by[protocol] = plugin.name
                self.offers[protocol] = implementation

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


def _implements(implementation: object, protocol: type) -> bool:
    try:
        return isinstance(implementation, protocol)
    except TypeError:  # a Protocol that is not runtime-checkable: mypy checks it
        return True
