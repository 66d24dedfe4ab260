"""`govbot inbox list|retry` and `govbot state backup`: the operator's hands on the state.

They talk to the state database directly, so they work whether the daemon runs or not
(SQLite's WAL lets them read while it writes). `inbox retry` only un-parks events in
the database; a running daemon notices within seconds and tries them again, a stopped
one does at its next start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# The store (asyncio, sqlite3, msgspec) is imported when a command runs: every `govbot`
# start builds these subcommands' arguments (`govbot minutes LOG` starts in 0.4 s).
if TYPE_CHECKING:
    from govbot.state.store import InboxItem


def add_arguments(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `inbox` and `state` subcommands, for govbot.cli."""
    inbox = sub.add_parser("inbox", help="the durable inbox: events not handled yet, parked "
                                         "ones (after transient failures) among them")
    verbs = inbox.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="list pending events (parked first)")
    _where(listing)
    listing.add_argument("--parked", action="store_true", help="only the parked ones")
    retry = verbs.add_parser("retry", help="try parked events again (all, or these ids)")
    _where(retry)
    retry.add_argument("event_ids", nargs="*", metavar="EVENT_ID")

    state = sub.add_parser("state", help="the state database")
    verbs = state.add_subparsers(dest="verb", metavar="VERB", required=True)
    backup = verbs.add_parser("backup", help="a consistent copy of the state database "
                                             "(safe while the daemon runs)")
    _where(backup)
    backup.add_argument("file", type=Path, help="where to write the copy")


def _where(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", "-c", type=Path, help="the settings file (its state.path)")
    group.add_argument("--state", type=Path, help="the state database itself")


def _database(args: argparse.Namespace) -> str:
    """The database's path; a StateError when there is none (never creates one)."""
    from govbot.state.store import StateError

    if args.state is not None:
        path = str(args.state)
    else:
        from govbot.settings import load_settings

        path = load_settings(args.config).state.path
    if not Path(path).is_file():
        raise StateError(f"{path}: no state database there")
    return path


def cmd_inbox(args: argparse.Namespace) -> int:
    return _run(_inbox(args))


def cmd_state(args: argparse.Namespace) -> int:
    return _run(_backup(args))


def _run(coro: object) -> int:
    import asyncio

    from govbot.settings import SettingsError
    from govbot.state.store import StateError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except SettingsError as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    except (StateError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def _inbox(args: argparse.Namespace) -> int:
    from govbot.state.parked import ParkedInbox
    from govbot.state.store import StateStore

    path = _database(args)
    if args.verb == "list":
        async with StateStore(path, read_only=True) as store:
            items = await store.inbox_pending(parked_only=args.parked)
        items.sort(key=lambda i: (i.parked_at is None, i.seq))
        for item in items:
            print(_line(item))
        parked = sum(1 for i in items if i.parked_at is not None)
        print(f"{len(items)} pending event(s), {parked} parked", file=sys.stderr)
        return 0
    async with StateStore(path) as store:
        count = await ParkedInbox(store).unpark(args.event_ids or None)
    print(f"{count} parked event(s) released; a running govbot tries them again within "
          "seconds, a stopped one at its start", file=sys.stderr)
    return 0 if count or not args.event_ids else 1


def _line(item: InboxItem) -> str:
    received = dt.datetime.fromtimestamp(item.received_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if item.parked_at is None:
        return f"{item.event_id}\t{item.source}\treceived {received}\tpending"
    return (f"{item.event_id}\t{item.source}\treceived {received}\tparked "
            f"{item.attempts} time(s): {item.error}")


async def _backup(args: argparse.Namespace) -> int:
    from govbot.state.store import StateStore

    path = _database(args)
    async with StateStore(path, read_only=True) as store:
        await store.backup(args.file)
    print(f"{path} copied to {args.file}", file=sys.stderr)
    return 0
