"""A pending-vote digest on a real ngircd, from changes in the Gerrit emulator: it lists
exactly the changes and the missing members the governance verdicts report, and the
members whose vote is overdue get one NOTICE each (not the one who opted out)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.actions import Notice, Say
from govbot.clock import ManualClock
from govbot.daemon import Daemon
from govbot.plugins.governance.change import ChangeState
from govbot.plugins.governance.evaluate import evaluate
from govbot.plugins.governance.model import RulesConfig
from govbot.plugins.governance.plugin import GovernancePlugin
from govbot.plugins.governance.verdict import PENDING
from govbot.plugins.reminders.plugin import RemindersPlugin
from govbot.reporters import RecordingReporter
from govbot.settings import parse_settings
from govbot.testing.gerrit import GerritEmulator
from govbot.testing.ircd import IrcTestClient, NgircdServer, require_binaries
from govbot.testing.world import BOT_GROUP, governed_project, populate
from tests.reminders.kit import at, loaded, make_repo, settle
from tests.reminders.test_daemon_reminders import git

pytestmark = pytest.mark.irc

START = at(2026, 11, 2, 9)  # a Monday
DIGEST_AT = at(2026, 11, 4, 10)  # Wednesday's digest
GOV = "example/governance"
REMINDERS = """digests:
  - name: morning
    time: '1000'
    bodies: [tc]
