"""The governance plugin end to end: emulator, real SSH and REST, simulated days."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from govbot.clock import ManualClock
from govbot.config.loader import load_config
from govbot.daemon import Daemon
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.settings import parse_settings
from govbot.testing.gerrit import Account, GerritEmulator
from govbot.testing.world import BOT_GROUP, governed_project, populate
from tests.gerrit.bot_settings import bot_gerrit_settings
from tests.gerrit.harness import ROOT

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
GOV = "example/governance"
CONFIG = "example/govbot-config"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def emu(tmp_path: Path, clock: ManualClock) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=clock) as emulator:
        yield emulator


class World:
    def __init__(self, emu: GerritEmulator, tmp: Path, clock: ManualClock) -> None:
        self.emu, self.tmp, self.clock = emu, tmp, clock
        self.daemon: Daemon | None = None
        self.task: asyncio.Task[int] | None = None

    async def setup(self) -> None:
        sections = PluginRegistry(load_plugins(["governance"])).config_sections()
        config = load_config(ROOT / "etc" / "governance", sections).config
        assert config is not None
        self.people: dict[str, Account] = populate(self.emu, config)
        self.bot = self.emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP],
                                        account_id=999)
        await governed_project(self.emu, GOV, body_labels=[("Rollcall-Vote", "tc", -1, 1)])
        await governed_project(self.emu, CONFIG, body_labels=[("Code-Review", "tc", -2, 2)])
        files = {p.name: p.read_bytes().decode() for p in (ROOT / "etc" / "governance").iterdir()
                 if p.suffix == ".yaml"}
        await self.emu.push(CONFIG, "master", files, self.people["ada"])
        self.settings = self.tmp / "govbot.yaml"
        self.settings.write_text(
            bot_gerrit_settings(self.emu, self.bot, self.tmp, CONFIG)
            + "web: {listen: '127.0.0.1:0'}\n"
            "plugins:\n  enabled: [governance]\n"
            f"  settings: {{governance: {{config_project: {CONFIG}, "
            "add_reviewers: true}}\n")

    async def start(self) -> Daemon:
        settings = parse_settings(self.settings.read_text(), str(self.settings),
                                  base=self.tmp)
        self.daemon = Daemon(settings, clock=self.clock)
        self.task = asyncio.create_task(self.daemon.run())
        async with asyncio.timeout(15):
            await self.daemon.started.wait()
            assert self.daemon.gerrit is not None and self.daemon.gerrit.stream is not None
            await self.daemon.gerrit.stream.connected.wait()
        await self.emu.wait_for(lambda: self.emu.stream_count >= 1)
        return self.daemon

    async def stop(self) -> None:
        assert self.daemon is not None and self.task is not None
        self.daemon.stop()
        assert await asyncio.wait_for(self.task, 15) == 0

    def posts(self, number: int) -> list[Any]:
        return [c for c in self.emu.rest_calls(method="POST", path_contains="/review")
                if c.status == 200 and f"~{number}/" in c.path and c.account == "govbot"
                and "labels" in c.body]  # not the requests adding reviewers

    def values(self, number: int) -> list[int]:
        return [c.body["labels"]["Governance-Check"] for c in self.posts(number)]

    async def settle(self) -> None:
        assert self.daemon is not None and self.daemon.dispatcher is not None
        await self.daemon.dispatcher.join()

    async def vote(self, change: Any, who: str, value: int) -> None:
        before = len(self.emu.events_of("comment-added", change=change))
        await self.emu.review(change, self.people[who], {"Rollcall-Vote": value}, "vote")
        await self.emu.wait_for(
            lambda: len(self.emu.events_of("comment-added", change=change)) > before)


@pytest.fixture
async def world(emu: GerritEmulator, tmp_path: Path,
                clock: ManualClock) -> AsyncIterator[World]:
    w = World(emu, tmp_path, clock)
    await w.setup()
    await w.start()
    yield w
    await w.stop()


async def test_formal_vote_turns_ready_exactly_after_seven_days(world: World) -> None:
    emu, clock = world.emu, world.clock
    change = await emu.create_change(GOV, "master", world.people["ada"],
                                     "Adopt the 2027 cycle goals",
                                     {"resolutions/2027-goals.rst": "Goals.\n"},
                                     hashtags=["formal-vote"])
    await emu.wait_for(lambda: world.posts(change.number), timeout=10)
    assert world.values(change.number) == [0]
    assert "PENDING" in world.posts(change.number)[0].body["message"]
    clock.advance(days=1)
    for who, value in (("bruno", 1), ("chiara", 1), ("dmitri", -1), ("eun-ji", 1)):
        await world.vote(change, who, value)
    # the bot's latest message counts all four votes, and the label is still 0
    await emu.wait_for(lambda: "3 yes, 1 no" in world.posts(change.number)[-1].body["message"],
                       timeout=10)
    await world.settle()
    assert set(world.values(change.number)) == {0}  # the votes are there; the week is not
    message = world.posts(change.number)[-1].body["message"]
    assert "2026-11-09 09:00 UTC" in message  # the earliest approval time, in UTC

    clock.set(START + dt.timedelta(days=6, hours=23, minutes=59))
    await world.settle()
    assert 1 not in world.values(change.number)
    posts_before = len(world.posts(change.number))
    events_before = len(emu.events)

    clock.set(START + dt.timedelta(days=7))  # no event happens at this moment
    await emu.wait_for(lambda: 1 in world.values(change.number), timeout=10)
    since = [e for e in emu.events[events_before:] if e.get("change", {}).get("number")
             == change.number and not e["type"] == "ref-updated"]
    assert [(e["type"], e["author"]["username"]) for e in since] == [("comment-added",
                                                                      "govbot")]
    assert len(world.posts(change.number)) == posts_before + 1
    assert world.posts(change.number)[-1].time >= (START + dt.timedelta(days=7)).timestamp()
    assert "READY" in world.posts(change.number)[-1].body["message"]

    # two more objections make it a tie: a tie rejects, and the label leaves +1
    await world.vote(change, "farah", -1)
    await world.vote(change, "gustavo", -1)
    await emu.wait_for(lambda: world.values(change.number)[-1] != 1, timeout=10)
    await world.settle()
    values = world.values(change.number)
    assert values[-1] != 1 and values.count(1) == 1
    transitions = [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]
    assert transitions == [0, 1, values[-1]]


async def test_missing_voters_are_added_as_reviewers(world: World) -> None:
    change = await world.emu.create_change(GOV, "master", world.people["ada"], "A motion",
                                           {"resolutions/motion.rst": "x\n"},
                                           hashtags=["formal-vote"])

    def added() -> set[str]:
        return {world.emu.account(a).username for a in world.emu.change(change.number).reviewers}

    await world.emu.wait_for(lambda: len(added()) >= 8, timeout=10)
    assert {"bokafor", "chiara", "dvolk", "eunji", "ivo"} <= added()
    assert "ada" not in added()  # the owner is not asked to review their own change
    await world.vote(change, "bruno", 1)  # another evaluation: nobody is added twice
    await world.emu.wait_for(lambda: len(world.posts(change.number)) >= 2, timeout=10)
    await world.settle()
    asked = [c for c in world.emu.rest_calls(method="POST", path_contains="/review")
             if c.account == "govbot" and "reviewers" in c.body]
    assert len(asked) == 1


async def test_a_charter_change_under_formal_vote_is_blocked_naming_the_hashtag(
        world: World) -> None:
    change = await world.emu.create_change(GOV, "master", world.people["bruno"],
                                           "Shorten the election period",
                                           {"charter.rst": "New charter.\n"},
                                           hashtags=["formal-vote"])
    await world.emu.wait_for(lambda: world.posts(change.number), timeout=10)
    post = world.posts(change.number)[0]
    assert post.body["labels"] == {"Governance-Check": -1}
    assert "charter-change" in post.body["message"]


async def test_a_config_change_that_breaks_the_config_gets_a_minus_one(world: World) -> None:
    daemon = world.daemon
    assert daemon is not None and daemon.config_holder is not None
    in_force = daemon.config_holder.revision
    bodies = (ROOT / "etc" / "governance" / "bodies.yaml").read_text()
    broken = bodies.replace("members: [ada, bruno,", "members: [nobody-at-all, bruno,", 1)
    change = await world.emu.create_change(CONFIG, "master", world.people["ada"],
                                           "Add a member", {"bodies.yaml": broken})
    await world.emu.wait_for(lambda: world.posts(change.number), timeout=15)
    post = world.posts(change.number)[0]
    assert post.body["labels"] == {"Governance-Check": -1}
    assert "the proposed config does not load" in post.body["message"]
    assert "bodies.yaml:" in post.body["message"] and "nobody-at-all" in post.body["message"]
    assert daemon.config_holder.revision == in_force  # the running config is untouched

    # a good change, once merged, is loaded
    fixed = bodies.replace("chair: ada", "chair: bruno", 1)
    good = await world.emu.create_change(CONFIG, "master", world.people["ada"],
                                         "New chair", {"bodies.yaml": fixed})
    await world.emu.wait_for(lambda: world.posts(good.number), timeout=15)
    assert world.posts(good.number)[0].body["labels"] == {"Governance-Check": 0}

    loaded = asyncio.Event()
    daemon.config_holder.add_listener(lambda old, new: loaded.set())
    await world.emu.merge(good, world.people["ada"])
    await asyncio.wait_for(loaded.wait(), 15)  # ref-updated on the config branch: reload
    assert daemon.config_holder.revision != in_force
    assert daemon.config_holder.config.bodies["tc"].roles["chair"] == ("bruno",)
