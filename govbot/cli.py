"""The `govbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from govbot import __version__


def build_parser() -> argparse.ArgumentParser:
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

    rep = sub.add_parser("replay", help="feed recorded Gerrit events through the plugins "
                                        "and print the actions they would take")
    rep.add_argument("events", type=Path, help="a file of Gerrit events, one JSON per line")
    rep.add_argument("--governance", type=Path, required=True,
                     help="the governance config directory to judge by")
    rep.add_argument("--now", type=_iso_datetime, default=None,
                     help="ISO-8601 time to evaluate at (default: each event's own time)")
    rep.add_argument("--json", action="store_true", help="one JSON object per action")
    rep.add_argument("--plugins", default=None, help="comma-separated plugins to run")

    status = sub.add_parser("status", help="list open governed changes with their verdicts")
    status.add_argument("--config", "-c", type=Path, required=True, help="settings file")
    status.add_argument("--project", help="only this project")
    status.add_argument("--governance", type=Path, help="judge by this local config directory")
    status.add_argument("--json", action="store_true", help="one JSON document")
    tally = sub.add_parser("tally", help="explain the verdict on one change")
    tally.add_argument("change", help="a change number or project~number")
    tally.add_argument("--config", "-c", type=Path, required=True, help="settings file")
    tally.add_argument("--governance", type=Path, help="judge by this local config directory")
    tally.add_argument("--json", action="store_true", help="the verdict as JSON")

    demo = sub.add_parser("demo", help="run the bot against the Gerrit emulator and a local "
                                       "IRC server, and narrate a short story")
    demo.add_argument("--governance", type=Path, default=Path("etc/governance"),
                      help="the example governance config (default: etc/governance)")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep everything up after the story, until Ctrl-C")

    minutes = sub.add_parser("minutes", help="re-render meeting minutes from a journal or a "
                                             "raw log (recovery)")
    from govbot.plugins.meetings import cli as meetings_cli

    meetings_cli.add_arguments(minutes)

    ical = sub.add_parser("ical", help="write an .ics calendar of the meetings and deadlines")
    ical.add_argument("directory", type=Path, help="the governance config directory")
    ical.add_argument("out", type=Path, help="the .ics file to write ('-': standard output)")

    sub.add_parser("version", help="print the version")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from govbot.plugin import PluginError

    try:
        return _dispatch(args)
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from govbot.logs import setup_logging

    if args.command == "version":
        print(f"govbot {__version__}")
        return 0
    if args.command == "check-config":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        return cmd_check_config(args.directory, _plugin_names(args.plugins))
    if args.command == "replay":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        return cmd_replay(args)
    if args.command in ("status", "tally"):
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        from govbot.tally import cmd_status, cmd_tally

        return cmd_status(args) if args.command == "status" else cmd_tally(args)
    if args.command == "minutes":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        from govbot.plugins.meetings import cli as meetings_cli

        return int(meetings_cli.run(args))
    if args.command == "ical":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "WARNING")
        from govbot.calendar import ical_command

        return ical_command(args.directory, args.out)
    if args.command == "demo":
        setup_logging(fmt=args.log_format or "text", level=args.log_level or "ERROR")
        from govbot.demo import cmd_demo

        return cmd_demo(args)
    if args.command == "run":
        from govbot.daemon import cmd_run

        return cmd_run(args)
    raise AssertionError(args.command)


def _load_governance(directory: Path, plugin_names: list[str] | None):  # type: ignore[no-untyped-def]
    from govbot.config.loader import load_config
    from govbot.plugin import PluginRegistry
    from govbot.plugin_loader import load_plugins

    plugins = load_plugins(plugin_names)
    registry = PluginRegistry(plugins)
    return plugins, load_config(directory, registry.config_sections())


def cmd_check_config(directory: Path, plugin_names: list[str] | None) -> int:
    if not directory.is_dir():
        print(f"{directory}: not a directory", file=sys.stderr)
        return 2
    _, result = _load_governance(directory, plugin_names)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in result.errors:
        print(error)
    if result.errors:
        print(f"{len(result.errors)} error(s) in {directory}", file=sys.stderr)
        return 1
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
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
