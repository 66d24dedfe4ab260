"""What every benchmark prints with its figures: the machine's load, and a way to
keep one core busy (a CPU-bound child process) while measuring."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator


def load() -> str:
    """The 1/5/15-minute load averages and the core count, for the report line."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


@contextlib.contextmanager
def busy_core(enabled: bool = True) -> Iterator[None]:
    """A process spinning on one core for the duration (another tenant's work)."""
    if not enabled:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()
