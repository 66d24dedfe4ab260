"""The elections section, as the plugin uses it: frozen, typed, positions kept for errors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from govbot.config.model import Source, Team

TC, PTL = "tc", "ptl"
DEFAULT_PATH = "candidates/{election}/{team}/{email}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    """The election's instants, UTC. Campaigning runs from `campaigning_start` (by
    default the close of nominations) to the start of polling."""

    nominations_open: dt.datetime
    nominations_close: dt.datetime
    campaigning_start: dt.datetime
    polling_start: dt.datetime
    polling_end: dt.datetime

    def nominating(self, moment: dt.datetime) -> bool:
        return self.nominations_open <= moment < self.nominations_close


@dataclass(frozen=True, slots=True, kw_only=True)
class Election:
    id: str  # the `{election}` part of candidacy paths, e.g. "2027.1-ptl"
    title: str
    kind: str  # TC or PTL
    repository: str  # the Gerrit project that holds candidacies
    branch: str
    path: str  # the candidacy path layout, with {election}, {team} and {email}
    timeline: Timeline
    qualifying_start: dt.datetime
    qualifying_end: dt.datetime
    officials: tuple[str, ...]  # person ids: may propose a candidacy for someone else
    channels: tuple[str, ...]  # where the timeline is announced
    tc_directory: str = "TC"  # the `{team}` of a TC candidacy
    #: team name -> branch regex: a candidate of that team qualifies with a merged change
    #: on a matching branch of any repository (openstack's "Stable branch maintenance").
    branch_teams: Mapping[str, str] = field(default_factory=dict)
    grace: dt.timedelta = dt.timedelta(hours=1)  # how late a reminder may still be sent
    source: Source | None = None

    @property
    def root(self) -> str:
        """The literal part of the layout before its first placeholder ('candidates/')."""
        return self.path.split("{", 1)[0]

    def path_regex(self) -> re.Pattern[str]:
        parts = re.split(r"(\{election\}|\{team\}|\{email\})", self.path)
        names = {"{election}": "(?P<election>[^/]+)", "{team}": "(?P<team>[^/]+)",
                 "{email}": "(?P<email>[^/]+)"}
        return re.compile("".join(names.get(p, re.escape(p)) for p in parts))


@dataclass(frozen=True, slots=True)
class ElectionsConfig:
    elections: Mapping[str, Election] = field(default_factory=lambda: MappingProxyType({}))

    def in_repository(self, project: str, branch: str) -> tuple[Election, ...]:
        return tuple(e for e in self.elections.values()
                     if e.repository == project and e.branch == branch)


def team_key(name: str) -> str:
    """Team names as paths and projects.yaml spell them alike: 'Stable_Branch
    Maintenance', 'stable-branch-maintenance' and 'stable branch maintenance' match."""
    return re.sub(r"[\s_-]+", "-", name.strip()).casefold()


def find_team(teams: Mapping[str, Team], name: str) -> Team | None:
    key = team_key(name)
    return next((t for t in teams.values() if team_key(t.name) == key), None)
