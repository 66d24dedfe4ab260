"""Candidacy files: where they are, and what their path says (election, team, email)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govbot.config.model import Team

from .model import PTL, TC, Election, find_team

EMAIL = re.compile(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+")
MAGIC_FILES = ("/COMMIT_MSG", "/MERGE_LIST", "/PATCHSET_LEVEL")


@dataclass(frozen=True, slots=True)
class ParsedPath:
    """What a candidacy path says; `problem` is '' when it is well-formed."""

    path: str
    election: Election | None
    team_dir: str = ""
    team: Team | None = None
    email: str = ""
    problem: str = ""

    @property
    def candidate(self) -> str:
        return self.email.casefold()


def governed(paths: Iterable[str], elections: Sequence[Election]) -> bool:
    """A change is checked when every file it touches is under a candidacy root of
    the repository (and there is one); anything else in the repository is not ours."""
    roots = {e.root for e in elections}
    real = [p for p in paths if p not in MAGIC_FILES]
    return bool(real) and all(any(p.startswith(root) for root in roots) for p in real)


def parse_path(path: str, elections: Sequence[Election], teams: Mapping[str, Team]
               ) -> ParsedPath:
    """Match `path` against the layouts of the repository's elections."""
    named: str | None = None
    for election in elections:
        match = election.path_regex().fullmatch(path)
        if match is None:
            continue
        if match["election"] != election.id:
            named = match["election"]
            continue
        return _parts(path, election, match["team"], match["email"], teams)
    if named is not None:
        known = ", ".join(sorted(e.id for e in elections))
        return ParsedPath(path, None, problem=f"there is no election {named!r} "
                                             f"(this repository has: {known})")
    layouts = " or ".join(sorted({e.path for e in elections}))
    return ParsedPath(path, None, problem=f"the path does not follow the layout {layouts}")


def _parts(path: str, election: Election, team_dir: str, email: str,
           teams: Mapping[str, Team]) -> ParsedPath:
    team: Team | None = None
    problem = ""
    if election.kind == TC:
        if team_dir.casefold() != election.tc_directory.casefold():
            problem = (f"a TC candidacy goes in the {election.tc_directory!r} directory, "
                       f"not {team_dir!r}")
    else:
        team = find_team(teams, team_dir)
        if team is None:
            problem = f"there is no team {team_dir!r} in the teams file"
        elif team.leadership != PTL:
            problem = (f"team {team.name!r} has {team.leadership} leadership: it elects "
                       "no PTL")
    if not problem and not EMAIL.fullmatch(email):
        problem = f"the file name {email!r} is not an email address"
    return ParsedPath(path, election, team_dir, team, email, problem)


@dataclass(frozen=True, slots=True)
class Filed:
    """A candidacy file in a change of the election repository (open or merged)."""

    number: int
    status: str  # NEW or MERGED
    path: str


def candidacy_files(infos: Iterable[Mapping[str, Any]]) -> list[Filed]:
    """The files (added or edited, not deleted) of each change's current revision."""
    found: list[Filed] = []
    for info in infos:
        revision = (info.get("revisions") or {}).get(info.get("current_revision", ""), {})
        for path, meta in (revision.get("files") or {}).items():
            if path not in MAGIC_FILES and (meta or {}).get("status") != "D":
                found.append(Filed(int(info.get("_number", 0)), str(info.get("status")),
                                   path))
    return found


def filing_query(election: Election) -> str:
    """The candidacies of an election's repository: open and merged changes."""
    return (f"project:{election.repository} branch:{election.branch} "
            "(status:open OR status:merged)")
