"""govbot's image, run as an operator runs it: against the Gerrit emulator and a real ngircd.

The container uses the host's network, so it reaches the emulator and ngircd on
127.0.0.1. It gets what docs/deploy.md tells an operator to mount: the settings file,
the secrets, the config repo (owned by root, another uid than the bot's, so git's
`safe.directory` is exercised) and the state volume. ngircd has no services, so the
meetings plugin runs with `trust_nicks: true`. Every wait has a deadline.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from govbot.config.loader import load_config
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.state.store import StateStore
from govbot.testing.container import build_args, docker
from govbot.testing.gerrit import Account, GerritEmulator
from govbot.testing.ircd import IrcTestClient, NgircdServer, require_binaries
from govbot.testing.world import BOT_GROUP, governed_project, populate
from tests.helpers import eventually as poll

pytestmark = [pytest.mark.container, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GOV = "example/governance"
CONFIG = "example/govbot-config"
CHANNEL = "#example-tc"
BOT_UID = 10001
COMMANDS = ("run", "check-config", "replay", "status", "tally", "minutes", "ical", "demo",
            "version")


def test_help_lists_every_command(image: str) -> None:
    done = docker("run", "--rm", image, "--help")
    assert done.returncode == 0, done.stderr
    listed = set(re.findall(r"^    (\S+)\s", done.stdout, re.MULTILINE))
    assert set(COMMANDS) <= listed, done.stdout


def test_without_settings_it_says_what_to_mount_and_exits_2(image: str) -> None:
    done = docker("run", "--rm", image, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "/etc/govbot/govbot.yaml" in lines[0] and "mount" in lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port





async def eventually(predicate: Callable[[], object], timeout: float, what: str,
                     logs: Callable[[], str] = lambda: "") -> None:
    """`tests.helpers.eventually` every 0.1 s: some predicates here ask docker."""
    await poll(predicate, timeout, what, logs, every=0.1)


class Container:
    """One `docker run -d` of the image, removed at the end whatever happened."""

    def __init__(self, image: str, mounts: dict[Path, str], state: Path, web_port: int) -> None:
        self.name = f"govbot-test-{uuid.uuid4().hex[:8]}"
        args = ["run", "-d", "--name", self.name, "--network", "host",
                # The image checks every 30 s; the test need not wait that long.
                "--health-interval", "1s", "--health-timeout", "5s",
                "-e", f"GOVBOT_HEALTH_URL=http://127.0.0.1:{web_port}/healthz",
                "-v", f"{state}:/var/lib/govbot"]
        for host, inside in mounts.items():
            args += ["-v", f"{host}:{inside}:ro"]
        done = docker(*args, image)
        assert done.returncode == 0, done.stderr

    def inspect(self, template: str) -> str:
        return docker("inspect", "-f", template, self.name).stdout.strip()

    def logs(self) -> str:
        done = docker("logs", "--tail", "60", self.name, check=False)
        return f"--- docker logs {self.name}:\n{done.stdout}{done.stderr}"

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False)


def own(path: Path, mode: int) -> Path:
    """Give a file or directory to the bot's uid, as an operator would for a secret."""
    os.chown(path, BOT_UID, BOT_UID)
    path.chmod(mode)
    return path


@pytest.fixture
async def ircd(tmp_path: Path) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path / "ircd") as server:
        yield server


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[GerritEmulator]:
    async with GerritEmulator(tmp_path / "gerrit") as emulator:
        yield emulator


@pytest.fixture
def cleanup() -> Iterator[list[Container]]:
    started: list[Container] = []
    yield started
    for box in started:
        box.remove()


async def world(emu: GerritEmulator) -> dict[str, Account]:
    """The governance world of etc/governance in the emulator, as the vote tests make it."""
    sections = PluginRegistry(load_plugins(["governance"])).config_sections()
    config = load_config(ROOT / "etc" / "governance", sections).config
    assert config is not None
    people = dict(populate(emu, config))
    people["govbot"] = emu.add_account("govbot", "Governance Bot", groups=[BOT_GROUP],
                                       account_id=999)
    await governed_project(emu, GOV, body_labels=[("Rollcall-Vote", "tc", -1, 1)])
    await governed_project(emu, CONFIG, body_labels=[("Code-Review", "tc", -2, 2)])
    files = {p.name: p.read_bytes().decode() for p in (ROOT / "etc" / "governance").iterdir()
             if p.suffix == ".yaml"}
    await emu.push(CONFIG, "master", files, people["ada"])
    return people


