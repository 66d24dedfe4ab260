"""Reminder streams, and how a stream catches up exactly once.

A *stream* is one ordered sequence of reminder instants ("dues"): the reminders
of one meeting slot, the offsets of one deadline, the times of one digest. Each
stream keeps one record in the plugin's state: the instant of the last due it
handled (the *cursor*) and how many it dropped. Handling a stream at `now`
walks the dues after the cursor up to `now`: a due at most `grace` old is sent
(late, and it says so, when the bot was down), an older one is dropped and
counted; the cursor moves past both. Because every due is either before the
cursor (handled once) or after it (not yet), a restart neither repeats nor
silently skips one. The record is bounded: one per stream, whatever the history.

Several digests due at once are one: a digest is a snapshot of now, so the
latest is sent and the older ones count as dropped.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from govbot.config.model import GovernanceConfig

from .config import Deadline, Digest, RemindersConfig
from .schedule import UTC, Meeting, Occurrence, Slot

__all__ = [
    "DeadlineStream", "DigestStream", "Due", "MeetingStream", "Progress", "Record", "Stream",
    "advance", "build_streams", "deadline_text", "meeting_text", "span",
]

_TICK = dt.timedelta(microseconds=1)
_ON_TIME = dt.timedelta(seconds=60)  # later than this, a reminder says it is late


@dataclass(frozen=True, slots=True)
class Due:
    at: dt.datetime
    what: str  # for log lines: "tc 2026-11-26 15:00"
    occurrence: Occurrence | None = None
    offset: dt.timedelta | None = None


class Stream(Protocol):
    @property
    def key(self) -> str:
        """The key of the stream's wake-up and state record."""

    @property
    def kind(self) -> str:
        """"meeting", "deadline" or "digest": selects the grace window."""

    def dues(self, after: dt.datetime) -> Iterator[Due]:
        """Dues strictly after `after`, in order."""


@dataclass(frozen=True, slots=True)
class MeetingStream:
    key: str
    meeting: Meeting
    slot: Slot
    minutes: int
    ping: tuple[str, ...] = ()
    kind: str = "meeting"

    def dues(self, after: dt.datetime) -> Iterator[Due]:
        lead = dt.timedelta(minutes=self.minutes)
        for occurrence in self.slot.occurrences(after + lead + _TICK):
            yield Due(occurrence.start - lead,
                      f"{self.meeting.key} {occurrence.start:%Y-%m-%d %H:%M}", occurrence)


@dataclass(frozen=True, slots=True)
class DeadlineStream:
    key: str
    deadline: Deadline
    offsets: tuple[dt.timedelta, ...]
    kind: str = "deadline"

    def dues(self, after: dt.datetime) -> Iterator[Due]:
        for offset in sorted(set(self.offsets), reverse=True):
            at = self.deadline.at - offset
            if at > after:
                yield Due(at, f"{self.deadline.id} -{span(offset)}", offset=offset)


@dataclass(frozen=True, slots=True)
class DigestStream:
    key: str
    digest: Digest
    kind: str = "digest"

    def dues(self, after: dt.datetime) -> Iterator[Due]:
        day = after.date()
        days = self.digest.days
        while True:
            at = dt.datetime.combine(day, self.digest.time, tzinfo=UTC)
            if at > after and (not days or day.weekday() in days):
                yield Due(at, f"{self.key} {at:%Y-%m-%d %H:%M}")
            day += dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Progress:
    send: tuple[Due, ...]
    dropped: tuple[Due, ...]
    cursor: dt.datetime
    next: Due | None


def advance(stream: Stream, cursor: dt.datetime, now: dt.datetime,
            grace: dt.timedelta) -> Progress:
    """What handling `stream` at `now` does, given the last handled instant `cursor`."""
    send: list[Due] = []
    dropped: list[Due] = []
    upcoming = None
    for due in stream.dues(cursor):
        if due.at > now:
            upcoming = due
            break
        (send if now - due.at <= grace else dropped).append(due)
        cursor = due.at
    if stream.kind == "digest" and len(send) > 1:
        dropped += send[:-1]
        send = send[-1:]
    return Progress(tuple(send), tuple(dropped), cursor, upcoming)


