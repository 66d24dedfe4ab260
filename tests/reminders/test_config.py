"""The plugin's three sections: every problem at its FILE:LINE, and what a good file means."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from govbot.plugins.reminders.config import Grace
from tests.reminders.kit import at, load, loaded, make_repo

BAD_MEETING = """project: Bad
chair: X
description: y
agenda_ulr: http://x
schedule:
  - time: 1500
    day: Thursdy
    irc: m
    frequency: weekly
  - time: '2500'
    day: Monday
    irc: m
    frequency: biweekly-od
  - time: '1000'
    day: Tuesday
    frequency: weekly
  - time: '1000'
    day: Wednesday
    irc: m
    frequency: first-thursday
  - time: '1200'
    day: Friday
    irc: m
    frequency: weekly
    start_date: 20260102
    duration: 2000
    frequncy: weekly
    skip_dates:
      - skip_date: 20260109
      - skip_date: 20260110
        reason: not a friday
  - time: '1300'
    day: Friday
    irc: m
    frequency: biweekly-od
    start_date: 2026-01-02
"""
NO_CHAIR = """project: No chair
description: y
schedule:
  - time: '1000'
    day: Monday
    irc: z
    frequency: weekly
"""
REMINDERS = """grace: {meetings: 15x, deadlines: 1d}
meetings:
  minutes_before: 15
  overrides:
    good: {minutes_before: 5, ping: [ada], ping_body: tc}
    gone: {remind: false}
    bad: {ping_body: tcc}
digests:
  - time: '0900'
    days: [monday, thursday]
    bodies: [tc, nova-core]
  - days: [friday]
deadlines:
  offsets: [7d, 1d 12h, 0]
"""
DEADLINES = """nominations:
  title: Nominations open
  at: '2026-12-01 00:00'
  body: tc
  remind: [7d, 0]
bad-date:
  title: x
  at: 'next tuesday'
  channels: ['#x']
nowhere:
  title: y
  at: 2026-12-01
