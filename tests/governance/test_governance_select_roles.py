"""Selecting changes (project regex, branch, topic, owner, first rule wins) and finding role
holders in the projects file (the owning team's PTL, a named team's liaison, the leaders of
a distributed-leadership team, a PTL known only by email)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from govbot.config.model import GovernanceConfig, Team
from govbot.plugins.governance.change import Account, ChangeState, Vote
from govbot.plugins.governance.model import RulesConfig
from govbot.plugins.governance.verdict import (
    BLOCKED,
    PENDING,
    READY,
    UNGOVERNED,
    Verdict,
    Voter,
)
from tests.governance.kit import CR, T0, account, config_with_rules, reasons, verdict

RULES = """\
    rules:
      nova-specs:
        description: Specs need the PTL of the team owning the repository
        select:
          projects: ['^example/nova.*']
          branches: [master]
          topics: ['^spec-.+']
        require:
          - role: {role: ptl, team_of: project}
      release-liaison:
        select: {projects: [example/python-novaclient], owners: [quentin, rosa]}
        require:
          - role: {role: 'liaison:release', team: compute}
      leaders:
        select: {projects: ['^example/(docs|contributor-guide)']}
        require:
          - role: {role: leader, team_of: project}
      fallback:
        select: {projects: ['^example/.*']}
        body: nova-core
        require:
          - yes_votes: 1
"""


@pytest.fixture
def setup(tmp_path: Path) -> tuple[GovernanceConfig, RulesConfig]:
    return config_with_rules(tmp_path, RULES)


def evaluate_change(setup: tuple[GovernanceConfig, RulesConfig], *, project: str,
                    owner: str = "sven", branch: str = "master", topic: str | None = None,
                    cr: dict[str, int] | None = None, extra: list[Vote] | None = None,
                    config: GovernanceConfig | None = None) -> Verdict:
    ch = ChangeState.create(project=project, owner=account(owner), branch=branch,
                            topic=topic, first_revision_at=T0,
                            votes={CR: [*(Vote(account(p), v, T0) for p, v in
                                          (cr or {}).items()), *(extra or [])]})
    return verdict(ch, T0, config=config or setup[0], rules=setup[1])


@pytest.mark.parametrize(("project", "branch", "topic", "rule"), [
    ("example/nova-specs", "master", "spec-live-migration", "nova-specs"),
    ("example/nova", "refs/heads/master", "spec-x", "nova-specs"),
    ("example/nova-specs", "stable/2026.1", "spec-x", "fallback"),
    ("example/nova-specs", "master", "bugfix", "fallback"),
    ("example/nova-specs", "master", None, "fallback"),
    ("other/nova", "master", "spec-x", None),
])
def test_selection_by_project_branch_and_topic(setup: tuple[GovernanceConfig, RulesConfig],
                                               project: str, branch: str, topic: str | None,
                                               rule: str | None) -> None:
    v = evaluate_change(setup, project=project, branch=branch, topic=topic)
    assert v.rule == rule
    assert (v.state == UNGOVERNED) == (rule is None)


def test_the_ptl_of_the_team_owning_the_project(setup: tuple[GovernanceConfig, RulesConfig]
                                                ) -> None:
    ready = evaluate_change(setup, project="example/nova-specs", topic="spec-x",
                            cr={"priya": 1, "rosa": -1})
    assert ready.state == READY
    assert "Code-Review +1 or more from the PTL of team compute: Priya Raman voted +1" \
        in reasons(ready)
    waiting = evaluate_change(setup, project="example/nova-specs", topic="spec-x",
                              cr={"rosa": 1, "kofi": 1})
    assert waiting.state == PENDING
    assert waiting.missing == (Voter("priya", "Priya Raman"),)


def test_a_project_no_team_owns_has_no_ptl(setup: tuple[GovernanceConfig, RulesConfig]
                                           ) -> None:
    v = evaluate_change(setup, project="example/nova-extras", topic="spec-x", cr={"priya": 1})
    assert v.state == BLOCKED
    assert "no team in the projects file owns example/nova-extras, so there is no ptl to " \
           "vote" in reasons(v)


def test_owners_select_and_a_named_liaison_role(setup: tuple[GovernanceConfig, RulesConfig]
                                                ) -> None:
    mine = evaluate_change(setup, project="example/python-novaclient", owner="rosa",
                           cr={"quentin": 1})
    assert mine.rule == "release-liaison" and mine.state == READY
    assert "from the release liaison of team compute: Quentin Moreau voted +1" \
        in reasons(mine)
    other = evaluate_change(setup, project="example/python-novaclient", owner="tomas",
                            cr={"quentin": 1})
    assert other.rule == "fallback"


def _docs_team(config: GovernanceConfig, **changes: object) -> GovernanceConfig:
    teams = dict(config.teams)
    teams["docs"] = dataclasses.replace(config.teams["docs"], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(config, teams=teams)


def test_leaders_of_a_distributed_team_are_its_liaisons(
        setup: tuple[GovernanceConfig, RulesConfig]) -> None:
    config = _docs_team(setup[0], leadership="distributed", ptl={}, liaisons=(
        {"role": "tc-liaison", "name": "Yusuf Demir", "email": "yusuf@example.org",
         "person": "yusuf"},))
    assert evaluate_change(setup, project="example/docs", cr={"wanjiru": 1},
                           config=config).state == PENDING
    v = evaluate_change(setup, project="example/docs", cr={"yusuf": 1}, config=config)
    assert v.state == READY
    assert "a liaison (distributed leadership) of team docs: Yusuf Demir voted +1" \
        in reasons(v)


def test_leader_of_a_ptl_team_is_the_ptl(setup: tuple[GovernanceConfig, RulesConfig]) -> None:
    v = evaluate_change(setup, project="example/contributor-guide", cr={"wanjiru": 1})
    assert v.state == READY


def test_a_ptl_unknown_to_people_yaml_is_matched_by_email(
        setup: tuple[GovernanceConfig, RulesConfig]) -> None:
    config = _docs_team(setup[0], ptl={"name": "Pat External", "email": "pat@ext.example"})
    assert isinstance(config.teams["docs"], Team)
    waiting = evaluate_change(setup, project="example/docs", config=config)
    assert waiting.missing == (Voter(None, "Pat External"),)
    pat = Vote(Account(account_id=3000001, email="PAT@ext.example"), 1, T0)
    ready = evaluate_change(setup, project="example/docs", extra=[pat], config=config)
    assert ready.state == READY
    assert ready.others == ()


def test_votes_of_non_holders_on_a_role_label_are_shown_not_counted(
        setup: tuple[GovernanceConfig, RulesConfig]) -> None:
    v = evaluate_change(setup, project="example/nova-specs", topic="spec-x",
                        cr={"rosa": 1, "kofi": -1})
    assert v.state == PENDING
    assert [(o.who, o.value, o.why) for o in v.others] == [
        ("Kofi Mensah", -1, "does not hold the role"),
        ("Rosa Jiménez", 1, "does not hold the role")]
