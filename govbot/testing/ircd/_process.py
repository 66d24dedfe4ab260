"""Child server processes: start, wait until a port answers, stop; always cleaned up."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shlex
import signal
import socket
import subprocess
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from govbot.testing.ircd.binaries import IrcServerError

LOOPBACK = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGKILL the child if the test process dies.

    Best effort: it protects against a killed pytest leaving servers behind. prctl is
    resolved here, before fork, so the child calls no dlopen (which could deadlock).
    ngircd loses it when it drops privileges to nobody; __aexit__ remains the real cleanup.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return preexec


def _kill_quietly(process: subprocess.Popen[bytes]) -> None:
    # Runs from weakref.finalize (garbage collection or interpreter exit): never raise.
    if process.poll() is None:
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=2)


def read_tail(path: Path, start: int = 0, lines: int = 40) -> str:
    """The last `lines` lines of `path` written after byte offset `start`."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(start, size - 16384))
            data = f.read()
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Daemon:
    """One server process run in the foreground, its output appended to a log file."""

    name: str
    argv: Sequence[str]
    log_path: Path
    extra_logs: Sequence[Path] = ()
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_offsets: dict[Path, int] = field(default_factory=dict, repr=False)
    _finalizer: weakref.finalize[[subprocess.Popen[bytes]], Daemon] | None = field(
        default=None, repr=False
    )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def start(self) -> None:
        if self.running:
            raise IrcServerError(f"{self.name} is already running (pid {self.pid})")
        # Remember where this run's output starts so errors show only this run's lines.
        self._log_offsets = {
            p: (p.stat().st_size if p.exists() else 0) for p in (self.log_path, *self.extra_logs)
        }
        with self.log_path.open("ab") as log:
            log.write(f"==== govbot.testing starts: {shlex.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                # Own session: a Ctrl-C in the terminal reaches pytest, which then stops us
                # in order, instead of racing the servers' own shutdown.
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
            )
        self._finalizer = weakref.finalize(self, _kill_quietly, self.process)

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM (lets Atheme save its database), then SIGKILL after `grace` seconds."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            if not await _wait_exit(process, grace):
                await self._kill(process)
        self._forget()

    async def kill(self) -> None:
        """SIGKILL: the server vanishes without a goodbye, like a crash or a netsplit."""
        process = self.process
        if process is None:
            return
        await self._kill(process)
        self._forget()

    async def _kill(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        if not await _wait_exit(process, 5.0):
            raise IrcServerError(f"{self.name} (pid {process.pid}) survived SIGKILL")

    def _forget(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
        self._finalizer = None
        self.process = None

    def output_since_start(self, lines: int = 40) -> str:
        parts = []
        for path in (self.log_path, *self.extra_logs):
            tail = read_tail(path, self._log_offsets.get(path, 0), lines)
            parts.append(f"--- {path} (last {lines} lines) ---\n{tail}")
        return "\n".join(parts)

    def startup_error(self, reason: str) -> IrcServerError:
        return IrcServerError(
            f"{self.name} failed to start: {reason}\n"
            f"command: {shlex.join(self.argv)}\n{self.output_since_start()}"
        )


async def _wait_exit(process: subprocess.Popen[bytes], within: float) -> bool:
    deadline = time.monotonic() + within
    delay = 0.002
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def check_alive(*daemons: Daemon) -> None:
    """Raise, with the log tail, if a daemon already exited while we wait for it."""
    for daemon in daemons:
        if daemon.process is None:
            raise IrcServerError(f"{daemon.name} is not started")
        code = daemon.process.poll()
        if code is not None:
            raise daemon.startup_error(f"exited with code {code}")


def _listening_inodes(port: int) -> set[str] | None:
    """Socket inodes in LISTEN state on `port`, from /proc (None where there is no /proc)."""
    inodes: set[str] = set()
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for line in lines:
            fields = line.split()
            # fields: sl, local "HEXADDR:HEXPORT", remote, state (0A = LISTEN), ..., inode
            if len(fields) < 10 or fields[3] != "0A":
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes if found_table else None


def _owns_socket(pid: int, inodes: set[str]) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


async def _accepts(host: str, port: int, within: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), within)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def wait_until_listening(daemon: Daemon, host: str, port: int, deadline: float) -> None:
    """Poll, with short backoff, until `daemon` itself listens on `port`, or raise.

    Checking that *our* process owns the listening socket (via /proc) rather than just
    connecting means another process that grabbed the port cannot pass for our server.
    Where /proc is missing, a TCP connect has to do.
    """
    delay = 0.002
    while True:
        check_alive(daemon)
        if address_in_use(daemon):
            raise daemon.startup_error(f"address already in use ({host}:{port} or another port)")
        pid = daemon.pid
        inodes = _listening_inodes(port)
        if inodes is None:
            if await _accepts(host, port, max(0.05, min(1.0, deadline - time.monotonic()))):
                return
        elif pid is not None and inodes and _owns_socket(pid, inodes):
            return
        if time.monotonic() >= deadline:
            raise daemon.startup_error(f"not listening on {host}:{port} in time")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


def address_in_use(daemon: Daemon) -> bool:
    """Did this run fail because another process took our port between pick and bind?"""
    return "address already in use" in daemon.output_since_start(200).lower()
