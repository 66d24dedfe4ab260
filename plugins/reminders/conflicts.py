"""The conflict check: two meetings in one channel at overlapping times and weeks.

Every pair of slots held in the same place is compared, across files and within
one file. A pair conflicts when:
- either is `adhoc`, and their weekly windows overlap: an adhoc meeting may be
  called in any week, so its slot must stay free;
- otherwise, when real occurrences overlap. They are computed with the same rule
  as reminders and the calendar (ISO week numbers, week 53 included, see
  `reminders_schedule`) over seven years from the later start, which always
  contains a year with a week 53, so a clash that only happens around week 53
  (an odd-week meeting held in weeks 53 and 1 back to back) is found too. Skip
  dates are ignored: skipping one date does not make a recurring clash go away.

A cheap filter comes first (their windows within a week must overlap at all),
so the occurrence walk only runs for pairs that share a weekday and time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from govbot.config.model import Source
from govbot.config.schema import ErrorSink

from .schedule import UTC, Meeting, Occurrence, Slot

__all__ = ["Conflict", "find_conflicts", "report_conflicts"]

_WEEK = 7 * 24 * 60  # minutes
_HORIZON = dt.timedelta(days=7 * 366)
_UNKNOWN = Source("<unknown>", 0)


@dataclass(frozen=True, slots=True)
class Conflict:
    """`slot` (in `meeting`) overlaps `other` (in `other_meeting`); None: any week (adhoc)."""

    meeting: Meeting
    slot: Slot
    other_meeting: Meeting
    other: Slot
    first: dt.datetime | None


def _window(slot: Slot) -> tuple[int, int]:
    start = slot.day * 24 * 60 + slot.time.hour * 60 + slot.time.minute
    return start, start + slot.duration


def windows_overlap(a: Slot, b: Slot) -> bool:
    """Whether the slots' times overlap within a week (a Sunday night runs into Monday)."""
    a0, a1 = _window(a)
    b0, b1 = _window(b)
    return any(a0 < b1 + k and b0 + k < a1 for k in (-_WEEK, 0, _WEEK))


def first_overlap(a: Slot, b: Slot) -> dt.datetime | None:
    """The first instant both are in session, over seven years from the later start."""
    since = dt.datetime.combine(max(a.start_date, b.start_date) - dt.timedelta(days=1),
                                dt.time(), tzinfo=UTC)
    until = since + _HORIZON
    left = list(a.occurrences(since, until, skips=False))
    right = list(b.occurrences(since, until, skips=False))
    return _first_common(left, right)


def _first_common(left: Sequence[Occurrence], right: Sequence[Occurrence]
                  ) -> dt.datetime | None:
    i = j = 0
    while i < len(left) and j < len(right):
        x, y = left[i], right[j]
        if x.end <= y.start:
            i += 1
        elif y.end <= x.start:
            j += 1
        else:
            first: dt.datetime = max(x.start, y.start)
            return first
    return None


def find_conflicts(meetings: Iterable[Meeting]) -> list[Conflict]:
    """Every conflicting pair once; `slot` is the one listed later (file, then line)."""
    placed: dict[str, list[tuple[Meeting, Slot]]] = {}
    for meeting in meetings:
        for slot in meeting.slots:
            placed.setdefault(slot.location, []).append((meeting, slot))
    found = []
    for entries in placed.values():
        entries.sort(key=lambda e: _order(e[1]))
        for (m1, s1), (m2, s2) in combinations(entries, 2):
            if not windows_overlap(s1, s2):
                continue
            if "adhoc" in (s1.recurrence.kind, s2.recurrence.kind):
                found.append(Conflict(m2, s2, m1, s1, None))
                continue
            first = first_overlap(s1, s2)
            if first is not None:
                found.append(Conflict(m2, s2, m1, s1, first))
    return found


def _order(slot: Slot) -> tuple[str, int]:
    source = slot.source or _UNKNOWN
    return source.file, source.line


def report_conflicts(conflicts: Iterable[Conflict], sink: ErrorSink) -> None:
    for c in conflicts:
        when = (f"first on {c.first:%Y-%m-%d %H:%M} UTC" if c.first is not None
                else "in any week (an adhoc meeting may be called in any week)")
        other = ("another entry of this meeting" if c.other_meeting is c.meeting
                 else f"{c.other_meeting.project!r} ({c.other_meeting.file})")
        sink.error(c.slot.source or _UNKNOWN, (
            f"meeting conflict in {c.slot.where}: {c.slot.describe()} overlaps "
            f"{c.other.describe()} of {other}, {when}; move one of them, or change its "
            f"channel or weeks (also at {c.other.source or _UNKNOWN})"))
