"""Everything govbot does with one Gerrit, assembled from the settings."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from govbot.gerrit.backfill import Backfill
from govbot.gerrit.coverage import Coverage
from govbot.gerrit.index import ChangeIndex
from govbot.gerrit.reporter import GerritReporter
from govbot.gerrit.rest import GerritRest
from govbot.gerrit.stream import StreamSource
from govbot.gerrit.webhook import WebhookReceiver
from govbot.health import PartStatus
from govbot.settings import GerritSettings
from govbot.state.posted import PostedStore
from govbot.state.store import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GerritStats:
    """The numbers `govbot.metrics` exports for Gerrit, read at scrape time."""

    votes: Mapping[str, int]  # by outcome
    rest_retries: int
    stream_enabled: bool
    stream_connected: bool = False
    stream_connects: int = 0
    stream_lines_too_long: int = 0
    gaps_open: int = 0
    oldest_unread: int = 0  # the first second of the oldest gap (0: none)
    catchup_reads: int = 0
    catchup_failures: int = 0
    catchup_pages: int = 0  # events-log answers and change-query pages read
    catchup_fallbacks: int = 0

Accept = Callable[[str, Sequence[bytes]], Awaitable[Sequence[object]]]
CURSOR_NAMESPACE = "core:gerrit-stream"


class GerritService:
    """REST reader and reporter, stream source with backfill, webhook receiver."""

    def __init__(self, settings: GerritSettings, store: StateStore, accept: Accept, *,
                 workdir: Path, webhook_secret: str | None = None) -> None:
        self.settings = settings
        password = settings.http.password.resolve("gerrit.http.password") \
            if settings.http else None
        self.rest = GerritRest(settings.url, username=settings.http.username
                               if settings.http else None, password=password,
                               timeout=settings.request_timeout,
                               backoff=settings.retry_delay, workers=8)
        self.index = ChangeIndex()
        self.reporter = GerritReporter(self.rest, PostedStore(store), index=self.index,
                                       bot_username=settings.own_username)
        self.backfill = Backfill(self.rest, accept, mode=settings.events_log,
                                 web_url=settings.url, page_limit=settings.events_log_limit)
        self.stream: StreamSource | None = None
        if settings.ssh is not None:
            self.stream = StreamSource(settings.ssh, accept, self.backfill,
                                       Coverage(store, CURSOR_NAMESPACE),
                                       pinned_host_keys=workdir / "gerrit_known_hosts",
                                       min_backoff=settings.ssh.reconnect_min_delay,
                                       max_backoff=settings.ssh.reconnect_max_delay,
                                       catchup_min_delay=settings.retry_delay,
                                       catchup_max_delay=settings.catchup_max_delay,
                                       max_line=settings.ssh.max_line_bytes)
        self.webhook = WebhookReceiver(webhook_secret, accept) if webhook_secret else None
        self._created = time.time()

    def readiness(self) -> PartStatus:
        """Ready while the stream is connected and caught up (no catch-up running or
        failed since the connect), with no permanent fault. Without a stream (webhook or
        REST only) there is nothing to wait for."""
        if self.stream is None:
            return PartStatus("gerrit", True, self._created)
        return self.stream.health.status()

    @property
    def faults(self) -> Counter[str]:
        return self.stream.health.faults if self.stream is not None else Counter()

    def stats(self) -> GerritStats:
        reporter = self.reporter
        votes = {"posted": reporter.posted, "skipped": reporter.skipped,
                 "stale": reporter.stale, "forbidden": reporter.forbidden,
                 "closed": reporter.closed}
        stream = self.stream
        common = GerritStats(votes=votes, rest_retries=self.rest.retried,
                             stream_enabled=stream is not None,
                             catchup_pages=self.backfill.pages,
                             catchup_fallbacks=self.backfill.fallbacks)
        if stream is None:
            return common
        return dataclasses.replace(
            common, stream_connected=stream.connected.is_set(),
            stream_connects=stream.connects, stream_lines_too_long=stream.lines_too_long,
            gaps_open=len(stream.coverage.gaps), oldest_unread=stream.coverage.oldest_unread,
            catchup_reads=stream.catchup.reads, catchup_failures=stream.catchup.failures)

    async def close(self) -> None:
        await self.rest.close()
