"""irc-meetings files as the real repository's history has them, read as yaml2ical reads them.

Across the history of opendev's irc-meetings, files yaml2ical 0.15 accepts hold
`description:` with no value, duplicate keys (PyYAML keeps the last), `irc:` text
that is no channel ('Google hangout'), `time: '800'` and unknown keys such as
`end_date`. Each loads, with a warning at its line and the meaning yaml2ical gives
it; a file yaml2ical rejects makes only that meeting unavailable, never the others.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from yaml2ical import meeting as y2i_meeting
from yaml2ical.recurrence import supported_recurrences

from govbot.config.yamlpos import ItemError
from govbot.plugins.reminders.irc_meetings import Meetings
from govbot.plugins.reminders.plugin import schedules_of
from govbot.plugins.reminders.schedule import Slot
from govbot.plugins.reminders.streams import MeetingStream, build_streams
from tests.reminders.kit import at, load, make_repo

EMPTY_DESCRIPTION = """\
project: Empty description
meeting_id: empty
agenda_url: https://example.org/agenda
chair: Ada
description:
schedule:
  - time: '1500'
    day: Monday
    irc: openstack-meeting
    frequency: weekly
    start_date: 20260105
"""
DUPLICATE_KEY = """\
project: Duplicate key
meeting_id: dup
agenda_url: https://example.org/old
chair: Bruno
description: Two agenda_url lines
agenda_url: https://example.org/new
schedule:
  - time: '1600'
    day: Tuesday
    irc: openstack-meeting
    frequency: biweekly-odd
    start_date: 20260106
"""
HANGOUT = """\
project: Hangout
meeting_id: hangout
chair: Chiara
description: Held on a video call
schedule:
  - time: '1700'
    day: Wednesday
    irc: Google hangout
    frequency: weekly
    start_date: 20260107
"""
THREE_DIGITS = """\
project: Three digits
meeting_id: early
chair: Dmitri
description: An early meeting
schedule:
  - time: '800'
    day: Thursday
    irc: openstack-meeting-alt
    frequency: weekly
    start_date: 20260108
"""
END_DATE = """\
project: End date
meeting_id: ends
chair: Eun-ji
description: A slot with an end date yaml2ical ignores
schedule:
  - time: '1800'
    day: Friday
    irc: openstack-meeting
    frequency: weekly
    start_date: 20260109
    end_date: 20260301
"""
REJECTED = """\
project: Rejected
chair: Farah
description: yaml2ical rejects this frequency
schedule:
  - time: '1900'
    day: Monday
    irc: openstack-meeting-3
    frequency: fortnightly
