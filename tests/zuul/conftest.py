from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.clock import ManualClock
from govbot.testing.gerrit import GerritEmulator
from govbot.testing.zuul import ZuulEmulator
from tests.zuul.harness import START, World


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def zuul(clock: ManualClock) -> AsyncIterator[ZuulEmulator]:
    async with ZuulEmulator(tenant="example", clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock, zuul: ZuulEmulator,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    async with GerritEmulator(tmp_path / "gerrit", clock=clock) as emu:
        w = World(emu, zuul, tmp_path, clock)
        await w.setup()
        await w.start(monkeypatch)
        yield w
        await w.stop()
