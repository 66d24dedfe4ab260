"""`gerrit stream-events` over SSH: keepalive, reconnect, coverage, catch-up.

The source owns its reconnection (nothing above it knows a socket went away):
a loop connects with asyncssh (keepalives on, so a half-dead link is noticed),
runs `gerrit stream-events`, and hands lines to the intake in small batches as
fast as they come, because Gerrit drops output for slow readers. Lines are read
whole up to `max_line` bytes (Gerrit events can be many MiB); a longer line is
counted and dropped, never split. On any disconnect it waits (exponential
backoff with jitter) and reconnects. What a session cannot have delivered (the
time since the newest event seen, a `dropped-output`) is recorded as a gap in
the coverage (`gerrit.coverage`) before the session reads anything, and the
catch-up reads it beside the live stream until it is read. Duplicates between
catch-up and live stream are dropped by the intake (semantic event ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import asyncssh

from govbot.backoff import backoff
from govbot.gerrit.coverage import CatchUp, Coverage, GapReader
from govbot.gerrit.health import STREAM_ERRORS, permanent_fault
from govbot.health import Readiness
from govbot.settings import GerritSsh

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[object]]
#: Bytes asked of the SSH channel per read.
CHUNK = 256 * 1024
#: Lines up to this many bytes are read whole (the `gerrit.ssh.max_line_bytes` default).
MAX_LINE = 64 * 1024 * 1024
#: Bytes read ahead of the intake at most (it may be waiting for a locked database):
#: past it the session stops reading, and TCP pushes back on Gerrit.
MAX_BUFFERED = 64 * 1024 * 1024

#: AES-GCM first: asyncssh's chacha20-poly1305 builds cipher contexts per packet in
#: Python and costs several times more CPU per event line; the rest as a fallback.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                     "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr")

class StreamSource:
    """Runs until cancelled; `connected` is set while the stream is up."""

    def __init__(self, ssh: GerritSsh, accept: Accept, reader: GapReader,
                 coverage: Coverage, *, pinned_host_keys: Path | None = None,
                 min_backoff: float = 1.0, max_backoff: float = 60.0,
                 catchup_min_delay: float = 1.0, catchup_max_delay: float = 60.0,
                 batch: int = 200, max_line: int = MAX_LINE,
                 max_buffered: int = MAX_BUFFERED) -> None:
        self.ssh = ssh
        self._accept = accept
        self.coverage = coverage
        self.catchup = CatchUp(coverage, reader, min_delay=catchup_min_delay,
                               max_delay=catchup_max_delay, on_change=self.refresh_health)
        self._pinned = pinned_host_keys
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._batch = batch
        self.max_line = max_line
        self.max_buffered = max_buffered
        self.buffer_full = 0  # times reading paused because the intake fell behind
        self.connected = asyncio.Event()
        self.connects = 0
        self.disconnects = 0
        self.lines_too_long = 0  # lines over `max_line`: counted, logged, dropped
        self.session_errors = 0  # sessions ended by something other than the network
        #: Connected and caught up (no gap of events left unread).
        self.health = Readiness("gerrit", reason="connecting")

    async def run(self) -> None:
        await self.coverage.restore()
        catchup = asyncio.create_task(self.catchup.run(), name="gerrit-catch-up")
        try:
            await self._reconnect_loop()
        finally:
            catchup.cancel()
            await asyncio.gather(catchup, return_exceptions=True)

    async def _reconnect_loop(self) -> None:
        failures = 0
        while True:
            failures += 1
            fault = None
            try:
                await self._session()
                failures = 1  # a session that ran resets the backoff
            except STREAM_ERRORS as exc:
                fault = permanent_fault(exc, self.ssh)
                if fault is not None:
                    self.health.set_fault(*fault)
                else:
                    log.warning("gerrit stream %s:%d: %s", self.ssh.host, self.ssh.port,
                                exc or type(exc).__name__)
                self.health.set(False, f"stream disconnected: {exc or type(exc).__name__}")
            except Exception as exc:
                # No input may stop the source: the coverage keeps what was not stored
                # (the newest second moves only after the intake took a batch).
                self.session_errors += 1
                log.exception("gerrit stream %s:%d: session failed", self.ssh.host,
                              self.ssh.port)
                self.health.set(False, f"stream session failed: {type(exc).__name__}")
            finally:
                self.coverage.end_session()
                if self.connected.is_set():
                    self.disconnects += 1
                    failures = 1  # it was connected (sessions end by raising): start afresh
                self.connected.clear()
            # A permanent fault is retried slowly: the operator may fix it meanwhile.
            wait = (self.max_backoff if fault is not None
                    else backoff(failures, self.min_backoff, self.max_backoff))
            log.info("gerrit stream: reconnecting in %.1f s", wait)
            await asyncio.sleep(wait)

    def _known_hosts(self) -> object:
        if self.ssh.known_hosts_file:
            return self.ssh.known_hosts_file
        if self._pinned is not None and self._pinned.exists():
            return str(self._pinned)
        return None  # first contact: accept, then pin (below)

    async def _session(self) -> None:
        conn = await asyncio.wait_for(asyncssh.connect(
            self.ssh.host, self.ssh.port, username=self.ssh.username,
            client_keys=[self.ssh.key_file], known_hosts=self._known_hosts(),
            keepalive_interval=self.ssh.keepalive_interval,
            keepalive_count_max=self.ssh.keepalive_count_max,
            connect_timeout=self.ssh.connect_timeout,
            encryption_algs=PREFERRED_CIPHERS,
        ), self.ssh.connect_timeout + 5)
        try:
            self._pin(conn)
            process = await conn.create_process("gerrit stream-events", encoding=None)
            # The gap is durable before the session can move the newest second on.
            await self.coverage.begin_session()
            self.connects += 1
            self.connected.set()
            self.health.clear_fault()
            log.info("gerrit stream connected to %s:%d", self.ssh.host, self.ssh.port)
            self.health.clear_fault()
            self.refresh_health()
            await self._pump(process)
            status = process.exit_status
            stderr = (await process.stderr.read()).decode(errors="replace").strip()
            raise OSError(f"stream-events ended (exit {status}) {stderr}".strip())
        finally:
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), 5)

    def _pin(self, conn: asyncssh.SSHClientConnection) -> None:
        if self.ssh.known_hosts_file or self._pinned is None or self._pinned.exists():
            return
        key = conn.get_server_host_key()
        if key is None:
            return
        host = (f"[{self.ssh.host}]:{self.ssh.port}" if self.ssh.port != 22
                else self.ssh.host)
        self._pinned.parent.mkdir(parents=True, exist_ok=True)
        self._pinned.write_bytes(host.encode() + b" " + key.export_public_key("openssh"))
        log.warning("gerrit stream: pinned host key of %s in %s (set "
                    "gerrit.ssh.known_hosts_file to check it instead)", host, self._pinned)

    async def _pump(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        """Read lines into a queue without waiting on their handling; hand over batches."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        buffered = 0  # bytes in the queue: bounded by `max_buffered`
        room = asyncio.Event()
        room.set()

        async def read() -> None:
            nonlocal buffered
            try:
                async for line in self._lines(process.stdout):
                    queue.put_nowait(line)
                    buffered += len(line)
                    if buffered >= self.max_buffered:
                        self.buffer_full += 1
                        room.clear()
                        await room.wait()
            finally:
                queue.put_nowait(None)

        def taken(lines: list[bytes]) -> None:
            nonlocal buffered
            buffered -= sum(len(line) for line in lines)
            if buffered < self.max_buffered:
                room.set()

        reader = asyncio.create_task(read())
        try:
            while True:
                first = await queue.get()
                if first is None:
                    break
                lines = [first]
                while len(lines) < self._batch and not queue.empty():
                    nxt = queue.get_nowait()
                    if nxt is None:
                        taken(lines)
                        await self._hand_over(lines)
                        return
                    lines.append(nxt)
                taken(lines)
                await self._hand_over(lines)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)  # never swallows our cancel
        reader.result()  # a read that failed ends the session with its error

    async def _lines(self, stdout: asyncssh.SSHReader[bytes]) -> AsyncIterator[bytes]:
        """Whole lines of any size up to `max_line`; longer ones are counted and skipped.

        asyncssh's own line reader splits lines at its buffer size, which would turn one
        big event into pieces; here a line's chunks are kept in a list (no quadratic
        copying) and joined once its end is seen.
        """
        parts: list[bytes] = []
        size = 0
        skipping = False
        head = b""
        while True:
            chunk = await stdout.read(CHUNK)
            if not chunk:
                return  # an unfinished last line is not an event
            pos = 0
            while True:
                nl = chunk.find(b"\n", pos)
                piece = chunk[pos:] if nl < 0 else chunk[pos:nl]
                if not skipping:
                    if size + len(piece) > self.max_line:
                        head = b"".join(parts)[:200] if parts else piece[:200]
                        parts, size, skipping = [], 0, True
                    else:
                        parts.append(piece)
                        size += len(piece)
                if nl < 0:
                    break
                if skipping:
                    self.lines_too_long += 1
                    log.warning("gerrit stream: dropped a line longer than %d bytes "
                                "(gerrit.ssh.max_line_bytes): %r...", self.max_line, head)
                    skipping = False
                elif size:
                    yield parts[0] if len(parts) == 1 else b"".join(parts)
                parts, size = [], 0
                pos = nl + 1

    async def _hand_over(self, lines: list[bytes]) -> None:
        await self.coverage.lines_arriving(lines)
        await self._accept("stream", lines)
        await self.coverage.lines_read(lines)
        self.refresh_health()  # a dropped-output opens a gap: not ready until it is read

    def refresh_health(self) -> None:
        """Ready while connected with no gap left to read; called when either changes."""
        if not self.connected.is_set():
            return  # the disconnect said why
        gaps = self.coverage.gaps
        if not gaps:
            self.health.set(True)
        else:
            oldest = min(g.start for g in gaps.values())
            self.health.set(False, f"catching up: {len(gaps)} gap(s) of events unread, "
                                   f"the oldest from {oldest}")