"""
UNPARSABLE = "project: Unparsable\nschedule: [\n"
FILES = {"meetings/empty.yaml": EMPTY_DESCRIPTION, "meetings/dup.yaml": DUPLICATE_KEY,
         "meetings/hangout.yaml": HANGOUT, "meetings/early.yaml": THREE_DIGITS,
         "meetings/ends.yaml": END_DATE}
SINCE, UNTIL = at(2026, 1, 1), at(2026, 4, 1)


def yaml2ical_dates(text: str, slot: Slot) -> list[dt.datetime]:
    """yaml2ical's own next_occurence chain for the file's first schedule entry."""
    meeting = y2i_meeting.Meeting.fromstring(text)
    schedule = meeting.schedules[0]
    found = []
    current = schedule.start_date
    while True:
        nxt = supported_recurrences[schedule.freq].next_occurence(current, schedule.day)
        moment = dt.datetime.combine(nxt.date(), schedule.time.time(), tzinfo=dt.UTC)
        if moment >= UNTIL:
            return found
        if moment >= SINCE:
            found.append(moment)
        current = nxt + dt.timedelta(days=1)


def test_each_oddity_loads_with_a_warning_and_yaml2icals_meaning(tmp_path: Path) -> None:
    result = load(make_repo(tmp_path, FILES))
    assert result.errors == [] and result.item_errors == [], result.lines()
    assert [str(w) for w in result.warnings] == [
        "meetings/dup.yaml:6: duplicate key 'agenda_url' (also at meetings/dup.yaml:3); the "
        "last one is used, as PyYAML does: remove the other",
        "meetings/early.yaml:6: 'time' '800' is read as 08:00, as yaml2ical reads it; "
        "write '0800'",
        "meetings/empty.yaml:5: 'description' has no value; read as empty, as yaml2ical does",
        "meetings/ends.yaml:11: unknown key 'end_date' in a schedule entry; yaml2ical "
        "ignores it, so does govbot",
        "meetings/hangout.yaml:8: 'irc' is 'Google hangout', which is not an IRC channel: "
        "kept as the meeting's place, with no reminders posted (yaml2ical shows it as the "
        "location)",
    ]
    assert result.config is not None
    schedules = schedules_of(result.config)
    meetings = {m.key: m for m in schedules.meetings}
    assert sorted(meetings) == ["dup", "early", "empty", "ends", "hangout"]
    assert meetings["dup"].agenda_url == "https://example.org/new"
    assert meetings["empty"].description == ""
    assert meetings["early"].slots[0].time == dt.time(8, 0)
    hangout = meetings["hangout"].slots[0]
    assert (hangout.irc, hangout.place, hangout.where) == (None, "Google hangout",
                                                           "Google hangout")
    # Occurrences are yaml2ical's, oddities included.
    for path, text in FILES.items():
        slot = meetings[Path(path).stem].slots[0]
        assert [o.start for o in slot.occurrences(SINCE, UNTIL)] == \
            yaml2ical_dates(text, slot), path
    # Every meeting held on IRC is reminded; the hangout is not.
    streams = build_streams(result.config, schedules.meetings, schedules.deadlines,
                            schedules.settings)
    reminded = {s.meeting.key for s in streams.values() if isinstance(s, MeetingStream)}
    assert reminded == {"dup", "early", "empty", "ends"}


@pytest.mark.parametrize(("broken", "expected"), [
    (REJECTED, "meetings/broken.yaml:8: 'frequency' must be one of yaml2ical's"),
    (UNPARSABLE, "meetings/broken.yaml:3: invalid YAML"),
], ids=["rejected-by-yaml2ical", "not-yaml"])
def test_a_broken_file_leaves_the_other_meetings_reminded(
        tmp_path: Path, broken: str, expected: str) -> None:
    result = load(make_repo(tmp_path, {**FILES, "meetings/broken.yaml": broken}))
    assert result.errors == []
    assert result.config is not None  # the others load: the config is in force
    assert str(result.item_errors[0]).startswith(expected), result.lines()
    assert all(isinstance(e, ItemError) for e in result.item_errors)
    assert "meetings/broken.yaml:1: warning: " in "\n".join(result.lines())
    schedules = schedules_of(result.config)
    assert sorted(m.key for m in schedules.meetings) == ["dup", "early", "empty", "ends",
                                                         "hangout"]
    section = result.config.section("reminders")["meetings/*.yaml"]
    if broken is REJECTED:  # parsed, then left out: counted where a metric can read it
        assert isinstance(section, Meetings) and section.unavailable == (
            "meetings/broken.yaml",)


def test_an_error_in_govbots_own_file_still_keeps_the_whole_config_out(tmp_path: Path) -> None:
    """The merged-config atomic swap: reminders.yaml is govbot's, not yaml2ical's."""
    result = load(make_repo(tmp_path, {**FILES, "reminders.yaml": "grace: {meetings: 15x}\n"}))
    assert result.config is None
    assert str(result.errors[0]).startswith("reminders.yaml:1:")


def test_meetings_keep_yaml2icals_strictness_where_it_has_it(tmp_path: Path) -> None:
    """A missing description or an unquoted time is refused by yaml2ical: by govbot too."""
    no_description = EMPTY_DESCRIPTION.replace("description:\n", "")
    unquoted = THREE_DIGITS.replace("'800'", "800")
    for text in (no_description, unquoted):
        with pytest.raises((KeyError, TypeError, ValueError)):
            y2i_meeting.Meeting.fromstring(text)
    result = load(make_repo(tmp_path, {"meetings/a.yaml": no_description,
                                       "meetings/b.yaml": unquoted}))
    assert [str(e).split(": ", 1)[0] for e in result.item_errors] == [
        "meetings/a.yaml:1", "meetings/b.yaml:6"]
    assert result.config is not None and not schedules_of(result.config).meetings


def committed(root: Path) -> Path:
    for args in (["init", "-q", "-b", "master"], ["add", "-A"],
                 ["-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q",
                  "-m", "meetings"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


async def test_the_meetings_left_out_are_a_metric_of_the_config_in_force(
        tmp_path: Path) -> None:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from govbot.config.repo import ConfigHolder, ConfigRepo
    from govbot.metrics import config_metrics
    from govbot.plugins.reminders.plugin import SECTIONS

    root = committed(make_repo(tmp_path, {**FILES, "meetings/broken.yaml": REJECTED}))
    holder = ConfigHolder(ConfigRepo(str(root), "master", "", tmp_path / "checkout"),
                          [("reminders", s) for s in SECTIONS])
    await holder.reload()
    assert holder.loaded and holder.item_error_count == 1
    class Config:
        def collect(self) -> object:
            return config_metrics(holder)

    registry = CollectorRegistry()
    registry.register(Config())  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    [family] = [f for f in text_string_to_metric_families(text)
                if f.name == "govbot_config_items_unavailable"]
    assert family.samples[0].value == 1.0
