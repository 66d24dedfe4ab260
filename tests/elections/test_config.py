"""The elections section: the example loads, extra ATCs come from the teams file, and every
mistake is reported as FILE:LINE."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from govbot.plugins.elections.model import ElectionsConfig
from tests.elections.kit import EXAMPLE, at, config_files, load, write_repo


def test_the_example_governance_repo_loads_a_tc_and_a_ptl_election() -> None:
    result = load(EXAMPLE)
    assert result.config is not None, result.lines()
    section = result.config.section("elections")
    assert isinstance(section, ElectionsConfig)
    ptl, tc = section.elections["2027.1-ptl"], section.elections["2027.1-tc"]
    assert (ptl.kind, tc.kind) == ("ptl", "tc")
    assert ptl.repository == tc.repository == "example/election"
    assert ptl.officials == ("lena", "marek")
    assert tc.channels == ("#example-election", "#example-tc", "#example-dev")
    assert tc.timeline.campaigning_start == at(2027, 2, 27)
    assert ptl.timeline.campaigning_start == ptl.timeline.nominations_close
    assert ptl.grace == dt.timedelta(minutes=60)
    docs = result.config.teams["docs"]
    assert [(a.email, a.expires) for a in docs.extra_atcs] == [
        ("xiadani@example.org", dt.date(2027, 3, 1))]
    assert docs.extra_atcs[0].valid_at(at(2027, 2, 28, 23, 59))
    assert not docs.extra_atcs[0].valid_at(at(2027, 3, 1))


BROKEN = """\
defaults:
  officials: [lena, nobody]
  channels: ['#e']
elections:
  2027.1-ptl:
    kind: ptl
    timeline:
      nominations-open: '2027-01-08 23:45'
      nominations-close: '2027-01-01 23:45'
      polling-start: 'next tuesday'
      polling-end: '2027-02-05 23:45'
    qualifying-period: {start: '2027-01-01', end: '2026-01-01'}
    branch-qualified: {Stable maintenance: 'stable/.*'}
    candidacy-path: candidates/{team}
    kinds: ptl
  2027.1-tc:
    kind: council
    repository: example/election
    timeline: {nominations-open: '2027-01-08'}
    qualifying-period: {start: '2026-01-01', end: '2027-01-01'}
"""


def test_every_mistake_is_reported_with_its_line(tmp_path: Path) -> None:
    root = write_repo(tmp_path, config_files(**{"elections.yaml": BROKEN}))
    result = load(root)
    assert result.config is None
    errors = [line for line in result.lines() if line.startswith("elections.yaml")]
    assert errors == [
        "elections.yaml:2: 'defaults': official 'nobody' is not in people.yaml",
        "elections.yaml:5: election '2027.1-ptl' has no 'repository' (nor 'defaults'): the "
        "Gerrit project that holds candidacies",
        "elections.yaml:9: election '2027.1-ptl': nominations-close (2027-01-01 23:45) must "
        "come after nominations-open (2027-01-08 23:45)",
        "elections.yaml:10: 'polling-start' must be a UTC date and time like "
        "'2027-01-08 23:45', got 'next tuesday'",
        "elections.yaml:12: election '2027.1-ptl': the qualifying period must end after it "
        "starts",
        "elections.yaml:13: election '2027.1-ptl': branch-qualified team 'Stable maintenance' "
        "is not in the teams file (did you mean 'stable branch maintenance'?)",
        "elections.yaml:14: 'candidacy-path' must be a path layout like "
        "'candidates/{election}/{team}/{email}', got 'candidates/{team}'",
        "elections.yaml:15: unknown key 'kinds' in an election (did you mean 'kind'?)",
        "elections.yaml:17: 'kind' must be one of 'tc', 'ptl', got 'council'",
        "elections.yaml:19: required key 'nominations-close' is missing in a timeline",
        "elections.yaml:19: required key 'polling-start' is missing in a timeline",
        "elections.yaml:19: required key 'polling-end' is missing in a timeline",
    ]


def test_an_extra_atc_with_a_bad_expiry_is_an_error(tmp_path: Path) -> None:
    projects = config_files()["projects.yaml"].replace("expires-in: March 2026",
                                                        "expires-in: someday")
    root = write_repo(tmp_path, config_files(**{"projects.yaml": projects}))
    result = load(root)
    assert result.config is None
    assert [line for line in result.lines() if "expires-in" in line] == [
        "projects.yaml:15: 'expires-in' must be a month like 'February 2027' or a date like "
        "2027-02-28, got 'someday'"]
