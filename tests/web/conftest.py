"""Fixtures of the web tests: a bot serving its pages against the emulator (world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.clock import ManualClock
from govbot.testing.gerrit import GerritEmulator
from tests.web.world import START, WebWorld


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def emu(tmp_path: Path, clock: ManualClock) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def world(emu: GerritEmulator, tmp_path: Path,
                clock: ManualClock) -> AsyncIterator[WebWorld]:
    """The bot running, with the four changes of `populate_changes` judged."""
    w = WebWorld(emu, tmp_path, clock)
    await w.setup()
    await w.start()
    await w.populate_changes()
    yield w
    await w.stop()
