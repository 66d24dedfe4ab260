#!/usr/bin/env python3
"""Every benchmark, one after the other, and one table of their figures.

Runs each script of benchmarks/ in its own process (each prints its in-run
baseline where it has one, and the machine's load), shows its output as it ran,
then prints a Markdown table: the figure picked from the output, the budget, and
the load when it ran. That table is the README's Performance section.
Run: `python benchmarks/run_all.py [--quick]` (`--quick`: smaller inputs, a smoke test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _load import load  # noqa: E402


@dataclass(frozen=True)
class Bench:
    what: str  # the table's first column
    args: tuple[str, ...]  # script and arguments
    quick: tuple[str, ...]  # the same, smaller
    figures: tuple[str, ...]  # regexes over the output; their first group, joined
    budget: str


def _ratio(label: str, short: str) -> str:
    """`short: R x (Q-R within rounds), N ev/s` of one replay stage."""
    return (rf"{label}\s*:\s*(?P<rate>[\d,]+) events/s.*?; (?P<best>[\d.]+ x) the baseline, "
            rf"(?P<range>[\d.]+-[\d.]+) within rounds(?P<short>)(?#{short})")


BENCHES = (
    Bench("`replay.py`: 100k events, 1 change in 30 on a governed project "
          "(2.4 % of events), every plugin",
          ("replay.py",), ("replay.py", "--events", "20000", "--rounds", "1"),
          (_ratio("parse stage alone", "parse"),
           _ratio("parse \\+ dispatch, idle plugin", "dispatch, idle plugin"),
           _ratio("full pipeline", "full pipeline")),
          "pipeline ≥ 1.0 x `json.loads` (never < 0.6 x)"),
    Bench("`latency.py`: event → vote POST, 200 ev/s",
          ("latency.py", "--rate", "200"), ("latency.py", "--rate", "200", "--seconds", "3"),
          (r"latency event -> vote POST: (p50 [\d.]+ ms), p90 [\d.]+ ms, (p99 [\d.]+ ms)",
           r"bot CPU.*?, ([\d.]+ ms per event)"),
          "p99 < 25 ms (quiet machine)"),
    Bench("`latency.py --busy`: 200 ev/s, one core kept busy",
          ("latency.py", "--rate", "200", "--busy"),
          ("latency.py", "--rate", "200", "--busy", "--seconds", "3"),
          (r"latency event -> vote POST: (p50 [\d.]+ ms), p90 [\d.]+ ms, (p99 [\d.]+ ms)",
           r"bot CPU.*?, ([\d.]+ ms per event)"),
          "p99 < 50 ms"),
    Bench("`latency.py`: 50 ev/s", ("latency.py", "--rate", "50"),
          ("latency.py", "--rate", "50", "--seconds", "3"),
          (r"latency event -> vote POST: (p50 [\d.]+ ms), p90 [\d.]+ ms, (p99 [\d.]+ ms)",),
          "p99 < 10 ms"),
    Bench("`reevaluate.py`: 5,000 open changes after a reload",
          ("reevaluate.py", "--changes", "5000"), ("reevaluate.py", "--changes", "500"),
          (r"in ([\d.]+ s)", r"memory of the re-evaluation: ([\d.]+ MB)"), "< 1 s"),
    Bench("`reevaluate.py`: 20,000 open changes",
          ("reevaluate.py", "--changes", "20000"), ("reevaluate.py", "--changes", "1000"),
          (r"in ([\d.]+ s)", r"memory of the re-evaluation: ([\d.]+ MB)",
           r"(peak RSS of the bot's process [\d.]+ MB)"),
          "< 4 s, < 100 MB"),
    Bench("`meetings.py`: 10k-line raw log → all four formats",
          ("meetings.py",), ("meetings.py", "--lines", "2000"),
          (r"(interpret) the raw log\s*: best\s+([\d.]+ ms)",
           r"(render) 4 formats\s*: best\s+([\d.]+ ms)",
           r"(whole process: best of \d+ \d+ ms) \((median \d+),.*?(CPU best \d+ ms)",
           r"(`python -c pass` best of \d+ \d+ ms)"),
          "recover ≤ 0.25 s; whole process ≤ 0.4 s"),
    Bench("`catchup.py`: a 20,000-event outage read through the paged events-log",
          ("catchup.py",), ("catchup.py", "--reviews", "1000"),
          (r"caught up ([\d.]+ s) after the restart", r"read in (\d+ catch-up pages)"),
          "≤ 10 s"),
    Bench("`config_load.py`: 1,000 projects, 600 people, 30 bodies",
          ("config_load.py",), ("config_load.py", "--projects", "100"),
          (r"in ([\d.]+ s)",), "< 2 s"),
    Bench("`cli.py`: `govbot ical` on 50 irc-meetings files against yaml2ical's CLI, and "
          "`govbot --help`, whole processes",
          ("cli.py",), ("cli.py", "--files", "10", "--runs", "2"),
          (r"(?m)^summary: (.*)$",),
          "ical < 1 x yaml2ical; --help ≤ 0.3 s"),
    Bench("`schedules.py`: 50 irc-meetings files, a year of occurrences",
          ("schedules.py",), ("schedules.py", "--files", "10"),
          (r"in ([\d.]+ ms)",), "≤ 0.1 s"),
    Bench("`web.py`: the board page with 500 / 5,000 / 20,000 open changes",
          ("web.py",), ("web.py", "--changes", "5000", "--meetings", "20", "--lines", "50"),
          (r"board,\s+5,000 open changes:\s+([\d.]+ ms)",
           r"indexed in [\d.]+ s \(([\d,]+ lines/s)\)"),
          "5,000 < 300 ms"),
)


def run(bench: Bench, quick: bool) -> tuple[str, str, float]:
    """(figure, load, seconds) of one benchmark, its output echoed."""
    args = bench.quick if quick else bench.args
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]],
                          capture_output=True, text=True, cwd=HERE.parent)
    seconds = time.perf_counter() - started
    print(f"$ {' '.join(args)}  (exit {done.returncode}, {seconds:.0f} s)")
    print(done.stdout.rstrip() or done.stderr.rstrip()[-2000:])
    found = []
    for pattern in bench.figures:
        match = re.search(pattern, done.stdout)
        if match is None:
            found.append("(not found)")
        elif "rate" in match.groupdict():  # a replay stage
            short = re.search(r"\(\?#(.*?)\)", pattern)
            found.append(f"{short.group(1) if short else ''} **{match['best']}** "
                         f"({match['range']}), {match['rate']} ev/s")
        else:
            found.append(" ".join(g for g in match.groups() if g))
    loads = re.findall(r"load ([\d.]+) [\d.]+ [\d.]+ on \d+ cores(?:, steal ([\d.]+%))?",
                       done.stdout)
    loaded, steal = loads[-1] if loads else (load().split()[1], "")
    return "; ".join(found), f"{loaded}, steal {steal}" if steal else loaded, seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller inputs (a smoke test)")
    ap.add_argument("--only", default="", help="run the benchmarks whose script has this "
                    "in its name")
    args = ap.parse_args()
    start = dt.datetime.now(dt.UTC)
    rows = []
    for bench in BENCHES:
        if args.only and args.only not in bench.args[0]:
            continue
        figure, loaded, _ = run(bench, args.quick)
        rows.append((bench.what, figure, bench.budget, loaded))
    print(f"\nbenchmarks of {start:%Y-%m-%d %H:%M} UTC, {load()} at the end"
          f"{' (quick inputs)' if args.quick else ''}\n")
    print("| benchmark | figure | budget | load (1 min), host steal |\n|---|---|---|---|")
    for what, figure, budget, loaded in rows:
        print(f"| {what} | {figure} | {budget} | {loaded} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
