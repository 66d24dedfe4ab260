"""What every benchmark prints with its figures: the machine's load, and a way to
keep one core busy (a CPU-bound child process) while measuring.

On a virtual machine the host may run other guests on our cores: the time it takes
("steal", in /proc/stat) is printed as a share of the CPU time since the benchmark
started. Latency tails double in runs with a few percent of it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator


def _cpu_times() -> list[int] | None:
    """The machine's CPU time so far by kind (user, nice, system, idle, iowait, irq,
    softirq, steal), in clock ticks; None where /proc/stat does not say."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return [int(x) for x in fields[1:9]] if fields[:1] == ["cpu"] else None
    except (OSError, ValueError):
        return None


_STARTED = _cpu_times()


def load() -> str:
    """The 1/5/15-minute load averages, the core count and the host's steal since the
    benchmark started, for the report line."""
    one, five, fifteen = os.getloadavg()
    text = f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
    now = _cpu_times()
    if _STARTED is not None and now is not None and len(now) == 8:
        spent = [b - a for a, b in zip(_STARTED, now, strict=True)]
        if sum(spent) > 0:
            text += f", steal {100 * spent[7] / sum(spent):.1f}%"
    return text


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
