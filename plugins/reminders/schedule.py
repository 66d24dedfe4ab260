"""Meeting occurrences: one rule for every frequency, ISO week 53 included.

The rule (docs/reminders.md, "Week 53"): a biweekly or four-weekly frequency names
ISO week numbers, and it keeps naming them in every year. `biweekly-odd` meets in
every ISO week whose number is odd, `quadweekly-week-1` in every week whose number
is 1 modulo 4, and so on, as yaml2ical's `next_occurence` and its conflict check
read them. In a year with 53 ISO weeks (2020, 2026, 2032, ...) this means that
an odd-week meeting is held in week 53 and again in week 1, and an even-week one
waits three weeks (week 52 to week 2). yaml2ical's `.ics` instead repeats every 14
(28) days from the first occurrence, so after a week 53 its calendar drifts to the
other parity; govbot follows the week numbers, everywhere: reminders, the `.ics`
(`govbot.calendar`) and the conflict check. The reason: meeting channels are shared
by parity ("even weeks: nova, odd weeks: neutron"), and a cadence that drifts makes
two meetings collide although their files say they alternate.

Other points where govbot is deliberately different from yaml2ical:
- a `first-<weekday>` (second-, third-, fourth-) meeting on or after `start_date`
  in the same month counts (yaml2ical always starts in the next month);
- a slot without `start_date` has held since `OPEN_START` (yaml2ical takes the
  moment the files are read, so the same files meant different calendars on
  different days).

Nothing here reads the clock: every function takes the instants it works on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from govbot.config.model import Source

__all__ = [
    "OPEN_START", "UTC", "WEEKDAYS", "Meeting", "Occurrence", "Recurrence", "Slot",
    "iso_week_53_years",
]

UTC = dt.UTC
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = ("first", "second", "third", "fourth")

#: The start of a slot that gives no `start_date`. The irc-meetings format appeared
#: in 2014; a fixed date keeps the same files meaning the same calendar on every day.
OPEN_START = dt.date(2014, 1, 1)

_ONE_WEEK = dt.timedelta(weeks=1)
_LAST_DATE = dt.date(9999, 1, 1)  # iteration bound far beyond any horizon asked for


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a slot repeats.

    `kind` is "weeks" (ISO weeks whose number % `period` == `residue`), "monthly"
    (the `nth` given weekday of each month) or "adhoc" (no fixed occurrence).
    """

    kind: str
    period: int = 1
    residue: int = 0
    nth: int = 0