"""
GOOD = "project: Good\nchair: c\ndescription: d\nschedule:\n" \
       "  - {time: '0800', day: Monday, irc: q, frequency: weekly}\n"


def test_every_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {
        "meetings/bad.yaml": BAD_MEETING, "meetings/nochair.yaml": NO_CHAIR,
        "meetings/good.yaml": GOOD, "reminders.yaml": REMINDERS, "deadlines.yaml": DEADLINES,
        # the MeetBot plugin's file: skipped by this plugin (its YAML is still read once)
        "meetings/meetbot-tc.yaml": "channel: '#example-tc'\n",
    })
    result = load(root)
    assert result.lines() == [
        "deadlines.yaml:8: 'at' must be a UTC date and time like '2026-12-01 18:00', got "
        "'next tuesday'",
        "deadlines.yaml:10: deadline 'nowhere' says nowhere to remind: give 'channels' or a "
        "'body' with a channel",
        "meetings/bad.yaml:6: 'time' must be quoted text like '1500', got the number 1500; "
        "YAML reads unquoted times as numbers (0700 would even be 448)",
        "meetings/bad.yaml:7: 'day' must be a day of the week like 'Thursday', got 'Thursdy' "
        "(did you mean 'Thursday'?)",
        "meetings/bad.yaml:10: 'time' must be a UTC time 'HHMM' like '1500', got '2500'",
        "meetings/bad.yaml:14: a schedule entry needs 'irc' (the channel, without '#')",
        "meetings/bad.yaml:18: 'day' is Wednesday but the frequency 'first-thursday' is on "
        "Thursdays; make them agree (yaml2ical would use one for the first date and the "
        "other for the repeats)",
        "meetings/bad.yaml:26: 'duration' must be between 1 and 1440 minutes, got 2000",
        "meetings/bad.yaml:29: required key 'reason' is missing in a skip date",
        "meetings/bad.yaml:35: 'frequency' must be one of yaml2ical's: " + ", ".join(
            __import__("yaml2ical.recurrence").recurrence.supported_recurrences)
        + "; got 'biweekly-od' (did you mean 'biweekly-odd'?)",
        "meetings/bad.yaml:36: 'start_date' must be a date YYYYMMDD like 20260102 "
        "(yaml2ical's format), got '2026-01-02'",
        "meetings/nochair.yaml:1: required key 'chair' is missing in a meeting file (yaml2ical "
        "needs it unless every schedule entry has its own)",
        "reminders.yaml:1: 'meetings' must be a duration like '7d', '12h', '30m' or '1d 12h', "
        "got '15x'",
        "reminders.yaml:6: no meeting file meetings/gone.yaml; "
        "overrides are keyed by the file name without '.yaml'",
        "reminders.yaml:7: unknown body 'tcc' (did you mean 'tc'?); bodies are defined in "
        "bodies.yaml",
        "reminders.yaml:11: body 'nova-core' has no 'channel' in bodies.yaml; give it one, or "
        "name a 'channel' here",
        "reminders.yaml:12: required key 'time' is missing in a digest",
        # A broken meeting file is left out (its errors above fail check-config; the
        # daemon reminds the other meetings).
        "meetings/bad.yaml:1: warning: this meeting is unavailable (not reminded) until its "
        "errors are fixed; the other meetings are",
        "meetings/bad.yaml:4: warning: unknown key 'agenda_ulr' in a meeting file (did you "
        "mean 'agenda_url'?); kept as a yaml2ical extra",
        # yaml2ical ignores unknown keys in a schedule entry ('end_date' in real files).
        "meetings/bad.yaml:27: warning: unknown key 'frequncy' in a schedule entry (did you "
        "mean 'frequency'?); yaml2ical ignores it, so does govbot",
        "meetings/bad.yaml:30: warning: skip_date 20260110 (Saturday) is not a day this entry "
        "meets (Friday 12:00-13:00 UTC (weekly), from 20260102): it skips nothing",
        "meetings/nochair.yaml:1: warning: this meeting is unavailable (not reminded) until "
        "its errors are fixed; the other meetings are",
    ]
    assert [str(e) for e in result.item_errors][-1].startswith("meetings/nochair.yaml:1:")


def test_a_good_config_means_what_it_says(tmp_path: Path) -> None:
    reminders = REMINDERS.replace("15x", "20m").replace("    bad: {ping_body: tcc}\n", "") \
        .replace("    gone: {remind: false}\n", "").replace(", nova-core", "") \
        .replace("  - days: [friday]\n", "")
    deadlines = DEADLINES.split("bad-date:")[0]
    root = make_repo(tmp_path, {"meetings/good.yaml": GOOD, "reminders.yaml": reminders,
                                "deadlines.yaml": deadlines})
    _, schedules = loaded(root)
    settings = schedules.settings
    assert settings.grace == Grace(meetings=dt.timedelta(minutes=20),
                                   deadlines=dt.timedelta(days=1),
                                   digests=dt.timedelta(hours=2))
    assert settings.minutes_before == 15
    good = settings.overrides["good"]
    assert (good.minutes_before, good.ping, good.ping_body, good.remind) == (
        5, ("ada",), "tc", True)
    (digest,) = settings.digests
    assert (digest.key, digest.time, digest.days, digest.bodies) == (
        "digest-0900-03-tc", dt.time(9), (0, 3), ("tc",))
    assert settings.deadline_offsets == (dt.timedelta(days=7), dt.timedelta(days=1, hours=12),
                                         dt.timedelta(0))
    (deadline,) = schedules.deadlines
    assert (deadline.id, deadline.at, deadline.channels, deadline.offsets) == (
        "nominations", at(2026, 12, 1), ("#example-tc",), (dt.timedelta(days=7),
                                                           dt.timedelta(0)))
    (meeting,) = schedules.meetings
    assert (meeting.file, meeting.key, meeting.slots[0].irc) == ("meetings/good.yaml", "good",
                                                                 "#q")


def test_without_its_files_the_plugin_has_defaults(tmp_path: Path) -> None:
    _, schedules = loaded(make_repo(tmp_path, {}))
    assert (schedules.meetings, schedules.deadlines, schedules.settings.minutes_before,
            schedules.settings.digests) == ((), (), 10, ())
