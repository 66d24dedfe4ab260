"""The `status` and `pending` chat commands, judged from the emulator's changes."""

from __future__ import annotations

from govbot.actions import Say
from govbot.plugin import CommandCall, MemoryState, PluginContext
from govbot.plugins.governance.commands import change_key
from govbot.plugins.governance.plugin import GovernancePlugin
from tests.gerrit.test_governance_votes import GOV, World, clock, emu, world  # noqa: F401


def context(world: World) -> PluginContext:  # noqa: F811
    daemon = world.daemon
    assert daemon is not None and daemon.config_holder is not None
    assert daemon.gerrit is not None
    return PluginContext("governance", "test", daemon.config_holder.config, daemon.gerrit.rest,
                         MemoryState(), world.clock.now())


def call(name: str, args: str, person: str | None, world: World) -> CommandCall:  # noqa: F811
    assert world.daemon is not None and world.daemon.config_holder is not None
    people = world.daemon.config_holder.config.people
    return CommandCall(name, args, "nick", person, people.get(person or ""), "#example-tc")


async def test_status_and_pending(world: World) -> None:  # noqa: F811
    change = await world.emu.create_change(GOV, "master", world.people["ada"], "Adopt goals",
                                           {"resolutions/goals.rst": "x\n"},
                                           hashtags=["formal-vote"])
    await world.vote(change, "bruno", 1)
    commands = {c.name: c for c in GovernancePlugin().commands()}
    ctx = context(world)

    said = await commands["status"].handler(call("status", str(change.number), "ada", world),
                                            ctx)
    assert isinstance(said[0], Say) and said[0].priority and said[0].target == "#example-tc"
    text = said[0].text
    assert text.startswith(f"nick: {GOV}~{change.number} (Adopt goals): PENDING under "
                           "formal-vote")
    assert "not voted: " in text and "Chiara Benedetti" in text
    assert "earliest 2026-11-09 09:00 UTC" in text

    waiting = await commands["pending"].handler(call("pending", "", "chiara", world), ctx)
    assert f"{GOV}~{change.number} (Adopt goals, formal-vote)" in waiting[0].text  # type: ignore[attr-defined]
    voted = await commands["pending"].handler(call("pending", "", "bruno", world), ctx)
    assert voted[0].text == "nick: nothing is waiting on your vote"  # type: ignore[attr-defined]
    stranger = await commands["pending"].handler(call("pending", "", None, world), ctx)
    assert "your services account is not in" in stranger[0].text  # type: ignore[attr-defined]
    bad = await commands["status"].handler(call("status", "nonsense words", "ada", world), ctx)
    assert "usage: status CHANGE" in bad[0].text  # type: ignore[attr-defined]


def test_change_keys_as_people_write_them() -> None:
    assert change_key("12345") == "12345"
    assert change_key("example/governance~12") == "example/governance~12"
    assert change_key("https://review.example.org/c/example/governance/+/12") == \
        "example/governance~12"
    assert change_key("see this") is None
