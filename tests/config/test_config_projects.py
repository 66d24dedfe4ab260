"""Teams from a projects file in openstack/governance's format, including the real one."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import PEOPLE, Loader, Writer, errors_of, shared_data

from govbot.config.loader import load_config

PROJECTS = """\
---
compute:
  leadership_type: ptl
  ptl: {name: Alice Anders, irc: alice, email: alice@example.org}
  mission: ignored, like every key govbot does not use
  liaisons:
    release:
      - {name: Bob Brown, irc: bobby, email: bob@example.org}
  deliverables:
    nova:
      repos: [example/nova, example/nova-specs]
    python-novaclient:
      release-management: none
      repos: [example/python-novaclient]
docs:
  leadership_type: distributed
  deliverables:
    docs: {repos: [example/docs]}
"""


def test_teams(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "projects.yaml": PROJECTS})
    result = load()
    assert errors_of(result) == [] and result.warnings == []
    config = result.config
    assert config is not None
    compute = config.teams["compute"]
    assert compute.repositories == ("example/nova", "example/nova-specs",
                                    "example/python-novaclient")
    assert dict(compute.ptl) == {"name": "Alice Anders", "irc": "alice",
                                 "email": "alice@example.org", "person": "alice"}
    assert [dict(x) for x in compute.liaisons] == [{
        "role": "release", "name": "Bob Brown", "irc": "bobby", "email": "bob@example.org",
        "person": "bob"}]
    assert config.team_for_repository("example/docs") is config.teams["docs"]
    assert config.teams["docs"].leadership == "distributed"
    assert dict(config.teams["docs"].ptl) == {}


def test_absent_projects_file_means_no_teams(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE})
    assert load().config.teams == {}  # type: ignore[union-attr]


def test_projects_file_path_option(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "reference__projects.yaml": PROJECTS})
    result = load(projects_file="reference/projects.yaml")
    assert sorted(result.config.teams) == ["compute", "docs"]  # type: ignore[union-attr]


def test_repository_owned_by_two_teams(write: Writer, load: Loader) -> None:
    write(**{"projects.yaml": PROJECTS + "infra:\n  deliverables:\n    x:\n"
                                         "      repos: [example/infra, example/docs]\n"})
    assert errors_of(load()) == [
        "projects.yaml:22: repository 'example/docs' is owned by both team 'docs' and team "
        "'infra'; a repository belongs to one team (also at projects.yaml:18)"]


def test_team_types_are_checked(write: Writer, load: Loader) -> None:
    write(**{"projects.yaml": """\
        nova:
          leadership_type: ptll
          ptl: Alice
          deliverables:
            nova: {repos: example/nova}
        """})
    assert errors_of(load()) == [
        "projects.yaml:2: 'leadership_type' must be one of 'ptl', 'distributed', got 'ptll' "
        "(did you mean 'ptl'?)",
        "projects.yaml:3: 'ptl' must be a mapping, got a string",
        "projects.yaml:5: 'repos' must be a list of repository names, got a string",
    ]


def test_real_openstack_governance_files(tmp_path: Path) -> None:
    data = shared_data()
    (tmp_path / "reference").mkdir()
    shutil.copy(data / "members.yaml", tmp_path / "reference" / "members.yaml")
    (tmp_path / "bodies.yaml").write_text(
        "tc:\n  name: Technical Committee\n  label: Rollcall-Vote\n"
        "  members_file: reference/members.yaml\n")
    # The projects file is read where it is: the option also takes an absolute path.
    result = load_config(tmp_path, [], projects_file=str(data / "projects.yaml"))
    assert errors_of(result) == []
    config = result.config
    assert config is not None
    team = config.team_for_repository("openstack/designate")
    assert team is not None and team.name == "designate"
    assert team.ptl["name"] == "Omer Schwartz" and team.ptl["irc"] == "oschwart"
    assert len(config.teams) == 42
    tc = config.bodies["tc"]
    assert tc.size == 9
    assert [config.people[p].name for p in tc.roles["chair"]] == ["Goutham Pacha Ravi"]
    assert [config.people[p].name for p in tc.roles["vice-chair"]] == ["Michal Nasiadka"]
    # No people.yaml: every TC member is an implicit person, each with one warning.
    assert len(result.warnings) == 9
    # A TC member who is also a PTL or liaison is found by shared identity.
    assert any(t.ptl.get("person") in tc.members for t in config.teams.values()) or any(
        liaison.get("person") in tc.members for t in config.teams.values()
        for liaison in t.liaisons)
