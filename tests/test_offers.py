"""What plugins offer each other (govbot.offers): one provider per Protocol, `ctx.offer`
answers with it or None, and a consumer whose provider is not enabled degrades."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from govbot.actions import Action, Remember, Say, WakeAt
from govbot.dispatcher import Envelope
from govbot.events import Wakeup
from govbot.offers import (
    Deadlines,
    MeetingSchedules,
    MissingVoter,
    PendingChange,
    PendingVotes,
    ScheduledMeeting,
)
from govbot.plugin import (
    MemoryState,
    NoGerrit,
    Plugin,
    PluginContext,
    PluginError,
    PluginRegistry,
)
from govbot.plugins.governance.plugin import GovernancePlugin
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.reminders.plugin import RemindersPlugin
from govbot.plugins.reminders.settings import RemindersSettings
from tests.helpers import FIXED_NOW, make_dispatcher
from tests.reminders.kit import at, loaded, make_repo


class NoPending:
    async def pending_votes(self, ctx: PluginContext, bodies: Sequence[str]
                            ) -> Sequence[PendingChange]:
        return ()


class Provider(Plugin):
    def __init__(self, name: str, offered: object) -> None:
        self.name = name  # type: ignore[misc]
        self._offered = offered

    def offers(self) -> Mapping[type, object]:
        return {PendingVotes: self._offered}


class Asker(Plugin):
    """Records what `ctx.offer` answered on each wake-up."""

    name = "asker"

    def __init__(self) -> None:
        self.seen: list[tuple[object, object]] = []

    def handlers(self) -> Mapping[type, object]:  # type: ignore[override]
        return {Wakeup: self.on_wakeup}

    async def on_wakeup(self, event: Wakeup, ctx: PluginContext) -> Sequence[Action]:
        self.seen.append((ctx.offer(PendingVotes), ctx.offer(MeetingSchedules)))
        return ()


def test_the_registry_collects_the_offers() -> None:
    registry = PluginRegistry([GovernancePlugin(), MeetingsPlugin(), RemindersPlugin()])
    assert set(registry.offers) == {PendingVotes, MeetingSchedules, Deadlines}
    assert isinstance(registry.offers[PendingVotes], PendingVotes)
    assert isinstance(registry.offers[MeetingSchedules], MeetingSchedules)
    assert isinstance(registry.offers[Deadlines], Deadlines)


def test_two_providers_of_one_protocol_are_refused() -> None:
    with pytest.raises(PluginError, match="PendingVotes is offered by both 'governance' and "
                                          "'other'"):
        PluginRegistry([GovernancePlugin(), Provider("other", NoPending())])


def test_an_offer_that_lacks_the_protocols_methods_is_refused() -> None:
    with pytest.raises(PluginError, match="'other' offers PendingVotes with object, which "
                                          "lacks its methods"):
        PluginRegistry([Provider("other", object())])


async def test_handlers_get_the_offers_of_the_enabled_plugins() -> None:
    offered = NoPending()
    asker = Asker()
    dispatcher, _ = make_dispatcher([asker, Provider("provider", offered)])
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(dispatcher.run())
        await dispatcher.submit(Envelope("e1", Wakeup("asker", "k", FIXED_NOW), "lane"))
        await dispatcher.join()
        runner.cancel()
    assert asker.seen == [(offered, None)]  # nobody offers MeetingSchedules: None


def test_a_context_without_offers_answers_none() -> None:
    ctx = PluginContext("x", "e", None, NoGerrit(), MemoryState(), FIXED_NOW)  # type: ignore[arg-type]
    assert ctx.offer(PendingVotes) is None


async def test_a_digest_without_the_governance_plugin_is_not_sent_and_says_why(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The reminders plugin alone: its digest finds no PendingVotes, logs why, sends
    nothing, and its chain of wake-ups goes on (the digest is not counted as dropped)."""
    root = make_repo(tmp_path, {"reminders.yaml": "digests:\n  - {name: d, time: '0900'}\n"},
                     core=("people.yaml", "bodies.yaml", "projects.yaml", "rules.yaml"))
    config, _ = loaded(root, governance=True)
    plugin = RemindersPlugin()
    now = at(2026, 11, 2, 9)
    state = MemoryState({"digest:d": {"cursor": "2026-11-01T09:00:00+00:00", "dropped": 0}})
    offers = PluginRegistry([plugin]).offers
    assert PendingVotes not in offers
    ctx = PluginContext("reminders", "e1", config, NoGerrit(), state, now, offers=offers)
    with caplog.at_level("WARNING"):
        actions = await plugin.on_wakeup(Wakeup("reminders", "digest:d", now), ctx)
    assert not [a for a in actions if isinstance(a, Say)]
    assert actions == [
        Remember(key="digest:d", value={"cursor": "2026-11-02T09:00:00+00:00", "dropped": 0}),
        WakeAt(key="digest:d", when=at(2026, 11, 3, 9))]
    assert ("reminders: digest digest:d not sent: it lists the governance verdicts, and no "
            "enabled plugin offers them (enable the governance plugin)") in caplog.text


async def test_a_digest_renders_what_the_provider_answers(tmp_path: Path) -> None:
    """The digest's lines come from the plain data alone (here from a stand-in provider)."""
    root = make_repo(tmp_path, {"reminders.yaml": "digests:\n  - {name: d, time: '0900'}\n"})
    config, _ = loaded(root)

    class OnePending:
        async def pending_votes(self, ctx: PluginContext, bodies: Sequence[str]
                                ) -> Sequence[PendingChange]:
            assert list(bodies) == ["tc", "infra-council"]
            return [PendingChange(
                project="example/governance", number=7, subject="Adopt it", body="tc",
                rule="formal-vote", waiting=("a week", "3 yes votes: 1 so far"),
                missing=(MissingVoter("Ada Lindqvist", "ada"), MissingVoter("Pat", None)),
                earliest=dt.datetime(2026, 11, 9, 9, 0, 30, tzinfo=dt.UTC))]

    plugin = RemindersPlugin()
    now = at(2026, 11, 2, 9)
    state = MemoryState({"digest:d": {"cursor": "2026-11-01T09:00:00+00:00", "dropped": 0}})
    ctx = PluginContext("reminders", "e1", config, NoGerrit(), state, now,
                        settings=RemindersSettings(review_url="https://review.example.org/"),
                        offers={PendingVotes: OnePending()})
    actions = await plugin.on_wakeup(Wakeup("reminders", "digest:d", now), ctx)
    said = [a for a in actions if isinstance(a, Say)]
    assert [(s.target, s.text) for s in said] == [("#example-tc", (
        "Votes awaited from the Technical Committee: 1 change\n"
        "- example/governance~7 \"Adopt it\" (rule formal-vote): a week; 3 yes votes: 1 so "
        "far; not voted: Ada Lindqvist, Pat; earliest approval: 2026-11-09 09:01 UTC "
        "https://review.example.org/c/example/governance/+/7"))]


def test_scheduled_meeting_is_plain_data() -> None:
    start = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
    meeting = ScheduledMeeting("tc", "Ada", "#example-tc", start, start + dt.timedelta(hours=1))
    with pytest.raises(AttributeError):
        meeting.chair = "someone else"  # type: ignore[misc]

