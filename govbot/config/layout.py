"""Where a governance repo keeps its teams, group repositories, members and history.

Communities keep these files where they always have: openstack/governance has them
under `reference/` (`projects.yaml`, `technical-committee-repos.yaml`,
`sigs-repos.yaml`, `members.yaml`, `legacy.yaml`). A `GovernanceLayout` names each
file; a name left empty is looked for in the usual places (the root, then
`reference/`), so a checkout of openstack/governance loads as it is. The operator
sets it in govbot.yaml (`governance.layout`, see docs/settings.md).

This module also reads the two formats that are not the team format: the repository
lists per group (the TC's, the SIGs') and the retired teams of `legacy.yaml`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from govbot.config.model import RetiredTeam, Source, Team
from govbot.config.schema import INVALID, AnyValue, Field, Issues, ListOf, MapOf, Schema, Str
from govbot.config.yamlpos import source_of

# Each file's usual places, in the order they are tried.
CANDIDATES: Mapping[str, tuple[str, ...]] = {
    "projects": ("projects.yaml", "reference/projects.yaml"),
    "tc_repos": ("technical-committee-repos.yaml",
                 "reference/technical-committee-repos.yaml"),
    "sigs_repos": ("sigs-repos.yaml", "reference/sigs-repos.yaml"),
    "members": ("reference/members.yaml",),
    "legacy": ("legacy.yaml", "reference/legacy.yaml"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GovernanceLayout:
    """Paths relative to the config root; "" means: look in the usual places."""

    projects: str = ""
    tc_repos: str = ""
    sigs_repos: str = ""
    members: str = ""
    legacy: str = ""

    def resolve(self, root: Path, issues: Issues) -> dict[str, str | None]:
        """Each file's path, or None when absent; a named file that is missing is an error."""
        found: dict[str, str | None] = {}
        for key, candidates in CANDIDATES.items():
            named: str = getattr(self, key)
            if named:
                relative = PurePosixPath(named)
                if relative.is_absolute() or ".." in relative.parts:
                    issues.error(Source(named, 0), (
                        f"governance.layout.{key} {named!r} must be a path inside the "
                        "config repo, relative to its root"))
                    found[key] = None
                elif not (root / relative).is_file():
                    issues.error(Source(named, 0), (
                        f"governance.layout.{key} names {named!r}, which is not in the "
                        "config repo; fix the setting or add the file"))
                    found[key] = None
                else:
                    found[key] = relative.as_posix()
                continue
            found[key] = next((c for c in candidates if (root / c).is_file()), None)
        return found


# Group kinds: what the repository lists' owners are, for messages and the summary.
TC_GROUPS = "tc"
SIG_GROUPS = "sig"

REPO_ENTRY = Schema({
    "repo": Field(Str(pattern=r"\S+", expected="a repository name like 'openstack/governance'"),
                  required=True),
}, what="a repository entry", extra="ignore", expected="a mapping with 'repo'")
GROUPS = MapOf(ListOf(REPO_ENTRY, expected="a list of repositories"),
               item_label="group '{key}'", expected="a mapping of group names to repositories")


def parse_repo_groups(data: Any, file: str, kind: str, issues: Issues) -> dict[str, Team]:
    """Groups that own repositories (`Technical Committee: [{repo: ...}, ...]`), as teams.

    They are teams in all but the format: a rule asking who owns openstack/governance
    finds the Technical Committee. `leadership` says which kind of group it is.
    """
    groups: dict[str, Team] = {}
    if data is None:
        return groups
    records = GROUPS.check(data, source_of(data) or Source(file, 1), "this file", issues)
    if records is INVALID:
        return groups
    for name, entries in records.items():
        repos = tuple(dict.fromkeys(entry["repo"] for entry in entries if entry["repo"]))
        groups[name] = Team(name=name, leadership=kind, repositories=repos,
                            source=source_of(records, name) or Source(file, 1))
    return groups


LEGACY_DELIVERABLE = Schema({"repos": Field(ListOf(Str()), default=())},
                            what="a deliverable", extra="ignore")
LEGACY_TEAM = Schema({
    "retired-on": Field(AnyValue()),
    "deliverables": Field(MapOf(LEGACY_DELIVERABLE), default={}),
}, what="a retired team", extra="ignore")
LEGACY = MapOf(LEGACY_TEAM, item_label="team '{key}'",
               expected="a mapping of retired team names")


def parse_legacy(data: Any, file: str, issues: Issues) -> dict[str, RetiredTeam]:
    """Retired teams (openstack's legacy.yaml): history, never a live owner."""
    retired: dict[str, RetiredTeam] = {}
    if data is None:
        return retired
    records = LEGACY.check(data, source_of(data) or Source(file, 1), "this file", issues)
    if records is INVALID:
        return retired
    for name, record in records.items():
        repos = tuple(dict.fromkeys(
            repo for deliverable in record["deliverables"].values()
            for repo in deliverable["repos"] if repo))
        when = record["retired-on"]
        retired[name] = RetiredTeam(name=name, retired_on=str(when) if when else "",
                                    repositories=repos, source=record.source)
    return retired
