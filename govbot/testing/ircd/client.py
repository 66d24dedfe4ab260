"""A small raw-socket IRC client for tests: plays human participants and watches the bot.

Deliberately not pydle: tests must see exactly what the server sends (tags included), and
must be able to misbehave (bad SASL passwords, look-alike nicks, non-UTF-8 bytes).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

Matcher = str | re.Pattern[str] | Callable[["IrcMessage"], bool]

_TAG_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
# Numerics that end a registration attempt: erroneous nick, nick in use, banned.
_REGISTRATION_ERRORS = frozenset({"432", "433", "436", "465", "ERROR"})
_SASL_DONE = frozenset({"902", "903", "904", "905", "906", "907", "908"})


def _unescape_tag(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_TAG_ESCAPES.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class IrcMessage:
    """One parsed line: IRCv3 tags, prefix, command (upper case) and params."""

    command: str
    params: tuple[str, ...] = ()
    prefix: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    raw: str = ""

    @classmethod
    def parse(cls, line: str) -> IrcMessage:
        rest = line.rstrip("\r\n")
        tags: dict[str, str] = {}
        if rest.startswith("@"):
            tag_text, _, rest = rest[1:].partition(" ")
            for item in tag_text.split(";"):
                if item:
                    key, _, value = item.partition("=")
                    tags[key] = _unescape_tag(value)
            rest = rest.lstrip(" ")
        prefix = None
        if rest.startswith(":"):
            prefix, _, rest = rest[1:].partition(" ")
            rest = rest.lstrip(" ")
        middle, has_trailing, trailing = rest.partition(" :")
        if middle.startswith(":"):  # no middle params: "CMD :text" was split as "" + ...
            middle, has_trailing, trailing = "", " :", middle[1:]
        words = middle.split()
        command = words[0].upper() if words else ""
        params = words[1:]
        if has_trailing:
            params.append(trailing)
        return cls(command=command, params=tuple(params), prefix=prefix, tags=tags, raw=line)

    @property
    def nick(self) -> str | None:
        """The sender's nick (the prefix up to '!'), or None for server lines without prefix."""
        return self.prefix.split("!", 1)[0] if self.prefix else None

    @property
    def target(self) -> str | None:
        return self.params[0] if self.params else None

    @property
    def text(self) -> str:
        """The last parameter: the message text of PRIVMSG/NOTICE, the reason of a numeric."""
        return self.params[-1] if self.params else ""

    @property
    def account(self) -> str | None:
        """The services account from the `account` tag (IRCv3 account-tag), if any."""
        return self.tags.get("account")


class IrcClientError(RuntimeError):
    """The test client could not do what it was asked (registration refused, cap missing...)."""


class SaslError(IrcClientError):
    """SASL authentication ended with a failure numeric (904 = wrong credentials)."""

    def __init__(self, numeric: str, message: IrcMessage | None) -> None:
        self.numeric = numeric
        self.message = message
        super().__init__(f"SASL failed with {numeric}: {message.raw if message else ''}")


def _compile(match: Matcher) -> Callable[[IrcMessage], bool]:
    if isinstance(match, str):
        match = re.compile(match)
    if isinstance(match, re.Pattern):
        pattern = match
        return lambda msg: pattern.search(msg.raw) is not None
    return match


