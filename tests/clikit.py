"""Run `govbot ...` in this process (fast, and capsys sees the output).

`govbot.cli.main` configures the root logger for the process, as a command should;
here that is undone afterwards, so the tests after it log as pytest set them up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from govbot import cli
from govbot.plugin import Plugin

_NOISY = ("asyncssh", "git", "aiohttp.access", "pydle")


def run_cli(*argv: str | Path, plugins: Sequence[Plugin] | None = None) -> int:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in _NOISY})
    try:
        return cli.main([str(a) for a in argv], plugins=plugins)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