"""


@pytest.fixture
async def ircd(tmp_path: Path) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path / "ircd") as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def emu(tmp_path: Path, clock: ManualClock) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit", clock=clock) as emulator:
        yield emulator


async def test_digest_lists_what_the_verdicts_report(
        tmp_path: Path, emu: GerritEmulator, ircd: NgircdServer, clock: ManualClock) -> None:
    repo = make_repo(tmp_path, {"reminders.yaml": REMINDERS},
                     core=("people.yaml", "bodies.yaml", "projects.yaml", "rules.yaml"))
    git("init", "-q", "-b", "master", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    config, _ = loaded(repo, governance=True)
    people = populate(emu, config)
    bot = emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP], account_id=999)
    await governed_project(emu, GOV, body_labels=[("Rollcall-Vote", "tc", -1, 1)])

    # A formal vote in its first week, a typo fix with no time bound (so overdue), a
    # code change with one of its two votes, and one blocked by its missing category.
    formal = await emu.create_change(GOV, "master", people["ada"], "Adopt the 2027 goals",
                                     {"resolutions/2027-goals.rst": "Goals.\n"},
                                     hashtags=["formal-vote"])
    typo = await emu.create_change(GOV, "master", people["bruno"], "Fix a typo in the guide",
                                   {"reference/guide.rst": "Fixed.\n"}, hashtags=["typo-fix"])
    code = await emu.create_change(GOV, "master", people["chiara"], "Tidy the tools",
                                   {"tools/check.py": "pass\n"}, hashtags=["code-change"])
    await emu.create_change(GOV, "master", people["dmitri"], "No category",
                            {"reference/other.rst": "x\n"})
    clock.set(START + dt.timedelta(hours=20))
    for who, change in (("bruno", formal), ("chiara", formal), ("ada", code)):
        await emu.review(change, people[who], {"Rollcall-Vote": 1}, "vote")

    (tmp_path / "pw").write_text(bot.http_password)
    settings = parse_settings(
        f"governance: {{repo: {repo}, poll_interval: 0}}\n"
        f"gerrit:\n  url: {emu.http_url}\n  retry_delay: 0.02\n"
        f"  http: {{username: govbot, password: {{file: {tmp_path}/pw}}}}\n"
        f"irc: {{host: 127.0.0.1, port: {ircd.port}, tls: false, nick: govbot,"
        " rate: {burst: 50, per_second: 100}}\n"
        f"state: {{path: {tmp_path}/state/db, workdir: {tmp_path}/state/work}}\n"
        "web: {listen: '127.0.0.1:0'}\n"
        f"plugins:\n  settings: {{reminders: {{review_url: '{emu.http_url}'}}}}\n",
        "govbot.yaml", base=tmp_path)
    daemon = Daemon(settings, plugins=[GovernancePlugin(), RemindersPlugin()], clock=clock)
    recorder = RecordingReporter()
    daemon.extra_reporters.append(recorder)
    task = asyncio.create_task(daemon.run())
    async with IrcTestClient(ircd.host, ircd.port, "watcher") as watcher, \
            IrcTestClient(ircd.host, ircd.port, "dvolk") as dmitri, \
            IrcTestClient(ircd.host, ircd.port, "ada") as ada:
        await watcher.join("#example-tc")
        await asyncio.wait_for(daemon.started.wait(), 15)
        assert daemon.irc is not None and daemon.dispatcher is not None
        await daemon.irc.wait_connected(15)
        await watcher.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 10)
        await daemon.reload_config("start-up", True)  # schedules the digest
        await daemon.dispatcher.join()

        clock.set(DIGEST_AT)
        digest = await recorder.wait_for(
            lambda actions: any(isinstance(a, Say) for a in actions), timeout=15)
        await daemon.dispatcher.join()
        said = [a for a in recorder.actions if isinstance(a, Say)]
        notices = [a for a in recorder.actions if isinstance(a, Notice)]
        assert len(said) == 1 and said[0].target == "#example-tc"

        # What the governance verdicts say right now, computed here independently.
        assert daemon.gerrit is not None
        rules = config.section("governance")
        assert isinstance(rules, RulesConfig)
        expected: dict[str, list[str]] = {}
        overdue: list[str] = []  # changes whose waiting period is over, in number order
        infos = await daemon.gerrit.rest.query(f"status:open project:{GOV}")
        for info in sorted(infos, key=lambda i: i["_number"]):
            verdict = evaluate(ChangeState.from_change_info(info), config, rules, DIGEST_AT)
            if verdict.state == PENDING and verdict.missing:
                key = f"{GOV}~{info['_number']}"
                expected[key] = [v.name for v in verdict.missing]
                if verdict.earliest is None or verdict.earliest <= DIGEST_AT:
                    overdue.append(key)
        assert set(expected) == {f"{GOV}~{c.number}" for c in (formal, typo, code)}

        # the channel gets the digest from the bot; long lines arrive in pieces split at
        # spaces, so the pieces joined with spaces give back the whole text
        lines = said[0].text.split("\n")
        received: list[str] = []
        while " ".join(received) != " ".join(lines):
            assert len(" ".join(received)) < len(" ".join(lines)), received
            message = await watcher.wait_for(
                lambda m: m.command == "PRIVMSG" and m.nick == "govbot", 15)
            assert message.target == "#example-tc"
            received.append(message.text)
        assert lines[0] == "Votes awaited from the Technical Committee: 3 changes"
        listed = {}
        for line in lines[1:]:
            found = re.match(r"- (\S+) \".*\" \(rule [\w-]+\): .*; not voted: (.*); "
                             r"earliest approval: ", line)
            assert found, line
            listed[found[1]] = found[2].split(", ")
        assert listed == expected  # exactly the changes, exactly the missing members
        assert lines[1] == (
            f"- {GOV}~{formal.number} \"Adopt the 2027 goals\" (rule formal-vote): open at "
            "least 7 days since the first revision: not before 2026-11-09 09:00 UTC; at least "
            "3 (ceil(n/3) with n=9) yes votes: 2 so far; not voted: Ada Lindqvist, Dmitri "
            "Volkonsky, Eun-ji Park, Farah Haddad, Gustavo Reis, Hana Novak, Ivo Marinov; "
            "earliest approval: "
            f"2026-11-09 09:00 UTC {emu.http_url}/c/{GOV}/+/{formal.number}")

        # direct reminders: one per member, for the changes with no waiting left (the typo
        # fix and the code change), never to eun-ji, who opted out
        assert overdue == [f"{GOV}~{typo.number}", f"{GOV}~{code.number}"]
        nick_of = {p.name: p.irc_nick for p in config.people.values()}
        opted_out = {p.name for p in config.people.values() if not p.reminders}
        owed = [name for key in overdue for name in expected[key]]
        assert [n.target for n in notices] == [
            nick_of[name] for name in dict.fromkeys(owed) if name not in opted_out]
        assert "eunji" not in [n.target for n in notices] and "Eun-ji Park" in owed
        typo_item = f"{GOV}~{typo.number} \"Fix a typo in the guide\" (rule typo-fix)"
        code_item = f"{GOV}~{code.number} \"Tidy the tools\" (rule normal-review)"
        for client, text in (
                (ada, f"Ada Lindqvist, your vote is awaited on 1 change whose waiting period "
                      f"is over: {typo_item} {emu.http_url}/c/{GOV}/+/{typo.number}"),
                (dmitri, f"Dmitri Volkonsky, your vote is awaited on 2 changes whose waiting "
                         f"period is over: {typo_item} {emu.http_url}/c/{GOV}/+/{typo.number}; "
                         f"{code_item} {emu.http_url}/c/{GOV}/+/{code.number}")):
            pieces: list[str] = []
            while " ".join(pieces) != text:
                assert len(" ".join(pieces)) < len(text), pieces
                notice = await client.wait_for(
                    lambda m: m.command == "NOTICE" and m.nick == "govbot", 15)
                assert notice.target == client.nick
                pieces.append(notice.text)
        assert digest  # the recorder saw it
        await settle(daemon, clock)
        daemon.stop()
        assert await asyncio.wait_for(task, 20) == 0