def build_streams(config: GovernanceConfig, meetings: tuple[Meeting, ...],
                  deadlines: tuple[Deadline, ...], settings: RemindersConfig
                  ) -> dict[str, Stream]:
    """Every stream the config asks for, by key (the key of its wake-up and record)."""
    streams: dict[str, Stream] = {}
    for meeting in meetings:
        override = settings.overrides.get(meeting.key)
        if override is not None and not override.remind:
            continue
        minutes = settings.minutes_before
        if override is not None and override.minutes_before is not None:
            minutes = override.minutes_before
        ping = _ping(meeting, override, config)
        for slot in meeting.slots:
            if slot.irc is None or slot.recurrence.kind == "adhoc":
                continue  # reminders go to IRC channels; adhoc meetings have no dates
            key = f"meeting:{meeting.key}:{slot.key}"
            streams[key] = MeetingStream(key, meeting, slot, minutes, ping)
    for deadline in deadlines:
        key = f"deadline:{deadline.id}"
        streams[key] = DeadlineStream(key, deadline,
                                      deadline.offsets or settings.deadline_offsets)
    for digest in settings.digests:
        key = f"digest:{digest.key}"
        streams[key] = DigestStream(key, digest)
    return streams


def _ping(meeting: Meeting, override: Any, config: GovernanceConfig) -> tuple[str, ...]:
    nicks = [*meeting.ping, *(override.ping if override else ())]
    body = config.bodies.get(override.ping_body) if override and override.ping_body else None
    for member in body.members if body else ():
        person = config.people.get(member)
        # A member who opted out of reminders is not highlighted by them either.
        if person and person.irc_nick and person.reminders:
            nicks.append(person.irc_nick)
    return tuple(dict.fromkeys(nicks))


def span(delta: dt.timedelta) -> str:
    """'10 minutes', '1 hour 30 minutes', '7 days' (rounded up to the minute)."""
    minutes = math.ceil(abs(delta).total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{v} {unit}{'s' if v != 1 else ''}"
             for v, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if v]
    return " ".join(parts) or "0 minutes"


def _relative(moment: dt.datetime, now: dt.datetime, future: str, past: str) -> str:
    if abs(moment - now) < dt.timedelta(minutes=1):
        return "now"
    return future.format(span(moment - now)) if moment > now else past.format(
        span(now - moment))


def meeting_text(stream: MeetingStream, due: Due, now: dt.datetime) -> str:
    meeting, slot = stream.meeting, stream.slot
    assert due.occurrence is not None
    start = due.occurrence.start
    when = _relative(start, now, "starts in {}", "started {} ago")
    text = f"{meeting.project} meeting {when} ({start:%H:%M} UTC) in {slot.irc}"
    if meeting.meeting_id:
        text += f", #startmeeting {meeting.meeting_id}"
    if meeting.agenda_url:
        text += f". Agenda: {meeting.agenda_url}"
    if now - due.at > _ON_TIME:
        text += " (late reminder: the bot was offline)"
    if stream.ping:
        text += f" | ping: {' '.join(stream.ping)}"
    return text


def deadline_text(stream: DeadlineStream, due: Due, now: dt.datetime) -> str:
    deadline = stream.deadline
    at = f"{deadline.at:%Y-%m-%d %H:%M} UTC"
    when = _relative(deadline.at, now, "in {}", "passed {} ago")
    text = (f"Deadline now: {deadline.title} ({at})" if when == "now"
            else f"Deadline {when}: {deadline.title} ({at})")
    if deadline.url:
        text += f". {deadline.url}"
    if now - due.at > _ON_TIME:
        text += " (late reminder: the bot was offline)"
    return text


@dataclass(frozen=True, slots=True)
class Record:
    """A stream's state: the last handled instant and how many dues it dropped."""

    cursor: dt.datetime
    dropped: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"cursor": self.cursor.isoformat(), "dropped": self.dropped}

    @classmethod
    def from_json(cls, value: Any) -> Record | None:
        if not isinstance(value, Mapping) or "cursor" not in value:
            return None
        try:
            cursor = dt.datetime.fromisoformat(str(value["cursor"]))
        except ValueError:
            return None
        return cls(cursor if cursor.tzinfo else cursor.replace(tzinfo=UTC),
                   int(value.get("dropped", 0)))
