"""Zuul's Gerrit comments, parsed: table-driven over the shapes Zuul writes."""

from __future__ import annotations

import pytest

from govbot.zuul.report import JobResult, parse_report, strip_gerrit_prefix

Z = "https://zuul.example.org/t/example"
OLD_FAILURE = f"""Patch Set 3: Verified-1

Build failed (check pipeline).  For information on how to proceed, see
https://docs.opendev.org/opendev/infra-manual/latest/developers.html#automated-testing

- openstack-tox-pep8 {Z}/build/2d0a3c1 : SUCCESS in 3m 27s
- openstack-tox-py311 {Z}/build/abc123 : FAILURE in 5m 39s
- openstack-tox-docs {Z}/build/def456 : POST_FAILURE in 1h 02m 03s (non-voting)
"""
NEW_SUCCESS = f"""Patch Set 1: Verified+1

Build succeeded (gate pipeline).
{Z}/buildset/77aa

- tox-py311 {Z}/build/8c1e : SUCCESS in 2m 10s
"""
NO_URL = """Patch Set 2: Verified-1

Build failed (check pipeline).

- tox-lint tox-lint : SKIPPED
- tox-py311 tox-py311 : ERROR Project example/x does not exist in 0s
Skipped 2 jobs
"""
COMMENTS = f"""Patch Set 4: Verified-1

(2 comments)

Build failed (check pipeline).
{Z}/buildset/99

- linters {Z}/build/11 : FAILURE in 45s
"""
MERGE = """Patch Set 5: Verified-1

Merge Failed.

This change or one of its cross-repo dependencies was unable to be automatically merged
with the current state of its repository. Please rebase the change and upload a new
patchset.
"""
START = "Patch Set 6:\n\nStarting check jobs."


@pytest.mark.parametrize(("text", "summary", "headline", "pipeline", "jobs", "failed",
                          "report_url"), [
    (OLD_FAILURE,
     "Build failed (check pipeline).  For information on how to proceed, see",
     "Build failed (check pipeline).", "check",
     [("openstack-tox-pep8", "SUCCESS", "3m 27s", True),
      ("openstack-tox-py311", "FAILURE", "5m 39s", True),
      ("openstack-tox-docs", "POST_FAILURE", "1h 02m 03s", False)],
     ["openstack-tox-py311"], f"{Z}/build/abc123"),
    (NEW_SUCCESS, "Build succeeded (gate pipeline).", "Build succeeded (gate pipeline).",
     "gate", [("tox-py311", "SUCCESS", "2m 10s", True)], [], f"{Z}/buildset/77aa"),
    (NO_URL, "Build failed (check pipeline).", "Build failed (check pipeline).", "check",
     [("tox-lint", "SKIPPED", None, True), ("tox-py311", "ERROR", "0s", True)],
     ["tox-py311"], None),
    (COMMENTS, "Build failed (check pipeline).", "Build failed (check pipeline).", "check",
     [("linters", "FAILURE", "45s", True)], ["linters"], f"{Z}/buildset/99"),
    (MERGE, "Merge Failed.", "Merge Failed.", None, [], [], None),
    (START, "Starting check jobs.", "Starting check jobs.", None, [], [], None),
], ids=["old-failure", "new-success", "no-urls", "inline-comments", "merge-failed", "start"])
def test_reports(text: str, summary: str, headline: str, pipeline: str | None,
                 jobs: list[tuple[str, str, str | None, bool]], failed: list[str],
                 report_url: str | None) -> None:
    report = parse_report(text)
    assert report is not None
    assert report.summary == summary
    assert report.headline == headline
    assert report.pipeline == pipeline
    assert [(j.name, j.result, j.elapsed, j.voting) for j in report.jobs] == jobs
    assert [j.name for j in report.failed_jobs] == failed
    assert report.report_url == report_url
    assert report.has_results == bool(jobs)


def test_job_details() -> None:
    report = parse_report(NO_URL)
    assert report is not None
    assert report.jobs[0] == JobResult("tox-lint", None, "SKIPPED")
    assert report.jobs[1].detail == "Project example/x does not exist"
    old = parse_report(OLD_FAILURE)
    assert old is not None
    assert old.links == ("https://docs.opendev.org/opendev/infra-manual/latest/"
                         "developers.html#automated-testing",)
    assert old.jobs[1].describe() == f"openstack-tox-py311 {Z}/build/abc123 : FAILURE"


@pytest.mark.parametrize(("text", "expected"), [
    ("Patch Set 3: Verified-1\n\nBuild failed.", "Build failed."),
    ("Patch Set 3:\n\nBuild succeeded.", "Build succeeded."),
    ("Patch Set 3: Verified+1 Code-Review+2\n\n(1 comment)\n\nok", "ok"),
    ("recheck", "recheck"),
    ("Patch Set 3: Verified-1", ""),
])
def test_strip_gerrit_prefix(text: str, expected: str) -> None:
    assert strip_gerrit_prefix(text) == expected


@pytest.mark.parametrize("text", ["", "Patch Set 2: Verified-1", "Patch Set 2:\n\n\n"])
def test_nothing_to_read(text: str) -> None:
    assert parse_report(text) is None
