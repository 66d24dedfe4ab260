"""The wall between the core and the plugins (docs/plugins.md, DESIGN "The wall"), read
from the source with ast, so it holds both ways:

- a plugin (plugins/<name>/, and the example plugin packages docs/examples/<name>/)
  imports the plugin API and pure helpers of the core, never a network or I/O library,
  a source, a reporter, the state store or another plugin;
- the core (govbot/) never imports a plugin; govbot/plugin_loader.py, which names the
  built-ins as strings, is the one exception.

Every import counts: at module level, under `if TYPE_CHECKING:` (a type-only import
still makes the plugin depend on the module's shape) and inside functions (it runs on
the first call). `importlib.import_module("...")` with a literal name counts too.
A core module in neither list below is allowed when it is pure: nothing it imports,
directly or through other core modules, is on the deny lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.ast_imports import (
    ROOT,
    Import,
    Source,
    core_sources,
    example_sources,
    is_source_folder,
    matches,
    plugin_sources,
    read_imports,
)

# --- the lists ----------------------------------------------------------------------
# Longest match wins: "govbot.config" is allowed, "govbot.config.repo" inside it is not.

#: What a plugin may import from the core; the value says why it is safe.
PLUGIN_API: dict[str, str] = {
    "govbot.plugin": "the plugin API itself: Plugin, PluginContext, Command, the readers",
    "govbot.actions": "the actions a plugin returns for the reporters to carry out",
    "govbot.events": "the events the core itself produces (config reloaded, wake-ups)",
    "govbot.gerrit.events": "typed Gerrit events, frozen data parsed once at the edge",
    "govbot.gerrit.changes": "typed REST ChangeInfo, frozen data decoded once, and the "
                             "typed reads over a ChangeReader",
    "govbot.irc.events": "typed IRC events, frozen data",
    "govbot.config": "the config model and the config-section API (schema, sections, "
                     "names, yamlpos): pure parsing of what the loader hands a plugin",
    "govbot.zuul.model": "CI results as data and the CiReader Protocol plugins read CI "
                         "through",
    "govbot.zuul.report": "parses a Zuul report comment: pure",
}

#: Libraries that reach the network or the disk; value: (what it is, what to do instead).
NETWORK_AND_IO: dict[str, tuple[str, str]] = {
    "aiohttp": ("an HTTP client and server",
                "read Gerrit through ctx.gerrit; offer pages through web_routes()"),
    "asyncssh": ("SSH, which the Gerrit event stream uses",
                 "handle the typed events of govbot.gerrit.events"),
    "pydle": ("the IRC client library", "return Say, Notice or SetTopic (govbot.actions)"),
    "pygerrit2": ("a Gerrit REST client",
                  "read through ctx.gerrit; write by returning Vote or AddReviewers"),
    "requests": ("a blocking HTTP client", "read through the readers in the context"),
    "httpx": ("an HTTP client", "read through the readers in the context"),
    "urllib.request": ("an HTTP client", "read through the readers in the context"),
    "http.client": ("an HTTP client", "read through the readers in the context"),
    "git": ("GitPython, which the core uses for the config and minutes repositories",
            "read ctx.config (the merged config); return WriteMinutes to write minutes"),
    "sqlite3": ("the state database", "read ctx.state; change state by returning actions"),
    "socket": ("raw network access", "return actions; the core's reporters talk to servers"),
    "subprocess": ("runs programs", "return actions; effects are carried out by reporters"),
}

#: Core modules a plugin must not import; value: (what it is, what to do instead).
CORE_DENIED: dict[str, tuple[str, str]] = {
    "govbot.gerrit.stream": ("the Gerrit SSH event stream, a source",
                             "handle the typed events of govbot.gerrit.events"),
    "govbot.gerrit.backfill": ("the backfill of missed Gerrit events, a source",
                               "handle the typed events of govbot.gerrit.events"),
    "govbot.gerrit.webhook": ("the Gerrit webhook receiver, a source",
                              "handle the typed events of govbot.gerrit.events"),
    "govbot.gerrit.rest": ("the Gerrit REST client",
                           "read through ctx.gerrit; write by returning Vote or AddReviewers"),
    "govbot.gerrit.reporter": ("the Gerrit reporter, which posts votes",
                               "return a Vote (govbot.actions)"),
    "govbot.gerrit.service": ("the Gerrit sources and reporter wired together",
                              "handle events and return actions"),
    "govbot.gerrit.index": ("the core's index of changes, fed at the intake",
                            "read changes through ctx.gerrit"),
    "govbot.irc.client": ("the IRC connection", "return Say, Notice or SetTopic"),
    "govbot.irc.service": ("the IRC connection, reconnect loop and send queue",
                           "return Say, Notice or SetTopic"),
    "govbot.irc.reporter": ("the IRC reporter", "return Say, Notice or SetTopic"),
    "govbot.irc.sending": ("the IRC send queue and pacing", "return Say, Notice or SetTopic"),
    "govbot.irc.tracking": ("the IRC client's channel and account tracking",
                            "use the account on the event (govbot.irc.events)"),
    "govbot.irc.accounts": ("the IRC client's account cache",
                            "use the account on the event (govbot.irc.events)"),
    "govbot.irc.listener": ("the IRC client's callbacks to its service",
                            "handle the typed events of govbot.irc.events"),
    "govbot.state": ("the state store (SQLite)",
                     "read ctx.state; change state by returning actions"),
    "govbot.scheduler": ("the wake-up scheduler (SQLite and the dispatcher)",
                         "return WakeAt and handle the Wakeup event from the plugin API"),
    "govbot.dispatcher": ("the dispatcher, which calls the plugins",
                          "declare handlers() and commands(); the dispatcher calls them"),
    "govbot.daemon": ("the daemon, which wires sources, plugins and reporters",
                      "declare what the plugin offers through the plugin API"),
    "govbot.intake": ("the durable inbox of incoming events", "handle the events"),
    "govbot.minutes": ("the minutes reporter, which writes and commits files",
                       "return WriteMinutes (govbot.actions)"),
    "govbot.web": ("the web server", "declare pages through web_routes()"),
    "govbot.cli": ("the command line", "declare subcommands through cli_commands()"),
    "govbot.plugin_loader": ("the plugin loader",
                             "take what another plugin offers from a Protocol in the context"),
    "govbot.zuul.client": ("the Zuul HTTP client, a source",
                           "read CI through the CiReader in the context (govbot.zuul.model)"),
    "govbot.config.repo": ("the config repo watcher, which clones and fetches with git",
                           "read ctx.config, the merged config"),
    "govbot.testing": ("the test kit (Gerrit emulator, IRC servers)",
                       "use it from tests, never from plugin code"),
}

#: Importing any of these from the core, or from one plugin another, names a plugin.
PLUGIN_PACKAGES = ("govbot.plugins", "plugins")
#: The one core module that may name the built-in plugins (as strings, in its list).
LOADER = "govbot/plugin_loader.py"

OTHER_PLUGIN = ("what one plugin offers another is a typed Protocol the providing plugin "
                "publishes in the context, and pure helpers both need belong to the core")
CORE_NAMES_A_PLUGIN = ("the core names no plugin: let plugins declare what they offer "
                       "(cli_commands(), web_routes(), a Protocol in the context) and list "
                       f"what the loaded plugins offer; only {LOADER} names the built-ins")


# --- the checker --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    where: Import
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def _denial(module: str) -> tuple[str, tuple[str, str]] | None:
    """The deny-list entry for `module`, unless a longer allow-list entry covers it."""
    denied = [p for p in (*NETWORK_AND_IO, *CORE_DENIED) if matches(module, p)]
    allowed = [p for p in PLUGIN_API if matches(module, p)]
    if not denied or (allowed and len(max(allowed, key=len)) > len(max(denied, key=len))):
        return None
    entry = max(denied, key=len)
    return entry, {**NETWORK_AND_IO, **CORE_DENIED}[entry]


class Wall:
    """Checks sources against the lists, knowing the core's own imports."""

    def __init__(self, core: Sequence[Source], others: Sequence[Source] = ()) -> None:
        self.known = {s.module for s in (*core, *others)}
        self.core_imports = {s.module: read_imports(s, self.known) for s in core}

    def leak(self, module: str) -> list[str] | None:
        """The chain from core module `module` to something denied, if there is one."""
        paths = {module: [module]}
        queue = [module]
        while queue:
            current = queue.pop(0)
            if _denial(current):
                return paths[current]
            for imp in self.core_imports.get(current, ()):
                target = imp.target
                if target is None or any(matches(target, p) for p in PLUGIN_PACKAGES):
                    continue  # plugins are checked as plugins
                if imp.scope == "type-checking":
                    # A name imported only for annotations gives a plugin nothing it can
                    # call (the plugin API annotates CliContext.settings with the core's
                    # Settings, say); a plugin importing that module itself is still
                    # checked on its own.
                    continue
                while target not in self.core_imports and _denial(target) is None \
                        and "." in target:
                    target = target.rpartition(".")[0]  # `from m import name`: m
                if target not in paths:
                    paths[target] = [*paths[current], target]
                    queue.append(target)
        return None

    def check_plugin(self, source: Source, package: str) -> list[Violation]:
        """Violations in a module of the plugin whose package is `package`."""
        found = []
        for imp in read_imports(source, self.known):
            target = imp.target
            if target is None or (imp.statement.startswith("from .")
                                  and not matches(target, package)):
                found.append(Violation(imp, f"a relative import leaving the plugin's package "
                                            f"{package}: {OTHER_PLUGIN}"))
            elif matches(target, package):
                continue
            elif any(matches(target, p) for p in PLUGIN_PACKAGES):
                found.append(Violation(imp, f"imports another plugin ({target}): "
                                            f"{OTHER_PLUGIN}"))
            elif denial := _denial(target):
                entry, (what, instead) = denial
                found.append(Violation(imp, f"{entry} is {what}; instead, {instead}"))
            elif matches(target, "govbot") and not any(matches(target, p) for p in PLUGIN_API) \
                    and (chain := self.leak(target)):
                entry, (what, instead) = _denial(chain[-1]) or ("", ("", ""))
                found.append(Violation(
                    imp, f"{target} is not in the plugin API and reaches {entry} "
                         f"({' -> '.join(chain)}), which is {what}; instead, {instead}, "
                         "or move the pure part the plugin needs into a core module of its own"))
        return found

    def check_core(self, source: Source) -> list[Violation]:
        if source.path == LOADER:
            return []
        return [Violation(imp, f"imports the plugin {imp.target}: {CORE_NAMES_A_PLUGIN}")
                for imp in read_imports(source, self.known)
                if imp.target and any(matches(imp.target, p) for p in PLUGIN_PACKAGES)]


