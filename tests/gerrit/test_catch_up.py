"""Catch-up at real scale and under real faults (issue 12, items 1 and 2): outages longer
than one events-log answer, a stream cut again and again under load, an events-log (and a
whole REST API) answering 500 for two minutes, and lines no parser should die of."""

from __future__ import annotations

import asyncio
import collections
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from govbot.actions import Action
from govbot.daemon import Daemon
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext
from govbot.testing.gerrit import Change, FakeClock, GerritEmulator
from tests.gerrit.harness import PROJECT, Approver, World, make_world, review_posts

START = 1_790_000_000
#: Events in the stream-cut test; the issue's figure is 100k (run by hand:
#: GOVBOT_CUT_TEST_EVENTS=100000); the suite runs a size that still spans many cuts, many
#: dropped-output gaps and several events-log pages.
CUT_TEST_EVENTS = int(os.environ.get("GOVBOT_CUT_TEST_EVENTS", "20000"))
CATCH_UP = "  catchup_max_delay: 0.2\n"


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(START)) as emulator:
        yield emulator


class Reviews(Plugin):
    """Counts the comments it is handed, by text; wakes waiters on every event."""

    name = "reviews"

    def __init__(self) -> None:
        self.texts: collections.Counter[str] = collections.Counter()
        self.events = 0
        self.largest = 0
        self._changed = asyncio.Event()

    def handlers(self) -> dict[type, Any]:
        return {ev.Event: self.on_any}

    async def on_any(self, event: ev.Event, ctx: PluginContext) -> Sequence[Action]:
        self.events += 1
        # Change queries turn the "Uploaded patch set N." messages into comments too.
        if isinstance(event, ev.CommentAdded) and not event.text.startswith("Uploaded"):
            self.texts[event.text] += 1
            self.largest = max(self.largest, len(event.comment))
        self._changed.set()
        return ()

    async def wait(self, distinct: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while len(self.texts) < distinct:
                self._changed.clear()
                await self._changed.wait()

    async def wait_events(self, count: int, timeout: float = 15) -> None:
        async with asyncio.timeout(timeout):
            while self.events < count:
                self._changed.clear()
                await self._changed.wait()


async def running(world: World, *plugins: Plugin) -> tuple[Daemon, asyncio.Task[int]]:
    daemon = Daemon(world.settings(), plugins=list(plugins))
    task = asyncio.create_task(daemon.run())
    async with asyncio.timeout(15):
        await daemon.started.wait()
        assert daemon.gerrit is not None and daemon.gerrit.stream is not None
        await daemon.gerrit.stream.connected.wait()
    await world.emu.wait_for(lambda: world.emu.stream_count >= 1)
    return daemon, task


async def stop(daemon: Daemon, task: asyncio.Task[int]) -> None:
    daemon.stop()
    assert await asyncio.wait_for(task, 30) == 0


async def caught_up(daemon: Daemon, timeout: float = 60) -> None:
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    catchup = daemon.gerrit.stream.catchup
    async with asyncio.timeout(timeout):
        while daemon.gerrit.stream.coverage.gaps:
            catchup.done.clear()
            await catchup.done.wait()
    assert daemon.dispatcher is not None
    await daemon.dispatcher.join()


async def some_changes(world: World, count: int) -> list[Change]:
    return [await world.emu.create_change(PROJECT, "master", world.alice, f"Change {i}",
                                          {f"f{i}": "1\n"}) for i in range(count)]


def voted_changes(emu: GerritEmulator) -> collections.Counter[int]:
    return collections.Counter(int(c.path.split("~")[1].split("/")[0])
                               for c in review_posts(emu))


async def reviews(world: World, changes: list[Change], first: int, count: int, *,
                  per_second: int, approve_from: int) -> None:
    """`count` reviews numbered from `first`; from number `approve_from` on, bob gives the
    even changes a +2 (the Approver's cue), every other review is a +1."""
    emu = world.emu
    for i in range(first, first + count):
        if i % per_second == 0:
            emu.clock.advance(1)  # type: ignore[attr-defined]
        change = changes[i % len(changes)]
        approve = i >= approve_from and change.number % 2 == 0
        await emu.review(change, world.bob if approve else world.alice,
                         {"Code-Review": 2 if approve else 1}, f"review {i}")
        if i % 100 == 99:
            await asyncio.sleep(0)  # let the stream write: a burst, not one blocked lump


async def test_a_20000_event_outage_is_read_page_by_page(emu: GerritEmulator,
                                                         tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path, gerrit_extra=CATCH_UP)
    before = Reviews()
    daemon, task = await running(world, before, Approver())
    changes = await some_changes(world, 100)
    await before.wait_events(100)  # the patch sets: the coverage knows where it is
    await stop(daemon, task)
    logged = len(emu.events)
    # 10,000 reviews while the bot is down; with NoteDb's meta-ref updates, 20,000 events.
    await reviews(world, changes, 0, 10_000, per_second=50, approve_from=9_900)
    assert len(emu.events) - logged == 20_000 and emu.rest.events_log_limit == 5000
    after = Reviews()
    daemon, task = await running(world, after, Approver())
    await after.wait(10_000, timeout=120)
    await caught_up(daemon)
    assert after.texts == {f"review {i}": 1 for i in range(10_000)}  # each exactly once
    await emu.wait_for(lambda: len(review_posts(emu)) >= 50, timeout=30)
    assert voted_changes(emu) == {c.number: 1 for c in changes if c.number % 2 == 0}
    assert daemon.gerrit is not None
    stats = daemon.gerrit.stats()
    assert stats.catchup_pages >= 5 and stats.gaps_open == 0 and stats.oldest_unread == 0
    await stop(daemon, task)


async def test_a_full_page_of_one_second_is_finished_from_change_queries(
        emu: GerritEmulator, tmp_path: Path) -> None:
    emu.rest.events_log_limit = 20
    world = await make_world(emu, tmp_path, gerrit_extra=CATCH_UP + "  events_log_limit: 20\n")
    before = Reviews()
    daemon, task = await running(world, before, Approver())
    changes = await some_changes(world, 6)
    await before.wait_events(6)
    await stop(daemon, task)
    emu.clock.advance(60)  # type: ignore[attr-defined]
    # 60 reviews (120 events) in one second: no t1 pages past it
    await reviews(world, changes, 1, 60, per_second=1_000, approve_from=40)
    after = Reviews()
    daemon, task = await running(world, after, Approver())
    await after.wait(60, timeout=30)
    await caught_up(daemon)
    # Events re-created from change queries cannot always be told from the events-log's
    # copies (their votes carry no old values), so some arrive twice: votes stay single.
    assert set(after.texts) == {f"review {i}" for i in range(1, 61)}
    window = [c for c in emu.rest_calls(method="GET", path_contains="/changes/")
              if any(q.startswith("after:") for q in c.query.get("q", []))]
    assert window, "the second was not finished from change queries"
    assert daemon.gerrit is not None and daemon.gerrit.stats().catchup_fallbacks == 0
    await emu.wait_for(lambda: len(review_posts(emu)) >= 3, timeout=15)
    assert voted_changes(emu) == {c.number: 1 for c in changes if c.number % 2 == 0}
    await stop(daemon, task)


async def test_bursts_with_the_stream_cut_again_and_again(emu: GerritEmulator,
                                                          tmp_path: Path) -> None:
    emu.meta_ref_events = False  # every event is a review: the count is the issue's
    world = await make_world(emu, tmp_path, gerrit_extra=CATCH_UP)
    seen = Reviews()
    daemon, task = await running(world, seen, Approver())
    changes = await some_changes(world, 200)
    await seen.wait_events(200, timeout=30)
    burst, total = 2_000, CUT_TEST_EVENTS
    for first in range(0, total, burst):
        await reviews(world, changes, first, burst // 2, per_second=burst,
                      approve_from=total - 400)
        emu.drop_streams()  # mid-burst: the rest of it goes to the events-log only
        await emu.wait_for(lambda: emu.stream_count == 0, timeout=30)
        await reviews(world, changes, first + burst // 2, burst // 2, per_second=burst,
                      approve_from=total - 400)
        await emu.wait_for(lambda: emu.stream_count >= 1, timeout=30)
    await seen.wait(total, timeout=600)
    await caught_up(daemon, timeout=120)
    lost = total - len(seen.texts)
    twice = sum(n - 1 for n in seen.texts.values())
    await emu.wait_for(lambda: len(review_posts(emu)) >= 100, timeout=60)
    votes = voted_changes(emu)
    doubled = sum(n - 1 for n in votes.values())
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    print(f"\n{total} events, {daemon.gerrit.stream.connects} sessions, "
          f"{daemon.gerrit.stats().catchup_reads} gaps read, "
          f"{daemon.gerrit.stats().catchup_pages} pages: lost {lost}, handled twice "
          f"{twice}, votes {len(votes)}, doubled {doubled}")
    assert lost == 0 and doubled == 0
    assert set(votes) == {c.number for c in changes if c.number % 2 == 0}
    assert daemon.gerrit.stream.connects > total // burst
    await stop(daemon, task)


@pytest.mark.parametrize("failing", ["/plugins/events-log/", None],
                         ids=["events-log", "every-rest-call"])
async def test_two_minutes_of_500_after_a_reconnect_lose_nothing(
        emu: GerritEmulator, tmp_path: Path, failing: str | None) -> None:
    world = await make_world(emu, tmp_path, gerrit_extra=CATCH_UP)
    seen = Reviews()
    daemon, task = await running(world, seen, Approver())
    changes = await some_changes(world, 10)
    await seen.wait_events(10)
    assert daemon.gerrit is not None and daemon.gerrit.stream is not None
    emu.faults.refuse_ssh()
    emu.drop_streams()
    await emu.wait_for(lambda: emu.stream_count == 0, timeout=15)
    await reviews(world, changes, 0, 300, per_second=100, approve_from=290)
    emu.faults.fail_rest_for(120, status=500, path_contains=failing)  # on the emulator's clock
    emu.faults.accept_ssh()
    await emu.wait_for(lambda: emu.stream_count >= 1, timeout=15)
    # Live events move the newest second on past the unread range meanwhile (no +2s:
    # a vote retried against a failing Gerrit is another test's subject).
    await reviews(world, changes, 300, 10, per_second=100, approve_from=10**9)
    if failing is not None:  # change queries read the gap instead
        await seen.wait(310, timeout=30)
        await caught_up(daemon)
        assert daemon.gerrit.stats().catchup_fallbacks >= 1
    else:  # nothing answers: the gap is kept, retried, kept across a restart
        stats = daemon.gerrit.stats
        await emu.wait_for(lambda: stats().catchup_failures >= 3, timeout=30)
        assert stats().gaps_open == 1 and stats().oldest_unread >= START - 5
        assert daemon.web is not None
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{daemon.web.bound_port}/metrics") as resp:
            metrics = await resp.text()
        assert "govbot_gerrit_gaps_open 1.0" in metrics
        assert f"govbot_gerrit_oldest_unread_seconds {float(stats().oldest_unread):.9e}" in metrics
        assert "govbot_gerrit_catchup_failures_total" in metrics
        assert "govbot_gerrit_catchup_pages_total" in metrics
        await stop(daemon, task)
        daemon, task = await running(world, seen, Approver())
        assert daemon.gerrit is not None
        # the old range, restored from the state store (beside the new session's own)
        assert daemon.gerrit.stats().oldest_unread == START - 5
        emu.clock.advance(120)  # type: ignore[attr-defined]
        await seen.wait(310, timeout=30)
        await caught_up(daemon)
    assert set(seen.texts) == {f"review {i}" for i in range(310)}
    await emu.wait_for(lambda: len(review_posts(emu)) >= 5, timeout=30)
    assert voted_changes(emu) == {c.number: 1 for c in changes if c.number % 2 == 0}
    await stop(daemon, task)


def deep_line(depth: int = 1_000) -> str:
    head = f'{{"type":"comment-added","eventCreatedOn":{START},"comment":'
    return head + '{"a":' * depth + "1" + "}" * depth + "}"


async def test_no_line_stops_the_daemon(emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    seen = Reviews()
    daemon, task = await running(world, seen)
    [change] = await some_changes(world, 1)
    await emu.review(change, world.alice, {"Code-Review": 1}, "before")
    await seen.wait(1, timeout=10)
    emu.send_raw_line(deep_line(), events_log=False)
    emu.send_raw_line("[" * 1_000 + "]" * 1_000, events_log=False)
    big = dict(emu.events_of("comment-added")[-1])
    big["comment"] = "Patch Set 1:\n\n" + "x" * (5 * 1024 * 1024)
    big["eventCreatedOn"] += 1
    emu.emit_raw(big)  # a valid 5 MiB event
    emu.send_raw_line('{"type":"comment-added","comment":"' + "y" * (100 * 1024 * 1024)
                      + '"}', events_log=False)
    await emu.review(change, world.alice, {"Code-Review": 1}, "after")
    await seen.wait(3, timeout=60)
    assert not task.done()
    assert seen.largest > 5 * 1024 * 1024 and {"before", "after"} <= set(seen.texts)
    assert daemon.gerrit is not None and daemon.gerrit.stats().stream_lines_too_long == 1
    assert daemon.intake is not None
    assert daemon.intake.parser("stream").stats.malformed >= 2
    await stop(daemon, task)


async def test_a_bad_event_in_the_events_log_costs_only_itself(emu: GerritEmulator,
                                                               tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    seen = Reviews()
    daemon, task = await running(world, seen)
    [change] = await some_changes(world, 1)
    await seen.wait_events(1)
    await stop(daemon, task)
    emu.clock.advance(10)  # type: ignore[attr-defined]
    await emu.review(change, world.alice, {"Code-Review": 1}, "before")
    emu.send_raw_line(deep_line())
    emu.send_raw_line("{not json")
    await emu.review(change, world.alice, {"Code-Review": 1}, "after")
    daemon, task = await running(world, seen)
    await seen.wait(2, timeout=20)
    await caught_up(daemon)
    assert {"before", "after"} <= set(seen.texts)
    assert daemon.intake is not None
    assert daemon.intake.parser("events-log").stats.malformed >= 2  # counted, skipped
    assert daemon.gerrit is not None and daemon.gerrit.stats().catchup_fallbacks == 0
    await stop(daemon, task)

