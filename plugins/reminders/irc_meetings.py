"""Reading irc-meetings files (`meetings/*.yaml`): validated, with `FILE:LINE` errors.

The format is OpenDev's, exactly as yaml2ical reads it (docs/reminders.md lists
the keys), so a community moves its files over unchanged. Each file is checked
with the schema toolkit (every problem reported, at its line), then every slot
is handed to yaml2ical's own `Schedule` with the start date pinned, so a file
govbot accepts is one yaml2ical accepts too, and the frequency means what
yaml2ical's recurrence table says. yaml2ical's `load_meetings` is never used: it
runs `git log` on every file and dates slots without `start_date` at `utcnow()`.

Files named `meetbot-*.yaml` in the same directory belong to the meetings
(MeetBot) plugin and are left alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from yaml2ical import meeting as y2i_meeting
from yaml2ical import recurrence as y2i_recurrence

from govbot.config.model import Source
from govbot.config.schema import (
    INVALID,
    AnyValue,
    Check,
    ErrorSink,
    Field,
    ListOf,
    Schema,
    Str,
    did_you_mean,
)
from govbot.config.sections import ConfigFile, SectionContext
from govbot.config.yamlpos import YamlList, YamlMap, source_of

from .schedule import (
    OPEN_START,
    WEEKDAYS,
    Meeting,
    Recurrence,
    Slot,
)

__all__ = [
    "CHANNEL", "DAY", "FREQUENCIES", "MEETINGS_PATTERN", "NICK", "NICKS", "TIME", "YMD",
    "Minutes", "parse_meeting_files", "recurrence_of",
]

MEETINGS_PATTERN = "meetings/*.yaml"
OTHER_PLUGIN_PREFIX = "meetbot-"  # meetings/meetbot-*.yaml: the MeetBot plugin's files

#: Every frequency yaml2ical knows, in its own order.
FREQUENCIES: tuple[str, ...] = tuple(y2i_recurrence.supported_recurrences)
_DAY_NAMES = {name.lower(): index for index, name in enumerate(WEEKDAYS)}


class Time(Check):
    """'HHMM' in UTC, as text. A YAML number is refused with the reason."""

    expected = "a time 'HHMM' (UTC) in quotes"
    plural = "times"
    types = (str, int)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\d{3}", value):
            # yaml2ical's strptime('%H%M') reads '800' as 08:00: so does govbot.
            hours, minutes = int(value[0]), int(value[1:])
            if minutes < 60:
                warn = getattr(sink, "warning", None)
                if warn is not None:
                    warn(where, f"{label} {value!r} is read as {hours:02d}:{minutes:02d}, as "
                                f"yaml2ical reads it; write '{hours:02d}{minutes:02d}'")
                return dt.time(hours, minutes)
        if isinstance(value, int):
            # yaml2ical needs text, and YAML reads an unquoted 0700 as the octal 448.
            sink.error(where, f"{label} must be quoted text like '{value:04d}', got the "
                              f"number {value}; YAML reads unquoted times as numbers "
                              "(0700 would even be 448)")
            return INVALID
        match = re.fullmatch(r"([01]\d|2[0-3])([0-5]\d)", value)
        if not match:
            sink.error(where, f"{label} must be a UTC time 'HHMM' like '1500', got {value!r}")
            return INVALID
        return dt.time(int(match[1]), int(match[2]))


class Ymd(Check):
    """A date as yaml2ical writes it: YYYYMMDD (a YAML number or text)."""

    expected = "a date YYYYMMDD"
    plural = "dates"
    types = (int, str, dt.date)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        text = str(value)
        try:
            if isinstance(value, dt.date) or not re.fullmatch(r"\d{8}", text):
                raise ValueError
            return dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            example = value.strftime("%Y%m%d") if isinstance(value, dt.date) else "20261231"
            sink.error(where, f"{label} must be a date YYYYMMDD like {example} "
                              f"(yaml2ical's format), got {text!r}")
            return INVALID


class Day(Check):
    """A weekday name, any case (yaml2ical capitalises it)."""

    expected = "a day of the week"
    plural = "days of the week"
    types = (str,)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        index = _DAY_NAMES.get(value.lower())
        if index is None:
            sink.error(where, f"{label} must be a day of the week like 'Thursday', got "
                              f"{value!r}{did_you_mean(value.capitalize(), WEEKDAYS)}")
            return INVALID
        return index


class Minutes(Check):
    """A duration in minutes: an integer (or digits as text, which yaml2ical accepts)."""

    expected = "a number of minutes"
    plural = "numbers of minutes"
    types = (int, str)

    def __init__(self, maximum: int = 24 * 60, minimum: int = 1) -> None:
        self.maximum, self.minimum = maximum, minimum

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if isinstance(value, bool) or (isinstance(value, str) and not value.isdigit()):
            sink.error(where, f"{label} must be a number of minutes, got {value!r}")
            return INVALID
        minutes = int(value)
        if not self.minimum <= minutes <= self.maximum:
            sink.error(where, f"{label} must be between {self.minimum} and "
                              f"{self.maximum} minutes, got {minutes}")
            return INVALID
        return minutes


TIME = Time()
YMD = Ymd()
DAY = Day()
# yaml2ical writes `irc: openstack-meeting` (no '#', which YAML would read as a comment);
# a quoted '#name' is accepted too.
_CHANNEL_RE = re.compile(r"#?[^\s,#\x07][^\s,\x07]*")
CHANNEL = Str(pattern=_CHANNEL_RE.pattern, expected="an IRC channel name")
NICK = Str(pattern=r"[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*", expected="an IRC nick")
NICKS = ListOf(NICK, single_ok=True, expected="an IRC nick or a list of nicks")

SKIP = Schema({
    "skip_date": Field(YMD, required=True),
    "reason": Field(Str(allow_empty=True), required=True),
}, what="a skip date", expected="a mapping with 'skip_date' and 'reason'")

SLOT = Schema({
    "time": Field(TIME, required=True),
    "day": Field(DAY, required=True),
    # Any text yaml2ical takes ('Google hangout' too): a non-channel is a place.
    "irc": Field(Str(expected="an IRC channel name")),
    "matrix": Field(Str(expected="a Matrix room")),
    "frequency": Field(Str(expected="a frequency"), required=True),
    "start_date": Field(YMD),
    "duration": Field(Minutes(), default=60),
    "skip_dates": Field(ListOf(SKIP), default=()),
    "chair": Field(Str(allow_empty=True)),
}, what="a schedule entry", expected="a schedule entry (a mapping with time, day, irc, "
                                     "frequency)", plural="schedule entries",
    extra="ignore")  # yaml2ical ignores other keys (`end_date`...): warned about below
_KNOWN_SLOT = ("time", "day", "irc", "matrix", "frequency", "start_date", "duration",
               "skip_dates", "chair")

_KNOWN_TOP = ("project", "meeting_id", "agenda_url", "project_url", "chair", "description",
              "agenda", "schedule", "ping")
MEETING = Schema({
    "project": Field(Str(), required=True),
    "meeting_id": Field(Str()),
    "agenda_url": Field(Str()),
    "project_url": Field(Str()),
    "chair": Field(Str(allow_empty=True)),
    "description": Field(Str(allow_empty=True)),  # present, maybe empty: checked below
    "agenda": Field(AnyValue()),
    "schedule": Field(ListOf(AnyValue(), expected="a list of schedule entries"),
                      required=True),
    "ping": Field(NICKS, default=()),  # govbot's own key; yaml2ical keeps it as an extra
}, what="a meeting file", extra="ignore")  # other keys are yaml2ical "extras"


class _Owner:
    """The few attributes yaml2ical's `Schedule` reads from its meeting."""

    def __init__(self, project: str, filefrom: str, chair: str | None) -> None:
        self.project, self.filefrom, self.chair = project, filefrom, chair