def plugin_package(source: Source) -> str:
    """The package of the plugin a module belongs to (govbot.plugins.<name>, or the
    example's top-level <name>)."""
    parts = source.module.split(".")
    return ".".join(parts[:3] if parts[:2] == ["govbot", "plugins"] else parts[:1])


def report(violations: Iterable[Violation]) -> str:
    return "\n".join(map(str, violations))


# --- the tree -----------------------------------------------------------------------


def _wall() -> tuple[Wall, list[Source], list[Source]]:
    core = core_sources()
    plugins = plugin_sources() + example_sources()
    return Wall(core, plugins), core, plugins


def test_plugins_import_only_the_plugin_api() -> None:
    wall, _, plugins = _wall()
    found = [v for s in plugins if s.module != "govbot.plugins"
             for v in wall.check_plugin(s, plugin_package(s))]
    assert not found, "plugins reaching past the plugin API:\n" + report(found)


def test_the_core_imports_no_plugin() -> None:
    wall, core, _ = _wall()
    found = [v for s in core for v in wall.check_core(s)]
    assert not found, "core modules naming a plugin:\n" + report(found)


def test_the_plugin_api_is_pure() -> None:
    # Otherwise a plugin would reach the state store or a source through the API itself.
    wall, core, _ = _wall()
    present = {s.module for s in core}
    leaks = {sub: chain for sub in sorted(present) if any(matches(sub, m) for m in PLUGIN_API)
             and not _denial(sub) and (chain := wall.leak(sub))}
    assert not leaks, "\n".join(" -> ".join(c) for c in leaks.values())


