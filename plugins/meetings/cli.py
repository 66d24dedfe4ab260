"""`govbot minutes JOURNAL_OR_LOG`: render the minutes again, for recovery.

The input is an exported journal (JSON lines) or a raw text log (see recovery.py);
with `--state DB` it is the name of a journal in the bot's state database, which the
core opens read-only for this plugin (`list` lists the meetings' journals). The files
are written by the core's minutes reporter under `--out`.

Every `govbot` start reads `COMMANDS`, so the renderer is imported only when the
command runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from govbot.extensions import CliCommand, CliContext, JournalReader


async def minutes_command(ctx: CliContext, path: Path, out_dir: Path, *, url_base: str = "",
                          bot_nick: str = "govbot", channel: str | None = None,
                          date: dt.date | None = None, name: str | None = None) -> int:
    """Render `path` (journal or log) into `out_dir` and print the files written.
    Failures raise CliError: 1 no meeting, 2 any other error."""
    from .recovery import read_source

    text, day = read_source(path, date)
    return await render_text(ctx, text, str(path), out_dir, url_base=url_base,
                             bot_nick=bot_nick, channel=channel, date=day, name=name)


async def render_text(ctx: CliContext, text: str, what: str, out_dir: Path, *,
                      url_base: str = "", bot_nick: str = "govbot",
                      channel: str | None = None, date: dt.date | None = None,
                      name: str | None = None) -> int:
    """`minutes_command` on a journal's or a log's text; `what` names it in messages."""
    from .recovery import recover
    from .render import url_warning

    warning = url_warning(url_base)
    if warning:
        print(f"warning: {warning.replace('minutes_url', '--url-base', 1)}", file=sys.stderr)
    action = recover(text, what, out_dir, url_base=url_base, bot_nick=bot_nick,
                     channel=channel, date=date, name=name)
    for written in await ctx.carry_out(action):
        print(written)
    return 0


async def export_journal(journals: JournalReader, journal: str | None = None) -> str:
    """A journal as JSON lines (the input of `minutes_command`); `journal=None` lists
    the journals instead, open ones marked."""
    if journal is None:
        open_ = set(await journals.open_journals())
        return "".join(f"{n}{' (open)' if n in open_ else ''}\n"
                       for n in await journals.journals())
    entries = await journals.journal(journal)
    return "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="an exported journal (JSON lines) or a raw "
                        "log; with --state, a journal's name ('list' lists them)")
    parser.add_argument("--state", type=Path, default=None,
                        help="read the journal from this state database")
    parser.add_argument("--out", type=Path, default=Path("."), help="minutes directory")
    parser.add_argument("--url-base", default="", help="where the minutes are published")
    parser.add_argument("--bot-nick", default="govbot", help="the bot's nick in a raw log")
    parser.add_argument("--channel", default=None, help="the channel of a raw log")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                        help="the day a raw log starts (default: from its file name)")
    parser.add_argument("--name", default=None, help="the meeting name to write under")


async def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.state is None:
        return await minutes_command(ctx, args.path, args.out, url_base=args.url_base,
                                     bot_nick=args.bot_nick, channel=args.channel,
                                     date=args.date, name=args.name)
    journal = str(args.path)
    async with ctx.state(args.state) as journals:
        text = await export_journal(journals, None if journal == "list" else journal)
    if journal == "list":
        print(text, end="")
        return 0
    if not text:
        print(f"error: no journal {journal!r} in {args.state}", file=sys.stderr)
        return 1
    return await render_text(ctx, text, journal, args.out, url_base=args.url_base,
                             bot_nick=args.bot_nick, channel=args.channel, date=args.date,
                             name=args.name)


COMMANDS = (
    # From a file (no --state), nothing is awaited: the command runs without a loop.
    CliCommand("minutes", "re-render meeting minutes from a journal or a raw log (recovery)",
               add_arguments, run, loopless=lambda args: args.state is None),
)
