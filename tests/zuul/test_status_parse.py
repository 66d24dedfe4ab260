"""Zuul's status and builds JSON, parsed: table-driven over old and new shapes."""

from __future__ import annotations

from typing import Any

import pytest

from govbot.zuul.model import Build, CiStatus
from govbot.zuul.status import enqueued_pipelines, parse_builds, status_index, telling_build


def _item(change_id: str | None, *, live: bool = True, new: bool = False) -> dict[str, Any]:
    if new:  # Zuul >= 10: an item lists its changes
        return {"live": live, "changes": [{"id": change_id, "project": "x"}], "jobs": []}
    return {"id": change_id, "live": live, "project": "x", "jobs": []}


def _status(**pipelines: list[list[list[dict[str, Any]]]]) -> dict[str, Any]:
    return {"pipelines": [
        {"name": name, "change_queues": [{"name": "", "heads": heads} for heads in queues]}
        for name, queues in pipelines.items()]}


@pytest.mark.parametrize(("status", "expected"), [
    (_status(check=[[[_item("12,1")], [_item("13,2")]]]),
     {(12, 1): ("check",), (13, 2): ("check",)}),
    # a dependent queue: several items in one head; the one ahead is not live
    (_status(gate=[[[_item("20,1", live=False), _item("21,3")]]]), {(21, 3): ("gate",)}),
    (_status(check=[[[_item("12,1")]]], gate=[[[_item("12,1")]]]),
     {(12, 1): ("check", "gate")}),
    (_status(check=[[[_item("30,4", new=True)]]]), {(30, 4): ("check",)}),
    # ref items (post, periodic) have no change number
    (_status(post=[[[_item("refs/heads/master"), _item(None)]]]), {}),
    ({"pipelines": [{"name": "check"}]}, {}),
    ({"pipelines": [{"name": "check", "change_queues": [{"heads": [[None, "x"]]}]}]}, {}),
    ({}, {}),
], ids=["independent", "dependent", "two-pipelines", "zuul-10-items", "refs", "no-queues",
        "junk-items", "empty"])
def test_status_index(status: dict[str, Any],
                      expected: dict[tuple[int, int], tuple[str, ...]]) -> None:
    assert status_index(status) == expected


def test_enqueued_pipelines_by_patchset_or_any() -> None:
    index = {(12, 1): ("check",), (12, 2): ("gate", "check"), (13, 1): ("post",)}
    assert enqueued_pipelines(index, 12, 2) == ("gate", "check")
    assert enqueued_pipelines(index, 12, 3) == ()
    assert enqueued_pipelines(index, 12) == ("check", "gate")
    assert enqueued_pipelines(index, 99) == ()


OLD_BUILD = {"uuid": "u1", "job_name": "tox", "result": "FAILURE", "pipeline": "check",
             "change": 12, "patchset": "2", "voting": True, "log_url": "https://logs/u1/",
             "start_time": "2026-11-02T09:00:00", "end_time": "2026-11-02T09:03:02",
             "duration": 182.0, "buildset": {"uuid": "bs1"}}
NEW_BUILD = {"uuid": "u2", "job_name": "lint", "result": None, "voting": False,
             "ref": {"project": "x", "change": 12, "patchset": "2"},
             "buildset": {"uuid": "bs2", "pipeline": "gate"}}


@pytest.mark.parametrize(("data", "expected"), [
    ([OLD_BUILD], [Build("u1", "tox", "FAILURE", "check", 12, 2, True,
                         "https://z.example/t/t1/build/u1", "bs1", "https://logs/u1/",
                         "2026-11-02T09:00:00", "2026-11-02T09:03:02", 182.0)]),
    ([NEW_BUILD], [Build("u2", "lint", None, "gate", 12, 2, False,
                         "https://z.example/t/t1/build/u2", "bs2")]),
    ([{"job_name": "no uuid"}, "junk"], []),
    ([], []),
], ids=["zuul-9", "zuul-10-ref", "junk", "empty"])
def test_parse_builds(data: list[Any], expected: list[Build]) -> None:
    assert list(parse_builds(data, "https://z.example/", "t1")) == expected


@pytest.mark.parametrize("data", [{"builds": []}, "nope", None])
def test_parse_builds_rejects_what_is_not_a_list(data: Any) -> None:
    with pytest.raises(ValueError):
        parse_builds(data, "https://z", "t")


def _b(uuid: str, result: str | None, buildset: str, voting: bool = True) -> Build:
    return Build(uuid, uuid, result, buildset=buildset, voting=voting)


@pytest.mark.parametrize(("builds", "expected"), [
    ([], None),
    ([_b("a", "SUCCESS", "2"), _b("b", "SUCCESS", "2")], "a"),
    # newest first: within the newest run, the first voting failure tells
    ([_b("c", "SUCCESS", "2"), _b("b", "FAILURE", "2"), _b("a", "TIMED_OUT", "2")], "a"),
    ([_b("c", "SUCCESS", "2"), _b("b", "FAILURE", "2", voting=False)], "c"),
    # an older run's failure does not count
    ([_b("c", "SUCCESS", "2"), _b("b", "FAILURE", "1")], "c"),
])
def test_telling_build(builds: list[Build], expected: str | None) -> None:
    found = telling_build(builds)
    assert (found.uuid if found else None) == expected


@pytest.mark.parametrize(("status", "last_build", "line"), [
    (CiStatus(known=False, error="down"), True, "CI: unknown (Zuul unreachable)"),
    (CiStatus(known=True, pipelines=("gate",)), True, "CI: enqueued in gate"),
    (CiStatus(known=True, pipelines=("check", "gate")), False, "CI: enqueued in check, gate"),
    (CiStatus(known=True, last_build=Build("u", "tox", "SUCCESS", url="https://z/b/u")), True,
     "CI: last build SUCCESS (https://z/b/u)"),
    (CiStatus(known=True, last_build=Build("u", "tox", None)), True,
     "CI: last build IN_PROGRESS"),
    (CiStatus(known=True, last_build=Build("u", "tox", "SUCCESS")), False, None),
    (CiStatus(known=True), True, None),
])
def test_the_live_line(status: CiStatus, last_build: bool, line: str | None) -> None:
    assert status.describe(last_build=last_build) == line