def recurrence_of(rec: Any) -> Recurrence | None:
    """yaml2ical's recurrence object as govbot's rule (None: a kind govbot lacks)."""
    if isinstance(rec, y2i_recurrence.WeeklyRecurrence):
        return Recurrence("weeks", 1, 0)
    if isinstance(rec, y2i_recurrence.BiWeeklyRecurrence):
        return Recurrence("weeks", 2, 1 if rec.style == "odd" else 0)
    if isinstance(rec, y2i_recurrence.QuadWeeklyRecurrence):
        return Recurrence("weeks", 4, rec.week)
    if isinstance(rec, y2i_recurrence.MonthlyRecurrence):
        return Recurrence("monthly", nth=rec._week)
    if isinstance(rec, y2i_recurrence.AdhocRecurrence):
        return Recurrence("adhoc")
    return None


class Meetings(tuple[Meeting, ...]):
    """The meetings that loaded, and the files that did not (`unavailable`).

    A file yaml2ical would reject makes only that meeting unavailable: its errors are
    reported as item errors (`FILE:LINE`; they fail `check-config`, not the load), the
    others are reminded. `unavailable` is what a metric or `check-config` counts.
    """

    unavailable: tuple[str, ...] = ()

    def __new__(cls, meetings: Sequence[Meeting] = (),
                unavailable: Sequence[str] = ()) -> Meetings:
        made = super().__new__(cls, meetings)
        made.unavailable = tuple(unavailable)
        return made


