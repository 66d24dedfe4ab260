"""Everything govbot does with one Gerrit, assembled from the settings."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from govbot.gerrit.backfill import Backfill
from govbot.gerrit.index import ChangeIndex
from govbot.gerrit.reporter import GerritReporter
from govbot.gerrit.rest import GerritRest
from govbot.gerrit.stream import Cursor, StreamSource
from govbot.gerrit.webhook import WebhookReceiver
from govbot.health import PartStatus
from govbot.settings import GerritSettings
from govbot.state.posted import PostedStore
from govbot.state.store import StateStore

log = logging.getLogger(__name__)

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
                                       bot_username=settings.own_username,
                                       min_backoff=settings.retry_delay)
        self.backfill = Backfill(self.rest, accept, mode=settings.events_log,
                                 web_url=settings.url)
        self.stream: StreamSource | None = None
        if settings.ssh is not None:
            async def load() -> int:
                return int(await store.get_value(CURSOR_NAMESPACE, "cursor", 0) or 0)

            async def save(value: int) -> None:
                await store.set_value(CURSOR_NAMESPACE, "cursor", value)

            self.stream = StreamSource(settings.ssh, accept, self.backfill, Cursor(load, save),
                                       pinned_host_keys=workdir / "gerrit_known_hosts",
                                       min_backoff=settings.ssh.reconnect_min_delay,
                                       max_backoff=settings.ssh.reconnect_max_delay)
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

    async def close(self) -> None:
        await self.rest.close()
