"""An iCalendar (.ics) file of every meeting and deadline: `govbot ical` and the web
server's `/calendar.ics`, both declared by the reminders plugin.

Written with the icalendar package from the reminders plugin's sections, under
the same rule as the reminders and the conflict check (docs/reminders.md,
"Week 53"): biweekly and four-weekly meetings follow ISO week numbers. A plain
`FREQ=WEEKLY;INTERVAL=2` rule drifts to the other parity after a week 53 (that
is what yaml2ical's .ics does), and `BYWEEKNO`, which could say it, is ignored by
common calendar software. So such a slot is written as *runs*: one event per
stretch between two week-53 breaks, each a plain `INTERVAL` rule with an `UNTIL`,
up to the end of `until` (ten years ahead in `govbot ical`). Weekly and monthly
meetings are one open-ended event each.

Differences from yaml2ical's output, each on purpose:
- UIDs are unique and stable: the meeting file's name, the slot (day, time,
  place) and, for runs, the run's first date; never the project name alone;
- skip dates are EXDATEs only, written for dates the slot really meets on; no
  extra "CANCELLED" events (which naive readers count as meetings);
- DTSTAMP is the newest modification time of the files read, not "now", so the
  same files give the same bytes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import icalendar
from icalendar.parser import Contentline

from govbot.config.model import GovernanceConfig
from govbot.extensions import CliContext, WebRequest, WebResponse
from govbot.plugin import PluginContext

from .config import Deadline, RemindersConfig
from .plugin import Schedules, schedules_of
from .schedule import UTC, Meeting, Slot

__all__ = ["build_calendar", "calendar_bytes", "calendar_page", "ical_command",
           "meeting_events", "slot_runs"]

PRODID = "-//govbot//meetings and deadlines//EN"
_FOLD = 75  # icalendar's fold limit: a line holds at most 74 octets
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def slot_runs(slot: Slot, until: dt.date) -> list[list[dt.date]]:
    """A biweekly/four-weekly slot's dates (skip dates included) up to `until`, cut
    wherever the gap is not the period: at each week-53 break."""
    stride = dt.timedelta(weeks=slot.recurrence.period)
    runs: list[list[dt.date]] = []
    for day in slot.dates(slot.start_date, until, skips=False):
        if runs and day - runs[-1][-1] == stride:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _description(meeting: Meeting, slot: Slot) -> str:
    lines = [f"Project:  {meeting.project}", f"Chair:  {slot.chair or meeting.chair or ''}",
             f"Description:  {meeting.description.strip()}"]
    if meeting.agenda_url:
        lines.append(f"Agenda URL:  {meeting.agenda_url}")
    if meeting.project_url:
        lines.append(f"Project URL:  {meeting.project_url}")
    if meeting.meeting_id:
        lines.append(f"IRC: #startmeeting {meeting.meeting_id}")
    return "\n".join(lines)


def _event(meeting: Meeting, slot: Slot, uid: str, first: dt.date, stamp: dt.datetime,
           rrule: dict[str, object], exdates: Sequence[dt.date]) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", meeting.project)
    event.add("location", f"irc: {slot.irc}" if slot.irc else (
        f"matrix: {slot.matrix}" if slot.matrix else f"irc: #{slot.place}"))  # as yaml2ical
    event.add("description", _description(meeting, slot))
    event.add("dtstart", slot.start_at(first))
    event.add("duration", dt.timedelta(minutes=slot.duration))
    event.add("rrule", rrule)
    if exdates:
        event.add("exdate", [slot.start_at(d) for d in exdates])
    if meeting.agenda_url:
        event.add("url", meeting.agenda_url)
    return event


def meeting_events(meeting: Meeting, slot: Slot, *, until: dt.date, stamp: dt.datetime,
                   domain: str = "govbot") -> list[icalendar.Event]:
    """The events of one slot (none for an adhoc one: it has no dates)."""
    rec = slot.recurrence
    base = f"{meeting.key}-{slot.key}"
    if rec.kind == "adhoc":
        return []
    if rec.kind == "monthly" or rec.period == 1:
        first = next(iter(slot.dates(slot.start_date, until, skips=False)), None)
        if first is None:
            return []
        rule: dict[str, object] = {"freq": "weekly"}
        if rec.kind == "monthly":
            rule = {"freq": "monthly", "byday": f"{rec.nth}{_DAY_CODES[slot.day]}"}
        skipped = [d for d in sorted(slot.skip_dates)
                   if d >= first and any(slot.dates(d, d + dt.timedelta(days=1), skips=False))]
        return [_event(meeting, slot, f"{base}@{domain}", first, stamp, rule, skipped)]
    events = []
    for run in slot_runs(slot, until):
        rule = {"freq": "weekly", "interval": rec.period, "until": slot.start_at(run[-1])}
        skipped = [d for d in run if d in slot.skip_dates]
        events.append(_event(meeting, slot, f"{base}-{run[0]:%Y%m%d}@{domain}", run[0],
                             stamp, rule, skipped))
    return events


def deadline_event(deadline: Deadline, offsets: Iterable[dt.timedelta], *,
                   stamp: dt.datetime, domain: str = "govbot") -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"deadline-{deadline.id}@{domain}")
    event.add("dtstamp", stamp)
    event.add("summary", deadline.title)
    event.add("dtstart", deadline.at)
    event.add("duration", dt.timedelta(0))
    if deadline.channels:
        event.add("location", "irc: " + " ".join(deadline.channels))
    if deadline.url:
        event.add("url", deadline.url)
        event.add("description", deadline.url)
    for offset in sorted(set(offsets), reverse=True):
        if offset > dt.timedelta(0):
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", deadline.title)
            alarm.add("trigger", -offset)
            event.add_component(alarm)
    return event


def build_calendar(schedules: Schedules, *, until: dt.date, stamp: dt.datetime,
                   name: str = "Meetings and deadlines", domain: str = "govbot"
                   ) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for meeting in sorted(schedules.meetings, key=lambda m: m.file):
        for slot in meeting.slots:
            for event in meeting_events(meeting, slot, until=until, stamp=stamp,
                                        domain=domain):
                calendar.add_component(event)
    settings: RemindersConfig = schedules.settings
    for deadline in sorted(schedules.deadlines, key=lambda d: (d.at, d.id)):
        calendar.add_component(deadline_event(
            deadline, deadline.offsets or settings.deadline_offsets, stamp=stamp,
            domain=domain))
    return calendar


def calendar_bytes(schedules: Schedules, *, until: dt.date, stamp: dt.datetime) -> bytes:
    """The calendar's .ics: icalendar's `to_ical()`, byte for byte, with the lines folded
    here (icalendar folds character by character in Python: two thirds of the time
    `govbot ical` spent writing 50 meetings' calendar)."""
    lines = build_calendar(schedules, until=until, stamp=stamp).content_lines()
    return b"".join(folded(line) + b"\r\n" for line in lines if line)


def folded(line: Contentline) -> bytes:
    """One content line folded as icalendar folds it (RFC 5545: under 75 octets a line,
    never between a backslash or caret escape and what it escapes)."""
    if not line.isascii():  # folded by UTF-8 octets: icalendar's own folding
        return bytes(line.to_ical())  # type: ignore[no-untyped-call]
    if len(line) < _FOLD:
        return line.encode()
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


async def ical_command(ctx: CliContext, governance_dir: Path, out: Path) -> int:
    """Write the .ics of the config repo checked out at `governance_dir` to `out`
    ('-': standard output). Errors are printed as FILE:LINE; exit status 1."""
    # Only this plugin's sections: errors elsewhere in the repo do not stop a calendar.
    loaded = await ctx.governance(directory=Path(governance_dir), own_sections=True)
    if loaded.config is None:
        for error in loaded.errors:
            print(error, file=sys.stderr)
        print(f"{len(loaded.errors)} error(s) in {governance_dir}; no calendar written",
              file=sys.stderr)
        return 1
    # A published calendar must not silently lose a meeting: the daemon reminds the
    # others, but a calendar is only written when every meeting file loads.
    if loaded.item_errors:
        for error in loaded.item_errors:
            print(error, file=sys.stderr)
        print(f"{len(loaded.item_errors)} error(s) in the meetings of {governance_dir}; no "
              "calendar written", file=sys.stderr)
        return 1
    return write_ical(schedules_of(loaded.config, ctx.plugin), Path(governance_dir),
                      loaded.files, out)


def write_ical(schedules: Schedules, governance_dir: Path, files: Sequence[str],
               out: Path) -> int:
    """Write the calendar of `schedules`, read from `files` of `governance_dir`."""
    mtimes = [(governance_dir / f).stat().st_mtime for f in files]
    stamp = dt.datetime.fromtimestamp(int(max(mtimes, default=0)), UTC)
    # Runs of biweekly meetings are written ten years ahead (see the module docstring).
    until = dt.date(dt.datetime.now(UTC).year + 11, 1, 1)
    data = calendar_bytes(schedules, until=until, stamp=stamp)
    if str(out) == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(out).write_bytes(data)
    events = data.count(b"BEGIN:VEVENT")
    print(f"{out}: {events} event(s) for {len(schedules.meetings)} meeting(s) and "
          f"{len(schedules.deadlines)} deadline(s)", file=sys.stderr)
    return 0


def _calendar_now(config: GovernanceConfig, plugin: str, now: dt.datetime) -> bytes:
    # Biweekly runs are written ten years ahead, as `govbot ical` does.
    return calendar_bytes(schedules_of(config, plugin), until=dt.date(now.year + 11, 1, 1),
                          stamp=now.replace(microsecond=0))


async def calendar_page(request: WebRequest, ctx: PluginContext) -> WebResponse:
    """`GET /calendar.ics`: the meetings and deadlines of the config in force."""
    if ctx.config.section(ctx.plugin) is None:
        return WebResponse(404, "no meeting schedules in the governance config\n")
    # Thousands of events take a while to write: not on the event loop.
    data = await asyncio.to_thread(_calendar_now, ctx.config, ctx.plugin, ctx.now)
    return WebResponse(200, data, "text/calendar")
