"""CI in verdicts, end to end: the bot, the Gerrit emulator and the Zuul emulator over
real SSH and HTTP. The infra-council rule requires the council's votes and CI."""

from __future__ import annotations

import logging

import pytest

from govbot.testing.zuul import ReportedBuild, zuul_report
from tests.zuul.harness import World


async def test_ci_failing_blocks_the_change_with_the_build_link(world: World) -> None:
    change = await world.propose()
    first = world.posts(change.number)[0].body
    assert first["labels"] == {"Governance-Check": 0}
    assert "waiting for CI" in first["message"]
    await world.council_approves(change)
    assert world.values(change.number)[-1] == 0  # votes met, CI not yet

    text = ""

    async def fail() -> None:
        nonlocal text
        text = await zuul_report(world.emu, change, world.zuul_account, "FAILURE",
                                 builds=[ReportedBuild("tox-py311", "FAILURE", 182),
                                         ReportedBuild("tox-pep8", "SUCCESS", 70)],
                                 zuul=world.zuul)
    await world.after(change.number, fail)
    post = world.posts(change.number)[-1].body
    assert post["labels"] == {"Governance-Check": -1}
    message = post["message"]
    assert message.startswith("Governance check: BLOCKED — rule infra-council")
    failing = next(line for line in text.splitlines() if "tox-py311" in line).split()[2]
    assert failing.startswith(world.zuul.url) and "/build/" in failing
    assert f"tox-py311 FAILURE {failing}" in message
    assert "tox-pep8" not in message  # only what failed is listed
    assert "Build failed (check pipeline)." in message


async def test_ci_passing_and_votes_met_is_ready(world: World) -> None:
    change = await world.propose()
    await world.after(change.number, lambda: zuul_report(
        world.emu, change, world.zuul_account, "SUCCESS", zuul=world.zuul))
    assert world.values(change.number)[-1] == 0  # CI passed; the council has not voted
    await world.council_approves(change)
    post = world.posts(change.number)[-1].body
    assert post["labels"] == {"Governance-Check": 1}
    assert "- met: Verified +1 from CI (zuul) on patch set 1: Verified +1 (Build succeeded " \
           "(check pipeline).)" in post["message"]
    assert "\nCI: " not in post["message"]  # Zuul's vote says it all: no live line


async def test_the_live_ci_line_says_where_the_change_is(world: World) -> None:
    change = await world.propose()
    world.zuul.enqueue(change, pipeline="check")
    await world.after(change.number, lambda: world.emu.review(
        change, world.people["lena"], {"Code-Review": 1}, "ok"))
    assert world.posts(change.number)[-1].body["message"].endswith("CI: enqueued in check")

    # The run ended but Zuul has not voted yet: the build that tells how it ended.
    world.zuul.dequeue(change)
    run = "set-1"
    world.zuul.add_build(change, 1, "tox-py311", "FAILURE", buildset=run)
    world.zuul.add_build(change, 1, "tox-docs", "FAILURE", voting=False, buildset=run)
    world.zuul.add_build(change, 1, "tox-pep8", "SUCCESS", buildset=run)
    failed = world.zuul.builds[0]["uuid"]
    await world.after(change.number, lambda: world.emu.review(
        change, world.people["marek"], {"Code-Review": 1}, "ok"))
    message = world.posts(change.number)[-1].body["message"]
    assert message.endswith(f"CI: last build FAILURE ({world.zuul.build_url(failed)})")
    assert "waiting for CI" in message


@pytest.mark.parametrize("mode", ["refused", "error", "slow"])
async def test_zuul_unreachable_still_gives_a_verdict(world: World, mode: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="govbot.zuul.client")
    await world.zuul.down(mode, delay=5.0)
    change = await world.propose()
    await world.after(change.number, lambda: zuul_report(
        world.emu, change, world.zuul_account, "SUCCESS"))
    await world.council_approves(change)
    post = world.posts(change.number)[-1].body
    assert post["labels"] == {"Governance-Check": 1}  # the verdict comes from Gerrit alone
    assert post["message"].endswith("CI: unknown (Zuul unreachable)")
    assert world.client.stats.failures >= 1
    assert any("is unreachable" in r.getMessage() for r in caplog.records)
    assert world.task is not None and not world.task.done()  # the bot runs on


async def test_a_recheck_that_turns_minus_one_into_plus_one_flips_once(world: World) -> None:
    change = await world.propose()
    await world.council_approves(change)
    await world.after(change.number, lambda: zuul_report(
        world.emu, change, world.zuul_account, "FAILURE", zuul=world.zuul))
    assert world.values(change.number)[-1] == -1
    before = len(world.posts(change.number))

    async def recheck() -> None:
        world.zuul.enqueue(change, pipeline="check")
        await world.emu.review(change, world.people["chiara"], message="recheck")
    await world.after(change.number, recheck)
    assert len(world.posts(change.number)) == before  # nothing new to say: no post

    await world.after(change.number, lambda: zuul_report(
        world.emu, change, world.zuul_account, "SUCCESS", zuul=world.zuul))
    after = world.posts(change.number)[before:]
    assert [p.body["labels"]["Governance-Check"] for p in after] == [1]  # one POST: the flip
    assert "READY" in after[0].body["message"]
