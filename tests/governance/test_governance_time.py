"""Time in the rules: open periods from the first or the latest revision (explicit in
config), lazy consensus, cool-off, and the `earliest` / `next_check` a verdict reports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from govbot.plugins.governance.verdict import BLOCKED, PENDING, READY
from tests.governance.kit import (
    DAY,
    T0,
    TC,
    change,
    config_with_rules,
    reasons,
    verdict,
    votes,
)

WEEK = 7 * DAY
SECOND = timedelta(seconds=1)


# --- first vs latest revision ------------------------------------------------------------

def test_a_new_patch_set_does_not_restart_the_week_counted_from_the_first_revision() -> None:
    ch = change(hashtags=["formal-vote"], rollcall=dict.fromkeys(TC[:3], 1),
                latest=T0 + 5 * DAY, patchset=4)
    assert verdict(ch, T0 + WEEK - SECOND).state == PENDING
    v = verdict(ch, T0 + WEEK)
    assert v.state == READY, reasons(v)
    assert "open at least 7 days since the first revision (2026-11-22 10:00 UTC)" in reasons(v)


LATEST_RULES = """\
    rules:
      formal-vote:
        select: {projects: [example/governance]}
        body: tc
        require:
          - open: {days: 7, since: latest-revision}
          - yes_votes: ceil(n/3)
"""


def test_the_week_counts_from_the_latest_revision_when_the_config_says_so(
        tmp_path: Path) -> None:
    config, rules = config_with_rules(tmp_path, LATEST_RULES)
    ch = change(rollcall=dict.fromkeys(TC[:3], 1), latest=T0 + 5 * DAY, patchset=2)
    early = verdict(ch, T0 + 8 * DAY, config=config, rules=rules)
    assert early.state == PENDING
    assert early.earliest == early.next_check == T0 + 12 * DAY
    assert "open at least 7 days since the latest revision: not before 2026-12-04 10:00 UTC" \
        in reasons(early)
    assert verdict(ch, T0 + 12 * DAY, config=config, rules=rules).state == READY


# --- earliest and next_check -------------------------------------------------------------

def test_enough_votes_before_the_week_wait_for_the_mark() -> None:
    v = verdict(change(hashtags=["formal-vote"], rollcall=dict.fromkeys(TC[:5], 1)),
                T0 + 2 * DAY)
    assert v.state == PENDING
    assert v.earliest == v.next_check == T0 + WEEK
    assert v.missing == ()  # the votes are there; only time is missing


def test_missing_votes_and_time_report_the_time_bound_and_the_voters() -> None:
    v = verdict(change(hashtags=["formal-vote"], rollcall={"ada": 1}), T0 + 2 * DAY)
    assert v.state == PENDING
    assert v.earliest == T0 + WEEK  # the soonest it could pass if the votes came now
    assert v.next_check == T0 + WEEK  # the message changes when the week is over
    assert len(v.missing) == 8


def test_after_the_mark_with_votes_missing_there_is_nothing_to_wake_for() -> None:
    v = verdict(change(hashtags=["formal-vote"], rollcall={"ada": 1}), T0 + 9 * DAY)
    assert v.state == PENDING and v.earliest is None and v.next_check is None


def test_ready_and_blocked_verdicts_have_no_earliest() -> None:
    ready = verdict(change(hashtags=["code-change"], rollcall={"ada": 1, "bruno": 1}), T0)
    blocked = verdict(change(hashtags=["code-change"], rollcall={"ada": -1}), T0)
    assert (ready.state, ready.earliest, ready.next_check) == (READY, None, None)
    assert (blocked.state, blocked.earliest, blocked.next_check) == (BLOCKED, None, None)


# --- lazy consensus ----------------------------------------------------------------------

@pytest.mark.parametrize(("offset", "state"), [
    (WEEK - SECOND, PENDING), (WEEK, READY), (WEEK + SECOND, READY),
])
def test_lazy_consensus_flips_exactly_7_days_after_the_latest_revision(
        offset: timedelta, state: str) -> None:
    latest = T0 + 3 * DAY
    v = verdict(change(hashtags=["goal-update"], latest=latest, patchset=3), latest + offset)
    assert v.state == state
    if state == PENDING:
        assert v.earliest == v.next_check == latest + WEEK


def test_lazy_consensus_restarts_with_a_new_revision() -> None:
    quiet = change(hashtags=["goal-update"])
    assert verdict(quiet, T0 + 8 * DAY).state == READY
    revised = change(hashtags=["goal-update"], latest=T0 + 6 * DAY, patchset=2)
    assert verdict(revised, T0 + 8 * DAY).state == PENDING


# --- cool-off ----------------------------------------------------------------------------

COOL_RULES = """\
    rules:
      motion:
        select: {projects: [example/governance]}
        body: tc
        require:
          - yes_votes: {at_least: ceil(n/3), cool_off: {days: 3}}
"""


def test_cool_off_counts_from_the_vote_that_met_the_threshold(tmp_path: Path) -> None:
    config, rules = config_with_rules(tmp_path, COOL_RULES)
    from govbot.plugins.governance.change import ChangeState
    base = change()
    ballot = [*votes({"ada": 1}, T0 + DAY), *votes({"bruno": 1}, T0 + 2 * DAY),
              *votes({"chiara": 1}, T0 + 4 * DAY), *votes({"dmitri": 1}, T0 + 5 * DAY)]
    ch = ChangeState.create(project=base.project, owner=base.owner, first_revision_at=T0,
                            votes={"Rollcall-Vote": ballot})
    waiting = verdict(ch, T0 + 6 * DAY, config=config, rules=rules)
    assert waiting.state == PENDING
    assert waiting.earliest == waiting.next_check == T0 + 7 * DAY  # 3rd yes + 3 days
    assert "reached 2026-11-26 10:00 UTC, then a 3 days cool-off until 2026-11-29 10:00 UTC" \
        in reasons(waiting)
    assert verdict(ch, T0 + 7 * DAY, config=config, rules=rules).state == READY


def test_cool_off_not_started_has_no_time_bound_yet(tmp_path: Path) -> None:
    config, rules = config_with_rules(tmp_path, COOL_RULES)
    v = verdict(change(rollcall={"ada": 1}), T0 + DAY, config=config, rules=rules)
    assert v.state == PENDING and v.earliest is None and v.next_check is None
    assert "1 so far; then a 3 days cool-off" in reasons(v)


# --- any: alternatives -------------------------------------------------------------------

ANY_RULES = """\
    rules:
      either:
        select: {projects: [example/governance]}
        body: tc
        require:
          - any:
              - yes_votes: 5
              - all:
                  - open: {days: 3, since: first-revision}
                  - yes_votes: 2
"""


def test_any_is_met_by_the_first_alternative_that_is(tmp_path: Path) -> None:
    config, rules = config_with_rules(tmp_path, ANY_RULES)
    fast = verdict(change(rollcall=dict.fromkeys(TC[:5], 1)), T0, config=config, rules=rules)
    assert fast.state == READY
    slow = verdict(change(rollcall=dict.fromkeys(TC[:2], 1)), T0 + DAY, config=config,
                   rules=rules)
    assert slow.state == PENDING
    assert slow.earliest is None  # 3 more votes could make it ready right now
    assert slow.next_check == T0 + 3 * DAY
    assert [(r.depth, r.status) for r in slow.reasons] == [
        (0, PENDING), (1, PENDING), (1, PENDING), (1, "met")]
    assert verdict(change(rollcall=dict.fromkeys(TC[:2], 1)), T0 + 3 * DAY, config=config,
                   rules=rules).state == READY
