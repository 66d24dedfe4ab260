"""Fixtures for the Gerrit emulator's own tests: a running emulator with a governance-style
set-up (core reviewers, a TC, a bot) and a REST client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from govbot.testing.gerrit import (
    Account,
    FakeClock,
    GerritEmulator,
    Grant,
    Label,
    code_review_label,
    verified_label,
)
from govbot.testing.gerrit.client import RestClient

START = 1_700_000_000  # 2023-11-14 22:13:20 UTC


@dataclass
class People:
    project: str  # the governed project, with the labels below
    alice: Account  # core reviewer, usual change owner
    bob: Account  # core reviewer
    carol: Account  # TC member
    dave: Account  # TC member
    bot: Account  # the governance bot
    eve: Account  # registered user in no group


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def emu(tmp_path: Path, clock: FakeClock) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def people(emu: GerritEmulator) -> People:
    project = "openstack/governance"
    ppl = People(
        project=project,
        alice=emu.add_account("alice", "Alice Liddell", groups=["core"]),
        bob=emu.add_account("bob", "Bob Builder", groups=["core"]),
        carol=emu.add_account("carol", "Carol Danvers", groups=["tc"]),
        dave=emu.add_account("dave", "Dave Lister", groups=["tc"]),
        bot=emu.add_account("govbot", "Governance Bot", groups=["bots"]),
        eve=emu.add_account("eve", "Eve Moneypenny"),
    )
    labels = [code_review_label(), Label.ranged("Rollcall-Vote", -1, 1),
              Label.ranged("Governance-Check", -1, 1, allow_post_submit=False), verified_label()]
    grants = {"Code-Review": [Grant("Registered Users", -1, 1), Grant("core", -2, 2)],
              "Rollcall-Vote": [Grant("tc", -1, 1)],
              "Governance-Check": [Grant("bots", -1, 1)],
              "Verified": [Grant("bots", -1, 1)]}
    await emu.create_project(project, labels=labels, grants=grants)
    return ppl


@pytest.fixture
async def rest(emu: GerritEmulator) -> AsyncIterator[RestClient]:
    async with aiohttp.ClientSession() as session:
        yield RestClient(emu, session)
