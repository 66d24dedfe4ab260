"""Properties of the engine over generated votes, for every rule of the example config:
more yes votes never make things worse, n is the body's current size in every threshold,
and equal inputs give equal verdicts (whatever order Gerrit lists the votes in)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from govbot.plugins.governance.change import ChangeState, Vote
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.message import fingerprint
from govbot.plugins.governance.verdict import BLOCKED, PENDING, READY, UNGOVERNED
from tests.governance.kit import (
    COMPUTE,
    CR,
    DAY,
    GOV,
    INFRA,
    RC,
    T0,
    TC,
    WF,
    account,
    example,
    shrink_body,
)

NOVA = ("priya", "quentin", "rosa", "sven", "bruno", "tomas", "ursula", "victor")
COUNCIL = ("kofi", "lena", "marek", "nadia", "chiara")
TEAM_PEOPLE = ("priya", "quentin", "yusuf", "wanjiru", "kofi")


@dataclass(frozen=True)
class Scenario:
    project: str
    hashtags: tuple[str, ...]
    files: tuple[str, ...]
    voters: tuple[str, ...]  # who may vote (members, role holders, a few others)
    labels: tuple[str, ...]  # the labels the rule reads
    yes: dict[str, int]  # label -> the value that is a yes


SCENARIOS = {
    "formal-vote": Scenario(GOV, ("formal-vote",), ("resolutions/a.rst",), (*TC, "priya"),
                            (RC, CR), {RC: 1, CR: 1}),
    "charter-change": Scenario(GOV, ("charter-change",), ("charter.rst",), TC, (RC,),
                               {RC: 1}),
    "normal-review": Scenario(GOV, ("code-change",), ("tools/x.py",), TC, (RC, CR),
                              {RC: 1, CR: 1}),
    "typo-fix": Scenario(GOV, ("typo-fix",), ("README.rst",), (*TC, "priya"), (WF, RC),
                         {WF: 1, RC: 1}),
    "project-update": Scenario(GOV, ("project-update", "team:compute"),
                               ("reference/projects.yaml",), TC + TEAM_PEOPLE, (RC, CR),
                               {RC: 1, CR: 1}),
    "liaison-update": Scenario(GOV, ("liaison-update", "team:compute"),
                               ("reference/projects.yaml",), TC + TEAM_PEOPLE, (WF, CR),
                               {WF: 1, CR: 1}),
    "goal-update": Scenario(GOV, ("goal-update",), ("goals/x.rst",), TC, (RC,), {RC: 1}),
    "release-management": Scenario(GOV, ("release-management",), ("reference/p.yaml",),
                                   TC + TEAM_PEOPLE, (WF, CR), {WF: 1, CR: 1}),
    "revert": Scenario(GOV, ("revert",), ("README.rst",), TC, (WF,), {WF: 1}),
    "compute-core": Scenario(COMPUTE, (), ("nova/virt/libvirt/a.py", "nova/virt/xenapi/b.py",
                                           "nova/api.py"), NOVA, (CR,), {CR: 2}),
    "infra-council": Scenario(INFRA, (), ("playbooks/a.yaml",), COUNCIL, (CR,), {CR: 1}),
}
RANK = {BLOCKED: 0, PENDING: 1, READY: 2, UNGOVERNED: 3}
VALUES = {RC: (-1, 0, 1), WF: (0, 1), CR: (-2, -1, 0, 1, 2)}


@st.composite
def situations(draw: Any) -> tuple[Scenario, ChangeState, timedelta]:
    scenario = SCENARIOS[draw(st.sampled_from(sorted(SCENARIOS)))]
    owner = draw(st.sampled_from(scenario.voters))
    files = draw(st.lists(st.sampled_from(scenario.files), min_size=1, unique=True))
    by_label: dict[str, list[Vote]] = {}
    for label in scenario.labels:
        cast = draw(st.dictionaries(st.sampled_from(scenario.voters),
                                    st.sampled_from(VALUES[label]), max_size=10))
        hours = draw(st.lists(st.integers(0, 24 * 12), min_size=len(cast),
                              max_size=len(cast)))
        by_label[label] = [Vote(account(p), v, T0 + timedelta(hours=h))
                           for (p, v), h in zip(sorted(cast.items()), hours, strict=True)]
    latest = T0 + timedelta(hours=draw(st.integers(0, 24 * 10)))
    change = ChangeState.create(project=scenario.project, owner=account(owner), number=9,
                                first_revision_at=T0, latest_revision_at=latest,
                                hashtags=scenario.hashtags, files=files, votes=by_label)
    return scenario, change, timedelta(hours=draw(st.integers(0, 24 * 20)))


def with_vote(change: ChangeState, label: str, person: str, value: int,
              when: Any) -> ChangeState:
    kept = [v for v in change.votes_on(label) if v.account != account(person)]
    votes = dict(change.votes)
    votes[label] = (*kept, Vote(account(person), value, when))
    return ChangeState.create(project=change.project, owner=change.owner, number=9,
                              first_revision_at=change.first_revision_at,
                              latest_revision_at=change.latest_revision_at,
                              hashtags=change.hashtags, files=change.files, votes=votes)


@settings(max_examples=150, deadline=None)
@given(situations(), st.data())
def test_another_yes_vote_never_makes_the_verdict_worse(
        situation: tuple[Scenario, ChangeState, timedelta], data: Any) -> None:
    scenario, change, offset = situation
    config, rules = example()
    now = change.latest_revision_at + offset
    before = evaluate(change, config, rules, now)
    label = data.draw(st.sampled_from(scenario.labels))
    person = data.draw(st.sampled_from(scenario.voters))
    after = evaluate(with_vote(change, label, person, scenario.yes[label], now),
                     config, rules, now)
    assert RANK[after.state] >= RANK[before.state], (before.reasons, after.reasons)
    if before.state == READY:
        assert after.state == READY


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([("charter-change", "ceil(2*n/3)"), ("formal-vote", "ceil(n/3)")]),
       st.lists(st.sampled_from(TC), min_size=1, unique=True), st.data())
def test_removing_members_changes_n_in_every_threshold(rule: tuple[str, str],
                                                        members: list[str], data: Any) -> None:
    hashtag, expr = rule
    config, rules = example()
    smaller = shrink_body(config, "tc", members)
    k = len(smaller.bodies["tc"].members)
    voting = data.draw(st.lists(st.sampled_from(members), unique=True))
    files = ("charter.rst",) if hashtag == "charter-change" else ("resolutions/a.rst",)
    change = ChangeState.create(project=GOV, owner=account("hana"), first_revision_at=T0,
                                hashtags=[hashtag], files=files,
                                votes={RC: [Vote(account(p), 1, T0) for p in voting]})
    v = evaluate(change, smaller, rules, T0 + 8 * DAY)
    need = math.ceil(2 * k / 3) if hashtag == "charter-change" else math.ceil(k / 3)
    assert v.state == (READY if len(voting) >= need else PENDING)
    assert f"at least {need} ({expr} with n={k}) yes vote" in "\n".join(
        r.text for r in v.reasons)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(COUNCIL), min_size=1, unique=True), st.data())
def test_the_council_quorum_follows_its_size(members: list[str], data: Any) -> None:
    config, rules = example()
    smaller = shrink_body(config, "infra-council", members)
    voting = data.draw(st.lists(st.sampled_from(members), unique=True))
    change = ChangeState.create(project=INFRA, owner=account("yusuf"), first_revision_at=T0,
                                files=["a.yaml"],
                                votes={CR: [Vote(account(p), 1, T0) for p in voting]})
    v = evaluate(change, smaller, rules, T0)
    assert v.state == (READY if len(voting) >= len(members) // 2 + 1 else PENDING)


@settings(max_examples=100, deadline=None)
@given(situations(), st.randoms(use_true_random=False))
def test_equal_inputs_give_equal_verdicts(situation: tuple[Scenario, ChangeState, timedelta],
                                          rnd: Any) -> None:
    _, change, offset = situation
    config, rules = example()
    now = change.latest_revision_at + offset
    shuffled = {label: rnd.sample(list(v), len(v)) for label, v in change.votes.items()}
    again = ChangeState.create(project=change.project, owner=change.owner, number=9,
                               first_revision_at=change.first_revision_at,
                               latest_revision_at=change.latest_revision_at,
                               hashtags=reversed(change.hashtags),
                               files=reversed(change.files), votes=shuffled)
    first = evaluate(change, config, rules, now)
    assert first == evaluate(change, config, rules, now)
    assert first == evaluate(again, config, rules, now)
    assert fingerprint(first) == fingerprint(evaluate(again, config, rules, now))
