"""Every row of the TC house rules (notes/house-rules.md), with n = 9, against the example
etc/governance/rules.yaml. Each known mistake of the old hand-run script is its own case.

TC: ada (chair), bruno, chiara, dmitri, eun-ji, farah, gustavo, hana, ivo. Proposers are
TC members unless said otherwise; `hana` proposes by default.
"""

from __future__ import annotations

from typing import Any

import pytest

from govbot.plugins.governance.verdict import BLOCKED, PENDING, READY, UNGOVERNED
from tests.governance.kit import (
    CR,
    DAY,
    GOV,
    OUTSIDER,
    RC,
    T0,
    TC,
    WF,
    account,
    change,
    reasons,
    verdict,
    votes,
)

AFTER_A_WEEK = T0 + 8 * DAY
RESOLUTION = ["resolutions/20261122-a-motion.rst"]
CHARTER = ["reference/charter.rst"]


def yes(*people: str) -> dict[str, int]:
    return dict.fromkeys(people, 1)


def tally(yes_: int, no: int = 0, abstain: int = 0, *, skip: tuple[str, ...] = ()
          ) -> dict[str, int]:
    """The first `yes_` members (in TC order, skipping some) vote +1, the next `no` -1..."""
    people = [p for p in TC if p not in skip]
    values = [1] * yes_ + [-1] * no + [0] * abstain
    return dict(zip(people, values, strict=False))


Case = tuple[dict[str, Any], Any, str, str]  # change kwargs, now, state, text in reasons

