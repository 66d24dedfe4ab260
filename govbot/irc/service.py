"""The IRC service: one connection kept alive, a paced send queue, events for plugins.

    async with IrcService(settings.irc, submit=dispatcher.submit, channels=wanted) as irc:
        task = asyncio.create_task(irc.run())      # connect, reconnect, forever
        reporters.append(irc.reporter)             # Say / Notice / SetTopic
        ...
        await irc.drain(timeout=10)                # on shutdown, after the dispatcher
        task.cancel()                              # QUITs politely

Every PRIVMSG/NOTICE becomes an `IrcMessage` (or, when it is a command, the one
`CommandEvent` for that line: `commands.event_of`), joins/parts/nick changes become
`IrcJoin`/`IrcPart`/`IrcNickChange`; each is submitted as `Envelope(id, event, lane)`
in the order the server sent them. See docs/irc.md for the behaviour in detail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType

from govbot.backoff import backoff
from govbot.commands import CommandRouter
from govbot.dispatcher import Envelope
from govbot.health import PartStatus, Readiness
from govbot.irc.client import IrcClient, SaslCredentials, SessionError, Timeouts
from govbot.irc.duties import ChannelDuties
from govbot.irc.events import IrcEvent, IrcJoin, IrcMessage
from govbot.irc.inbound import Inbound
from govbot.irc.reporter import IrcReporter
from govbot.irc.sending import (
    Lane,
    Outgoing,
    QueueStats,
    SendQueue,
    TokenBucket,
    split_text,
    text_budget,
)
from govbot.settings import IrcSettings, SettingsError

log = logging.getLogger(__name__)

# A target is one channel or nick: no spaces, commas or control characters, so a
# plugin's text can never smuggle a second command or recipient.
_TARGET = re.compile(r"^[^\s,:\x00-\x1f][^\s,\x00-\x1f]*$")


@dataclass(frozen=True, slots=True)
class IrcTuning:
    """Knobs below the operator's settings; the defaults suit Libera and OFTC."""

    connect_timeout: float = 15.0
    registration_timeout: float = 30.0  # CAP + SASL + welcome
    ping_interval: float = 60.0  # silence before we PING the server
    pong_timeout: float = 30.0  # no line at all this long after our PING: link is dead
    send_timeout: float = 30.0
    reconnect_min: float = 2.0  # backoff: min * 2**n, capped, with jitter
    reconnect_max: float = 300.0
    stable_after: float = 60.0  # connected this long: the next failure starts afresh
    auth_retry_min: float = 120.0  # after a refused login, never retry sooner
    whois_timeout: float = 5.0
    identify_timeout: float = 10.0
    maintenance_interval: float = 30.0  # regain the nick, join channels added to the config
    quit_timeout: float = 2.0
    quit_message: str = "govbot stopping"
    droppable: bool = False  # drop (and count) messages while disconnected
    max_queued: int = 2000
    inbound_max: int = 10_000  # events waiting for the dispatcher; more: reading pauses
    disabled_caps: tuple[str, ...] = ()  # e.g. ("account-tag",) for a buggy network
    batch_window: float = 2.0  # announcements about one change within this window: one line


@dataclass(slots=True)
class IrcStats:
    queue: QueueStats = field(default_factory=QueueStats)
    connects: int = 0  # connection attempts
    reconnects: int = 0  # attempts after a failure or disconnect
    received: int = 0  # events read from the server
    inbound_dropped: int = 0  # always 0 since reading pauses instead (kept for dashboards)
    inbound_paused: int = 0  # times reading paused because the events queue was full
    last_error: str = ""

    @property
    def sent(self) -> int:
        return self.queue.sent_messages

    @property
    def dropped(self) -> int:
        return self.queue.dropped