class _FileSink:
    """One meeting file's problems, kept apart so they cannot fail the whole config.

    A `SectionContext` itself (what the checks of one file see), forwarding the rest.
    """

    def __init__(self, ctx: SectionContext) -> None:
        self.ctx = ctx
        self.root, self.people, self.bodies, self.teams = (
            ctx.root, ctx.people, ctx.bodies, ctx.teams)
        self.errors: list[tuple[Source, str]] = []

    def error(self, where: Source, message: str) -> None:
        self.errors.append((where, message))

    def warning(self, where: Source, message: str) -> None:
        warn = getattr(self.ctx, "warning", None)
        if warn is not None:
            warn(where, message)

    def flush(self, file: str) -> None:
        """Report this file's errors as errors of its meeting only."""
        sink = ItemSink(self.ctx)
        for where, message in self.errors:
            sink.error(where, message)
        self.warning(Source(file, 1), "this meeting is unavailable (not reminded) until "
                                      "its errors are fixed; the other meetings are")


class ItemSink:
    """Errors about meetings only (a file, a conflict): item errors where the loader
    has them, so they fail `check-config` but not the rest of the config."""

    def __init__(self, ctx: SectionContext) -> None:
        self.ctx = ctx

    def error(self, where: Source, message: str) -> None:
        item_error = getattr(self.ctx, "item_error", None)
        if item_error is not None:
            item_error(where, message)
        else:  # a context without items: the error fails the load, as before
            self.ctx.error(where, message)


def parse_meeting_files(files: Sequence[ConfigFile], ctx: SectionContext) -> Meetings:
    """Every meeting file, validated; conflicts are checked by the caller."""
    meetings = []
    unavailable = []
    for file in files:
        name = file.path.rsplit("/", 1)[-1]
        if name.startswith(OTHER_PLUGIN_PREFIX):
            continue
        sink = _FileSink(ctx)
        found = _meeting(file, sink)
        if sink.errors or found is None:
            unavailable.append(file.path)
            sink.flush(file.path)
            continue
        meetings.append(found)
    return Meetings(meetings, unavailable)


def _meeting(file: ConfigFile, ctx: SectionContext) -> Meeting | None:
    data = MEETING.read_file(file, ctx)
    if data is INVALID:
        return None
    _warn_typos(file.data, ctx)
    here = source_of(data) or Source(file.path, 1)
    if isinstance(file.data, Mapping) and "description" not in file.data:
        ctx.error(here, "required key 'description' is missing in a meeting file "
                        "(yaml2ical needs it; it may be empty)")
    elif data["description"] is None:
        _warn(ctx, data.source_of("description"),
              "'description' has no value; read as empty, as yaml2ical does")
    chair = data["chair"]
    entries: YamlList = data["schedule"] or YamlList(here)
    if data["schedule"] is not None and not entries:
        ctx.error(data.source_of("schedule"), "'schedule' must list at least one entry")
    slots = []
    for item, where in entries.with_sources():
        slot = _slot(item, where, file.path, data["project"], chair, ctx)
        if slot is not None:
            slots.append(slot)
    if chair is None and any(s.chair is None for s in slots):
        ctx.error(here, "required key 'chair' is missing in a meeting file "
                        "(yaml2ical needs it unless every schedule entry has its own)")
    stem = file.path.rsplit("/", 1)[-1].removesuffix(".yaml")
    return Meeting(file=file.path, key=stem, project=data["project"],
                   description=data["description"] or "", chair=chair,
                   meeting_id=data["meeting_id"], agenda_url=data["agenda_url"],
                   project_url=data["project_url"], ping=tuple(data["ping"] or ()),
                   slots=tuple(slots), source=here)


def _warn(ctx: SectionContext, where: Source, message: str) -> None:
    warn = getattr(ctx, "warning", None)
    if warn is not None:
        warn(where, message)


def _warn_typos(raw: Any, ctx: SectionContext) -> None:
    """Unknown top-level keys are yaml2ical extras; one close to a known key is a typo."""
    warn = getattr(ctx, "warning", None)
    if warn is None or not isinstance(raw, Mapping):
        return
    for key in raw:
        if key in _KNOWN_TOP:
            continue
        hint = did_you_mean(str(key), _KNOWN_TOP)
        if hint:
            warn(source_of(raw, key) or Source("<unknown>", 0),
                 f"unknown key {key!r} in a meeting file{hint}; kept as a yaml2ical extra")


