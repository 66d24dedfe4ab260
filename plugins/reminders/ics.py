"""The .ics text of the calendar's events, written directly: what icalendar writes.

calendar.py decides the events (`CalendarEvent`); `calendar_bytes` writes them here.
This writer covers only what those events hold (text, UTC date-times, durations, a
recurrence rule, exception dates, alarms) and gives, byte for byte, what the
icalendar package's `to_ical()` gives for the same events (tests/reminders compare
the two on every calendar they build): importing icalendar and having it type,
encode and fold each property was two thirds of a `govbot ical` process on 50
meeting files, which must be faster than yaml2ical's own CLI (issue #18).
`build_calendar` still builds the icalendar objects, for anything else.

The rules followed are icalendar's: properties in its canonical order, then by name;
TEXT escaped (`\\`, `;`, `,`, line breaks); lines folded under 75 octets, never
between an escape and what it escapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_FOLD = 75  # icalendar's fold limit: a line holds at most 74 octets
#: icalendar's vRecur.canonical_order, as far as the calendar uses it.
_RULE_ORDER = ("freq", "until", "count", "interval", "byday", "bymonthday")


@dataclass(frozen=True, slots=True)
class Alarm:
    description: str
    trigger: dt.timedelta  # before the event: negative


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A VEVENT; every date-time in UTC."""

    uid: str
    stamp: dt.datetime
    summary: str
    start: dt.datetime
    duration: dt.timedelta
    description: str | None = None
    location: str | None = None
    url: str | None = None
    rrule: Mapping[str, object] | None = None  # freq, interval, until, byday
    exdates: tuple[dt.datetime, ...] = ()
    alarms: tuple[Alarm, ...] = ()


def writable(events: Iterable[CalendarEvent]) -> bool:
    """Whether `ics_bytes` writes these as icalendar would: UTC date-times, known rules."""
    for event in events:
        times = [event.stamp, event.start, *event.exdates]
        if event.rrule is not None:
            if not set(event.rrule) <= set(_RULE_ORDER):
                return False
            until = event.rrule.get("until")
            times += [until] if isinstance(until, dt.datetime) else []
        if any(t.tzinfo is not dt.UTC for t in times):
            return False
    return True


def ics_bytes(events: Sequence[CalendarEvent], *, prodid: str, name: str) -> bytes:
    """The VCALENDAR of `events` (check `writable` first)."""
    # X-WR-CALNAME is no property icalendar knows: it writes the value as it is.
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{text(prodid)}",
             f"X-WR-CALNAME:{name}"]
    for event in events:
        lines += ["BEGIN:VEVENT", f"SUMMARY:{text(event.summary)}",
                  f"DTSTART:{stamp(event.start)}", f"DURATION:{duration(event.duration)}",
                  f"DTSTAMP:{stamp(event.stamp)}", f"UID:{text(event.uid)}"]
        if event.rrule is not None:
            lines.append(f"RRULE:{rule(event.rrule)}")
        if event.exdates:
            lines.append("EXDATE:" + ",".join(stamp(d) for d in event.exdates))
        if event.description is not None:
            lines.append(f"DESCRIPTION:{text(event.description)}")
        if event.location is not None:
            lines.append(f"LOCATION:{text(event.location)}")
        if event.url is not None:
            lines.append(f"URL:{event.url}")
        for alarm in event.alarms:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY",
                      f"DESCRIPTION:{text(alarm.description)}",
                      f"TRIGGER:{duration(alarm.trigger)}", "END:VALARM"]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return b"".join(folded(line) + b"\r\n" for line in lines)


def text(value: str) -> str:
    """A TEXT value, escaped as icalendar escapes it."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
            .replace("\r", "\\n"))


def stamp(when: dt.datetime) -> str:
    return (f"{when.year:04}{when.month:02}{when.day:02}"
            f"T{when.hour:02}{when.minute:02}{when.second:02}Z")


def duration(span: dt.timedelta) -> str:
    """icalendar's vDuration: `PT1H`, `-P7D`, `P0D`, `P1DT2H`."""
    sign = ""
    if span.days < 0:
        sign, span = "-", -span
    clock = ""
    if span.seconds:
        hours, minutes, seconds = (span.seconds // 3600, span.seconds % 3600 // 60,
                                   span.seconds % 60)
        clock = "T" + (f"{hours}H" if hours else "")
        clock += f"{minutes}M" if minutes or (hours and seconds) else ""
        clock += f"{seconds}S" if seconds else ""
    if span.days == 0 and clock:
        return f"{sign}P{clock}"
    return f"{sign}P{abs(span.days)}D{clock}"


def rule(parts: Mapping[str, object]) -> str:
    """An RRULE value: its parts in icalendar's canonical order."""
    out = []
    for key in _RULE_ORDER:
        if key in parts:
            value = parts[key]
            shown = stamp(value) if isinstance(value, dt.datetime) else str(value).upper()
            out.append(f"{key.upper()}={shown}")
    return ";".join(out)


def folded(line: str) -> bytes:
    """One content line folded as icalendar folds it (RFC 5545: under 75 octets a line,
    never between a backslash or caret escape and what it escapes)."""
    if len(line) < _FOLD and line.isascii():
        return line.encode()
    if not line.isascii():
        return _folded_octets(line)
    pieces = []
    start = 0
    while len(line) - start >= _FOLD:
        end = start + _FOLD - 1
        if line[end - 1] in "\\^" and end - 1 > start:  # the escape goes on with its char
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return "\r\n ".join(pieces).encode()


def _folded_octets(line: str) -> bytes:
    """`folded` for a line with non-ASCII characters: counted in UTF-8 octets."""
    pieces: list[str] = []
    current: list[str] = []
    octets = 0
    for char in line:
        size = len(char.encode())
        if current and octets + size >= _FOLD:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                pieces.append("".join(current))
                current, octets = [carried], 1
            else:
                pieces.append("".join(current))
                current, octets = [], 0
        current.append(char)
        octets += size
    if current:
        pieces.append("".join(current))
    return "\r\n ".join(pieces).encode()
