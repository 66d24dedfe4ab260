"""The shipped Zuul configuration (etc/zuul.d) and Gerrit snippets (etc/gerrit) hold
together: every reference resolves, and they name the bot's real account and label."""

from __future__ import annotations

import configparser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from govbot.plugins.governance.settings import GovernanceSettings
from govbot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
ETC = ROOT / "etc"
ZUUL_D = ETC / "zuul.d"
# Defined by every Zuul site, not by us: the standard pipelines and Zuul's own jobs.
SITE_PIPELINES = {"check", "gate"}
WELL_KNOWN_JOBS = {"base", "noop"}
# Keys of a project stanza that are not pipelines.
PROJECT_KEYS = {"name", "templates", "default-branch", "merge-mode", "description", "vars",
                "queue", "branches"}


def _docs() -> list[tuple[Path, dict[str, Any]]]:
    files = sorted(ZUUL_D.glob("*.yaml"))
    assert files, "etc/zuul.d is empty"
    out = []
    for path in files:
        data = yaml.safe_load(path.read_text())
        assert isinstance(data, list), f"{path.name}: a Zuul file is a list of stanzas"
        for item in data:
            assert isinstance(item, dict) and len(item) == 1, f"{path.name}: {item!r}"
            out.append((path, item))
    return out


def _of(kind: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path, item in _docs():
        if kind in item:
            yield path, item[kind]


def _job_names(entries: list[Any]) -> Iterator[str]:
    for entry in entries or ():
        yield entry if isinstance(entry, str) else next(iter(entry))


def test_every_stanza_is_a_known_kind() -> None:
    kinds = {next(iter(item)) for _, item in _docs()}
    assert kinds <= {"job", "project", "pipeline", "project-template", "nodeset", "secret"}
    assert {"job", "project", "pipeline"} <= kinds


def test_every_referenced_job_and_pipeline_exists() -> None:
    jobs = {job["name"] for _, job in _of("job")}
    pipelines = {p["name"] for _, p in _of("pipeline")} | SITE_PIPELINES
    for _, job in _of("job"):
        assert job.get("parent", "base") in jobs | WELL_KNOWN_JOBS, job["name"]
    projects = list(_of("project"))
    assert any(p["name"] == "example/govbot-config" for _, p in projects)
    for path, project in projects:
        for key, value in project.items():
            if key in PROJECT_KEYS:
                continue
            assert key in pipelines, f"{path.name}: {project['name']}: no pipeline {key!r}"
            for name in _job_names(value.get("jobs", [])):
                assert name in jobs | WELL_KNOWN_JOBS, f"{path.name}: no job {name!r}"


def test_the_config_repo_runs_the_check_in_check_and_gate() -> None:
    stanza = next(p for _, p in _of("project") if p["name"] == "example/govbot-config")
    for pipeline in ("check", "gate"):
        assert "govbot-check-config" in _job_names(stanza[pipeline]["jobs"])


def test_playbooks_exist_and_run_check_config() -> None:
    for _, job in _of("job"):
        for key in ("pre-run", "run", "post-run", "cleanup-run"):
            value = job.get(key)
            for playbook in [value] if isinstance(value, str) else value or []:
                assert (ETC / playbook).is_file(), f"job {job['name']}: {playbook} is missing"
    job = next(j for _, j in _of("job") if j["name"] == "govbot-check-config")
    assert job["vars"]["govbot_config_dir"] == "{{ zuul.project.src_dir }}"
    plays = yaml.safe_load((ETC / job["run"]).read_text())
    commands = [t["ansible.builtin.command"]["cmd"] for play in plays for t in play["tasks"]
                if "ansible.builtin.command" in t]
    assert any("govbot check-config" in c and "{{ govbot_config_dir }}" in c
               for c in commands)


@pytest.fixture(scope="module")
def bot() -> tuple[str, str]:
    """The bot's Gerrit account and label, as the example settings configure them."""
    settings = load_settings(ETC / "govbot.yaml")
    assert settings.gerrit is not None and settings.gerrit.own_username
    label = msgspec.convert(settings.plugins.settings.get("governance", {}),
                            GovernanceSettings).label
    return settings.gerrit.own_username, label


def test_the_governed_gate_requires_the_bots_approval(bot: tuple[str, str]) -> None:
    username, label = bot
    requiring = [p for _, p in _of("pipeline")
                 if any(a.get("username") == username and a.get(label) == 1
                        for a in p.get("require", {}).get("gerrit", {}).get("approval", []))]
    assert [p["name"] for p in requiring] == ["governed-gate"]
    gate = requiring[0]
    triggers = gate["trigger"]["gerrit"]
    assert any(t.get("username") == username and {label: 1} in t.get("approval", [])
               for t in triggers), "the bot's own vote must also trigger the gate"
    used = {key for _, p in _of("project") for key in p}
    assert "governed-gate" in used


def test_gerrit_snippets_define_the_label_and_submit_requirement(bot: tuple[str, str]) -> None:
    username, label = bot
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    text = (ETC / "gerrit" / "project.config").read_text()
    parser.read_string("\n".join(line.strip() for line in text.splitlines()))
    assert parser.has_section(f'label "{label}"')
    requirement = parser[f'submit-requirement "{label}"']
    assert requirement["submittableIf"] == f"label:{label}=+1,user={username}"
    assert parser['access "refs/heads/*"'][f"label-{label}"].startswith("-1..+1 group ")