def settings(emu: GerritEmulator, ircd: NgircdServer, web_port: int) -> str:
    """The settings file, with the paths the container sees (docs/deploy.md's layout)."""
    return (
        "governance: {repo: /etc/govbot/governance, poll_interval: 0}\n"
        f"gerrit:\n  url: {emu.http_url}\n  retry_delay: 0.05\n"
        f"  ssh: {{host: 127.0.0.1, port: {emu.ssh_port}, username: govbot,\n"
        "        key_file: /run/secrets/govbot-ssh-key,"
        " known_hosts_file: /etc/govbot/known_hosts, reconnect_min_delay: 0.05}\n"
        "  http: {username: govbot,\n"
        "         password: {file: /run/secrets/govbot-gerrit-http-password}}\n"
        f"irc: {{host: 127.0.0.1, port: {ircd.port}, tls: false, nick: govbot,"
        f" channels: ['{CHANNEL}'], rate: {{burst: 20, per_second: 100}}}}\n"
        "state: {path: /var/lib/govbot/govbot.db, workdir: /var/lib/govbot/work}\n"
        f"web: {{listen: '127.0.0.1:{web_port}'}}\n"
        "plugins:\n  enabled: [governance, meetings]\n  settings:\n"
        f"    governance: {{config_project: {CONFIG}}}\n"
        "    meetings: {trust_nicks: true}\n")


