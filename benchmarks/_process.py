"""Whole-process timings of a command as an installed govbot runs it: with .pyc files.

The development machine sets PYTHONDONTWRITEBYTECODE=1, so every process started there
compiles every module it imports; an installed govbot (wheel, container image) has
them compiled. The commands timed here run with PYTHONDONTWRITEBYTECODE removed and
PYTHONPYCACHEPREFIX pointing at a temporary directory, each once before it is timed
(that run writes the .pyc files). Commands compared are timed in interleaved rounds
(A, B, A, B...), so a change of the machine's load falls on both, and each run's CPU
time (user + system, from wait4) is printed beside its wall time: other work on
the machine stretches the wall time far more than the CPU time. The peak RSS is
taken from one more run under /usr/bin/time (a child forked from the benchmark
would count the benchmark's own memory), when it is installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: What every whole-process figure says about how it was taken.
NOTE = ("with .pyc files as installed (PYTHONDONTWRITEBYTECODE unset, PYTHONPYCACHEPREFIX "
        "a temp dir), each command run once before timing")


@dataclass(frozen=True)
class Timing:
    runs: tuple[float, ...]  # wall seconds, in the order run
    cpu: tuple[float, ...]  # CPU seconds (user + system) of the same runs
    rss_mib: float | None  # peak RSS of one run (None: no /usr/bin/time)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return sorted(self.runs)[len(self.runs) // 2]

    def __str__(self) -> str:
        return (f"best of {len(self.runs)} {self.best * 1000:.0f} ms (median "
                f"{self.median * 1000:.0f}, worst {max(self.runs) * 1000:.0f}), CPU best "
                f"{min(self.cpu) * 1000:.0f} ms"
                + (f", {self.rss_mib:.0f} MiB" if self.rss_mib is not None else ""))


@contextlib.contextmanager
def installed_env() -> Iterator[dict[str, str]]:
    """The environment of an installed govbot: .pyc files written and read (a temp dir)."""
    with tempfile.TemporaryDirectory(prefix="govbot-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        yield env


def run_once(command: Sequence[str], env: Mapping[str, str],
             cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run; output discarded, a failure raised."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(list(command), env=dict(env), cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)}: exit {proc.returncode}\n"
                               f"{errors.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime


def peak_rss(command: Sequence[str], env: Mapping[str, str],
             cwd: Path | None = None) -> float | None:
    """MiB, as /usr/bin/time measures one run (None: not installed)."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time is None:
        return None
    done = subprocess.run([gnu_time, "-f", "%M", *command], env=dict(env), cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return int(done.stderr.split()[-1]) / 1024


def compare(commands: Mapping[str, Sequence[str]], env: Mapping[str, str], *, runs: int = 5,
            cwd: Path | None = None) -> dict[str, Timing]:
    """Each command once (warm-up), then `runs` interleaved rounds of all of them."""
    for command in commands.values():
        run_once(command, env, cwd)
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            times[label].append(run_once(command, env, cwd))
    return {label: Timing(tuple(w for w, _ in times[label]), tuple(c for _, c in times[label]),
                          peak_rss(command, env, cwd))
            for label, command in commands.items()}


def ratios(a: Timing, b: Timing) -> tuple[float, float]:
    """(best a / best b, median of the per-round ratios a/b)."""
    per_round = sorted(x / y for x, y in zip(a.runs, b.runs, strict=True))
    return a.best / b.best, per_round[len(per_round) // 2]
