"""The rule language as frozen data: what `rules.yaml` means once it has been checked.

`governance_parse` builds these from YAML (reporting every error at FILE:LINE);
`governance_eval` evaluates them. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from govbot.config.model import Source
from govbot.config.names import NO_NAMES, Names
from govbot.thresholds import Expr

from .change import ChangeState

__all__ = [
    "FIRST_REVISION", "LATEST_REVISION", "AllOf", "AnyOf", "CategoryGuard", "CiVerified",
    "FileRule",
    "GlobSet", "Lazy", "Majority", "NameSet", "NoObjection", "OpenFor", "PathOwner", "Paths",
    "Quorum", "Requirement", "RoleVote", "Rule", "RulesConfig", "Selector", "Veto", "Yes",
    "glob_regex",
]

FIRST_REVISION = "first-revision"
LATEST_REVISION = "latest-revision"


# --- matching names and paths ----------------------------------------------------------

#: gerritbot's convention ('^...' a whole-name regex, else exact), shared with the
#: announcements; an empty set stands for "any" (a selector key that was not given).
NameSet = Names


@lru_cache(maxsize=1024)  # the same few globs are compiled once per process
def glob_regex(glob: str) -> re.Pattern[str]:
    """A Gerrit path glob as a regex: '*' and '?' stay inside one directory, '**'
    crosses directories ('docs/**' is everything under docs/), '[...]' is a class.
    A leading '^' means the text is already a regex (matching the whole path)."""
    if glob.startswith("^"):
        return re.compile(glob)
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")  # zero or more whole directories
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
            else:
                body = glob[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out))


@dataclass(frozen=True, slots=True)
class GlobSet:
    globs: tuple[str, ...] = ()
    # Every glob in one regex, so a path is one C call, not one per glob (re-evaluating
    # thousands of changes matches each file against every rule's globs).
    _any: re.Pattern[str] | None = field(default=None, init=False, repr=False,
                                         compare=False)

    def __post_init__(self) -> None:
        if self.globs:
            patterns = "|".join(f"(?:{glob_regex(g).pattern})" for g in self.globs)
            try:
                combined = re.compile(patterns)
            except re.error:  # e.g. a regex glob with inline flags: match one by one
                return
            object.__setattr__(self, "_any", combined)

    def matches(self, path: str) -> bool:
        if self._any is not None:
            return self._any.fullmatch(path) is not None
        return any(glob_regex(g).fullmatch(path) for g in self.globs)


# --- which changes a rule governs ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Selector:
    """Every given key must hold; a key that was not given holds for every change."""

    projects: NameSet
    branches: NameSet = NO_NAMES
    files: GlobSet = GlobSet()  # at least one touched file matches
    hashtags: frozenset[str] = frozenset()  # the change carries at least one of them
    topics: NameSet = NO_NAMES
    owners: frozenset[str] = frozenset()  # person ids; checked by the evaluator

    def matches(self, change: ChangeState, owner_id: str | None) -> bool:
        if not self.projects.matches(change.project):
            return False
        if not self.branches.empty and not self.branches.matches(change.branch):
            return False
        if self.files.globs and not any(self.files.matches(f) for f in change.files):
            return False
        if self.hashtags and not self.hashtags.intersection(change.hashtags):
            return False
        if not self.topics.empty and not (change.topic and self.topics.matches(change.topic)):
            return False
        return not self.owners or owner_id in self.owners


# --- requirements ----------------------------------------------------------------------
# Each one is a small frozen record; `governance_eval` has one function per type.

@dataclass(frozen=True, slots=True)
class Yes:
    """At least `at_least` counted yes votes; with `cool_off`, and then that long again."""

    at_least: Expr
    cool_off: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Majority:
    """More yes than no; a tie rejects unless the `tie_breaker` role holder voted yes."""

    tie_breaker: str | None = None


@dataclass(frozen=True, slots=True)
class NoObjection:
    """No counted member voted no."""


@dataclass(frozen=True, slots=True)
class OpenFor:
    """The change has been open this long, counted from `since` (first or latest revision)."""

    duration: timedelta
    since: str


@dataclass(frozen=True, slots=True)
class Lazy:
    """Lazy consensus: no objection once `duration` has passed since the latest revision."""

    duration: timedelta


@dataclass(frozen=True, slots=True)
class Quorum:
    """At least `at_least` members have voted (an explicit 0 counts as taking part)."""

    at_least: Expr


@dataclass(frozen=True, slots=True)
class Veto:
    """A no vote from a holder of one of `roles` (of the rule's body) blocks."""

    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoleVote:
    """A vote >= `at_least` on `label` from whoever holds one of `roles`.

    Holders are found in `body`'s roles, or in a team of the projects file:
    `team` names it, or `team_of` says where to look ('project': the team owning the
    change's project; 'hashtag': the team named by the change's `<prefix><team>`
    hashtag). Team roles: 'ptl', 'liaison' (any), 'liaison:<role>', 'leader' (the PTL,
    or the liaisons of a distributed-leadership team). `or_owner`: a holder having
    proposed the change is enough.
    """

    roles: tuple[str, ...]
    label: str
    at_least: int = 1
    body: str | None = None
    team: str | None = None
    team_of: str | None = None  # "project" | "hashtag"
    hashtag_prefix: str = "team:"
    or_owner: bool = False


@dataclass(frozen=True, slots=True)
class PathOwner:
    """Paths matching `files` belong to `body`, whose members vote on `label`."""

    files: GlobSet
    body: str
    label: str
    at_least: Expr
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class Paths:
    """Each touched path belongs to the FIRST entry that matches it, and every owning
    body must approve. A broader entry listed later never covers a delegated path."""

    owners: tuple[PathOwner, ...]


@dataclass(frozen=True, slots=True)
class CiVerified:
    """CI passed on the current patch set: the latest vote of the CI account (Zuul) on
    `label` is at least `at_least`. None means the operator's default (the `zuul:`
    settings: `gerrit_username`, `verified_label`), resolved when evaluating."""

    label: str | None = None
    account: str | None = None  # a Gerrit username, or an account id written as digits
    at_least: int = 1


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Requirement, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Requirement, ...]


