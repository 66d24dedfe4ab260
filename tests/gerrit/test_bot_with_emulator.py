"""The bot against the Gerrit emulator over real SSH and HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from govbot.daemon import Daemon
from govbot.gerrit import events as ev
from govbot.testing.gerrit import FakeClock, GerritEmulator
from tests.gerrit.harness import PROJECT, Approver, Recorder, World, make_world, review_posts

START = 1_790_000_000


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(START)) as emulator:
        yield emulator


async def running(world: World, *plugins: object) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = Daemon(world.settings(), plugins=list(plugins))  # type: ignore[arg-type]
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(15):
        await daemon.started.wait()
        assert daemon.gerrit is not None and daemon.gerrit.stream is not None
        await daemon.gerrit.stream.connected.wait()
    await world.emu.wait_for(lambda: world.emu.stream_count >= 1)
    return daemon, task


async def stop(daemon: Daemon, task: asyncio.Task[int]) -> None:
    daemon.stop()
    assert await asyncio.wait_for(task, 15) == 0


async def settle(daemon: Daemon) -> None:
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()


@pytest.mark.parametrize("legacy", [False, True], ids=["modern", "legacy"])
async def test_every_event_type_arrives_typed(emu: GerritEmulator, tmp_path: Path,
                                              legacy: bool) -> None:
    world = await make_world(emu, tmp_path)
    emu.legacy_events = legacy
    recorder = Recorder()
    daemon, task = await running(world, recorder)
    a, b = world.alice, world.bob
    change = await emu.create_change(PROJECT, "master", a, "Add a driver", {"d.py": "x\n"})
    await emu.upload_patchset(change, a, {"d.py": "y\n"})
    await emu.add_reviewer(change, a, b)
    await emu.review(change, b, {"Code-Review": 1}, "ok")
    await emu.set_hashtags(change, a, add=["formal-vote"])
    await emu.set_topic(change, a, "drivers")
    await emu.set_wip(change, a, True)
    await emu.set_private(change, a, True)  # invisible to the bot while private
    await emu.set_private(change, a, False)
    await emu.delete_vote(change, a, b, "Code-Review")
    await emu.remove_reviewer(change, a, b)
    await emu.abandon(change, a, "later")
    await emu.restore(change, a, "now")
    await emu.review(change, b, {"Code-Review": 2})
    await emu.merge(change, b)
    await emu.create_tag(PROJECT, "1.0.0", a)
    other = await emu.create_change(PROJECT, "master", a, "Doomed", {"x": "1\n"})
    await emu.delete_change(other, a)
    emu.emit_raw({"type": "ref-replicated", "project": PROJECT, "ref": "refs/tags/1.0.0"})
    expected = {"patchset-created", "comment-added", "hashtags-changed", "topic-changed",
                "wip-state-changed", "private-state-changed", "reviewer-added",
                "vote-deleted", "reviewer-deleted", "change-abandoned", "change-restored",
                "change-merged", "ref-updated", "change-deleted"}
    emitted = {e["type"] for e in emu.events} - {"ref-replicated", "project-created"}
    assert expected <= emitted

    def seen() -> set[str]:
        return {e.type_name for e in recorder.events}

    try:
        await recorder.wait_for(lambda: expected <= seen())
    except TimeoutError:
        raise AssertionError(f"missing {expected - seen()}") from None
    await settle(daemon)
    assert seen() == emitted  # no unknown or malformed line slipped through as an event
    merged = next(e for e in recorder.events if isinstance(e, ev.ChangeMerged))
    assert merged.project == PROJECT and merged.change.number == change.number
    assert merged.submitter is not None and merged.submitter.username == "bob"
    tag = next(e for e in recorder.events if isinstance(e, ev.RefUpdated)
               and e.ref_update.ref_name == "refs/tags/1.0.0")
    assert tag.project == PROJECT
    assert not any(isinstance(e, ev.RefUpdated) and ev.is_noise(e) for e in recorder.events)
    assert daemon.intake is not None
    assert daemon.intake.parser("stream").stats.unknown["ref-replicated"] == 1
    await stop(daemon, task)


@pytest.mark.parametrize("events_log", [True, False], ids=["events-log", "rest-query"])
async def test_nothing_is_lost_while_the_stream_is_down(emu: GerritEmulator, tmp_path: Path,
                                                        events_log: bool) -> None:
    world = await make_world(emu, tmp_path)
    emu.events_log_enabled = events_log
    recorder = Recorder()
    daemon, task = await running(world, recorder, Approver())
    changes = [await emu.create_change(PROJECT, "master", world.alice, f"Change {i}",
                                       {f"f{i}": "1\n"}) for i in range(5)]
    await recorder.wait_for(lambda: sum(isinstance(e, ev.PatchsetCreated)
                                        for e in recorder.events) == 5)
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    emu.faults.refuse_ssh()
    assert emu.drop_streams() == 1
    emu.clock.advance(60)  # type: ignore[attr-defined]
    for i in range(50):  # 50 events while nobody listens
        await emu.review(changes[i % 5], world.bob if i % 2 else world.alice,
                         {"Code-Review": 1 if i < 45 else 2}, f"review {i}")
    emu.faults.accept_ssh()
    await daemon.gerrit.stream.connected.wait()

    def reviews() -> int:
        return sum(isinstance(e, ev.CommentAdded) and e.text.startswith("review ")
                   for e in recorder.events)

    await recorder.wait_for(lambda: reviews() >= 50, timeout=15)
    await settle(daemon)
    assert reviews() == 50
    # the +2s among them were judged: one vote per change, each posted once
    await emu.wait_for(lambda: len(review_posts(emu)) == 5, timeout=10)
    assert sorted(int(c.path.split("~")[1].split("/")[0]) for c in review_posts(emu)) == \
        sorted(c.number for c in changes)
    source = "events-log" if events_log else "backfill"
    assert daemon.intake is not None and source in daemon.intake.parsers()
    await stop(daemon, task)


async def test_duplicated_events_give_one_vote(emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    daemon, task = await running(world, Approver())
    change = await emu.create_change(PROJECT, "master", world.alice, "Dup", {"a": "1\n"})
    emu.faults.duplicate_events(3, event_type="comment-added")
    await emu.review(change, world.bob, {"Code-Review": 2}, "go")
    await emu.review(change, world.bob, {"Code-Review": 2}, "still go")
    await emu.wait_for(lambda: len(review_posts(emu, change.number)) >= 1)
    await settle(daemon)
    assert len(review_posts(emu, change.number)) == 1
    post = review_posts(emu, change.number)[0]
    assert post.body["labels"] == {"Governance-Check": 1}
    assert post.body["tag"] == "autogenerated:govbot:approver"
    state = emu.change(change.number)
    bot_vote = state.votes[state.current.number]["Governance-Check"][world.bot.account_id]
    assert bot_vote.value == 1
    assert daemon.web is not None
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{daemon.web.bound_port}/metrics") as resp:
        metrics = await resp.text()
    assert 'govbot_gerrit_votes_total{outcome="posted"} 1.0' in metrics
    assert "govbot_gerrit_stream_connected 1.0" in metrics
    assert "govbot_events_duplicate_total" in metrics
    await stop(daemon, task)


async def test_a_5xx_storm_delays_but_does_not_lose_a_vote(emu: GerritEmulator,
                                                          tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    daemon, task = await running(world, Approver())
    change = await emu.create_change(PROJECT, "master", world.alice, "Storm", {"a": "1\n"})
    emu.faults.fail_rest(12, status=503)
    await emu.review(change, world.bob, {"Code-Review": 2}, "approve")
    await emu.wait_for(lambda: len(review_posts(emu, change.number)) == 1, timeout=20)
    assert len(emu.rest_calls(status=503)) == 12
    await settle(daemon)
    assert len(review_posts(emu, change.number)) == 1
    await stop(daemon, task)


async def test_a_403_is_reported_once_and_not_retried(emu: GerritEmulator, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    world = await make_world(emu, tmp_path, bot_max=0)  # the bot may not give +1
    daemon, task = await running(world, Approver())
    change = await emu.create_change(PROJECT, "master", world.alice, "Denied", {"a": "1\n"})
    with caplog.at_level(logging.ERROR):
        await emu.review(change, world.bob, {"Code-Review": 2}, "approve")
        await emu.wait_for(lambda: emu.rest_calls(method="POST", status=403), timeout=10)
        await settle(daemon)
        await emu.review(change, world.alice, {"Code-Review": 2}, "me too")
        await emu.wait_for(lambda: len(emu.events_of("comment-added", change=change)) >= 2)
        await settle(daemon)
    assert len(emu.rest_calls(method="POST", path_contains="/review")) == 1
    refusals = [r for r in caplog.records if "Gerrit refused" in r.getMessage()]
    assert len(refusals) == 1
    text = refusals[0].getMessage()
    assert "Governance-Check+1" in text and "govbot" in text and f"~{change.number}" in text
    await stop(daemon, task)


async def test_webhook_needs_the_secret(emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path, webhook_secret="hook-secret-123")
    recorder = Recorder()
    daemon, task = await running(world, recorder)
    assert daemon.web is not None
    url = f"http://127.0.0.1:{daemon.web.bound_port}/gerrit/webhook"
    import json

    from govbot.testing.samples import sample_event

    body = json.dumps(sample_event("change-restored"))
    async with aiohttp.ClientSession() as http:
        for bad in ({"secret": "wrong"}, {}):
            async with http.post(url, params=bad, data=body) as resp:
                assert resp.status == 403
        async with http.post(url, params={"secret": "hook-secret-123"}, data=body) as resp:
            assert resp.status == 202 and (await resp.json()) == {"accepted": 1}
        async with http.post(url, headers={"X-Govbot-Secret": "hook-secret-123"},
                             data=body) as resp:  # the same event again: de-duplicated
            assert resp.status == 202 and (await resp.json()) == {"accepted": 0}
    await settle(daemon)
    assert [e.type_name for e in recorder.events if isinstance(e, ev.ChangeRestored)] == \
        ["change-restored"]
    await stop(daemon, task)
