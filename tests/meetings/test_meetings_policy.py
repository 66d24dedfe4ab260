"""Who may start a meeting: the irc-meetings schedules, as the reminders plugin reads them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import msgspec
import pytest

from govbot.config.loader import load_config
from govbot.config.model import GovernanceConfig
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


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=UTC)  # 2026-12-03 is a Thursday


@pytest.mark.parametrize("when, active", [
    (at(3, 15, 5), True), (at(3, 14, 52), True), (at(3, 14, 45), False),
    (at(3, 16, 0), False), (at(4, 15, 5), False),
    (at(24, 15, 5), False),  # a skip date of tc.yaml
])
def test_the_tc_slot_from_the_meeting_files(config: GovernanceConfig, when: dt.datetime,
                                            active: bool) -> None:
    slots = scheduled_slots(config, "#Example-TC", when)
    assert bool(slots) is active
    if active:
        (slot,) = slots
        assert (slot.meeting_id, slot.chair, slot.channel) == ("tc", "Ada Lindqvist (ada)",
                                                               "#example-tc")
        assert slot.start == at(3, 15) and slot.end == at(3, 16)


def test_start_checks(config: GovernanceConfig) -> None:
    slots = scheduled_slots(config, "#example-tc", at(3, 15, 1))
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


def test_plain_mappings_are_understood_too() -> None:
    section = {"meetings": [{"meeting_id": "nova", "chair": "priya", "schedule": [
        {"irc": "example-meeting", "day": "Thursday", "time": "1600", "duration": 30,
         "frequency": "biweekly-odd"}]}]}
    config = GovernanceConfig(people={}, bodies={}, teams={}, sections={"reminders": section})
    odd = dt.datetime(2026, 11, 19, 16, 10, tzinfo=UTC)  # ISO week 47
    assert [s.meeting_id for s in scheduled_slots(config, "#example-meeting", odd)] == ["nova"]
    assert scheduled_slots(config, "#example-meeting", odd + dt.timedelta(days=7)) == []
    assert scheduled_slots(config, "#example-meeting", odd + dt.timedelta(minutes=25)) == []


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


async def test_the_plugin_reads_the_schedule_from_the_config(config: GovernanceConfig) -> None:
    bot = Bot(config=config, settings={
        "channels": {"#example-tc": {"startmeeting": "scheduled-chairs"}}})
    bot.now = at(3, 14, 58)
    said = texts(await bot.say("bruno_o", "#startmeeting tc", account="bruno"))
    assert "only the chairs of the meeting scheduled now may start it: tc" in said[0]
    said = texts(await bot.say("ada", "#startmeeting technical committee"))
    assert said[0].startswith("Meeting started Thu Dec 03 14:59:00 2026 UTC.")
    assert ("Note: the meeting scheduled now in #example-tc is 'tc'; if this is it, say "
            "#meetingname tc") in said
