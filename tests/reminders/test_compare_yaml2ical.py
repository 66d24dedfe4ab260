"""govbot's occurrences against yaml2ical's own outputs, for the same files.

tests/reminders/data/compare/meetings holds one file per frequency (every monthly
kind included), skip dates, an adhoc slot, and a meeting that starts in 2020: the
windows cross the 53-week years 2020 and 2026. yaml2ical's two outputs disagree
across week 53; govbot follows `next_occurence` (ISO week numbers) and this test
states exactly where, and by how much, yaml2ical's `.ics` differs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from yaml2ical import ical as y2i_ical
from yaml2ical import meeting as y2i_meeting
from yaml2ical.recurrence import supported_recurrences

from govbot.plugins.reminders.schedule import Meeting, Slot
from tests.reminders.kit import DATA, UTC, at, expand, loaded

COMPARE = DATA / "compare"
SINCE, UNTIL = at(2020, 1, 1), at(2028, 1, 1)
WEEK = dt.timedelta(weeks=1)
W01_2021, W01_2027 = at(2021, 1, 4), at(2027, 1, 4)  # the Mondays right after a week 53
Key = tuple[str, int, dt.time]  # file name, weekday, time: one slot of the fixtures


def yaml2ical_ics() -> tuple[dict[Key, list[dt.datetime]], list[icalendar.Event]]:
    """yaml2ical's .ics expanded per slot, plus its "CANCELLED" placeholder events.

    Meetings are built with `fromstring`: no `git log`, and every fixture pins its
    start_date, so nothing depends on today's date.
    """
    occurrences: dict[Key, list[dt.datetime]] = {}
    cancelled = []
    for path in sorted((COMPARE / "meetings").glob("*.yaml")):
        meeting = y2i_meeting.Meeting.fromstring(path.read_text())
        meeting.last_update = dt.datetime(2026, 1, 1)
        calendar = y2i_ical.Yaml2IcalCalendar()
        calendar.add_meeting(meeting)
        parsed = icalendar.Calendar.from_ical(calendar.to_ical())
        for event in parsed.walk("VEVENT"):
            if str(event["summary"]).startswith("CANCELLED"):
                cancelled.append(event)
                continue
            start = event.decoded("dtstart")
            occurrences[(path.stem, start.weekday(), start.time())] = expand(event, SINCE, UNTIL)
    return occurrences, cancelled


def next_occurence_chain(slot: Slot) -> list[dt.datetime]:
    """yaml2ical's library rule, step by step from the start date (skip dates unknown)."""
    recurrence = supported_recurrences[slot.frequency]
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
           "Sunday")[slot.day]
    found = []
    current = dt.datetime.combine(slot.start_date, dt.time())
    while True:
        nxt = recurrence.next_occurence(current, day)
        if nxt is None:  # adhoc
            return found
        moment = dt.datetime.combine(nxt.date(), slot.time, tzinfo=UTC)
        if moment >= UNTIL:
            return found
        found.append(moment)
        current = dt.datetime.combine(nxt.date() + dt.timedelta(days=1), dt.time())


@pytest.fixture(scope="module")
def slots() -> dict[Key, tuple[Meeting, Slot]]:
    _, schedules = loaded(COMPARE)
    return {(m.key, s.day, s.time): (m, s) for m in schedules.meetings for s in m.slots}


def ours(slot: Slot, *, skips: bool = True) -> list[dt.datetime]:
    return [o.start for o in slot.occurrences(SINCE, UNTIL, skips=skips)]


