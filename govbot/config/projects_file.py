"""Teams, read from a projects file in openstack/governance's `projects.yaml` format.

The format belongs to the community, not to govbot: keys govbot does not use
(mission, url, service, irc-channel, ...) are ignored, but the keys it uses are
type-checked. A team's PTL and liaisons are matched to people by shared
identity (email, IRC name) so that rules can ask for "the PTL's vote".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from govbot.config.core import Directory
from govbot.config.model import ExtraAtc, Source, Team
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
#: `expires-in` as openstack/governance writes it ("February 2027"), or a date.
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june",
                                       "july", "august", "september", "october", "november",
                                       "december"), start=1)}
EXTRA_ATC = Schema({
    "name": Field(Str(), required=True),
    "email": Field(Str(pattern=r"[^@\s]+@[^@\s]+", expected="an email address"),
                   required=True),
    "expires-in": Field(AnyValue()),
    "comment": Field(AnyValue()),
}, what="an extra ATC", extra="ignore")
TEAM = Schema({
    "extra-atcs": Field(ListOf(EXTRA_ATC), default=()),
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
            liaisons=liaisons, repositories=tuple(repositories),
            extra_atcs=tuple(_extra_atc(atc, issues) for atc in record["extra-atcs"]),
            source=record.source)
    return teams


def _extra_atc(record: Any, issues: Issues) -> ExtraAtc:
    where = source_of(record) or Source(PROJECTS_FILE, 1)
    expires = _expiry(record["expires-in"])
    if record["expires-in"] is not None and expires is None:
        issues.error(source_of(record, "expires-in") or where, (
            f"'expires-in' must be a month like 'February 2027' or a date like "
            f"2027-02-28, got {record['expires-in']!r}"))
    return ExtraAtc(name=record["name"], email=record["email"], expires=expires,
                    comment=str(record["comment"] or ""), source=where)


def _expiry(value: Any) -> dt.date | None:
    """The first day an entry no longer counts: the day after a date, the first day of
    the month after a month ("February 2027" counts through February)."""
    if isinstance(value, dt.datetime):
        return value.date() + dt.timedelta(days=1)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if not isinstance(value, str):
        return None
    words = value.replace(",", " ").split()
    if len(words) == 2 and words[0].lower() in _MONTHS and words[1].isdigit():
        month, year = _MONTHS[words[0].lower()], int(words[1])
        return dt.date(year + month // 12, month % 12 + 1, 1)
    try:
        return dt.date.fromisoformat(value.strip()) + dt.timedelta(days=1)
    except ValueError:
        return None
