"""The durable inbox: persisted before handling, de-duplicated, recovered after a crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govbot.actions import Action, Say
from govbot.gerrit import events as ev
from govbot.intake import Intake
from govbot.plugin import Plugin, PluginContext
from govbot.state.store import StateStore
from govbot.testing.samples import comment_added, sample_event
from tests.helpers import make_dispatcher


class Count(Plugin):
    name = "count"

    def handlers(self) -> dict[type, Any]:
        return {ev.ChangeEvent: self.on}

    async def on(self, event: ev.ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
        return [Say(target="#x", text=event.type_name)]


def line(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


async def run_intake(store: StateStore, batches: list[tuple[str, list[bytes]]]
                     ) -> tuple[list[Action], Intake]:
    dispatcher, recorder = make_dispatcher([Count()])
    intake = Intake(store, dispatcher)
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        for source, lines in batches:
            await intake.accept(source, lines)
        await dispatcher.join()
        await intake.flush()
        runner.cancel()
    return recorder.actions, intake


async def test_same_event_from_stream_webhook_and_events_log_is_handled_once(
        tmp_path: Path) -> None:
    merged = sample_event("change-merged")
    vote = comment_added("example/governance", 1234, "bob", {"Rollcall-Vote": 1},
                         old={"Rollcall-Vote": 0})
    async with StateStore(tmp_path / "s.db") as store:
        actions, intake = await run_intake(store, [
            ("stream", [line(merged), line(vote), line(merged)]),
            ("webhook", [line(vote)]),
            ("events-log", [line(sample_event("change-merged", legacy=True))]),
        ])
        assert [a.text for a in actions if isinstance(a, Say)] == ["change-merged",
                                                                   "comment-added"]
        assert intake.duplicates == 3
        assert await store.inbox_pending() == []


async def test_a_new_run_never_handles_an_old_event_again(tmp_path: Path) -> None:
    async with StateStore(tmp_path / "s.db") as store:
        await run_intake(store, [("stream", [line(sample_event("change-abandoned"))])])
    async with StateStore(tmp_path / "s.db") as store:
        actions, intake = await run_intake(
            store, [("backfill", [line(sample_event("change-abandoned")),
                                  line(sample_event("change-restored"))])])
        assert [a.text for a in actions if isinstance(a, Say)] == ["change-restored"]
        assert intake.duplicates == 1


async def test_recover_queues_what_a_crash_left_unfinished(tmp_path: Path) -> None:
    restored = line(sample_event("change-restored"))
    async with StateStore(tmp_path / "s.db") as store:
        await store.inbox_append([(ev.event_id(ev.parse_event(restored)), "stream", restored),
                                  ("junk-id", "stream", b"not json")])
        dispatcher, recorder = make_dispatcher([Count()])
        intake = Intake(store, dispatcher)
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(dispatcher.run())
            assert await intake.recover() == 2
            await dispatcher.join()
            await intake.flush()
            runner.cancel()
        assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["change-restored"]
        assert await store.inbox_pending() == []


async def test_settle_delay_holds_events_and_keeps_their_order(tmp_path: Path) -> None:
    import time

    async with StateStore(tmp_path / "s.db") as store:
        dispatcher, recorder = make_dispatcher([Count()])
        intake = Intake(store, dispatcher, settle_delay=0.3)
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(dispatcher.run())
            releaser = group.create_task(intake.release_settled())
            started = time.monotonic()
            await intake.accept("stream", [line(sample_event("patchset-created")),
                                           line(sample_event("change-merged"))])
            assert dispatcher.pending == 0 and recorder.actions == []  # held back
            await recorder.wait_for(lambda actions: len(actions) == 2, timeout=5)
            assert time.monotonic() - started >= 0.3
            releaser.cancel()
            runner.cancel()
        assert [a.text for a in recorder.actions if isinstance(a, Say)] == [
            "patchset-created", "change-merged"]


class GovernanceOnly(Count):
    name = "governance-only"

    def wants(self, event_type: type, project: str, ctx: PluginContext) -> bool:
        return project == "example/governance"


async def test_a_line_no_plugin_wants_is_neither_stored_nor_handled(tmp_path: Path) -> None:
    wanted = comment_added("example/governance", 1, "bob", {"Code-Review": 1})
    unwanted = comment_added("example/network", 2, "bob", {"Code-Review": 1})
    dispatcher, recorder = make_dispatcher([GovernanceOnly()])
    async with StateStore(tmp_path / "s.db") as store:
        intake = Intake(store, dispatcher)
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(dispatcher.run())
            kept = await intake.accept("stream", [line(wanted), line(unwanted), line(unwanted)])
            await dispatcher.join()
            await intake.flush()
            runner.cancel()
        assert [p.event.project for p in kept] == ["example/governance"]
        assert [a.text for a in recorder.actions if isinstance(a, Say)] == ["comment-added"]
        ids = [ev.event_id(ev.parse_event(line(d))) for d in (wanted, unwanted)]
        assert await store.inbox_known(ids) == {ids[0]}  # only the wanted one was stored
        stats = intake.parsers()["stream"].stats
        assert stats.unwanted == 2 and sum(stats.parsed.values()) == 1
        assert intake.duplicates == 0  # never compared: not even decoded


async def test_the_flusher_sleeps_while_idle_and_marks_done_soon_after_an_event(
        tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()

    async def quiet() -> bool:
        """Whether nothing is timed on the loop (after the ready callbacks ran)."""
        for _ in range(20):
            await asyncio.sleep(0)
        return not loop._scheduled  # the only way to see the loop's timers

    async with StateStore(tmp_path / "s.db") as store:
        dispatcher, recorder = make_dispatcher([Count()])
        intake = Intake(store, dispatcher, flush_interval=0.05)
        async with asyncio.TaskGroup() as group:
            flusher = group.create_task(intake.run())
            assert await quiet()  # an idle bot is never woken to flush nothing
            runner = group.create_task(dispatcher.run())
            await intake.accept("stream", [line(sample_event("change-merged"))])
            await dispatcher.join()
            assert [i.event_id for i in await store.inbox_pending()] != []
            async with asyncio.timeout(10):  # flushed within the interval of the mark
                for _ in range(1000):  # the database is the condition: polled
                    if not await store.inbox_pending():
                        break
                    await asyncio.sleep(0.01)
            assert await quiet()  # and asleep again
            runner.cancel()
            flusher.cancel()
        assert len(recorder.actions) == 1
