"""Teams, read from a projects file in openstack/governance's `projects.yaml` format.

The format belongs to the community, not to govbot: keys govbot does not use
(mission, url, service, irc-channel, ...) are ignored, but the keys it uses are
type-checked. A team's PTL and liaisons are matched to people by shared
identity (email, IRC name) so that rules can ask for "the PTL's vote".
"""

from __future__ import annotations

from typing import Any

from govbot.config.core import Directory
from govbot.config.model import Source, Team
from govbot.config.schema import (
    INVALID,
    AnyValue,
    Enum,
    Field,
    Issues,
    ListOf,
    MapOf,
    Schema,
    Str,
)
from govbot.config.yamlpos import source_of

PROJECTS_FILE = "projects.yaml"

_CONTACT = {
    "name": Field(Str(), required=True),
    "irc": Field(Str(expected="an IRC nick")),
    "email": Field(Str(expected="an email address")),
}
PTL = Schema({**_CONTACT, "appointed": Field(AnyValue())}, what="'ptl'", extra="ignore")
LIAISON = Schema(_CONTACT, what="a liaison", extra="ignore")
REPOSITORY = Str(pattern=r"\S+", expected="a repository name like 'openstack/nova'",
                 plural="repository names")
DELIVERABLE = Schema({
    "repos": Field(ListOf(REPOSITORY), default=()),
}, what="a deliverable", extra="ignore")
TEAM = Schema({
    "leadership_type": Field(Enum("ptl", "distributed"), default="ptl"),
    "ptl": Field(PTL),
    "liaisons": Field(MapOf(ListOf(LIAISON), expected="a mapping of liaison roles to lists "
                                                      "of liaisons"), default={}),
    "deliverables": Field(MapOf(DELIVERABLE, item_label="deliverable '{key}'"), default={}),
}, what="a team", extra="ignore", expected="a team (a mapping)")
TEAMS = MapOf(TEAM, item_label="team '{key}'", expected="a mapping of team names to teams")


def _contact(record: Any, directory: Directory) -> dict[str, str]:
    """name/irc/email as given, plus `person` when they match exactly one person."""
    contact = {key: record[key] for key in ("name", "irc", "email") if record[key]}
    matched = directory.match(contact)
    if len(matched) == 1:
        contact["person"] = next(iter(matched))
    return contact


def parse_projects(data: Any, file: str, directory: Directory, issues: Issues) -> dict[str, Team]:
    """Teams from the content of a projects file; a repository belongs to one team."""
    teams: dict[str, Team] = {}
    if data is None:
        return teams
    records = TEAMS.check(data, source_of(data) or Source(file, 1), "this file", issues)
    if records is INVALID:
        return teams
    owner: dict[str, tuple[str, Source]] = {}
    for name, record in records.items():
        repositories: dict[str, None] = {}
        for deliverable in record["deliverables"].values():
            repos = deliverable["repos"]
            for index, repo in enumerate(repos):
                where = source_of(repos, index) or deliverable.source
                held = owner.get(repo)
                if held is not None and held[0] != name:
                    issues.error(where, (
                        f"repository {repo!r} is owned by both team {held[0]!r} and team "
                        f"{name!r}; a repository belongs to one team (also at {held[1]})"))
                    continue
                owner.setdefault(repo, (name, where))
                repositories[repo] = None
        if record["leadership_type"] == "ptl" and not record["ptl"]:
            issues.warning(record.source, (
                f"team {name!r} has leadership_type 'ptl' but no 'ptl'; rules that need "
                "the PTL's vote cannot be met until one is set"))
        liaisons = tuple(
            {"role": role, **_contact(liaison, directory)}
            for role, people in record["liaisons"].items() for liaison in people)
        teams[name] = Team(
            name=name, leadership=record["leadership_type"],
            ptl=_contact(record["ptl"], directory) if record["ptl"] else {},
            liaisons=liaisons, repositories=tuple(repositories), source=record.source)
    return teams
