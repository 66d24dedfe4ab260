"""/readyz and /metrics tell the truth about the Gerrit stream (emulator, real SSH)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from govbot.daemon import Daemon
from govbot.health import Readiness
from govbot.plugin import Plugin
from govbot.testing.gerrit import FakeClock, GerritEmulator
from tests.gerrit.harness import (
    PROJECT,
    Approver,
    Recorder,
    World,
    make_world,
    review_posts,
)

START = 1_790_000_000


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(START)) as emulator:
        yield emulator


async def start(world: World, settings_text: str | None = None,
                *plugins: Plugin) -> tuple[Daemon, asyncio.Task[int]]:
    if settings_text is not None:
        world.settings_path.write_text(settings_text)
    daemon = Daemon(world.settings(), plugins=[Approver(), *plugins])
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.started.wait(), 15)
    return daemon, task


async def get(daemon: Daemon, path: str) -> tuple[int, Any]:
    assert daemon.web is not None
    url = f"http://127.0.0.1:{daemon.web.bound_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await (response.json() if path == "/readyz" else response.text())
        return response.status, body


def stream_health(daemon: Daemon) -> Readiness:
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    return daemon.gerrit.stream.health


async def stop(daemon: Daemon, task: asyncio.Task[int]) -> None:
    daemon.stop()
    assert await asyncio.wait_for(task, 15) == 0


async def test_readyz_names_gerrit_while_the_stream_is_down_and_recovers_after_catch_up(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    recorder = Recorder()
    daemon, task = await start(world, None, recorder)
    readiness = stream_health(daemon)
    await readiness.wait_until(lambda s: s.ready)
    status, body = await get(daemon, "/readyz")
    assert status == 200, body
    assert body["parts"]["config"]["ready"] and body["parts"]["gerrit"]["ready"]
    change = await emu.create_change(PROJECT, "master", world.alice, "Before", {"a": "1\n"})
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    stream = daemon.gerrit.stream
    await recorder.wait_for(lambda: bool(recorder.events))
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()
    assert stream.coverage.newest > 0  # so the reconnect catches up from there

    emu.faults.refuse_ssh()
    assert emu.drop_streams() == 1
    await readiness.wait_until(lambda s: not s.ready)
    status, body = await get(daemon, "/readyz")
    assert status == 503 and body["not_ready"] == ["gerrit"], body
    gerrit = body["parts"]["gerrit"]
    assert "disconnected" in gerrit["reason"] and gerrit["since"] > 0
    assert "fault" not in gerrit  # a refused connection is transient
    _, text = await get(daemon, "/metrics")
    assert 'govbot_ready{part="gerrit"} 0.0' in text

    emu.clock.advance(60)  # type: ignore[attr-defined]
    await emu.review(change, world.bob, {"Code-Review": 2}, "while nobody listens")
    emu.faults.accept_ssh()
    # Ready again only once the missed review was caught up and handled: voted on.
    await readiness.wait_until(lambda s: s.ready, timeout=15)
    assert stream.catchup.reads >= 1
    await emu.wait_for(lambda: len(review_posts(emu, change.number)) == 1, timeout=10)
    status, body = await get(daemon, "/readyz")
    assert status == 200 and body["not_ready"] == [], body
    await stop(daemon, task)


async def test_a_missing_key_file_is_a_permanent_fault_in_readyz_and_metrics(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    text = world.settings_path.read_text().replace(str(tmp_path / "bot_key"),
                                                   str(tmp_path / "no_such_key"))
    daemon, task = await start(world, text)
    readiness = stream_health(daemon)
    status_now = await readiness.wait_until(lambda s: bool(s.fault))
    assert "gerrit.ssh.key_file" in status_now.fault and "no_such_key" in status_now.fault
    status, body = await get(daemon, "/readyz")
    assert status == 503 and "gerrit" in body["not_ready"], body
    assert "put the bot's private key there" in body["parts"]["gerrit"]["fault"]
    _, metrics = await get(daemon, "/metrics")
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    faults = {tuple(sorted(s.labels.items())): s.value
              for s in families["govbot_permanent_faults"].samples
              if s.name == "govbot_permanent_faults_total"}
    assert faults == {(("kind", "key_file"), ("part", "gerrit")): 1.0}
    # Fixed without a restart: the key appears, the next (slow) retry connects.
    (tmp_path / "bot_key").rename(tmp_path / "no_such_key")
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    daemon.gerrit.stream.max_backoff = 0.1
    await readiness.wait_until(lambda s: s.ready, timeout=15)
    assert not readiness.status().fault
    await stop(daemon, task)


async def test_metrics_parse_and_answer_the_operators_questions(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    daemon, task = await start(world)
    await stream_health(daemon).wait_until(lambda s: s.ready)
    change = await emu.create_change(PROJECT, "master", world.alice, "Voted", {"v": "1\n"})
    await emu.review(change, world.bob, {"Code-Review": 2})
    await emu.wait_for(lambda: len(review_posts(emu, change.number)) == 1, timeout=10)
    await daemon.reload_config("test", False)
    status, text = await get(daemon, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("govbot_gerrit_vote_latency_seconds", "govbot_gerrit_rest_latency_seconds",
                 "govbot_ready", "govbot_ready_state_seconds", "govbot_permanent_faults",
                 "govbot_config_reloads", "govbot_config_errors", "govbot_events_pending",
                 "govbot_gerrit_votes", "govbot_gerrit_stream_connected",
                 "govbot_journals_open", "govbot_wakeups_fired", "govbot_wakeups_late",
                 "govbot_plugin_counter"):
        assert name in families, name

    def sample(family: str, name: str, **labels: str) -> float:
        return next(s.value for s in families[family].samples
                    if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    assert sample("govbot_gerrit_vote_latency_seconds",
                  "govbot_gerrit_vote_latency_seconds_count") == 1
    assert sample("govbot_gerrit_vote_latency_seconds",
                  "govbot_gerrit_vote_latency_seconds_bucket", le="+Inf") == 1
    assert sample("govbot_gerrit_rest_latency_seconds",
                  "govbot_gerrit_rest_latency_seconds_count") >= 1
    assert sample("govbot_ready", "govbot_ready", part="gerrit") == 1
    assert sample("govbot_ready", "govbot_ready", part="config") == 1
    assert sample("govbot_config_reloads", "govbot_config_reloads_total",
                  outcome="unchanged") == 1
    await stop(daemon, task)