Requirement = (Yes | Majority | NoObjection | OpenFor | Lazy | Quorum | Veto | RoleVote
               | Paths | CiVerified | AllOf | AnyOf)


# --- rules and the category guard ------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    name: str
    description: str
    select: Selector
    require: AllOf
    body: str | None = None  # the body whose members vote (None: only path owners/roles)
    label: str = "Code-Review"  # the label the body's members vote with
    yes_value: int = 1  # a vote >= this is a yes
    no_value: int = -1  # a vote <= this is a no (an objection)
    exclude_owner: bool = False  # the owner's own vote never counts
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class FileRule:
    """Touching a path matching `files` means the change must be one of `hashtags`."""

    files: GlobSet
    hashtags: tuple[str, ...]
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class CategoryGuard:
    """In these projects every change carries exactly one category hashtag, and the
    files it touches may narrow which one."""

    projects: NameSet
    branches: NameSet
    hashtags: tuple[str, ...]  # the categories, in the order the file lists them
    files: tuple[FileRule, ...] = ()
    allow: NameSet = NO_NAMES  # other hashtags that may appear (e.g. '^team:.+')
    source: Source | None = None

    def applies(self, change: ChangeState) -> bool:
        return self.projects.matches(change.project) and (
            self.branches.empty or self.branches.matches(change.branch))


@dataclass(frozen=True, slots=True)
class RulesConfig:
    """The parsed `rules.yaml`: rules in file order (the first that selects a change
    governs it) and the category guards."""

    rules: tuple[Rule, ...] = ()
    guards: tuple[CategoryGuard, ...] = ()
    # Name -> the first rule of that name, for `rule()`: looked up twice per decision.
    _by_name: Mapping[str, Rule] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Rule] = {}
        for rule in self.rules:
            by_name.setdefault(rule.name, rule)
        object.__setattr__(self, "_by_name", by_name)

    def rule(self, name: str) -> Rule | None:
        return self._by_name.get(name)