async def test_the_image_votes_runs_a_meeting_and_stops_cleanly(
        image: str, tmp_path: Path, emu: GerritEmulator, ircd: NgircdServer,
        cleanup: list[Container]) -> None:
    people = await world(emu)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key = emu.generate_ssh_key(people["govbot"])
    key.write_private_key(str(secrets / "ssh-key"))
    (secrets / "http-password").write_text(people["govbot"].http_password + "\n")
    web_port = free_port()
    config = tmp_path / "govbot.yaml"
    config.write_text(settings(emu, ircd, web_port))
    config.chmod(0o644)
    known_hosts = tmp_path / "known_hosts"
    shutil.copyfile(emu.known_hosts_path, known_hosts)
    known_hosts.chmod(0o644)
    (tmp_path / "state").mkdir()
    state = own(tmp_path / "state", 0o700)
    # The config repo stays root's: the bot (uid 10001) reads it only through
    # safe.directory, as it would a repo mounted from the host.
    repo = emu.base_dir / "git" / f"{CONFIG}.git"
    assert repo.stat().st_uid != BOT_UID
    box = Container(image, {
        config: "/etc/govbot/govbot.yaml",
        repo: "/etc/govbot/governance",
        known_hosts: "/etc/govbot/known_hosts",
        own(secrets / "ssh-key", 0o600): "/run/secrets/govbot-ssh-key",
        own(secrets / "http-password", 0o600): "/run/secrets/govbot-gerrit-http-password",
    }, state, web_port)
    cleanup.append(box)

    # Runs as the bot's own uid, never root.
    assert box.inspect("{{.Config.User}}") == f"{BOT_UID}:{BOT_UID}"
    assert docker("exec", box.name, "id", "-u").stdout.strip() == str(BOT_UID)
    await eventually(lambda: box.inspect("{{.State.Health.Status}}") == "healthy", 90,
                     "docker's health check says healthy", box.logs)
    await eventually(lambda: emu.stream_count >= 1, 30, "the stream connected", box.logs)

    # A vote: a formal-vote change gets the bot's Governance-Check.
    change = await emu.create_change(GOV, "master", people["ada"],
                                     "Adopt the 2027 cycle goals",
                                     {"resolutions/2027-goals.rst": "Goals.\n"},
                                     hashtags=["formal-vote"])

    def votes() -> list[object]:
        return [c for c in emu.rest_calls(method="POST", path_contains="/review")
                if c.status == 200 and f"~{change.number}/" in c.path
                and c.account == "govbot" and "labels" in c.body]

    await eventually(votes, 30, "the bot's vote", box.logs)

    # A meeting, whose minutes land in the mounted volume.
    minutes = state / "work" / "minutes"
    async with IrcTestClient(ircd.host, ircd.port, "ada") as ada:
        await ada.join(CHANNEL)
        # The bot is in the channel: NAMES listed it when ada joined, or it joins later.
        if not any(m.command == "353" and "govbot" in {n.lstrip("@+") for n in m.text.split()}
                   for m in ada.received):
            await ada.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 30)
        await ada.privmsg(CHANNEL, "#startmeeting tc")
        await ada.wait_for(lambda m: m.nick == "govbot" and m.text.startswith(
            "Meeting started"), 15)
        await ada.privmsg(CHANNEL, "#info the container works")
        await ada.privmsg(CHANNEL, "#endmeeting")
        await ada.wait_for(lambda m: m.nick == "govbot" and m.text.startswith("Minutes:"), 15)
    await eventually(lambda: list(minutes.rglob("*.txt")), 15, "minutes in the volume",
                     box.logs)
    text = next(p for p in minutes.rglob("*.txt") if not p.name.endswith(".log.txt"))
    assert "the container works" in text.read_text()
    assert text.stat().st_uid == BOT_UID

    # docker stop: SIGTERM, then SIGKILL after 10 s; it must not come to that.
    started = time.monotonic()
    done = docker("stop", "-t", "10", box.name, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 10, f"docker stop took {elapsed:.1f} s\n{box.logs()}"
    assert box.inspect("{{.State.ExitCode}}") == "0", box.logs()
    assert "stopped" in box.logs()
    async with StateStore(state / "govbot.db", read_only=True) as store:
        assert await store.inbox_pending() == []  # every event read was handled
    assert len(votes()) >= 1


def test_the_state_volume_is_owned_by_the_bot(image: str) -> None:
    done = docker("run", "--rm", "--entrypoint", "stat", image, "-c", "%u %a",
                  "/var/lib/govbot")
    assert done.stdout.split()[0] == str(BOT_UID), done.stdout


def test_git_trusts_a_foreign_repo_only_at_the_documented_path(image: str,
                                                              tmp_path: Path) -> None:
    repo = tmp_path / "governance"
    shutil.copytree(ROOT / "etc" / "governance", repo)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    for args in (["init", "-q", "-b", "master"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    assert repo.stat().st_uid != BOT_UID  # a working tree, owned by root

    def clone(inside: str) -> subprocess.CompletedProcess[str]:
        return docker("run", "--rm", "--entrypoint", "git", "-v", f"{repo}:{inside}:ro",
                      image, "clone", "-q", inside, "/tmp/clone", check=False)

    assert clone("/etc/govbot/governance").returncode == 0
    refused = clone("/srv/elsewhere")  # why docs/deploy.md names the path
    assert refused.returncode != 0 and "dubious ownership" in refused.stderr


def test_a_code_change_reuses_the_dependencies_layer(image: str, tmp_path: Path) -> None:
    """The wheels are installed in a layer keyed only on the dependency list: a changed
    module rebuilds the code's layers, not that one."""
    context = tmp_path / "context"
    context.mkdir()
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, context / name)
    for name in ("govbot", "plugins", "etc/container"):
        shutil.copytree(ROOT / name, context / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    with (context / "govbot" / "__init__.py").open("a") as module:
        module.write(f"# changed {uuid.uuid4().hex}\n")
    tag = f"govbot:layer-test-{uuid.uuid4().hex[:8]}"
    try:
        done = docker(*build_args(tag), str(context), timeout=900)
    finally:
        docker("rmi", tag, check=False)
    steps = re.split(r"^Step \d+/\d+ : ", done.stdout, flags=re.MULTILINE)
    (deps,) = [s for s in steps if s.startswith("RUN python3 -m venv")]
    assert "Using cache" in deps, deps
    (code,) = [s for s in steps if s.startswith("RUN /opt/govbot/bin/pip wheel")]
    assert "Using cache" not in code, code  # the changed module was built