class IrcTestClient:
    """An asyncio-streams IRC client; use `async with IrcTestClient(...) as c:`.

    `wait_for` consumes: each call searches the lines received after the previous match,
    so a sequence of waits reads the conversation in order. PINGs are answered as they come.

    The async methods take `timeout=` (hence the ASYNC109 noqa): waits in tests read best
    with the deadline on the call itself.
    """

    def __init__(
        self,
        host: str,
        port: int,
        nick: str,
        *,
        username: str | None = None,
        realname: str | None = None,
        caps: Iterable[str] = (),
        sasl: tuple[str, str] | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.nick = nick
        self.username = username or re.sub(r"[^A-Za-z0-9]", "", nick)[:10] or "user"
        self.realname = realname or nick
        self.requested_caps = tuple(caps)
        self.sasl = sasl
        self.password = password
        self.caps_available: dict[str, str] = {}
        self.caps_enabled: set[str] = set()
        self.account: str | None = None  # set by RPL_LOGGEDIN (900) after SASL
        self.received: list[IrcMessage] = []
        self._cursor = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._changed: asyncio.Condition | None = None
        self._write_lock: asyncio.Lock | None = None
        self._closed = False
        self._close_reason = ""

    async def __aenter__(self) -> IrcTestClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._closed

    async def connect(self, timeout: float = 10.0) -> IrcTestClient:
        """Connect and register (CAP, SASL PLAIN, NICK/USER) until the end of the MOTD."""
        deadline = time.monotonic() + timeout
        await self.open(timeout)
        try:
            await self._register(deadline)
        except BaseException:
            await self.close()
            raise
        return self

    async def open(self, timeout: float = 10.0) -> None:
        """Only open the TCP connection and start reading (for hand-written registration)."""
        self._changed = asyncio.Condition()
        self._write_lock = asyncio.Lock()
        self._closed = False
        # A reconnect starts a new session; history and the wait cursor carry on.
        self.caps_available, self.caps_enabled, self.account = {}, set(), None
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), timeout
        )
        self._read_task = asyncio.create_task(self._read_loop(), name=f"irc-test-{self.nick}")

    async def _register(self, deadline: float) -> None:
        want = list(self.requested_caps) + (["sasl"] if self.sasl else [])
        if want:
            await self.send("CAP LS 302")
        if self.password:
            await self.send(f"PASS {self.password}")
        await self.send(f"NICK {self.nick}")
        await self.send(f"USER {self.username} 0 * :{self.realname}")
        if want:
            await self._negotiate_caps(want, deadline)
            if self.sasl:
                await self._authenticate(*self.sasl, deadline=deadline)
            await self.send("CAP END")
        nudger = asyncio.create_task(self._nudge())
        try:
            welcome = await self._expect({"001"}, deadline)
        finally:
            nudger.cancel()
        self.nick = welcome.params[0]
        await self._expect({"376", "422"}, deadline)  # end of MOTD / no MOTD: burst is over

    async def _nudge(self) -> None:
        # InspIRCd completes registrations on its once-a-second housekeeping, which only
        # runs when its event loop wakes up; a silent client waits a full second more.
        # A PING every 50 ms wakes it soon after the second turns (ngircd never gets one:
        # it welcomes clients at once).
        with contextlib.suppress(OSError, IrcClientError):
            while True:
                await asyncio.sleep(0.05)
                await self.send("PING :govbot-test-nudge")

    async def _expect(self, commands: set[str], deadline: float) -> IrcMessage:
        wanted = commands | _REGISTRATION_ERRORS
        msg = await self.wait_for(lambda m: m.command in wanted, deadline - time.monotonic())
        if msg.command not in commands:
            raise IrcClientError(f"{self.nick}: registration refused: {msg.raw}")
        return msg

    async def _negotiate_caps(self, want: list[str], deadline: float) -> None:
        while True:  # CAP LS 302 may span lines: "CAP * LS * :..." until the last one
            ls = await self._expect({"CAP"}, deadline)
            if len(ls.params) >= 3 and ls.params[1] == "LS":
                for item in ls.params[-1].split():
                    name, _, value = item.partition("=")
                    self.caps_available[name] = value
                if ls.params[2] != "*":
                    break
        missing = [c for c in want if c not in self.caps_available]
        if missing:
            raise IrcClientError(
                f"server does not offer caps {missing}; it offers {sorted(self.caps_available)}"
            )
        await self.send(f"CAP REQ :{' '.join(want)}")
        reply = await self._expect({"CAP"}, deadline)
        if len(reply.params) < 3 or reply.params[1] != "ACK":
            raise IrcClientError(f"CAP REQ {want} refused: {reply.raw}")
        self.caps_enabled.update(reply.params[-1].split())

    async def _authenticate(self, user: str, password: str, deadline: float) -> None:
        await self.send("AUTHENTICATE PLAIN")
        first = await self.wait_for(
            lambda m: (m.command == "AUTHENTICATE") or m.command in _SASL_DONE,
            deadline - time.monotonic(),
        )
        if first.command != "AUTHENTICATE":
            raise SaslError(first.command, first)
        payload = base64.b64encode(f"{user}\0{user}\0{password}".encode()).decode()
        # Payloads go in 400-byte chunks; an exact multiple of 400 ends with "+".
        chunks = [payload[i : i + 400] for i in range(0, len(payload), 400)]
        if len(payload) % 400 == 0:
            chunks.append("+")
        for chunk in chunks:
            await self.send(f"AUTHENTICATE {chunk}")
        result = await self.wait_for(lambda m: m.command in _SASL_DONE, deadline - time.monotonic())
        if result.command != "903":
            raise SaslError(result.command, result)
        logged_in = next((m for m in self.received if m.command == "900"), None)
        self.account = logged_in.params[2] if logged_in and len(logged_in.params) > 2 else user

    async def _read_loop(self) -> None:
        assert self._reader is not None and self._changed is not None
        try:
            while True:
                raw = await self._reader.readline()
                if not raw:
                    self._close_reason = "server closed the connection"
                    break
                # Lenient: a test must survive whatever bytes the bot or others send.
                line = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
                if not line:
                    continue
                msg = IrcMessage.parse(line)
                if msg.command == "PING":
                    await self.send(f"PONG :{msg.text}")
                async with self._changed:
                    self.received.append(msg)
                    self._changed.notify_all()
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self._close_reason = f"connection lost: {exc!r}"
        finally:
            self._closed = True
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, match: Matcher, timeout: float = 5.0) -> IrcMessage:
        """The first line after the previous match that matches `match`.

        `match` is a regex (searched in the raw line, tags included) or a predicate on
        IrcMessage. Raises TimeoutError listing the recent lines when nothing matches.
        """
        if self._changed is None:
            raise IrcClientError("not connected")
        check = _compile(match)
        found: list[IrcMessage] = []

        def scan() -> bool:
            while self._cursor < len(self.received):
                msg = self.received[self._cursor]
                self._cursor += 1
                if check(msg):
                    found.append(msg)
                    return True
            return self._closed

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(scan), max(timeout, 0.0))
            except TimeoutError:
                raise TimeoutError(
                    f"{self.nick}: nothing matching {match!r} within {timeout:.1f}s; "
                    f"last lines:\n{self._recent()}"
                ) from None
        if not found:
            raise ConnectionError(
                f"{self.nick}: {self._close_reason} before a line matched {match!r}; "
                f"last lines:\n{self._recent()}"
            )
        return found[0]

    def _recent(self, count: int = 15) -> str:
        return "\n".join(f"  {m.raw}" for m in self.received[-count:]) or "  (none)"

    async def send(self, line: str) -> None:
        """Send one IRC line; CR/LF inside it would smuggle a second command, so refuse."""
        if "\r" in line or "\n" in line:
            raise ValueError(f"IRC line contains CR/LF: {line!r}")
        await self.send_raw(line.encode("utf-8") + b"\r\n")

    async def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (e.g. invalid UTF-8 to test the bot's decoder)."""
        if self._writer is None or self._write_lock is None:
            raise IrcClientError("not connected")
        async with self._write_lock:
            self._writer.write(data)
            await self._writer.drain()

    async def join(self, channel: str, timeout: float = 5.0) -> IrcMessage:
        """JOIN and wait for our own JOIN echo and the end of NAMES; returns the JOIN."""
        await self.send(f"JOIN {channel}")
        folded = channel.lower()

        def own_join(m: IrcMessage) -> bool:
            return (
                m.command == "JOIN"
                and (m.nick or "").lower() == self.nick.lower()
                and bool(m.params)
                and m.params[0].lower() == folded
            )

        joined = await self.wait_for(own_join, timeout)
        await self.wait_for(
            lambda m: m.command == "366" and len(m.params) > 1 and m.params[1].lower() == folded,
            timeout,
        )
        return joined

    async def part(self, channel: str, reason: str = "") -> None:
        await self.send(f"PART {channel} :{reason}" if reason else f"PART {channel}")

    async def privmsg(self, target: str, text: str) -> None:
        await self.send(f"PRIVMSG {target} :{text}")

    async def notice(self, target: str, text: str) -> None:
        await self.send(f"NOTICE {target} :{text}")

    async def quit(self, message: str = "bye", timeout: float = 2.0) -> None:
        """QUIT and wait (briefly) for the server to close the connection."""
        if self.connected:
            with contextlib.suppress(OSError, IrcClientError):
                await self.send(f"QUIT :{message}")
            if self._read_task is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(self._read_task), timeout)
        await self.close()

    async def close(self) -> None:
        """Drop the connection without QUIT (idempotent)."""
        if self._read_task is not None:
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._read_task
            self._read_task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
            self._writer = None
        self._closed = True
