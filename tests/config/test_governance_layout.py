"""openstack/governance as it is: its `reference/` files found with no file added.

The real files (../shared/data/openstack-governance, see conftest.shared_data) are laid
out as the repository keeps them, and loaded through the documented settings
(`governance.layout`, docs/settings.md) and through the defaults.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import yaml
from conftest import errors_of, shared_data

from govbot.config.layout import GovernanceLayout
from govbot.config.loader import load_config
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.parse import RULES_SECTION
from govbot.settings import parse_settings
from tests.governance.kit import T0, change

FILES = ("projects.yaml", "members.yaml", "technical-committee-repos.yaml", "sigs-repos.yaml",
         "legacy.yaml")


def governance_tree(root: Path, folder: str = "reference") -> Path:
    """The real files where openstack/governance keeps them."""
    data = shared_data()
    (root / folder).mkdir(parents=True)
    for name in FILES:
        shutil.copy(data / name, root / folder / name)
    return root


def test_a_checkout_of_openstack_governance_loads_as_it_is(tmp_path: Path) -> None:
    result = load_config(governance_tree(tmp_path), [])
    assert errors_of(result) == []
    config = result.config
    assert config is not None
    assert len(config.teams) == 42
    assert len({r for t in config.teams.values() for r in t.repositories}) == 579
    assert config.teams["nova"].ptl["name"] == "René Ribaud"
    assert config.team_for_repository("openstack/nova") is config.teams["nova"]
    tc = config.team_for_repository("openstack/governance")
    assert tc is not None and tc.name == "Technical Committee" and tc.leadership == "tc"
    sig = config.team_for_repository("openstack/api-sig")
    assert sig is not None and sig.name == "API" and sig.leadership == "sig"
    assert len(config.groups) == 1 + 13
    # Team names are not slugs: a hashtag's spelling finds them.
    for spelling in ("release-management", "Release Management", "release_management",
                     "RELEASE-management"):
        found = config.team_named(spelling)
        assert found is not None and found.name == "Release Management", spelling
    assert config.team_named("release-managment") is None
    # The TC is its members file; no bodies.yaml needed.
    assert config.bodies["tc"].size == 9
    assert [config.people[p].name for p in config.bodies["tc"].roles["chair"]] == [
        "Goutham Pacha Ravi"]
    # legacy.yaml: history, never a live owner; its real duplicate key is a warning.
    assert len(config.retired) == 58
    assert config.retired["astara"].retired_on == "2016-10-06"
    assert "openstack/astara" in config.retired["astara"].repositories
    assert config.team_for_repository("openstack/astara") is None
    duplicates = [str(w) for w in result.warnings if "duplicate key" in w.message]
    assert duplicates == [
        "reference/legacy.yaml:2749: duplicate key 'ansible-role-tripleo-ui' (also at "
        "reference/legacy.yaml:2603); the last one is used, as PyYAML does: remove the other"]
    assert "reference/legacy.yaml" in result.files


def test_the_layout_setting_says_where_the_files_are(tmp_path: Path) -> None:
    root = governance_tree(tmp_path / "repo", folder="data")
    (root / "data" / "projects.yaml").rename(root / "data" / "teams.yaml")
    settings = parse_settings(textwrap.dedent("""\
        governance:
          repo: /srv/governance
          layout:
            projects: data/teams.yaml
            tc_repos: data/technical-committee-repos.yaml
            sigs_repos: data/sigs-repos.yaml
            members: data/members.yaml
            legacy: data/legacy.yaml
        """), "govbot.yaml", base=tmp_path)
    layout = settings.governance.layout.as_layout()
    assert layout == GovernanceLayout(
        projects="data/teams.yaml", tc_repos="data/technical-committee-repos.yaml",
        sigs_repos="data/sigs-repos.yaml", members="data/members.yaml",
        legacy="data/legacy.yaml")
    config = load_config(root, [], layout=layout).config
    assert config is not None
    assert len(config.teams) == 42 and len(config.retired) == 58
    assert config.team_named("release-management") is not None
    # Without the setting, nothing is where the defaults look: no teams (and
    # check-config says so, see test_check_config_real_data).
    bare = load_config(root, []).config
    assert bare is not None and not bare.teams


def test_a_layout_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    result = load_config(tmp_path, [], layout=GovernanceLayout(projects="ref/projects.yaml",
                                                               legacy="../legacy.yaml"))
    assert errors_of(result) == [
        "../legacy.yaml:0: governance.layout.legacy '../legacy.yaml' must be a path inside "
        "the config repo, relative to its root",
        "ref/projects.yaml:0: governance.layout.projects names 'ref/projects.yaml', which is "
        "not in the config repo; fix the setting or add the file"]


RULES = """\
categories:
  - projects: [openstack/governance]
    hashtags: [project-update]
    allow: ["^team:.+"]
rules:
  project-update:
    select:
      projects: [openstack/governance]
      hashtags: [project-update]
    body: tc
    require:
      - role: {role: leader, team_of: hashtag, label: Code-Review}
  release:
    select:
      projects: [openstack/releases]
    body: tc
    require:
      - role: {role: leader, team: release-management, label: Code-Review}
"""


def test_team_hashtags_match_the_real_names(tmp_path: Path) -> None:
    root = governance_tree(tmp_path)
    (root / "rules.yaml").write_text(RULES)
    result = load_config(root, [("governance", RULES_SECTION)])
    assert errors_of(result) == []
    config = result.config
    assert config is not None
    rules = config.section("governance")
    # A distributed-leadership team: its liaisons lead it.
    team = yaml.safe_load((root / "reference" / "projects.yaml").read_text())[
        "Release Management"]
    liaison = team["liaisons"]["release"][0]["name"]
    for hashtag in ("team:release-management", "team:Release Management"):
        ch = change(project="openstack/governance", hashtags=["project-update", hashtag])
        text = " ".join(r.text for r in evaluate(ch, config, rules, T0).reasons)
        assert "of team Release Management" in text and liaison in text, text
    ch = change(project="openstack/governance", hashtags=["project-update", "team:relmgmt"])
    text = " ".join(r.text for r in evaluate(ch, config, rules, T0).reasons)
    assert "'team:relmgmt' names no team of the projects file" in text
    ch = change(project="openstack/releases")
    text = " ".join(r.text for r in evaluate(ch, config, rules, T0).reasons)
    assert "of team Release Management" in text and liaison in text, text
