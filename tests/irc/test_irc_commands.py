"""Chat commands through the dispatcher, table-driven and without a server: authority,
help, limits. Each line goes where a real one goes: `CommandRouter.event_of`, then
the dispatcher (`tests/irc/test_irc_ngircd.py` does the same over a real server)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

import pytest

from govbot.actions import Action, ReloadConfig, Say
from govbot.commands import CommandEvent, CommandRouter, describe_permission, permitted
from govbot.config.model import Body, GovernanceConfig, Person
from govbot.dispatcher import ContextSource, Dispatcher, Envelope
from govbot.irc.events import IrcMessage
from govbot.plugin import (
    Command,
    CommandCall,
    MemoryState,
    NoGerrit,
    Plugin,
    PluginContext,
    PluginError,
    PluginRegistry,
    PluginSettings,
)
from govbot.plugin_loader import BUILTIN_PLUGINS, load_plugins
from govbot.reporters import RecordingReporter, ReporterSet
from tests.irc.harness import governance

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)

ALICE = Person(id="alice", name="Alice Liddell", irc_account="alice", irc_nick="alice")
BOB = Person(id="bob", name="Bob", irc_account="bob", irc_nick="bob")
CAROL = Person(id="carol", name="Carol", irc_account="carol", irc_nick="carol")
TC = Body(id="tc", name="Technical Committee", members=("bob", "carol"),
          roles={"chair": ("carol",)})
CONFIG = governance(ALICE, BOB, CAROL, admins=["alice"], tc=TC)


class VotesSettings(PluginSettings, frozen=True, kw_only=True):
    quorum: int = 0


class Votes(Plugin):
    """A plugin offering commands with each kind of permission."""

    name = "votes"
    settings_type = VotesSettings
    emits = (Say,)

    def __init__(self) -> None:
        self.calls: list[tuple[CommandCall, PluginContext]] = []

    def commands(self) -> Sequence[Command]:
        return [
            Command("status", self.status, "status", "Shows open votes.", ("status",)),
            Command("vote", self.status, "vote CHANGE yes|no", "Votes.", ("vote 42 yes",),
                    permission="tc"),
            Command("close", self.status, "close CHANGE", "Closes a vote.", (),
                    permission="tc:chair"),
            Command("ghost", self.status, "ghost", "Nobody may.", (), permission="nope"),
            Command("crash", self.crash, "crash", "Always fails.", ()),
        ]

    async def status(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        self.calls.append((call, ctx))
        return [Say(target=call.reply_to, text=f"{call.name} ok {call.args}".strip())]

    async def crash(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        raise RuntimeError("database on fire")


def contexts(config: GovernanceConfig = CONFIG) -> ContextSource:
    # "Now" is the line's time, as in a deterministic replay: the rate limit's clock.
    return ContextSource(config=lambda: config, gerrit=NoGerrit(),
                         state=lambda plugin: MemoryState(),
                         clock=lambda event: getattr(event, "time", NOW),
                         settings={"votes": VotesSettings(quorum=3)})


class Desk:
    """A registry of `plugin`, its router and a dispatcher recording what is reported."""

    def __init__(self, plugin: Votes, **kw: object) -> None:
        registry = PluginRegistry([plugin])
        self.router = CommandRouter(registry.commands, prefix="!", **kw)  # type: ignore[arg-type]
        self.recorder = RecordingReporter()
        self.dispatcher = Dispatcher(registry, ReporterSet([self.recorder]), contexts(),
                                     commands=self.router)

    async def line(self, message: IrcMessage) -> list[Action]:
        """Deliver one IRC line; the actions reported for it."""
        event = self.router.event_of(message, "govbot")
        before = len(self.recorder.actions)
        task = asyncio.create_task(self.dispatcher.run())
        try:
            await self.dispatcher.submit(Envelope(event.id, event, event.lane))
            await asyncio.wait_for(self.dispatcher.join(), 5)
        finally:
            task.cancel()
        return self.recorder.actions[before:]


def make_router(plugin: Votes | None = None, **kw: object) -> tuple[Desk, Votes]:
    plugin = plugin or Votes()
    return Desk(plugin, **kw), plugin


async def say(desk: Desk, text: str, *, nick: str = "alice",
              account: str | None = "alice", channel: str | None = "#tc",
              when: dt.datetime = NOW, notice: bool = False) -> list[Action]:
    return await desk.line(IrcMessage(channel or "govbot", channel, nick, account, text, {},
                                      when, notice))


def texts(actions: Sequence[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


@pytest.mark.parametrize(("permission", "person", "allowed"), [
    (None, None, True),
    ("tc", BOB, True),
    ("tc", ALICE, False),
    ("tc", None, False),
    ("tc:chair", CAROL, True),
    ("tc:chair", BOB, False),
    ("nope", ALICE, False),
    ("admins", ALICE, True),
])
def test_permitted(permission: str | None, person: Person | None, allowed: bool) -> None:
    assert permitted(permission, person, CONFIG) is allowed


def test_describe_permission() -> None:
    assert describe_permission("tc", CONFIG) == "members of Technical Committee"
    assert describe_permission("tc:chair", CONFIG) == "the chair of Technical Committee"
    assert describe_permission(None, CONFIG) == "everyone"


async def test_reload_by_the_admin_account() -> None:
    router, _ = make_router()
    actions = await say(router, "govbot: reload")
    reload = [a for a in actions if isinstance(a, ReloadConfig)]
    assert len(reload) == 1 and "Alice Liddell (alice)" in reload[0].reason
    assert texts(actions) == ["alice: reloading the governance config"]
    assert all(a.plugin == "commands" for a in actions)


@pytest.mark.parametrize(("nick", "account", "refusal"), [
    # The admin's nick without the account: told which account to log in as.
    ("alice", None, "reload is for members of Administrators: you must be logged in to "
                    "services as alice to use it"),
    ("ALICE", None, "you must be logged in to services as alice"),
    # A look-alike nick (capital i) matches nobody: no account names leak.
    ("aIice", None, "reload is for members of Administrators: you are not logged in to "
                    "services"),
    ("mallory", "mallory", "the services account mallory is not in the governance config"),
    ("bob", "bob", "reload is for members of Administrators"),
    # The admin's nick, but logged in as someone else: the account decides.
    ("alice", "bob", "reload is for members of Administrators"),
])
async def test_reload_refused_without_the_right_account(nick: str, account: str | None,
                                                        refusal: str) -> None:
    router, _ = make_router()
    actions = await say(router, "!reload", nick=nick, account=account)
    assert not [a for a in actions if isinstance(a, ReloadConfig)]
    [reply] = texts(actions)
    assert refusal in reply and reply.startswith(f"{nick}: ")


async def test_reload_permission_is_configurable() -> None:
    router, _ = make_router(admins="tc:chair")
    assert [a for a in await say(router, "!reload", nick="carol", account="carol")
            if isinstance(a, ReloadConfig)]
    assert not [a for a in await say(router, "!reload") if isinstance(a, ReloadConfig)]


async def test_plugin_command_gets_its_own_context_and_the_person() -> None:
    router, votes = make_router()
    actions = await say(router, "govbot, vote 42 yes", nick="bob", account="bob")
    assert texts(actions) == ["vote ok 42 yes"]
    assert actions[0].plugin == "votes" and actions[0].event_id
    call, ctx = votes.calls[0]
    assert (call.name, call.args, call.nick, call.account, call.channel) == \
        ("vote", "42 yes", "bob", "bob", "#tc")
    assert call.person == BOB
    assert ctx.plugin == "votes" and ctx.settings == VotesSettings(quorum=3) and ctx.now == NOW


@pytest.mark.parametrize(("command", "nick", "allowed"), [
    ("vote 1 yes", "bob", True), ("vote 1 yes", "alice", False),
    ("close 1", "carol", True), ("close 1", "bob", False),
    ("ghost", "alice", False), ("status", "nobody-at-all", True),
])
async def test_body_and_role_permissions(command: str, nick: str, allowed: bool) -> None:
    router, votes = make_router()
    account = nick if nick != "nobody-at-all" else None
    actions = await say(router, f"!{command}", nick=nick, account=account)
    assert bool(votes.calls) is allowed, texts(actions)


async def test_private_commands_need_no_prefix_and_are_answered_in_private() -> None:
    router, _ = make_router()
    actions = await say(router, "status", nick="bob", account="bob", channel=None)
    assert [(a.target, a.text) for a in actions if isinstance(a, Say)] == [("bob", "status ok")]
    [refused] = [a for a in await say(router, "reload", nick="bob", account="bob",
                                      channel=None) if isinstance(a, Say)]
    assert refused.target == "bob" and not refused.text.startswith("bob:")


async def test_help_lists_what_the_speaker_may_use() -> None:
    router, _ = make_router()
    [anonymous] = texts(await say(router, "!help", nick="eve", account=None))
    assert "commands you may use: crash, help, status " in anonymous
    [chair] = texts(await say(router, "!help", nick="carol", account="carol"))
    assert "close, crash, help, status, vote" in chair and "reload" not in chair
    [admin] = texts(await say(router, "!help", nick="alice", account="alice"))
    assert "reload" in admin


async def test_help_for_one_command_is_data() -> None:
    router, _ = make_router()
    [text] = texts(await say(router, "!help vote", nick="eve", account=None))
    assert text == ("eve: !vote CHANGE yes|no — Votes. — e.g. !vote 42 yes — "
                    "for members of Technical Committee")
    [text] = texts(await say(router, "govbot: help !reload"))
    assert "!reload — Loads the governance config" in text
    [text] = texts(await say(router, "!help stauts"))
    assert "did you mean 'status'" in text


async def test_unknown_commands() -> None:
    router, _ = make_router()
    [typo] = texts(await say(router, "!stauts"))
    assert typo == "alice: unknown command 'stauts'; did you mean 'status'? " \
                   '(say "!help" for the list)'
    # Another bot's command in the channel: not ours, no noise.
    assert await say(router, "!weather paris") == []
    [addressed] = texts(await say(router, "govbot: weather paris"))
    assert addressed.startswith("alice: unknown command 'weather'")
    assert texts(await say(router, "weather", channel=None))


async def test_a_failing_command_says_internal_error_with_the_event_id(
        caplog: pytest.LogCaptureFixture) -> None:
    router, _ = make_router()
    with caplog.at_level(logging.ERROR):
        actions = await say(router, "!crash")
    [text] = texts(actions)
    event_id = actions[0].event_id
    assert event_id and text == f"alice: internal error, logged as {event_id}"
    assert "Traceback" not in text and "fire" not in text
    assert "database on fire" in caplog.text and event_id in caplog.text


async def test_rate_limit_per_person_and_command() -> None:
    router, votes = make_router(rate_limit=(3, 30.0))
    replies = []
    for n in range(5):
        replies.append(texts(await say(router, "!status", nick="bob", account="bob",
                                       when=NOW + dt.timedelta(seconds=n))))
    assert replies[:3] == [["status ok"]] * 3
    assert replies[3] == ["bob: slow down: at most 3 status per 30 s"]
    assert replies[4] == []  # warned once; then silence
    # Another person, or another command, has its own budget.
    assert texts(await say(router, "!status", nick="carol", account="carol"))
    assert texts(await say(router, "!help", nick="bob", account="bob"))
    # The window slides.
    later = NOW + dt.timedelta(seconds=31)
    assert texts(await say(router, "!status", nick="bob", account="bob", when=later)) == \
        ["status ok"]
    assert len(votes.calls) == 5


async def test_notices_actions_and_chatter_are_ignored() -> None:
    router, votes = make_router()
    assert await say(router, "!status", notice=True) == []
    event = IrcMessage("#tc", "#tc", "alice", "alice", "!status", {}, NOW, action=True)
    assert await router.line(event) == []
    assert await say(router, "I think govbot: help is nice") == []
    assert votes.calls == []


def test_builtin_names_cannot_be_taken() -> None:
    class Helpful(Plugin):
        name = "helpful"

        def commands(self) -> Sequence[Command]:
            return [Command("help", Votes().status, "help", "mine")]

    with pytest.raises(PluginError, match="built into the router"):
        PluginRegistry([Helpful()])


async def test_through_the_dispatcher_actions_keep_the_owning_plugin() -> None:
    desk, _ = make_router()
    event = IrcMessage("#tc", "#tc", "bob", "bob", "!status", {}, NOW)
    [action] = await desk.line(event)
    assert action.plugin == "votes" and action.event_id == event.id


def test_the_registry_maps_syntax_and_name_aliases_too_to_one_plugin() -> None:
    class Meet(Plugin):
        name = "meet"

        def commands(self) -> Sequence[Command]:
            return [Command("Agreed", Votes().status, "agreed TEXT", "Decides.",
                            aliases=("agree",), syntax="meetbot"),
                    Command("status", Votes().status, "status", "A #status, not !status.",
                            syntax="meetbot")]

    meet, votes = Meet(), Votes()
    registry = PluginRegistry([votes, meet])
    assert registry.commands[("meetbot", "agreed")][0] is meet
    assert registry.commands[("meetbot", "agree")][0] is meet
    assert registry.commands[("chat", "status")][0] is votes  # same name, other syntax

    class Copycat(Plugin):
        name = "copycat"

        def commands(self) -> Sequence[Command]:
            return [Command("concur", Votes().status, "concur", "x", aliases=("AGREE",),
                            syntax="meetbot")]

    with pytest.raises(PluginError, match="offered by both 'meet' and 'copycat'"):
        PluginRegistry([meet, Copycat()])


async def test_help_explains_a_meetbot_command_from_its_data() -> None:
    class Meet(Plugin):
        name = "meet"

        def commands(self) -> Sequence[Command]:
            return [Command("agreed", Votes().status, "agreed TEXT", "Records a decision.",
                            ("agreed ship it",), aliases=("agree",), syntax="meetbot",
                            who="the chairs of the meeting")]

    registry = PluginRegistry([Meet()])
    desk = Desk(Votes())
    desk.router = CommandRouter(registry.commands)
    desk.dispatcher = Dispatcher(registry, ReporterSet([desk.recorder]), contexts(),
                                 commands=desk.router)
    [text] = texts(await say(desk, "!help #agreed"))
    assert text == ("alice: #agreed TEXT — Records a decision. — also #agree — "
                    "e.g. #agreed ship it — for the chairs of the meeting")


def test_every_example_of_every_built_in_plugin_reaches_its_command() -> None:
    """Help is data and its examples are test inputs: each, said in a channel as the
    help shows it, is routed by the core to the command it illustrates."""
    registry = PluginRegistry(load_plugins(list(BUILTIN_PLUGINS)))
    router = CommandRouter(registry.commands)
    checked = 0
    offered = {id(c): (p, c) for p, c in registry.commands.values()}  # aliases once
    for plugin, command in offered.values():
        for example in command.examples:
            text = f"{command.sigil or router.prefix}{example}"
            event = router.event_of(IrcMessage("#tc", "#tc", "carol", "carol", text, {}, NOW),
                                    "govbot")
            assert isinstance(event, CommandEvent), text
            route = router.route(event, CONFIG, NOW)
            assert route.owner is plugin and route.command == command, text
            checked += 1
    assert checked >= 20  # MeetBot's and governance's, at least


async def test_without_an_account_the_limit_is_per_host_not_per_nick() -> None:
    """Many nicks from one host share one budget; another host has its own."""
    router, votes = make_router(rate_limit=(2, 30.0))

    async def from_host(nick: str, host: str, n: int) -> list[str]:
        return texts(await router.line(IrcMessage(
            "#tc", "#tc", nick, None, "!status", {}, NOW + dt.timedelta(seconds=n),
            host=host)))

    answers = [await from_host(f"sock{n}", "Evil.Example", n) for n in range(6)]
    assert answers[:2] == [["status ok"]] * 2
    assert answers[2] == ["sock2: slow down: at most 2 status per 30 s"]
    assert answers[3:] == [[], [], []]
    assert await from_host("friend", "good.example", 7) == ["status ok"]
    assert len(votes.calls) == 3


async def test_a_global_budget_caps_replies_from_everyone_together(
        caplog: pytest.LogCaptureFixture) -> None:
    router, votes = make_router(rate_limit=(5, 30.0), global_limit=(10, 30.0))
    answered = 0
    for n in range(40):  # 40 accounts, one command each, within one window
        answered += bool(texts(await say(router, "!status", nick=f"n{n}", account=f"a{n}",
                                         when=NOW + dt.timedelta(seconds=n * 0.5))))
    assert answered == 10 and len(votes.calls) == 10
    warnings = [r for r in caplog.records if "global budget" in r.getMessage()]
    assert len(warnings) == 1  # once per window, not once per refusal
    later = NOW + dt.timedelta(seconds=60)
    assert texts(await say(router, "!status", nick="late", account="late", when=later))
