"""`govbot demo`: the whole bot on one machine, narrated.

Starts the Gerrit emulator (real git, SSH stream-events, REST) populated from the
example governance repo, a real IRC server (ngircd) when it is installed, and the
daemon with every built-in plugin, connected to both with nothing but settings.
Then it plays a short story — a formal vote collecting votes over a simulated
week, a charter edit under the wrong hashtag, a broken config proposal — and
prints what the bot did on Gerrit and said on IRC. Time is simulated: a week
passes in a moment, and the bot's vote flips when the waiting period ends.

With `--keep-running` it then stays up as a front door: it prints the bot's web
address (`/readyz`, `/metrics`), the IRC server and channel to connect a client to
(meetings work there: the demo trusts nicks, since ngircd has no services), the
emulator's change pages and the settings file it wrote; Ctrl-C or SIGTERM removes
everything (children and the temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from govbot.clock import ManualClock
from govbot.config.loader import load_config
from govbot.config.model import GovernanceConfig
from govbot.daemon import Daemon
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.settings import load_settings
from govbot.testing.gerrit import GerritEmulator
from govbot.testing.ircd import IrcTestClient, NgircdServer, find_binary
from govbot.testing.world import BOT_GROUP, governed_project, populate

GOV, COMPUTE, CONFIG = "example/governance", "example/compute", "example/govbot-config"
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
#: Where a visitor runs a meeting (any nick may start one; see the settings below).
CHANNEL = "#govbot-demo"


def say(kind: str, text: str) -> None:
    print(f"{kind:>10} | {text}", flush=True)


class Story:
    def __init__(self, emu: GerritEmulator, clock: ManualClock, people: dict[str, Any]) -> None:
        self.emu, self.clock, self.people = emu, clock, people
        self._shown: dict[int, int] = {}  # change number -> bot posts already printed

    async def bot_votes(self, number: int, count: int) -> list[Any]:
        """Wait for the bot's `count`-th post on change `number`; print the new ones."""
        def posts() -> list[Any]:
            return [c for c in self.emu.rest_calls(method="POST", path_contains="/review")
                    if c.account == "govbot" and f"~{number}/" in c.path and c.status == 200]

        await self.emu.wait_for(lambda: len(posts()) >= count, timeout=30)
        found = posts()
        for call in found[self._shown.get(number, 0):]:
            labels = call.body.get("labels") or {}
            vote = " ".join(f"{k}{v:+d}" for k, v in labels.items()) or "comment"
            first = call.body.get("message", "").splitlines()[0]
            say("bot vote", f"change {number}: {vote}  «{first}»")
        self._shown[number] = len(found)
        return found

    async def vote(self, change: Any, who: str, label: str, value: int) -> None:
        say("gerrit", f"{who} votes {label}{value:+d} on change {change.number}")
        await self.emu.review(change, self.people[who], {label: value}, "my vote")

    async def play(self) -> None:
        emu = self.emu
        say("gerrit", "ada proposes 'Adopt the 2027 cycle goals' with hashtag formal-vote")
        goals = await emu.create_change(GOV, "master", self.people["ada"],
                                        "Adopt the 2027 cycle goals",
                                        {"resolutions/2027-goals.rst": "Our goals.\n"},
                                        hashtags=["formal-vote"])
        await self.bot_votes(goals.number, 1)
        self.clock.advance(days=1)
        count = 1
        for who, value in (("bruno", 1), ("chiara", 1), ("dmitri", -1), ("eun-ji", 1)):
            await self.vote(goals, who, "Rollcall-Vote", value)
            count += 1
            await self.bot_votes(goals.number, count)
        message = (await self.bot_votes(goals.number, count))[-1].body["message"]
        print("\n" + "\n".join(f"{'':>10} | {line}" for line in message.splitlines()) + "\n")
        say("clock", "six days pass with no event...")
        self.clock.set(START + dt.timedelta(days=7))
        await self.bot_votes(goals.number, count + 1)

        say("gerrit", "bruno edits the charter but tags it formal-vote")
        charter = await emu.create_change(GOV, "master", self.people["bruno"],
                                          "Shorten the election period",
                                          {"charter.rst": "A shorter period.\n"},
                                          hashtags=["formal-vote"])
        await self.bot_votes(charter.number, 1)

        say("gerrit", "chiara proposes a config change naming an unknown TC member")
        bodies = (await emu.read_file(CONFIG, "master", "bodies.yaml") or b"").decode()
        broken = await emu.create_change(
            CONFIG, "master", self.people["chiara"], "Add a member",
            {"bodies.yaml": bodies.replace("members: [ada,", "members: [zed, ada,", 1)})
        await self.bot_votes(broken.number, 1)


@contextlib.asynccontextmanager
async def irc_server(tmp: Path) -> AsyncIterator[NgircdServer | None]:
    if find_binary("ngircd") is None:
        say("irc", "ngircd is not installed: the demo runs without IRC "
                   "(apt-get install ngircd, or run tools/demo)")
        yield None
        return
    async with NgircdServer(tmp / "ircd") as server:
        yield server


