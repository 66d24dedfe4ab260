"""Who may start a meeting, and which meetings may change the channel topic.

Per channel (operator settings, `plugins.settings.meetings.channels`):

    channels:
      default: {startmeeting: anyone, topic: sanctioned}
      "#example-tc": {startmeeting: scheduled-chairs, topic: sanctioned}

- `startmeeting: anyone` (MeetBot) or `scheduled-chairs`: only a chair of a meeting
  scheduled in this channel, within its slot (from `start_grace` minutes before it
  starts until it is due to end).
- `topic: always` (MeetBot), `sanctioned` (only a sanctioned meeting: started by the
  chair of a slot scheduled now, or by a member of a body whose channel this is) or
  `never`. This is what stops a troll's `#startmeeting` from rewriting topics.

Schedules are the irc-meetings files, parsed by the reminders plugin (it owns
`meetings/*.yaml`). To avoid depending on its classes, they are read duck-typed from
`config.section("reminders")`: meetings with `meeting_id`, `chair` and slots (or
schedules) with `irc`, `day`, `time`, `duration`, and either a `dates(first, last)`
method (the reminders' recurrence and skip dates) or a `frequency`. An embedder may
pass its own lookup (`MeetingsPlugin(schedule=...)`). Without the reminders plugin no
slot is ever active: `scheduled-chairs` then refuses everyone, `anyone` is unaffected.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govbot.config.model import GovernanceConfig, Person

from .settings import MeetingsSettings, StartPolicy, TopicPolicy

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    startmeeting: StartPolicy = "anyone"
    topic: TopicPolicy = "sanctioned"


def policy_for(settings: MeetingsSettings, channel: str) -> ChannelPolicy:
    """The channel's own entry, then the `default` entry, key by key, then the defaults."""
    folded = {k.lower(): v for k, v in settings.channels.items()}
    own, default = folded.get(channel.lower()), folded.get("default")
    entries = [e for e in (own, default) if e is not None]
    start: StartPolicy = next((e.startmeeting for e in entries if e.startmeeting is not None),
                              "anyone")
    topic: TopicPolicy = next((e.topic for e in entries if e.topic is not None), "sanctioned")
    return ChannelPolicy(start, topic)


@dataclass(frozen=True, slots=True)
class Slot:
    """One occurrence of a scheduled meeting."""

    meeting_id: str
    chair: str  # free text, as the meeting file has it
    channel: str  # with '#'
    start: dt.datetime
    end: dt.datetime


ScheduleLookup = Callable[[GovernanceConfig, str, dt.datetime], Sequence[Slot]]


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


def _meetings(section: Any) -> list[Any]:
    """The meetings in the reminders' section, whatever container holds them."""
    found = _get(section, "meetings", default=section)
    if isinstance(found, Mapping):  # e.g. {"meetings/*.yaml": (Meeting, ...), ...}
        return [m for value in found.values() if isinstance(value, list | tuple)
                for m in value if _get(m, "meeting_id", "slots", "schedule") is not None]
    return list(found) if isinstance(found, list | tuple) else []


def _clock(value: Any) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    digits = re.sub(r"\D", "", str(value)).zfill(4)
    if len(digits) != 4:
        return None
    hour, minute = int(digits[:2]), int(digits[2:])
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