def _plugin_folders() -> list[Path]:
    examples = ROOT / "docs" / "examples"
    return [d for base in (ROOT / "plugins", examples) for d in sorted(base.iterdir())
            if d.is_dir() and is_source_folder(d.name)]


def test_every_plugin_is_a_package_with_a_plugin_module() -> None:
    loose = [str(p.relative_to(ROOT)) for base in (ROOT / "plugins", ROOT / "docs" / "examples")
             for p in sorted(base.glob("*.py")) if p.name != "__init__.py"]
    assert not loose, f"plugin modules outside a plugin package <name>/: {loose}"
    incomplete = [str(d.relative_to(ROOT)) for d in _plugin_folders()
                  if not ((d / "__init__.py").is_file() and (d / "plugin.py").is_file())]
    assert not incomplete, f"plugin packages without __init__.py and plugin.py: {incomplete}"


# --- the checker, on planted sources ------------------------------------------------


def _planted(module: str, text: str, *, package: bool = False) -> Source:
    path = module.replace(".", "/") + ("/__init__.py" if package else ".py")
    return Source(path, module, package, text)


PLANTED_PLUGIN = """\
import asyncio
import sqlite3
from typing import TYPE_CHECKING
from govbot.actions import Say
from govbot.plugin import Plugin
from govbot.config.schema import Schema
from govbot.config.repo import ConfigRepo
from govbot import scheduler
from govbot.plugins.governance import expr
from ..reminders.schedule import Slot
from .render import render
from . import model
from govbot.helper import pure
from govbot.leaky import leak
if TYPE_CHECKING:
    from govbot.state.store import StateStore

def later():
    import git
    importlib.import_module("govbot.gerrit.rest")
"""


