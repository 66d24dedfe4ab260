"""No line lost where history is kept: the lines said while the bot was away.

After the bot's own JOIN of a channel with a meeting open (a restart, a reconnect, a
netsplit) the server or a bouncer may play back what was said meanwhile: InspIRCd's
channel mode +H (a `chathistory` batch), IRCv3 draft/chathistory, ZNC's buffer
(`znc.in/playback`). The IRC layer marks those lines (`IrcMessage.history`, with
server-time and msgid). Here each played-back line is judged once: journaled if it is
newer than the last line journaled and not heard before (by msgid, else by server
time, nick and text); older or known lines prove that the history reaches back far
enough; so does a bouncer's buffer, which starts where the bot left.

At the first live line after the JOIN the account is settled: if the history reached
back to what was journaled, nothing was lost; otherwise the lines between the last one
journaled and the first one played back (or the JOIN, when nothing came back) were
not seen, and the plugin writes a gap marker (plugin._gap_entry).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from govbot.irc.events import IrcMessage

from .model import Meeting, line_key


@dataclass(frozen=True, slots=True)
class Gap:
    start: dt.datetime  # the last line journaled before the bot went away
    end: dt.datetime  # the first line seen again (played back or the JOIN)


@dataclass(slots=True)
class _Rejoin:
    since: dt.datetime | None  # the last line journaled when the bot rejoined
    joined: dt.datetime
    earliest: dt.datetime | None = None  # the first new line played back
    covered: bool = False  # history reached back to a line already journaled


class Away:
    """Per channel, from the bot's JOIN to the first live line (the plugin's state)."""

    def __init__(self) -> None:
        self._rejoins: dict[str, _Rejoin] = {}

    def rejoined(self, key: str, meeting: Meeting, when: dt.datetime) -> None:
        self._rejoins[key] = _Rejoin(meeting.last_heard or meeting.started, when)

    def new(self, key: str, meeting: Meeting, event: IrcMessage) -> bool:
        """Is this played-back line one to journal (said after the last one journaled,
        never heard before)?"""
        rejoin = self._rejoins.get(key)
        last = meeting.last_heard or meeting.started
        known = line_key(event.msgid, event.time, event.nick, event.text) in meeting.heard
        # History keeps whole seconds (InspIRCd's +H does): a line of the same second as
        # the last one journaled is new unless it is known.
        if known or (last is not None and event.time < last.replace(microsecond=0)):
            if rejoin is not None:
                rejoin.covered = True
            return False
        if rejoin is not None and rejoin.earliest is None:
            rejoin.earliest = event.time
        if rejoin is not None and event.bouncer:
            # A bouncer stayed in the channel: its buffer begins where the bot left
            # (unless it overflowed: ZNC's ChanBufferSize, see docs/meetings.md).
            rejoin.covered = True
        return True

    def settle(self, key: str, meeting: Meeting) -> Gap | None:
        """At the first live line after a JOIN: the gap the history did not cover."""
        rejoin = self._rejoins.pop(key, None)
        if rejoin is None or rejoin.covered or rejoin.since is None:
            return None
        end = rejoin.earliest or rejoin.joined
        return Gap(rejoin.since, end) if end > rejoin.since else None
