"""`gerrit stream-events` over SSH: keepalive, reconnect, cursor, backfill.

The source owns its reconnection (nothing above it knows a socket went away):
a loop connects with asyncssh (keepalives on, so a half-dead link is noticed),
runs `gerrit stream-events`, and hands lines to the intake in small batches as
fast as they come, because Gerrit drops output for slow readers. On any
disconnect it waits (exponential backoff with jitter) and reconnects; after
each reconnect, and whenever Gerrit reports `dropped-output`, it backfills what
it may have missed since the persisted cursor (the newest `eventCreatedOn`
seen, minus a safety margin). Duplicates between backfill and live stream are
dropped by the intake, which recognises events by their semantic id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import asyncssh

from govbot.backoff import backoff
from govbot.gerrit.health import STREAM_ERRORS, permanent_fault
from govbot.health import Readiness
from govbot.settings import GerritSsh

log = logging.getLogger(__name__)

Accept = Callable[[str, Sequence[bytes]], Awaitable[object]]
Backfill = Callable[[int], Awaitable[int]]

_CREATED = re.compile(rb'"eventCreatedOn"\s*:\s*"?(\d+)')
#: AES-GCM first: asyncssh's chacha20-poly1305 builds cipher contexts per packet in
#: Python and costs several times more CPU per event line; the rest as a fallback.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                     "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr")

#: Events can be stamped a little out of order; backfill re-reads this far back.
CURSOR_MARGIN = 5


class Cursor:
    """The newest `eventCreatedOn` seen, persisted through the given callbacks."""

    def __init__(self, load: Callable[[], Awaitable[int]],
                 save: Callable[[int], Awaitable[None]]) -> None:
        self._load = load
        self._save = save
        self.value = 0
        self._saved = 0

    async def restore(self) -> int:
        self.value = self._saved = await self._load()
        return self.value

    def advance(self, lines: Sequence[bytes]) -> None:
        for line in lines:
            found = _CREATED.search(line)
            if found:
                self.value = max(self.value, int(found.group(1)))

    async def persist(self) -> None:
        if self.value != self._saved:
            await self._save(self.value)
            self._saved = self.value


class StreamSource:
    """Runs until cancelled; `connected` is set while the stream is up."""

    def __init__(self, ssh: GerritSsh, accept: Accept, backfill: Backfill, cursor: Cursor, *,
                 pinned_host_keys: Path | None = None, min_backoff: float = 1.0,
                 max_backoff: float = 60.0, batch: int = 200) -> None:
        self.ssh = ssh
        self._accept = accept
        self._backfill = backfill
        self.cursor = cursor
        self._pinned = pinned_host_keys
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._batch = batch
        self.connected = asyncio.Event()
        self.connects = 0
        self.disconnects = 0
        self.backfills = 0
        self.backfilled = asyncio.Event()  # set after each backfill (tests wait on it)
        self._backfilling: asyncio.Task[None] | None = None
        self._backfill_again: str | None = None
        #: Connected and caught up (no backfill running or failed since the connect).
        self.health = Readiness("gerrit", reason="connecting")

    async def run(self) -> None:
        await self.cursor.restore()
        try:
            await self._reconnect_loop()
        finally:
            await self.close()

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
            finally:
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
            self.connects += 1
            self.connected.set()
            self.health.clear_fault()
            log.info("gerrit stream connected to %s:%d", self.ssh.host, self.ssh.port)
            if self.cursor.value:
                self.health.set(False, "catching up after the reconnect")
                self._start_backfill("reconnect")
            else:
                self.health.set(True)
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

        async def read() -> None:
            try:
                async for line in process.stdout:
                    queue.put_nowait(line)
            finally:
                queue.put_nowait(None)

        reader = asyncio.create_task(read())
        try:
            while True:
                first = await queue.get()
                if first is None:
                    return
                lines = [first]
                while len(lines) < self._batch and not queue.empty():
                    nxt = queue.get_nowait()
                    if nxt is None:
                        await self._hand_over(lines)
                        return
                    lines.append(nxt)
                await self._hand_over(lines)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)  # never swallows our cancel

    async def _hand_over(self, lines: list[bytes]) -> None:
        await self._accept("stream", lines)
        dropped = any(b'"dropped-output"' in line for line in lines)
        self.cursor.advance(lines)
        await self.cursor.persist()
        if dropped:
            self.health.set(False, "catching up after Gerrit dropped output")
            self._start_backfill("dropped-output")

    def _start_backfill(self, why: str) -> None:
        """Backfill beside the live stream, which must keep being drained meanwhile."""
        if self._backfilling is not None and not self._backfilling.done():
            self._backfill_again = why
            return
        self._backfilling = asyncio.create_task(self._run_backfill(why))

    async def _run_backfill(self, why: str | None) -> None:
        while why is not None:
            self._backfill_again = None
            since = max(0, self.cursor.value - CURSOR_MARGIN)
            self.backfills += 1
            try:
                found = await self._backfill(since)
            except Exception:
                # The stream goes on; the next reconnect or dropped-output tries again.
                log.exception("gerrit backfill after %s failed", why)
                self.health.set(False, f"catch-up after {why} failed; retried on the "
                                   "next reconnect")
            else:
                log.info("gerrit backfill after %s: %d event(s) since %d", why, found, since)
                if self._backfill_again is None and self.connected.is_set():
                    self.health.set(True)
            self.backfilled.set()
            why = self._backfill_again

    async def close(self) -> None:
        if self._backfilling is not None:
            self._backfilling.cancel()
            await asyncio.gather(self._backfilling, return_exceptions=True)
