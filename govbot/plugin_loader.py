"""Find the plugins to run: the built-ins, listed explicitly, and third-party ones
registered under the `govbot.plugins` entry-point group."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# govbot.plugin (and with it the plugin API's runtime: msgspec, the context types) is
# imported where a plugin is loaded, not to list subcommands: `govbot minutes LOG`
# starts in 0.4 s, and its recovery needs none of it.
if TYPE_CHECKING:
    from govbot.extensions import CliCommand
    from govbot.plugin import Plugin, PluginSettings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "govbot.plugins"

#: name -> "module:Class". Explicit, so a typo or a missing module fails at start-up.
BUILTIN_PLUGINS: dict[str, str] = {
    "governance": "govbot.plugins.governance.plugin:GovernancePlugin",
    "announce": "govbot.plugins.announce.plugin:AnnouncePlugin",
    "meetings": "govbot.plugins.meetings.plugin:MeetingsPlugin",
    "reminders": "govbot.plugins.reminders.plugin:RemindersPlugin",
    "elections": "govbot.plugins.elections.plugin:ElectionsPlugin",
}


#: name -> "module:attribute" of the `CliCommand`s of a built-in that offers `govbot`
#: subcommands, read without importing the plugin itself: importing all four plugins
#: takes about 0.3 s, and `govbot --help` must list their subcommands in less. Each
#: plugin's `cli_commands()` returns the same sequence (tests/test_cli_plugins.py checks).
BUILTIN_CLI_COMMANDS: dict[str, str] = {
    "governance": "govbot.plugins.governance.cli:COMMANDS",
    "meetings": "govbot.plugins.meetings.cli:COMMANDS",
    "reminders": "govbot.plugins.reminders.cli:COMMANDS",
    "elections": "govbot.plugins.elections.cli:COMMANDS",
}


def available_plugins() -> dict[str, str]:
    """Every plugin that could be enabled: built-ins first, then entry points."""
    found = dict(BUILTIN_PLUGINS)
    if not may_declare_plugins():
        return found
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            log.warning("entry point %s=%s ignored: a plugin of that name is built in",
                        ep.name, ep.value)
            continue
        found[ep.name] = ep.value
    return found


def may_declare_plugins() -> bool:
    """False when no distribution on sys.path declares a `govbot.plugins` entry point.

    A look at the `entry_points.txt` files where importlib.metadata finds them (the
    `*.dist-info` and `*.egg-info` directories of each sys.path directory), about 1 ms:
    importing importlib.metadata costs every `govbot` start ~20 ms, and most installs
    have no third-party plugin. Anything else (a zip on sys.path, a finder of
    distributions other than the standard one) answers True: ask importlib.metadata.
    """
    finders = [f for f in sys.meta_path if hasattr(f, "find_distributions")]
    if any(getattr(f, "__name__", "") != "PathFinder" for f in finders):
        return True
    for entry in sys.path:
        directory = entry or "."
        try:
            children = os.listdir(directory)
        except NotADirectoryError:
            return True  # a zip
        except OSError:
            continue  # absent
        infos = [c for c in children if c.lower().endswith((".dist-info", ".egg-info"))]
        if directory.lower().endswith(".egg") and "EGG-INFO" in children:
            infos.append("EGG-INFO")
        for info in infos:
            try:
                with open(os.path.join(directory, info, "entry_points.txt"),
                          encoding="utf-8", errors="replace") as declared:
                    if ENTRY_POINT_GROUP in declared.read():
                        return True
            except OSError:  # none, or an .egg-info file
                continue
    return False


def load_plugins(enabled: Sequence[str] | None = None) -> list[Plugin]:
    """Instantiate the enabled plugins (None: every built-in), in the order given."""
    available = available_plugins()
    return [instantiate(available[name], name) for name in _enabled(enabled, available)]


def settings_types(enabled: Sequence[str] | None = None) -> dict[str, type[PluginSettings]]:
    """Each enabled plugin's settings type, read from its class (none is instantiated):
    what loading govbot.yaml checks `plugins.settings` against."""
    from govbot.plugin import PluginSettings

    available = available_plugins()
    found = {}
    for name in _enabled(enabled, available):
        settings_type = plugin_class(available[name], name).settings_type
        if not (isinstance(settings_type, type) and issubclass(settings_type, PluginSettings)):
            raise _error(f"plugin {name!r}: its settings_type is not a "
                              "govbot.plugin.PluginSettings subclass")
        found[name] = settings_type
    return found


def _enabled(enabled: Sequence[str] | None, available: dict[str, str]) -> list[str]:
    names = list(BUILTIN_PLUGINS) if enabled is None else list(enabled)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise _error(
            f"unknown plugin(s) {', '.join(unknown)} in plugins.enabled; "
            f"available: {', '.join(sorted(available)) or 'none'}"
        )
    return names


def plugin_class(target: str, name: str) -> type[Plugin]:
    from govbot.plugin import Plugin

    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise _error(f"plugin {name!r}: cannot load {target}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise _error(f"plugin {name!r}: {target} is not a govbot.plugin.Plugin")
    return cls


def instantiate(target: str, name: str) -> Plugin:
    plugin = plugin_class(target, name)()
    if plugin.name != name:
        raise _error(f"plugin {name!r}: {target} calls itself {plugin.name!r}")
    return plugin


def available_cli_commands() -> list[tuple[str, CliCommand]]:
    """(plugin name, command) for every subcommand an installed plugin offers. Built-ins
    are read from BUILTIN_CLI_COMMANDS; a third-party plugin is instantiated and asked."""
    found: list[tuple[str, CliCommand]] = []
    for name, target in available_plugins().items():
        if name in BUILTIN_PLUGINS:
            ref = BUILTIN_CLI_COMMANDS.get(name)
            commands: Sequence[CliCommand] = _attribute(ref, name) if ref else ()
        else:
            commands = instantiate(target, name).cli_commands()
        found += [(name, command) for command in commands]
    return found


def _attribute(target: str, name: str) -> Sequence[CliCommand]:
    module_name, _, attr = target.partition(":")
    try:
        commands: Sequence[CliCommand] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise _error(f"plugin {name!r}: cannot load {target}: {exc}") from exc
    return commands


def _error(message: str) -> Exception:
    """A PluginError (govbot.plugin is imported only when there is one to raise)."""
    from govbot.plugin import PluginError

    return PluginError(message)
