"""InspIRCd 3 + Atheme 7.2 on loopback: SASL PLAIN, NickServ accounts, account-tag."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from govbot.testing.ircd._process import (
    LOOPBACK,
    Daemon,
    address_in_use,
    check_alive,
    free_port,
    wait_until_listening,
)
from govbot.testing.ircd.binaries import IrcServerError, require_binary
from govbot.testing.ircd.client import IrcClientError, IrcMessage, IrcTestClient

# Services link needs: spanningtree, services_account (accounts), sasl, and the modules Atheme's
# inspircd protocol module insists on. ctctags provides `message-tags`; capnotify and
# echomessage make the server behave like real networks (CAP NEW when services link).
# defaultmodes "not": +nt, and the first to join a channel is its op (as on real networks).
# chanhistory (channel mode +H), msgid and batch: the history a rejoining bot is played.
MODULES = (
    "spanningtree",
    "services_account",
    "sasl",
    "cap",
    "ircv3",
    "ircv3_accounttag",
    "ircv3_servertime",
    "ircv3_ctctags",
    "ircv3_capnotify",
    "ircv3_echomessage",
    "ircv3_msgid",
    "ircv3_batch",
    "chanhistory",
    "deaf",
    "svshold",
    "servprotect",
    "chghost",
    "chgident",
    "chgname",
    "globops",
    "hidechans",
)

_INSPIRCD_CONFIG = """\
<server name="{server_name}" description="govbot test network" id="42X" network="TestNet">
<admin name="govbot tests" nick="admin" email="nobody@test.invalid">
<bind address="{host}" port="{port}" type="clients">
<bind address="{host}" port="{link_port}" type="servers">
<pid file="{directory}/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"
     target="{directory}/inspircd-events.log">
<dns server="127.0.0.1" timeout="1">
<options defaultmodes="not">
<connect name="main" allow="*" maxchans="200" timeout="60" pingfreq="2m" hardsendq="16M"
         softsendq="1M" recvq="1M" threshold="100000" commandrate="100000" fakelag="no"
         localmax="10000" globalmax="10000" maxconnwarn="no" resolvehostnames="no"
         useident="no" limit="10000" modes="">
{modules}
<sasl target="{services_name}" requiressl="no">
<link name="{services_name}" ipaddr="{host}" port="{link_port}" allowmask="127.0.0.0/8"
      sendpass="{link_password}" recvpass="{link_password}">
<uline server="{services_name}" silent="yes">
<chanhistory maxlines="100" prefixmsg="no" bots="yes">
{extra_config}
"""

_ATHEME_MODULES = (
    "protocol/inspircd",
    "backend/opensex",
    "crypto/pbkdf2v2",
    "nickserv/main",
    "nickserv/register",
    "nickserv/identify",
    "nickserv/info",
    "nickserv/set_core",
    "nickserv/set_password",
    "saslserv/main",
    "saslserv/plain",
    "chanserv/main",
    "chanserv/register",
    "chanserv/flags",
    "chanserv/op",
)

_ATHEME_CONFIG = """\
{modules}
pbkdf2v2 {{ digest = "SHA256"; rounds = 10000; }};  /* the minimum: tests hash a lot */
serverinfo {{
    name = "{services_name}";
    desc = "govbot test services";
    numeric = "00A";
    recontime = 1;
    netname = "TestNet";
    hidehostsuffix = "users.test.local";
    adminname = "govbot tests";
    adminemail = "nobody@test.invalid";
    registeremail = "nobody@test.invalid";
    mta = "/bin/false";
    loglevel = {{ error; info; admin; network; register; }};
    maxlogins = 1000;
    maxusers = 0;
    mdlimit = 30;
    emaillimit = 1000;
    emailtime = 1;
    auth = none;
    casemapping = rfc1459;
}};
uplink "{server_name}" {{
    host = "{host}";
    password = "{link_password}";
    port = {link_port};
}};
nickserv {{ nick = "NickServ"; user = "NickServ"; host = "{services_name}";
    real = "Nickname Services"; maxnicks = 5; expire = 0; }};
chanserv {{ nick = "ChanServ"; user = "ChanServ"; host = "{services_name}";
    real = "Channel Services"; maxchans = 1000; expire = 0; maxchanacs = 0; maxfounders = 4; }};
