"""The bot, the Gerrit emulator and the Zuul emulator together, with a manual clock.

Set up like tests/gerrit/test_governance_votes.py. The example config is used with
one change: the infra-council rule also requires CI (`- ci: true`), so changes to
example/infra-config need Zuul's Verified +1 besides the council's votes.

The plugin reads Zuul's REST API through `ctx.ci`. Until the core passes a CI
reader in the plugin context, `install_ci_reader` stands in for that core change:
it gives the daemon a ContextSource whose contexts carry `ci` (the exact field the
core will add, beside `irc`). Once `PluginContext` has `ci`, it does nothing and the daemon's own
reader (built from the `zuul:` settings) is used.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

import govbot.daemon
from govbot.clock import ManualClock
from govbot.config.model import GovernanceConfig
from govbot.daemon import Daemon
from govbot.dispatcher import ContextSource
from govbot.plugin import PluginContext
from govbot.settings import parse_settings
from govbot.testing.gerrit import Account, Change, GerritEmulator
from govbot.testing.world import BOT_GROUP, governed_project, populate
from govbot.testing.zuul import ZuulEmulator
from govbot.zuul.client import ZuulClient
from govbot.zuul.model import CiReader
from tests.gerrit.bot_settings import bot_gerrit_settings

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
INFRA = "example/infra-config"
CONFIG = "example/govbot-config"
COUNCIL_RULE_END = "      - veto: chair\n"


def config_files() -> dict[str, str]:
    files = {p.name: p.read_text() for p in (ROOT / "etc" / "governance").iterdir()
             if p.suffix == ".yaml"}
    rules = files["rules.yaml"]
    assert rules.endswith(COUNCIL_RULE_END), "the infra-council rule is no longer last"
    files["rules.yaml"] = rules + "      - ci: true\n"
    return files


def install_ci_reader(monkeypatch: pytest.MonkeyPatch, reader: CiReader) -> bool:
    """Make the daemon's plugin contexts carry `ci=reader`; False if the core does it."""
    if "ci" in PluginContext.__struct_fields__:
        return False

    class CiContext(PluginContext, frozen=True):
        ci: CiReader | None = None

    class CiContexts(ContextSource):
        def context(self, plugin: str, event_id: str, now: dt.datetime,
                    config: GovernanceConfig) -> PluginContext:
            base = super().context(plugin, event_id, now, config)
            return CiContext(**msgspec.structs.asdict(base), ci=reader)

    monkeypatch.setattr(govbot.daemon, "ContextSource", CiContexts)
    return True


class World:
    def __init__(self, emu: GerritEmulator, zuul: ZuulEmulator, tmp: Path,
                 clock: ManualClock) -> None:
        self.emu, self.zuul, self.tmp, self.clock = emu, zuul, tmp, clock
        self.daemon: Daemon | None = None
        self.task: asyncio.Task[int] | None = None
        self.own_client: ZuulClient | None = None

    async def setup(self) -> None:
        from govbot.config.loader import load_config
        from govbot.plugin import PluginRegistry
        from govbot.plugin_loader import load_plugins

        sections = PluginRegistry(load_plugins(["governance"])).config_sections()
        config = load_config(ROOT / "etc" / "governance", sections).config
        assert config is not None
        self.people: dict[str, Account] = populate(self.emu, config)
        self.bot = self.emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP],
                                        account_id=999)
        self.zuul_account = self.emu.add_account("zuul", "Zuul", groups=[BOT_GROUP],
                                                 account_id=998)
        await governed_project(self.emu, INFRA,
                               body_labels=[("Code-Review", "infra-council", -2, 2)])
        await governed_project(self.emu, CONFIG, body_labels=[("Code-Review", "tc", -2, 2)])
        await self.emu.push(CONFIG, "master", config_files(), self.people["ada"])
        self.settings = self.tmp / "govbot.yaml"
        self.settings.write_text(
            bot_gerrit_settings(self.emu, self.bot, self.tmp, CONFIG)
            + f"zuul: {{url: '{self.zuul.url}', tenant: {self.zuul.tenant}, cache_seconds: 0,"
            " request_timeout: 1.0, connect_timeout: 0.5}\n"
            "web: {listen: '127.0.0.1:0'}\n"
            "plugins:\n  enabled: [governance]\n"
            f"  settings: {{governance: {{config_project: {CONFIG}}}}}\n")

    async def start(self, monkeypatch: pytest.MonkeyPatch) -> Daemon:
        settings = parse_settings(self.settings.read_text(), str(self.settings),
                                  base=self.tmp)
        assert settings.zuul is not None
        client = ZuulClient.from_settings(settings.zuul)
        if install_ci_reader(monkeypatch, client):
            self.own_client = client
        self.daemon = Daemon(settings, clock=self.clock)
        self.task = asyncio.create_task(self.daemon.run())
        async with asyncio.timeout(15):
            await self.daemon.started.wait()
            assert self.daemon.gerrit is not None and self.daemon.gerrit.stream is not None
            await self.daemon.gerrit.stream.connected.wait()
        await self.emu.wait_for(lambda: self.emu.stream_count >= 1)
        return self.daemon

    @property
    def client(self) -> ZuulClient:
        """The Zuul client the plugin reads through (ours, or the daemon's own)."""
        client = self.own_client or getattr(self.daemon, "zuul", None)
        assert isinstance(client, ZuulClient)
        return client

    async def stop(self) -> None:
        assert self.daemon is not None and self.task is not None
        self.daemon.stop()
        assert await asyncio.wait_for(self.task, 15) == 0
        if self.own_client is not None:
            await self.own_client.close()

    # -- observing ----------------------------------------------------------------------
    def posts(self, number: int) -> list[Any]:
        return [c for c in self.emu.rest_calls(method="POST", path_contains="/review")
                if c.status == 200 and f"~{number}/" in c.path and c.account == "govbot"]

    def values(self, number: int) -> list[int]:
        return [c.body["labels"]["Governance-Check"] for c in self.posts(number)]

    def reads(self, number: int) -> int:
        """How many times the bot has read the change over REST."""
        return len([c for c in self.emu.rest_calls(method="GET")
                    if c.account == "govbot" and c.path.endswith(f"~{number}")
                    and "MESSAGES" in c.query.get("o", ())])

    async def settle(self) -> None:
        assert self.daemon is not None and self.daemon.dispatcher is not None
        await self.daemon.dispatcher.join()

    async def after(self, number: int, act: Callable[[], Any]) -> None:
        """Do `act`, then wait until the bot has read the change again and finished
        what that read led to: the bot has seen everything `act` caused."""
        before = self.reads(number)
        result = act()
        if asyncio.iscoroutine(result):
            await result
        await self.emu.wait_for(lambda: self.reads(number) > before, timeout=10)
        await self.settle()

    async def propose(self, owner: str = "chiara") -> Change:
        change = await self.emu.create_change(INFRA, "master", self.people[owner],
                                              "Add a mirror", {"playbooks/mirror.yaml": "x\n"})
        await self.emu.wait_for(lambda: self.posts(change.number), timeout=10)
        await self.settle()
        return change

    async def council_approves(self, change: Change) -> None:
        for who in ("lena", "marek", "nadia"):
            await self.after(change.number, lambda who=who: self.emu.review(
                change, self.people[who], {"Code-Review": 1}, "Fine by me"))
