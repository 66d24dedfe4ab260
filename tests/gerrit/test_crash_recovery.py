"""SIGKILL the bot while events flow; after a restart every vote is posted exactly once."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.testing.gerrit import FakeClock, GerritEmulator
from tests.gerrit.harness import PROJECT, ROOT, World, make_world, review_posts


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=FakeClock(1_790_000_000)) as emulator:
        yield emulator


class BotProcess:
    def __init__(self, world: World) -> None:
        self.world = world
        self.proc: asyncio.subprocess.Process | None = None
        self.log: list[str] = []

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.gerrit.bot_process", str(self.world.settings_path),
            cwd=ROOT, stderr=asyncio.subprocess.PIPE)
        await self.wait_log("gerrit stream connected")

    async def wait_log(self, needle: str, timeout: float = 20) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.proc.stderr.readline()).decode()
                if not line:
                    raise AssertionError("bot exited:\n" + "".join(self.log[-30:]))
                self.log.append(line)
                if needle in line:
                    return

    async def drain_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        rest = await self.proc.stderr.read()
        self.log.extend(line.decode() for line in rest.splitlines())

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.drain_log(), 20)
        return await asyncio.wait_for(self.proc.wait(), 20)


async def test_sigkill_mid_flight_then_restart_posts_each_vote_once(
        emu: GerritEmulator, tmp_path: Path) -> None:
    world = await make_world(emu, tmp_path)
    bot = BotProcess(world)
    await bot.start()
    try:
        changes = [await emu.create_change(PROJECT, "master", world.alice, f"Change {i}",
                                           {f"f{i}": "1\n"}) for i in range(12)]
        for change in changes[:6]:
            await emu.review(change, world.bob, {"Code-Review": 2}, "approve")
        # Kill it as soon as it has started posting: some votes are done, some are in
        # flight, some events are not even read yet.
        await emu.wait_for(lambda: len(review_posts(emu)) >= 2, timeout=20)
        await bot.kill()
        for change in changes[6:]:  # while the bot is dead
            await emu.review(change, world.bob, {"Code-Review": 2}, "approve")
        await bot.start()
        await emu.wait_for(lambda: len({c.path for c in review_posts(emu)}) >= 12, timeout=30)
        # Let anything still queued happen before counting: a clean stop drains it.
        assert await bot.terminate() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            bot.proc.kill()
            await bot.proc.wait()
    per_change: dict[int, int] = {}
    for call in review_posts(emu):
        number = int(call.path.rsplit("~", 1)[1].split("/")[0])
        per_change[number] = per_change.get(number, 0) + 1
    assert per_change == {c.number: 1 for c in changes}, "".join(bot.log[-40:])