def _weekday(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 7 else None
    name = str(value).strip().lower()
    return _DAYS.index(name) if name in _DAYS else None


def _occurs(schedule: Any, day: dt.date) -> bool:
    """Is `day` a meeting day of the schedule? The reminders' own rule when the object
    offers one (`dates(first, last)`: recurrence, skip dates); else weekly, with
    ISO-week parity for biweekly."""
    dates = getattr(schedule, "dates", None)
    if callable(dates):
        return day in set(dates(day, day + dt.timedelta(days=1)))
    if _weekday(_get(schedule, "day", default="")) != day.weekday():
        return False
    frequency = str(_get(schedule, "frequency", "freq", default="weekly")).lower()
    week = day.isocalendar().week
    if frequency == "biweekly-odd":
        return week % 2 == 1
    if frequency == "biweekly-even":
        return week % 2 == 0
    return True  # weekly, quadweekly-*, first-<day>, adhoc: the weekday is what we check


def scheduled_slots(config: GovernanceConfig, channel: str, now: dt.datetime,
                    *, grace: dt.timedelta = dt.timedelta(minutes=10)) -> list[Slot]:
    """Slots of `channel` active at `now` (from `grace` before the start to the end)."""
    section = config.section("reminders")
    if section is None:
        return []
    wanted = channel.lstrip("#").lower()
    now = now.astimezone(dt.UTC)
    found: list[Slot] = []
    for meeting in _meetings(section):
        meeting_id = str(_get(meeting, "meeting_id", default="") or "")
        for schedule in _get(meeting, "slots", "schedules", "schedule", default=()) or ():
            if str(_get(schedule, "irc", default="") or "").lstrip("#").lower() != wanted:
                continue
            at = _clock(_get(schedule, "time", default=""))
            if at is None:
                continue
            chair = str(_get(schedule, "chair", default=None) or _get(meeting, "chair",
                                                                       default="") or "")
            minutes = int(_get(schedule, "duration", default=60) or 60)
            for day in (now.date(), now.date() - dt.timedelta(days=1)):  # across midnight
                start = dt.datetime.combine(day, at, dt.UTC)
                end = start + dt.timedelta(minutes=minutes)
                if start - grace <= now < end and _occurs(schedule, day):
                    found.append(Slot(meeting_id, chair, "#" + wanted, start, end))
    return found


def chairs_slot(chair_text: str, person: Person | None, account: str | None,
                nick: str | None) -> bool:
    """Is this speaker named in a meeting file's free-text `chair`? Whole words only."""
    names = [account, nick]
    if person is not None:
        names += [person.id, person.name, person.irc_account, person.irc_nick,
                  person.gerrit_username]
    text = chair_text.casefold()
    for name in names:
        if name and re.search(rf"(?<![\w-]){re.escape(name.casefold())}(?![\w-])", text):
            return True
    return False


@dataclass(frozen=True, slots=True)
class StartCheck:
    allowed: bool
    sanctioned: bool = False
    refusal: str = ""
    hint: str = ""  # the name given does not match the scheduled meeting_id
    scheduled_name: str = ""  # a default name when none is given


def check_start(policy: ChannelPolicy, slots: Sequence[Slot], config: GovernanceConfig,
                channel: str, name: str, *, account: str | None, nick: str,
                person: Person | None) -> StartCheck:
    """Apply the channel's policy to a `#startmeeting NAME`."""
    chaired = [s for s in slots if chairs_slot(s.chair, person, account, nick)]
    body_member = person is not None and any(
        b.channel and b.channel.lower() == channel.lower() and person.id in b.members
        for b in config.bodies.values())
    sanctioned = bool(chaired) or body_member
    if policy.startmeeting == "scheduled-chairs" and not chaired:
        if not slots:
            why = f"no meeting is scheduled in {channel} now"
        else:
            listed = ", ".join(f"{s.meeting_id} (chair: {s.chair or 'none listed'})"
                               for s in slots)
            why = f"only the chairs of the meeting scheduled now may start it: {listed}"
        return StartCheck(False, refusal=f"{why}; the meeting files in the governance "
                                         "repository say who chairs what and when")
    hint, scheduled = "", ""
    if slots:
        ids = [s.meeting_id for s in (chaired or slots) if s.meeting_id]
        scheduled = ids[0] if ids else ""
        given = name.strip().lower()
        if given and ids and given not in (i.lower() for i in ids):
            hint = (f"the meeting scheduled now in {channel} is {ids[0]!r}; if this is it, "
                    f"say #meetingname {ids[0]}")
    return StartCheck(True, sanctioned=sanctioned, hint=hint, scheduled_name=scheduled)
