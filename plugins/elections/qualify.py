"""Who qualifies: merged changes in the qualifying period, by repository group.

A repository group is a team's repositories (split when a team has many, to keep a
query's URL short), or, for a team of `branch-qualified`, every repository's
matching branches. Each group is one paged Gerrit query (`status:merged`, the
period as `mergedafter:`/`mergedbefore:`); what it answers is the set of change
owners. The checks and the roll both read through `Contributions`, which keeps
each group's answer for the election: a period that is over never changes again,
and one still running is read again after `ttl`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from govbot.config.model import Team
from govbot.context import ChangeReader

from .model import TC, Election

#: Repositories per query: a team's list goes into one URL; 40 stays well under limits.
GROUP_SIZE = 40
#: No election roll is anywhere near this; the reader pages through it.
QUERY_LIMIT = 1_000_000
#: Only the owner (name, email, username) of each merged change: a year of a large
#: community is tens of thousands of changes, and their messages are not needed.
OWNER_OPTIONS = ("DETAILED_ACCOUNTS",)


@dataclass(frozen=True, slots=True)
class Contributor:
    account_id: int
    name: str
    email: str
    username: str = ""


@dataclass(frozen=True, slots=True)
class RepositoryGroup:
    team: str  # the team whose contributors these are
    repositories: tuple[str, ...]  # empty: every repository
    branch: str = ""  # a branch regex ('' : every branch)

    def query(self, election: Election) -> str:
        parts = ["status:merged",
                 f'mergedafter:"{election.qualifying_start:%Y-%m-%d %H:%M:%S}"',
                 f'mergedbefore:"{election.qualifying_end:%Y-%m-%d %H:%M:%S}"']
        if self.repositories:
            parts.append("(" + " OR ".join(f"project:{r}" for r in self.repositories) + ")")
        if self.branch:
            parts.append(f"branch:^{self.branch}")
        return " ".join(parts)


def team_groups(election: Election, team: Team) -> list[RepositoryGroup]:
    """The groups whose merged changes qualify a candidate of `team`."""
    if team.name in election.branch_teams:
        return [RepositoryGroup(team.name, (), election.branch_teams[team.name])]
    repos = team.repositories
    return [RepositoryGroup(team.name, repos[i:i + GROUP_SIZE])
            for i in range(0, len(repos), GROUP_SIZE)]


def electorate_groups(election: Election, teams: Mapping[str, Team],
                      team: Team | None = None) -> list[RepositoryGroup]:
    """A TC election's electorate is every team's contributors; a PTL election's, the
    team's (the qualifying groups of the candidates are the same)."""
    if election.kind != TC and team is not None:
        return team_groups(election, team)
    chosen = [t for t in teams.values() if t.repositories]
    return [g for t in chosen for g in team_groups(election, t)]


def contributor_of(info: Mapping[str, Any]) -> Contributor | None:
    owner = info.get("owner") or {}
    account = owner.get("_account_id")
    if not isinstance(account, int):
        return None
    return Contributor(account_id=account, name=str(owner.get("name") or ""),
                       email=str(owner.get("email") or ""),
                       username=str(owner.get("username") or ""))


class Contributions:
    """Each group's contributors, read once per election (see the module docstring)."""

    def __init__(self, *, ttl: dt.timedelta = dt.timedelta(minutes=10)) -> None:
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[dt.datetime, dict[int, Contributor]]] = {}
        self.queries = 0  # groups actually read (tests and logs)

    async def of_group(self, reader: ChangeReader, election: Election,
                       group: RepositoryGroup, now: dt.datetime) -> dict[int, Contributor]:
        query = group.query(election)
        key = (election.id, query)
        cached = self._cache.get(key)
        if cached is not None and (cached[0] > election.qualifying_end
                                   or now - cached[0] < self.ttl):
            return cached[1]
        self.queries += 1
        found: dict[int, Contributor] = {}
        for info in await reader.query(query, limit=QUERY_LIMIT, options=OWNER_OPTIONS):
            person = contributor_of(info)
            if person is not None:
                found.setdefault(person.account_id, person)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = (now, found)
        return found

    async def of_groups(self, reader: ChangeReader, election: Election,
                        groups: Iterable[RepositoryGroup], now: dt.datetime
                        ) -> dict[int, Contributor]:
        merged: dict[int, Contributor] = {}
        for group in groups:
            for account, person in (await self.of_group(reader, election, group,
                                                         now)).items():
                merged.setdefault(account, person)
        return merged
