"""`govbot status` and `govbot tally` against the emulator, with nothing but settings."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.gerrit.harness import ROOT
from tests.gerrit.test_governance_votes import GOV, World, clock, emu, world  # noqa: F401


async def govbot(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_status_lists_governed_changes_and_tally_explains_one(world: World) -> None:  # noqa: F811
    vote = await world.emu.create_change(GOV, "master", world.people["ada"], "Adopt goals",
                                         {"resolutions/goals.rst": "x\n"},
                                         hashtags=["formal-vote"])
    await world.vote(vote, "bruno", 1)
    typo = await world.emu.create_change(GOV, "master", world.people["chiara"], "Fix a typo",
                                         {"reference/index.rst": "y\n"}, hashtags=["typo-fix"])
    untagged = await world.emu.create_change(GOV, "master", world.people["dmitri"],
                                             "No hashtag", {"reference/x.rst": "z\n"})
    settings = str(world.settings)

    code, out, err = await govbot("status", "--config", settings, "--json")
    assert code == 0, err
    verdicts = {v["number"]: v for v in json.loads(out)}
    assert set(verdicts) == {vote.number, typo.number, untagged.number}
    assert verdicts[vote.number]["state"] == "pending"
    assert verdicts[vote.number]["rule"] == "formal-vote"
    assert verdicts[vote.number]["subject"] == "Adopt goals"
    assert "Bruno" not in {m["name"].split()[0] for m in verdicts[vote.number]["missing"]}
    assert verdicts[untagged.number]["state"] == "blocked"

    code, out, err = await govbot("status", "--config", settings)
    assert code == 0, err
    assert f"{GOV}~{vote.number}  PENDING" in out and "formal-vote" in out

    code, out, err = await govbot("tally", str(vote.number), "--config", settings)
    assert code == 0, err
    assert out.startswith("Governance check: PENDING")

    code, out, err = await govbot("tally", "99999", "--config", settings)
    assert code == 1 and "not found" in err
