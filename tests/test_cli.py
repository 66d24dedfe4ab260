"""The `govbot` command as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "etc" / "governance"
EVENTS = ROOT / "etc" / "demo" / "events.jsonl"


def govbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govbot", *map(str, args)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_help_lists_every_command() -> None:
    result = govbot("--help")
    assert result.returncode == 0
    for command in ("run", "check-config", "replay", "version"):
        assert command in result.stdout


def test_version() -> None:
    from govbot import __version__

    assert govbot("version").stdout.strip() == f"govbot {__version__}"


def test_check_config_passes_on_the_example_repo() -> None:
    result = govbot("check-config", EXAMPLE)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "14 files: 22 people, 5 bodies, 4 teams, 8 repositories, 11 rules, 5 meetings",
        "meetings reminded: docs (#example-meeting), infra (#example-infra), "
        "nova (#example-meeting), release (#example-meeting), tc (#example-tc)"]


def test_check_config_lists_every_error_and_exits_1(tmp_path: Path) -> None:
    repo = tmp_path / "governance"
    shutil.copytree(EXAMPLE, repo)
    bodies = (repo / "bodies.yaml").read_text()
    (repo / "bodies.yaml").write_text(bodies.replace("label: Rollcall-Vote",
                                                     "label: Rollcall-Vote\n  colour: red", 1))
    (repo / "announcements.yaml").write_text(
        "example-tc:\n  events: [patchset-created, change-merrged]\n  projects: ['^(']\n")
    result = govbot("check-config", repo)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    assert all(line.split(":", 2)[1].isdigit() for line in lines)
    assert lines[0].startswith("announcements.yaml:2: ") and "change-merrged" in lines[0]
    assert "did you mean 'change-merged'" in lines[0]
    assert lines[1].startswith("announcements.yaml:3: ")
    assert lines[2].startswith("bodies.yaml:") and "unknown key 'colour'" in lines[2]
    assert "3 error(s)" in result.stderr


def test_check_config_on_a_missing_directory() -> None:
    result = govbot("check-config", "/nonexistent/governance")
    assert result.returncode == 2 and "not a directory" in result.stderr


def test_replay_prints_the_actions_deterministically() -> None:
    first = govbot("replay", EVENTS, "--governance", EXAMPLE, "--json")
    second = govbot("replay", EVENTS, "--governance", EXAMPLE, "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    actions = [json.loads(line) for line in first.stdout.splitlines()]
    said = [a for a in actions if a["action"] == "Say"]
    assert said and all(a["plugin"] == "announce" for a in said)
    texts = [a["text"] for a in said]
    assert any(t.startswith("Merged example/governance master") for t in texts)
    assert not any("\x02" in t for t in texts)  # IRC formatting from a subject is stripped
    assert "1 unknown type" in first.stderr and "1 noise" in first.stderr


def test_replay_refuses_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "people.yaml").write_text("- id: x\n  nmae: X\n")
    result = govbot("replay", EVENTS, "--governance", tmp_path)
    assert result.returncode == 1
    assert "people.yaml:2: unknown key 'nmae'" in result.stderr


@pytest.mark.parametrize("now", ["2026-11-22T10:00:00Z", "2026-11-22 10:00+01:00"])
def test_replay_accepts_iso_times(now: str) -> None:
    assert govbot("replay", EVENTS, "--governance", EXAMPLE, "--now", now).returncode == 0


def test_replay_rejects_a_bad_time() -> None:
    result = govbot("replay", EVENTS, "--governance", EXAMPLE, "--now", "yesterday")
    assert result.returncode == 2 and "not an ISO-8601 time" in result.stderr


def test_run_with_bad_settings_names_the_line(tmp_path: Path) -> None:
    settings = tmp_path / "govbot.yaml"
    settings.write_text("governance:\n  repo: x\n  brnach: main\n")
    result = govbot("run", "--config", settings)
    assert result.returncode == 2
    assert f"{settings}:3: unknown setting 'brnach'" in result.stderr
