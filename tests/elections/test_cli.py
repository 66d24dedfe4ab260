"""`govbot elections roll|status` against the emulator, with nothing but settings and a
config directory: paged queries, one per repository group per page."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.clock import ManualClock
from govbot.testing.gerrit import Account, GerritEmulator
from govbot.testing.world import governed_project
from tests.elections.kit import ELECTION_REPO, ROOT, add_merged, at, config_files, write_repo

PAGE = 250  # the core REST reader's page size
TEAM_REPOS = {"compute": ["example/nova", "example/python-novaclient"],
              "docs": ["example/docs"], "oslo": ["example/oslo"],
              "stable branch maintenance": ["example/stable-tools"]}


async def govbot(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


class Setup:
    def __init__(self, emu: GerritEmulator, tmp: Path) -> None:
        self.emu, self.tmp = emu, tmp
        self.config = write_repo(tmp / "config", config_files())
        bot = emu.add_account("govbot", "Governance Bot", groups=["bots"])
        (tmp / "pw").write_text(bot.http_password)
        self.settings = tmp / "govbot.yaml"
        self.settings.write_text(
            f"governance: {{repo: {self.config}}}\n"
            f"gerrit:\n  url: {emu.http_url}\n"
            f"  http: {{username: govbot, password: {{file: {tmp}/pw}}}}\n"
            f"state: {{path: {tmp}/state/db, workdir: {tmp}/state/work}}\n")

    def queries(self) -> list[str]:
        calls = [c for c in self.emu.rest_calls(method="GET")
                 if c.path.rstrip("/").endswith("/changes")]
        # the owners are all a roll needs: no messages, labels or files of 2,000 changes
        assert all(c.query.get("o") == ["DETAILED_ACCOUNTS"] for c in calls)
        return [c.query["q"][0] for c in calls]

    async def run(self, command: str, election: str, *more: str) -> tuple[int, str, str]:
        return await govbot("elections", command, election, "--config", str(self.settings),
                            "--governance", str(self.config), *more)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with GerritEmulator(tmp_path / "gerrit", clock=ManualClock(at(2027, 1, 10))) as emu:
        for repos in TEAM_REPOS.values():
            for repo in repos:
                await governed_project(emu, repo)
        await governed_project(emu, ELECTION_REPO)
        yield Setup(emu, tmp_path)


async def test_the_roll_lists_each_elector_once_from_paged_queries(setup: Setup) -> None:
    emu = setup.emu
    rng = random.Random(17)
    accounts: list[Account] = [emu.add_account(f"dev{i:03d}", f"Developer {i:03d}",
                                               f"dev{i:03d}@example.net") for i in range(300)]
    repos = [r for repos in TEAM_REPOS.values() for r in repos]
    per_repo: dict[str, int] = dict.fromkeys(repos, 0)
    authors: set[int] = set()
    for number in range(1, 2001):
        # everyone has at least one change; then a skewed history, as real ones are
        who = accounts[number - 1] if number <= 300 else accounts[int(rng.paretovariate(1.2))
                                                                   % 300]
        repo = repos[number % len(repos)]
        when = at(2026, 3, 1) + (at(2027, 2, 28) - at(2026, 3, 1)) * rng.random()
        add_merged(emu, repo, who, when, number=number)
        per_repo[repo] += 1
        authors.add(who.account_id)
    # Merged outside the period: not electors.
    late = emu.add_account("late", "Late Comer", "late@example.net")
    add_merged(emu, "example/nova", late, at(2027, 3, 2), number=5000)

    code, out, err = await setup.run("roll", "2027.1-tc")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["account_id", "name", "email"]
    ids = [r[0] for r in rows[1:] if r[0]]
    assert len(ids) == len(set(ids)) == len(authors) == 300
    assert {r[2] for r in rows[1:] if r[0]} == {a.email for a in accounts}
    assert "late@example.net" not in out
    # the docs team's extra ATC counts until the end of February 2027 ("now" is later,
    # the wall clock): only the entries still valid are listed, without an account
    extras = [r for r in rows[1:] if not r[0]]
    assert all(r[2] in ("xiadani@example.org",) for r in extras)

    # one query per repository group (a team's repositories), one call per page of it
    queries = setup.queries()
    groups = {team: sum(per_repo[r] for r in repos) for team, repos in TEAM_REPOS.items()}
    assert len(set(queries)) == len(groups)
    assert len(queries) <= sum(max(1, math.ceil(n / PAGE)) for n in groups.values())
    assert all(q.startswith("status:merged mergedafter:") for q in queries)


async def test_status_lists_candidacies_with_their_checks(setup: Setup) -> None:
    emu = setup.emu
    priya = emu.add_account("praman", "Priya Raman", "priya@example.org", account_id=1000014)
    tomas = emu.add_account("tferreira", "Tomas Ferreira", "tomas@example.org",
                            account_id=1000018)
    add_merged(emu, "example/nova", priya, at(2026, 5, 1), number=9000)
    await emu.create_change(ELECTION_REPO, "master", priya, "Priya",
                            {"candidates/2027.1-ptl/Compute/priya@example.org": "Yes.\n"})
    await emu.create_change(ELECTION_REPO, "master", tomas, "Tomas",
                            {"candidates/2027.1-ptl/Compute/tomas@example.org": "Me.\n"})
    code, out, err = await setup.run("status", "2027.1-ptl", "--json")
    assert code == 0, err
    document = json.loads(out)
    found = {c["email"]: c for c in document["candidacies"]}
    assert found["priya@example.org"]["ok"] is True
    assert [k["name"] for k in found["priya@example.org"]["checks"]] == [
        "path", "window", "owner", "unique", "qualifies", "statement"]
    assert found["tomas@example.org"]["ok"] is False
    failed = [k["name"] for k in found["tomas@example.org"]["checks"] if k["ok"] is False]
    assert failed == ["qualifies"]
    assert document["teams_without_candidates"] == ["docs", "stable branch maintenance"]
    code, out, err = await setup.run("status", "2027.1-ptl")
    assert code == 0, err
    assert "candidates/2027.1-ptl/Compute/tomas@example.org  change" in out
    assert "- qualifies: FAILED" in out
    assert out.rstrip().endswith("teams without a candidate: docs, stable branch maintenance")
    code, _, err = await setup.run("status", "2099.9-tc")
    assert code == 2 and "no election '2099.9-tc'" in err
