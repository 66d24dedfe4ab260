"""The category guard: a change in example/governance carries exactly one known category
hashtag, and the files it touches may require a particular one. Each BLOCKED reason names
the exact hashtag to set or remove."""

from __future__ import annotations

import pytest

from govbot.plugins.governance.evaluate import check_categories
from govbot.plugins.governance.verdict import BLOCKED, READY
from tests.governance.kit import COMPUTE, DAY, T0, TC, change, example, reasons, verdict

ALL = ("'formal-vote', 'new-project', 'charter-change', 'goal-proposal', 'code-change', "
       "'documentation-change', 'election-results', 'typo-fix', 'project-update', "
       "'liaison-update', 'goal-update', 'release-management' or 'revert'")


@pytest.mark.parametrize(("hashtags", "files", "expected"), [
    pytest.param(["formal-vote"], ["reference/charter.rst"],
                 "the change touches reference/charter.rst, which needs the hashtag "
                 "'charter-change', not 'formal-vote': set 'charter-change' and remove "
                 "'formal-vote'", id="charter-under-formal-vote"),
    pytest.param(["typo-fix"], ["charter.rst", "README.rst"],
                 "the change touches charter.rst, which needs the hashtag 'charter-change', "
                 "not 'typo-fix': set 'charter-change' and remove 'typo-fix'",
                 id="charter-under-typo-fix"),
    pytest.param([], ["reference/charter.rst"],
                 "set the hashtag 'charter-change': the change touches reference/charter.rst",
                 id="missing-with-charter-file"),
    pytest.param([], ["resolutions/2026-x.rst"],
                 "set the hashtag 'formal-vote' or 'typo-fix': the change touches "
                 "resolutions/2026-x.rst", id="missing-with-resolution"),
    pytest.param([], ["README.rst"], f"set exactly one category hashtag: {ALL}",
                 id="missing"),
    pytest.param(["formal_vote"], ["README.rst"],
                 f"unknown hashtag 'formal_vote' (did you mean 'formal-vote'?): remove it; "
                 f"the categories here are {ALL}", id="unknown"),
    pytest.param(["formal-vote", "typo-fix"], ["README.rst"],
                 "contradictory category hashtags 'formal-vote' and 'typo-fix': keep exactly "
                 "one", id="contradictory"),
    pytest.param(["formal-vote", "charter-change"], ["reference/charter.rst"],
                 "contradictory category hashtags 'formal-vote' and 'charter-change': keep "
                 "exactly one; keep 'charter-change'", id="contradictory-with-charter"),
    pytest.param(["charter-change"], ["reference/charter.rst", "resolutions/x.rst"],
                 "the change touches files of different categories (reference/charter.rst "
                 "needs 'charter-change'; resolutions/x.rst needs 'formal-vote' or "
                 "'typo-fix'): split it into one change per category",
                 id="files-of-two-categories"),
])
def test_a_wrong_category_blocks_naming_the_hashtag(hashtags: list[str], files: list[str],
                                                     expected: str) -> None:
    v = verdict(change(hashtags=hashtags, files=files, rollcall=dict.fromkeys(TC, 1)),
                T0 + 30 * DAY)
    assert v.state == BLOCKED
    assert v.rule is None and v.description == "category hashtag check"
    assert expected in [r.text for r in v.reasons], reasons(v)


def test_unknown_and_missing_are_both_reported() -> None:
    v = verdict(change(hashtags=["urgent"], files=["README.rst"]), T0)
    assert [r.text.split(":")[0] for r in v.reasons] == [
        "unknown hashtag 'urgent'", "set exactly one category hashtag"]


def test_the_right_category_passes_the_guard() -> None:
    v = verdict(change(hashtags=["charter-change"], files=["reference/charter.rst"],
                       rollcall=dict.fromkeys(TC[:6], 1)), T0 + 8 * DAY)
    assert v.state == READY and v.rule == "charter-change"


def test_allowed_extra_hashtags_are_not_unknown() -> None:
    _, rules = example()
    guard = rules.guards[0]
    assert check_categories(change(hashtags=["typo-fix", "team:nova"]), guard) == ()


def test_projects_without_a_guard_need_no_hashtag() -> None:
    v = verdict(change(project=COMPUTE, files=["nova/compute/api.py"]), T0)
    assert v.rule == "compute-core"
