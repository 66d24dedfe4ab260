"""One IRC connection on pydle 1.2.0: what pydle does well is kept, the rest replaced.

Kept from pydle: the TLS connection (`pydle.connection.Connection`), line parsing
with IRCv3 tags, CAP negotiation, SASL PLAIN/EXTERNAL, registration with alternate
nicks on 433, ISUPPORT (CASEMAPPING, CHANTYPES, NICKLEN, PREFIX).

Replaced, and why (each was measured against pydle 1.2.0's source):
- the read loop: pydle runs it in an unowned task, handles each line in a task of its
  own (no order), has no registration deadline and one fixed 300 s read timeout. Ours
  handles lines in order, pings after `ping_interval` seconds of silence, declares the
  link dead after `pong_timeout` more, and `serve()` returns only by raising, so the
  service's reconnect loop (backoff + jitter) is the single place that reconnects;
- decoding: every line is decoded as UTF-8 with U+FFFD replacement; an unparsable or
  over-long line is logged and skipped. Nothing a user sends can end the connection;
- user tracking: pydle WHOISes on every nick change from inside the read loop (a
  deadlock once lines are handled in order), awaits a non-coroutine in `_sync_user`,
  and never forgets users. Channel membership and accounts are tracked instead by
  the `Tracking` mixin (tracking.py);
- SASL errors: pydle silently continues unauthenticated after 904 (and its SASL
  timeout callbacks are never awaited). Here a refused login ends the session with a
  clear reason, and the service backs off;
- sending: `_send` refuses CR/LF/NUL and redacts credentials from the debug log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pydle
from pydle.connection import Connection
from pydle.features.ircv3 import IRCv3Support, cap
from pydle.features.ircv3.tags import TaggedMessage
from pydle.features.isupport import ISUPPORTSupport
from pydle.protocol import ProtocolViolation

from govbot.irc.accounts import AccountCache
from govbot.irc.channels import HISTORY_BATCHES, ChannelState
from govbot.irc.events import IrcMessage
from govbot.irc.listener import ClientListener
from govbot.irc.tracking import Tracking, event_time, tags_of

log = logging.getLogger(__name__)

#: Capabilities requested when offered; everything else stays off (echo-message would
#: feed the bot its own lines, invite-notify and friends only add noise).
WANTED_CAPS = frozenset({
    "sasl", "account-tag", "account-notify", "extended-join", "server-time",
    "message-tags", "multi-prefix", "cap-notify", "batch", "draft/chathistory",
})


_READ_LIMIT = 1 << 16  # a line with IRCv3 tags is at most 8 KiB + 512 bytes
_IDENTIFY = re.compile(r"(?i)^(PRIVMSG\s+NickServ\s+:\s*)(IDENTIFY\b).*")
_SECRET_COMMANDS = ("AUTHENTICATE ", "PASS ")  # PASS: also a bouncer's login


class SessionError(Exception):
    """Why a connection ended. `auth` marks login failures (the service waits longer)."""

    def __init__(self, reason: str, *, auth: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.auth = auth


@dataclass(frozen=True, slots=True)
class SaslCredentials:
    mechanism: str  # "PLAIN" or "EXTERNAL"
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"SaslCredentials({self.mechanism!r}, {self.username!r})"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 15.0
    registration: float = 30.0
    ping_interval: float = 60.0  # send PING after this much silence
    pong_timeout: float = 30.0  # ...and give up on the link after this much more
    send: float = 30.0


def redact(line: str) -> str:
    """A line as it may appear in logs: SASL payloads, PASS and IDENTIFY hidden."""
    upper = line[:16].upper()
    for command in _SECRET_COMMANDS:
        if upper.startswith(command):
            value = line[len(command):]
            if value.upper() in ("PLAIN", "EXTERNAL", "+", "*"):
                return line
            return command + "<redacted>"
    match = _IDENTIFY.match(line)
    if match:
        return match.group(1) + match.group(2) + " <redacted>"
    return line


_Base: Any = pydle.featurize(IRCv3Support, ISUPPORTSupport)


class IrcClient(Tracking, ChannelState, _Base):  # type: ignore[misc]
    """pydle client with ordered handling, account tracking and session-scoped state."""

    RECONNECT_ON_ERROR = False  # the service reconnects, with backoff
    nickname: str  # set by pydle; typed here for the checker
    _sasl_timer: asyncio.TimerHandle | None

    def __init__(self, *, nick: str, alt_nicks: Iterable[str] = (), username: str | None = None,
                 realname: str = "govbot", cert_file: str | None = None,
                 disabled_caps: Iterable[str] = (), listener: ClientListener) -> None:
        super().__init__(nick, fallback_nicknames=list(alt_nicks),
                         username=username or _username(nick), realname=realname,
                         tls_client_cert=cert_file)
        self.main_nick = nick
        self.listener = listener
        self.wanted_caps = WANTED_CAPS - {c.lower() for c in disabled_caps}

    # --- session state ------------------------------------------------------------

    def _reset_attributes(self) -> None:
        """Everything that belongs to one connection (pydle calls this in __init__ too)."""
        for future in getattr(self, "_whois_pending", {}).values():
            if not future.done():
                future.set_result(None)
        timer = getattr(self, "_sasl_timer", None)
        if timer is not None:
            timer.cancel()  # pydle's SASL timeout callback is broken; ours is the deadline
        super()._reset_attributes()
        self.logger = logging.getLogger("govbot.irc.pydle")
        self.ready = False
        self.account: str | None = None  # our own services account
        self.logged_in = asyncio.Event()
        self.sasl_offered = False
        self.own_prefix: str | None = None  # nick!user@host as others see it
        self.members: dict[str, set[str]] = {}  # folded channel -> folded nicks
        self.channel_names: dict[str, str] = {}  # folded channel -> name as joined
        self.topics: dict[str, str] = {}  # folded channel -> topic (channels.py)
        self.ops: set[str] = set()  # folded channels where we are op (channels.py)
        self.accounts = AccountCache(self.normalize)
        self._fatal: SessionError | None = None
        self._send_timeout = getattr(self, "_send_timeout", 30.0)
        self._cap_ls: list[str] = []
        self._whois_pending: dict[str, asyncio.Future[str | None]] = {}
        self._whois_found: dict[str, str | None] = {}
        self._batches: dict[str, str] = {}  # open BATCH reference -> its type

    def _fold(self, name: str) -> str:
        return str(self.normalize(name))

    def in_channel(self, channel: str) -> bool:
        return self._fold(channel) in self.members

    @property
    def capabilities(self) -> dict[str, Any]:
        return {k: v for k, v in self._capabilities.items() if v}

    @property
    def nick_limit(self) -> int:
        return int(self._nickname_length_limit or 0)

    # --- the connection -----------------------------------------------------------

    async def serve(self, host: str, port: int, *, tls: bool, tls_verify: bool,
                    sasl: SaslCredentials | None, timeouts: Timeouts,
                    password: str | None = None) -> None:
        """Connect, register, and handle lines until the link ends. Always raises.
        `password` is the server password (PASS), a bouncer's login."""
        self._reset_attributes()
        self.password = password  # pydle's registration sends PASS when set
        self.encoding = "utf-8"
        self.sasl_mechanism = sasl.mechanism if sasl else None
        self.sasl_username = sasl.username if sasl else None
        self.sasl_password = sasl.password if sasl else None
        self._send_timeout = timeouts.send
        connection = Connection(host, port, tls=tls, tls_verify=tls_verify,
                                tls_certificate_file=self.tls_client_cert)
        self.connection = connection
        # pydle's Connection.connect/send wrap asyncio.wait_for, which on Python 3.11 can
        # swallow a cancellation that arrives as the wait completes, leaving a task that
        # never stops. asyncio.timeout has no such race; pydle still builds the TLS context.
        tls_context = connection.create_tls_context() if tls else None
        async with asyncio.timeout(timeouts.connect):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls_context,
                                                           limit=_READ_LIMIT)
        connection.reader, connection.writer = reader, writer
        await self._register()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeouts.registration
        pinged = False
        while True:
            if not self.ready and loop.time() >= deadline:
                raise SessionError(f"registration did not complete within "
                                   f"{timeouts.registration:.0f} s")
            if self.ready:
                # Behind on the events: stop reading until there is room (TCP
                # back-pressure); the keepalive clock starts after the wait.
                await self.listener.irc_room()
            wait = timeouts.pong_timeout if pinged else timeouts.ping_interval
            if not self.ready:
                wait = min(wait, max(deadline - loop.time(), 0.0))
            try:
                async with asyncio.timeout(wait):
                    raw = await reader.readline()
            except TimeoutError:
                if not self.ready and loop.time() >= deadline:
                    continue
                if pinged:
                    raise SessionError(f"no answer to PING within {timeouts.pong_timeout:g} s:"
                                       " the link is dead") from None
                await self._send("PING :govbot-keepalive")
                pinged = True
                continue
            except ValueError:  # longer than the reader's limit; the rest was discarded
                log.warning("irc: ignored an over-long line from the server")
                continue
            if not raw:
                raise SessionError("the server closed the connection")
            pinged = False  # any line proves the link is alive
            message = parse_line(raw)
            if message is not None:
                await self.on_raw(message)
            if self._fatal is not None:
                raise self._fatal

    async def close(self, quit_message: str | None = None, timeout: float = 2.0) -> None:
        """QUIT (when registered) and wait briefly for the server to close, then close."""
        connection = self.connection
        if connection is not None and connection.connected:
            writer, reader = connection.writer, connection.reader
            if quit_message is not None and self.registered:
                with contextlib.suppress(OSError, TimeoutError, ConnectionError, SessionError):
                    async with asyncio.timeout(timeout):
                        await self._send(f"QUIT :{quit_message}")
                        await _read_until_eof(reader)  # the server closes after QUIT
            writer.close()
            with contextlib.suppress(OSError, TimeoutError, ConnectionError):
                async with asyncio.timeout(timeout):
                    await writer.wait_closed()
            connection.reader = connection.writer = None
        self._reset_attributes()

    async def _send(self, input: Any) -> None:
        line = input.decode("utf-8", "replace") if isinstance(input, bytes) else str(input)
        line = line.removesuffix("\r\n")
        if any(ch in line for ch in "\r\n\0"):
            raise ValueError(f"refusing to send a line containing CR, LF or NUL: "
                             f"{redact(line)[:80]!r}")
        connection = self.connection
        if connection is None or not connection.connected:
            raise ConnectionError("not connected")
        log.debug(">> %s", redact(line))
        writer: asyncio.StreamWriter = connection.writer
        writer.write(line.encode("utf-8") + b"\r\n")
        try:
            async with asyncio.timeout(self._send_timeout):
                await writer.drain()  # waits only when the kernel's buffer is full
        except TimeoutError:
            raise SessionError(f"the server accepted nothing for {self._send_timeout:g} s"
                               ) from None

    async def send_line(self, line: str) -> None:
        await self._send(line)

    # --- pydle callbacks we take over ---------------------------------------------

    async def on_connect(self) -> None:
        # End of MOTD (376) or no MOTD (422): registration and login are complete.
        if not self.ready:
            self.ready = True
            self.listener.irc_ready()

    async def on_disconnect(self, expected: bool) -> None:
        pass  # the service decides about reconnecting

    async def on_unknown(self, message: Any) -> None:
        log.debug("irc: unhandled %s %s", message.command, message.params)

    async def _create_user(self, nickname: str) -> None:
        # pydle 1.2 awaits _create_user in _sync_user, but its base versions are plain
        # functions; this makes any remaining pydle path that syncs users work.
        super()._create_user(nickname)

    async def _ignore(self, message: Any) -> None:
        pass

    # pydle's handlers for these create user records that are never removed (or look
    # up channels in its own tables, which we do not keep): not needed here.
    # (MODE, TOPIC and 332 are ChannelState's.)
    on_raw_invite = on_raw_chghost = on_raw_away = _ignore
    on_raw_301 = on_raw_311 = on_raw_312 = on_raw_313 = on_raw_314 = on_raw_317 = _ignore
    on_raw_319 = on_raw_324 = on_raw_329 = on_raw_333 = on_raw_354 = _ignore
    on_raw_906 = on_raw_908 = _ignore

    # --- capabilities and SASL ------------------------------------------------------

    async def on_raw_cap_ls(self, params: list[str]) -> None:
        # CAP LS 302 may span lines ("* LS * :caps" ... "* LS :caps"); pydle reads only
        # the first. Collect them, then let pydle request the ones we want.
        if len(params) > 1 and params[0] == "*":
            self._cap_ls.extend(params[1].split())
            return
        offered = [*self._cap_ls, *(params[0].split() if params else [])]
        self._cap_ls = []
        wanted = [c for c in offered
                  if c.lstrip("-~=").split("=", 1)[0].lower() in self.wanted_caps]
        await super().on_raw_cap_ls([" ".join(wanted)])

    async def on_capability_server_time_available(self, value: str | None) -> bool:
        return True

    async def on_capability_batch_available(self, value: str | None) -> bool:
        return True  # history played back on join comes in a batch (see on_raw_batch)

    async def on_capability_draft_chathistory_available(self, value: str | None) -> bool:
        return True  # the service asks for a channel's latest lines after joining it

    async def on_capability_sasl_available(self, value: str | None) -> bool:
        self.sasl_offered = True
        return bool(await super().on_capability_sasl_available(value))

    async def on_capability_sasl_enabled(self) -> Any:
        offered = self._sasl_mechanisms
        if self.sasl_mechanism and offered and self.sasl_mechanism not in offered:
            # pydle 1.2 returns the misspelt `cap.failed` here and crashes the handler.
            self._fatal = SessionError(
                f"the server offers SASL {','.join(offered)} but not {self.sasl_mechanism}",
                auth=True)
            return cap.NEGOTIATING  # hold registration: the session ends on this line
        return await super().on_capability_sasl_enabled()

    async def on_raw_900(self, message: Any) -> None:
        # RPL_LOGGEDIN: <me> <nick!user@host> <account> :You are now logged in as ...
        if len(message.params) >= 3:
            self.own_prefix = message.params[1] or self.own_prefix
            self.account = message.params[2]
            self.logged_in.set()

    async def on_raw_901(self, message: Any) -> None:
        self.account = None  # RPL_LOGGEDOUT

    async def _sasl_failed(self, message: Any) -> None:
        if self._sasl_timer is not None:
            self._sasl_timer.cancel()
            self._sasl_timer = None
        who = f" as {self.sasl_username!r}" if self.sasl_username else ""
        text = message.params[-1] if message.params else ""
        self._fatal = SessionError(
            f"SASL {self.sasl_mechanism or ''} login{who} failed: "
            f"{str(message.command).zfill(3)} {text}".replace("  ", " "), auth=True)

    on_raw_902 = on_raw_904 = on_raw_905 = _sasl_failed

    async def on_raw_error(self, message: Any) -> None:
        text = " ".join(message.params) or "no reason given"
        self._fatal = SessionError(f"the server closed the link: {text}")

    async def on_raw_kill(self, message: Any) -> None:
        if message.params and self.is_same_nick(message.params[0], self.nickname):
            by, _ = self._parse_user(message.source)
            reason = message.params[1] if len(message.params) > 1 else ""
            self._fatal = SessionError(f"killed by {by}: {reason}")

    async def on_raw_437(self, message: Any) -> None:
        # "Nick temporarily unavailable" (nick delay): same as in use, before welcome.
        await self.on_raw_433(message)

    async def _refused(self, message: Any) -> None:
        # The server refused something we sent: say what, so an operator can fix it
        # (invite-only or banned channel, +n/+m channel, topic locked to operators).
        what = {"404": "cannot send to", "482": "not allowed to set the topic of"}.get(
            str(message.command).zfill(3), "cannot join")
        target = message.params[1] if len(message.params) > 1 else "?"
        reason = message.params[-1] if len(message.params) > 2 else ""
        log.warning("irc: %s %s: %s (%s)", what, target, reason, message.command)
        self.listener.irc_refused(str(message.command).zfill(3), target, reason)
        if str(message.command).zfill(3) == "482" and self.is_channel(target):
            self.listener.irc_topic_refused(target, reason)  # the only op command we send

    on_raw_403 = on_raw_404 = on_raw_405 = on_raw_471 = on_raw_473 = on_raw_474 = _refused
    on_raw_475 = on_raw_477 = on_raw_482 = _refused

    async def on_raw_396(self, message: Any) -> None:
        # RPL_HOSTHIDDEN: our host changed (a cloak after login).
        if len(message.params) >= 2 and self.own_prefix and "@" in self.own_prefix:
            self.own_prefix = self.own_prefix.split("@", 1)[0] + "@" + message.params[1]

    # --- messages -------------------------------------------------------------------

    async def on_raw_privmsg(self, message: Any) -> None:
        self._text(message, notice=False)

    async def on_raw_notice(self, message: Any) -> None:
        self._text(message, notice=True)

    def _text(self, message: Any, *, notice: bool) -> None:
        source = message.source or ""
        if "!" not in source or len(message.params) < 2:
            return  # server notices ("*** Looking up your hostname") are not chat
        nick = source.split("!", 1)[0]
        if self.is_same_nick(nick, self.nickname):
            return
        target, text = message.params[0], message.params[-1]
        action = False
        if text.startswith("\x01"):
            verb, _, rest = text.strip("\x01").partition(" ")
            if notice or verb.upper() != "ACTION":
                return  # CTCP requests and replies are not conversation
            text, action = rest, True
        tags = tags_of(message)
        # "@#chan" addresses only the channel's ops: still that channel's conversation.
        bare = target.lstrip("".join(self._status_message_prefixes))
        channel = bare if self.is_channel(bare) else None
        resolve = False
        account: str | None
        batch = self.batch_type(tags)
        history = batch in HISTORY_BATCHES
        if history and tags.get("account"):
            account = tags["account"]  # what it was then; nothing learnt about now
        elif history:
            # No tag on a played-back line is no proof of "not logged in" (InspIRCd's +H
            # and ZNC replay without it): the nick's account now, as for a server
            # without account-tag.
            known, account = self.accounts.lookup(nick, max_age=self.account_max_age(nick))
            resolve = not known and not notice
        elif self._capabilities.get("account-tag"):
            # The tag is authoritative for this very line; no tag means not logged in.
            account = tags.get("account") or None
            self.accounts.learn(nick, account)
        else:
            known, account = self.accounts.lookup(nick, max_age=self.account_max_age(nick))
            resolve = not known and not notice
        self.listener.irc_event(IrcMessage(
            target=target, channel=channel, nick=nick, account=account, text=text, tags=tags,
            time=event_time(tags), notice=notice, action=action,
            msgid=tags.get("msgid") or None, history=history,
            bouncer=batch == "znc.in/playback", host=source.partition("@")[2] or None), resolve)

def parse_line(raw: bytes) -> Any | None:
    """Decode leniently (invalid UTF-8 becomes U+FFFD) and parse; None when unusable."""
    text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
    if not text.strip():
        return None
    try:
        return TaggedMessage.parse((text + "\r\n").encode("utf-8"), encoding="utf-8")
    except (ProtocolViolation, ValueError, IndexError):
        log.warning("irc: ignored an unparsable line: %.200r", text)
        return None


def _username(nick: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", nick).lower()[:10] or "govbot"


async def _read_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(4096):
        pass
