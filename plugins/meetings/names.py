"""The minutes' file names: MeetBot's `<name>.<YYYY-MM-DD-HH.MM>`, never two meetings'.

Two meetings of one name started in one minute (in two channels, or one after the
other) would write the same files. The first to `#save` or `#endmeeting` claims the
names; a later one gets a suffix (`-2`, `-3`...), journaled (`minutes-name`) so a
restart renders the same names, and the claim is remembered in the plugin's state
(`minutes-stem:<path>` -> journal id) so it holds across restarts too. Claims are
made without an await between the check and the claim: two channels' lanes cannot
both take one name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from govbot.actions import Action, Append, Remember

from .model import Meeting
from .render import basename

STEM_KEY = "minutes-stem:"  # + the minutes' path without extension -> the journal id


class MinutesNames:
    def __init__(self) -> None:
        self._owners: dict[str, str] = {}  # path without extension -> journal id

    def load(self, items: Iterable[tuple[str, Any]]) -> None:
        for key, journal in items:
            self._owners[key.removeprefix(STEM_KEY)] = journal

    def free_suffix(self, meeting: Meeting) -> str:
        """The meeting's suffix, or the first that no other meeting's files have."""
        for n in range(1, 1000):
            suffix = "" if n == 1 else f"-{n}"
            owner = self._owners.get(basename(meeting, suffix))
            if owner is None or owner == meeting.id:
                return suffix
        return f"-{meeting.id.rsplit('-', 1)[-1]}"  # a thousand namesakes: the journal's

    def claim(self, meeting: Meeting, now: dt.datetime) -> list[Action]:
        """Make the names this meeting's: journal a new suffix, remember the claim."""
        actions: list[Action] = []
        suffix = self.free_suffix(meeting)
        if suffix != meeting.minutes_suffix:
            entry = {"type": "minutes-name", "time": now.isoformat(), "suffix": suffix}
            meeting.apply(entry)
            actions.append(Append(journal=meeting.id, entry=entry))
        stem = basename(meeting)
        if self._owners.get(stem) != meeting.id:
            self._owners[stem] = meeting.id
            actions.append(Remember(key=STEM_KEY + stem, value=meeting.id))
        return actions
