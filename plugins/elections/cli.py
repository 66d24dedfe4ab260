"""`govbot elections roll|status ELECTION`: the electorate as CSV, and the candidacies.

Read-only: the changes come from Gerrit through the core's CLI reader (paged
queries, one per repository group per page, never one call per account), the
config from the settings' config repo or `--governance DIR`. Every `govbot` start
reads `COMMANDS`, so this module imports only argparse and govbot.extensions at
the top; the rest is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govbot.extensions import CliCommand, CliContext, CliError, GerritReadError


def _arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="elections_command", required=True, metavar="COMMAND")
    roll = sub.add_parser("roll", help="write the electorate of an election as CSV")
    status = sub.add_parser("status", help="list the candidacies with their checks, and "
                                           "the teams without a candidate")
    for each in (roll, status):
        each.add_argument("election", help="the election's id in elections.yaml")
        each.add_argument("--config", "-c", type=Path, required=True, help="settings file")
        each.add_argument("--governance", type=Path,
                          help="read the config from this local directory")
    roll.add_argument("--team", help="a PTL election: only this team's electorate")
    roll.add_argument("--output", "-o", type=Path, help="write here (default: stdout)")
    status.add_argument("--json", action="store_true", help="one JSON document")


async def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    settings = ctx.settings(args.config)
    if settings.gerrit is None:
        raise CliError(f"{args.config}: no 'gerrit:' section; the elections commands read "
                       "the changes from Gerrit")
    gerrit = ctx.gerrit(settings)  # checks the credentials before anything is fetched
    loaded = await ctx.governance(settings=settings, directory=args.governance,
                                  own_sections=True)
    if loaded.config is None:
        for error in loaded.errors:
            print(error, file=sys.stderr)
        raise CliError(f"the governance config at {loaded.directory} does not load", 1)
    from .model import ElectionsConfig

    section = loaded.config.section(ctx.plugin)
    elections = section.elections if isinstance(section, ElectionsConfig) else {}
    election = elections.get(args.election)
    if election is None:
        known = ", ".join(sorted(elections)) or "none"
        raise CliError(f"no election {args.election!r} in elections.yaml (known: {known})")
    try:
        async with gerrit as reader:
            if args.elections_command == "roll":
                from .roll import roll

                return await roll(reader, loaded.config, election, team=args.team,
                                  output=args.output)
            from .status import status

            return await status(reader, loaded.config, election, as_json=args.json)
    except GerritReadError as exc:
        print(f"error: Gerrit at {settings.gerrit.url}: {exc}", file=sys.stderr)
        return 1


COMMANDS = (CliCommand("elections", "election rolls and candidacy status",
                       _arguments, _run,
                       description="`roll ELECTION`: the electorate as CSV; "
                                   "`status ELECTION`: the candidacies and their checks"),)
