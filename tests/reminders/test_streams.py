"""Streams and the catch-up rule, without the daemon: pure functions and one handler."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from govbot.actions import Remember, Say, WakeAt
from govbot.events import Wakeup
from govbot.plugin import MemoryState, NoGerrit, PluginContext, PluginRegistry
from govbot.plugins.governance.plugin import GovernancePlugin
from govbot.plugins.reminders.config import Deadline, Digest
from govbot.plugins.reminders.plugin import RemindersPlugin
from govbot.plugins.reminders.streams import (
    DeadlineStream,
    DigestStream,
    Record,
    advance,
    span,
)
from tests.reminders.kit import at, loaded, make_repo

MINUTE = dt.timedelta(minutes=1)
TC = """project: TC
chair: c
description: d
schedule:
  - {time: '1500', day: Thursday, irc: example-tc, frequency: weekly, start_date: 20260101}
"""


def deadline(*offsets: dt.timedelta) -> DeadlineStream:
    item = Deadline(id="d", title="Freeze", at=at(2026, 12, 1, 12), channels=("#x",))
    return DeadlineStream("deadline:d", item, offsets)


def test_due_within_grace_is_sent_older_is_dropped_and_the_next_is_named() -> None:
    stream = deadline(dt.timedelta(days=7), dt.timedelta(days=1), dt.timedelta(hours=1),
                      dt.timedelta(0))
    progress = advance(stream, at(2026, 11, 20), at(2026, 11, 30, 12, 10), 15 * MINUTE)
    assert [d.at for d in progress.dropped] == [at(2026, 11, 24, 12)]  # 6 days late
    assert [d.at for d in progress.send] == [at(2026, 11, 30, 12)]  # 10 minutes late
    assert progress.cursor == at(2026, 11, 30, 12)
    assert progress.next is not None and progress.next.at == at(2026, 12, 1, 11)
    # handling it again at the same moment does nothing more
    again = advance(stream, progress.cursor, at(2026, 11, 30, 12, 10), 15 * MINUTE)
    assert (again.send, again.dropped, again.cursor) == ((), (), progress.cursor)


def test_the_last_due_ends_the_stream() -> None:
    progress = advance(deadline(dt.timedelta(0)), at(2026, 11, 1), at(2026, 12, 1, 12),
                       MINUTE)
    assert [d.at for d in progress.send] == [at(2026, 12, 1, 12)] and progress.next is None


def test_missed_digests_collapse_into_the_latest() -> None:
    stream = DigestStream("digest:x", Digest(key="x", time=dt.time(9), days=(0, 2, 4)))
    progress = advance(stream, at(2026, 11, 2, 10), at(2026, 11, 6, 9, 30),
                       dt.timedelta(days=7))
    assert [d.at for d in progress.send] == [at(2026, 11, 6, 9)]  # Friday's only
    assert [d.at for d in progress.dropped] == [at(2026, 11, 4, 9)]  # Wednesday's
    assert progress.next is not None and progress.next.at == at(2026, 11, 9, 9)  # Monday


def test_span_rounds_up_to_the_minute() -> None:
    assert [span(d) for d in (dt.timedelta(seconds=30), 10 * MINUTE, dt.timedelta(hours=25),
                              dt.timedelta(days=7), dt.timedelta(0))] == [
        "1 minute", "10 minutes", "1 day 1 hour", "7 days", "0 minutes"]


def test_record_round_trip() -> None:
    record = Record(at(2026, 11, 26, 14, 50), 2)
    assert Record.from_json(record.to_json()) == record
    assert Record.from_json(None) is None and Record.from_json({"cursor": "junk"}) is None


async def test_wakeups_of_others_and_of_removed_streams_do_nothing(tmp_path: Path) -> None:
    config, _ = loaded(make_repo(tmp_path, {"meetings/tc.yaml": TC}))
    plugin = RemindersPlugin()
    ctx = PluginContext("reminders", "e1", config, NoGerrit(), MemoryState(),
                        at(2026, 11, 26, 14, 50))
    assert await plugin.on_wakeup(Wakeup("governance", "x", at(2026, 1, 1)), ctx) == ()
    assert await plugin.on_wakeup(Wakeup("reminders", "meeting:gone:x", at(2026, 1, 1)),
                                  ctx) == ()
    # state lost but the wake-up kept: the wake-up's own instant is where it resumes
    key = "meeting:tc:thursday-1500-example-tc"
    actions = await plugin.on_wakeup(Wakeup("reminders", key, at(2026, 11, 26, 14, 50)), ctx)
    assert [type(a) for a in actions] == [Say, Remember, WakeAt]
    assert actions[1] == Remember(key=key, value={"cursor": "2026-11-26T14:50:00+00:00",
                                                  "dropped": 0})
    assert actions[2] == WakeAt(key=key, when=at(2026, 12, 3, 14, 50))


async def test_a_reload_reschedules_an_overdue_stream_at_its_due_instant(
        tmp_path: Path) -> None:
    """A reload that finds a stream overdue (its wake-up is firing, or was lost) asks for a
    wake-up at the overdue instant, which fires at once; the scheduler versions wake-ups,
    so finishing one that is being handled never deletes this one."""
    from govbot.events import ConfigReloaded

    config, _ = loaded(make_repo(tmp_path, {"meetings/tc.yaml": TC}))
    key = "meeting:tc:thursday-1500-example-tc"
    now = at(2026, 11, 26, 14, 50)
    state = MemoryState({key: {"cursor": "2026-11-19T14:50:00+00:00", "dropped": 0}})
    ctx = PluginContext("reminders", "e2", config, NoGerrit(), state, now)
    actions = await RemindersPlugin().on_reload(ConfigReloaded("a", "b"), ctx)
    assert actions == [WakeAt(key=key, when=at(2026, 11, 26, 14, 50))]
    # a new stream: its record starts now, its wake-up is its next due
    ctx = PluginContext("reminders", "e3", config, NoGerrit(), MemoryState(), now)
    actions = await RemindersPlugin().on_reload(ConfigReloaded("a", "b"), ctx)
    assert actions == [Remember(key=key, value={"cursor": "2026-11-26T14:50:00+00:00",
                                                "dropped": 0}),
                       WakeAt(key=key, when=at(2026, 12, 3, 14, 50))]


class BrokenGerrit:
    async def get_change(self, change: str) -> None:
        raise ConnectionError("gerrit is down")

    async def query(self, query: str, *, limit: int = 500) -> list[object]:
        raise ConnectionError("gerrit is down")


async def test_a_failing_digest_is_counted_and_the_chain_goes_on(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"reminders.yaml": "digests:\n  - {name: d, time: '0900'}\n"},
                     core=("people.yaml", "bodies.yaml", "projects.yaml", "rules.yaml"))
    config, _ = loaded(root, governance=True)
    plugin = RemindersPlugin()
    now = at(2026, 11, 2, 9)
    state = MemoryState({"digest:d": {"cursor": "2026-11-01T09:00:00+00:00", "dropped": 0}})
    offers = PluginRegistry([GovernancePlugin(), plugin]).offers  # the digest's verdicts
    ctx = PluginContext("reminders", "e4", config, BrokenGerrit(), state, now, offers=offers)
    actions = await plugin.on_wakeup(Wakeup("reminders", "digest:d", now), ctx)
    assert actions == [
        Remember(key="digest:d", value={"cursor": "2026-11-02T09:00:00+00:00", "dropped": 1}),
        WakeAt(key="digest:d", when=at(2026, 11, 3, 9))]
    assert plugin.dropped == 1


async def test_the_plugin_counts_reminders_sent_late_and_dropped(tmp_path: Path) -> None:
    """What `/metrics` shows as govbot_plugin_counter_total{plugin="reminders"}."""
    config, _ = loaded(make_repo(tmp_path, {"meetings/tc.yaml": TC}))
    key = "meeting:tc:thursday-1500-example-tc"
    plugin = RemindersPlugin()
    assert plugin.counters() == {"sent": 0, "late": 0, "dropped": 0}
    now = at(2026, 11, 26, 14, 55)  # five minutes past the 14:50 reminder: within grace
    state = MemoryState({key: {"cursor": "2026-11-19T14:50:00+00:00", "dropped": 0}})
    ctx = PluginContext("reminders", "e5", config, NoGerrit(), state, now)
    actions = await plugin.on_wakeup(Wakeup("reminders", key, at(2026, 11, 26, 14, 50)), ctx)
    assert any(isinstance(a, Say) for a in actions)
    assert plugin.counters() == {"sent": 1, "late": 1, "dropped": 0}
