"""MeetBot's commands through the plugin's handlers: effects, replies, permissions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govbot.actions import Append, Say, WakeAt
from govbot.commands import Command, CommandEvent, CommandRouter
from govbot.irc.events import IrcMessage
from govbot.plugin import PluginRegistry
from govbot.plugins.meetings.commands import (
    ALIASES,
    ALL_COMMANDS,
    CHAIR_ONLY,
    COMMANDS,
    markdown_table,
    parse,
)
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.meetings.policy import Slot
from tests.meetings.kit import (
    CHANNEL,
    T0,
    Bot,
    FakeIrc,
    example_config,
    minutes,
    texts,
    topics,
)


async def started(**kw: object) -> Bot:
    bot = Bot(**kw)  # type: ignore[arg-type]
    await bot.say("ada", "#startmeeting tc")
    return bot


def items(bot: Bot) -> list[tuple[str, str]]:
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    return [(i.kind, i.text) for i in meeting.items]


async def test_startmeeting_journals_the_line_and_announces_the_chair() -> None:
    bot = Bot()
    actions = await bot.say("ada", "#startmeeting tc")
    said = texts(actions)
    assert said[0].startswith("Meeting started Thu Nov 19 16:00:30 2026 UTC. The chair is ada.")
    assert "The meeting name has been set to 'tc'" in said
    (append,) = [a for a in actions if isinstance(a, Append)]
    assert append.entry["nick"] == "ada" and append.entry["id"] == "account:ada"
    assert append.entry["fx"][0]["op"] == "start"
    (wake,) = [a for a in actions if isinstance(a, WakeAt)]
    assert wake.when == bot.now + dt.timedelta(minutes=60) and wake.lane == "irc:#example-tc"
    assert bot.plugin.meeting_in(CHANNEL) is not None


async def test_chatter_outside_meetings_and_private_messages_are_not_recorded() -> None:
    bot = Bot()
    assert await bot.say("ada", "hello #topic not a meeting") == []
    assert await bot.say("ada", "#agreed nothing") == []
    assert bot.state.journals == {}


async def test_a_second_startmeeting_is_refused() -> None:
    bot = await started()
    said = texts(await bot.say("bruno_o", "#startmeeting other", account="bruno"))
    assert said == ["Can't start another meeting, one is in progress (started by ada)."]


@pytest.mark.parametrize("command, kind", [
    ("#agreed", "AGREED"), ("#agree", "AGREED"), ("#accepted", "ACCEPTED"),
    ("#rejected", "REJECTED"), ("#action", "ACTION"), ("#info", "INFO"), ("#idea", "IDEA"),
    ("#help", "HELP"), ("#halp", "HELP"), ("#link", "LINK"), ("#topic", "TOPIC"),
])
async def test_items(command: str, kind: str) -> None:
    bot = await started()
    await bot.say("ada", f"{command} the text")
    assert items(bot) == [(kind, "the text")]


async def test_bare_urls_are_links_and_actions_are_not_commands() -> None:
    bot = await started()
    await bot.say("farah", "https://etherpad.example.org/p/tc see this")
    await bot.say("ada", "#agreed from a /me", action=True)
    await bot.say("farah", "look at https://x.example.org")
    assert items(bot) == [("LINK", "https://etherpad.example.org/p/tc see this")]


async def test_anyone_commands_from_someone_not_logged_in() -> None:
    bot = await started()
    await bot.say("visitor", "#info I am just visiting", account=None)
    await bot.say("visitor", "#action visitor to read the charter", account=None)
    await bot.say("visitor", "#nick ghost, spirit", account=None)
    said = texts(await bot.say("visitor", "#commands", account=None))
    assert said[0].startswith("Available commands: #accept #accepted #action")
    assert len(ALL_COMMANDS) >= 27
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    assert ("ghost", 0) in meeting.attendees() and ("visitor", 4) in meeting.attendees()


async def test_here_and_present_list_people() -> None:
    bot = await started()
    await bot.say("farah", "#here")
    await bot.say("ivo", "#present hana")
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    assert dict(meeting.attendees()) == {"ada": 1, "farah": 1, "ivo": 1, "hana": 0}
    assert parse("#HERE") == ("here", "")


async def test_topic_sets_the_channel_topic_with_the_meeting_topic() -> None:
    bot = await started()
    assert topics(await bot.say("ada", "#topic Roll call")) == ["Roll call (Meeting topic: tc)"]
    assert topics(await bot.say("ada", "#meetingtopic Special session")) == [
        "Roll call (Meeting topic: Special session)"]
    assert topics(await bot.say("ada", "#meetingtopic none")) == ["Roll call"]


@pytest.mark.parametrize("command", [
    "#endmeeting", "#topic x", "#meetingtopic x", "#agreed x", "#accepted x", "#rejected x",
    "#chair ivo", "#unchair ivo", "#undo", "#save", "#restrictlogs", "#lurk", "#unlurk",
    "#startvote Q?", "#endvote"])
async def test_chair_commands_are_refused_to_others(command: str) -> None:
    bot = await started()
    await bot.say("ada", "#info keep me")
    actions = await bot.say("farah", command)
    said = texts(actions)
    assert len(said) == 1 and said[0].startswith(f"farah: {command.split()[0]} is for the "
                                                 "chairs of this meeting (ada)")
    assert items(bot) == [("INFO", "keep me")]
    assert not minutes_written(actions)


def minutes_written(actions: list[object]) -> bool:
    return any(type(a).__name__ == "WriteMinutes" for a in actions)


async def test_authority_is_the_account_not_the_nick() -> None:
    bot = await started()
    # Someone took the nick "ada" without being logged in as ada: not a chair.
    said = texts(await bot.say("ada", "#agreed forged", account=None))
    assert said == ["ada: #agreed is for the chairs of this meeting (ada); chairs are "
                    "recognised by their services account and you are not logged in"]
    # Someone else logged in with another account under a look-alike nick: not a chair.
    assert texts(await bot.say("ada_", "#agreed forged", account="mallory"))
    # Ada herself, under another nick, still is.
    await bot.say("ada_away", "#agreed real", account="ada")
    assert items(bot) == [("AGREED", "real")]


async def test_starting_needs_an_account() -> None:
    bot = Bot()
    said = texts(await bot.say("ada", "#startmeeting tc", account=None))
    assert said == ["ada: to start a meeting you must be logged in to services: a meeting's "
                    "chair is recognised by account, not by nick"]
    assert bot.state.journals == {}


async def test_chair_resolves_the_nick_to_its_account_at_that_moment() -> None:
    irc = FakeIrc({"bruno_o": "bruno", "lurker": None})
    bot = await started(irc=irc)
    said = texts(await bot.say("ada", "#chair bruno_o lurker"))
    assert said == ["cannot make lurker a chair: lurker is not logged in to services "
                    "(chairs are recognised by account)", "Current chairs: ada bruno_o"]
    await bot.say("bruno", "#agreed by bruno's account under another nick", account="bruno")
    # The nick bruno_o, now used by someone else without that account, has no power.
    assert texts(await bot.say("bruno_o", "#agreed forged", account=None))
    assert items(bot) == [("AGREED", "by bruno's account under another nick")]
    said = texts(await bot.say("ada", "#unchair bruno_o ada"))
    assert said == ["ada started the meeting and stays its chair", "Current chairs: ada"]
    assert texts(await bot.say("bruno", "#agreed no more", account="bruno"))
    assert len(items(bot)) == 1


async def test_chair_without_irc_is_refused_clearly() -> None:
    bot = await started(no_irc=True)
    said = texts(await bot.say("ada", "#chair bruno_o"))
    assert said == ["cannot make bruno_o a chair: their services account cannot be checked "
                    "here", "Current chairs: ada"]


async def test_undo_removes_the_last_item_and_says_what() -> None:
    bot = await started()
    await bot.say("ada", "#topic First")
    await bot.say("ada", "#topic Second")
    await bot.say("ada", "#agreed something")
    said = texts(await bot.say("ada", "#undo"))
    assert said == ["Removing item from minutes: AGREED: something"]
    actions = await bot.say("ada", "#undo")
    assert texts(actions) == ["Removing item from minutes: TOPIC: Second"]
    assert topics(actions) == ["First (Meeting topic: tc)"]
    assert items(bot) == [("TOPIC", "First")]
    await bot.say("ada", "#undo")
    assert texts(await bot.say("ada", "#undo")) == ["There is nothing in the minutes to undo."]


async def test_meetingname_is_normalised_like_meetbot() -> None:
    bot = await started()
    said = texts(await bot.say("farah", "#meetingname Nova Cells v2"))
    assert said == ["The meeting name has been set to 'nova_cells_v2'"]
    said = texts(await bot.say("farah", "#meetingname ../../etc"))
    assert said == ["The meeting name has been set to '______etc'"]
    assert texts(await bot.say("farah", "#meetingname ...///")) == [
        "The meeting name has been set to '______'"]
    assert texts(await bot.say("farah", "#meetingname")) == ["farah: usage: #meetingname NAME"]


async def test_lurk_records_everything_and_says_nothing() -> None:
    bot = await started()
    assert texts(await bot.say("ada", "#lurk")) == []
    assert await bot.say("ada", "#topic quiet") and not topics(bot.actions[-2:])
    assert texts(await bot.say("farah", "#agreed not a chair")) == []
    assert texts(await bot.say("ada", "#unlurk")) == []
    assert texts(await bot.say("ada", "#chair nobody"))
    assert items(bot) == [("TOPIC", "quiet")]


async def test_save_writes_the_minutes_so_far() -> None:
    bot = await started()
    await bot.say("ada", "#info halfway")
    written = minutes(await bot.say("ada", "#save"))
    html = next(v for k, v in written.files.items() if k.endswith("16.00.html"))
    assert "halfway" in html and "Meeting still in progress" in html
    assert bot.plugin.meeting_in(CHANNEL) is not None  # still open


async def test_restrictlogs_writes_restricted_minutes_and_publishes_no_urls() -> None:
    bot = await started()
    assert texts(await bot.say("ada", "#restrictlogs"))
    actions = await bot.say("ada", "#endmeeting")
    assert minutes(actions).restricted
    assert not any("https://" in t for t in texts(actions))
    assert "The minutes are restricted (#restrictlogs): not published." in texts(actions)


async def test_endmeeting_posts_the_urls_and_closes_the_journal() -> None:
    bot = await started()
    actions = await bot.say("ada", "#endmeeting")
    said = texts(actions)
    assert said[0] == "Meeting ended Thu Nov 19 16:01:00 2026 UTC."
    base = "https://meetings.example.org/meetings/tc/2026/tc.2026-11-19-16.00"
    assert said[1:] == [f"Minutes:        {base}.html", f"Minutes (text): {base}.txt",
                        f"Log:            {base}.log.html"]
    assert sorted(minutes(actions).files) == sorted(
        f"meetings/tc/2026/tc.2026-11-19-16.00.{ext}"
        for ext in ("html", "txt", "log.html", "log.txt"))
    closing = actions[-1]
    assert isinstance(closing, Append) and closing.close
    assert [a.when for a in actions if isinstance(a, WakeAt)] == [None]
    assert bot.plugin.meeting_in(CHANNEL) is None
    assert await bot.state.open_journals() == []
    assert await bot.say("ada", "#agreed after the end") == []


async def test_orphaned_meeting_can_be_ended_by_anyone_after_60_minutes() -> None:
    bot = await started()
    await bot.say("ada", "#topic something", minutes=5)
    said = texts(await bot.say("farah", "#endmeeting", minutes=30))
    assert said == ["farah: #endmeeting is for the chairs of this meeting (ada); anyone may "
                    "end it if no chair speaks in the next 30 min"]
    # Others talking does not keep a meeting alive; only chairs do.
    await bot.say("farah", "anyone there?", minutes=20)
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    key = meeting.id
    bot.now += dt.timedelta(minutes=10)
    reminder = await bot.wakeup(key)
    assert texts(reminder) == ["No chair has spoken in this meeting for 60 minutes: anyone "
                               "may now end it with #endmeeting."]
    assert texts(await bot.say("farah", "#endmeeting"))[0].startswith("Meeting ended")


async def test_an_early_wakeup_is_set_again_for_the_last_chair_line() -> None:
    bot = await started()
    await bot.say("ada", "#info still here", minutes=50)
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    bot.now += dt.timedelta(minutes=11)
    (again,) = await bot.wakeup(meeting.id)
    assert isinstance(again, WakeAt) and again.when == meeting.last_chair_time + dt.timedelta(
        minutes=60)
    assert await bot.wakeup("#other/x") == []


async def test_nick_changes_are_logged() -> None:
    bot = await started()
    actions = await bot.nick_change("farah", "farah_afk")
    assert [a.entry["type"] for a in actions if isinstance(a, Append)] == ["nick"]
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None and meeting.lines[-1].text == "farah is now known as farah_afk"


async def test_trusted_nicks_on_a_network_without_services() -> None:
    bot = await started(settings={"trust_nicks": True}, irc=FakeIrc({}))
    await bot.say("guest", "#startmeeting ignored", account=None)
    said = texts(await bot.say("ada", "#chair guest"))
    assert said == ["Current chairs: ada guest"]
    await bot.nick_change("guest", "guest2")
    await bot.say("guest2", "#agreed chair follows the nick", account=None)
    assert items(bot) == [("AGREED", "chair follows the nick")]


# -- anti-troll policy -------------------------------------------------------------------
def _schedule(chair: str = "Ada Lindqvist (ada)", meeting_id: str = "tc") -> MeetingsPlugin:
    def lookup(config: object, channel: str, now: dt.datetime) -> list[Slot]:
        start = T0
        if channel == CHANNEL and start - dt.timedelta(minutes=10) <= now < start + \
                dt.timedelta(hours=1):
            return [Slot(meeting_id, chair, CHANNEL, start, start + dt.timedelta(hours=1))]
        return []
    return MeetingsPlugin(schedule=lookup)


STRICT = {"channels": {"default": {"startmeeting": "scheduled-chairs", "topic": "sanctioned"}}}


async def test_scheduled_chairs_only_within_the_slot() -> None:
    bot = Bot(plugin=_schedule(), settings=STRICT)
    said = texts(await bot.say("bruno_o", "#startmeeting tc", account="bruno"))
    assert said == ["bruno_o: cannot start a meeting here: only the chairs of the meeting "
                    "scheduled now may start it: tc (chair: Ada Lindqvist (ada)); the meeting "
                    "files in the governance repository say who chairs what and when"]
    assert "Meeting started" in texts(await bot.say("ada", "#startmeeting tc"))[0]


async def test_outside_any_slot_nobody_may_start() -> None:
    bot = Bot(plugin=_schedule(), settings=STRICT)
    bot.now = T0 + dt.timedelta(hours=3)
    said = texts(await bot.say("ada", "#startmeeting tc"))
    assert said[0].startswith(f"ada: cannot start a meeting here: no meeting is scheduled in "
                              f"{CHANNEL} now")


async def test_a_name_that_is_not_the_scheduled_meeting_id_gets_a_hint() -> None:
    bot = Bot(plugin=_schedule())
    said = texts(await bot.say("ada", "#startmeeting TC meeting"))
    assert ("Note: the meeting scheduled now in #example-tc is 'tc'; if this is it, say "
            "#meetingname tc") in said
    bot2 = Bot(plugin=_schedule())
    said = texts(await bot2.say("ada", "#startmeeting"))
    assert "The meeting name has been set to 'tc'" in said


async def test_topics_only_from_sanctioned_meetings() -> None:
    # Not a member of a body of this channel, no slot: the topic is left alone.
    bot = Bot(plugin=_schedule(), settings=STRICT | {"channels": {"default": {}}})
    bot.now = T0 + dt.timedelta(hours=3)
    said = texts(await bot.say("troll", "#startmeeting lol"))
    assert said[-1] == ("This meeting will not change the channel topic: it is not a "
                        "scheduled meeting of this channel.")
    assert topics(await bot.say("troll", "#topic OWNED")) == []
    # "always" is MeetBot's behaviour; "never" never touches it.
    always = Bot(settings={"channels": {CHANNEL: {"topic": "always"}}})
    await always.say("troll", "#startmeeting lol")
    assert topics(await always.say("troll", "#topic x")) == ["x (Meeting topic: lol)"]
    never = Bot(settings={"channels": {"default": {"topic": "never"}}})
    await never.say("ada", "#startmeeting tc")
    assert topics(await never.say("ada", "#topic x")) == []


async def test_say_actions_go_to_the_channel() -> None:
    bot = await started()
    actions = await bot.say("ada", "#chair nobody")
    assert all(a.target == CHANNEL for a in actions if isinstance(a, Say))


# --- the one table ---------------------------------------------------------------------

def test_the_docs_list_the_table() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "meetings.md").read_text()
    start = docs.index("<!-- generated from plugins/meetings/commands.py: markdown_table() -->")
    end = docs.index("<!-- end of the generated list -->")
    listed = docs[start:end].split("\n", 1)[1]
    assert listed == markdown_table(), "run markdown_table() and paste it into the docs"


def test_the_table_is_meetbots_commands() -> None:
    # The permissions MeetBot users know, now read from the one table.
    assert CHAIR_ONLY == {"endmeeting", "topic", "meetingtopic", "agreed", "accepted",
                          "rejected", "chair", "unchair", "undo", "save", "restrictlogs",
                          "lurk", "unlurk", "startvote", "endvote",
                          # the successors' (hcoop-meetbot, meetingology)
                          "failed", "inconclusive", "motion"}
    assert ALIASES == {"agree": "agreed", "accept": "accepted", "reject": "rejected",
                       "halp": "help", "close": "endvote"}
    for command in COMMANDS:
        assert command.syntax == "meetbot" and command.usage and command.description
        assert command.examples and command.permission is None


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_each_example_is_that_command_for_the_core(command: Command) -> None:
    """Help is data, and its examples are test inputs: the core routes each to us."""
    plugin = MeetingsPlugin()
    router = CommandRouter(PluginRegistry([plugin]).commands)
    for example in command.examples:
        message = IrcMessage(CHANNEL, CHANNEL, "ada", "ada", f"#{example}", {}, T0)
        event = router.event_of(message, "govbot")
        assert isinstance(event, CommandEvent) and event.lane == message.lane
        route = router.route(event, example_config(), T0)
        assert route.owner is plugin and route.command is not None
        assert route.command.name == command.name and route.call is not None
    for alias in command.aliases:
        event = router.event_of(IrcMessage(CHANNEL, CHANNEL, "ada", "ada", f"#{alias.upper()}",
                                           {}, T0), "govbot")
        assert isinstance(event, CommandEvent)
        assert router.route(event, example_config(), T0).command == route.command


async def test_help_comes_from_the_table() -> None:
    bot = await started()
    [text] = texts(await bot.say("farah", "#commands agree"))
    assert text == ("#agreed TEXT — Records a decision. — also #agree — "
                    "e.g. #agreed release on Friday — for the chairs of the meeting")
    said = texts(await bot.say("farah", "#help"))
    assert said[0].startswith("Available commands: #accept #accepted #action")
    router = CommandRouter(PluginRegistry([MeetingsPlugin()]).commands)
    found = router.lookup("meetbot", "startvote")
    assert found is not None
    assert router.describe(found[1], example_config()).startswith(
        "#startvote [BODY] QUESTION? OPTION, OPTION... — Starts a vote")


async def test_a_word_no_plugin_offers_is_a_plain_line() -> None:
    bot = await started()
    router = bot.router
    message = IrcMessage(CHANNEL, CHANNEL, "ada", "ada", "#openstack-infra is down", {}, T0)
    assert router.event_of(message, "govbot") is message
    notice = IrcMessage(CHANNEL, CHANNEL, "ada", "ada", "#agreed x", {}, T0, notice=True)
    assert router.event_of(notice, "govbot") is notice
