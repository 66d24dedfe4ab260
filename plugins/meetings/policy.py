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

Schedules are the irc-meetings files (`meetings/*.yaml`), which the reminders plugin
owns: it offers them as `govbot.offers.MeetingSchedules`, answered with its own
recurrence (skip dates, ISO week 53), so "scheduled now" means what its reminders and
calendar say. An embedder may pass its own lookup (`MeetingsPlugin(schedule=...)`).
Without the reminders plugin no slot is ever active (logged at each `#startmeeting`):
`scheduled-chairs` then refuses everyone, `anyone` is unaffected, and only a member of
a body whose channel it is starts a sanctioned meeting.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from govbot.offers import MeetingSchedules, ScheduledMeeting

if TYPE_CHECKING:  # annotations only: `govbot minutes` needs no settings types (msgspec)
    from govbot.config.model import GovernanceConfig, Person

    from .settings import MeetingsSettings, StartPolicy, TopicPolicy

log = logging.getLogger(__name__)


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


#: One occurrence of a scheduled meeting: meeting_id, chair (free text), channel, start, end.
Slot = ScheduledMeeting

ScheduleLookup = Callable[["GovernanceConfig", str, dt.datetime], Sequence[Slot]]


def scheduled_slots(schedules: MeetingSchedules | None, config: GovernanceConfig,
                    channel: str, now: dt.datetime, *,
                    grace: dt.timedelta = dt.timedelta(minutes=10)) -> list[Slot]:
    """Slots of `channel` active at `now` (from `grace` before the start to the end).

    `schedules` is what `ctx.offer(MeetingSchedules)` gave: None when the reminders
    plugin is not enabled, and then no slot is active."""
    if schedules is None:
        log.info("meetings: no enabled plugin offers the meeting schedules (the reminders "
                 "plugin does): no meeting counts as scheduled in %s", channel)
        return []
    return list(schedules.meetings_at(config, channel, now, early=grace))


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
