"""Plugins contribute web pages; the daemon's web server serves them, refusing clashes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import pytest

from govbot.daemon import Daemon
from govbot.extensions import WebRequest, WebResponse, WebRoute
from govbot.plugin import Plugin, PluginContext, PluginError
from govbot.settings import parse_settings
from tests.test_daemon import governance_repo, settings_text  # noqa: F401


async def _hello(request: WebRequest, ctx: PluginContext) -> WebResponse:
    people = len(ctx.config.people)
    return WebResponse(200, f"hello {request.params['who']} from {ctx.plugin}: {people} people, "
                            f"q={request.query.get('q', '')}\n")


async def _broken(request: WebRequest, ctx: PluginContext) -> WebResponse:
    raise RuntimeError("a bug in a page")


async def _json(request: WebRequest, ctx: PluginContext) -> WebResponse:
    return WebResponse(201, b'{"ok": true}', "application/json")


class Pages(Plugin):
    name = "pages"

    def __init__(self, routes: Sequence[WebRoute] | None = None) -> None:
        self._routes = routes

    def web_routes(self) -> Sequence[WebRoute]:
        if self._routes is not None:
            return self._routes
        return [WebRoute("GET", "/hello/{who}", _hello), WebRoute("GET", "/broken", _broken),
                WebRoute("POST", "/hello/{who}", _json)]


def _daemon(tmp_path: Path, repo: Path, plugins: Sequence[Plugin]) -> Daemon:
    settings = parse_settings(settings_text(tmp_path, repo), "s.yaml", base=tmp_path)
    return Daemon(settings, dry_run=True, plugins=plugins)


async def test_a_plugin_page_is_served(tmp_path: Path,
                                       governance_repo: Path) -> None:  # noqa: F811
    daemon = _daemon(tmp_path, governance_repo, [Pages()])
    runner = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.started.wait(), 10)
    assert daemon.web is not None
    base = f"http://127.0.0.1:{daemon.web.bound_port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/hello/ada?q=1") as resp:
            body = await resp.text()
            assert resp.status == 200 and resp.content_type == "text/plain"
            assert body.startswith("hello ada from pages: ") and body.endswith("q=1\n")
        async with http.post(f"{base}/hello/ada") as resp:
            assert resp.status == 201 and await resp.json() == {"ok": True}
        async with http.get(f"{base}/broken") as resp:  # logged; the server goes on
            assert resp.status == 500
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
    daemon.stop()
    assert await asyncio.wait_for(runner, 10) == 0


@pytest.mark.parametrize(("plugins", "message"), [
    ([Pages([WebRoute("GET", "/metrics", _hello)])],
     "plugin 'pages' asks for the web path '/metrics', which the core serves already"),
    ([Pages(), type("More", (Pages,), {"name": "more"})()],
     "plugin 'more' asks for the web path '/hello/{who}', which 'pages' serves already"),
])
async def test_a_clash_is_a_start_up_error(tmp_path: Path, governance_repo: Path,  # noqa: F811
                                           plugins: list[Plugin], message: str) -> None:
    daemon = _daemon(tmp_path, governance_repo, plugins)
    with pytest.raises(PluginError) as raised:
        await asyncio.wait_for(daemon.run(), 10)
    assert str(raised.value) == message
