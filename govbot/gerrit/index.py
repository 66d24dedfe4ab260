"""The latest patch set and open/closed state of each change, as events arrive.

Fed at the intake, i.e. as soon as an event is received and before it is
handled, so by the time a vote is reported the index already knows of any newer
patch set that has arrived. The Gerrit reporter uses it to vote on the current
patch set without first reading the change over REST (one call instead of two
per vote); a change it has not seen is read over REST as before.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from govbot.gerrit.events import (
    ChangeAbandoned,
    ChangeDeleted,
    ChangeEvent,
    ChangeMerged,
    ChangeRestored,
    Event,
)


@dataclass(frozen=True, slots=True)
class ChangeHead:
    patchset: int
    open: bool


class ChangeIndex:
    def __init__(self, capacity: int = 100_000) -> None:
        self._heads: OrderedDict[str, ChangeHead] = OrderedDict()
        self._capacity = capacity

    def observe(self, event: Event) -> None:
        if not isinstance(event, ChangeEvent):
            return
        key = event.change.key
        known = self._heads.get(key)
        patchset = event.patch_set.number if event.patch_set else 0
        if known is not None:
            patchset = max(patchset, known.patchset)
        if isinstance(event, ChangeMerged | ChangeAbandoned | ChangeDeleted):
            is_open = False
        elif isinstance(event, ChangeRestored):
            is_open = True
        elif event.change.status:
            is_open = event.change.status == "NEW"
        else:
            is_open = known.open if known is not None else True
        self.set(key, patchset, is_open)

    def set(self, key: str, patchset: int, is_open: bool) -> None:
        if patchset <= 0:
            return
        self._heads[key] = ChangeHead(patchset, is_open)
        self._heads.move_to_end(key)
        if len(self._heads) > self._capacity:
            self._heads.popitem(last=False)

    def get(self, key: str) -> ChangeHead | None:
        return self._heads.get(key)
