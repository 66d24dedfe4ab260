"""The web server: liveness, readiness, metrics, the Gerrit webhook, the plugins' pages.

`/healthz` is liveness: 200 while the event loop answers and the bot is running
(a container's HEALTHCHECK). `/readyz` is readiness: 200 only when the config is
loaded, the Gerrit stream is connected and caught up, and IRC is registered with its
channels joined; otherwise 503 naming each part that is not, since when and why
(govbot.health). docs/operations.md describes both and every metric.

aiohttp's lifecycle is the model for the whole daemon: `WebServer` is an async
context manager (setup → start on enter, cleanup on exit).

Plugins declare their pages (`Plugin.web_routes()`, govbot.extensions.WebRoute); this
module serves them without naming any plugin. A handler gets a `WebRequest` and the
plugin's read-only `PluginContext` and returns a `WebResponse`, so aiohttp stays here.
One path belongs to one owner: a plugin path that the core (or another plugin) serves
already is a start-up error.

With `auth_header` set (the settings' `web.auth_header`), a plugin page answers 401
to a request without that header: the reverse proxy in front authenticates people and
names the user in it. `/healthz`, `/metrics` and the webhook stay open (probes, Gerrit).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from govbot.extensions import WebRequest, WebResponse, WebRoute
from govbot.metrics import Observed, make_registry
from govbot.plugin import PluginContext, PluginError
from govbot.preflight import StartupError, busy_port

if TYPE_CHECKING:
    from govbot.dispatcher import Dispatcher

log = logging.getLogger(__name__)

class Served(Observed, Protocol):
    """What the web server reads of the daemon (a Protocol: the daemon imports us)."""

    started: asyncio.Event
    stopping: asyncio.Event
    dispatcher: Dispatcher | None

    async def refresh_metrics(self) -> None: ...


#: (plugin name, request id) -> the context a page handler reads.
ContextFactory = Callable[[str, str], PluginContext]


class WebServer:
    def __init__(self, daemon: Served, listen: str, *,
                 routes: Sequence[tuple[str, WebRoute]] = (),
                 context: ContextFactory | None = None, handler_timeout: float = 60.0,
                 auth_header: str | None = None) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self._daemon = daemon
        self._metrics = make_registry(daemon, time.time)
        self._routes = tuple(routes)
        self._context = context
        self._timeout = handler_timeout
        self._auth_header = auth_header or None
        self._request_ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.health)
        self.app.router.add_get("/readyz", self.ready)
        self.app.router.add_get("/metrics", self.metrics)
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    async def __aenter__(self) -> WebServer:
        # Mounted last, so a plugin path is checked against every core route, the
        # webhook's (added by the daemon after construction) included.
        self._mount_plugin_routes()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # taken since the start-up check: one line, no traceback
            await self._runner.cleanup()
            raise StartupError(busy_port(f"{self.host}:{self.port}", exc)) from None
        addresses = self._runner.addresses
        self.bound_port = addresses[0][1] if addresses else self.port
        log.info("web server on http://%s:%s", self.host, self.bound_port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _mount_plugin_routes(self) -> None:
        owners = {resource.canonical: "the core" for resource in self.app.router.resources()}
        for plugin, route in self._routes:
            if not route.path.startswith("/"):
                raise PluginError(f"plugin {plugin!r}: web route {route.path!r} must start "
                                  "with '/'")
            owner = owners.get(route.path, plugin)
            if owner != plugin:
                raise PluginError(f"plugin {plugin!r} asks for the web path {route.path!r}, "
                                  f"which {owner if owner == 'the core' else repr(owner)} "
                                  "serves already")
            owners[route.path] = plugin
        for plugin, route in self._routes:
            if self._context is None:
                raise PluginError(f"plugin {plugin!r} serves {route.path!r}, but this web "
                                  "server has no plugin contexts")
            method, handler = route.method.upper(), self._page(plugin, route)
            if method == "GET":
                self.app.router.add_get(route.path, handler)  # and HEAD
            else:
                self.app.router.add_route(method, route.path, handler)
            log.debug("web: %s %s from plugin %s", method, route.path, plugin)

    def _page(self, plugin: str, route: WebRoute
              ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            assert self._context is not None
            if self._auth_header and not request.headers.get(self._auth_header, "").strip():
                return web.Response(status=401, text="authentication required\n")
            request_id = f"web-{next(self._request_ids)}"
            ctx = self._context(plugin, request_id)
            page = WebRequest(method=request.method, path=request.path,
                              params=dict(request.match_info), query=dict(request.query),
                              headers=dict(request.headers), body=await request.read(),
                              remote=request.remote or "")
            try:
                async with asyncio.timeout(self._timeout):
                    response = await route.handler(page, ctx)
                if not isinstance(response, WebResponse):
                    raise TypeError(f"the handler returned {type(response).__name__}, "
                                    "not a WebResponse")
            except Exception:
                # Like a failing event handler: logged with its id, the server goes on.
                log.exception("%s %s (%s): plugin %s failed", request.method, request.path,
                              request_id, plugin)
                return web.Response(status=500, text="internal error\n")
            return _response(response)
        return handle

    async def health(self, request: web.Request) -> web.Response:
        d = self._daemon
        holder = d.config_holder
        running = d.started.is_set() and not d.stopping.is_set()
        body = {
            "status": "ok" if running else "starting" if not d.stopping.is_set() else "stopping",
            "config_revision": holder.revision if holder else "",
            "config_errors": holder.last_error_count if holder else 0,
            "events_pending": d.dispatcher.pending if d.dispatcher else 0,
        }
        return web.json_response(body, status=200 if running else 503)

    async def ready(self, request: web.Request) -> web.Response:
        d = self._daemon
        parts = {p.part: p for p in d.readiness()}
        running = d.started.is_set() and not d.stopping.is_set()
        ready = running and all(p.ready for p in parts.values())
        body: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "parts": {name: p.to_dict() for name, p in parts.items()},
        }
        if not running:
            body["reason"] = "stopping" if d.stopping.is_set() else "starting"
        body["not_ready"] = sorted(name for name, p in parts.items() if not p.ready)
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        await self._daemon.refresh_metrics()
        return web.Response(body=generate_latest(self._metrics),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})


def _response(response: WebResponse) -> web.Response:
    body = response.body.encode() if isinstance(response.body, str) else response.body
    text = isinstance(response.body, str) or response.content_type.startswith("text/")
    return web.Response(status=response.status, body=body,
                        content_type=response.content_type,
                        charset="utf-8" if text else None)
