"""The meeting schedules, offered to other plugins (`govbot.offers.MeetingSchedules`).

The meetings plugin asks which meetings a channel has scheduled around a
`#startmeeting` (who may start one, whether it may change the topic). The answer
comes from this plugin's own parse of `meetings/*.yaml` and its own recurrence
(`schedule.py`: skip dates, first-<weekday>, the ISO week 53 rule), so a meeting
is "scheduled now" exactly when its reminder and its calendar entry say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from govbot.config.model import GovernanceConfig
from govbot.offers import ScheduledMeeting, UpcomingDeadline

from .config import Deadline
from .schedule import Meeting

__all__ = ["RemindersDeadlines", "RemindersSchedules", "meetings_at"]

_TICK = dt.timedelta(microseconds=1)


def meetings_at(meetings: Sequence[Meeting], channel: str, moment: dt.datetime, *,
                early: dt.timedelta = dt.timedelta(0)) -> list[ScheduledMeeting]:
    """Occurrences in `channel` running at `moment` or starting at most `early` after it."""
    wanted = channel.lstrip("#").lower()
    moment = moment.astimezone(dt.UTC)
    found: list[ScheduledMeeting] = []
    for meeting in meetings:
        for slot in meeting.slots:
            if slot.irc is None or slot.irc.lstrip("#").lower() != wanted:
                continue
            # Running at `moment`: it started after `moment - duration`; and it starts
            # at most `early` after `moment`. `occurrences` takes [since, until).
            since = moment - dt.timedelta(minutes=slot.duration) + _TICK
            for occurrence in slot.occurrences(since, moment + early + _TICK):
                found.append(ScheduledMeeting(
                    meeting_id=meeting.meeting_id or "",
                    chair=slot.chair or meeting.chair or "",
                    channel="#" + wanted, start=occurrence.start, end=occurrence.end))
    found.sort(key=lambda m: m.start)  # stable: meetings in file order at the same time
    return found


class RemindersSchedules:
    """The reminders plugin's `MeetingSchedules`: the meetings of the asker's config."""

    def __init__(self, meetings: Callable[[GovernanceConfig], Sequence[Meeting]]) -> None:
        self._meetings = meetings

    def meetings_at(self, config: GovernanceConfig, channel: str, moment: dt.datetime, *,
                    early: dt.timedelta = dt.timedelta(0)) -> Sequence[ScheduledMeeting]:
        return meetings_at(self._meetings(config), channel, moment, early=early)


class RemindersDeadlines:
    """The reminders plugin's `Deadlines`: the `deadlines.yaml` of the asker's config."""

    def __init__(self, deadlines: Callable[[GovernanceConfig], Sequence[Deadline]]) -> None:
        self._deadlines = deadlines

    def deadlines_between(self, config: GovernanceConfig, start: dt.datetime,
                          end: dt.datetime) -> Sequence[UpcomingDeadline]:
        found = [UpcomingDeadline(d.id, d.title, d.at, d.url, d.channels)
                 for d in self._deadlines(config) if start <= d.at < end]
        return sorted(found, key=lambda d: (d.at, d.id))
