"""`evaluate(change, config, rules, now) -> Verdict`: the whole decision, as a pure function.

Steps: (1) the category guard of the change's project, if any, checks its
hashtags against the files it touches; (2) the first rule that selects the
change governs it (none: `ungoverned`); (3) the rule's requirements are
evaluated (governance_require); (4) the verdict collects the per-member table,
the votes that do not count, who still has to vote, and the times that matter.

The same inputs always give the same verdict: nothing here reads the clock,
the network or any global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from govbot.config.model import GovernanceConfig
from govbot.config.schema import did_you_mean

from .ballot import Ballot, PeopleIndex
from .change import ChangeState
from .ci import DEFAULT_CI, CiDefaults
from .model import CategoryGuard, Rule, RulesConfig
from .requirements import Outcome, Scope, evaluate_requirement
from .verdict import (
    BLOCKED,
    MET,
    PENDING,
    READY,
    UNGOVERNED,
    OtherVote,
    Reason,
    Verdict,
)

__all__ = ["check_categories", "evaluate", "select_rule"]

_STATE_OF = {MET: READY, PENDING: PENDING, BLOCKED: BLOCKED}


def _quote(tags: Sequence[str], last: str = "or") -> str:
    quoted = [f"'{t}'" for t in tags]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + f" {last} " + quoted[-1]


def check_categories(change: ChangeState, guard: CategoryGuard) -> tuple[str, ...]:
    """Why the change's category hashtags are wrong (empty when they are right).

    Each sentence names the exact hashtag to set or remove.
    """
    problems: list[str] = []
    categories = [h for h in guard.hashtags if h in change.hashtags]
    for tag in change.hashtags:
        if tag not in guard.hashtags and not guard.allow.matches(tag):
            problems.append(f"unknown hashtag '{tag}'{did_you_mean(tag, guard.hashtags)}: "
                            f"remove it; the categories here are {_quote(guard.hashtags)}")
    # What the touched files allow: the intersection of every matching file rule.
    allowed: list[str] | None = None
    because: list[tuple[str, tuple[str, ...]]] = []
    for file_rule in guard.files:
        touched = [f for f in change.files if file_rule.files.matches(f)]
        if not touched:
            continue
        because.append((touched[0], file_rule.hashtags))
        allowed = [h for h in (allowed if allowed is not None else file_rule.hashtags)
                   if h in file_rule.hashtags]
    if allowed is not None and not allowed:
        needs = "; ".join(f"{path} needs {_quote(tags)}" for path, tags in because)
        problems.append(f"the change touches files of different categories ({needs}): "
                        "split it into one change per category")
        return tuple(problems)
    touches = ", ".join(path for path, _ in because)
    if not categories:
        if allowed is not None:
            problems.append(f"set the hashtag {_quote(allowed)}: the change touches {touches}")
        else:
            problems.append(f"set exactly one category hashtag: {_quote(guard.hashtags)}")
    elif len(categories) > 1:
        keep = [c for c in categories if allowed is None or c in allowed]
        hint = (f"; keep '{keep[0]}'" if len(keep) == 1 else
                f"; it must be {_quote(allowed)} (it touches {touches})" if allowed else "")
        problems.append(f"contradictory category hashtags {_quote(categories, 'and')}: "
                        f"keep exactly one{hint}")
    elif allowed is not None and categories[0] not in allowed:
        problems.append(f"the change touches {touches}, which needs the hashtag "
                        f"{_quote(allowed)}, not '{categories[0]}': set {_quote(allowed)} and "
                        f"remove '{categories[0]}'")
    return tuple(problems)


def select_rule(change: ChangeState, rules: RulesConfig, owner: str | None) -> Rule | None:
    """The first rule, in file order, whose selector matches the change."""
    return next((r for r in rules.rules if r.select.matches(change, owner)), None)


def evaluate(change: ChangeState, config: GovernanceConfig, rules: RulesConfig,
             now: datetime, *, people: PeopleIndex | None = None,
             ci: CiDefaults = DEFAULT_CI) -> Verdict:
    """Decide whether `change` may be approved under `rules`, at instant `now` (UTC).

    `people` is `PeopleIndex.of(config.people)`; pass it when evaluating many changes
    against one config, so it is built once. `ci` says which account and label a
    `ci: true` requirement reads (the operator's `zuul:` settings).
    """
    if now.tzinfo is None:  # Gerrit's times are UTC; a naive `now` is taken to be UTC too
        now = now.replace(tzinfo=UTC)
    index = people or PeopleIndex.of(config.people)
    owner = index.person_for(change.owner)
    where: dict[str, Any] = {"project": change.project, "number": change.number,
                             "patchset": change.patchset}
    for guard in rules.guards:
        if guard.applies(change):
            problems = check_categories(change, guard)
            if problems:
                return Verdict(state=BLOCKED, rule=None, description="category hashtag check",
                               reasons=tuple(Reason(BLOCKED, p) for p in problems), **where)
            break
    rule = select_rule(change, rules, owner)
    if rule is None:
        return Verdict(state=UNGOVERNED, rule=None, description="", reasons=(
            Reason(MET, f"no rule governs changes to {change.project} "
                        f"on {change.branch}"),), **where)
    scope = Scope(change=change, config=config, rule=rule, now=now, index=index, owner=owner,
                  ci=ci)
    outcome = evaluate_requirement(rule.require, scope)
    return _verdict(rule, outcome, scope, where)


def _verdict(rule: Rule, outcome: Outcome, scope: Scope, where: Mapping[str, Any]) -> Verdict:
    state = _STATE_OF[outcome.status]
    ballots = list(scope.ballots.values())
    members = tuple(row for ballot in ballots for row in ballot.rows)
    return Verdict(
        state=state, rule=rule.name, description=rule.description,
        reasons=outcome.reasons, members=members, others=_others(ballots, scope),
        missing=outcome.missing if state != READY else (),
        earliest=outcome.earliest if state == PENDING else None,
        # Ready stays ready as time passes; otherwise wake when a time bound passes.
        next_check=outcome.next_check if state != READY else None,
        **where)


def _others(ballots: Sequence[Ballot], scope: Scope) -> tuple[OtherVote, ...]:
    """Votes on the labels the rule reads, from people whose vote it does not count."""
    labels: dict[str, list[Ballot]] = {}
    for ballot in ballots:
        labels.setdefault(ballot.label, []).append(ballot)
    for label in sorted(scope.role_labels):
        labels.setdefault(label, [])
    out: list[OtherVote] = []
    for label, on_label in labels.items():
        members = {row.person for b in on_label for row in b.rows}
        for vote in scope.change.votes_on(label):
            person = scope.index.person_for(vote.account)
            key = person or (vote.account.email or "").casefold()
            if (person is not None and person in members) or (label, key) in scope.role_voters:
                continue
            if vote.value == 0:
                continue  # an explicit 0 from a non-member says nothing
            name = scope.index.name_of(person) if person else vote.account.describe()
            bodies = " or ".join(b.body.name for b in on_label)
            why = f"not a member of {bodies}" if bodies else "does not hold the role"
            out.append(OtherVote(who=name, person=person, label=label, value=vote.value,
                                 why=why))
    return tuple(sorted(out, key=lambda o: (o.label, o.who.casefold(), o.value)))