def test_the_checker_catches_planted_plugin_violations() -> None:
    core = [_planted("govbot.helper", "import re\nfrom govbot.actions import Say\n"),
            _planted("govbot.leaky", "from govbot import helper\n"
                                     "def f():\n    from govbot.minutes import WriteMinutes\n"),
            _planted("govbot.minutes", "import git\n"),
            _planted("govbot.scheduler", "import sqlite3\n")]
    plugin = _planted("govbot.plugins.meetings.plugin", PLANTED_PLUGIN)
    found = Wall(core, [plugin]).check_plugin(plugin, "govbot.plugins.meetings")
    assert [(v.where.line, v.where.target) for v in found] == [
        (2, "sqlite3"), (7, "govbot.config.repo"), (8, "govbot.scheduler"),
        (9, "govbot.plugins.governance"), (10, "govbot.plugins.reminders.schedule"),
        (14, "govbot.leaky"), (16, "govbot.state.store"), (19, "git"),
        (20, "govbot.gerrit.rest")]
    messages = report(found).splitlines()
    assert messages[0] == ("govbot/plugins/meetings/plugin.py:2: `import sqlite3`: sqlite3 is "
                           "the state database; instead, read ctx.state; change state by "
                           "returning actions")
    assert "another plugin" in messages[3] and "leaving the plugin's package" in messages[4]
    assert "govbot.leaky -> govbot.minutes" in messages[5]
    assert "return WriteMinutes" in messages[5]


def test_the_checker_catches_a_relative_import_above_the_example_package() -> None:
    plugin = _planted("subject_check.plugin", "from ..other import thing\nfrom . import rules\n")
    found = Wall([], [plugin]).check_plugin(plugin, "subject_check")
    assert [(v.where.line, v.where.target) for v in found] == [(1, None)]


def test_the_checker_catches_the_core_naming_a_plugin() -> None:
    core = [_planted("govbot.web", "from govbot.plugins.reminders.plugin import schedules\n"),
            _planted("govbot.cli", "def main():\n    from .plugins import meetings\n"),
            _planted("govbot.tally", "import importlib\n"
                                     "importlib.import_module('govbot.plugins.governance')\n"),
            _planted("govbot.calendar", "import plugins.reminders\n"),
            Source(LOADER, "govbot.plugin_loader", False, "import govbot.plugins.governance\n"),
            _planted("govbot.plugins_help", "import govbot.plugin\n")]  # not a plugin
    wall = Wall(core)
    found = [v for s in core for v in wall.check_core(s)]
    assert [(v.where.path, v.where.line) for v in found] == [
        ("govbot/web.py", 1), ("govbot/cli.py", 2), ("govbot/tally.py", 2),
        ("govbot/calendar.py", 1)]
    assert str(found[0]).startswith(
        "govbot/web.py:1: `from govbot.plugins.reminders.plugin import schedules`: imports "
        "the plugin govbot.plugins.reminders.plugin: the core names no plugin")


def test_the_lists_name_modules_that_exist() -> None:
    # A renamed module would silently fall out of the lists.
    present = {s.module for s in core_sources()}
    stale = [m for m in (*PLUGIN_API, *CORE_DENIED)
             if not any(matches(p, m) for p in present)]
    assert not stale, f"listed but not in govbot/: {stale}"