CASES: dict[str, Case] = {
    # --- formal-vote: 7 days, yes > no (a tie rejects), yes >= ceil(9/3) = 3 ---------------
    "formal-vote/3-yes-after-a-week-ready": (
        dict(hashtags=["formal-vote"], files=RESOLUTION, rollcall=tally(3)),
        AFTER_A_WEEK, READY, "at least 3 (ceil(n/3) with n=9) yes votes: 3 yes"),
    "formal-vote/2-yes-pending": (
        dict(hashtags=["formal-vote"], files=RESOLUTION, rollcall=tally(2)),
        AFTER_A_WEEK, PENDING, "2 so far"),
    "formal-vote/enough-votes-before-7-days-pending": (
        dict(hashtags=["formal-vote"], files=RESOLUTION, rollcall=tally(5)),
        T0 + 6 * DAY, PENDING, "not before 2026-11-29 10:00 UTC"),
    "formal-vote/tie-rejects-when-all-voted": (
        dict(hashtags=["formal-vote"], rollcall=tally(4, 4, 1)),
        AFTER_A_WEEK, BLOCKED, "rejected: 4 yes, 4 no with 0 members left to vote; "
                               "a tie rejects"),
    "formal-vote/tie-so-far-is-pending": (
        dict(hashtags=["formal-vote"], rollcall=tally(3, 3)),
        AFTER_A_WEEK, PENDING, "3 yes, 3 no so far (a tie rejects)"),
    "formal-vote/more-no-than-yes-blocked": (
        dict(hashtags=["formal-vote"], rollcall=tally(4, 5)),
        AFTER_A_WEEK, BLOCKED, "more no than yes"),
    "formal-vote/owner-votes-count": (  # TC members vote on their own motions too
        dict(hashtags=["formal-vote"], owner="ada", rollcall=yes("ada", "bruno", "chiara")),
        AFTER_A_WEEK, READY, "3 yes"),
    "formal-vote/code-review-minus-1-is-not-dissent": (
        dict(hashtags=["formal-vote"], rollcall=tally(3),
             code_review=dict.fromkeys(TC[3:], -1)),
        AFTER_A_WEEK, READY, "more yes than no: 3 yes, 0 no"),
    "formal-vote/code-review-plus-1-is-not-a-yes": (
        dict(hashtags=["formal-vote"], rollcall=tally(2), code_review=yes(*TC)),
        AFTER_A_WEEK, PENDING, "2 so far"),
    # --- new-project: a formal vote (the old script wanted 2 votes) --------------------
    "new-project/2-yes-is-not-enough": (
        dict(hashtags=["new-project"], rollcall=tally(2)), AFTER_A_WEEK, PENDING, "2 so far"),
    "new-project/needs-7-days": (
        dict(hashtags=["new-project"], rollcall=tally(3)), T0 + 3 * DAY, PENDING,
        "open at least 7 days since the first revision"),
    "new-project/3-yes-after-a-week-ready": (
        dict(hashtags=["new-project"], rollcall=tally(3)), AFTER_A_WEEK, READY,
        "more yes than no: 3 yes, 0 no"),
    # --- charter-change: yes >= ceil(2*9/3) = 6 (the old script wanted 7) ---------------
    "charter-change/5-yes-pending": (
        dict(hashtags=["charter-change"], files=CHARTER, rollcall=tally(5)),
        AFTER_A_WEEK, PENDING, "at least 6 (ceil(2*n/3) with n=9) yes votes: 5 so far"),
    "charter-change/6-yes-ready": (
        dict(hashtags=["charter-change"], files=CHARTER, rollcall=tally(6)),
        AFTER_A_WEEK, READY, "6 yes"),
    "charter-change/6-yes-3-no-ready": (
        dict(hashtags=["charter-change"], files=CHARTER, rollcall=tally(6, 3)),
        AFTER_A_WEEK, READY, "6 yes, 3 no"),
    "charter-change/4-no-cannot-reach-6": (
        dict(hashtags=["charter-change"], files=CHARTER, rollcall=tally(3, 4)),
        AFTER_A_WEEK, BLOCKED, "cannot be reached, 3 yes and only 2 member(s) left"),
    # --- goal-proposal, code-change, documentation-change, election-results -------------
    **{f"{tag}/2-yes-not-owner-ready": (
        dict(hashtags=[tag], rollcall=yes("ada", "bruno")), T0 + DAY, READY,
        "at least 2 yes votes from members other than the owner: 2 yes")
       for tag in ("goal-proposal", "code-change", "documentation-change", "election-results")},
    **{f"{tag}/owner-yes-does-not-count": (
        dict(hashtags=[tag], owner="hana", rollcall=yes("hana", "bruno")), T0 + DAY, PENDING,
        "1 so far") for tag in ("goal-proposal", "code-change", "documentation-change",
                                "election-results")},
    **{f"{tag}/a-rollcall-minus-1-blocks": (
        dict(hashtags=[tag], rollcall={"ada": 1, "bruno": 1, "chiara": -1}), T0 + DAY,
        BLOCKED, "objection from Chiara Benedetti (-1)")
       for tag in ("goal-proposal", "code-change", "documentation-change", "election-results")},
    "code-change/code-review-minus-1-does-not-block": (
        dict(hashtags=["code-change"], rollcall=yes("ada", "bruno"), code_review={"ivo": -1}),
        T0 + DAY, READY, "no objection from any member"),
    "code-change/non-member-minus-1-does-not-block": (
        dict(hashtags=["code-change"], rollcall=yes("ada", "bruno"),
             extra={RC: votes({OUTSIDER: -1})}),
        T0 + DAY, READY, "no objection"),
    # --- typo-fix: ONE member other than the proposer approves (the old script wanted 2)
    "typo-fix/one-approver-ready": (
        dict(hashtags=["typo-fix"], workflow=yes("bruno")), T0, READY,
        "at least 1 yes vote from members other than the owner: 1 yes"),
    "typo-fix/owner-approving-own-change-pending": (
        dict(hashtags=["typo-fix"], owner="bruno", workflow=yes("bruno")), T0, PENDING,
        "0 so far"),
    "typo-fix/non-member-approval-pending": (
        dict(hashtags=["typo-fix"], owner="bruno", workflow=yes("priya")), T0, PENDING,
        "0 so far"),
    # --- project-update: 2 Rollcall +1 (not the owner's) AND the team PTL's Code-Review -
    "project-update/2-yes-and-ptl-ready": (
        dict(hashtags=["project-update", "team:compute"], rollcall=yes("ada", "bruno"),
             code_review={"priya": 1}), T0, READY,
        "Code-Review +1 or more from the PTL or a liaison of team compute: Priya Raman voted +1"),
    "project-update/2-yes-without-ptl-pending": (
        dict(hashtags=["project-update", "team:compute"], rollcall=yes("ada", "bruno")),
        T0, PENDING, "waiting for Priya Raman, Quentin Moreau"),
    "project-update/liaison-as-delegate-ready": (
        dict(hashtags=["project-update", "team:compute"], rollcall=yes("ada", "bruno"),
             code_review={"quentin": 1}), T0, READY, "Quentin Moreau voted +1"),
    "project-update/another-teams-ptl-does-not-count": (
        dict(hashtags=["project-update", "team:compute"], rollcall=yes("ada", "bruno"),
             code_review={"kofi": 1, "rosa": 1}), T0, PENDING, "waiting for Priya Raman"),
    "project-update/ptl-minus-1-blocks": (
        dict(hashtags=["project-update", "team:compute"], rollcall=yes("ada", "bruno"),
             code_review={"priya": -1}), T0, BLOCKED, "Priya Raman voted -1"),
    "project-update/ptl-without-roll-call-pending": (
        dict(hashtags=["project-update", "team:compute"], rollcall=yes("bruno"),
             code_review={"priya": 1}), T0, PENDING, "1 so far"),
    "project-update/owner-rollcall-not-counted": (
        dict(hashtags=["project-update", "team:compute"], owner="ada",
             rollcall=yes("ada", "bruno"), code_review={"priya": 1}), T0, PENDING,
        "from members other than the owner: 1 so far"),
    "project-update/objection-blocks": (
        dict(hashtags=["project-update", "team:compute"],
             rollcall={"ada": 1, "bruno": 1, "ivo": -1}, code_review={"priya": 1}),
        T0, BLOCKED, "objection from Ivo Marinov (-1)"),
    "project-update/no-team-hashtag-blocked": (
        dict(hashtags=["project-update"], rollcall=yes("ada", "bruno"),
             code_review={"priya": 1}), T0, BLOCKED,
        "set the hashtag 'team:<team>' naming the team whose ptl or liaison must vote"),
    "project-update/unknown-team-hashtag-blocked": (
        dict(hashtags=["project-update", "team:comptue"], rollcall=yes("ada", "bruno")),
        T0, BLOCKED, "the hashtag 'team:comptue' names no team of the projects file "
                     "(did you mean 'compute'?)"),
    "project-update/two-team-hashtags-blocked": (
        dict(hashtags=["project-update", "team:compute", "team:docs"]), T0, BLOCKED,
        "name several teams; keep exactly one"),
    # --- liaison-update: the PTL's Code-Review, then any member approves; no roll call --
    "liaison-update/ptl-and-member-approval-ready": (
        dict(hashtags=["liaison-update", "team:docs"], owner=account("wanjiru"),
             code_review={"wanjiru": 1}, workflow=yes("chiara")), T0, READY,
        "Wanjiru Kamau voted +1"),
    "liaison-update/member-approval-without-ptl-pending": (
        dict(hashtags=["liaison-update", "team:docs"], workflow=yes("chiara")), T0, PENDING,
        "waiting for Wanjiru Kamau"),
    "liaison-update/ptl-without-approval-pending": (
        dict(hashtags=["liaison-update", "team:docs"], code_review={"wanjiru": 1}), T0,
        PENDING, "at least 1 yes vote: 0 so far"),
    "liaison-update/rollcall-is-not-needed": (
        dict(hashtags=["liaison-update", "team:compute"], code_review={"priya": 1},
             workflow=yes("ivo")), T0, READY, "Priya Raman voted +1"),
    # --- goal-update: lazy consensus, 7 quiet days after the latest revision -------------
    "goal-update/quiet-week-ready": (
        dict(hashtags=["goal-update"], latest=T0 + 2 * DAY), T0 + 9 * DAY, READY,
        "lazy consensus: no objection 7 days after the latest revision"),
    "goal-update/before-the-week-pending": (
        dict(hashtags=["goal-update"], latest=T0 + 2 * DAY), T0 + 8 * DAY, PENDING,
        "ready 2026-12-01 10:00 UTC if no member objects"),
    "goal-update/objection-blocks": (
        dict(hashtags=["goal-update"], rollcall={"bruno": -1}), T0 + 30 * DAY, BLOCKED,
        "lazy consensus failed: objection from Bruno Okafor (-1)"),
    "goal-update/code-review-minus-1-is-no-objection": (
        dict(hashtags=["goal-update"], code_review={"bruno": -1}), T0 + 7 * DAY, READY,
        "no objection"),
    # --- release-management: proposed or approved by the RM PTL, then the chair --------
    "release-management/proposed-by-ptl-chair-approves-ready": (
        dict(hashtags=["release-management"], owner=account("yusuf"), workflow=yes("ada")),
        T0, READY, "proposed by Yusuf Demir"),
    "release-management/approved-by-ptl-chair-approves-ready": (
        dict(hashtags=["release-management"], owner="bruno", code_review={"yusuf": 1},
             workflow=yes("ada")), T0, READY, "Yusuf Demir voted +1"),
    "release-management/chair-without-ptl-pending": (
        dict(hashtags=["release-management"], owner="bruno", workflow=yes("ada")), T0,
        PENDING, "waiting for Yusuf Demir"),
    "release-management/ptl-without-chair-pending": (
        dict(hashtags=["release-management"], owner=account("yusuf"),
             workflow=yes("bruno")), T0, PENDING,
        "Workflow +1 or more from the chair of Technical Committee: waiting for Ada"),
    # --- revert of a fast-tracked change: any member other than the proposer -----------
    "revert/one-approver-ready": (
        dict(hashtags=["revert"], owner="ivo", workflow=yes("dmitri")), T0, READY, "1 yes"),
    "revert/own-approval-pending": (
        dict(hashtags=["revert"], owner="ivo", workflow=yes("ivo")), T0, PENDING,
        "0 so far"),
}


