"""The `ci` requirement, pure: parsing in rules.yaml and evaluation against votes and
Zuul's comments, table-driven. No network, no clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from govbot.plugins.governance.change import Account, ChangeState, Message, Vote
from govbot.plugins.governance.ci import CiDefaults, ci_outcome
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.message import fingerprint, render
from govbot.plugins.governance.model import CiVerified
from govbot.plugins.governance.verdict import BLOCKED, MET, PENDING, READY
from tests.governance.kit import T0, account, config_with_rules, load, repo_with_rules

ZUUL = Account(account_id=998, username="zuul", name="Zuul")
OTHER_CI = Account(account_id=997, username="thirdparty-ci", name="Third-party CI")
LINK = "https://zuul.example.org/t/example/build/abc123"
FAILED = (f"Patch Set 2: Verified-1\n\nBuild failed (check pipeline).  For information on "
          f"how to proceed, see\nhttps://docs.example.org/ci\n\n- tox-py311 {LINK} : "
          "FAILURE in 3m 02s\n- tox-pep8 https://zuul.example.org/t/example/build/ok1 : "
          "SUCCESS in 1m 00s\n")
PASSED = ("Patch Set 2: Verified+1\n\nBuild succeeded (gate pipeline).\n\n- tox-py311 "
          "https://zuul.example.org/t/example/build/new : SUCCESS in 2m 10s\n")
OLD_PS = ("Patch Set 1: Verified-1\n\nBuild failed (check pipeline).\n\n- old-job "
          "https://zuul.example.org/t/example/build/old : FAILURE in 1s\n")


def _change(votes: list[Vote] | None = None, messages: list[Message] | None = None,
            label: str = "Verified") -> ChangeState:
    return ChangeState.create(project="example/infra-config", owner=account("lena"),
                              first_revision_at=T0, patchset=2,
                              votes={label: votes or []}, messages=messages or [])


def _msg(text: str, who: Account = ZUUL, patchset: int = 2, minutes: int = 10) -> Message:
    return Message.at(who, text, T0 + timedelta(minutes=minutes), patchset=patchset)


def _vote(value: int, who: Account = ZUUL, minutes: int = 10) -> Vote:
    return Vote(who, value, T0 + timedelta(minutes=minutes))


@pytest.mark.parametrize(("req", "change", "status", "says"), [
    (CiVerified(), _change(), PENDING, "Verified +1 from CI (zuul) on patch set 2: "
                                       "waiting for CI"),
    (CiVerified(), _change([_vote(0)]), PENDING, "waiting for CI"),
    (CiVerified(), _change([_vote(1)], [_msg(PASSED)]), MET,
     "Verified +1 (Build succeeded (gate pipeline).)"),
    (CiVerified(), _change([_vote(-1)], [_msg(FAILED)]), BLOCKED,
     f"CI voted Verified -1; Build failed (check pipeline). Failed: tox-py311 FAILURE {LINK}"),
    # the link comes from the latest report on THIS patch set, not an older one
    (CiVerified(), _change([_vote(-1)], [_msg(FAILED, minutes=5), _msg(OLD_PS, patchset=1)]),
     BLOCKED, f"tox-py311 FAILURE {LINK}"),
    # a recheck: Zuul failed, then passed; its one current vote is +1
    (CiVerified(), _change([_vote(1, minutes=30)],
                           [_msg(FAILED), _msg("Patch Set 2:\n\nrecheck", account("lena"), 2, 20),
                            _msg(PASSED, minutes=30)]), MET, "Build succeeded"),
    # another account's Verified vote is not Zuul's
    (CiVerified(), _change([_vote(-1, OTHER_CI), _vote(1)]), MET, "Verified +1"),
    (CiVerified(), _change([_vote(1, OTHER_CI)]), PENDING, "waiting for CI"),
    # a report with no job lines
    (CiVerified(), _change([_vote(-1)], [_msg("Patch Set 2: Verified-1\n\nMerge Failed.\n\n"
                                              "Please rebase.")]), BLOCKED,
     "CI voted Verified -1; Merge Failed."),
    (CiVerified(), _change([_vote(-1)]), BLOCKED, "no report from CI on this patch set"),
    # gate votes +2; a check +1 is not enough where +2 is required
    (CiVerified(at_least=2), _change([_vote(1)]), PENDING, "Verified +1 so far"),
    (CiVerified(at_least=2), _change([_vote(2)]), MET, "Verified +2"),
    # explicit label and account (by username or by account id)
    (CiVerified(label="CI", account="thirdparty-ci"),
     _change([_vote(1, OTHER_CI)], label="CI"), MET, "CI +1 from CI (thirdparty-ci)"),
    (CiVerified(account="997"), _change([_vote(-1, OTHER_CI)]), BLOCKED, "Verified -1"),
], ids=["no-vote", "zero", "passed", "failed", "this-patch-set", "recheck", "other-account",
        "only-other-account", "merge-failed", "no-report", "needs-2-has-1", "needs-2-has-2",
        "custom-label", "account-id"])
def test_ci_outcome(req: CiVerified, change: ChangeState, status: str, says: str) -> None:
    got_status, text = ci_outcome(req, change)
    assert got_status == status
    assert says in text


def test_many_failed_jobs_are_capped() -> None:
    jobs = "".join(f"- job{i} https://z/t/e/build/{i} : FAILURE in 1s\n" for i in range(8))
    text = ci_outcome(CiVerified(), _change(
        [_vote(-1)], [_msg(f"Patch Set 2: Verified-1\n\nBuild failed (check pipeline).\n"
                           f"https://z/t/e/buildset/bs\n\n{jobs}")]))[1]
    assert "job4 FAILURE" in text and "job5" not in text
    assert "and 3 more; all results: https://z/t/e/buildset/bs" in text


def test_defaults_come_from_the_operator() -> None:
    change = _change([_vote(1, OTHER_CI)], label="CI-Verified")
    assert ci_outcome(CiVerified(), change)[0] == PENDING
    assert ci_outcome(CiVerified(), change, CiDefaults("CI-Verified", "thirdparty-ci"))[0] == MET


RULES = """
rules:
  infra:
    select: {projects: [example/infra-config]}
    body: infra-council
    require:
      - quorum: 1
      - ci: true
