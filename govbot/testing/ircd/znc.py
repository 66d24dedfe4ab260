"""ZNC (Debian's `znc`) on loopback, a bouncer in front of another test server.

The bouncer keeps the bot's connection to the IRC server while the bot restarts and
buffers the channel meanwhile; when the bot comes back (`PASS user/network:password`),
ZNC plays the buffer back in a `znc.in/playback` batch with server-time. That is the
set-up of a bot on OFTC or Libera, which keep no channel history of their own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType

from govbot.testing.ircd._process import LOOPBACK, Daemon, free_port, wait_until_listening
from govbot.testing.ircd.binaries import require_binary

_CONFIG = """\
Version = 1.8.2
<Listener listener>
    Host = {host}
    Port = {port}
    IPv4 = true
    IPv6 = false
    SSL = false
    AllowIRC = true
    AllowWeb = false
</Listener>
<User {user}>
    <Pass password>
        Method = sha256
        Hash = {hash}
        Salt = {salt}
    </Pass>
    Admin = true
    Nick = {nick}
    AltNick = {nick}_
    Ident = {nick}
    RealName = {nick}
    AutoClearChanBuffer = true
    ChanBufferSize = 1000
    MaxNetworks = 1
    <Network {network}>
        Server = {server_host} {server_port}
        FloodRate = 100.00
        FloodBurst = 100
        JoinDelay = 0
{channels}
    </Network>
</User>
"""


class ZncBouncer:
    """`async with ZncBouncer(tmp_path, server_host, server_port, channels=[...])`: connect
    the bot to `host`:`port` with the server password `password`."""

    user = "govbot"
    network = "test"
    secret = "znc-test-password"

    def __init__(self, tmpdir: str | os.PathLike[str], server_host: str, server_port: int,
                 *, nick: str = "govbot", channels: tuple[str, ...] = (),
                 host: str = LOOPBACK, startup_timeout: float = 10.0) -> None:
        self.directory = Path(tmpdir) / "znc"
        self._own_dir: Path | None = None  # as root: a directory `nobody` can write
        self.host = host
        self.port = 0
        self.server_host, self.server_port = server_host, server_port
        self.nick = nick
        self.channels = channels
        self.startup_timeout = startup_timeout
        self._daemon: Daemon | None = None

    @property
    def password(self) -> str:
        """What the bot sends as PASS."""
        return f"{self.user}/{self.network}:{self.secret}"

    async def __aenter__(self) -> ZncBouncer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def start(self) -> None:
        binary = require_binary("znc")
        argv = [binary, "--foreground", "--datadir"]
        if os.geteuid() == 0:
            # As root ZNC waits 30 s before it starts ("Don't do that!"): run it as
            # nobody, in a directory of its own that nobody may write (the test's tmp
            # dir is private to root).
            self._own_dir = self._own_dir or Path(tempfile.mkdtemp(prefix="govbot-znc-"))
            self.directory = self._own_dir
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        (self.directory / "configs").mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        salt = "govbottestsalt"
        digest = hashlib.sha256((self.secret + salt).encode()).hexdigest()
        channels = "\n".join(f"        <Chan {c}>\n        </Chan>" for c in self.channels)
        (self.directory / "configs" / "znc.conf").write_text(_CONFIG.format(
            host=self.host, port=self.port, user=self.user, hash=digest, salt=salt,
            nick=self.nick, network=self.network, server_host=self.server_host,
            server_port=self.server_port, channels=channels))
        if self._own_dir is not None:
            for path in (self._own_dir, *self._own_dir.rglob("*")):
                os.chown(path, 65534, 65534)
        self._daemon = Daemon("znc", [*argv, str(self.directory)], self.directory / "znc.log")
        self._daemon.start()
        try:
            await wait_until_listening(self._daemon, self.host, self.port,
                                       time.monotonic() + self.startup_timeout)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._daemon is not None:
            await self._daemon.stop()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def attached(self) -> int:
        """Client connections ZNC still holds open (Linux: /proc/net/tcp). 0 after a
        client died means ZNC noticed, and buffers from then on."""
        port = f"{self.port:04X}"
        count = 0
        with open("/proc/net/tcp") as table:
            for row in table.readlines()[1:]:
                fields = row.split()
                local, state = fields[1], fields[3]
                # ESTABLISHED (01) or CLOSE_WAIT (08: the peer closed, ZNC has not yet).
                if local.endswith(":" + port) and state in ("01", "08"):
                    count += 1
        return count

    def log_tail(self, lines: int = 40) -> str:
        return self._daemon.output_since_start(lines) if self._daemon else ""
