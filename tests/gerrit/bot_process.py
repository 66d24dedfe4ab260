"""`python -m tests.gerrit.bot_process SETTINGS`: the daemon with the test Approver plugin,
as its own process, so a test can SIGKILL it mid-flight."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from govbot.daemon import Daemon, _main
from govbot.logs import setup_logging
from govbot.settings import load_settings
from tests.gerrit.harness import Approver


def main() -> int:
    setup_logging(level="INFO")
    daemon = Daemon(load_settings(Path(sys.argv[1])), plugins=[Approver()])
    return asyncio.run(_main(daemon))


if __name__ == "__main__":
    raise SystemExit(main())
