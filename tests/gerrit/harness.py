"""The bot against the Gerrit emulator over real SSH and HTTP: shared set-up."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govbot.actions import Action, Vote
from govbot.gerrit import events as ev
from govbot.plugin import Plugin, PluginContext
from govbot.settings import Settings, parse_settings
from govbot.testing.gerrit import Account, GerritEmulator, Grant, Label
from govbot.testing.gerrit.model import code_review_label, verified_label

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "example/compute"
GOVERNANCE_CHECK = Label("Governance-Check", {-1: "Blocked", 0: "Pending", 1: "Ready"})


class Approver(Plugin):
    """A stand-in for the governance plugin: +1 once a Code-Review+2 is there."""

    name = "approver"
    emits = (Vote,)

    def handlers(self) -> dict[type, Any]:
        return {ev.CommentAdded: self.on_comment}

    async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext) -> Sequence[Action]:
        if event.patch_set is None:
            return ()
        approved = any(a.type == "Code-Review" and a.value == 2 for a in event.approvals)
        if not approved:
            return ()
        return [Vote(change=event.change.key, patchset=event.patch_set.number,
                     labels={"Governance-Check": 1}, message="Approved by a core reviewer.",
                     fingerprint="approved")]


class Recorder(Plugin):
    """Keeps every typed event it receives."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._changed = asyncio.Event()

    def handlers(self) -> dict[type, Any]:
        return {ev.Event: self.on_any}

    async def on_any(self, event: ev.Event, ctx: PluginContext) -> Sequence[Action]:
        self.events.append(event)
        self._changed.set()
        return ()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait, with a deadline, until `predicate()` holds (checked after each event)."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


@dataclass
class World:
    emu: GerritEmulator
    bot: Account
    alice: Account
    bob: Account
    settings_path: Path
    tmp: Path

    def settings(self) -> Settings:
        return parse_settings(self.settings_path.read_text(), str(self.settings_path),
                              base=self.settings_path.parent)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"})


def governance_repo(tmp: Path) -> Path:
    repo = tmp / "governance"
    repo.mkdir()
    for name in ("people.yaml", "bodies.yaml", "projects.yaml"):
        shutil.copy(ROOT / "etc" / "governance" / name, repo / name)
    git("init", "-q", "-b", "master", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    return repo


async def make_world(emu: GerritEmulator, tmp: Path, *, events_log: str = "auto",
                     bot_max: int = 1, webhook_secret: str | None = None,
                     gerrit_extra: str = "") -> World:
    """`gerrit_extra`: more `gerrit:` settings, as YAML lines indented by two spaces."""
    bot = emu.add_account("govbot", "Governance Bot", groups=["bots"])
    alice = emu.add_account("alice", groups=["core"])
    bob = emu.add_account("bob", groups=["core"])
    await emu.create_project(PROJECT, labels=[code_review_label(), verified_label(),
                                              GOVERNANCE_CHECK],
                             grants={"Code-Review": [Grant("core", -2, 2)],
                                     "Verified": [Grant("bots", -1, 1)],
                                     "Governance-Check": [Grant("bots", -1, bot_max)]})
    key = emu.generate_ssh_key(bot)
    key_file = tmp / "bot_key"
    key.write_private_key(str(key_file))
    (tmp / "http_password").write_text(bot.http_password + "\n")
    secret = ""
    if webhook_secret:
        (tmp / "webhook_secret").write_text(webhook_secret)
        secret = f"  webhook_secret: {{file: {tmp}/webhook_secret}}\n"
    settings_path = tmp / "govbot.yaml"
    settings_path.write_text(
        f"governance: {{repo: {governance_repo(tmp)}, poll_interval: 0}}\n"
        f"gerrit:\n"
        f"  url: {emu.http_url}\n"
        f"  events_log: {events_log}\n"
        f"  retry_delay: 0.02\n"
        f"  ssh: {{host: 127.0.0.1, port: {emu.ssh_port}, username: govbot,\n"
        f"        key_file: {key_file}, known_hosts_file: {emu.known_hosts_path},\n"
        f"        keepalive_interval: 2, reconnect_min_delay: 0.05,"
        f" reconnect_max_delay: 0.2}}\n"
        f"  http: {{username: govbot, password: {{file: {tmp}/http_password}}}}\n"
        f"{gerrit_extra}"
        f"state: {{path: {tmp}/state/govbot.db, workdir: {tmp}/state/work}}\n"
        f"web:\n  listen: '127.0.0.1:0'\n{secret}")
    return World(emu, bot, alice, bob, settings_path, tmp)


def review_posts(emu: GerritEmulator, number: int | None = None) -> list[Any]:
    return [c for c in emu.rest_calls(method="POST", path_contains="/review")
            if c.status == 200 and (number is None or f"~{number}/" in c.path)]
