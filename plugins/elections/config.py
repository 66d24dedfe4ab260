"""The `elections.yaml` section: elections, their timeline, qualifying period, layout.

Checked with the `govbot.config.schema` toolkit, so every problem is `FILE:LINE`.
Teams, their repositories, leadership type and extra ATCs are not restated here:
they come from the teams file the core loads (`ctx.teams`). docs/elections.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from govbot.config.model import Source
from govbot.config.schema import (
    INVALID,
    SLUG,
    Enum,
    Field,
    Instant,
    Int,
    ListOf,
    MapOf,
    Regex,
    Schema,
    Str,
    did_you_mean,
)
from govbot.config.sections import ConfigFile, ConfigSection, SectionContext
from govbot.config.yamlpos import YamlMap

from .model import DEFAULT_PATH, PTL, TC, Election, ElectionsConfig, Timeline, find_team

ELECTIONS_FILE = "elections.yaml"
UTC = dt.UTC
_UNKNOWN = Source(ELECTIONS_FILE, 1)


INSTANT = Instant(example="2027-01-08 23:45")
CHANNEL = Str(pattern=r"#\S+", expected="an IRC channel starting with '#' (quoted)")
PERSON = Str(pattern=SLUG, expected="a person id")
LAYOUT = Str(pattern=r"[^{}]*\{election\}/(?:[^{}]*/)?\{team\}/\{email\}",
             expected="a path layout like 'candidates/{election}/{team}/{email}'")
_COMMON = {
    "repository": Field(Str(pattern=r"\S+", expected="a Gerrit project name")),
    "branch": Field(Str(pattern=r"\S+", expected="a branch name")),
    "candidacy-path": Field(LAYOUT),
    "officials": Field(ListOf(PERSON, single_ok=True)),
    "channels": Field(ListOf(CHANNEL, single_ok=True)),
    "grace": Field(Int(minimum=0), doc="minutes a late reminder may still be sent"),
}
TIMELINE = Schema({
    "nominations-open": Field(INSTANT, required=True),
    "nominations-close": Field(INSTANT, required=True),
    "campaigning-start": Field(INSTANT),
    "polling-start": Field(INSTANT, required=True),
    "polling-end": Field(INSTANT, required=True),
}, what="a timeline")
PERIOD = Schema({"start": Field(INSTANT, required=True), "end": Field(INSTANT, required=True)},
                what="a qualifying period")
ELECTION = Schema({
    "kind": Field(Enum(TC, PTL), required=True),
    "title": Field(Str()),
    "timeline": Field(TIMELINE, required=True),
    "qualifying-period": Field(PERIOD, required=True),
    "electorate": Field(Enum("merged-change"), default="merged-change"),
    "tc-directory": Field(Str(pattern=r"[^/\s]+", expected="a directory name")),
    "branch-qualified": Field(MapOf(Regex(), expected="a mapping of team names to branch "
                                                      "regular expressions"), default={}),
    **_COMMON,
}, what="an election")
FILE = Schema({
    "defaults": Field(Schema(_COMMON, what="'defaults'"), default={}),
    "elections": Field(MapOf(ELECTION, key=Str(pattern=r"[A-Za-z0-9][\w.-]*",
                                               expected="an election id like '2027.1-tc'"),
                             item_label="election '{key}'"), required=True),
}, what=ELECTIONS_FILE)


def parse_elections(files: Sequence[ConfigFile], ctx: SectionContext) -> ElectionsConfig:
    if not files:
        return ElectionsConfig()
    data = FILE.read_file(files[0], ctx)
    if data is INVALID or not isinstance(data, YamlMap):
        return ElectionsConfig()
    defaults: Mapping[str, Any] = data["defaults"] or {}
    if defaults.get("officials"):
        _check_officials(defaults["officials"], data["defaults"].source_of("officials"),
                         "'defaults'", ctx)
    found: dict[str, Election] = {}
    for election_id, spec in (data["elections"] or {}).items():
        where = data["elections"].source_of(election_id)
        election = _election(election_id, spec, defaults, where, ctx)
        if election is not None:
            found[election_id] = election
    return ElectionsConfig(MappingProxyType(found))


def _check_officials(officials: Sequence[str], where: Source, label: str,
                     ctx: SectionContext) -> None:
    for person in officials:
        if person not in ctx.people:
            ctx.error(where, f"{label}: official {person!r} is not in people.yaml"
                             f"{did_you_mean(person, ctx.people)}")


def _pick(spec: Mapping[str, Any], defaults: Mapping[str, Any], key: str) -> Any:
    value = spec.get(key)
    return value if value is not None else defaults.get(key)


def _election(election_id: str, spec: YamlMap, defaults: Mapping[str, Any], where: Source,
              ctx: SectionContext) -> Election | None:
    label = f"election {election_id!r}"
    repository, branch = _pick(spec, defaults, "repository"), _pick(spec, defaults, "branch")
    if not repository:
        ctx.error(where, f"{label} has no 'repository' (nor 'defaults'): the Gerrit project "
                         "that holds candidacies")
    timeline, period = spec["timeline"], spec["qualifying-period"]
    if not timeline or not period:
        return None  # already reported
    line = timeline.source_of
    moments = Timeline(
        nominations_open=timeline["nominations-open"],
        nominations_close=timeline["nominations-close"],
        campaigning_start=timeline["campaigning-start"] or timeline["nominations-close"],
        polling_start=timeline["polling-start"], polling_end=timeline["polling-end"])
    order = [("nominations-open", moments.nominations_open),
             ("nominations-close", moments.nominations_close),
             ("campaigning-start", moments.campaigning_start),
             ("polling-start", moments.polling_start), ("polling-end", moments.polling_end)]
    for (before, earlier), (after, later) in itertools.pairwise(order):
        strict = (before, after) not in (("nominations-close", "campaigning-start"),
                                         ("campaigning-start", "polling-start"))
        if earlier is None or later is None:
            continue  # reported where it was read
        if later < earlier or (strict and later == earlier):
            ctx.error(line(after), f"{label}: {after} ({later:%Y-%m-%d %H:%M}) must come "
                                   f"after {before} ({earlier:%Y-%m-%d %H:%M})")
    if period["end"] and period["start"] and period["end"] <= period["start"]:
        ctx.error(period.source_of("end"), f"{label}: the qualifying period must end after "
                                           "it starts")
    officials = tuple(_pick(spec, defaults, "officials") or ())
    if spec["officials"] is not None:  # those of 'defaults' are checked once, by the caller
        _check_officials(spec["officials"], spec.source_of("officials"), label, ctx)
    branch_teams: dict[str, str] = {}
    for team_name, pattern in (spec["branch-qualified"] or {}).items():
        team = find_team(ctx.teams, team_name)
        if team is None:
            ctx.error(spec["branch-qualified"].source_of(team_name),
                      f"{label}: branch-qualified team {team_name!r} is not in the teams "
                      f"file{did_you_mean(team_name, [t.name for t in ctx.teams.values()])}")
            continue
        branch_teams[team.name] = pattern
    if spec["kind"] == PTL and not any(t.leadership == PTL for t in ctx.teams.values()):
        ctx.error(where, f"{label} is a PTL election, but the teams file has no PTL-led team")
    grace = _pick(spec, defaults, "grace")
    if not repository or not spec["kind"] or not period["start"] or not period["end"] \
            or any(moment is None for _, moment in order):
        return None  # reported: the checks above still ran, to show every problem
    return Election(
        id=election_id, title=spec["title"] or f"{election_id} {spec['kind'].upper()} election",
        kind=spec["kind"], repository=repository, branch=branch or "master",
        path=_pick(spec, defaults, "candidacy-path") or DEFAULT_PATH, timeline=moments,
        qualifying_start=period["start"], qualifying_end=period["end"], officials=officials,
        channels=tuple(c.lower() for c in (_pick(spec, defaults, "channels") or ())),
        tc_directory=spec["tc-directory"] or "TC",
        branch_teams=MappingProxyType(branch_teams),
        grace=dt.timedelta(minutes=grace if grace is not None else 60), source=where)


ELECTIONS_SECTION = ConfigSection(ELECTIONS_FILE, parse_elections,
                                  description="elections, their timeline and candidacy layout")
