"""Gerrit's SSH command surface, served by asyncssh: ``gerrit stream-events [-s TYPE ...]``
and ``gerrit version``; anything else fails like Gerrit (``fatal: ...`` on stderr, exit 1).

Each stream has a bounded buffer, like Gerrit's per-session queue: a reader that does not
keep up loses events, and is told so by a ``dropped-output`` event once there is room
again. Nothing a slow client does can block the emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections import deque
from collections.abc import Callable

import asyncssh

from govbot.testing.gerrit.core import GerritCore
from govbot.testing.gerrit.events import Event, dumps, to_legacy

log = logging.getLogger(__name__)


class StreamSession:
    """One ``gerrit stream-events`` channel: a bounded queue of JSON lines and a writer."""

    def __init__(self, process: asyncssh.SSHServerProcess[str], types: set[str],
                 capacity: int, serialize: Callable[[Event], str],
                 dropped_line: Callable[[], str], visible: Callable[[Event], bool]) -> None:
        self.process = process
        self.visible = visible
        self.types = types
        self.capacity = capacity
        self.serialize = serialize
        self.dropped_line = dropped_line
        self.queue: deque[str] = deque()
        self.dropped = False
        self.dropped_count = 0
        self._wakeup = asyncio.Event()

    def offer(self, event: Event) -> None:
        """Called synchronously by the bus for each event; never blocks."""
        if (self.types and event["type"] not in self.types) or not self.visible(event):
            return
        if self.dropped:
            if len(self.queue) >= self.capacity:
                self.dropped_count += 1
                return
            self.queue.append(self.dropped_line())
            self.dropped = False
        if len(self.queue) >= self.capacity:
            self.dropped = True
            self.dropped_count += 1
            return
        self.queue.append(self.serialize(event))
        self._wakeup.set()

    def offer_line(self, line: str) -> None:
        """A raw line, whatever it holds (tests of garbage and huge lines)."""
        self.queue.append(line)
        self._wakeup.set()

    async def run(self) -> None:
        stdout = self.process.stdout
        while True:
            while self.queue:
                stdout.write(self.queue.popleft() + "\n")
                await stdout.drain()
            if self.dropped:  # the backlog is gone: say that events were lost
                self.dropped = False
                self.queue.append(self.dropped_line())
                continue
            self._wakeup.clear()
            await self._wakeup.wait()


class _ConnectionHandler(asyncssh.SSHServer):
    def __init__(self, server: GerritSshServer) -> None:
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        if self.server.refusing():
            # Like a server that is down or restarting: the TCP connection is cut at once.
            conn.abort()
            return
        self.server.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.server.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        acc = self.server.core.find_account(username)
        if acc is None or acc.username != username:
            return False
        offered = key.export_public_key("openssh").decode().split()[:2]
        return any(k.split()[:2] == offered for k in acc.ssh_keys)


class GerritSshServer:
    def __init__(self, core: GerritCore, *, host: str, version: str, stream_buffer: int,
                 refusing: Callable[[], bool]) -> None:
        self.core = core
        self.host = host
        self.version = version
        self.stream_buffer = stream_buffer
        self.refusing = refusing
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.sessions: set[StreamSession] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._last: tuple[Event | None, str] = (None, "")
        self._session_ended = asyncio.Event()

    async def start(self) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: _ConnectionHandler(self), self.host, 0, server_host_keys=[self.host_key],
            process_factory=self._handle, encoding="utf-8", keepalive_interval=0)
        self.port = self._acceptor.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for conn in list(self.connections):
            conn.abort()
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        # Let the stream handlers see their connection gone and unsubscribe, so no task
        # outlives the emulator.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while self.sessions:
                    self._session_ended.clear()
                    await self._session_ended.wait()

    def drop_connections(self, *, streams_only: bool = True) -> int:
        """Cut connections abruptly (no SSH disconnect), as a network failure would."""
        targets = ({s.process.get_extra_info("connection") for s in self.sessions}
                   if streams_only else set(self.connections))
        for conn in targets:
            conn.abort()
        return len(targets)

    def send_raw_line(self, line: str) -> int:
        for session in self.sessions:
            session.offer_line(line)
        return len(self.sessions)

    @property
    def known_hosts_line(self) -> str:
        key = self.host_key.export_public_key("openssh").decode().strip()
        return f"[{self.host}]:{self.port} {key}"

    def _serialize(self, event: Event) -> str:
        # All sessions receive the same dict in a row: serialize it once.
        if self._last[0] is event:
            return self._last[1]
        line = dumps(to_legacy(event) if self.core.settings.legacy_events else event)
        self._last = (event, line)
        return line

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        command = process.command or ""
        try:
            argv = shlex.split(command)
        except ValueError:
            argv = command.split()
        try:
            if len(argv) >= 2 and argv[0] == "gerrit" and argv[1] == "version":
                process.stdout.write(f"gerrit version {self.version}\n")
                process.exit(0)
            elif len(argv) >= 2 and argv[0] == "gerrit" and argv[1] == "stream-events":
                await self._stream(process, argv[2:])
            elif len(argv) >= 2 and argv[0] == "gerrit":
                self._fail(process, f"fatal: gerrit: {argv[1]}: not found")
            elif not argv:
                self._fail(process, "fatal: gerrit: no command given (interactive shells are "
                           "not supported)")
            else:
                self._fail(process, f"fatal: {argv[0]}: not found")
        except (BrokenPipeError, ConnectionError, asyncssh.Error):
            log.debug("ssh session ended: %s", command)

    @staticmethod
    def _fail(process: asyncssh.SSHServerProcess[str], message: str) -> None:
        process.stderr.write(message + "\n")
        process.exit(1)

    async def _stream(self, process: asyncssh.SSHServerProcess[str], args: list[str]) -> None:
        types: set[str] = set()
        it = iter(args)
        for arg in it:
            if arg in ("-s", "--subscribe"):
                value = next(it, None)
                if value is None:
                    self._fail(process, f'fatal: Option "{arg}" takes an operand')
                    return
                types.add(value)
            elif arg.startswith("--subscribe="):
                types.add(arg.split("=", 1)[1])
            else:
                self._fail(process, f'fatal: "{arg}" is not a valid option')
                return
        account = self.core.find_account(process.get_extra_info("username") or "")
        account_id = account.account_id if account else None

        def visible(event: Event) -> bool:
            # Gerrit streams change events only to users who can see the change (private).
            number = event.get("change", {}).get("number") if "change" in event else None
            change = self.core.changes.get(number) if isinstance(number, int) else None
            return change is None or self.core.visible(change, account_id)

        session = StreamSession(process, types, self.stream_buffer, self._serialize,
                                lambda: dumps(self.core.factory.dropped_output()), visible)
        self.sessions.add(session)
        unsubscribe = self.core.bus.subscribe(session.offer)
        self.core.bus.notify()  # lets tests wait for "a stream is connected"
        writer = asyncio.create_task(session.run())
        closed = asyncio.create_task(process.wait_closed())
        try:
            await asyncio.wait({writer, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            unsubscribe()
            self.sessions.discard(session)
            self._session_ended.set()
            self.core.bus.notify()  # lets tests wait for "the stream is gone"
            for task in (writer, closed):
                task.cancel()
            results = await asyncio.gather(writer, closed, return_exceptions=True)
            log.debug("stream-events session closed: %s", results)
            with contextlib.suppress(Exception):
                process.exit(0)
