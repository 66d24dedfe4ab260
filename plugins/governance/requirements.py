"""Each requirement of the rule language, evaluated against one change at one instant.

Every function returns an `Outcome`: met, pending (more votes or more time could
meet it) or blocked (only a changed vote, hashtag or change could), the sentences
that explain it, who still has to vote, and the times that matter. Statuses
combine the obvious way: `all` is blocked if any part is, else pending if any
part is; `any` is met if one alternative is, else pending if one could still be.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import assert_never

import msgspec

from govbot.config.model import Body, GovernanceConfig, Team
from govbot.config.schema import did_you_mean
from govbot.thresholds import Expr

from .ballot import Ballot, PeopleIndex, build_ballot, format_value
from .change import ChangeState, format_duration, format_time
from .ci import DEFAULT_CI, CiDefaults, ci_outcome
from .model import (
    FIRST_REVISION,
    AllOf,
    AnyOf,
    CiVerified,
    Lazy,
    Majority,
    NoObjection,
    OpenFor,
    PathOwner,
    Paths,
    Quorum,
    Requirement,
    RoleVote,
    Rule,
    Veto,
    Yes,
)
from .verdict import BLOCKED, MET, PENDING, Reason, Voter

__all__ = ["Outcome", "Scope", "evaluate_requirement"]


class Outcome(msgspec.Struct, frozen=True):
    status: str  # MET, PENDING or BLOCKED
    reasons: tuple[Reason, ...]
    earliest: datetime | None = None  # a time bound on being met (None: no time bound)
    next_check: datetime | None = None  # the next instant this outcome changes by itself
    missing: tuple[Voter, ...] = ()


@dataclass
class Scope:
    """What one evaluation reads; it caches ballots, and lives for one `evaluate` call."""

    change: ChangeState
    config: GovernanceConfig
    rule: Rule
    now: datetime
    index: PeopleIndex
    owner: str | None  # the owner's person id
    ballots: dict[tuple[str, str], Ballot] = field(default_factory=dict)
    role_labels: set[str] = field(default_factory=set)  # labels role requirements read
    role_voters: set[tuple[str, str | None]] = field(default_factory=set)  # (label, person)
    ci: CiDefaults = DEFAULT_CI  # who CI is, for `ci: true`

    def ballot(self, body_id: str, label: str | None = None) -> Ballot:
        body = self.config.bodies[body_id]
        key = (body_id, label or self.rule.label)
        if key not in self.ballots:
            self.ballots[key] = build_ballot(
                body, key[1], self.change, self.index, yes_value=self.rule.yes_value,
                no_value=self.rule.no_value, owner=self.owner,
                exclude_owner=self.rule.exclude_owner)
        return self.ballots[key]

    def rule_ballot(self) -> Ballot:
        assert self.rule.body is not None  # the parser requires a body for these kinds
        return self.ballot(self.rule.body)

    def voters(self, person_ids: Iterable[str]) -> tuple[Voter, ...]:
        return tuple(Voter(p, self.index.name_of(p)) for p in person_ids)

    def names(self, person_ids: Iterable[str]) -> str:
        return ", ".join(self.index.name_of(p) for p in person_ids)


def _one(status: str, text: str, **kw: object) -> Outcome:
    return Outcome(status, (Reason(status, text),), **kw)  # type: ignore[arg-type]


def _needed(expr: Expr, n: int) -> int | None:
    try:
        return int(expr.needed(n))
    except ZeroDivisionError:
        return None


def _threshold_text(expr: Expr, need: int, n: int) -> str:
    return str(need) if expr.is_constant else f"{need} ({expr} with n={n})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- the requirements ------------------------------------------------------------------

def _yes(req: Yes, scope: Scope) -> Outcome:
    ballot = scope.rule_ballot()
    need = _needed(req.at_least, ballot.n)
    if need is None:
        return _one(BLOCKED, f"the threshold {req.at_least} cannot be computed for "
                             f"n={ballot.n} (division by zero); fix rules.yaml")
    yes = len(ballot.yes)
    who = " from members other than the owner" if scope.rule.exclude_owner else ""
    votes = "vote" if need == 1 else "votes"
    wanted = f"at least {_threshold_text(req.at_least, need, ballot.n)} yes {votes}{who}"
    if yes >= need:
        text = f"{wanted}: {yes} yes"
        if req.cool_off is None:
            return _one(MET, text)
        reached = (ballot.yes_dates[need - 1] if need > 0
                   else scope.change.first_revision_at)
        end = reached + req.cool_off
        if scope.now >= end:
            return _one(MET, f"{text}; the {format_duration(req.cool_off)} cool-off after "
                             f"reaching it ended {format_time(end)}")
        return _one(PENDING, f"{text}; reached {format_time(reached)}, then a "
                             f"{format_duration(req.cool_off)} cool-off until "
                             f"{format_time(end)}", earliest=end, next_check=end)
    if yes + len(ballot.remaining) < need:
        return _one(BLOCKED, f"{wanted}: cannot be reached, {yes} yes and only "
                             f"{len(ballot.remaining)} member(s) left to vote")
    suffix = (f"; then a {format_duration(req.cool_off)} cool-off" if req.cool_off else "")
    return _one(PENDING, f"{wanted}: {yes} so far{suffix}",
                missing=scope.voters(ballot.remaining))


def _holders_voting_yes(ballot: Ballot, role: str) -> list[str]:
    return [p for p in ballot.body.roles.get(role, ()) if p in ballot.yes]


def _majority(req: Majority, scope: Scope) -> Outcome:
    ballot = scope.rule_ballot()
    yes, no, left = len(ballot.yes), len(ballot.no), len(ballot.remaining)
    tally = f"{yes} yes, {no} no"
    if yes > no:
        return _one(MET, f"more yes than no: {tally}")
    if yes == no and req.tie_breaker and yes > 0:
        breakers = _holders_voting_yes(ballot, req.tie_breaker)
        if breakers:
            return _one(MET, f"tied {yes}-{no}; the {req.tie_breaker}, "
                             f"{scope.names(breakers)}, voted yes and breaks the tie")
    breaker_left = bool(req.tie_breaker) and any(
        p in ballot.remaining or p in ballot.yes
        for p in ballot.body.roles.get(req.tie_breaker or "", ()))
    if yes + left > no or (yes + left == no and breaker_left and no > 0):
        rule = ("a tie is broken by the " + req.tie_breaker) if req.tie_breaker else (
            "a tie rejects")
        return _one(PENDING, f"more yes than no needed: {tally} so far ({rule})",
                    missing=scope.voters(ballot.remaining))
    verdict = "a tie rejects" if yes == no else "more no than yes"
    return _one(BLOCKED, f"rejected: {tally} with {_plural(left, 'member')} left to vote; "
                         f"{verdict}")


def _objectors(ballot: Ballot) -> str:
    return ", ".join(f"{r.name} ({format_value(r.value)})" for r in ballot.rows
                     if r.person in ballot.no)


def _no_objection(_req: NoObjection, scope: Scope) -> Outcome:
    ballot = scope.rule_ballot()
    if ballot.no:
        return _one(BLOCKED, f"objection from {_objectors(ballot)}; no member may object")
    return _one(MET, "no objection from any member")


def _open(req: OpenFor, scope: Scope) -> Outcome:
    first = req.since == FIRST_REVISION
    start = scope.change.first_revision_at if first else scope.change.latest_revision_at
    which = "the first revision" if first else "the latest revision"
    end = start + req.duration
    wanted = f"open at least {format_duration(req.duration)} since {which}"
    if scope.now >= end:
        return _one(MET, f"{wanted} ({format_time(start)})")
    return _one(PENDING, f"{wanted}: not before {format_time(end)}",
                earliest=end, next_check=end)


def _lazy(req: Lazy, scope: Scope) -> Outcome:
    ballot = scope.rule_ballot()
    if ballot.no:
        return _one(BLOCKED, f"lazy consensus failed: objection from {_objectors(ballot)}")
    end = scope.change.latest_revision_at + req.duration
    span = format_duration(req.duration)
    if scope.now >= end:
        return _one(MET, f"lazy consensus: no objection {span} after the latest revision")
    return _one(PENDING, f"lazy consensus: ready {format_time(end)} if no member objects "
                         f"({span} after the latest revision)", earliest=end, next_check=end)


def _quorum(req: Quorum, scope: Scope) -> Outcome:
    ballot = scope.rule_ballot()
    need = _needed(req.at_least, ballot.n)
    if need is None:
        return _one(BLOCKED, f"the quorum {req.at_least} cannot be computed for "
                             f"n={ballot.n} (division by zero); fix rules.yaml")
    voted, left = len(ballot.voted), len(ballot.remaining)
    wanted = f"quorum of {_threshold_text(req.at_least, need, ballot.n)} members voting"
    if voted >= need:
        return _one(MET, f"{wanted}: {voted} voted")
    if voted + left < need:
        return _one(BLOCKED, f"{wanted}: cannot be reached, {voted} voted and "
                             f"{left} left")
    return _one(PENDING, f"{wanted}: {voted} so far", missing=scope.voters(ballot.remaining))


def _veto(req: Veto, scope: Scope) -> Outcome:
    ballot = scope.rule_ballot()
    for role in req.roles:
        vetoes = [p for p in ballot.body.roles.get(role, ()) if p in ballot.no]
        if vetoes:
            return _one(BLOCKED, f"vetoed by the {role}, {scope.names(vetoes)}")
    return _one(MET, "no veto from the " + " or ".join(req.roles))


# --- role votes ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Holder:
    person: str | None
    name: str
    email: str | None


def _team_for(req: RoleVote, scope: Scope) -> Team | str:
    """The team whose role is asked for, or the sentence explaining why there is none."""
    teams = scope.config.teams
    if req.team is not None:
        return (scope.config.team_named(req.team)
                or f"team {req.team!r} is not in the projects file")
    if req.team_of == "project":
        team = scope.config.team_for_repository(scope.change.project)
        return team or (f"no team in the projects file owns {scope.change.project}, so "
                        f"there is no {' or '.join(req.roles)} to vote")
    prefix = req.hashtag_prefix
    named = sorted({h[len(prefix):] for h in scope.change.hashtags if h.startswith(prefix)})
    if not named or named == [""]:
        example = next(iter(sorted(teams)), "compute")
        return (f"set the hashtag '{prefix}<team>' naming the team whose "
                f"{' or '.join(req.roles)} must vote (e.g. '{prefix}{example}')")
    if len(named) > 1:
        return ("the hashtags " + ", ".join(repr(prefix + n) for n in named)
                + " name several teams; keep exactly one")
    # Real team names are not slugs ("Release Management"): case and spaces aside.
    team = scope.config.team_named(named[0])
    if team is None:
        return (f"the hashtag '{prefix}{named[0]}' names no team of the projects file"
                f"{did_you_mean(named[0], teams)}")
    return team


def _team_holders(team: Team, roles: Sequence[str]) -> list[_Holder]:
    contacts: list[dict[str, str]] = []
    for role in roles:
        if role == "ptl" or (role == "leader" and team.leadership == "ptl"):
            contacts += [dict(team.ptl)] if team.ptl else []
        elif role in ("liaison", "leader"):
            contacts += [dict(c) for c in team.liaisons]
        elif role.startswith("liaison:"):
            wanted = role.removeprefix("liaison:")
            contacts += [dict(c) for c in team.liaisons if c.get("role") == wanted]
    holders: dict[tuple[str | None, str], _Holder] = {}
    for c in contacts:  # a PTL who is also a liaison is one holder
        key = (c.get("person"), c.get("email") or c.get("name", "?"))
        holders.setdefault(key, _Holder(c.get("person"), c.get("name", "?"), c.get("email")))
    return list(holders.values())


def _team_role_title(role: str, team: Team) -> str:
    if role == "ptl":
        return "the PTL"
    if role == "leader":
        return "the PTL" if team.leadership == "ptl" else "a liaison (distributed leadership)"
    if role == "liaison":
        return "a liaison"
    return f"the {role.removeprefix('liaison:')} liaison"


def _role(req: RoleVote, scope: Scope) -> Outcome:
    if req.body is not None:
        body: Body = scope.config.bodies[req.body]
        held = dict.fromkeys(p for role in req.roles for p in body.roles.get(role, ()))
        holders = [_Holder(p, scope.index.name_of(p), None) for p in held]
        title = " or ".join(f"the {role}" for role in req.roles) + f" of {body.name}"
    else:
        team = _team_for(req, scope)
        if isinstance(team, str):
            return _one(BLOCKED, team)
        holders = _team_holders(team, req.roles)
        title = " or ".join(dict.fromkeys(_team_role_title(r, team) for r in req.roles))
        title += f" of team {team.name}"
    if not holders:
        return _one(BLOCKED, f"nobody holds {title}; fix the config before this can pass")
    scope.role_labels.add(req.label)
    # (holder, value, the holder's place in the config): equal votes name the holder the
    # config lists first, so the message never depends on the order Gerrit lists votes in.
    best: tuple[_Holder, int, int] | None = None
    worst: tuple[_Holder, int, int] | None = None
    for vote in scope.change.votes_on(req.label):
        person = scope.index.person_for(vote.account)
        email = (vote.account.email or "").casefold()
        for place, holder in enumerate(holders):
            if (person is not None and person == holder.person) or (
                    holder.email and email == holder.email.casefold()):
                scope.role_voters.add((req.label, person or email))
                if best is None or (vote.value, -place) > (best[1], -best[2]):
                    best = (holder, vote.value, place)
                if worst is None or (vote.value, place) < (worst[1], worst[2]):
                    worst = (holder, vote.value, place)
    wanted = f"{req.label} {format_value(req.at_least)} or more from {title}"
    if best is not None and best[1] >= req.at_least:
        return _one(MET, f"{wanted}: {best[0].name} voted {format_value(best[1])}")
    owner_email = (scope.change.owner.email or "").casefold()
    proposer = next((h for h in holders if (h.person is not None and h.person == scope.owner)
                     or (h.email and h.email.casefold() == owner_email)), None)
    if req.or_owner and proposer is not None:
        return _one(MET, f"{wanted}, or proposed by them: proposed by {proposer.name}")
    if worst is not None and worst[1] < 0:
        return _one(BLOCKED, f"{wanted}: {worst[0].name} voted {format_value(worst[1])}")
    names = ", ".join(h.name for h in holders)
    return _one(PENDING, f"{wanted}: waiting for {names}",
                missing=tuple(Voter(h.person, h.name) for h in holders))


# --- per-path owners -------------------------------------------------------------------

def _files_text(files: Sequence[str]) -> str:
    shown = ", ".join(files[:3])
    return shown + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def _paths(req: Paths, scope: Scope) -> Outcome:
    owned: dict[int, list[str]] = {}
    unowned: list[str] = []
    for path in scope.change.files:
        # The FIRST matching entry owns the path: a broad entry listed after a
        # delegated one has no say over it.
        index = next((i for i, o in enumerate(req.owners) if o.files.matches(path)), None)
        if index is None:
            unowned.append(path)
        else:
            owned.setdefault(index, []).append(path)
    parts = [_path_owner(req.owners[i], files, scope) for i, files in sorted(owned.items())]
    if unowned:
        parts.append(_one(BLOCKED, f"no path owner covers {_files_text(unowned)}; "
                                   "add an entry to the rule's 'paths'"))
    if not parts:
        return _one(MET, "no files to approve")
    return combine_all(parts)


def _path_owner(owner: PathOwner, files: list[str], scope: Scope) -> Outcome:
    ballot = scope.ballot(owner.body, owner.label)
    need = _needed(owner.at_least, ballot.n)
    if need is None:
        return _one(BLOCKED, f"the threshold {owner.at_least} for {ballot.body.name} cannot be "
                             f"computed for n={ballot.n}; fix rules.yaml")
    value = format_value(scope.rule.yes_value)
    count = "" if need == 1 else f"{_threshold_text(owner.at_least, need, ballot.n)} x "
    wanted = f"{_files_text(files)}: {count}{owner.label} {value} from {ballot.body.name}"
    if ballot.no:
        return _one(BLOCKED, f"{wanted}; objection from {_objectors(ballot)}")
    if len(ballot.yes) >= need:
        return _one(MET, f"{wanted}: {scope.names(ballot.yes)}")
    if len(ballot.yes) + len(ballot.remaining) < need:
        return _one(BLOCKED, f"{wanted}: cannot be reached, too few members left to vote")
    return _one(PENDING, f"{wanted}: {len(ballot.yes)} so far",
                missing=scope.voters(ballot.remaining))


# --- combinators -----------------------------------------------------------------------

def _latest(times: Iterable[datetime | None]) -> datetime | None:
    found = [t for t in times if t is not None]
    return max(found) if found else None


def _soonest(times: Iterable[datetime | None]) -> datetime | None:
    found = [t for t in times if t is not None]
    return min(found) if found else None


def _missing(parts: Iterable[Outcome]) -> tuple[Voter, ...]:
    seen: dict[Voter, None] = {}
    for part in parts:
        if part.status != MET:
            seen.update(dict.fromkeys(part.missing))
    return tuple(seen)


def combine_all(parts: Sequence[Outcome]) -> Outcome:
    statuses = {p.status for p in parts}
    status = BLOCKED if BLOCKED in statuses else PENDING if PENDING in statuses else MET
    return Outcome(
        status, tuple(r for p in parts for r in p.reasons),
        # Met only when every part is: as late as the latest time bound.
        earliest=_latest(p.earliest for p in parts) if status == PENDING else None,
        next_check=_soonest(p.next_check for p in parts),
        missing=_missing(parts) if status != MET else ())


def combine_any(parts: Sequence[Outcome]) -> Outcome:
    statuses = {p.status for p in parts}
    status = MET if MET in statuses else PENDING if PENDING in statuses else BLOCKED
    open_parts = [p for p in parts if p.status == PENDING]
    earliest = None
    if status == PENDING and all(p.earliest is not None for p in open_parts):
        # Met as soon as one alternative is; one without a time bound has none.
        earliest = _soonest(p.earliest for p in open_parts)
    header = Reason(status, "one of these:")
    reasons = (header, *(Reason(r.status, r.text, r.depth + 1)
                         for p in parts for r in p.reasons))
    return Outcome(status, reasons, earliest=earliest,
                   next_check=_soonest(p.next_check for p in parts),
                   missing=_missing(open_parts) if status == PENDING else ())


def evaluate_requirement(req: Requirement, scope: Scope) -> Outcome:
    # A match over the Requirement union rather than a lookup table: mypy checks each
    # branch, and `assert_never` makes a kind added to model.py without an evaluator here
    # a type error instead of a TypeError at run time.
    match req:
        case AllOf():
            return combine_all([evaluate_requirement(r, scope) for r in req.items])
        case AnyOf():
            return combine_any([evaluate_requirement(r, scope) for r in req.items])
        case Yes():
            return _yes(req, scope)
        case Majority():
            return _majority(req, scope)
        case NoObjection():
            return _no_objection(req, scope)
        case OpenFor():
            return _open(req, scope)
        case Lazy():
            return _lazy(req, scope)
        case Quorum():
            return _quorum(req, scope)
        case Veto():
            return _veto(req, scope)
        case RoleVote():
            return _role(req, scope)
        case Paths():
            return _paths(req, scope)
        case CiVerified():
            return _one(*ci_outcome(req, scope.change, scope.ci))
        case _:
            assert_never(req)

