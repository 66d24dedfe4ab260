"""`govbot check-config` on the trees communities have: a summary on success, an error
for a tree it does not recognise, one report per broken file (not its echoes), and
which meetings an irc-meetings checkout would have reminded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import shared_data

from tests.clikit import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "etc" / "governance"


def check(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str],
                                                                          list[str]]:
    code = run_cli("check-config", *args)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_a_checkout_of_openstack_governance(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "reference").mkdir()
    for path in shared_data().glob("*.yaml"):
        shutil.copy(path, tmp_path / "reference" / path.name)
    code, out, err = check(capsys, tmp_path)
    assert code == 0, err
    assert out == ["5 files: 9 people, 1 bodies, 42 teams (+14 groups), 628 repositories, "
                   "0 rules, 0 meetings, 58 retired teams"]
    assert "warning: .:0: no rules: no change is governed (add rules.yaml; see "\
           "docs/rules.md)" in err


def test_an_empty_or_unrecognised_tree_is_an_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README").write_text("not a config repo\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "projects.yaml").write_text("nova: {}\n")
    code, out, err = check(capsys, tmp_path)
    assert code == 1
    assert out[0].startswith(".:0: no file govbot reads is here (people.yaml, ")
    assert err[-1] == f"1 error(s) in {tmp_path}"


def test_a_config_that_governs_nothing_is_warned_about(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    (tmp_path / "people.yaml").write_text("- {id: ada, name: Ada}\n")
    code, out, err = check(capsys, tmp_path)
    assert code == 0
    assert out == ["1 files: 1 people, 0 bodies, 0 teams, 0 repositories, 0 rules, 0 meetings"]
    assert err == ["warning: .:0: this config governs nothing: no rules, no bodies and no "
                   "meetings"]


def test_the_layout_comes_from_the_settings(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    shutil.copy(shared_data() / "projects.yaml", repo / "data" / "teams.yaml")
    settings = tmp_path / "govbot.yaml"
    settings.write_text(f"governance:\n  repo: {repo}\n  layout: {{projects: data/teams.yaml}}\n")
    code, out, _ = check(capsys, repo, "--config", settings)
    assert code == 0 and out[0].startswith("1 files: 0 people, 0 bodies, 42 teams, ")
    code, out, _ = check(capsys, repo)
    assert code == 1 and "no file govbot reads is here" in out[0]


def broken_example(tmp_path: Path, name: str, old: str, new: str) -> Path:
    repo = tmp_path / "governance"
    shutil.copytree(EXAMPLE, repo)
    text = (repo / name).read_text()
    assert old in text
    (repo / name).write_text(text.replace(old, new, 1))
    return repo


def test_a_tab_in_bodies_yaml_is_one_error_not_twenty(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    repo = broken_example(tmp_path, "bodies.yaml", "\n  name: Technical Committee",
                          "\n\tname: Technical Committee")
    code, out, err = check(capsys, repo)
    assert code == 1
    assert out == ["bodies.yaml:5: invalid YAML: found character that cannot start any token "
                   "(while scanning for the next token); indent with spaces, YAML does not "
                   "allow tabs"]
    assert any(line.startswith("warning: bodies.yaml:1: ") and "more error(s) naming what "
               "bodies.yaml would define are not shown: fix it first" in line for line in err)


def test_an_unclosed_bracket_in_bodies_yaml_is_one_error(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    repo = broken_example(tmp_path, "bodies.yaml", "members: [ada,", "members: [[ada,")
    code, out, _ = check(capsys, repo)
    assert code == 1 and len(out) == 1 and out[0].startswith("bodies.yaml:"), out


def test_a_typo_in_people_yaml_gives_no_wrong_did_you_means(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = broken_example(tmp_path, "people.yaml", "- id: ada", "- idd: ada")
    code, out, err = check(capsys, repo)
    assert code == 1
    assert out == ["people.yaml:6: unknown key 'idd' in a person (did you mean 'id'?)",
                   "people.yaml:6: required key 'id' is missing in a person"]
    assert not any("did you mean" in line for line in out[2:] + err)


def test_errors_unrelated_to_the_broken_file_are_still_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = broken_example(tmp_path, "bodies.yaml", "\n  name: Technical Committee",
                          "\n\tname: Technical Committee")
    (repo / "announcements.yaml").write_text(
        "example-tc:\n  events: [change-merrged]\n  projects: [x]\n")
    code, out, _ = check(capsys, repo)
    assert code == 1
    assert [line.split(":", 2)[0] for line in out] == ["announcements.yaml", "bodies.yaml"]
    assert "did you mean 'change-merged'?" in out[0]


MEETING = """\
project: {name}
chair: Ada
description: d
schedule:
  - time: '{time}'
    day: Monday
    irc: {irc}
    frequency: weekly
    start_date: 20260105
"""


def test_an_irc_meetings_checkout_says_which_meetings_are_reminded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meetings = tmp_path / "meetings"
    meetings.mkdir()
    (meetings / "nova.yaml").write_text(MEETING.format(name="Nova", time="1400",
                                                       irc="openstack-meeting"))
    (meetings / "video.yaml").write_text(MEETING.format(name="Video", time="1500",
                                                        irc="Google hangout"))
    (meetings / "tc.yaml").write_text(MEETING.format(name="TC", time="800",
                                                     irc="openstack-tc"))
    code, out, err = check(capsys, tmp_path)
    assert code == 0, err
    assert out == ["3 files: 0 people, 0 bodies, 0 teams, 0 repositories, 0 rules, 3 meetings",
                   "meetings reminded: nova (#openstack-meeting), tc (#openstack-tc)"]
    assert "warning: meetings/video.yaml:7: 'irc' is 'Google hangout', which is not an IRC "\
           "channel: kept as the meeting's place, with no reminders posted (yaml2ical shows "\
           "it as the location)" in err
    # A file yaml2ical rejects fails the check; the daemon would remind the others.
    (meetings / "bad.yaml").write_text(MEETING.format(name="Bad", time="1600", irc="x")
                                       .replace("weekly", "fortnightly"))
    code, out, err = check(capsys, tmp_path)
    assert code == 1
    assert out == ["meetings/bad.yaml:8: 'frequency' must be one of yaml2ical's: "
                   + out[0].split("yaml2ical's: ", 1)[1]]
    assert "fortnightly" in out[0]
    assert "without the unavailable meetings: 4 files: 0 people, 0 bodies, 0 teams, "\
           "0 repositories, 0 rules, 3 meetings (1 unavailable)" in err
    assert "meetings reminded: nova (#openstack-meeting), tc (#openstack-tc)" in err