@dataclass(frozen=True, slots=True, order=True)
class Occurrence:
    """One meeting, from `start` to `end` (UTC)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """One entry of a meeting's `schedule:` list, validated."""

    day: int  # 0 = Monday
    time: dt.time  # UTC
    duration: int  # minutes
    frequency: str  # as written in the file
    recurrence: Recurrence
    irc: str | None  # channel with its '#'
    matrix: str | None  # a Matrix room, for files that use it instead of IRC
    start_date: dt.date
    start_given: bool  # False: the file gave no start_date (OPEN_START is used)
    skip_dates: Mapping[dt.date, str] = field(default_factory=lambda: MappingProxyType({}))
    chair: str | None = None
    source: Source | None = None
    # `irc:` text that is no channel ('Google hangout'): where it is held, with no
    # channel to remind in.
    place: str | None = None

    @property
    def location(self) -> str:
        """Where it is held, for conflicts: IRC channels are case-insensitive."""
        if self.irc:
            return self.irc.lower()
        return f"matrix:{self.matrix}" if self.matrix else f"place:{self.place}"

    @property
    def where(self) -> str:
        if self.irc:
            return self.irc
        return f"Matrix {self.matrix}" if self.matrix else f"{self.place}"

    @property
    def key(self) -> str:
        """Stable across reordering the file: what the slot is, not where it is listed.
        Used in wake-up keys and calendar UIDs, so only [a-z0-9-] (plus '.' and '_')."""
        place = re.sub(r"[^a-z0-9._-]+", "-", self.location.lower()).strip("-")
        return f"{WEEKDAYS[self.day].lower()}-{self.time:%H%M}-{place}"

    def describe(self) -> str:
        end = (dt.datetime.combine(dt.date(2000, 1, 3), self.time)
               + dt.timedelta(minutes=self.duration))
        return (f"{WEEKDAYS[self.day]} {self.time:%H:%M}-{end:%H:%M} UTC "
                f"({self.frequency})")

    def dates(self, first: dt.date, last: dt.date, *, skips: bool = True
              ) -> Iterator[dt.date]:
        """Meeting dates in [first, last), in order; skip_dates left out when `skips`."""
        first = max(first, self.start_date)
        kind = self.recurrence.kind
        if kind == "weeks":
            found = self._weekly(first, last)
        elif kind == "monthly":
            found = self._monthly(first, last)
        else:
            return
        skipped = self.skip_dates if skips else {}
        for day in found:
            if day not in skipped:
                yield day

    def _weekly(self, first: dt.date, last: dt.date) -> Iterator[dt.date]:
        rec = self.recurrence
        monday = first - dt.timedelta(days=first.weekday())
        day = monday + dt.timedelta(days=self.day)
        year, week, _ = monday.isocalendar()
        weeks = _weeks_in(year)
        end = last + dt.timedelta(days=self.day)  # i.e. while the week's Monday < last
        while day < end:
            # One ISO week at a time, counting week numbers as ISO does (a year has 52
            # or 53): a fixed stride would drift across week 53.
            if rec.period == 1 or week % rec.period == rec.residue:
                if first <= day < last:
                    yield day
            day += _ONE_WEEK
            week += 1
            if week > weeks:
                year, week = year + 1, 1
                weeks = _weeks_in(year)

    def _monthly(self, first: dt.date, last: dt.date) -> Iterator[dt.date]:
        year, month = first.year, first.month
        nth = self.recurrence.nth
        while True:
            start = dt.date(year, month, 1)
            if start >= last:
                return
            day = start + dt.timedelta(days=(self.day - start.weekday()) % 7 + 7 * (nth - 1))
            if first <= day < last:
                yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def start_at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.time, tzinfo=UTC)

    def occurrences(self, since: dt.datetime, until: dt.datetime | None = None, *,
                    skips: bool = True) -> Iterator[Occurrence]:
        """Occurrences starting in [since, until) (`until` None: unbounded), in order."""
        length = dt.timedelta(minutes=self.duration)
        last = until.date() + dt.timedelta(days=1) if until is not None else _LAST_DATE
        for day in self.dates(since.date(), last, skips=skips):
            start = self.start_at(day)
            if start < since:
                continue
            if until is not None and start >= until:
                return
            yield Occurrence(start, start + length)

    def next_after(self, moment: dt.datetime) -> Occurrence | None:
        """The first occurrence starting strictly after `moment`."""
        for occurrence in self.occurrences(moment + dt.timedelta(microseconds=1)):
            return occurrence
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Meeting:
    """One irc-meetings file."""

    file: str  # relative to the config root: "meetings/tc.yaml"
    key: str  # the file name without ".yaml": unique, unlike meeting_id
    project: str
    description: str
    chair: str | None = None
    meeting_id: str | None = None
    agenda_url: str | None = None
    project_url: str | None = None
    ping: tuple[str, ...] = ()  # IRC nicks to highlight in its reminders
    slots: tuple[Slot, ...] = ()
    source: Source | None = None


@lru_cache(maxsize=512)
def _weeks_in(year: int) -> int:
    """52 or 53: the ISO year has a week 53 when December 28 falls in it."""
    return dt.date(year, 12, 28).isocalendar()[1]


def iso_week_53_years(first: int, last: int) -> list[int]:
    """Years in [first, last] that have an ISO week 53."""
    return [y for y in range(first, last + 1) if _weeks_in(y) == 53]
