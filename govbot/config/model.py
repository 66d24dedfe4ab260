"""The loaded governance config: typed, frozen, swapped as a whole.

The core owns people, bodies and teams; each plugin owns its own section (rules,
announcements, meetings, ...) and finds its parsed value in ``sections``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """Where a value came from, for error messages: `FILE:LINE`."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """One human, with one identity on each system."""

    id: str
    name: str
    gerrit_username: str | None = None
    gerrit_account_id: int | None = None
    emails: tuple[str, ...] = ()
    irc_account: str | None = None
    irc_nick: str | None = None
    reminders: bool = True  # opt-out of direct reminders
    source: Source | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    """A group that decides: a committee, a council, a core team."""

    id: str
    name: str
    members: tuple[str, ...]  # person ids
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role -> person ids
    label: str = "Code-Review"  # the Gerrit label members vote with
    channel: str | None = None  # IRC channel for reminders and digests
    source: Source | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    def has_role(self, person_id: str, role: str) -> bool:
        return person_id in self.roles.get(role, ())


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtraAtc:
    """A team's extra contributor (`extra-atcs` of projects.yaml): counts as one without
    merged changes, until `expires` (the first day it no longer counts; None: never)."""

    name: str
    email: str
    expires: dt.date | None = None
    comment: str = ""
    source: Source | None = None

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.expires is None or moment.date() < self.expires


@dataclass(frozen=True, slots=True, kw_only=True)
class Team:
    """A project team from a projects file (openstack/governance's projects.yaml)."""

    name: str
    leadership: str = "ptl"  # "ptl" or "distributed"
    ptl: Mapping[str, str] = field(default_factory=dict)  # name, irc, email
    liaisons: tuple[Mapping[str, str], ...] = ()
    repositories: tuple[str, ...] = ()
    extra_atcs: tuple[ExtraAtc, ...] = ()
    source: Source | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetiredTeam:
    """A team that was official once (openstack's legacy.yaml): history only."""

    name: str
    retired_on: str = ""  # as the file gives it, e.g. '2016-10-06'
    repositories: tuple[str, ...] = ()
    source: Source | None = None


def team_key(name: str) -> str:
    """A team name with case and spacing aside: "Release Management" and the hashtag's
    `release-management` give the same key."""
    return "-".join(name.casefold().replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True, slots=True)
class GovernanceConfig:
    """Everything loaded from one commit of the config repo."""

    people: Mapping[str, Person]
    bodies: Mapping[str, Body]
    teams: Mapping[str, Team]
    sections: Mapping[str, Any]  # plugin name -> that plugin's parsed config
    revision: str = ""  # commit sha it was loaded from ("" for a plain directory)
    # Groups that own repositories without being project teams: the TC, the SIGs
    # (`leadership` is "tc" or "sig"). Kept apart so `teams` stays the official teams.
    groups: Mapping[str, Team] = field(default_factory=dict)
    retired: Mapping[str, RetiredTeam] = field(default_factory=dict)  # legacy.yaml

    def team_named(self, name: str) -> Team | None:
        """The team (or group) called `name`, case and spaces aside: the hashtag
        `team:release-management` names "Release Management"."""
        found = self.teams.get(name) or self.groups.get(name)
        if found is not None:
            return found
        wanted = team_key(name)
        for team in (*self.teams.values(), *self.groups.values()):
            if team_key(team.name) == wanted:
                return team
        return None

    def person_by_gerrit(self, *, username: str | None = None, email: str | None = None,
                         account_id: int | None = None) -> Person | None:
        for person in self.people.values():
            if username and person.gerrit_username == username:
                return person
            if account_id is not None and person.gerrit_account_id == account_id:
                return person
            if email and email.lower() in (e.lower() for e in person.emails):
                return person
        return None

    def person_by_irc_account(self, account: str) -> Person | None:
        folded = account.casefold()
        for person in self.people.values():
            if person.irc_account and person.irc_account.casefold() == folded:
                return person
        return None

    def team_for_repository(self, repository: str) -> Team | None:
        """The live owner: a team, else a group (the TC owns openstack/governance);
        a retired team never owns anything."""
        for team in (*self.teams.values(), *self.groups.values()):
            if repository in team.repositories:
                return team
        return None

    def section(self, plugin: str, default: Any = None) -> Any:
        return self.sections.get(plugin, default)


EMPTY_CONFIG = GovernanceConfig(people={}, bodies={}, teams={}, sections={})
