"""Candidacy checks end to end: the daemon with the elections plugin against the Gerrit
emulator (real SSH stream, real REST), a manual clock for the nomination window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.clock import ManualClock
from govbot.testing.gerrit import GerritEmulator
from govbot.testing.ircd import NgircdServer, require_binaries
from tests.elections.kit import ELECTION_REPO, Bot, at

START = at(2026, 6, 1, 12)
NOMINATING = at(2027, 1, 10, 12)
PTL = "candidates/2027.1-ptl"
CHECKS = ("path", "window", "owner", "unique", "qualifies", "statement")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def ircd(tmp_path: Path) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path / "ircd") as server:
        yield server


@pytest.fixture
async def bot(tmp_path: Path, clock: ManualClock, ircd: NgircdServer) -> AsyncIterator[Bot]:
    async with GerritEmulator(tmp_path / "gerrit", clock=clock) as emu:
        world = Bot(emu, tmp_path, clock)
        await world.setup(projects=["example/nova", "example/python-novaclient", "example/docs",
                                    "example/oslo",
                                    "example/stable-tools"], irc_port=ircd.port)
        people = world.people
        await emu.create_branch("example/docs", "stable/2026.1", people["lena"])
        # The qualifying history (2026): merged changes in the teams' repositories.
        for who, project, branch in (("priya", "example/nova", "master"),
                                     ("farah", "example/nova", "master"),
                                     ("ursula", "example/python-novaclient", "master"),
                                     ("hana", "example/docs", "master"),
                                     ("sven", "example/docs", "stable/2026.1")):
            change = await emu.create_change(project, branch, people[who], f"Work of {who}",
                                             {f"{who}.txt": "work\n"})
            await emu.merge(change, people["lena"])
        clock.set(NOMINATING - at(2027, 1, 10) + at(2027, 1, 9))  # nominations are open
        merged = await emu.create_change(ELECTION_REPO, "master", people["ursula"],
                                         "Add Ursula's candidacy",
                                         {f"{PTL}/Docs/ursula@example.org": "Hello.\n"})
        await emu.merge(merged, people["lena"])
        clock.set(NOMINATING)
        await world.start()
        yield world
        await world.stop()


async def propose(bot: Bot, who: str, files: dict[str, str], subject: str = "Candidacy"
                  ) -> tuple[int, str]:
    change = await bot.emu.create_change(ELECTION_REPO, "master", bot.people[who], subject,
                                         files)
    return await bot.verdict(change)


def line(message: str, check: str) -> str:
    return next(x for x in message.splitlines() if x.startswith(f"- {check}:"))


async def test_a_valid_nomination_passes_with_every_check_listed(bot: Bot) -> None:
    value, message = await propose(bot, "priya", {f"{PTL}/Compute/priya@example.org":
                                                   "I am running for compute PTL.\n"})
    assert value == 1
    assert message.startswith("Election check: PASSED")
    assert f"{PTL}/Compute/priya@example.org (2027.1 PTL elections):" in message
    for check in CHECKS:
        assert line(message, check).startswith(f"- {check}: ok — "), message
    assert "team compute's repositories" in line(message, "qualifies")
    assert "2027-01-10 12:00 UTC" in line(message, "window")


@pytest.mark.parametrize(("who", "path", "text", "failed", "says"), [
    ("bruno", "Compute/farah@example.org", "Farah runs.\n", "owner",
     "is not the candidate farah@example.org"),
    ("ursula", "Compute/ursula@example.org", "Again.\n", "unique",
     f"{PTL}/Docs/ursula@example.org (change "),
    ("tomas", "Compute/tomas@example.org", "I run.\n", "qualifies",
     "no merged change in team compute's repositories"),
    ("rosa", "Oslo/rosa@example.org", "I run.\n", "path", "distributed leadership"),
    ("hana", "Docs/hana@example.org", "  \n", "statement", "the file is empty"),
    ("priya", "Compute/priya-at-example.org", "I run.\n", "path", "is not an email address"),
    ("priya", "Tc/priya@example.org", "I run.\n", "path", "there is no team 'Tc'"),
], ids=["other-owner", "duplicate-in-tree", "unqualified", "distributed", "empty",
        "not-an-email", "no-such-team"])
async def test_a_failing_nomination_gets_minus_one_naming_the_check(
        bot: Bot, who: str, path: str, text: str, failed: str, says: str) -> None:
    value, message = await propose(bot, who, {f"{PTL}/{path}": text})
    assert value == -1
    assert message.startswith("Election check: FAILED")
    assert f"failed ({failed})" in message.splitlines()[0], message
    assert line(message, failed).startswith(f"- {failed}: FAILED — "), message
    assert says in line(message, failed), message
    others = [c for c in CHECKS if c != failed]
    assert not any(line(message, c).startswith(f"- {c}: FAILED") for c in others), message


async def test_a_malformed_election_name_fails_the_path(bot: Bot) -> None:
    value, message = await propose(bot, "priya", {"candidates/2099.9-ptl/Compute/"
                                                  "priya@example.org": "I run.\n"})
    assert value == -1
    assert "there is no election '2099.9-ptl'" in line(message, "path")


async def test_a_duplicate_in_another_open_change_fails(bot: Bot) -> None:
    files = {f"{PTL}/Compute/farah@example.org": "One.\n"}
    first = await bot.emu.create_change(ELECTION_REPO, "master", bot.people["farah"], "1",
                                        files)
    assert (await bot.verdict(first))[0] == 1
    value, message = await propose(bot, "farah", files)
    assert value == -1
    assert f"(change {first.number}, open)" in line(message, "unique"), message


async def test_a_nomination_after_the_window_fails_and_patch_set_1_counts(bot: Bot) -> None:
    emu = bot.emu
    early = await emu.create_change(ELECTION_REPO, "master", bot.people["farah"], "Farah",
                                    {f"{PTL}/Compute/farah@example.org": "Draft.\n"})
    assert (await bot.verdict(early))[0] == 1
    bot.clock.set(at(2027, 1, 23, 12))  # nominations closed at 2027-01-22 23:45
    await emu.upload_patchset(early, bot.people["farah"],
                              {f"{PTL}/Compute/farah@example.org": "Final.\n"})
    await emu.wait_for(lambda: len(bot.posts(early.number)) == 2, timeout=10)
    body = bot.posts(early.number)[-1].body
    assert body["labels"]["Governance-Check"] == 1  # measured from patch set 1
    assert "/revisions/2/" in bot.posts(early.number)[-1].path \
        or early.current.revision in bot.posts(early.number)[-1].path
    value, message = await propose(bot, "hana", {f"{PTL}/Docs/hana@example.org": "Late.\n"})
    assert value == -1
    assert "2027-01-23 12:00 UTC, outside nominations" in line(message, "window")


async def test_an_extra_atc_qualifies_and_an_expired_one_does_not(bot: Bot) -> None:
    bot.people["xiadani"] = bot.emu.add_account("xiadani", "Xiadani Flores",
                                                "xiadani@example.org")
    bot.people["oldtimer"] = bot.emu.add_account("oldtimer", "Old Timer", "old@example.org")
    value, message = await propose(bot, "xiadani", {f"{PTL}/Docs/xiadani@example.org":
                                                    "Docs for all.\n"})
    assert value == 1, message
    assert "an extra ATC of team docs, until 2027-03-01" in line(message, "qualifies")
    value, message = await propose(bot, "oldtimer", {f"{PTL}/Docs/old@example.org": "Hi.\n"})
    assert value == -1
    assert line(message, "qualifies").startswith("- qualifies: FAILED")


async def test_stable_branch_maintenance_qualifies_through_a_stable_branch(bot: Bot) -> None:
    value, message = await propose(bot, "sven", {
        f"{PTL}/Stable_Branch_Maintenance/sven@example.org": "Stable for all.\n"})
    assert value == 1, message
    assert "on a branch matching 'stable/.*'" in line(message, "qualifies")


async def test_an_official_may_propose_for_a_candidate(bot: Bot) -> None:
    value, message = await propose(bot, "lena", {f"{PTL}/Compute/priya@example.org":
                                                 "Proposed for Priya.\n"})
    assert value == 1, message
    assert "election official" in line(message, "owner")


async def test_a_change_touching_anything_else_is_not_checked(bot: Bot) -> None:
    emu = bot.emu
    other = await emu.create_change(ELECTION_REPO, "master", bot.people["priya"], "Docs",
                                    {"README.rst": "More.\n",
                                     f"{PTL}/Compute/priya@example.org": "I run.\n"})
    checked = await emu.create_change(ELECTION_REPO, "master", bot.people["priya"], "Me",
                                      {f"{PTL}/Compute/priya@example.org": "I run.\n"})
    await bot.verdict(checked)
    await bot.settle()
    assert bot.posts(other.number) == []


async def test_each_candidacy_file_of_a_change_is_checked_on_its_own(bot: Bot) -> None:
    value, message = await propose(bot, "priya", {
        f"{PTL}/Compute/priya@example.org": "Compute.\n",
        f"{PTL}/Docs/priya@example.org": "Docs.\n"})
    assert value == -1
    assert message.count("- unique: FAILED") == 2
    assert f"{PTL}/Docs/priya@example.org (in this change)" in message


async def test_a_tc_candidacy_qualifies_in_any_team_and_goes_in_the_tc_directory(
        bot: Bot) -> None:
    bot.clock.set(at(2027, 2, 15))  # the TC election's nominations are open
    value, message = await propose(bot, "hana", {"candidates/2027.1-tc/TC/hana@example.org":
                                                 "For the committee.\n"})
    assert value == 1, message
    assert "TC candidacy in 2027.1-tc" in line(message, "path")
    assert "team docs's repositories" in line(message, "qualifies")
    value, message = await propose(bot, "priya", {
        "candidates/2027.1-tc/Compute/priya@example.org": "For the committee.\n"})
    assert value == -1
    assert "a TC candidacy goes in the 'TC' directory, not 'Compute'" in line(message, "path")