def test_the_fixtures_cover_every_frequency(slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    frequencies = {s.frequency for _, s in slots.values()}
    monthly_kinds = {f.split("-")[0] for f in frequencies if f.split("-")[0] in
                     ("first", "second", "third", "fourth")}
    weekly = {f for f in supported_recurrences if f.split("-")[0] not in (
        "first", "second", "third", "fourth")}
    assert weekly <= frequencies  # weekly, biweekly-*, every quadweekly-*, adhoc
    assert monthly_kinds == {"first", "second", "third", "fourth"}
    assert any(s.skip_dates for _, s in slots.values())


def test_before_any_week_53_ours_equal_the_ics_exactly(
        slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    ics, _ = yaml2ical_ics()
    for key, (_, slot) in slots.items():
        if slot.recurrence.kind != "weeks":
            continue
        first_break = W01_2021 if slot.start_date.year == 2020 else W01_2027
        assert [t for t in ours(slot) if t < first_break] == \
            [t for t in ics[key] if t < first_break], key


def test_after_week_53_the_ics_runs_one_week_early(
        slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    """From the Monday after week 53 on, each .ics date + 7 days is our date: the
    .ics kept its 14/28-day cadence while the ISO week numbers restarted at 1."""
    ics, _ = yaml2ical_ics()
    for key, (_, slot) in slots.items():
        if slot.recurrence.kind != "weeks" or slot.recurrence.period == 1:
            continue
        if slot.start_date.year == 2020:
            start, end = W01_2021, W01_2027
        else:
            start, end = W01_2027, UNTIL
        shifted = [t + WEEK for t in ics[key] if start <= t < end - WEEK]
        assert shifted == [t for t in ours(slot) if start + WEEK <= t < end], key
        assert shifted, key  # the window really holds occurrences
        assert not set(shifted) & set(ics[key]), key  # and every one of them differs


def test_a_2020_meeting_is_back_in_step_after_a_second_week_53(
        slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    """Two one-week slips make a whole period of a biweekly meeting: from 2027 on,
    yaml2ical's .ics of a meeting started in 2020 agrees with the week numbers again."""
    ics, _ = yaml2ical_ics()
    key = ("week53-2020", 2, dt.time(11, 0))
    _, slot = slots[key]
    assert [t for t in ours(slot) if t >= W01_2027] == [t for t in ics[key] if t >= W01_2027]
    assert at(2020, 12, 30, 11) in ours(slot) and at(2021, 1, 6, 11) in ours(slot)  # W53, W01


#: govbot keeps the first month's meeting of these; yaml2ical's .ics and next_occurence
#: both start a month later (a start_date before that month's date is ignored).
FIRST_MONTH = {"first-monday": [at(2026, 1, 5, 14)], "third-wednesday": [at(2026, 2, 18, 14)],
               "fourth-thursday": [at(2026, 1, 22, 14)], "second-tuesday": [],
               "first-friday": []}


def test_ours_are_next_occurence_step_by_step_but_one(
        slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    """The library's rule, across both week-53 years, for every frequency, with one
    exception: after week 53 its biweekly-even step skips the odd week 53 by adding 7
    days without checking the parity again, and lands in week 1, which is odd. govbot
    keeps to even weeks (W52, then W02)."""
    for key, (_, slot) in slots.items():
        mine, chain = ours(slot, skips=False), next_occurence_chain(slot)
        if slot.recurrence.kind == "monthly":
            assert FIRST_MONTH[slot.frequency] + chain == mine, key
        elif slot.frequency == "biweekly-even":
            assert sorted(set(chain) - set(mine)) == [at(2027, 1, 5, 9)], key  # W01
            assert set(mine) <= set(chain), key
        else:
            assert chain == mine, key


def test_monthly_meetings_keep_the_first_month(
        slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    """Otherwise the .ics and govbot agree on monthly meetings (skip dates included)."""
    ics, _ = yaml2ical_ics()
    for key, (_, slot) in slots.items():
        if slot.recurrence.kind == "monthly":
            assert ours(slot) == FIRST_MONTH[slot.frequency] + ics[key], key


def test_skip_dates_and_adhoc(slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    ics, cancelled = yaml2ical_ics()
    _, weekly = slots[("weekly", 0, dt.time(10, 0))]
    assert at(2026, 1, 19, 10) not in ours(weekly) and at(2026, 1, 19, 10) not in ics[
        ("weekly", 0, dt.time(10, 0))]
    assert at(2026, 1, 26, 10) in ours(weekly)
    assert at(2026, 12, 28, 10) not in ours(weekly)  # a skip date in week 53 itself
    _, adhoc = slots[("adhoc", 4, dt.time(18, 0))]
    assert ours(adhoc) == [] and ("adhoc", 4, dt.time(18, 0)) not in ics  # no dates at all
    # yaml2ical adds one "CANCELLED" event per skip date; govbot's .ics has none
    assert len(cancelled) == sum(len(s.skip_dates) for _, s in slots.values())


def test_week_53_of_2026_as_govbot_reads_it(slots: dict[Key, tuple[Meeting, Slot]]) -> None:
    """The rule, spelled out on the calendar around 2026-W53 (Dec 28 - Jan 3)."""
    table = {
        "biweekly-odd": [at(2026, 12, 3, 16), at(2026, 12, 17, 16), at(2026, 12, 31, 16),
                         at(2027, 1, 7, 16), at(2027, 1, 21, 16),
                         at(2027, 2, 4, 16)],  # W49, W51, W53, W01 (twice in a row), W03, W05
        "biweekly-even": [at(2026, 12, 8, 9), at(2027, 1, 12, 9),
                          at(2027, 1, 26, 9)],  # W50, (W52 skipped), W02, W04
        "quadweekly": [at(2026, 12, 23, 12), at(2027, 1, 27, 12)],  # W52, W04: 5 weeks
        "quadweekly-week-1": [at(2026, 12, 4, 13), at(2027, 1, 1, 13), at(2027, 1, 8, 13),
                              at(2027, 2, 5, 13)],  # W49, W53, W01, W05
        "quadweekly-week-2": [at(2026, 12, 7, 15), at(2027, 1, 11, 15)],  # W50, W02
        "quadweekly-week-3": [at(2026, 12, 15, 17), at(2027, 1, 19, 17)],  # W51, W03
        "quadweekly-alternate": [at(2026, 12, 10, 20), at(2027, 1, 14, 20)],  # W50, W02
    }
    window = (at(2026, 11, 30), at(2027, 2, 8))
    for _, slot in slots.values():
        if slot.frequency in table and slot.start_date.year == 2026:
            assert list(o.start for o in slot.occurrences(*window)) == table[
                slot.frequency], slot.frequency


def test_fixture_files_are_yaml2icals_exact_format() -> None:
    # the same files go through yaml2ical's own loader and conflict check untouched
    meetings = [y2i_meeting.Meeting.fromstring(p.read_text())
                for p in sorted(Path(COMPARE / "meetings").glob("*.yaml"))]
    assert len(meetings) == 11
