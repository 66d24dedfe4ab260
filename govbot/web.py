"""The web server: health, metrics (and, with later features, webhooks and pages).

aiohttp's lifecycle is the model for the whole daemon: `WebServer` is an async
context manager (setup → start on enter, cleanup on exit).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from govbot.metrics import make_registry

log = logging.getLogger(__name__)


def _calendar(config: Any) -> bytes:
    from govbot.calendar import calendar_bytes
    from govbot.plugins.reminders.plugin import schedules_of

    now = dt.datetime.now(dt.UTC)
    # Biweekly runs are written ten years ahead, as `govbot ical` does.
    return calendar_bytes(schedules_of(config), until=dt.date(now.year + 11, 1, 1),
                          stamp=now.replace(microsecond=0))


class WebServer:
    def __init__(self, daemon: Any, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self._daemon = daemon
        self._metrics = make_registry(daemon, time.time)
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.health)
        self.app.router.add_get("/metrics", self.metrics)
        self.app.router.add_get("/calendar.ics", self.calendar)
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    async def __aenter__(self) -> WebServer:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("web server on http://%s:%s", self.host, self.bound_port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def health(self, request: web.Request) -> web.Response:
        d = self._daemon
        holder = d.config_holder
        running = d.started.is_set() and not d.stopping.is_set()
        body = {
            "status": "ok" if running else "starting" if not d.stopping.is_set() else "stopping",
            "config_revision": getattr(holder, "revision", "") if holder else "",
            "config_errors": getattr(holder, "last_error_count", 0) if holder else 0,
            "events_pending": d.dispatcher.pending if d.dispatcher else 0,
        }
        return web.json_response(body, status=200 if running else 503)

    async def calendar(self, request: web.Request) -> web.Response:
        """The meetings and deadlines of the config in force, as iCalendar."""
        holder = self._daemon.config_holder
        config = holder.config if holder is not None else None
        if config is None or config.section("reminders") is None:
            raise web.HTTPNotFound(text="no meeting schedules in the governance config\n")
        data = await asyncio.to_thread(_calendar, config)
        return web.Response(body=data, content_type="text/calendar", charset="utf-8")

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self._metrics),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})
