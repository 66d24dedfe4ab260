"""Who may start a meeting: the irc-meetings schedules, as the reminders plugin offers them
(`govbot.offers.MeetingSchedules`), and what happens without that plugin."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import msgspec
import pytest

from govbot.config.loader import load_config
from govbot.config.model import GovernanceConfig
from govbot.offers import MeetingSchedules
from govbot.plugin import PluginRegistry
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.meetings.policy import (
    ChannelPolicy,
    chairs_slot,
    check_start,
    policy_for,
    scheduled_slots,
)
from govbot.plugins.meetings.settings import MeetingsSettings
from govbot.plugins.reminders.plugin import RemindersPlugin
from tests.meetings.kit import EXAMPLE, Bot, texts

UTC = dt.UTC


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> GovernanceConfig:
    root = tmp_path_factory.mktemp("governance")
    for name in ("people.yaml", "bodies.yaml"):
        shutil.copy(EXAMPLE / name, root / name)
    shutil.copytree(EXAMPLE / "meetings", root / "meetings")
    plugins = [MeetingsPlugin(), RemindersPlugin()]
    result = load_config(Path(root), PluginRegistry(plugins).config_sections())
    assert result.config is not None, result.errors
    return result.config


@pytest.fixture(scope="module")
def offers() -> dict[type, object]:
    """What the enabled plugins offer each other, as the registry collects it."""
    return PluginRegistry([MeetingsPlugin(), RemindersPlugin()]).offers


@pytest.fixture(scope="module")
def schedules(offers: dict[type, object]) -> MeetingSchedules:
    found = offers[MeetingSchedules]
    assert isinstance(found, MeetingSchedules)
    return found


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=UTC)  # 2026-12-03 is a Thursday


@pytest.mark.parametrize("when, active", [
    (at(3, 15, 5), True), (at(3, 14, 52), True), (at(3, 14, 45), False),
    (at(3, 16, 0), False), (at(4, 15, 5), False),
    (at(24, 15, 5), False),  # a skip date of tc.yaml
])
def test_the_tc_slot_from_the_meeting_files(config: GovernanceConfig,
                                            schedules: MeetingSchedules, when: dt.datetime,
                                            active: bool) -> None:
    slots = scheduled_slots(schedules, config, "#Example-TC", when)
    assert bool(slots) is active
    if active:
        (slot,) = slots
        assert (slot.meeting_id, slot.chair, slot.channel) == ("tc", "Ada Lindqvist (ada)",
                                                               "#example-tc")
        assert slot.start == at(3, 15) and slot.end == at(3, 16)


def test_start_checks(config: GovernanceConfig, schedules: MeetingSchedules) -> None:
    slots = scheduled_slots(schedules, config, "#example-tc", at(3, 15, 1))
    strict = ChannelPolicy("scheduled-chairs")
    ada = config.person_by_irc_account("ada")
    bruno = config.person_by_irc_account("bruno")
    ok = check_start(strict, slots, config, "#example-tc", "tc", account="ada", nick="ada",
                     person=ada)
    assert ok.allowed and ok.sanctioned and not ok.hint
    refused = check_start(strict, slots, config, "#example-tc", "tc", account="bruno",
                          nick="bruno_o", person=bruno)
    assert not refused.allowed
    # Anyone may start under "anyone"; a TC member in the TC channel is sanctioned.
    loose = check_start(ChannelPolicy(), [], config, "#example-tc", "x", account="bruno",
                        nick="bruno_o", person=bruno)
    assert loose.allowed and loose.sanctioned
    troll = check_start(ChannelPolicy(), [], config, "#example-tc", "x", account="troll",
                        nick="troll", person=None)
    assert troll.allowed and not troll.sanctioned


def test_chair_text_matches_whole_words() -> None:
    assert chairs_slot("Ada Lindqvist (ada)", None, "ada", "ada")
    assert not chairs_slot("Adam Smith (adam)", None, "ada", "ada")
    assert chairs_slot("kofi, lena", None, None, "Lena")
    assert not chairs_slot("", None, "ada", "ada")


@pytest.mark.parametrize("when, meeting_id", [
    (dt.datetime(2026, 11, 19, 16, 10, tzinfo=UTC), "nova"),  # ISO week 47: odd
    (dt.datetime(2026, 11, 26, 16, 10, tzinfo=UTC), "docs"),  # week 48: even
    (dt.datetime(2026, 11, 19, 17, 0, tzinfo=UTC), None),  # the hour is over
    # 2026 has an ISO week 53: the odd-week meeting is held in week 53 and again in
    # week 1, the even-week one waits until week 2 (the reminders' rule).
    (dt.datetime(2026, 12, 31, 16, 10, tzinfo=UTC), "nova"),
    (dt.datetime(2027, 1, 7, 16, 10, tzinfo=UTC), "nova"),
    (dt.datetime(2027, 1, 14, 16, 10, tzinfo=UTC), "docs"),
    (dt.datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "releaseteam"),  # the first Tuesday
    (dt.datetime(2026, 12, 8, 14, 5, tzinfo=UTC), None),  # the second one
])
def test_a_shared_channel_follows_the_reminders_recurrence(
        config: GovernanceConfig, schedules: MeetingSchedules, when: dt.datetime,
        meeting_id: str | None) -> None:
    found = [s.meeting_id for s in scheduled_slots(schedules, config, "#example-meeting", when)]
    assert found == ([meeting_id] if meeting_id else [])


def test_without_the_reminders_plugin_no_slot_is_active(
        config: GovernanceConfig, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="govbot.plugins.meetings.policy"):
        assert scheduled_slots(None, config, "#example-tc", at(3, 15, 5)) == []
    assert ("no enabled plugin offers the meeting schedules (the reminders plugin does): no "
            "meeting counts as scheduled in #example-tc") in caplog.text


async def test_without_the_reminders_plugin_scheduled_chairs_refuses_everyone(
        config: GovernanceConfig) -> None:
    """The consumer degrades: nobody chairs a scheduled slot, so the strict policy refuses
    even the chair, and `anyone` still starts (sanctioned only for a body member)."""
    strict = {"channels": {"#example-tc": {"startmeeting": "scheduled-chairs"}}}
    bot = Bot(config=config, settings=strict)  # no offers: as with reminders disabled
    bot.now = at(3, 14, 58)
    said = texts(await bot.say("ada", "#startmeeting tc"))
    assert said == ["ada: cannot start a meeting here: no meeting is scheduled in #example-tc "
                    "now; the meeting files in the governance repository say who chairs what "
                    "and when"]
    loose = Bot(config=config)
    loose.now = at(3, 14, 58)
    said = texts(await loose.say("ada", "#startmeeting tc"))
    assert said[0].startswith("Meeting started Thu Dec 03 14:58:30 2026 UTC.")
    assert not any("#meetingname" in line for line in said)  # no schedule: no hint


def test_policy_settings() -> None:
    # An invalid value ("startmeeting: nonsense") is a settings error at start-up now:
    # see tests/test_plugin_settings.py.
    settings = msgspec.convert({"channels": {"default": {"topic": "always"},
                                             "#Example-TC": {"startmeeting": "scheduled-chairs"},
                                             "#odd": {"topic": "never"}}}, MeetingsSettings)
    assert policy_for(settings, "#example-tc") == ChannelPolicy("scheduled-chairs", "always")
    assert policy_for(settings, "#other") == ChannelPolicy("anyone", "always")
    assert policy_for(settings, "#odd") == ChannelPolicy("anyone", "never")
    assert policy_for(MeetingsSettings(), "#x") == ChannelPolicy("anyone", "sanctioned")


async def test_the_plugin_reads_the_schedule_from_the_config(
        config: GovernanceConfig, offers: dict[type, object]) -> None:
    bot = Bot(config=config, offers=offers, settings={
        "channels": {"#example-tc": {"startmeeting": "scheduled-chairs"}}})
    bot.now = at(3, 14, 58)
    said = texts(await bot.say("bruno_o", "#startmeeting tc", account="bruno"))
    assert "only the chairs of the meeting scheduled now may start it: tc" in said[0]
    said = texts(await bot.say("ada", "#startmeeting technical committee"))
    assert said[0].startswith("Meeting started Thu Dec 03 14:59:00 2026 UTC.")
    assert ("Note: the meeting scheduled now in #example-tc is 'tc'; if this is it, say "
            "#meetingname tc") in said
