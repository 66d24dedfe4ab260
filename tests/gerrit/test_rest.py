"""The REST transport against a real HTTP server on loopback: decoding, `/a/` and
basic auth, repeated query keys, retries of 5xx and timeouts, no retry of 4xx,
and one kept-alive connection for many calls."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.rest import CHANGE_OPTIONS, GerritHttpError, GerritRest, GerritUnavailable


@dataclass
class Server:
    url: str
    seen: list[web.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    peers: set[object] = field(default_factory=set)
    answers: list[Callable[[web.Request], Awaitable[web.StreamResponse]]] = \
        field(default_factory=list)


async def _json(request: web.Request) -> web.StreamResponse:
    return web.Response(text=")]}'\n" + json.dumps({"ok": True, "path": request.path}),
                        content_type="application/json", charset="utf-8")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(url="")

    async def handle(request: web.Request) -> web.StreamResponse:
        state.seen.append(request)
        state.bodies.append(await request.read())
        state.peers.add(request.transport.get_extra_info("peername")
                        if request.transport else None)
        answer = state.answers.pop(0) if state.answers else _json
        return await answer(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


async def test_json_without_the_guard_text_as_text_and_auth_under_a(server: Server) -> None:
    async def text(request: web.Request) -> web.StreamResponse:
        return web.Response(text="line 1\nline 2\n", content_type="text/html")

    server.answers = [_json, text]
    async with GerritRest(server.url, username="bot", password="pw") as rest:
        assert await rest.get("/changes/a%2Fb~1", params={"o": ["LABELS", "MESSAGES"],
                                                           "n": 5}) \
            == {"ok": True, "path": "/a/changes/a/b~1"}  # decoded by the server
        assert await rest.get("/plugins/x/") == "line 1\nline 2"
    first = server.seen[0]
    assert first.raw_path.startswith("/a/changes/a%2Fb~1?")
    assert first.query.getall("o") == ["LABELS", "MESSAGES"] and first.query["n"] == "5"
    assert first.headers["Authorization"] == "Basic " + base64.b64encode(b"bot:pw").decode()


async def test_post_sends_json_and_anonymous_calls_stay_outside_a(server: Server) -> None:
    async with GerritRest(server.url) as rest:
        await rest.review("p~3", 2, {"labels": {"Verified": 1}})
    request = server.seen[0]
    assert request.method == "POST" and request.path == "/changes/p~3/revisions/2/review"
    assert json.loads(server.bodies[0]) == {"labels": {"Verified": 1}}
    assert "Authorization" not in request.headers


async def test_5xx_is_retried_4xx_is_not(server: Server) -> None:
    async def fail(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, text="busy\n")

    async def missing(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="Not found\n")

    server.answers = [fail, fail, _json, missing]
    async with GerritRest(server.url, backoff=0.01, retries=3) as rest:
        assert (await rest.get("/x"))["ok"] is True
        assert rest.retried == 2 and rest.failures == 0
        with pytest.raises(GerritHttpError) as raised:
            await rest.get("/y")
        assert raised.value.status == 404 and raised.value.text == "Not found\n"
        assert rest.failures == 1 and rest.retried == 2 and rest.calls == 4
        assert rest.latency.count == 4


async def test_last_5xx_is_raised_as_the_http_error(server: Server) -> None:
    async def fail(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="broken\n")

    server.answers = [fail, fail]
    async with GerritRest(server.url, backoff=0.01, retries=1) as rest:
        with pytest.raises(GerritHttpError) as raised:
            await rest.get("/x")
    assert raised.value.status == 500 and len(server.seen) == 2


async def test_a_timeout_is_retried_then_unavailable(server: Server) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1)  # longer than the client's timeout
        return await _json(request)

    server.answers = [slow, slow]
    async with GerritRest(server.url, timeout=0.2, backoff=0.01, retries=1) as rest:
        with pytest.raises(GerritUnavailable):
            await rest.get("/x")
        assert rest.retried == 1 and rest.failures == 1


async def test_a_refused_connection_is_unavailable() -> None:
    async with GerritRest("http://127.0.0.1:9", backoff=0.01, retries=1) as rest:
        with pytest.raises(GerritUnavailable):
            await rest.get("/x")


async def test_many_calls_share_one_kept_alive_connection(server: Server) -> None:
    async with GerritRest(server.url, username="bot", password="pw") as rest:
        for i in range(20):
            await rest.post(f"/changes/p~{i}/revisions/1/review", {"message": "m"})
            await rest.get(f"/changes/p~{i}")
    assert len(server.seen) == 40 and len(server.peers) == 1


async def test_query_pages_follow_more_changes_and_stop_at_the_limit(server: Server) -> None:
    def page(start: int, count: int, more: bool) -> Callable[
            [web.Request], Awaitable[web.StreamResponse]]:
        async def answer(request: web.Request) -> web.StreamResponse:
            changes: list[dict[str, object]] = [{"_number": n}
                                                for n in range(start, start + count)]
            if more:
                changes[-1]["_more_changes"] = True
            return web.Response(text=")]}'\n" + json.dumps(changes),
                                content_type="application/json")
        return answer

    server.answers = [page(0, 2, True), page(2, 2, True), page(4, 1, False)]
    async with GerritRest(server.url) as rest:
        pages = [list(p) async for p in rest.query_pages("status:open", limit=None,
                                                           page_size=2)]
        assert [[c["_number"] for c in p] for p in pages] == [[0, 1], [2, 3], [4]]
        assert [r.query["S"] for r in server.seen] == ["0", "2", "4"]
        server.answers = [page(0, 2, True), page(2, 1, True)]
        found = await rest.query("status:open", limit=3, page_size=2)
    assert [c["_number"] for c in found] == [0, 1, 2]
    assert [r.query["n"] for r in server.seen[3:]] == ["2", "1"]


async def test_typed_reads_decode_change_info_straight_from_the_answer(server: Server) -> None:
    def page(start: int, count: int, more: bool) -> Callable[
            [web.Request], Awaitable[web.StreamResponse]]:
        async def answer(request: web.Request) -> web.StreamResponse:
            changes: list[dict[str, object]] = [
                {"_number": n, "project": "example/governance", "subject": f"Change {n}",
                 "created": "2026-11-22 10:00:00.000000000", "ignored_field": [1, 2]}
                for n in range(start, start + count)]
            if more:
                changes[-1]["_more_changes"] = True
            return web.Response(text=")]}'\n" + json.dumps(changes),
                                content_type="application/json")
        return answer

    async def one(request: web.Request) -> web.StreamResponse:
        return web.Response(text=")]}'\n" + json.dumps(
            {"_number": 7, "project": "example/governance",
             "created": "2026-11-22 10:00:00.000000000"}), content_type="application/json")

    async def missing(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="Not found")

    server.answers = [page(0, 2, True), page(2, 1, False)]
    async with GerritRest(server.url) as rest:
        pages = [list(p) async for p in rest.change_info_pages("status:open", limit=None,
                                                                 page_size=2)]
        assert [[c.number for c in p] for p in pages] == [[0, 1], [2]]
        assert all(isinstance(c, ChangeInfo) for p in pages for c in p)
        assert pages[0][0].subject == "Change 0" and pages[0][0].key == "example/governance~0"
        assert [r.query["S"] for r in server.seen] == ["0", "2"]
        assert server.seen[0].query.getall("o") == list(CHANGE_OPTIONS)
        server.answers = [one, missing]
        found = await rest.get_change_info("example/governance~7")
        assert found is not None and found.number == 7 and found.created_at is not None
        assert server.seen[2].raw_path.startswith("/changes/example%2Fgovernance~7?")
        assert await rest.get_change_info("example/governance~8") is None
