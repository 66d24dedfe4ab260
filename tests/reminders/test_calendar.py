"""The .ics writer: the same dates as the reminders, stable unique UIDs, EXDATEs only."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import icalendar
import pytest

from govbot.plugins.reminders.calendar import build_calendar, calendar_bytes, slot_runs
from govbot.plugins.reminders.plugin import Schedules
from tests.clikit import run_cli
from tests.reminders.kit import DATA, UTC, at, expand, loaded, make_repo


def ical_command(root: Path, out: Path) -> int:
    return run_cli("ical", root, out)

UNTIL = dt.date(2033, 1, 1)
STAMP = at(2026, 1, 1)
DEADLINES = """freeze:
  title: Feature freeze
  at: '2026-12-03 12:00'
  channels: ['#example-dev']
  url: https://releases.example.org/freeze
  remind: [7d, 1h, 0]
"""


@pytest.fixture
def schedules(tmp_path: Path) -> Schedules:
    root = make_repo(tmp_path, {"deadlines.yaml": DEADLINES})
    shutil.copytree(DATA / "compare" / "meetings", root / "meetings")
    return loaded(root)[1]


def events(schedules: Schedules) -> list[icalendar.Event]:
    data = calendar_bytes(schedules, until=UNTIL, stamp=STAMP)
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_every_slot_has_exactly_its_occurrences(schedules: Schedules) -> None:
    found = events(schedules)
    since, until = at(2014, 1, 1), dt.datetime.combine(UNTIL, dt.time(), tzinfo=UTC)
    for meeting in schedules.meetings:
        for slot in meeting.slots:
            prefix = f"{meeting.key}-{slot.key}"
            mine = [e for e in found if str(e["uid"]).startswith(prefix)]
            expanded = sorted(t for e in mine for t in expand(e, since, until))
            assert expanded == [o.start for o in slot.occurrences(since, until)], prefix
            if slot.recurrence.kind == "adhoc":
                assert mine == []


def test_no_cancelled_events_and_skip_dates_are_exdates(schedules: Schedules) -> None:
    found = events(schedules)
    assert not [e for e in found if "CANCELLED" in str(e["summary"])]
    exdates = {str(e["uid"]): [d.dt for line in (e["exdate"] if isinstance(e["exdate"], list)
                                                 else [e["exdate"]]) for d in line.dts]
               for e in found if "exdate" in e}
    assert exdates == {
        "weekly-monday-1000-c-weekly@govbot": [at(2026, 1, 19, 10), at(2026, 12, 28, 10)],
        "biweekly-odd-thursday-1600-c-biweekly-odd-20260101@govbot": [at(2026, 1, 29, 16)],
        "biweekly-even-tuesday-0900-c-biweekly-even-20260106@govbot": [at(2026, 12, 22, 9)],
        "monthly-tuesday-1400-c-monthly@govbot": [at(2026, 3, 10, 14)],
    }


def test_uids_are_unique_and_runs_break_at_week_53(schedules: Schedules) -> None:
    uids = [str(e["uid"]) for e in events(schedules)]
    assert [u for u, n in Counter(uids).items() if n > 1] == []
    odd = [u for u in uids if u.startswith("biweekly-odd-")]
    # 2026 and 2032 have a week 53: a new run starts in each following week 1
    assert odd == ["biweekly-odd-thursday-1600-c-biweekly-odd-20260101@govbot",
                   "biweekly-odd-thursday-1600-c-biweekly-odd-20270107@govbot"]
    # (the next run would start on 2033-01-06, after UNTIL)
    rrules = {str(e["uid"]): e["rrule"].to_ical().decode() for e in events(schedules)
              if "rrule" in e}
    assert rrules["biweekly-odd-thursday-1600-c-biweekly-odd-20260101@govbot"] == \
        "FREQ=WEEKLY;UNTIL=20261231T160000Z;INTERVAL=2"
    assert rrules["weekly-monday-1000-c-weekly@govbot"] == "FREQ=WEEKLY"
    assert rrules["monthly-monday-1400-c-monthly@govbot"] == "FREQ=MONTHLY;BYDAY=1MO"


def test_runs_of_a_quadweekly_slot(schedules: Schedules) -> None:
    slot = next(s for m in schedules.meetings for s in m.slots
                if s.frequency == "quadweekly-week-1")
    runs = slot_runs(slot, dt.date(2027, 3, 1))
    assert [(r[0].isoformat(), r[-1].isoformat()) for r in runs] == [
        ("2026-01-02", "2027-01-01"), ("2027-01-08", "2027-02-05")]  # W01..W53, W01..


def test_the_deadline_event_and_its_alarms(schedules: Schedules) -> None:
    (event,) = [e for e in events(schedules) if str(e["uid"]) == "deadline-freeze@govbot"]
    assert event.decoded("dtstart") == at(2026, 12, 3, 12)
    assert str(event["summary"]) == "Feature freeze"
    assert str(event["url"]) == "https://releases.example.org/freeze"
    assert [a.decoded("trigger") for a in event.walk("VALARM")] == [
        -dt.timedelta(days=7), -dt.timedelta(hours=1)]


def test_same_files_same_bytes_and_slot_order_does_not_change_uids(
        schedules: Schedules, tmp_path: Path) -> None:
    assert calendar_bytes(schedules, until=UNTIL, stamp=STAMP) == \
        calendar_bytes(schedules, until=UNTIL, stamp=STAMP)
    text = (DATA / "compare" / "meetings" / "monthly.yaml").read_text()
    head, *slots = text.split("  - time:")
    swapped = make_repo(tmp_path / "swapped", {
        "meetings/monthly.yaml": head + "  - time:" + "  - time:".join(reversed(slots))})
    again = build_calendar(loaded(swapped)[1], until=UNTIL, stamp=STAMP)
    uids = sorted(str(e["uid"]) for e in again.walk("VEVENT"))
    assert uids == sorted(str(e["uid"]) for e in events(schedules)
                          if str(e["uid"]).startswith("monthly-"))


def test_ical_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path, {"deadlines.yaml": DEADLINES})
    shutil.copytree(DATA / "compare" / "meetings", root / "meetings")
    out = tmp_path / "out.ics"
    assert ical_command(root, out) == 0
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    assert len(list(calendar.walk("VEVENT"))) >= 15
    assert "out.ics:" in capsys.readouterr().err

    (root / "meetings" / "weekly.yaml").write_text("project: x\n")
    assert ical_command(root, tmp_path / "bad.ics") == 1
    err = capsys.readouterr().err
    assert "meetings/weekly.yaml:1: required key 'description' is missing" in err
    assert not (tmp_path / "bad.ics").exists()


def test_the_bytes_are_icalendars_own(schedules: Schedules) -> None:
    # calendar_bytes folds the lines itself (fast); it must write what to_ical() writes.
    built = build_calendar(schedules, until=UNTIL, stamp=STAMP)
    assert calendar_bytes(schedules, until=UNTIL, stamp=STAMP) == built.to_ical()


@pytest.mark.parametrize("text", [
    "", "a" * 74, "a" * 75, "a" * 148, "a" * 149, "a" * 73 + "\\n" + "b" * 80,
    "a" * 72 + "\\;" + "b" * 80, "^" * 200, "\\" * 200, "a" * 73 + "^^" + "c" * 75,
    "DESCRIPTION:Réunion " + "é" * 60 + "\\n" + "x" * 90, "日本" * 50,
])
def test_lines_are_folded_as_icalendar_folds_them(text: str) -> None:
    from icalendar.parser import Contentline

    from govbot.plugins.reminders.ics import folded

    line = Contentline(text)
    assert folded(line) == line.to_ical()


def test_the_writer_is_icalendar_byte_for_byte_on_awkward_events() -> None:
    # ics.py writes what icalendar writes; here on text with every escape, line break,
    # non-ASCII and long line, and every kind of rule, duration and alarm.
    import random

    from govbot.plugins.reminders.calendar import NAME, PRODID, _icalendar
    from govbot.plugins.reminders.ics import Alarm, CalendarEvent, ics_bytes, writable

    pick = random.Random(18)
    parts = ["a", " ", ",", ";", "\\", "\\N", "\n", "\r\n", "\r", "é", "日本", "^", ":", '"',
             "x" * 30, "https://x.org/?a=1&b=2"]

    def text() -> str:
        return "".join(pick.choice(parts) for _ in range(pick.randint(1, 40)))

    events = []
    for _ in range(300):
        start = at(2026, 1, 1) + dt.timedelta(minutes=pick.randint(0, 10**6))
        events.append(CalendarEvent(
            uid=text() + "@govbot", stamp=start, summary=text(), start=start,
            duration=pick.choice([dt.timedelta(0), dt.timedelta(minutes=pick.randint(1, 3000)),
                                  dt.timedelta(seconds=pick.randint(1, 100000))]),
            description=pick.choice([None, text()]), location=pick.choice([None, text()]),
            url=pick.choice([None, "https://e.org/" + "p" * pick.randint(0, 90)]),
            rrule=pick.choice([None, {"freq": "weekly"}, {"freq": "monthly", "byday": "2TU"},
                               {"freq": "weekly", "interval": 2,
                                "until": start + dt.timedelta(days=300)}]),
            exdates=tuple(start + dt.timedelta(days=7 * k) for k in range(pick.randint(0, 12))),
            alarms=tuple(Alarm(text(), -pick.choice([dt.timedelta(days=7), dt.timedelta(hours=1),
                                                     dt.timedelta(seconds=3661)]))
                         for _ in range(pick.randint(0, 2)))))
    assert writable(events)
    assert ics_bytes(events, prodid=PRODID, name=NAME) == _icalendar(events, NAME).to_ical()


def test_govbot_ical_writes_without_importing_icalendar(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = make_repo(tmp_path / "repo", {"deadlines.yaml": DEADLINES})
    shutil.copytree(DATA / "compare" / "meetings", root / "meetings")
    out = tmp_path / "meetings.ics"
    code = ("import sys; from govbot import cli; "
            f"rc = cli.main(['ical', {str(root)!r}, {str(out)!r}]); "
            "print(rc, 'icalendar' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split()[-2:] == ["0", "False"]
    assert icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
