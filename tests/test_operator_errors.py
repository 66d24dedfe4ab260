"""Start-up errors an operator can act on: every problem at once, one line each, exit
2, no traceback, and nothing created (no state directory, no clone) before that."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from govbot.daemon import Daemon
from govbot.settings import parse_settings
from tests.gerrit.harness import ROOT, governance_repo


def run(settings: str, tmp: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    path = tmp / "govbot.yaml"
    path.write_text(settings)
    return subprocess.run([sys.executable, "-m", "govbot", "run", "--config", str(path), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def one_line_each(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_every_missing_secret_is_reported_at_once_before_anything_is_created(
        tmp_path: Path) -> None:
    repo = governance_repo(tmp_path)
    result = run(
        f"governance: {{repo: {repo}}}\n"
        f"state: {{path: {tmp_path}/state/govbot.db, workdir: {tmp_path}/state/work}}\n"
        "gerrit:\n  url: http://127.0.0.1:1\n"
        "  http: {username: govbot, password: {env: GOVBOT_TEST_NO_SUCH_VAR}}\n"
        "irc: {host: 127.0.0.1, port: 1, nick: govbot,\n"
        "      sasl: {username: govbot, password: {env: GOVBOT_TEST_NOR_THIS}}}\n"
        f"web: {{listen: '127.0.0.1:0', webhook_secret: {{file: {tmp_path}/nope}}}}\n",
        tmp_path)
    errors = one_line_each(result)
    assert any("gerrit.http.password" in e and "GOVBOT_TEST_NO_SUCH_VAR" in e for e in errors)
    assert any("irc.sasl.password" in e and "GOVBOT_TEST_NOR_THIS" in e for e in errors)
    assert any("web.webhook_secret" in e and f"{tmp_path}/nope" in e for e in errors)
    assert not (tmp_path / "state").exists()  # no database, no clone


def test_every_settings_error_at_once_with_a_tab_hint(tmp_path: Path) -> None:
    result = run("governance: {repo: x, ulr: y}\nirc: {host: h, port: 'many', nick: n}\n",
                 tmp_path)
    errors = one_line_each(result)
    assert len(errors) >= 2, errors
    assert any("ulr" in e for e in errors) and any("irc.port" in e for e in errors)
    tabbed = run("governance:\n\trepo: x\n", tmp_path)
    (error,) = one_line_each(tabbed)
    assert "govbot.yaml:2:" in error and "spaces" in error, error


def test_a_local_config_repo_that_is_no_git_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    result = run(f"governance: {{repo: {tmp_path}/plain}}\n"
                 f"state: {{path: {tmp_path}/state/db, workdir: {tmp_path}/state/w}}\n"
                 "web: {listen: '127.0.0.1:0'}\n", tmp_path)
    (error,) = one_line_each(result)
    assert "is not a git repository" in error and "git init" in error
    assert not (tmp_path / "state").exists()


def test_a_busy_port_an_unusable_state_dir_and_a_missing_git_are_one_line_each(
        tmp_path: Path) -> None:
    repo = governance_repo(tmp_path)
    (tmp_path / "afile").write_text("not a directory\n")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(f"governance: {{repo: {repo}}}\n"
                     f"state: {{path: {tmp_path}/afile/govbot.db, workdir: {tmp_path}/w}}\n"
                     f"web: {{listen: '127.0.0.1:{port}'}}\n", tmp_path,
                     env={"PATH": str(tmp_path / "empty-bin")})
    errors = one_line_each(result)
    assert len(errors) == 3, errors
    assert any(f"web.listen 127.0.0.1:{port}" in e and "in use" in e for e in errors)
    assert any("state.path" in e and "is a file" in e for e in errors)
    assert any("git is not installed" in e for e in errors)
    assert not (tmp_path / "w").exists()


async def test_dry_run_says_what_it_will_not_do(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    repo = governance_repo(tmp_path)
    settings = parse_settings(
        f"governance: {{repo: {repo}, poll_interval: 0}}\n"
        "irc: {host: 127.0.0.1, port: 1, nick: govbot}\n"
        f"state: {{path: {tmp_path}/state/govbot.db, workdir: {tmp_path}/state/work}}\n"
        "web: {listen: '127.0.0.1:0'}\n", str(tmp_path / "govbot.yaml"), base=tmp_path)
    daemon = Daemon(settings, dry_run=True, plugins=[])
    with caplog.at_level(logging.INFO, logger="govbot"):
        import asyncio

        task = asyncio.create_task(daemon.run())
        await asyncio.wait_for(daemon.started.wait(), 15)
        daemon.stop()
        assert await asyncio.wait_for(task, 15) == 0
    text = caplog.text
    assert "dry run: not connecting to IRC" in text
    assert "nothing is posted to Gerrit" in text
    assert daemon.irc is None


def test_status_reads_without_creating_the_state_directory(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    settings = tmp_path / "govbot.yaml"
    settings.write_text(f"governance: {{repo: {tmp_path}/plain}}\n"
                        f"state: {{path: {tmp_path}/state/db, workdir: {tmp_path}/state/w}}\n"
                        "gerrit: {url: 'http://127.0.0.1:1'}\n")
    result = subprocess.run([sys.executable, "-m", "govbot", "status", "--config",
                             str(settings)], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "is not a git repository" in result.stderr
    assert not (tmp_path / "state").exists()


def test_the_shipped_example_settings_need_only_their_secrets(tmp_path: Path) -> None:
    """etc/govbot.yaml as shipped, after README's `tools/example-config`: the config repo
    is found, and what is left is the operator's secrets, all named at once."""
    subprocess.run([str(ROOT / "tools" / "example-config")], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    result = subprocess.run([sys.executable, "-m", "govbot", "run", "--config",
                             str(ROOT / "etc" / "govbot.yaml"), "--dry-run"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env=env)
    errors = one_line_each(result)
    settings = [e.split(":")[1].strip() for e in errors]
    assert settings[:3] == ["web.webhook_secret", "gerrit.http.password",
                            "irc.sasl.password"], errors
    # Not root: /var/lib/govbot (the container's volume) is not writable here, said so.
    assert all(s.startswith("state.") for s in settings[3:]), errors
