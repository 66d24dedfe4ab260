"""The whole daemon on a real ngircd and the Gerrit emulator: announcements reach the
channel, commands are answered, and a restart of the IRC server loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.daemon import Daemon
from govbot.testing.gerrit import FakeClock, GerritEmulator
from govbot.testing.ircd import IrcTestClient, NgircdServer, require_binaries
from tests.gerrit.harness import PROJECT, git, make_world

pytestmark = pytest.mark.irc

ANNOUNCEMENTS = f"""
example-dev:
  events: [patchset-created, change-merged, comment-added]
  projects: [{PROJECT}]
"""


@pytest.fixture
async def ircd(tmp_path: Path) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path / "ircd") as server:
        yield server


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(1_790_000_000)) as emulator:
        yield emulator


async def test_announcements_and_commands_through_the_daemon(
        tmp_path: Path, emu: GerritEmulator, ircd: NgircdServer) -> None:
    world = await make_world(emu, tmp_path)
    repo = tmp_path / "governance"
    (repo / "announcements.yaml").write_text(ANNOUNCEMENTS)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "announce", cwd=repo)
    with world.settings_path.open("a") as settings:
        settings.write(f"irc: {{host: 127.0.0.1, port: {ircd.port}, tls: false, nick: govbot,"
                       " rate: {burst: 10, per_second: 50}}\n"
                       "plugins: {enabled: [announce]}\n")
    daemon = Daemon(world.settings())
    task = asyncio.create_task(daemon.run())
    async with IrcTestClient(ircd.host, ircd.port, "watcher") as watcher:
        await watcher.join("#example-dev")
        await asyncio.wait_for(daemon.started.wait(), 15)
        assert daemon.irc is not None
        await daemon.irc.wait_connected(15)
        await watcher.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 10)
        # On a first start there is no cursor to catch up from: an event Gerrit sends
        # before the stream session is up is not the bot's (CI lost this race at load).
        assert daemon.gerrit is not None and daemon.gerrit.stream is not None
        await asyncio.wait_for(daemon.gerrit.stream.connected.wait(), 15)

        change = await emu.create_change(PROJECT, "master", world.alice, "Add a driver",
                                         {"d.py": "x\n"})
        said = await watcher.wait_for(lambda m: m.command == "PRIVMSG"
                                      and "proposed" in m.text, 15)
        assert said.nick == "govbot" and said.target == "#example-dev"
        assert said.text.startswith(f"alice proposed {PROJECT} master: Add a driver")
        assert f"/c/{PROJECT}/+/{change.number}" in said.text

        # a burst about one change: one line
        burst = await emu.create_change(PROJECT, "master", world.alice, "Burst", {"b": "1\n"})
        await emu.review(burst, world.bob, {"Code-Review": 1}, "ok")
        await emu.review(burst, world.alice, {"Code-Review": 2}, "ok")
        line = await watcher.wait_for(lambda m: m.command == "PRIVMSG" and "Burst" in m.text,
                                      15)
        assert line.text.startswith("alice proposed; bob voted Code-Review+1 on; "
                                    "alice voted Code-Review+2 on ")
        assert line.text.count(f"/c/{PROJECT}/+/{burst.number}") == 1

        await watcher.privmsg("#example-dev", "!help")
        help_line = await watcher.wait_for(lambda m: m.command == "PRIVMSG"
                                           and m.nick == "govbot" and "help" in m.text, 10)
        assert help_line.target == "#example-dev"

        # The IRC server goes away; what the bot decides meanwhile is delivered later.
        await ircd.kill()
        await emu.merge(change, world.bob)
        await ircd.restart()
    async with IrcTestClient(ircd.host, ircd.port, "watcher2") as watcher:
        await watcher.join("#example-dev")
        merged = await watcher.wait_for(lambda m: m.command == "PRIVMSG"
                                        and m.text.startswith("Merged"), 30)
        assert merged.nick == "govbot" and "Add a driver" in merged.text
        daemon.stop()
        assert await asyncio.wait_for(task, 20) == 0
        await watcher.wait_for(lambda m: m.command == "QUIT" and m.nick == "govbot", 10)