class IrcService(ChannelDuties):
    def __init__(self, settings: IrcSettings, *,
                 submit: Callable[[Envelope], Awaitable[None]],
                 channels: Callable[[], Iterable[str]] = tuple,
                 tuning: IrcTuning | None = None,
                 commands: CommandRouter | None = None) -> None:
        self.settings = settings
        self._commands = commands  # None: no commands, every line is an IrcMessage
        self.tuning = tuning = tuning or IrcTuning()
        self._submit = submit
        self._channels = channels
        self.queue = SendQueue(droppable=tuning.droppable, max_queued=tuning.max_queued)
        self.bucket = TokenBucket(settings.rate.burst, settings.rate.per_second)
        self.stats = IrcStats(queue=self.queue.stats)
        sasl = settings.sasl
        self.client = IrcClient(
            nick=settings.nick, alt_nicks=settings.alt_nicks, realname=settings.realname,
            cert_file=sasl.cert_file if sasl else None, disabled_caps=tuning.disabled_caps,
            listener=self)
        self.reporter = IrcReporter(self, batch_window=tuning.batch_window)
        self.accepting = True  # False: received events are no longer submitted
        self._extra_channels: dict[str, str] = {}  # joined on demand (a Say to it)
        self._wanted: dict[str, str] = {}  # last wanted_channels(), refreshed on ticks
        self._joining: set[str] = set()
        self._topic_warned: set[str] = set()  # channels told it cannot set topics (duties.py)
        self._ready = asyncio.Event()
        self._ready_at = 0.0
        self._inbound = Inbound(tuning.inbound_max)  # full: reading pauses (inbound.py)
        self._run_task: asyncio.Task[None] | None = None
        #: Registered with every wanted channel joined; refused logins and channels
        #: are its permanent faults (see govbot.health).
        self.health = Readiness("irc", reason="connecting")

    # --- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> IrcService:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        task = self._run_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.client.close(self.tuning.quit_message, self.tuning.quit_timeout)

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def readiness(self) -> PartStatus:
        self._update_readiness()  # a kick or part since the last event shows too
        return self.health.status()

    @property
    def faults(self) -> Counter[str]:
        """Permanent faults seen (refused logins, refused channels), by kind."""
        return self.health.faults

    def _update_readiness(self) -> None:
        if not self.connected:
            return  # the reason was set where the session ended
        missing = [name for name in self.wanted_channels().values()
                   if not self.client.in_channel(name)]
        self.health.set(not missing, "not in " + ", ".join(sorted(missing)))
        if not missing:
            self.health.clear_fault()  # a refused channel let the bot in since

    @property
    def nick(self) -> str:
        return str(self.client.nickname)

    @property
    def account(self) -> str | None:
        return self.client.account if self.connected else None

    async def wait_connected(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    async def drain(self, timeout: float) -> bool:
        """Wait (bounded) until everything queued was sent; False if time ran out."""
        try:
            async with asyncio.timeout(timeout):
                await self.queue.wait_empty()
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Connect and stay connected until cancelled; never returns otherwise."""
        self._run_task = asyncio.current_task()
        consumer = asyncio.create_task(self._consume(), name="irc-inbound")
        loop = asyncio.get_running_loop()
        failures = 0
        try:
            while True:
                self.stats.connects += 1
                self._ready_at = 0.0
                auth = False
                try:
                    await self._session()
                except SessionError as exc:
                    reason, auth = exc.reason, exc.auth
                except (OSError, TimeoutError, ConnectionError) as exc:
                    reason = _describe(exc)
                except Exception as exc:  # a bug must not end the bot's IRC presence
                    log.exception("irc: unexpected error in the connection")
                    reason = _describe(exc)
                if self._ready_at and loop.time() - self._ready_at >= self.tuning.stable_after:
                    failures = 0
                failures += 1
                delay = backoff(failures, self.tuning.reconnect_min, self.tuning.reconnect_max)
                self.health.set(False, f"disconnected: {reason}")
                if auth:
                    delay = max(delay, self.tuning.auth_retry_min)
                    self.health.set_fault(
                        "auth", f"{reason}; fix the credentials in the settings "
                        f"(retrying in {delay:.0f} s)")
                else:
                    log.warning("irc: disconnected from %s:%d: %s; reconnecting in %.1f s",
                                self.settings.host, self.settings.port, reason, delay)
                self.stats.last_error = reason
                self.stats.reconnects += 1
                await asyncio.sleep(delay)
        finally:
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)

    async def _session(self) -> None:
        s, t = self.settings, self.tuning
        sasl = self._sasl_credentials()
        try:
            password = s.password.resolve("irc.password") or None
        except SettingsError as problem:
            raise SessionError(str(problem), auth=True) from None
        timeouts = Timeouts(connect=t.connect_timeout, registration=t.registration_timeout,
                            ping_interval=t.ping_interval, pong_timeout=t.pong_timeout,
                            send=t.send_timeout)
        self._joining.clear()
        serve = asyncio.create_task(
            self.client.serve(s.host, s.port, tls=s.tls, tls_verify=s.tls_verify, sasl=sasl,
                              timeouts=timeouts, password=password), name="irc-read")
        helper = asyncio.create_task(self._while_connected(), name="irc-send")
        quit_message = None
        try:
            await asyncio.wait({serve, helper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (serve, helper):
                if task.done() and (exc := task.exception()) is not None:
                    while isinstance(exc, BaseExceptionGroup):
                        exc = exc.exceptions[0]
                    raise exc
            raise SessionError("the connection ended")  # unreachable: both only raise
        except asyncio.CancelledError:
            quit_message = t.quit_message
            raise
        finally:
            self._ready.clear()
            self.health.set(False, "disconnected")  # the reason follows from run()
            self.queue.set_online(False)
            for task in (serve, helper):
                task.cancel()
            await asyncio.gather(serve, helper, return_exceptions=True)
            await self.client.close(quit_message, t.quit_timeout)

    def _sasl_credentials(self) -> SaslCredentials | None:
        sasl = self.settings.sasl
        if sasl is None:
            return None
        if sasl.mechanism == "EXTERNAL":
            return SaslCredentials("EXTERNAL", sasl.username)
        try:
            password = sasl.password.resolve("irc.sasl.password")
        except SettingsError as exc:
            raise SessionError(str(exc), auth=True) from None
        if not password:
            raise SessionError("irc.sasl.password is not set (needed for SASL PLAIN)",
                               auth=True)
        return SaslCredentials("PLAIN", sasl.username or self.settings.nick, password)

    # --- while connected ----------------------------------------------------------------

    async def _while_connected(self) -> None:
        await self._ready.wait()  # client.serve enforces the registration deadline
        self._ready_at = asyncio.get_running_loop().time()
        client = self.client
        log.info("irc: connected to %s:%d as %s%s (capabilities: %s)", self.settings.host,
                 self.settings.port, client.nickname,
                 f", logged in as {client.account}" if client.account else "",
                 " ".join(sorted(client.capabilities)) or "none")
        # Session commands first (IDENTIFY, JOINs), then the messages that waited.
        self.queue.open_control()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._send_loop(), name="irc-sender")
            group.create_task(self._maintain(), name="irc-maintenance")

    async def _maintain(self) -> None:
        await self._identify()
        self._join_wanted()
        self.queue.set_online(True)  # the JOINs are ahead of every message in the queue
        self._update_readiness()
        while True:
            await asyncio.sleep(self.tuning.maintenance_interval)
            self.irc_nick_free()  # regain the configured nick if someone held it
            self._joining.clear()  # retry joins that failed (ban lifted, invite, ...)
            self._join_wanted()

    async def _identify(self) -> None:
        """NickServ IDENTIFY, when SASL did not log us in (not configured or not offered)."""
        client = self.client
        if client.account:
            return
        s = self.settings
        try:
            password = s.nickserv_password.resolve("irc.nickserv_password")
            if not password and s.sasl and s.sasl.mechanism == "PLAIN":
                password = s.sasl.password.resolve("irc.sasl.password")
        except SettingsError as exc:
            log.error("irc: cannot identify to NickServ: %s", exc)
            return
        if s.sasl and not client.sasl_offered:
            log.warning("irc: the server does not offer SASL%s", "; identifying to NickServ"
                        if password else " and no NickServ password is set: not logged in")
        if not password:
            return
        account = (s.sasl.username if s.sasl else None) or s.nick
        # "IDENTIFY <password>" works everywhere for the nick in use; naming the account
        # is Atheme/Anope syntax, needed only when we hold a different nick.
        text = (f"IDENTIFY {password}" if client.is_same_nick(account, client.nickname)
                else f"IDENTIFY {account} {password}")
        self.queue.put(Outgoing("PRIVMSG", "NickServ", text, Lane.CONTROL, split=False))
        try:
            async with asyncio.timeout(self.tuning.identify_timeout):
                await client.logged_in.wait()
        except TimeoutError:
            log.warning("irc: NickServ did not confirm the login within %.0f s",
                        self.tuning.identify_timeout)

    def wanted_channels(self) -> dict[str, str]:
        """Channels to be in: the settings', the config's (`channels()`), on-demand ones."""
        names = list(self.settings.channels)
        try:
            names += list(self._channels())
        except Exception:
            log.exception("irc: could not list the configured channels")
        wanted = {self.client._fold(n): n for n in names if self.client.is_channel(n)}
        return {**wanted, **self._extra_channels}

    def _join_wanted(self) -> None:
        # Evaluated at connect and on every maintenance tick, so channels added to the
        # governance config are joined without a restart. (Removed ones are not left.)
        self._wanted = self.wanted_channels()
        missing = [name for key, name in self._wanted.items()
                   if not self.client.in_channel(name) and key not in self._joining]
        batch: list[str] = []
        for name in missing:  # several channels per JOIN line, within the line limit
            if batch and len(",".join([*batch, name])) > 400:
                self._send_join(batch)
                batch = []
            batch.append(name)
        if batch:
            self._send_join(batch)

    def _send_join(self, channels: list[str]) -> None:
        if self.queue.put(Outgoing("JOIN", ",".join(channels), None, Lane.CONTROL)):
            self._joining.update(self.client._fold(c) for c in channels)

    def ensure_joined(self, channel: str) -> None:
        client = self.client
        if not client.is_channel(channel):
            return
        key = client._fold(channel)
        if key not in self._wanted and key not in self._extra_channels:
            self._extra_channels[key] = channel
        if self.queue.control_open and not client.in_channel(channel) \
                and key not in self._joining:
            self._send_join([channel])

    async def _send_loop(self) -> None:
        client, queue = self.client, self.queue
        while True:
            await queue.wait_sendable()
            await self.bucket.acquire()
            taken = queue.next_line(self._render)
            if taken is None:
                continue
            line, lane = taken
            try:
                await client.send_line(line)
            except BaseException:
                queue.push_back(line, lane)
                raise

    def _render(self, item: Outgoing) -> list[str]:
        client = self.client
        if item.command == "RAW":
            return [item.text or ""]
        if item.text is None:
            return [f"{item.command} {item.target}"]
        if not item.split and item.command != "TOPIC":
            return [f"{item.command} {item.target} :{item.text}"]
        budget = text_budget(item.command, item.target, nick=client.nickname,
                             username=client.username, own_prefix=client.own_prefix,
                             nick_limit=client.nick_limit)
        if item.command == "TOPIC":
            budget = min(budget, client._topic_length_limit or budget)
            pieces = split_text(item.text, budget)
            return [f"TOPIC {item.target} :{pieces[0] if pieces else ''}"]
        return [f"{item.command} {item.target} :{p}" for p in split_text(item.text, budget)]

    # --- what reporters call ------------------------------------------------------------

    def say(self, target: str, text: str, *, priority: bool = False) -> bool:
        return self._message("PRIVMSG", target, text, priority)

    def notice(self, target: str, text: str, *, priority: bool = False) -> bool:
        return self._message("NOTICE", target, text, priority)

    def set_topic(self, channel: str, topic: str) -> bool:
        if not _TARGET.match(channel) or not self.client.is_channel(channel):
            log.error("irc: not a channel for a topic: %r", channel)
            return False
        self.ensure_joined(channel)
        return self.queue.put(Outgoing("TOPIC", channel, topic, Lane.PRIORITY))

    def _message(self, command: str, target: str, text: str, priority: bool) -> bool:
        if not _TARGET.match(target):
            log.error("irc: refusing to send to an invalid target %r", target)
            return False
        self.ensure_joined(target)
        lane = Lane.PRIORITY if priority else Lane.BULK
        return self.queue.put(Outgoing(command, target, text, lane))

    # --- what the client tells us (ClientListener) ----------------------------------------

    def irc_ready(self) -> None:
        self._ready.set()

    def irc_refused(self, code: str, target: str, reason: str) -> None:
        if code in ("471", "473", "474", "475", "477"):
            self._joining.discard(self.client._fold(target))
            self.health.set_fault(
                "channel", f"{target} refuses the bot ({reason or code}); invite it, lift "
                "the ban or limit, or give it the channel key or a registered account")

    def irc_nick_free(self) -> None:
        client = self.client
        if self.queue.control_open and not client.is_same_nick(client.nickname,
                                                               client.main_nick):
            self.queue.put(Outgoing("NICK", client.main_nick, None, Lane.CONTROL))

    def irc_event(self, event: IrcEvent, resolve_account: bool) -> None:
        self.stats.received += 1
        if isinstance(event, IrcJoin) and self.client.is_same_nick(event.nick,
                                                                   self.client.nickname):
            self._joining.discard(self.client._fold(event.channel))
            self._update_readiness()
        if not self.accepting:
            return
        self._inbound.put(event, resolve_account)

    async def irc_room(self) -> None:
        if self._inbound.full():
            self.stats.inbound_paused += 1
        await self._inbound.room()

    async def _consume(self) -> None:
        while True:
            event, resolve = await self._inbound.get()
            try:
                if resolve and isinstance(event, IrcMessage):
                    event = dataclasses.replace(event, account=await self.account_of(event.nick))
                # A line played back from history is no command to run now (a `!cmd`
                # said an hour ago): it goes out as the IrcMessage it is.
                line = (self._commands.event_of(event, self.nick)
                        if self._commands is not None and isinstance(event, IrcMessage)
                        and not event.history else event)
                await self._submit(Envelope(line.id, line, line.lane))
            except Exception:
                log.exception("irc: could not submit event %s", event.id)

    async def account_of(self, nick: str) -> str | None:
        """The services account `nick` is logged in to now (cache, else WHOIS), or None."""
        client = self.client
        known, account = client.accounts.lookup(nick, max_age=client.account_max_age(nick))
        if known or not self.queue.control_open:
            return account
        future, send = client.whois_waiter(nick)
        if send and not self.queue.put(Outgoing("WHOIS", nick, None, Lane.CONTROL)):
            client.whois_abandon(nick)
        # The answer is a line to read: a paused reader reads on until it came (the
        # queue may grow past its bound meanwhile, by at most whois_timeout of lines).
        try:
            # Shielded: a caller giving up must not cancel the answer for the others.
            with self._inbound.whois():
                async with asyncio.timeout(self.tuning.whois_timeout):
                    return await asyncio.shield(future)
        except TimeoutError:
            client.whois_abandon(nick)
            log.warning("irc: no WHOIS answer for %s within %.0f s; treating as not logged in",
                        nick, self.tuning.whois_timeout)
            return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, SessionError) else text
