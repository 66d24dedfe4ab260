"""What an evaluation decides: a `Verdict`, plain frozen data the plugin posts.

A verdict says which rule applies, how each member voted and whether it
counted, who still has to vote, why the change is (not yet) ready, and the
times that matter: `earliest` (when it could be ready, if the missing votes
came now) and `next_check` (when the verdict changes with no new event, so the
scheduler knows when to wake).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

__all__ = [
    "BLOCKED", "MET", "PENDING", "READY", "STATES", "UNGOVERNED", "MemberRow", "OtherVote",
    "Reason", "Verdict", "Voter",
]

READY = "ready"  # every requirement is met
PENDING = "pending"  # could become ready with more votes or more time
BLOCKED = "blocked"  # cannot become ready unless a vote, a hashtag or the change changes
UNGOVERNED = "ungoverned"  # no rule applies to this change
STATES = (READY, PENDING, BLOCKED, UNGOVERNED)

MET = "met"  # a requirement's status; PENDING and BLOCKED are shared with verdict states


class Reason(msgspec.Struct, frozen=True):
    """One human sentence about one requirement, with its status (met/pending/blocked).
    `depth` > 0 for the alternatives of an `any:` group."""

    status: str
    text: str
    depth: int = 0

    def __str__(self) -> str:
        return self.text


class MemberRow(msgspec.Struct, frozen=True):
    """One member of a body whose votes the rule reads."""

    body: str  # body id
    body_name: str
    person: str  # person id
    name: str
    label: str
    value: int | None  # None: has not voted
    counted: bool  # False: no vote, or a vote that is not counted (the owner's)
    why: str  # "yes", "no", "abstains", "no vote yet", "owner: not counted", ...


class OtherVote(msgspec.Struct, frozen=True):
    """A vote on a label the rule reads, from someone whose vote it does not count."""

    who: str  # the person's name, or what Gerrit says about the account
    person: str | None  # person id when the config knows them
    label: str
    value: int
    why: str


class Voter(msgspec.Struct, frozen=True):
    """Someone whose vote is still needed."""

    person: str | None  # None: a role holder the config does not know (a PTL by email)
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    state: str  # one of STATES
    rule: str | None  # None: no rule applies, or the category guard stopped the change
    description: str
    project: str
    number: int
    patchset: int
    reasons: tuple[Reason, ...] = ()
    members: tuple[MemberRow, ...] = ()
    others: tuple[OtherVote, ...] = ()
    missing: tuple[Voter, ...] = ()
    earliest: datetime | None = None
    next_check: datetime | None = None

    @property
    def ready(self) -> bool:
        return self.state == READY


