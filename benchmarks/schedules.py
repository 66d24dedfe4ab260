#!/usr/bin/env python3
"""Meeting schedules: load 50 irc-meetings files and compute a year of occurrences.

Generates 50 files shaped like OpenDev's irc-meetings repo: most meetings weekly,
pairs of teams sharing a meeting channel on alternate (odd/even) weeks, four-weekly
and monthly ones, adhoc slots, skip dates, some files without start_date, one in
five with a second slot. It then times, best of 5: `load_config` with the
reminders plugin's sections (YAML, validation, yaml2ical's schedule reading, the
conflict check over every shared channel) plus every slot's occurrences over a
year that crosses a week 53 (2026-07-01 to 2027-07-01). Budget: 0.1 s
(DESIGN.md). Run: `python benchmarks/schedules.py [--files 50]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from govbot.config.loader import load_config
from govbot.plugins.reminders.plugin import SECTIONS, schedules_of

BUDGET = 0.1
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SHARED = ("openstack-meeting", "openstack-meeting-alt", "openstack-meeting-3",
          "openstack-meeting-4")


def slot(n: int) -> str:
    """The n-th slot. Eight at a time share a day and hour: in each of three shared
    channels two meetings alternate (odd/even weeks, quadweekly weeks 1 and 3, weeks 0
    and 2), so the conflict check must walk their occurrences; then a monthly one and
    an adhoc one in a project channel."""
    day, hour = DAYS[(n // 8) % len(DAYS)], 7 + (n // 40) % 14
    channel = SHARED[(n % 8) // 2]
    frequency = ("biweekly-even", "biweekly-odd", "quadweekly-week-1", "quadweekly-week-3",
                 "quadweekly", "quadweekly-week-2", f"first-{day.lower()}", "adhoc")[n % 8]
    if frequency == "adhoc":
        channel = f"project-{n}"
    text = (f"  - time: '{hour:02d}00'\n    day: {day}\n    irc: {channel}\n"
            f"    frequency: {frequency}\n")
    if n % 3:
        text += f"    start_date: 2025{(n % 12) + 1:02d}01\n"
    return text


def weekly(i: int) -> str:
    return (f"  - time: '1200'\n    day: {DAYS[i % 5]}\n    irc: team-{i}\n"
            "    frequency: weekly\n    start_date: 20250106\n    skip_dates:\n"
            "      - skip_date: 20261224\n        reason: holidays\n")


def generate(root: Path, files: int) -> int:
    (root / "meetings").mkdir()
    slots = 0
    for i in range(files):
        body = slot(slots) + (weekly(i) if i % 5 == 0 else "")
        slots += 2 if i % 5 == 0 else 1
        (root / "meetings" / f"team-{i:02d}.yaml").write_text(
            f"project: Team {i}\nmeeting_id: team{i}\n"
            f"agenda_url: https://wiki.example.org/Meetings/Team{i}\n"
            f"chair: Chair {i}\ndescription: >\n  The meeting of team {i}.\n"
            f"schedule:\n{body}")
    return slots


def run_once(root: Path) -> tuple[float, int, int]:
    since = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    until = since.replace(year=2027)
    started = time.perf_counter()
    result = load_config(root, [("reminders", s) for s in SECTIONS])
    if result.config is None:
        raise SystemExit("\n".join(result.lines()[:10]))
    meetings = schedules_of(result.config).meetings
    count = sum(1 for m in meetings for s in m.slots for _ in s.occurrences(since, until))
    return time.perf_counter() - started, len(meetings), count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        slots = generate(root, args.files)
        runs = [run_once(root) for _ in range(5)]
    best = min(r[0] for r in runs)
    _, meetings, count = runs[0]
    print(f"{meetings} irc-meetings files ({slots} slots): loaded, validated, conflict-"
          f"checked and {count} occurrences over a year computed in {best * 1000:.1f} ms "
          f"(best of 5; budget {BUDGET * 1000:.0f} ms)")
    return 0 if best <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