@pytest.mark.parametrize(("kwargs", "now", "state", "text"), list(CASES.values()),
                         ids=list(CASES))
def test_house_rule(kwargs: dict[str, Any], now: Any, state: str, text: str) -> None:
    v = verdict(change(**kwargs), now)
    assert v.state == state, reasons(v)
    assert text in reasons(v), reasons(v)


@pytest.mark.parametrize(("hashtag", "rule"), [
    ("formal-vote", "formal-vote"), ("new-project", "formal-vote"),
    ("charter-change", "charter-change"), ("goal-proposal", "normal-review"),
    ("code-change", "normal-review"), ("documentation-change", "normal-review"),
    ("election-results", "normal-review"), ("typo-fix", "typo-fix"),
    ("project-update", "project-update"), ("liaison-update", "liaison-update"),
    ("goal-update", "goal-update"), ("release-management", "release-management"),
    ("revert", "revert"),
])
def test_each_category_selects_its_rule(hashtag: str, rule: str) -> None:
    files = CHARTER if hashtag == "charter-change" else ["reference/projects.yaml"]
    assert verdict(change(hashtags=[hashtag, "team:compute"], files=files), T0).rule == rule


def test_non_member_votes_are_shown_but_not_counted() -> None:
    ch = change(hashtags=["formal-vote"], rollcall={"ada": 1, "bruno": 1, "priya": 1},
                extra={RC: votes({OUTSIDER: 1})})
    v = verdict(ch, AFTER_A_WEEK)
    assert v.state == PENDING
    assert "2 so far" in reasons(v)
    assert [(o.who, o.label, o.value, o.why) for o in v.others] == [
        ("Priya Raman", RC, 1, "not a member of Technical Committee"),
        ("Zoe Outsider", RC, 1, "not a member of Technical Committee")]
    assert {r.person for r in v.members} == set(TC)


