"""`govbot ical DIRECTORY OUT`: the reminders plugin's subcommand (see calendar.py).

Every `govbot` start reads `COMMANDS`, so the calendar code (and icalendar) is
imported only when the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from govbot.extensions import CliCommand, CliContext


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="the governance config directory")
    parser.add_argument("out", type=Path, help="the .ics file to write ('-': standard output)")


async def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    from .calendar import ical_command

    return await ical_command(ctx, args.directory, args.out)


COMMANDS = (
    CliCommand("ical", "write an .ics calendar of the meetings and deadlines", _arguments,
               _run),
)