def _slot(raw: Any, where: Source, path: str, project: str, chair: str | None,
          ctx: SectionContext) -> Slot | None:
    data = SLOT.check(raw, where, "this schedule entry", ctx)
    if data is INVALID or not isinstance(data, YamlMap):
        return None
    for key in raw if isinstance(raw, Mapping) else ():
        if key not in _KNOWN_SLOT:
            _warn(ctx, source_of(raw, key) or where, (
                f"unknown key {key!r} in a schedule entry{did_you_mean(str(key), _KNOWN_SLOT)};"
                " yaml2ical ignores it, so does govbot"))
    if any(data[k] is None for k in ("time", "day", "frequency")):
        return None  # already reported as missing
    frequency = data["frequency"]
    if frequency not in FREQUENCIES:
        ctx.error(data.source_of("frequency"), (
            f"'frequency' must be one of yaml2ical's: {', '.join(FREQUENCIES)}; got "
            f"{frequency!r}{did_you_mean(frequency, FREQUENCIES)}"))
        return None
    irc, matrix = data["irc"], data["matrix"]
    if irc is None and matrix is None:
        ctx.error(where, "a schedule entry needs 'irc' (the channel, without '#')")
        return None
    rec_obj = y2i_recurrence.supported_recurrences[frequency]
    day = data["day"]
    if isinstance(rec_obj, y2i_recurrence.MonthlyRecurrence) \
            and WEEKDAYS.index(rec_obj._day) != day:
        ctx.error(data.source_of("day"), (
            f"'day' is {WEEKDAYS[day]} but the frequency {frequency!r} is on "
            f"{rec_obj._day}s; make them agree (yaml2ical would use one for the first "
            "date and the other for the repeats)"))
        return None
    start: dt.date = data["start_date"] or OPEN_START
    time: dt.time = data["time"]
    skips: dict[dt.date, str] = {}
    skip_list = data["skip_dates"] or ()
    for skip in skip_list:
        if skip["skip_date"] is not None:
            skips[skip["skip_date"]] = skip["reason"] or ""
    # yaml2ical reads the same slot, with the start pinned: it accepts what we accept,
    # and its recurrence table says what the frequency means.
    pinned = {"time": f"{time:%H%M}", "day": WEEKDAYS[day], "frequency": frequency,
              "start_date": start.strftime("%Y%m%d"), "duration": data["duration"],
              "skip_dates": [{"skip_date": d.strftime("%Y%m%d"), "reason": r}
                             for d, r in skips.items()]}
    pinned.update({k: data[k] for k in ("irc", "matrix", "chair") if data[k] is not None})
    try:
        schedule = y2i_meeting.Schedule(_Owner(project, path, chair), pinned)
    except (KeyError, ValueError, TypeError) as exc:
        ctx.error(where, f"yaml2ical cannot read this schedule entry: {exc}")
        return None
    recurrence = recurrence_of(schedule.recurrence)
    if recurrence is None:
        ctx.error(data.source_of("frequency"), f"frequency {frequency!r} is not supported "
                                               "by govbot yet")
        return None
    place = None
    if irc and not _CHANNEL_RE.fullmatch(irc):
        _warn(ctx, data.source_of("irc"), (
            f"'irc' is {irc!r}, which is not an IRC channel: kept as the meeting's place, "
            "with no reminders posted (yaml2ical shows it as the location)"))
        place, irc = irc, None
    slot = Slot(day=day, time=time, duration=schedule.duration, frequency=frequency,
                recurrence=recurrence, irc=f"#{irc.lstrip('#')}" if irc else None,
                matrix=matrix, place=place, start_date=start,
                start_given=data["start_date"] is not None,
                skip_dates=MappingProxyType(skips), chair=data["chair"] or chair,
                source=where)
    _check_skips(slot, skip_list, ctx)
    return slot


def _check_skips(slot: Slot, skip_list: Any, ctx: SectionContext) -> None:
    """A skip date that is no meeting day of the slot skips nothing: surely a typo."""
    warn = getattr(ctx, "warning", None)
    if warn is None or slot.recurrence.kind == "adhoc":
        return
    for index, skip in enumerate(skip_list):
        day = skip["skip_date"]
        if day is None:
            continue
        if not any(slot.dates(day, day + dt.timedelta(days=1), skips=False)):
            where = skip_list.source_of(index) if isinstance(skip_list, YamlList) else None
            warn(where or slot.source or Source("<unknown>", 0),
                 f"skip_date {day:%Y%m%d} ({WEEKDAYS[day.weekday()]}) is not a day this "
                 f"entry meets ({slot.describe()}, from {slot.start_date:%Y%m%d}): it "
                 "skips nothing")
