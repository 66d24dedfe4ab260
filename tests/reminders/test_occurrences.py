"""Occurrences for every frequency, table-driven, with ISO week 53 spelled out."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import pytest
from yaml2ical.recurrence import supported_recurrences

from govbot.plugins.reminders.irc_meetings import recurrence_of
from govbot.plugins.reminders.schedule import OPEN_START, Slot, iso_week_53_years
from tests.reminders.kit import at

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def slot(frequency: str, day: str, time: str = "1500", start: dt.date | None = None,
         skips: tuple[dt.date, ...] = (), duration: int = 60) -> Slot:
    rec = recurrence_of(supported_recurrences[frequency])
    assert rec is not None
    return Slot(day=DAYS.index(day), time=dt.time(int(time[:2]), int(time[2:])),
                duration=duration, frequency=frequency, recurrence=rec, irc="#x",
                matrix=None, start_date=start or OPEN_START, start_given=start is not None,
                skip_dates=MappingProxyType({d: "" for d in skips}))


def dates(s: Slot, first: dt.date, last: dt.date) -> list[str]:
    return [f"{d:%Y-%m-%d}" for d in s.dates(first, last)]


# frequency, day, window [first, last), the dates expected (ISO week in the comment)
CASES = [
    ("weekly", "Thursday", (dt.date(2026, 12, 20), dt.date(2027, 1, 10)),
     ["2026-12-24", "2026-12-31", "2027-01-07"]),  # W52, W53, W01
    ("biweekly-odd", "Thursday", (dt.date(2026, 12, 1), dt.date(2027, 1, 25)),
     ["2026-12-03", "2026-12-17", "2026-12-31", "2027-01-07", "2027-01-21"]),  # 49 51 53 1 3
    ("biweekly-even", "Thursday", (dt.date(2026, 12, 1), dt.date(2027, 1, 25)),
     ["2026-12-10", "2026-12-24", "2027-01-14"]),  # W50, W52, W02: three weeks apart
    ("quadweekly", "Monday", (dt.date(2026, 11, 1), dt.date(2027, 2, 1)),
     ["2026-11-23", "2026-12-21", "2027-01-25"]),  # W48, W52, W04
    ("quadweekly-week-1", "Monday", (dt.date(2026, 11, 1), dt.date(2027, 2, 1)),
     ["2026-11-02", "2026-11-30", "2026-12-28", "2027-01-04"]),  # W45 W49 W53 W01: 1 week
    ("quadweekly-week-2", "Monday", (dt.date(2026, 11, 1), dt.date(2027, 2, 1)),
     ["2026-11-09", "2026-12-07", "2027-01-11"]),  # W46, W50, W02
    ("quadweekly-week-3", "Monday", (dt.date(2026, 11, 1), dt.date(2027, 2, 1)),
     ["2026-11-16", "2026-12-14", "2027-01-18"]),  # W47, W51, W03
    ("quadweekly-alternate", "Monday", (dt.date(2026, 11, 1), dt.date(2027, 2, 1)),
     ["2026-11-09", "2026-12-07", "2027-01-11"]),  # the same weeks as quadweekly-week-2
    ("biweekly-odd", "Wednesday", (dt.date(2020, 12, 1), dt.date(2021, 1, 15)),
     ["2020-12-02", "2020-12-16", "2020-12-30", "2021-01-06"]),  # 2020 has a week 53 too
    ("biweekly-even", "Wednesday", (dt.date(2021, 12, 1), dt.date(2022, 1, 20)),
     ["2021-12-01", "2021-12-15", "2021-12-29", "2022-01-12"]),  # 2021: 52 weeks, plain
    ("first-monday", "Monday", (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
     ["2026-01-05", "2026-02-02", "2026-03-02"]),
    ("first-thursday", "Thursday", (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
     ["2026-01-01", "2026-02-05", "2026-03-05"]),
    ("second-tuesday", "Tuesday", (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
     ["2026-01-13", "2026-02-10", "2026-03-10"]),
    ("third-wednesday", "Wednesday", (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
     ["2026-01-21", "2026-02-18", "2026-03-18"]),
    ("fourth-friday", "Friday", (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
     ["2026-01-23", "2026-02-27", "2026-03-27"]),
    ("adhoc", "Friday", (dt.date(2026, 1, 1), dt.date(2027, 1, 1)), []),
]


@pytest.mark.parametrize(("frequency", "day", "window", "expected"), CASES,
                         ids=[f"{c[0]}-{c[2][0]:%Y}" for c in CASES])
def test_dates_of_each_frequency(frequency: str, day: str,
                                 window: tuple[dt.date, dt.date], expected: list[str]) -> None:
    assert dates(slot(frequency, day), *window) == expected


def test_every_yaml2ical_frequency_is_understood() -> None:
    for name, rec in supported_recurrences.items():
        assert recurrence_of(rec) is not None, name


def test_the_53_week_years() -> None:
    assert iso_week_53_years(2014, 2040) == [2015, 2020, 2026, 2032, 2037]


@pytest.mark.parametrize(("start", "first"), [
    (dt.date(2026, 1, 8), "2026-01-08"),  # the start date itself counts (as in yaml2ical)
    (dt.date(2026, 1, 9), "2026-01-15"),  # weekly: the next Thursday
])
def test_start_date_is_inclusive(start: dt.date, first: str) -> None:
    s = slot("weekly", "Thursday", start=start)
    assert dates(s, dt.date(2025, 1, 1), dt.date(2026, 1, 16))[0] == first


def test_start_date_before_the_month_date_keeps_that_month() -> None:
    s = slot("first-thursday", "Thursday", start=dt.date(2026, 3, 2))
    assert dates(s, dt.date(2026, 1, 1), dt.date(2026, 5, 1)) == ["2026-03-05", "2026-04-02"]


def test_without_start_date_the_schedule_holds_since_open_start() -> None:
    s = slot("biweekly-even", "Thursday")
    assert not s.start_given and s.start_date == OPEN_START
    # parity comes from the week numbers, never from a start: the same dates in any year
    assert dates(s, dt.date(2026, 12, 1), dt.date(2027, 1, 25)) == \
        ["2026-12-10", "2026-12-24", "2027-01-14"]


def test_skip_dates_remove_exactly_those_occurrences() -> None:
    s = slot("weekly", "Thursday", skips=(dt.date(2026, 12, 24), dt.date(2026, 12, 25)))
    assert dates(s, dt.date(2026, 12, 17), dt.date(2027, 1, 1)) == ["2026-12-17", "2026-12-31"]
    assert [f"{d:%d}" for d in s.dates(dt.date(2026, 12, 17), dt.date(2027, 1, 1),
                                       skips=False)] == ["17", "24", "31"]


def test_occurrences_carry_time_and_duration_in_utc() -> None:
    s = slot("weekly", "Sunday", time="2330", duration=90)
    first = next(s.occurrences(at(2026, 11, 22)))
    assert (first.start, first.end) == (at(2026, 11, 22, 23, 30), at(2026, 11, 23, 1, 0))
    assert [o.start for o in s.occurrences(at(2026, 11, 22, 23, 30), at(2026, 12, 6, 23, 30))
            ] == [at(2026, 11, 22, 23, 30), at(2026, 11, 29, 23, 30)]  # [since, until)


def test_next_after_is_strictly_after() -> None:
    s = slot("biweekly-odd", "Thursday", time="1600")
    assert s.next_after(at(2026, 12, 31, 16)) == next(s.occurrences(at(2027, 1, 1)))
    assert s.next_after(at(2026, 12, 31, 16)).start == at(2027, 1, 7, 16)  # type: ignore
    assert s.next_after(at(2026, 12, 31, 15, 59)).start == at(2026, 12, 31, 16)  # type: ignore
    assert slot("adhoc", "Friday").next_after(at(2026, 1, 1)) is None
