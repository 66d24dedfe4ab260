"""ngircd on loopback: plain IRC, ready in milliseconds. No SASL, no services."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from govbot.testing.ircd._process import (
    LOOPBACK,
    Daemon,
    address_in_use,
    free_port,
    wait_until_listening,
)
from govbot.testing.ircd.binaries import IrcServerError, require_binary
from govbot.testing.ircd.client import IrcTestClient

_CONFIG = """\
[Global]
Name = {server_name}
Info = govbot test server
AdminInfo1 = govbot test suite
AdminInfo2 = loopback only
AdminEMail = nobody@test.invalid
Listen = {host}
Ports = {port}
MotdPhrase = govbot test server
PidFile = {pid_file}
# Ignored when started as root (ngircd refuses uid 0 and drops to nobody).
ServerUID = 0
ServerGID = 0

[Limits]
# No 1 s penalty per JOIN and friends: tests and the bot's own pacing decide the rate.
MaxPenaltyTime = 0
MaxNickLength = 30
MaxConnectionsIP = 0
MaxConnections = 0
MaxJoins = 0
PingTimeout = 120
PongTimeout = 20

[Options]
PAM = no
# Nothing may leave loopback: no reverse DNS, no ident queries.
DNS = no
Ident = no

[Operator]
Name = {oper_name}
Password = {oper_password}
{extra_config}
"""


class NgircdServer:
    """`async with NgircdServer(tmp_path) as srv:` then connect to `srv.host`, `srv.port`.

    `restart()` (and `kill()` + `start()`) keep the same port, for reconnect tests.
    An IRC operator `oper_name`/`oper_password` exists, e.g. to KILL the bot.
    """

    oper_name = "oper"
    oper_password = "operpass"

    def __init__(
        self,
        tmpdir: str | os.PathLike[str],
        *,
        host: str = LOOPBACK,
        port: int | None = None,
        server_name: str = "irc.test.local",
        startup_timeout: float = 10.0,
        extra_config: str = "",
    ) -> None:
        self.directory = Path(tmpdir) / "ngircd"
        self.host = host
        self.port = port or 0
        self.server_name = server_name
        self.startup_timeout = startup_timeout
        self.extra_config = extra_config
        self.config_path = self.directory / "ngircd.conf"
        self.log_path = self.directory / "ngircd.log"
        self._fixed_port = port is not None
        self._daemon: Daemon | None = None
        self._pid_dir: Path | None = None

    @property
    def running(self) -> bool:
        return self._daemon is not None and self._daemon.running

    @property
    def pid(self) -> int | None:
        return self._daemon.pid if self._daemon else None

    async def __aenter__(self) -> NgircdServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start (or start again, on the same port) and wait until the port accepts."""
        binary = require_binary("ngircd")
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            await self._start(binary)
        except BaseException:
            await self.stop()  # __aexit__ does not run when __aenter__ fails
            raise

    async def _start(self, binary: str) -> None:
        # A port picked by us can be taken by someone else before ngircd binds it: pick
        # again then. A port that was already in use (restart, or given) is kept.
        attempts = 1 if (self._fixed_port or self.port) else 3
        for attempt in range(attempts):
            if not self.port:
                self.port = free_port(self.host)
            self._write_config()
            self._daemon = Daemon(
                "ngircd", [binary, "-n", "-f", str(self.config_path)], self.log_path
            )
            self._daemon.start()
            try:
                await wait_until_listening(
                    self._daemon, self.host, self.port, time.monotonic() + self.startup_timeout
                )
                return
            except IrcServerError:
                retry = attempt + 1 < attempts and address_in_use(self._daemon)
                await self._daemon.kill()
                if not retry:
                    raise
                self.port = 0

    def _write_config(self) -> None:
        if self._pid_dir is None:
            self._pid_dir = self._make_pid_dir()
        self.config_path.write_text(
            _CONFIG.format(
                server_name=self.server_name,
                host=self.host,
                port=self.port,
                pid_file=self._pid_dir / "ngircd.pid",
                oper_name=self.oper_name,
                oper_password=self.oper_password,
                extra_config=self.extra_config,
            )
        )

    def _make_pid_dir(self) -> Path:
        # Started as root, ngircd writes its PID file as `nobody`, who usually cannot reach
        # into a test's private tmp dir (pytest's are 0700): use a world-writable dir in
        # the system temp dir then, removed at stop().
        if os.geteuid() != 0:
            return self.directory
        pid_dir = Path(tempfile.mkdtemp(prefix="govbot-ngircd-"))
        pid_dir.chmod(0o1777)
        return pid_dir

    async def stop(self) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after a grace period); idempotent."""
        if self._daemon is not None:
            await self._daemon.stop()
        self._remove_pid_dir()

    async def kill(self) -> None:
        """SIGKILL: clients see their connection drop with no QUIT/ERROR, like a crash."""
        if self._daemon is not None:
            await self._daemon.kill()

    async def restart(self) -> None:
        """Kill the server and start it again on the same port."""
        await self.kill()
        await self.start()

    def _remove_pid_dir(self) -> None:
        if self._pid_dir is not None and self._pid_dir != self.directory:
            shutil.rmtree(self._pid_dir, ignore_errors=True)
        self._pid_dir = None

    def client(self, nick: str, **kwargs: Any) -> IrcTestClient:
        """An IrcTestClient for this server (not yet connected)."""
        return IrcTestClient(self.host, self.port, nick, **kwargs)

    def log_tail(self, lines: int = 40) -> str:
        return self._daemon.output_since_start(lines) if self._daemon else ""
