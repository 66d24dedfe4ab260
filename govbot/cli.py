"""The `govbot` command line: the core's subcommands, and those the plugins offer.

Plugins declare theirs (`Plugin.cli_commands()`, govbot.extensions.CliCommand); this
module lists them without naming any plugin, and refuses to start when two plugins,
or a plugin and the core, claim one subcommand name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govbot import __version__

if TYPE_CHECKING:
    from govbot.extensions import CliCommand
    from govbot.plugin import Plugin

#: The core's own subcommands; a plugin may not take these names.
CORE_COMMANDS = ("run", "check-config", "replay", "demo", "version", "inbox", "state")

#: (plugin name, command) as the plugins offer them.
Offered = Sequence[tuple[str, "CliCommand"]]


def plugin_commands(plugins: Sequence[Plugin] | None = None) -> list[tuple[str, CliCommand]]:
    """The subcommands of `plugins` (None: every installed plugin), checked for clashes.
    Raises PluginError naming both claimants."""
    if plugins is None:
        from govbot.plugin_loader import available_cli_commands

        offered = available_cli_commands()
    else:
        offered = [(p.name, c) for p in plugins for c in p.cli_commands()]
    owners: dict[str, str] = {}
    for plugin, command in offered:
        if command.name in CORE_COMMANDS:
            from govbot.plugin import PluginError

            raise PluginError(f"plugin {plugin!r} offers the subcommand {command.name!r}, "
                              "which is the core's")
        if command.name in owners:
            from govbot.plugin import PluginError

            raise PluginError(f"the subcommand {command.name!r} is offered by both "
                              f"{owners[command.name]!r} and {plugin!r}")
        owners[command.name] = plugin
    return offered


def build_parser(offered: Offered = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govbot",
        description="Governance bot for Gerrit, Zuul and IRC communities.",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default=None,
                        help="log as readable text (default) or JSON lines")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        default=None, help="log level (default INFO, or the settings' log.level)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", "-c", type=Path, required=True,
                     help="the operator settings file (govbot.yaml)")
    run.add_argument("--dry-run", action="store_true",
                     help="decide everything, post nothing: actions are logged instead")

    check = sub.add_parser("check-config",
                           help="validate a governance config repo; FILE:LINE: message per error")
    check.add_argument("directory", type=Path)
    check.add_argument("--plugins", default=None,
                       help="comma-separated plugins whose sections to check (default: built-ins)")
    check.add_argument("--config", "-c", type=Path, default=None, dest="settings",
                       help="govbot.yaml whose governance.layout says where the files are "
                            "(default: the usual places)")

    rep = sub.add_parser("replay", help="feed recorded Gerrit events through the plugins "
                                        "and print the actions they would take")
    rep.add_argument("events", type=Path, help="a file of Gerrit events, one JSON per line")
    rep.add_argument("--governance", type=Path, required=True,
                     help="the governance config directory to judge by")
    rep.add_argument("--now", type=_iso_datetime, default=None,
                     help="ISO-8601 time to evaluate at (default: each event's own time)")
    rep.add_argument("--json", action="store_true", help="one JSON object per action")
    rep.add_argument("--plugins", default=None, help="comma-separated plugins to run")

    for plugin, command in offered:
        parser_of = sub.add_parser(command.name, help=command.help,
                                   description=command.description or command.help)
        command.add_arguments(parser_of)
        parser_of.set_defaults(plugin_command=(plugin, command))

    demo = sub.add_parser("demo", help="run the bot against the Gerrit emulator and a local "
                                       "IRC server, and narrate a short story")
    demo.add_argument("--governance", type=Path, default=Path("etc/governance"),
                      help="the example governance config (default: etc/governance)")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep everything up after the story, until Ctrl-C")

    sub.add_parser("version", help="print the version")
    from govbot.state.admin import add_arguments as state_commands

    state_commands(sub)  # `inbox list|retry`, `state backup`
    return parser


def _iso_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time (e.g. 2026-11-22T10:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _plugin_names(arg: str | None) -> list[str] | None:
    return None if arg is None else [n.strip() for n in arg.split(",") if n.strip()]


def main(argv: Sequence[str] | None = None, *, plugins: Sequence[Plugin] | None = None) -> int:
    """Run `govbot ARGV`. `plugins`: whose subcommands to offer (default: every
    installed plugin; the settings' `plugins.enabled` governs only what `run` runs)."""
    # Without git, GitPython fails at import with a page of advice; the start-up
    # checks (govbot.preflight) say it in one line instead.
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    try:
        offered = plugin_commands(plugins)
        args = build_parser(offered).parse_args(argv)
        return _dispatch(args, plugins)
    except Exception as exc:
        # PluginError, matched without importing govbot.plugin (and the plugin API's
        # runtime with it) into every start: `govbot minutes LOG` needs none of it.
        plugin = sys.modules.get("govbot.plugin")
        if plugin is None or not isinstance(exc, plugin.PluginError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_plugin_command(args: argparse.Namespace, plugins: Sequence[Plugin] | None) -> int:
    from govbot.cli_context import CoreCliContext
    from govbot.extensions import CliError

    plugin: str = args.plugin_command[0]
    command: CliCommand = args.plugin_command[1]
    ctx = CoreCliContext(plugin, plugins={p.name: p for p in plugins or ()})
    try:
        if command.loopless is not None and command.loopless(args):
            return _run_without_loop(command.name, command.run(args, ctx))
        import asyncio

        return asyncio.run(command.run(args, ctx))
    except CliError as exc:
        for line in str(exc).splitlines() or [""]:
            print(f"error: {line}", file=sys.stderr)
        return exc.status
    finally:
        ctx.close()


def _run_without_loop(name: str, coro: Coroutine[Any, Any, int]) -> int:
    """A loop-less command's coroutine, run to its end by hand (see
    `CliCommand.loopless`): it must finish without suspending."""
    try:
        coro.send(None)
    except StopIteration as done:
        status: int = done.value
        return status
    coro.close()
    raise RuntimeError(f"govbot {name}: declared loopless but waited on an event loop; "
                       "drop `loopless` from its CliCommand")


def _dispatch(args: argparse.Namespace, plugins: Sequence[Plugin] | None) -> int:
    from govbot.logs import setup_logging

    if getattr(args, "plugin_command", None) is not None:
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        return _run_plugin_command(args, plugins)
    if args.command == "version":
        print(f"govbot {__version__}")
        return 0
    if args.command == "check-config":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        return cmd_check_config(args.directory, _plugin_names(args.plugins),
                                settings=args.settings)
    if args.command == "replay":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        return cmd_replay(args)
    if args.command == "demo":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "ERROR")
        from govbot.demo import cmd_demo

        return cmd_demo(args)
    if args.command == "run":
        from govbot.daemon import cmd_run

        return cmd_run(args)
    if args.command in ("inbox", "state"):
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        from govbot.state import admin

        return admin.cmd_inbox(args) if args.command == "inbox" else admin.cmd_state(args)
    raise AssertionError(args.command)


def _load_governance(directory: Path, plugin_names: list[str] | None,  # type: ignore[no-untyped-def]
                     layout: Any = None):
    from govbot.config.loader import load_config
    from govbot.plugin import PluginRegistry
    from govbot.plugin_loader import load_plugins

    plugins = load_plugins(plugin_names)
    registry = PluginRegistry(plugins)
    return plugins, load_config(directory, registry.config_sections(), layout=layout)


def cmd_check_config(directory: Path, plugin_names: list[str] | None, *,
                     settings: Path | None = None) -> int:
    from govbot.config.summary import summarise

    if not directory.is_dir():
        print(f"{directory}: not a directory", file=sys.stderr)
        return 2
    layout = None
    if settings is not None:
        from govbot.settings import SettingsError, load_settings

        try:
            layout = load_settings(settings).governance.layout.as_layout()
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 2
    _, result = _load_governance(directory, plugin_names, layout)
    summary = summarise(result)
    # An item error (a meeting file yaml2ical would reject) fails the check, though
    # the daemon would load the rest: CI of the config repo must catch it.
    items = result.item_errors
    for warning in [*result.warnings, *summary.warnings]:
        if warning not in items:
            print(f"warning: {warning}", file=sys.stderr)
    errors = sorted([*result.errors, *items], key=lambda e: (e.source.file, e.source.line))
    for error in [*errors, *summary.errors]:
        print(error)
    if errors or summary.errors:
        print(f"{len(errors) + len(summary.errors)} error(s) in {directory}", file=sys.stderr)
        if items and result.config is not None:  # the daemon would load the rest
            print(f"without the unavailable meetings: {summary.line}", file=sys.stderr)
            for line in summary.details:
                print(line, file=sys.stderr)
        return 1
    print(summary.line)
    for line in summary.details:
        print(line)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from govbot.replay import replay
    from govbot.reporters import describe

    plugins, result = _load_governance(args.governance, _plugin_names(args.plugins))
    if result.config is None:
        for error in result.errors:
            print(error, file=sys.stderr)
        print(f"{args.governance}: the governance config has errors; nothing replayed",
              file=sys.stderr)
        return 1
    try:
        lines = args.events.read_bytes().splitlines()
    except OSError as exc:
        print(f"{args.events}: {exc.strerror}", file=sys.stderr)
        return 2
    outcome = asyncio.run(replay(lines, plugins, result.config, now=args.now))
    for action in outcome.actions:
        if args.json:
            print(json.dumps(action.to_dict(), sort_keys=True, default=str))
        else:
            print(describe(action))
    stats = outcome.stats
    print(f"{outcome.events} events, {len(outcome.actions)} actions; skipped: "
          f"{sum(stats.unknown.values())} unknown type, {stats.malformed} malformed, "
          f"{stats.noise} noise", file=sys.stderr)
    if outcome.plugin_errors:
        print(f"plugin errors: {outcome.plugin_errors}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