"""


def test_a_rule_with_ci_gives_ready_only_with_zuuls_plus_one(tmp_path: Path) -> None:
    config, rules = config_with_rules(tmp_path, RULES)
    lena = Vote(account("lena"), 1, T0)
    pending = evaluate(ChangeState.create(
        project="example/infra-config", owner=account("marek"), first_revision_at=T0,
        votes={"Code-Review": [lena]}), config, rules, T0 + timedelta(hours=1))
    assert pending.state == PENDING and pending.next_check is None
    assert "- waiting: Verified +1 from CI (zuul) on patch set 1: waiting for CI" in render(
        pending)
    ready = evaluate(ChangeState.create(
        project="example/infra-config", owner=account("marek"), first_revision_at=T0,
        votes={"Code-Review": [lena], "Verified": [Vote(ZUUL, 1, T0)]}), config, rules,
        T0 + timedelta(hours=1))
    assert ready.state == READY
    assert fingerprint(pending) != fingerprint(ready)
    assert not ready.others  # Zuul's vote is not listed as a vote "not counted"


@pytest.mark.parametrize(("spec", "error"), [
    ("false", "'ci' must be true; to drop the requirement, delete the line"),
    ("3", "'ci' must be true, got an integer"),
    ("{labl: X}", "unknown key 'labl' in 'ci' (did you mean 'label'?)"),
    ("{at_least: 0}", "'at_least' must be at least 1, got 0"),
    ("{account: 'two words'}", "'account' must be a Gerrit username or account id, got "
                               "'two words'"),
    ("{label: 'bad label'}", "'label' must be a Gerrit label name, got 'bad label'"),
])
def test_ci_errors_name_the_line(tmp_path: Path, spec: str, error: str) -> None:
    result = load(repo_with_rules(tmp_path, RULES.replace("ci: true", f"ci: {spec}")))
    assert [str(e) for e in result.errors] == [f"rules.yaml:8: {error}"]


@pytest.mark.parametrize(("spec", "expected"), [
    ("true", CiVerified()),
    ("{}", CiVerified()),
    ("{label: CI, account: 1000042, at_least: 2}", CiVerified("CI", "1000042", 2)),
    ("{account: opendev-zuul}", CiVerified(account="opendev-zuul")),
])
def test_ci_forms(tmp_path: Path, spec: str, expected: CiVerified) -> None:
    _, rules = config_with_rules(tmp_path, RULES.replace("ci: true", f"ci: {spec}"))
    assert rules.rules[0].require.items[-1] == expected


def test_from_change_info_reads_messages_and_stays_compatible() -> None:
    base = {"project": "example/infra-config", "branch": "master", "_number": 5,
            "owner": {"_account_id": 1}, "created": "2026-11-02 09:00:00.000000000",
            "current_revision": "abc", "revisions": {"abc": {"_number": 2}}}
    assert ChangeState.from_change_info(base).messages == ()  # no MESSAGES asked for
    info = {**base, "messages": [
        {"id": "m1", "author": {"_account_id": 998, "username": "zuul"},
         "date": "2026-11-02 09:10:00.000000000", "message": PASSED,
         "tag": "autogenerated:zuul:gate", "_revision_number": 2},
        {"id": "m2", "date": "2026-11-02 09:11:00.000000000", "message": "Uploaded"},
        "junk"]}
    first, second = ChangeState.from_change_info(info).messages
    assert first.author.username == "zuul" and first.patchset == 2
    assert first.tag == "autogenerated:zuul:gate" and first.text == PASSED
    assert first.date == T0.replace(day=2, hour=9, minute=10, month=11)
    assert second.author == Account() and second.patchset is None
