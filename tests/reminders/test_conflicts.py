"""check-config's meeting conflict check: exact FILE:LINE messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reminders.kit import load, make_repo


def meeting(project: str, *slots: str) -> str:
    """A meeting file; each slot is 'Day HHMM channel frequency [duration] [start]'."""
    lines = [f"project: {project}", "chair: Someone", "description: test", "schedule:"]
    for spec in slots:
        day, time, channel, frequency, *rest = spec.split()
        lines += [f"  - time: '{time}'", f"    day: {day}", f"    irc: {channel}",
                  f"    frequency: {frequency}"]
        if rest:
            lines.append(f"    duration: {rest[0]}")
        lines.append(f"    start_date: {rest[1] if len(rest) > 1 else '20260101'}")
    return "\n".join(lines) + "\n"


def errors(tmp_path: Path, files: dict[str, str]) -> list[str]:
    """Conflicts are errors about meetings (item errors): they fail check-config, while
    the rest of the config, and both meetings, stay in force."""
    result = load(make_repo(tmp_path, files))
    assert result.errors == [] and result.config is not None
    return [str(e) for e in result.item_errors]


# Slot lines start at line 5 of a file (4 header lines), then every 5 lines (6 with
# a duration).
CASES: list[tuple[str, dict[str, str], list[str]]] = [
    ("same-time-two-files", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m weekly"),
        "meetings/b.yaml": meeting("B", "Thursday 1530 m weekly"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Thursday 15:30-16:30 UTC (weekly) "
        "overlaps Thursday 15:00-16:00 UTC (weekly) of 'A' (meetings/a.yaml), first on "
        "2026-01-01 15:30 UTC; move one of them, or change its channel or weeks "
        "(also at meetings/a.yaml:5)"]),
    ("odd-and-even-alternate", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m biweekly-odd"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 m biweekly-even"),
    }, []),
    ("odd-and-quadweekly-week-1-share-weeks", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m biweekly-odd"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 m quadweekly-week-1"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Thursday 15:00-16:00 UTC "
        "(quadweekly-week-1) overlaps Thursday 15:00-16:00 UTC (biweekly-odd) of 'A' "
        "(meetings/a.yaml), first on 2026-01-01 15:00 UTC; move one of them, or change its "
        "channel or weeks (also at meetings/a.yaml:5)"]),
    ("even-and-quadweekly-week-1-never-meet", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m biweekly-even"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 m quadweekly-week-1"),
    }, []),
    ("back-to-back-is-fine", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m weekly"),
        "meetings/b.yaml": meeting("B", "Thursday 1600 m weekly"),
    }, []),
    ("other-channel-is-fine", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m weekly"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 n weekly"),
    }, []),
    ("channel-names-ignore-case", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 Meeting-Room weekly"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 meeting-room weekly"),
    }, ["meetings/b.yaml:5: meeting conflict in #meeting-room: Thursday 15:00-16:00 UTC "
        "(weekly) overlaps Thursday 15:00-16:00 UTC (weekly) of 'A' (meetings/a.yaml), "
        "first on 2026-01-01 15:00 UTC; move one of them, or change its channel or weeks "
        "(also at meetings/a.yaml:5)"]),
    ("two-slots-of-one-meeting", {
        "meetings/a.yaml": meeting("A", "Tuesday 0900 m weekly 120",
                                   "Tuesday 1000 m biweekly-even"),
    }, ["meetings/a.yaml:11: meeting conflict in #m: Tuesday 10:00-11:00 UTC "
        "(biweekly-even) overlaps Tuesday 09:00-11:00 UTC (weekly) of another entry of this "
        "meeting, first on 2026-01-06 10:00 UTC; move one of them, or change its channel or "
        "weeks (also at meetings/a.yaml:5)"]),
    ("adhoc-claims-its-slot-every-week", {
        "meetings/a.yaml": meeting("A", "Friday 1700 m biweekly-odd"),
        "meetings/b.yaml": meeting("B", "Friday 1730 m adhoc"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Friday 17:30-18:30 UTC (adhoc) "
        "overlaps Friday 17:00-18:00 UTC (biweekly-odd) of 'A' (meetings/a.yaml), in any "
        "week (an adhoc meeting may be called in any week); move one of them, or change its "
        "channel or weeks (also at meetings/a.yaml:5)"]),
    ("sunday-night-runs-into-monday", {
        "meetings/a.yaml": meeting("A", "Sunday 2330 m weekly 60"),
        "meetings/b.yaml": meeting("B", "Monday 0000 m weekly"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Monday 00:00-01:00 UTC (weekly) "
        "overlaps Sunday 23:30-00:30 UTC (weekly) of 'A' (meetings/a.yaml), first on "
        "2026-01-05 00:00 UTC; move one of them, or change its channel or weeks "
        "(also at meetings/a.yaml:5)"]),
    # Odd Sunday nights normally run into even Mondays; the Sunday of week 53 runs into
    # the Monday of week 1, also odd: a clash that only exists around week 53.
    ("only-around-week-53", {
        "meetings/a.yaml": meeting("A", "Sunday 2330 m biweekly-odd 60"),
        "meetings/b.yaml": meeting("B", "Monday 0000 m biweekly-odd"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Monday 00:00-01:00 UTC (biweekly-odd) "
        "overlaps Sunday 23:30-00:30 UTC (biweekly-odd) of 'A' (meetings/a.yaml), first on "
        "2027-01-04 00:00 UTC; move one of them, or change its channel or weeks "
        "(also at meetings/a.yaml:5)"]),
    ("monthly-against-biweekly", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m first-thursday"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 m biweekly-even"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Thursday 15:00-16:00 UTC "
        "(biweekly-even) overlaps Thursday 15:00-16:00 UTC (first-thursday) of 'A' "
        "(meetings/a.yaml), first on 2026-02-05 15:00 UTC; move one of them, or change its "
        "channel or weeks (also at meetings/a.yaml:5)"]),
    ("first-and-second-tuesday-never-meet", {
        "meetings/a.yaml": meeting("A", "Tuesday 1500 m first-tuesday"),
        "meetings/b.yaml": meeting("B", "Tuesday 1500 m second-tuesday"),
    }, []),
    ("later-start-counts", {
        "meetings/a.yaml": meeting("A", "Thursday 1500 m weekly"),
        "meetings/b.yaml": meeting("B", "Thursday 1500 m weekly 60 20270301"),
    }, ["meetings/b.yaml:5: meeting conflict in #m: Thursday 15:00-16:00 UTC (weekly) "
        "overlaps Thursday 15:00-16:00 UTC (weekly) of 'A' (meetings/a.yaml), first on "
        "2027-03-04 15:00 UTC; move one of them, or change its channel or weeks "
        "(also at meetings/a.yaml:5)"]),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_conflicts(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    assert errors(tmp_path, files) == expected


def test_the_example_repo_alternates_without_conflicts() -> None:
    from tests.reminders.kit import EXAMPLE

    result = load(EXAMPLE)
    assert [str(e) for e in result.errors] == []
