"""Shared set-up for the elections tests: a config repo with teams and elections, and a
bot (the whole daemon) against the Gerrit emulator with a manual clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from govbot.clock import ManualClock
from govbot.config.loader import LoadResult, load_config
from govbot.daemon import Daemon
from govbot.plugins.elections.config import ELECTIONS_SECTION
from govbot.settings import parse_settings
from govbot.testing.gerrit import Account, GerritEmulator
from govbot.testing.gerrit.model import MERGED, Change, PatchSet, sha1_hex
from govbot.testing.world import BOT_GROUP, governed_project, populate
from tests.gerrit.bot_settings import bot_gerrit_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "etc" / "governance"
UTC = dt.UTC
ELECTION_REPO = "example/election"
CONFIG_REPO = "example/govbot-config"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


PROJECTS = """\
compute:
  leadership_type: ptl
  ptl: {name: Priya Raman, irc: priya, email: priya@example.org}
  deliverables:
    nova: {repos: [example/nova, example/python-novaclient]}
docs:
  leadership_type: ptl
  ptl: {name: Hana Novak, email: hana@example.org}
  extra-atcs:
    - name: Xiadani Flores
      email: xiadani@example.org
      expires-in: February 2027
    - name: Old Timer
      email: old@example.org
      expires-in: March 2026
  deliverables:
    docs: {repos: [example/docs]}
oslo:
  leadership_type: distributed
  deliverables:
    oslo: {repos: [example/oslo]}
stable branch maintenance:
  leadership_type: ptl
  ptl: {name: Sven, email: sven@example.org}
  deliverables:
    stable: {repos: [example/stable-tools]}
"""

ELECTIONS = """\
defaults:
  repository: example/election
  branch: master
  officials: [lena]
  channels: ['#example-election']
elections:
  2027.1-ptl:
    kind: ptl
    title: 2027.1 PTL elections
    timeline:
      nominations-open: '2027-01-08 23:45'
      nominations-close: '2027-01-22 23:45'
      polling-start: '2027-01-29 23:45'
      polling-end: '2027-02-05 23:45'
    qualifying-period: {start: '2026-01-01 00:00', end: '2027-01-01 00:00'}
    branch-qualified: {Stable branch maintenance: 'stable/.*'}
  2027.1-tc:
    kind: tc
    title: 2027.1 TC election
    timeline:
      nominations-open: '2027-02-12 23:45'
      nominations-close: '2027-02-26 23:45'
      campaigning-start: '2027-02-27 00:00'
      polling-start: '2027-03-05 23:45'
      polling-end: '2027-03-12 23:45'
    qualifying-period: {start: '2026-03-01 00:00', end: '2027-03-01 00:00'}
    channels: ['#example-election', '#example-tc']
"""


def config_files(**overrides: str) -> dict[str, str]:
    files = {name: (EXAMPLE / name).read_text() for name in ("people.yaml", "bodies.yaml")}
    return {**files, "projects.yaml": PROJECTS, "elections.yaml": ELECTIONS, **overrides}


def write_repo(root: Path, files: Mapping[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def load(root: Path) -> LoadResult:
    return load_config(root, [("elections", ELECTIONS_SECTION)])


def add_merged(emu: GerritEmulator, project: str, owner: Account, when: dt.datetime, *,
               branch: str = "master", number: int) -> Change:
    """A merged change straight into the emulator's model (no git work): for histories of
    thousands of changes, where a real push and submit each would take minutes."""
    stamp = when.timestamp()
    revision = sha1_hex("rev", project, number)
    ps = PatchSet(number=1, revision=revision, parents=[], ref=f"refs/changes/"
                  f"{number % 100:02d}/{number}/1", uploader=owner.account_id,
                  author_name=owner.name, author_email=owner.email or "", created_on=stamp,
                  kind="REWORK", commit_message=f"Change {number}\n", tree=revision)
    change = Change(number=number, project=project, branch=branch,
                    change_id="I" + sha1_hex("change", number), owner=owner.account_id,
                    subject=f"Change {number}", created_on=stamp, last_updated=stamp,
                    status=MERGED, patch_sets=[ps], submitter=owner.account_id,
                    submitted=stamp)
    emu.core.changes[number] = change
    return change


class Bot:
    """The daemon with the elections plugin, against the emulator."""

    def __init__(self, emu: GerritEmulator, tmp: Path, clock: ManualClock) -> None:
        self.emu, self.tmp, self.clock = emu, tmp, clock
        self.daemon: Daemon | None = None
        self.task: asyncio.Task[int] | None = None
        self.people: dict[str, Account] = {}

    async def setup(self, files: Mapping[str, str] | None = None,
                    projects: Iterable[str] = (), *, irc_port: int) -> None:
        """`irc_port`: a real IRC server's (the plugin says the timeline, so start-up
        wants a reporter for `Say`)."""
        files = dict(files or config_files())
        root = write_repo(self.tmp / "config", files)
        loaded = load(root)
        assert loaded.config is not None, loaded.lines()
        self.people = populate(self.emu, loaded.config)
        self.bot = self.emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP],
                                        account_id=999)
        for project in (ELECTION_REPO, CONFIG_REPO, *projects):
            await governed_project(self.emu, project)
        await self.emu.push(ELECTION_REPO, "master", {"README.rst": "Elections.\n"},
                            self.people["lena"])
        await self.emu.push(CONFIG_REPO, "master", files, self.people["lena"])
        self.settings = self.tmp / "govbot.yaml"
        self.settings.write_text(
            bot_gerrit_settings(self.emu, self.bot, self.tmp, CONFIG_REPO)
            + "web: {listen: '127.0.0.1:0'}\n"
            f"irc: {{host: 127.0.0.1, port: {irc_port}, tls: false, nick: govbot}}\n"
            "plugins:\n  enabled: [elections]\n")

    async def start(self) -> Daemon:
        settings = parse_settings(self.settings.read_text(), str(self.settings),
                                  base=self.tmp)
        self.daemon = Daemon(settings, clock=self.clock)
        self.task = asyncio.create_task(self.daemon.run())
        async with asyncio.timeout(15):
            await self.daemon.started.wait()
            assert self.daemon.gerrit is not None and self.daemon.gerrit.stream is not None
            await self.daemon.gerrit.stream.connected.wait()
        await self.emu.wait_for(lambda: self.emu.stream_count >= 1)
        return self.daemon

    async def stop(self) -> None:
        assert self.daemon is not None and self.task is not None
        self.daemon.stop()
        assert await asyncio.wait_for(self.task, 15) == 0

    def posts(self, number: int) -> list[Any]:
        return [c for c in self.emu.rest_calls(method="POST", path_contains="/review")
                if c.status == 200 and f"~{number}/" in c.path and c.account == "govbot"]

    async def verdict(self, change: Change) -> tuple[int, str]:
        """The bot's (latest) vote on `change` and its message, once it is posted."""
        await self.emu.wait_for(lambda: self.posts(change.number), timeout=10)
        body = self.posts(change.number)[-1].body
        assert body["tag"] == "autogenerated:govbot:elections"
        return body["labels"]["Governance-Check"], body["message"]

    async def settle(self) -> None:
        assert self.daemon is not None and self.daemon.dispatcher is not None
        await self.daemon.dispatcher.join()


def copy_example(tmp: Path) -> Path:
    target = tmp / "example"
    shutil.copytree(EXAMPLE, target)
    return target