saslserv {{ nick = "SaslServ"; user = "SaslServ"; host = "{services_name}";
    real = "SASL Authentication Agent"; }};
general {{
    flood_msgs = 1000;
    flood_time = 10;
    ratelimit_uses = 1000;
    ratelimit_period = 60;
    kline_time = 7;
    clone_time = 0;
    commit_interval = 5;
    default_clone_allowed = 10000;
    default_clone_warn = 10000;
    uplink_sendq_limit = 1048576;
    language = "en";
    exempts {{ }};
}};
{extra_config}
"""

_REGISTERED = re.compile(r"is now registered to", re.IGNORECASE)
# Sent on connect when the nick is already an account: not the answer to REGISTER.
_NICK_IS_REGISTERED = re.compile(r"this nickname is registered", re.IGNORECASE)
_FORMATTING = re.compile(r"[\x02\x0f\x1d\x1f\x16]|\x03\d{0,2}(,\d{1,2})?")


def _nickserv_answer(msg: IrcMessage) -> bool:
    return (
        msg.command == "NOTICE"
        and (msg.nick or "").lower() == "nickserv"
        and not _NICK_IS_REGISTERED.search(msg.text)
    )


class InspircdAtheme:
    """`async with InspircdAtheme(tmp_path) as net:` a network with NickServ and SASL.

    Ready means SaslServ is linked: `sasl` is in `CAP LS`. Each client registration takes
    up to ~1 s (InspIRCd completes registrations on its once-a-second tick), so reuse
    connections within a module and register accounts concurrently (asyncio.gather).
    """

    def __init__(
        self,
        tmpdir: str | os.PathLike[str],
        *,
        host: str = LOOPBACK,
        server_name: str = "irc.test.local",
        services_name: str = "services.test.local",
        startup_timeout: float = 15.0,
        extra_inspircd_config: str = "",
        extra_atheme_config: str = "",
    ) -> None:
        self.directory = Path(tmpdir) / "inspircd-atheme"
        self.host = host
        self.port = 0
        self.link_port = 0
        self.server_name = server_name
        self.services_name = services_name
        self.startup_timeout = startup_timeout
        self.extra_inspircd_config = extra_inspircd_config
        self.extra_atheme_config = extra_atheme_config
        self.link_password = "govbot-test-link"
        self.inspircd_config = self.directory / "inspircd.conf"
        self.atheme_config = self.directory / "atheme.conf"
        self.atheme_data = self.directory / "atheme-data"
        self.inspircd_log = self.directory / "inspircd.log"
        self.atheme_log = self.directory / "atheme.log"
        self._inspircd: Daemon | None = None
        self._atheme: Daemon | None = None

    @property
    def running(self) -> bool:
        return all(d is not None and d.running for d in (self._inspircd, self._atheme))

    async def __aenter__(self) -> InspircdAtheme:
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
        """Start InspIRCd, then Atheme, and wait until SASL is offered (services linked)."""
        inspircd = require_binary("inspircd")
        atheme = require_binary("atheme-services")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.atheme_data.mkdir(exist_ok=True)
        deadline = time.monotonic() + self.startup_timeout
        try:
            await self._start_inspircd(inspircd, deadline)
            self._start_atheme(atheme)
            await self._wait_for_services(deadline)
        except BaseException:
            await self.stop()
            raise

    async def _start_inspircd(self, binary: str, deadline: float) -> None:
        keep_ports = bool(self.port)  # a restart must come back where clients expect it
        attempts = 1 if keep_ports else 3
        for attempt in range(attempts):
            if not keep_ports:
                self.port, self.link_port = free_port(self.host), free_port(self.host)
            self._write_configs()
            argv = [binary, "--config", str(self.inspircd_config), "--nofork", "--runasroot"]
            # Startup errors go to stdout; a port it could not bind shows only in its own log
            # (it keeps running without that listener), so both are watched.
            self._inspircd = Daemon(
                "inspircd",
                argv,
                self.inspircd_log,
                extra_logs=[self.directory / "inspircd-events.log"],
            )
            self._inspircd.start()
            try:
                for port in (self.port, self.link_port):
                    await wait_until_listening(self._inspircd, self.host, port, deadline)
                return
            except IrcServerError:
                retry = attempt + 1 < attempts and address_in_use(self._inspircd)
                await self._inspircd.kill()
                if not retry:
                    raise

    def _start_atheme(self, binary: str) -> None:
        argv = [
            binary,
            "-n",
            "-c",
            str(self.atheme_config),
            "-D",
            str(self.atheme_data),
            "-l",
            str(self.atheme_log),
            "-p",
            str(self.directory / "atheme.pid"),
        ]
        self._atheme = Daemon(
            "atheme-services",
            argv,
            self.directory / "atheme.stdout.log",
            extra_logs=[self.atheme_log],
        )
        self._atheme.start()

    async def _wait_for_services(self, deadline: float) -> None:
        daemons = [d for d in (self._inspircd, self._atheme) if d is not None]
        delay = 0.01
        last_caps = ""
        while True:
            check_alive(*daemons)
            if time.monotonic() >= deadline:
                raise daemons[-1].startup_error(
                    f"services did not link in time (CAP LS said: {last_caps or 'nothing'})"
                )
            last_caps = await self._cap_ls(deadline)
            if re.search(r"(^|\s)sasl(=|\s|$)", last_caps):
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def _cap_ls(self, deadline: float) -> str:
        probe = IrcTestClient(self.host, self.port, "probe")
        try:
            await probe.open(timeout=max(deadline - time.monotonic(), 0.1))
            await probe.send("CAP LS 302")
            caps = []
            while True:
                line = await probe.wait_for(
                    lambda m: m.command == "CAP" and len(m.params) > 2 and m.params[1] == "LS",
                    max(deadline - time.monotonic(), 0.1),
                )
                caps.append(line.text)
                if line.params[2] != "*":
                    return " ".join(caps)
        except (OSError, TimeoutError, ConnectionError, IrcClientError):
            return ""
        finally:
            await probe.close()

    def _write_configs(self) -> None:
        fields = {
            "server_name": self.server_name,
            "services_name": self.services_name,
            "host": self.host,
            "port": self.port,
            "link_port": self.link_port,
            "link_password": self.link_password,
            "directory": self.directory,
        }
        self.inspircd_config.write_text(
            _INSPIRCD_CONFIG.format(
                modules="\n".join(f'<module name="{m}">' for m in MODULES),
                extra_config=self.extra_inspircd_config,
                **fields,
            )
        )
        self.atheme_config.write_text(
            _ATHEME_CONFIG.format(
                modules="\n".join(f'loadmodule "modules/{m}";' for m in _ATHEME_MODULES),
                extra_config=self.extra_atheme_config,
                **fields,
            )
        )

    async def stop(self) -> None:
        """Stop both; Atheme gets SIGTERM first so it saves its account database."""
        for daemon in (self._atheme, self._inspircd):
            if daemon is not None:
                await daemon.stop()

    async def restart(self) -> None:
        """Save and stop Atheme, kill InspIRCd, start both on the same ports.

        Accounts registered before survive (Atheme writes its database on SIGTERM).
        """
        if self._atheme is not None:
            await self._atheme.stop()
        if self._inspircd is not None:
            await self._inspircd.kill()
        await self.start()

    async def register_account(
        self,
        name: str,
        password: str,
        email: str | None = None,
        *,
        timeout: float = 15.0,
    ) -> None:
        """Register the NickServ account `name` (connects as nick `name`, then quits).

        Afterwards clients log in with `sasl=(name, password)`. Raises IrcServerError with
        NickServ's answer when it refuses (name taken, password too weak...).
        """
        deadline = time.monotonic() + timeout
        client = self.client(name)
        await client.connect(timeout)
        try:
            email = email or f"{name}@test.invalid"
            await client.privmsg("NickServ", f"REGISTER {password} {email}")
            reply: IrcMessage = await client.wait_for(_nickserv_answer, deadline - time.monotonic())
            if not _REGISTERED.search(reply.text):
                text = _FORMATTING.sub("", reply.text)
                raise IrcServerError(f"NickServ refused to register {name!r}: {text}")
        finally:
            await client.quit()

    def client(self, nick: str, **kwargs: Any) -> IrcTestClient:
        """An IrcTestClient for this network (not yet connected); pass caps=, sasl=."""
        return IrcTestClient(self.host, self.port, nick, **kwargs)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(
            d.output_since_start(lines) for d in (self._inspircd, self._atheme) if d is not None
        )
