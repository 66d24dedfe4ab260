"""A bot serving its web pages, against the Gerrit emulator with the example governance
data: a few governed changes in known states, and the minutes of one meeting.

The shape of tests/gerrit/test_governance_votes.py's world, plus `web.public_url`
(so the messages link to the verdict pages) and minutes written through the core's
minutes reporter into the state database the bot then serves (the meetings plugin
renders them, exactly as it does at `#endmeeting`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp

from govbot.clock import ManualClock
from govbot.config.loader import load_config
from govbot.daemon import Daemon
from govbot.minutes import MinutesReporter
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.reporters import RecordingReporter
from govbot.settings import parse_settings
from govbot.state.search import MinutesIndex
from govbot.state.store import StateStore
from govbot.testing.gerrit import Account, GerritEmulator
from govbot.testing.world import BOT_GROUP, governed_project, populate
from tests.gerrit.bot_settings import bot_gerrit_settings
from tests.gerrit.harness import ROOT

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
GOV = "example/governance"
INFRA = "example/infra-config"
CONFIG = "example/govbot-config"
PLUGINS = ["governance", "meetings", "reminders"]


class WebWorld:
    """`await setup()`, `await start()`; then `url(path)`, `get_json(path)`."""

    def __init__(self, emu: GerritEmulator, tmp: Path, clock: ManualClock) -> None:
        self.emu, self.tmp, self.clock = emu, tmp, clock
        self.daemon: Daemon | None = None
        self.task: asyncio.Task[int] | None = None
        self.changes: dict[str, Any] = {}
        self.base = ""

    async def setup(self) -> None:
        sections = PluginRegistry(load_plugins(PLUGINS)).config_sections()
        config = load_config(ROOT / "etc" / "governance", sections).config
        assert config is not None
        self.config = config
        self.people: dict[str, Account] = populate(self.emu, config)
        self.bot = self.emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP],
                                        account_id=999)
        await governed_project(self.emu, GOV, body_labels=[("Rollcall-Vote", "tc", -1, 1)])
        await governed_project(self.emu, INFRA,
                               body_labels=[("Code-Review", "infra-council", -2, 2)])
        await governed_project(self.emu, CONFIG, body_labels=[("Code-Review", "tc", -2, 2)])
        files = {p.relative_to(ROOT / "etc" / "governance").as_posix(): p.read_text()
                 for p in (ROOT / "etc" / "governance").rglob("*.yaml")}
        await self.emu.push(CONFIG, "master", files, self.people["ada"])
        self.settings = self.tmp / "govbot.yaml"
        self.settings.write_text(
            bot_gerrit_settings(self.emu, self.bot, self.tmp, CONFIG)
            + "web: {listen: '127.0.0.1:0', public_url: 'https://govbot.example.org/'}\n"
            f"plugins:\n  enabled: [{', '.join(PLUGINS)}]\n"
            f"  settings: {{governance: {{config_project: {CONFIG}}}}}\n")
        await self._write_minutes()

    async def _write_minutes(self) -> None:
        """One meeting's four files, through the core's reporter, into the bot's state."""
        from tests.web.minutes import example_minutes

        action = example_minutes(self.tmp / "state" / "work" / "minutes")
        async with StateStore(self.tmp / "state" / "db") as store:
            index = MinutesIndex(store)
            reporter = MinutesReporter(
                self.tmp / "state" / "work" / "minutes",
                on_written=lambda root, a: index.record(root, a.meeting, a.files))
            await reporter.report(action)
        self.minutes: dict[str, str] = dict(action.files)

    async def start(self) -> None:
        settings = parse_settings(self.settings.read_text(), str(self.settings),
                                  base=self.tmp)
        self.daemon = Daemon(settings, clock=self.clock)
        # No IRC here: what the meetings plugin would say is kept, not sent.
        self.recorder = RecordingReporter()  # every action, to wait on
        self.daemon.extra_reporters.append(self.recorder)
        self.task = asyncio.create_task(self.daemon.run())
        async with asyncio.timeout(15):
            started = asyncio.create_task(self.daemon.started.wait())
            await asyncio.wait([started, self.task], return_when=asyncio.FIRST_COMPLETED)
            if self.task.done():
                started.cancel()
                raise AssertionError(f"the bot stopped: {self.task.result()}")
            assert self.daemon.gerrit is not None and self.daemon.gerrit.stream is not None
            await self.daemon.gerrit.stream.connected.wait()
        await self.emu.wait_for(lambda: self.emu.stream_count >= 1)
        assert self.daemon.web is not None
        self.base = f"http://127.0.0.1:{self.daemon.web.bound_port}"

    async def stop(self) -> None:
        assert self.daemon is not None and self.task is not None
        self.daemon.stop()
        assert await asyncio.wait_for(self.task, 15) == 0

    def url(self, path: str) -> str:
        return self.base + path

    def posts(self, number: int) -> list[Any]:
        return [c for c in self.emu.rest_calls(method="POST", path_contains="/review")
                if c.status == 200 and f"~{number}/" in c.path and c.account == "govbot"
                and "labels" in c.body]

    async def settle(self) -> None:
        assert self.daemon is not None and self.daemon.dispatcher is not None
        await self.daemon.dispatcher.join()

    async def vote(self, change: Any, who: str, label: str, value: int) -> None:
        before = len(self.emu.events_of("comment-added", change=change))
        await self.emu.review(change, self.people[who], {label: value}, "vote")
        await self.emu.wait_for(
            lambda: len(self.emu.events_of("comment-added", change=change)) > before)

    async def populate_changes(self) -> None:
        """Four changes in known states (see each comment), every verdict posted."""
        emu, p = self.emu, self.people
        # pending: formal vote, 1 yes and 1 no so far; the week is not over
        goals = await emu.create_change(GOV, "master", p["ada"], "Adopt the 2027 cycle goals",
                                        {"resolutions/2027-goals.rst": "Goals.\n"},
                                        hashtags=["formal-vote"])
        # blocked: a charter edit under the wrong category
        charter = await emu.create_change(GOV, "master", p["bruno"],
                                          "Shorten the election period",
                                          {"charter.rst": "New charter.\n"},
                                          hashtags=["formal-vote"])
        # pending: documentation change, one yes of two
        docs = await emu.create_change(GOV, "master", p["farah"], "Explain the liaisons",
                                       {"reference/liaisons.rst": "Liaisons.\n"},
                                       hashtags=["documentation-change"])
        # pending: the infrastructure council has no quorum yet
        infra = await emu.create_change(INFRA, "master", p["lena"], "Retire the old mirror",
                                        {"mirrors.yaml": "[]\n"})
        self.changes = {"goals": goals, "charter": charter, "docs": docs, "infra": infra}
        for change in self.changes.values():
            await emu.wait_for(lambda c=change: self.posts(c.number), timeout=10)
        self.clock.advance(hours=2)
        await self.vote(goals, "bruno", "Rollcall-Vote", 1)
        await self.vote(goals, "dmitri", "Rollcall-Vote", -1)
        await self.vote(goals, "hana", "Code-Review", 1)  # a label formal votes do not read
        await self.vote(docs, "eun-ji", "Rollcall-Vote", 1)
        await self.vote(infra, "kofi", "Code-Review", 2)
        await emu.wait_for(lambda: "1 yes, 1 no" in self.posts(goals.number)[-1]
                           .body["message"], timeout=10)
        await emu.wait_for(lambda: len(self.posts(infra.number)) >= 2, timeout=10)
        await emu.wait_for(lambda: len(self.posts(docs.number)) >= 2, timeout=10)
        await self.settle()


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200, (url, resp.status, await resp.text())
        return await resp.json()
