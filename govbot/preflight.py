"""Checks made before `govbot run` creates or connects anything.

The settings file itself is checked when it is loaded (govbot.settings, every error
at once as FILE:LINE). What that cannot see is checked here, again every problem at
once, each one line with the fix: every secret resolves, git is installed, a local
config repo is a git repository, the state directories can be created, the web port
is free. Only then does the daemon create the database and clone the config repo.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from pathlib import Path

from govbot.settings import SecretRef, Settings, SettingsError


class StartupError(Exception):
    """The bot cannot start; each line says what to fix. Printed without a traceback."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def secret_refs(settings: Settings) -> list[tuple[str, SecretRef]]:
    """Every secret the settings name, with the setting's dotted name."""
    refs: list[tuple[str, SecretRef]] = [("web.webhook_secret", settings.web.webhook_secret)]
    if settings.gerrit and settings.gerrit.http:
        refs.append(("gerrit.http.password", settings.gerrit.http.password))
    if settings.irc:
        refs.append(("irc.nickserv_password", settings.irc.nickserv_password))
        if settings.irc.sasl and settings.irc.sasl.mechanism == "PLAIN":
            refs.append(("irc.sasl.password", settings.irc.sasl.password))
    return refs


def check(settings: Settings) -> list[str]:
    """Every problem found, one line each; [] when the bot may start."""
    problems: list[str] = []
    for what, ref in secret_refs(settings):
        try:
            ref.resolve(what)
        except SettingsError as exc:
            problems.extend(exc.errors)
    if shutil.which("git") is None:
        problems.append("git is not installed (or not on PATH): the config repo is cloned "
                        "with it; install git (apt-get install git)")
    problems += check_repo(settings.governance.repo)
    if settings.state.path != ":memory:":
        problems += _writable("state.path", Path(settings.state.path).parent)
    problems += _writable("state.workdir", Path(settings.state.workdir))
    problems += _port(settings.web.listen)
    return problems


def check_repo(repo: str) -> list[str]:
    """A local config repo must be a git repository; a URL is left to the clone."""
    if "://" in repo or repo.startswith("git@") or ":" in repo.split("/")[0]:
        return []  # a URL: only cloning tells
    path = Path(repo)
    if not path.exists():
        return [f"governance.repo: {repo} does not exist; set it to the config repo's git "
                "URL or a local git repository"]
    if not ((path / ".git").exists() or (path / "HEAD").is_file()):
        return [f"governance.repo: {repo} is not a git repository; make it one (git init, "
                "git add -A, git commit) or point governance.repo at one"]
    return []


def _writable(what: str, directory: Path) -> list[str]:
    """Can `directory` be created (or written, if it exists) by this process?"""
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        return []
    if probe.exists() and not probe.is_dir():
        return [f"{what}: {probe} is a file, not a directory"]
    return [f"{what}: cannot create {directory}: {probe} is not writable by uid "
            f"{os.getuid()}; mount a writable volume there or set {what}"]


def _port(listen: str) -> list[str]:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) == 0:
        return []
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as sock:
        # As aiohttp binds: SO_REUSEADDR, so a port left in TIME_WAIT is not "busy".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, int(port)))
        except OSError as exc:
            return [busy_port(listen, exc)]
    return []


def busy_port(listen: str, exc: OSError) -> str:
    return (f"web.listen {listen}: {exc.strerror or exc}; another process (another govbot?) "
            "holds it: stop it or set web.listen to a free port")
