"""The webhook's bounded edges, over real HTTP: size, nesting depth, log flooding.

A body past the size limit gets 413, one nested past the depth limit 400 — never a
500 — and refused calls are logged once per interval with a count.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence

import pytest
from aiohttp import ClientSession, web

from govbot.gerrit.webhook import MAX_BODY, MAX_DEPTH, RefusalLog, WebhookReceiver, nesting_depth


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, WebhookReceiver, list[bytes], Clock]]:
    received: list[bytes] = []

    async def accept(source: str, lines: Sequence[bytes]) -> Sequence[object]:
        received.extend(lines)
        return list(lines)

    clock = Clock()
    hook = WebhookReceiver("s3cret", accept, refusals=RefusalLog(60.0, clock))
    app = web.Application()
    hook.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/gerrit/webhook", hook, received, clock
    finally:
        await runner.cleanup()


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert nesting_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert nesting_depth(b'{"a": "\\"[[[["}') == 1
    assert nesting_depth(b"[" * 5000) == 5000


async def test_deeply_nested_body_is_400_not_500(receiver) -> None:  # type: ignore[no-untyped-def]
    url, _hook, received, _ = receiver
    deep = ('{"type":"comment-added","x":' + "[" * 1000 + "]" * 1000 + "}").encode()
    just = ('{"type":"comment-added","x":' + "[" * (MAX_DEPTH - 1)
            + "]" * (MAX_DEPTH - 1) + "}").encode()
    lines = b"{\"type\":\"x\"}\n" + b"[" * 100_000  # JSON lines, one of them deep
    async with ClientSession() as http:
        for body, status in ((deep, 400), (lines, 400), (just, 202)):
            async with http.post(url + "?secret=s3cret", data=body) as resp:
                assert resp.status == status, body[:40]
    assert len(received) == 1 and json.loads(received[0])["type"] == "comment-added"


async def test_body_past_the_size_is_413_with_or_without_a_length(receiver) -> None:  # type: ignore[no-untyped-def]
    url, hook, received, _ = receiver
    big = b'{"type":"comment-added","x":"' + b"a" * MAX_BODY + b'"}'

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    async with ClientSession() as http:
        async with http.post(url + "?secret=s3cret", data=big) as resp:
            assert resp.status == 413
        async with http.post(url + "?secret=s3cret", data=chunked()) as resp:
            assert resp.status == 413
    assert received == [] and hook.refused == 2


async def test_600_refusals_are_a_few_log_lines_with_counts(  # type: ignore[no-untyped-def]
        receiver, caplog: pytest.LogCaptureFixture) -> None:
    url, hook, _, clock = receiver
    caplog.set_level(logging.WARNING, logger="govbot.gerrit.webhook")
    async with ClientSession() as http:
        for n in range(600):
            clock.now = n * 0.25  # 600 calls over 150 s: three 60 s intervals
            async with http.post(url + "?secret=wrong", data=b"{}") as resp:
                assert resp.status == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "govbot.gerrit.webhook"]
    assert len(lines) == 3, lines
    assert "wrong or missing secret" in lines[0] and "more refused" not in lines[0]
    assert "(239 more refused in the last 60 s)" in lines[1]
    assert hook.refused == 600