async def run(config: GovernanceConfig, files: dict[str, str], keep: bool) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="govbot-demo-"))
    clock = ManualClock(START)
    # SIGTERM ends the demo as Ctrl-C does: the finally blocks stop the bot, the
    # emulator and ngircd, and remove the temporary folder.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        async with GerritEmulator(tmp / "gerrit", clock=clock) as emu, \
                irc_server(tmp) as ircd:
            people = populate(emu, config)
            bot = emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP],
                                  account_id=999)
            await governed_project(emu, GOV, body_labels=[("Rollcall-Vote", "tc", -1, 1)])
            await governed_project(emu, COMPUTE, body_labels=[
                ("Code-Review", g, -2, 2) for g in ("nova-core", "nova-libvirt-core",
                                                    "nova-xen-core")])
            await governed_project(emu, CONFIG, body_labels=[("Code-Review", "tc", -2, 2)])
            await emu.push(CONFIG, "master", files, people["ada"])
            key = emu.generate_ssh_key(bot)
            key.write_private_key(str(tmp / "key"))
            (tmp / "pw").write_text(bot.http_password)
            irc = (f"irc: {{host: 127.0.0.1, port: {ircd.port}, tls: false, nick: govbot, "
                   f"channels: ['{CHANNEL}'], rate: {{burst: 10, per_second: 20}}}}\n"
                   ) if ircd else ""
            text = (
                f"governance: {{repo: {emu.base_dir / 'git' / (CONFIG + '.git')}, "
                "poll_interval: 0}\n"
                f"gerrit:\n  url: {emu.http_url}\n"
                f"  ssh: {{host: 127.0.0.1, port: {emu.ssh_port}, username: govbot, "
                f"key_file: {tmp}/key, known_hosts_file: {emu.known_hosts_path}}}\n"
                f"  http: {{username: govbot, password: {{file: {tmp}/pw}}}}\n"
                f"{irc}"
                f"state: {{path: {tmp}/state/govbot.db, workdir: {tmp}/state/work}}\n"
                "web: {listen: '127.0.0.1:0'}\n"
                "plugins:\n  settings:\n"
                f"    governance: {{config_project: {CONFIG}}}\n"
                # ngircd has no services, so no nick is logged in: trusting nicks is what
                # lets a visitor chair a meeting here. Never on a real network.
                "    meetings: {trust_nicks: true, channels: "
                f"{{'{CHANNEL}': {{startmeeting: anyone, topic: always}}}}}}\n")
            (tmp / "govbot.yaml").write_text(text)
            settings = load_settings(tmp / "govbot.yaml")
            daemon = Daemon(settings, clock=clock)
            task = asyncio.create_task(daemon.run())
            watcher = await _watch(ircd, say) if ircd else None
            try:
                await asyncio.wait_for(daemon.started.wait(), 30)
                assert daemon.gerrit is not None and daemon.gerrit.stream is not None
                await asyncio.wait_for(daemon.gerrit.stream.connected.wait(), 30)
                if daemon.irc is not None:
                    await daemon.irc.wait_connected(30)
                say("demo", f"Gerrit emulator at {emu.http_url} (SSH {emu.ssh_port})"
                            + (f", IRC at 127.0.0.1:{ircd.port}" if ircd else ""))
                await Story(emu, clock, people).play()
                if keep:
                    front_door(daemon, emu, ircd, tmp)
                    await asyncio.Event().wait()
            finally:
                daemon.stop()
                await asyncio.wait_for(task, 30)
                if watcher is not None:
                    await watcher.aclose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say("demo", "done")
    return 0


def front_door(daemon: Daemon, emu: GerritEmulator, ircd: NgircdServer | None,
               tmp: Path) -> None:
    """Say how to look at and talk to the running bot."""
    assert daemon.web is not None
    web = f"http://127.0.0.1:{daemon.web.bound_port}"
    pages = [f"{web}/readyz (readiness)", f"{web}/metrics (Prometheus)"]
    if any(r.canonical == "/" for r in daemon.web.app.router.resources()):
        pages.insert(0, f"{web}/ (dashboard)")
    say("demo", "the bot's web server: " + ", ".join(pages))
    if ircd is not None:
        say("demo", f"IRC server: {ircd.host}:{ircd.port} (no TLS), channel {CHANNEL}; "
                    f"connect any client, e.g. `irssi -c {ircd.host} -p {ircd.port} -n you` "
                    f"then `/join {CHANNEL}`")
        say("demo", f"run a meeting in {CHANNEL}: `#startmeeting demo`, `#topic ...`, "
                    "`#agreed ...`, `#endmeeting`; this demo sets meetings.trust_nicks: "
                    "true (nicks count as people, since ngircd has no services): never "
                    "on a real network")
    say("demo", f"Gerrit emulator: {emu.http_url}/c/{GOV}/+/1 (each change the bot voted "
                "on opens there)")
    say("demo", f"settings written to {tmp / 'govbot.yaml'}; minutes go to "
                f"{tmp / 'state' / 'work' / 'minutes'}")
    say("demo", "running until Ctrl-C or SIGTERM; both remove all of it")


class _Watcher:
    def __init__(self, client: IrcTestClient, task: asyncio.Task[None]) -> None:
        self.client, self.task = client, task

    async def aclose(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.close()


async def _watch(ircd: NgircdServer, out: Callable[[str, str], None]) -> _Watcher:
    client = IrcTestClient(ircd.host, ircd.port, "watcher")
    await client.connect()
    for channel in ("#example-tc", "#example-dev"):
        await client.join(channel)

    async def follow() -> None:
        while True:
            msg = await client.wait_for(lambda m: m.command == "PRIVMSG" and m.nick == "govbot",
                                        timeout=3600)
            out(f"irc {msg.target}", msg.text)

    return _Watcher(client, asyncio.create_task(follow()))


def cmd_demo(args: argparse.Namespace) -> int:
    governance = args.governance
    if not (governance / "people.yaml").exists():
        print(f"{governance}: not a governance config repo (run from a govbot checkout, "
              "or pass --governance DIR)")
        return 2
    sections = PluginRegistry(load_plugins(None)).config_sections()
    result = load_config(governance, sections)
    if result.config is None:
        print("\n".join(map(str, result.errors)))
        return 1
    files = {str(p.relative_to(governance)): p.read_text()
             for p in sorted(governance.rglob("*.yaml"))}
    try:
        return asyncio.run(run(result.config, files, args.keep_running))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM: cleaned up
        return 0
