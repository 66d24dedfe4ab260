"""`govbot run`: start, recover the inbox, serve health and metrics, stop cleanly."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from govbot.actions import Action, Say
from govbot.daemon import Daemon, _freeze_startup
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext
from govbot.settings import parse_settings
from govbot.state.store import StateStore
from govbot.testing.samples import sample_event

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"})


@pytest.fixture
def governance_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "governance.git"
    shutil.copytree(ROOT / "etc" / "governance", repo)
    git("init", "-q", "-b", "master", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    return repo


def settings_text(tmp_path: Path, repo: Path) -> str:
    return (f"governance: {{repo: {repo}, poll_interval: 0}}\n"
            f"state: {{path: {tmp_path}/state/govbot.db, workdir: {tmp_path}/state/work}}\n"
            "web: {listen: '127.0.0.1:0'}\n")


class Echo(Plugin):
    name = "echo"
    emits = (Say,)

    def handlers(self) -> dict[type, Any]:
        return {ev.ChangeMerged: self.merged}

    async def merged(self, event: ev.ChangeMerged, ctx: PluginContext) -> Sequence[Action]:
        return [Say(target="#dev", text=f"merged {event.change.key}")]


async def test_unfinished_inbox_events_are_handled_after_a_restart(
        tmp_path: Path, governance_repo: Path) -> None:
    settings = parse_settings(settings_text(tmp_path, governance_repo), "s.yaml",
                              base=tmp_path)
    merged = json.dumps(sample_event("change-merged")).encode()
    async with StateStore(settings.state.path) as store:  # what a crash left behind
        seqs = await store.inbox_append([(ev.event_id(ev.parse_event(merged)), "gerrit", merged)])
    daemon = Daemon(settings, dry_run=True, plugins=[Echo()])
    runner = asyncio.create_task(daemon.run())
    await daemon.recorder.wait_for(lambda actions: len(actions) == 1, timeout=10)
    assert daemon.recorder.actions[0] == Say(
        target="#dev", text="merged example/governance~1234", plugin="echo",
        event_id=ev.event_id(ev.parse_event(merged)))
    # health and metrics are served while it runs
    assert daemon.web is not None
    base = f"http://127.0.0.1:{daemon.web.bound_port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
            health = await resp.json()
            assert health["status"] == "ok" and len(health["config_revision"]) == 40
        async with http.get(f"{base}/metrics") as resp:
            text = await resp.text()
            assert 'govbot_plugin_actions_total{plugin="echo"} 1.0' in text
    daemon.stop()
    assert await asyncio.wait_for(runner, 10) == 0
    async with StateStore(settings.state.path) as store:
        assert await store.inbox_pending() == []  # marked done on the way out
    assert seqs


async def test_a_broken_config_at_start_refuses_to_start(tmp_path: Path,
                                                        governance_repo: Path) -> None:
    (governance_repo / "bodies.yaml").write_text("tc: {members: [nobody-at-all]}\n")
    git("commit", "-q", "-am", "break it", cwd=governance_repo)
    settings = parse_settings(settings_text(tmp_path, governance_repo), "s.yaml",
                              base=tmp_path)
    assert await Daemon(settings, dry_run=True, plugins=[Echo()]).run() == 1


async def read_until(stream: asyncio.StreamReader, needle: str, seen: list[str],
                     timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"stream ended before {needle!r}:\n{''.join(seen)}")
            seen.append(line)
            if needle in line:
                return


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_the_command_stops_cleanly_on_a_signal(tmp_path: Path, governance_repo: Path,
                                                     sig: signal.Signals) -> None:
    config = tmp_path / "govbot.yaml"
    config.write_text(settings_text(tmp_path, governance_repo))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", "--log-format", "json", "run", "--config", str(config),
        "--dry-run", stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        await read_until(proc.stderr, "govbot running", seen)
        proc.send_signal(sig)
        await read_until(proc.stderr, "stopped", seen)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    records = [json.loads(line) for line in seen]
    assert all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["message"].startswith("stopping") for r in records)


class ConfigWatcher(Plugin):
    name = "config-watcher"
    emits = (Say,)

    def handlers(self) -> dict[type, Any]:
        from govbot.events import ConfigRejected, ConfigReloaded

        return {ConfigReloaded: self.reloaded, ConfigRejected: self.rejected}

    async def reloaded(self, event: Any, ctx: PluginContext) -> Sequence[Action]:
        return [Say(target="#config", text=f"now {event.new_revision[:7]}")]

    async def rejected(self, event: Any, ctx: PluginContext) -> Sequence[Action]:
        return [Say(target="#config", text=f"rejected {event.revision[:7]}, keeping "
                                           f"{event.kept_revision[:7]}: "
                                           + " | ".join(event.errors))]


async def test_a_bad_merge_keeps_the_old_config_and_says_so(tmp_path: Path,
                                                           governance_repo: Path) -> None:
    settings = parse_settings(settings_text(tmp_path, governance_repo), "s.yaml",
                              base=tmp_path)
    daemon = Daemon(settings, dry_run=True, plugins=[ConfigWatcher()])
    runner = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.started.wait(), 10)
    assert daemon.config_holder is not None
    good = daemon.config_holder.revision
    people = daemon.config_holder.config.people
    # at start-up the plugins hear of the config in force
    said = await daemon.recorder.wait_for(lambda a: len(a) == 1)
    assert said[0].text == f"now {good[:7]}"  # type: ignore[attr-defined]
    daemon.recorder.actions.clear()

    (governance_repo / "people.yaml").write_text("- id: x\n  nmae: X\n")
    git("commit", "-q", "-am", "break it", cwd=governance_repo)
    await daemon.reload_config("test", False)
    said = await daemon.recorder.wait_for(lambda a: len(a) == 1)
    assert said[0].text.startswith("rejected ")  # type: ignore[attr-defined]
    assert "people.yaml:2: unknown key 'nmae'" in said[0].text  # type: ignore[attr-defined]
    assert daemon.config_holder.revision == good
    assert daemon.config_holder.config.people is people  # untouched, still in force

    await daemon.reload_config("poll again", False)  # the same broken revision: quiet
    (governance_repo / "people.yaml").write_text("[]\n")
    (governance_repo / "bodies.yaml").write_text("{}\n")
    git("commit", "-q", "-am", "fix it", cwd=governance_repo)
    await daemon.reload_config("test", False)
    said = await daemon.recorder.wait_for(lambda a: len(a) == 2)
    assert said[1].text == f"now {daemon.config_holder.revision[:7]}"  # type: ignore[attr-defined]
    assert daemon.config_holder.revision != good
    daemon.stop()
    assert await asyncio.wait_for(runner, 10) == 0


async def test_the_web_server_serves_the_meeting_calendar(tmp_path: Path,
                                                          governance_repo: Path) -> None:
    from govbot.plugins.reminders.plugin import RemindersPlugin

    settings = parse_settings(settings_text(tmp_path, governance_repo), "s.yaml",
                              base=tmp_path)
    for plugins in ([RemindersPlugin()], [Echo()]):
        daemon = Daemon(settings, dry_run=True, plugins=plugins)
        runner = asyncio.create_task(daemon.run())
        await asyncio.wait_for(daemon.started.wait(), 10)
        assert daemon.web is not None
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{daemon.web.bound_port}/calendar.ics") as resp:
            body = await resp.text()
            if isinstance(plugins[0], RemindersPlugin):
                assert resp.status == 200 and resp.content_type == "text/calendar"
                assert body.startswith("BEGIN:VCALENDAR") and "Technical Committee" in body
            else:  # no plugin reads meeting schedules: nothing to serve
                assert resp.status == 404
        daemon.stop()
        assert await asyncio.wait_for(runner, 10) == 0


async def test_govbot_run_freezes_what_start_up_left_once_the_daemon_runs() -> None:
    """`govbot run`'s entry point collects and freezes start-up's objects once the daemon
    has started, so that no full collection of them lands on one of the first events."""
    class Starting:
        started = asyncio.Event()

    assert gc.get_freeze_count() == 0
    daemon = Starting()
    task = asyncio.create_task(_freeze_startup(daemon))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0)
        assert not task.done() and gc.get_freeze_count() == 0  # not before it runs
        daemon.started.set()
        await asyncio.wait_for(task, 10)
        assert gc.get_freeze_count() > 1000  # modules, functions, this test's objects
    finally:
        gc.unfreeze()  # the rest of the suite runs with the collector as usual
