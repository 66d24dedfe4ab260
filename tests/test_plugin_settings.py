"""Typed plugin settings: checked at load time with FILE:LINE errors, handed typed."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest

from govbot.actions import Action
from govbot.cli import main
from govbot.config.model import EMPTY_CONFIG
from govbot.daemon import Daemon
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.events import ConfigReloaded
from govbot.plugin import (
    Handler,
    MemoryState,
    NoGerrit,
    Plugin,
    PluginContext,
    PluginRegistry,
    PluginSettings,
)
from govbot.plugin_loader import load_plugins
from govbot.plugins.announce.settings import AnnounceSettings
from govbot.plugins.governance.settings import GovernanceSettings, VoteValues
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.meetings.settings import ChannelSettings, MeetingsSettings
from govbot.plugins.reminders.settings import RemindersSettings
from govbot.reporters import ReporterSet
from govbot.settings import SettingsError, check_plugin_settings, parse_settings

NOW = dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)


def settings_text(plugins: str, *, enabled: str = "") -> str:
    """A govbot.yaml whose `plugins:` section is `plugins` (indented under `settings:`)."""
    body = "".join(f"    {line}\n" for line in plugins.splitlines())
    return ("governance: {repo: gov}\n"
            "plugins:\n"
            + (f"  enabled: [{enabled}]\n" if enabled else "")
            + "  settings:\n" + body)


def errors_of(text: str, tmp_path: Path) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as info:
        parse_settings(text, "govbot.yaml", base=tmp_path)
    return info.value.errors


def test_the_built_in_plugins_settings_load_typed(tmp_path: Path) -> None:
    text = settings_text("governance: {label: Code-Review, values: {ready: 2},\n"
                         "             config_project: gov/config}\n"
                         "meetings:\n"
                         "  orphan_minutes: 30\n"
                         "  git: {remote: origin}\n"
                         "  channels: {'#tc': {topic: never}}\n")
    settings = parse_settings(text, "govbot.yaml", base=tmp_path)
    typed = check_plugin_settings(settings.plugins.settings,
                                  {"governance": GovernanceSettings,
                                   "meetings": MeetingsSettings})
    governance = typed["governance"]
    assert governance == GovernanceSettings(label="Code-Review",
                                            values=VoteValues(ready=2),
                                            config_project="gov/config")
    assert governance.values.of("pending") == 0 and governance.values.of("blocked") == -1
    meetings = typed["meetings"]
    assert isinstance(meetings, MeetingsSettings)
    assert meetings.orphan_minutes == 30.0 and meetings.git is not None
    assert meetings.git.remote == "origin" and meetings.git.branch == "master"
    assert meetings.channels == {"#tc": ChannelSettings(topic="never")}


def test_an_unknown_key_names_the_line_and_the_nearest_key(tmp_path: Path) -> None:
    text = settings_text("governance:\n"
                         "  lable: Code-Review\n")
    assert errors_of(text, tmp_path) == (
        "govbot.yaml:5: unknown setting 'lable' (at plugins.settings.governance.lable); "
        "did you mean 'label'? see docs/settings.md",)


def test_an_unknown_nested_key_is_found_inside_a_mapping_of_channels(tmp_path: Path) -> None:
    text = settings_text("meetings:\n"
                         "  channels:\n"
                         "    default: {topic: always}\n"
                         "    '#tc':\n"
                         "      startmeting: anyone\n")
    assert errors_of(text, tmp_path) == (
        "govbot.yaml:8: unknown setting 'startmeting' "
        "(at plugins.settings.meetings.channels.#tc.startmeting); "
        "did you mean 'startmeeting'? see docs/settings.md",)


@pytest.mark.parametrize(("plugins", "expected"), [
    ("reminders: {digest_timeout: soon}\n",
     "govbot.yaml:4: Expected `float`, got `str` (at plugins.settings.reminders.digest_timeout)"
     "; see docs/settings.md"),
    ("governance:\n  values: {ready: yes}\n",
     "govbot.yaml:5: Expected `int`, got `bool` (at plugins.settings.governance.values.ready)"
     "; see docs/settings.md"),
    ("meetings:\n  channels: {default: {topic: sometimes}}\n",
     "govbot.yaml:5: invalid value 'sometimes' "
     "(at plugins.settings.meetings.channels.default.topic); "
     "expected one of: always, sanctioned, never; see docs/settings.md"),
    ("meetings: {git: true}\n",
     "govbot.yaml:4: Expected `object | null`, got `bool` (at plugins.settings.meetings.git)"
     "; see docs/settings.md"),
    ("announce: [gerrit_url]\n",
     "govbot.yaml:4: Expected `object`, got `array` (at plugins.settings.announce)"
     "; see docs/settings.md"),
])
def test_a_wrong_type_names_the_line_and_what_was_expected(plugins: str, expected: str,
                                                           tmp_path: Path) -> None:
    assert errors_of(settings_text(plugins), tmp_path) == (expected,)


def test_settings_for_a_plugin_that_is_not_enabled(tmp_path: Path) -> None:
    text = settings_text("governance: {label: X}\n"
                         "reminders: {review_url: 'https://review.example.org'}\n",
                         enabled="governance, meetings")
    assert errors_of(text, tmp_path) == (
        "govbot.yaml:6: settings for plugin 'reminders', which is not enabled "
        "(at plugins.settings.reminders); add it to plugins.enabled "
        "(enabled: governance, meetings) or remove these settings",)


def test_settings_for_no_plugin_at_all_suggest_the_nearest(tmp_path: Path) -> None:
    assert errors_of(settings_text("annonce: {}\n"), tmp_path) == (
        "govbot.yaml:4: settings for 'annonce', which is no plugin "
        "(at plugins.settings.annonce); did you mean 'announce'? "
        "plugins: governance, announce, meetings, reminders, elections",)


def test_an_unknown_enabled_plugin_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = "governance: {repo: gov}\nplugins:\n  enabled: [governance, meetngs]\n"
    [error] = errors_of(text, tmp_path)
    assert error.startswith("govbot.yaml:3: unknown plugin(s) meetngs in plugins.enabled; "
                            "available: announce, elections, governance, meetings, reminders")


def test_every_error_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = ("governance: {repo: gov}\n"
            "irc: {host: h, port: many}\n"
            "plugins:\n"
            "  enabled: [governance, meetings]\n"
            "  settings:\n"
            "    meetings:\n"
            "      orphan_minutes: soon\n"
            "      trust_nick: true\n"
            "    governance:\n"
            "      add_reviewer: true\n"
            "      values: {pending: '0'}\n"
            "    announce: {gerrit_url: x}\n")
    assert [e.split(" (at ")[0] for e in errors_of(text, tmp_path)] == [
        "govbot.yaml:2: Expected `int`, got `str`",
        "govbot.yaml:7: Expected `float`, got `str`",
        "govbot.yaml:8: unknown setting 'trust_nick'",
        "govbot.yaml:10: unknown setting 'add_reviewer'",
        "govbot.yaml:11: Expected `int`, got `str`",
        "govbot.yaml:12: settings for plugin 'announce', which is not enabled",
    ]


def test_govbot_run_prints_every_error_and_starts_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "govbot.yaml"
    path.write_text(settings_text("governance: {lable: X}\nmeetings: {orphan_minutes: x}\n"))
    assert main(["run", "--config", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (at ")[0] for line in lines] == [
        f"error: {path}:4: unknown setting 'lable'",
        f"error: {path}:5: Expected `float`, got `str`",
    ]


# -- a third-party plugin's own settings type ---------------------------------------------

class Limits(PluginSettings, frozen=True, kw_only=True):
    burst: int = 3


class CheckSettings(PluginSettings, frozen=True, kw_only=True):
    pattern: str = "WIP"
    limits: dict[str, Limits] = msgspec.field(default_factory=dict)


class SubjectCheck(Plugin):
    name = "subject-check"
    settings_type = CheckSettings

    def __init__(self) -> None:
        self.seen: list[CheckSettings] = []

    def handlers(self) -> dict[type, Handler]:
        return {ConfigReloaded: self.on_reload}

    async def on_reload(self, event: ConfigReloaded, ctx: PluginContext) -> Sequence[Action]:
        self.seen.append(ctx.settings_as(CheckSettings))
        return ()


def _types(enabled: Sequence[str] | None) -> dict[str, type[msgspec.Struct]]:
    return {"subject-check": CheckSettings}


async def test_a_plugin_declares_its_own_type_and_its_handlers_get_it(tmp_path: Path) -> None:
    text = settings_text("subject-check:\n  pattern: DRAFT\n  limits: {'#dev': {burst: 5}}\n")
    settings = parse_settings(text, "govbot.yaml", base=tmp_path, plugin_types=_types)
    plugin = SubjectCheck()
    typed = check_plugin_settings(settings.plugins.settings, {plugin.name: CheckSettings})
    assert typed == {"subject-check": CheckSettings(pattern="DRAFT",
                                                    limits={"#dev": Limits(burst=5)})}
    contexts = ContextSource(config=lambda: EMPTY_CONFIG, gerrit=NoGerrit(),
                             state=lambda p: MemoryState(), clock=lambda e: NOW,
                             settings=typed)
    dispatcher = Dispatcher(PluginRegistry([plugin]), ReporterSet([]), contexts)
    runner = asyncio.create_task(dispatcher.run())
    await dispatcher.submit(Envelope("e1", ConfigReloaded("", "abc"), "config"))
    await dispatcher.join()
    runner.cancel()
    assert plugin.seen == [typed["subject-check"]]
    bad = settings_text("subject-check:\n  limits: {'#dev': {brust: 5}}\n")
    with pytest.raises(SettingsError, match=r"govbot.yaml:5: unknown setting 'brust' .*"
                                            r"did you mean 'burst'\?"):
        parse_settings(bad, "govbot.yaml", base=tmp_path, plugin_types=_types)


def test_a_context_without_settings_reads_the_plugins_defaults() -> None:
    ctx = PluginContext("subject-check", "e1", EMPTY_CONFIG, NoGerrit(), MemoryState(), NOW)
    assert ctx.settings_as(CheckSettings) == CheckSettings()
    wrong = msgspec.structs.replace(ctx, settings=Limits())
    with pytest.raises(TypeError, match="settings are a Limits, not a CheckSettings"):
        wrong.settings_as(CheckSettings)


def test_the_daemon_hands_each_plugin_its_typed_settings(tmp_path: Path) -> None:
    text = ("governance: {repo: gov}\n"
            "irc: {host: irc.example.org, nick: tcbot}\n"
            "plugins:\n"
            "  settings:\n"
            "    governance: {add_reviewers: true}\n"
            "    reminders: {digest_timeout: 20}\n")
    settings = parse_settings(text, "govbot.yaml", base=tmp_path)
    typed = Daemon(settings).plugin_settings(load_plugins(None))
    assert list(typed) == ["governance", "announce", "meetings", "reminders", "elections"]
    assert typed["governance"] == GovernanceSettings(add_reviewers=True)
    assert typed["reminders"] == RemindersSettings(digest_timeout=20.0)
    assert typed["announce"] == AnnounceSettings()
    # The core writes nothing into a plugin's settings: the bot's IRC nick reaches the
    # meetings log as ctx.bot_nick (tests/meetings/test_meetings_publishing.py).
    assert typed["meetings"] == MeetingsSettings()
    named = parse_settings(text + "    meetings: {bot_nick: scribe}\n", "govbot.yaml",
                           base=tmp_path)
    assert Daemon(named).plugin_settings([MeetingsPlugin()]) == {
        "meetings": MeetingsSettings(bot_nick="scribe")}  # the others' are not handed out
