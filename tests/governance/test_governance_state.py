"""ChangeState from Gerrit's REST ChangeInfo (the fields as Gerrit 3.9 / the emulator return
them with o=LABELS,DETAILED_LABELS,CURRENT_REVISION,CURRENT_FILES,MESSAGES,DETAILED_ACCOUNTS),
and built directly for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from govbot.plugins.governance.change import (
    Account,
    ChangeState,
    Vote,
    format_duration,
    format_gerrit_time,
    format_time,
    parse_gerrit_time,
)

ADA = {"_account_id": 1000001, "name": "Ada Lindqvist", "email": "ada@example.org",
       "username": "ada"}
BRUNO = {"_account_id": 1000002, "name": "Bruno Okafor", "email": "bruno@example.org",
         "username": "bokafor"}
IVO = {"_account_id": 1000009, "name": "Ivo Marinov", "email": "ivo@example.org",
       "username": "ivo"}


def change_info(**overrides: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": "example%2Fgovernance~1234",
        "project": "example/governance",
        "branch": "master",
        "topic": "charter-2026",
        "hashtags": ["formal-vote", "team:compute"],
        "change_id": "I0123456789abcdef0123456789abcdef01234567",
        "subject": "Amend the charter",
        "status": "NEW",
        "created": "2026-11-22 10:00:00.000000000",
        "updated": "2026-11-25 08:30:00.000000000",
        "_number": 1234,
        "owner": ADA,
        "current_revision_number": 3,
        "labels": {
            "Rollcall-Vote": {
                "all": [
                    {**BRUNO, "value": 1, "date": "2026-11-23 09:00:00.123456789"},
                    {**IVO, "value": 0},  # a reviewer who has not voted
                    {**ADA, "value": -1, "date": "2026-11-24 12:00:00.000000000",
                     "permitted_voting_range": {"min": -1, "max": 1}},
                ],
                "values": {"-1": "No", " 0": "Abstain", "+1": "Yes"},
                "default_value": 0,
            },
            "Code-Review": {"all": [{**IVO, "value": 0, "date": "2026-11-24 12:00:00.0"}],
                            "default_value": 0},
            "Verified": {"default_value": 0},
        },
        "current_revision": "c" * 40,
        "revisions": {
            "c" * 40: {
                "kind": "REWORK", "_number": 3, "created": "2026-11-25 08:00:00.000000000",
                "uploader": ADA, "ref": "refs/changes/34/1234/3",
                "files": {
                    "/COMMIT_MSG": {"status": "A", "size": 100},
                    "reference/charter.rst": {"lines_inserted": 3, "size": 10},
                    "doc/new-name.rst": {"status": "R", "old_path": "doc/old-name.rst"},
                    "doc/copied.rst": {"status": "C", "old_path": "doc/original.rst"},
                },
            },
        },
    }
    info.update(overrides)
    return info


def test_reads_a_change_info() -> None:
    ch = ChangeState.from_change_info(change_info())
    assert (ch.project, ch.branch, ch.number, ch.patchset) == (
        "example/governance", "master", 1234, 3)
    assert ch.owner == Account(1000001, "ada", "ada@example.org", "Ada Lindqvist")
    assert ch.hashtags == ("formal-vote", "team:compute")
    assert (ch.topic, ch.status, ch.wip, ch.is_open) == ("charter-2026", "NEW", False, True)
    # No magic files; a rename also touches its source; a copy does not change the original.
    assert ch.files == ("doc/copied.rst", "doc/new-name.rst", "doc/old-name.rst",
                        "reference/charter.rst")
    # Without ALL_REVISIONS the first revision is the change's creation.
    assert ch.first_revision_at == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert ch.latest_revision_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert ch.votes_on("Rollcall-Vote") == (
        Vote(Account(1000002, "bokafor", "bruno@example.org", "Bruno Okafor"), 1,
             datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)),
        Vote(Account(1000001, "ada", "ada@example.org", "Ada Lindqvist"), -1,
             datetime(2026, 11, 24, 12, 0, tzinfo=UTC)))
    # An explicit 0 with a date is an abstention; Verified has no votes at all.
    assert [v.value for v in ch.votes_on("Code-Review")] == [0]
    assert ch.votes_on("Verified") == ()


def test_all_revisions_give_the_first_revision_time() -> None:
    info = change_info(created="2026-11-22 10:00:05.000000000")
    info["revisions"]["a" * 40] = {"_number": 1, "created": "2026-11-22 10:00:00.000000000"}
    ch = ChangeState.from_change_info(info)
    assert ch.first_revision_at == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert ch.patchset == 3


def test_tolerates_missing_options_and_other_shapes() -> None:
    info = {"project": {"name": "example/governance"}, "branch": "refs/heads/stable/x",
            "_number": "7", "owner": {"_account_id": "42"},
            "created": "2026-11-22 10:00:00", "work_in_progress": True, "status": "MERGED"}
    ch = ChangeState.from_change_info(info)
    assert (ch.project, ch.branch, ch.number) == ("example/governance", "stable/x", 7)
    assert ch.owner == Account(account_id=42)
    assert ch.first_revision_at == ch.latest_revision_at
    assert ch.wip and not ch.is_open and ch.files == () and ch.votes == {}


def test_a_vote_without_a_date_takes_the_change_update_time() -> None:
    info = change_info()
    info["labels"]["Rollcall-Vote"]["all"] = [{**BRUNO, "value": 1}]
    ch = ChangeState.from_change_info(info)
    assert ch.votes_on("Rollcall-Vote")[0].date == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-29 10:00:00.000000000", datetime(2026, 11, 29, 10, 0, tzinfo=UTC)),
    ("2026-11-29 10:00:00.999999999", datetime(2026, 11, 29, 10, 0, 0, 999999, tzinfo=UTC)),
    ("2026-11-29 10:00:01", datetime(2026, 11, 29, 10, 0, 1, tzinfo=UTC)),
    ("2026-11-29T10:00:01Z", datetime(2026, 11, 29, 10, 0, 1, tzinfo=UTC)),
])
def test_gerrit_times(text: str, expected: datetime) -> None:
    assert parse_gerrit_time(text) == expected
    assert parse_gerrit_time(format_gerrit_time(expected)) == expected


def test_message_times_round_up_to_the_minute() -> None:
    assert format_time(datetime(2026, 11, 29, 10, 0, tzinfo=UTC)) == "2026-11-29 10:00 UTC"
    assert format_time(datetime(2026, 11, 29, 10, 0, 1, tzinfo=UTC)) == "2026-11-29 10:01 UTC"
    assert format_duration(parse_gerrit_time("2026-01-08 12:00:00")
                           - parse_gerrit_time("2026-01-01 00:00:00")) == "7 days 12 hours"


def test_create_normalises_like_the_json_reader() -> None:
    owner = Account(account_id=1)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    a = ChangeState.create(project="p", owner=owner, first_revision_at=t,
                           branch="refs/heads/main", hashtags=["b", "a", "b"],
                           files=["z", "a"], votes={"Code-Review": [Vote(owner, 1, t)]})
    assert (a.branch, a.hashtags, a.files, a.latest_revision_at) == ("main", ("a", "b"),
                                                                     ("a", "z"), t)
    assert a == ChangeState.create(project="p", owner=owner, first_revision_at=t,
                                   branch="main", hashtags=["a", "b"], files=["a", "z"],
                                   votes={"Code-Review": (Vote(owner, 1, t),)})


def test_from_json_to_verdict() -> None:
    from tests.governance.kit import verdict

    info = change_info()
    blocked = verdict(ChangeState.from_change_info(info), datetime(2026, 12, 1, tzinfo=UTC))
    assert blocked.state == "blocked"
    assert "needs the hashtag 'charter-change', not 'formal-vote'" in blocked.reasons[0].text
    info["hashtags"] = ["charter-change"]
    pending = verdict(ChangeState.from_change_info(info), datetime(2026, 12, 1, tzinfo=UTC))
    rows = {r.person: (r.value, r.why) for r in pending.members}
    assert rows["bruno"] == (1, "yes") and rows["ada"] == (-1, "no")
    assert rows["ivo"] == (None, "no vote yet")
    assert "at least 6 (ceil(2*n/3) with n=9) yes votes: 1 so far" in [
        r.text for r in pending.reasons]
