#!/usr/bin/env python3
"""`govbot ical` against yaml2ical's own CLI, and `govbot --help`: whole processes.

Writes the 50 irc-meetings files of schedules.py into a git repository (as OpenDev's
irc-meetings is: yaml2ical asks git for each file's last change), then times, in
interleaved rounds after one warm-up run each, with .pyc files as installed (see
_process.py):

  govbot ical DIR OUT.ics                   the calendar of the meetings (budget: faster
  yaml2ical -y DIR/meetings -o OUT.ics -f   than yaml2ical's CLI on the same files)
  govbot --help                             (budget 0.3 s)
  python -c pass                            the interpreter's own start, for scale

and prints each (best, median, worst, CPU, peak RSS), the ratio govbot / yaml2ical (of
the bests, the median of the per-round ratios, and of CPU time) and the machine's load.
Run: `python benchmarks/cli.py [--files 50] [--runs 7]`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load
from _process import NOTE, compare, installed_env, ratios
from schedules import generate

HELP_BUDGET = 0.3


def yaml2ical() -> str | None:
    """yaml2ical's CLI beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "yaml2ical"
    return str(beside) if beside.is_file() else shutil.which("yaml2ical")


def git_repo(root: Path) -> None:
    """Commit the files, so yaml2ical's `git log` per file finds a date, as in irc-meetings."""
    git = ["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "meetings"]):
        subprocess.run([*git, *args], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--runs", type=int, default=7, help="timed rounds")
    args = ap.parse_args()
    reference = yaml2ical()
    with tempfile.TemporaryDirectory(prefix="govbot-ical-") as tmp, installed_env() as env:
        root = Path(tmp) / "irc-meetings"
        root.mkdir()
        slots = generate(root, args.files)
        git_repo(root)
        govbot = [sys.executable, "-m", "govbot"]
        commands = {"govbot ical": [*govbot, "ical", str(root), str(Path(tmp) / "govbot.ics")],
                    "govbot --help": [*govbot, "--help"],
                    "python -c pass": [sys.executable, "-c", "pass"]}
        if reference:
            commands["yaml2ical"] = [reference, "-y", str(root / "meetings"), "-o",
                                     str(Path(tmp) / "yaml2ical.ics"), "-f"]
        # yaml2ical runs `git log` in its working directory: the repository's.
        timings = compare(commands, env, runs=args.runs, cwd=root)
        events = {name: (Path(tmp) / f"{name}.ics").read_bytes().count(b"BEGIN:VEVENT")
                  for name in ("govbot", "yaml2ical") if (Path(tmp) / f"{name}.ics").exists()}
    print(f"{args.files} irc-meetings files ({slots} slots) in a git repository; {load()}; "
          f"{NOTE}")
    for label, timing in timings.items():
        print(f"{label:<15}: {timing}")
    print(f"events written: {events}")
    ical, help_ = timings["govbot ical"], timings["govbot --help"]
    ok = help_.best <= HELP_BUDGET
    print(f"govbot --help, whole process: best {help_.best * 1000:.0f} ms "
          f"(budget {HELP_BUDGET * 1000:.0f} ms)")
    if "yaml2ical" in timings:
        best, per_round = ratios(ical, timings["yaml2ical"])
        print(f"govbot ical / yaml2ical CLI, whole process: {best:.2f} x of the bests, "
              f"{per_round:.2f} x the median round (budget < 1 x)")
        ok = ok and best < 1
        reference_run = timings["yaml2ical"]
        cpu = min(ical.cpu) / min(reference_run.cpu)
        print(f"govbot ical / yaml2ical CLI, CPU time (its git children included): "
              f"{cpu:.2f} x")
        compared = (f"**{best:.2f} x** yaml2ical (median round {per_round:.2f} x; CPU "
                    f"{cpu:.2f} x): {ical.best * 1000:.0f} ms against "
                    f"{reference_run.best * 1000:.0f} ms")
    else:
        print("yaml2ical is not installed: no comparison (pip install yaml2ical)")
        compared = f"{ical.best * 1000:.0f} ms, yaml2ical not installed"
    # One line for run_all.py's table.
    print(f"summary: ical {compared}; --help {help_.best * 1000:.0f} ms (CPU "
          f"{min(help_.cpu) * 1000:.0f} ms); "
          f"`python -c pass` {timings['python -c pass'].best * 1000:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
