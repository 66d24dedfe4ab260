"""An iCalendar (.ics) file of every meeting and deadline: `govbot ical` and the web
server's `/calendar.ics`, both declared by the reminders plugin.

Written from the reminders plugin's sections (the events decided here as
`ics.CalendarEvent`s, their text written by `ics.py` as the icalendar package
writes it; `build_calendar` gives the icalendar objects), under
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
from typing import TYPE_CHECKING

from govbot.config.model import GovernanceConfig
from govbot.extensions import CliContext, WebRequest, WebResponse
from govbot.plugin import PluginContext

from .config import Deadline, RemindersConfig
from .ics import Alarm, CalendarEvent, ics_bytes, writable
from .plugin import Schedules, schedules_of
from .schedule import UTC, Meeting, Slot

if TYPE_CHECKING:  # imported by build_calendar only: `govbot ical` writes without it
    import icalendar

__all__ = ["build_calendar", "calendar_bytes", "calendar_events", "calendar_page",
           "ical_command", "meeting_events", "slot_runs"]

PRODID = "-//govbot//meetings and deadlines//EN"
NAME = "Meetings and deadlines"
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
           rrule: dict[str, object], exdates: Sequence[dt.date]) -> CalendarEvent:
    return CalendarEvent(
        uid=uid, stamp=stamp, summary=meeting.project, start=slot.start_at(first),
        duration=dt.timedelta(minutes=slot.duration),
        description=_description(meeting, slot),
        location=f"irc: {slot.irc}" if slot.irc else (
            f"matrix: {slot.matrix}" if slot.matrix else f"irc: #{slot.place}"),  # as yaml2ical
        url=meeting.agenda_url or None, rrule=rrule,
        exdates=tuple(slot.start_at(d) for d in exdates))


def meeting_events(meeting: Meeting, slot: Slot, *, until: dt.date, stamp: dt.datetime,
                   domain: str = "govbot") -> list[CalendarEvent]:
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
                   stamp: dt.datetime, domain: str = "govbot") -> CalendarEvent:
    return CalendarEvent(
        uid=f"deadline-{deadline.id}@{domain}", stamp=stamp, summary=deadline.title,
        start=deadline.at, duration=dt.timedelta(0),
        location="irc: " + " ".join(deadline.channels) if deadline.channels else None,
        url=deadline.url or None, description=deadline.url or None,
        alarms=tuple(Alarm(deadline.title, -offset)
                     for offset in sorted(set(offsets), reverse=True)
                     if offset > dt.timedelta(0)))


def calendar_events(schedules: Schedules, *, until: dt.date, stamp: dt.datetime,
                    domain: str = "govbot") -> list[CalendarEvent]:
    """Every meeting's and deadline's events, in the calendar's order."""
    events = [event for meeting in sorted(schedules.meetings, key=lambda m: m.file)
              for slot in meeting.slots
              for event in meeting_events(meeting, slot, until=until, stamp=stamp,
                                          domain=domain)]
    settings: RemindersConfig = schedules.settings
    events += [deadline_event(deadline, deadline.offsets or settings.deadline_offsets,
                              stamp=stamp, domain=domain)
               for deadline in sorted(schedules.deadlines, key=lambda d: (d.at, d.id))]
    return events


def build_calendar(schedules: Schedules, *, until: dt.date, stamp: dt.datetime,
                   name: str = NAME, domain: str = "govbot") -> icalendar.Calendar:
    """The calendar as icalendar objects (what `calendar_bytes` writes, as data)."""
    return _icalendar(calendar_events(schedules, until=until, stamp=stamp, domain=domain),
                      name)


def _icalendar(events: Iterable[CalendarEvent], name: str) -> icalendar.Calendar:
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for fields in events:
        event = icalendar.Event()
        event.add("uid", fields.uid)
        event.add("dtstamp", fields.stamp)
        event.add("summary", fields.summary)
        if fields.location is not None:
            event.add("location", fields.location)
        if fields.description is not None:
            event.add("description", fields.description)
        event.add("dtstart", fields.start)
        event.add("duration", fields.duration)
        if fields.rrule is not None:
            event.add("rrule", dict(fields.rrule))
        if fields.exdates:
            event.add("exdate", list(fields.exdates))
        if fields.url is not None:
            event.add("url", fields.url)
        for alarm in fields.alarms:
            component = icalendar.Alarm()
            component.add("action", "DISPLAY")
            component.add("description", alarm.description)
            component.add("trigger", alarm.trigger)
            event.add_component(component)
        calendar.add_component(event)
    return calendar


def calendar_bytes(schedules: Schedules, *, until: dt.date, stamp: dt.datetime) -> bytes:
    """The calendar's .ics: icalendar's `to_ical()` of `build_calendar`, byte for byte,
    written by ics.py (an event it would not write as icalendar does goes through
    icalendar)."""
    events = calendar_events(schedules, until=until, stamp=stamp)
    if writable(events):
        return ics_bytes(events, prodid=PRODID, name=NAME)
    data: bytes = _icalendar(events, NAME).to_ical()
    return data


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
