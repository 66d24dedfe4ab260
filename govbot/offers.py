"""What one plugin offers another: typed Protocols, and the plain data they answer with.

Plugins never import each other. When one needs another's knowledge (the digest
of the reminders plugin needs the governance verdicts; the meetings plugin needs
the meeting schedules the reminders plugin parses), the providing plugin
publishes an implementation of a Protocol defined here (`Plugin.offers()`), the
registry collects them (one provider per Protocol), and a handler asks for it:

    pending = ctx.offer(PendingVotes)
    if pending is None:  # the governance plugin is not enabled
        log.warning(...)  # degrade, never crash
        return []
    for change in await pending.pending_votes(ctx, ["tc"]):
        ...

The answers are frozen dataclasses of plain values (strings, numbers, instants),
never a plugin's internal types: the consumer depends on this module only, and
the provider may change its internals freely. docs/plugins.md, "Using another
plugin's data".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from govbot.config.model import GovernanceConfig
    from govbot.plugin import PluginContext

__all__ = [
    "MeetingSchedules", "MissingVoter", "PendingChange", "PendingVotes", "ScheduledMeeting",
]


# -- pending votes (offered by the governance plugin) -------------------------------------
@dataclass(frozen=True, slots=True)
class MissingVoter:
    """Someone whose vote a pending change still needs."""

    name: str  # as the config names them (or as Gerrit does, for an unknown role holder)
    person: str | None  # the config's person id; None: a role holder the config lacks


@dataclass(frozen=True, slots=True)
class PendingChange:
    """An open change whose verdict is pending and that still misses votes."""

    project: str
    number: int
    subject: str
    body: str  # the id of the body whose rule governs it
    rule: str  # the id of that rule
    waiting: tuple[str, ...]  # the rule's requirements not met yet, one sentence each
    missing: tuple[MissingVoter, ...]  # never empty
    earliest: dt.datetime | None  # the earliest approval time; None: when the votes are in

    @property
    def key(self) -> str:
        return f"{self.project}~{self.number}"

    def overdue(self, now: dt.datetime) -> bool:
        """The waiting period is over: only votes are missing now."""
        return self.earliest is None or self.earliest <= now


@runtime_checkable
class PendingVotes(Protocol):
    """The open changes waiting on votes, as the governance rules judge them now."""

    async def pending_votes(self, ctx: PluginContext, bodies: Sequence[str]
                            ) -> Sequence[PendingChange]:
        """The pending changes governed by a rule of one of `bodies`, by project and
        number. Work-in-progress changes are left out (not up for votes yet).

        Reads the parts of `ctx` every plugin shares (`config`, `gerrit` with one
        paged query, `now`, `ci`), never the asker's settings or state. A Gerrit
        failure raises: an empty answer means that nothing is pending.
        """


# -- meeting schedules (offered by the reminders plugin) ----------------------------------
@dataclass(frozen=True, slots=True)
class ScheduledMeeting:
    """One occurrence of a meeting scheduled in a channel."""

    meeting_id: str  # the meeting file's `meeting_id` ("" when it has none)
    chair: str  # free text, as the meeting file has it ("" when none is listed)
    channel: str  # with '#', lower case
    start: dt.datetime
    end: dt.datetime


@runtime_checkable
class MeetingSchedules(Protocol):
    """The meetings the governance repository schedules (its `meetings/*.yaml`)."""

    def meetings_at(self, config: GovernanceConfig, channel: str, moment: dt.datetime, *,
                    early: dt.timedelta = dt.timedelta(0)) -> Sequence[ScheduledMeeting]:
        """The occurrences in `channel` (any case, '#' optional) under `config` that
        are running at `moment` or start at most `early` after it, by start time.
        Skip dates and the recurrence (ISO week 53 included) are the schedule's own."""


# -- deadlines (offered by the reminders plugin) ------------------------------------------
@dataclass(frozen=True, slots=True)
class UpcomingDeadline:
    """One dated event of the governance repository's `deadlines.yaml`."""

    id: str
    title: str
    at: dt.datetime
    url: str | None  # where to read about it, when the file gives one
    channels: tuple[str, ...]  # where its reminders are said


@runtime_checkable
class Deadlines(Protocol):
    """The deadlines the governance repository keeps."""

    def deadlines_between(self, config: GovernanceConfig, start: dt.datetime,
                          end: dt.datetime) -> Sequence[UpcomingDeadline]:
        """The deadlines under `config` at or after `start` and before `end`, soonest
        first."""