@pytest.mark.parametrize("fields", [
    {"account_id": 1000002}, {"username": "BOKAFOR"}, {"email": "Bruno@Example.org"},
], ids=["account-id", "username", "email"])
def test_votes_map_to_people_by_any_gerrit_identity(fields: dict[str, Any]) -> None:
    from govbot.plugins.governance.change import Account, Vote
    ch = change(hashtags=["code-change"], rollcall={"ada": 1},
                extra={RC: [Vote(Account(**fields), 1, T0)]})
    v = verdict(ch, T0 + DAY)
    assert v.state == READY, reasons(v)
    assert next(r for r in v.members if r.person == "bruno").value == 1


def test_per_member_table_says_what_counted_and_why() -> None:
    ch = change(hashtags=["code-change"], owner="hana",
                rollcall={"hana": 1, "ada": 1, "bruno": -1, "chiara": 0})
    rows = {r.person: (r.value, r.counted, r.why) for r in verdict(ch, T0).members}
    assert rows["hana"] == (1, False, "owner: not counted")
    assert rows["ada"] == (1, True, "yes")
    assert rows["bruno"] == (-1, True, "no")
    assert rows["chiara"] == (0, True, "abstains")
    assert rows["ivo"] == (None, False, "no vote yet")


def test_missing_voters_are_the_members_who_have_not_voted() -> None:
    ch = change(hashtags=["code-change"], owner="hana", rollcall={"ada": 1, "chiara": 0})
    v = verdict(ch, T0)
    assert [m.person for m in v.missing] == [
        "bruno", "dmitri", "eun-ji", "farah", "gustavo", "ivo"]


def test_a_ready_verdict_names_nobody_as_missing() -> None:
    v = verdict(change(hashtags=["code-change"], rollcall=yes("ada", "bruno")), T0)
    assert v.state == READY and v.missing == () and v.earliest is None


def test_a_project_nobody_governs_is_ungoverned() -> None:
    v = verdict(change(project="example/elsewhere", rollcall=yes(*TC)), T0)
    assert v.state == UNGOVERNED and v.rule is None


def test_code_review_votes_never_count_toward_the_roll_call() -> None:
    only_cr = change(hashtags=["code-change"], code_review={"ada": 2, "bruno": 2})
    assert verdict(only_cr, T0).state == PENDING
    assert GOV == only_cr.project and CR in only_cr.votes and WF not in only_cr.votes
