"""The board's logic, pure: filter the remembered rows, group them by rule, and the
"waiting on" view of one person (by person id, Gerrit user, IRC nick or account, or
e-mail), sorted by deadline.

Rows are the `board/<n>` summaries the plugin remembers (summary.board_row); nothing
here reads Gerrit or the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govbot.config.model import GovernanceConfig

__all__ = ["FILTERS", "Board", "Filters", "build_board", "resolve_person"]

FILTERS = ("body", "project", "rule", "state", "waiting")
_FAR = "9999"  # sorts after every ISO time: no deadline known


@dataclass(frozen=True, slots=True)
class Filters:
    """What the query string asks for; "" is no filter."""

    body: str = ""
    project: str = ""
    rule: str = ""
    state: str = ""
    waiting: str = ""  # a person, by any of their names

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        return cls(**{k: (query.get(k) or "").strip()[:200] for k in FILTERS})

    def active(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FILTERS if getattr(self, k)}


@dataclass(frozen=True, slots=True)
class Board:
    rows: list[dict[str, Any]]  # after the filters, by rule then number
    groups: list[tuple[str, list[dict[str, Any]]]]  # (rule, its rows)
    total: int  # before the filters
    person: str | None = None  # the person id `waiting` resolved to
    person_name: str | None = None
    unknown_person: bool = False  # `waiting` named nobody the config knows
    choices: dict[str, list[str]] = field(default_factory=dict)  # filter -> values seen


def resolve_person(config: GovernanceConfig, who: str) -> str | None:
    """The person id `who` names: an id, a Gerrit username, an IRC nick or account, or
    an e-mail, compared without case."""
    wanted = who.strip().casefold()
    if not wanted:
        return None
    if who in config.people:
        return who
    for person in config.people.values():
        names = (person.id, person.gerrit_username, person.irc_nick, person.irc_account,
                 *person.emails)
        if any(n and n.casefold() == wanted for n in names):
            return person.id
    return None


def _choices(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    seen: dict[str, set[str]] = {"body": set(), "project": set(), "rule": set(),
                                 "state": set()}
    for row in rows:
        for key, values in seen.items():
            value = row.get(key)
            if value:
                values.add(str(value))
    return {k: sorted(v) for k, v in seen.items()}


def build_board(rows: Sequence[dict[str, Any]], filters: Filters,
                config: GovernanceConfig) -> Board:
    person = resolve_person(config, filters.waiting) if filters.waiting else None
    kept = []
    for row in rows:
        if filters.body and row.get("body") != filters.body:
            continue
        if filters.project and row.get("project") != filters.project:
            continue
        if filters.rule and row.get("rule") != filters.rule:
            continue
        if filters.state and row.get("state") != filters.state:
            continue
        if filters.waiting and not any(m.get("person") == person and person is not None
                                       for m in row.get("missing") or ()):
            continue
        kept.append(row)
    if filters.waiting:
        # What waits on one person: the soonest deadline first.
        kept.sort(key=lambda r: (r.get("earliest") or _FAR, r["number"]))
    else:
        kept.sort(key=lambda r: (r.get("rule") or "~", r["number"]))
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    if filters.waiting:
        groups = [("waiting", kept)] if kept else []
    else:
        for row in kept:
            rule = row.get("rule") or "(category check)"
            if not groups or groups[-1][0] != rule:
                groups.append((rule, []))
            groups[-1][1].append(row)
    name = config.people[person].name if person and person in config.people else None
    return Board(rows=kept, groups=groups, total=len(rows), person=person, person_name=name,
                 unknown_person=bool(filters.waiting) and person is None,
                 choices=_choices(rows))
