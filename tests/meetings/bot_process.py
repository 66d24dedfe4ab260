"""`python -m tests.meetings.bot_process SETTINGS MINUTES_DIR`: the daemon with the meetings
plugin and the minutes reporter, as its own process, so a test can SIGKILL it mid-meeting."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from govbot.actions import Action, Vote
from govbot.daemon import Daemon, _main
from govbot.logs import setup_logging
from govbot.minutes import MinutesReporter
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.settings import load_settings


class NoGerritVotes:
    """Without Gerrit settings no reporter takes `Vote`, and the daemon would refuse to
    start (the meetings plugin may emit one): drop them, as a deployment without Gerrit
    must (see the report: a core change)."""

    action_types: tuple[type[Action], ...] = (Vote,)

    async def report(self, action: Action) -> None:
        return None


def main() -> int:
    setup_logging(level="INFO")
    settings = load_settings(Path(sys.argv[1]))
    daemon = Daemon(settings, plugins=[MeetingsPlugin()])
    daemon.extra_reporters.append(MinutesReporter(Path(sys.argv[2])))
    if settings.gerrit is None:
        daemon.extra_reporters.append(NoGerritVotes())
    return asyncio.run(_main(daemon))


if __name__ == "__main__":
    raise SystemExit(main())
