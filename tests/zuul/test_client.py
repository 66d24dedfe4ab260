"""The Zuul client against the Zuul emulator over real HTTP: answers, cache, outages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govbot.settings import parse_settings
from govbot.testing.zuul import ZuulEmulator
from govbot.zuul.client import ZuulClient


class Tick:
    """A monotonic clock that moves only when told (for cache expiry)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def zuul() -> AsyncIterator[ZuulEmulator]:
    async with ZuulEmulator(tenant="example") as emulator:
        yield emulator


@pytest.fixture
async def client(zuul: ZuulEmulator) -> AsyncIterator[tuple[ZuulClient, Tick]]:
    tick = Tick()
    async with ZuulClient(zuul.url, "example", cache_seconds=10, request_timeout=0.5,
                          connect_timeout=0.5, clock=tick) as c:
        yield c, tick


def _status_calls(zuul: ZuulEmulator) -> int:
    return len([r for r in zuul.requests if r.path.endswith("/status")])


async def test_enqueued_and_builds(zuul: ZuulEmulator,
                                   client: tuple[ZuulClient, Tick]) -> None:
    c, _ = client
    zuul.enqueue(12, 2, "check", project="example/x")
    zuul.enqueue(12, 2, "gate", project="example/x")
    zuul.enqueue(13, 1, "gate", project="example/x", live=False)
    zuul.add_build(12, 1, "tox", "FAILURE")
    zuul.add_build(12, 2, "tox", "SUCCESS")
    assert (await c.enqueued(12, 2)).pipelines == ("check", "gate")
    assert (await c.enqueued(12, 1)).pipelines == ()
    assert (await c.enqueued(13)).pipelines == ()  # only queued behind another change
    builds = await c.builds(12)
    assert builds.known and [(b.patchset, b.result) for b in builds.builds] == [
        (2, "SUCCESS"), (1, "FAILURE")]
    assert builds.builds[0].url == zuul.build_url(zuul.builds[-1]["uuid"])
    only = await c.builds(12, patchset=1, limit=1)
    assert [b.result for b in only.builds] == ["FAILURE"]
    assert (await c.ci_status(12, 2)).pipelines == ("check", "gate")
    last = (await c.ci_status(12, 1)).last_build
    assert last is not None and last.result == "FAILURE"


async def test_answers_are_cached_briefly_and_shared(zuul: ZuulEmulator,
                                                     client: tuple[ZuulClient, Tick]) -> None:
    c, tick = client
    zuul.enqueue(12, 1, "check")
    results = await asyncio.gather(*(c.enqueued(12, 1) for _ in range(20)))
    assert {r.pipelines for r in results} == {("check",)}
    assert _status_calls(zuul) == 1  # one request served twenty callers
    zuul.dequeue(12)
    tick.now += 9.9
    assert (await c.enqueued(12, 1)).pipelines == ("check",)  # still the cached answer
    assert c.stats.cache_hits >= 1
    tick.now += 0.2
    assert (await c.enqueued(12, 1)).pipelines == ()
    assert _status_calls(zuul) == 2


@pytest.mark.parametrize("mode", ["refused", "error", "slow"])
async def test_an_outage_is_unknown_counted_logged_once_and_cached(
        zuul: ZuulEmulator, client: tuple[ZuulClient, Tick], mode: str,
        caplog: pytest.LogCaptureFixture) -> None:
    c, tick = client
    caplog.set_level(logging.DEBUG, logger="govbot.zuul.client")
    await c.builds(99)  # a pooled connection exists before the outage
    await zuul.down(mode, delay=5.0)
    status = await c.ci_status(12, 1)
    assert not status.known and status.error
    assert status.describe() == "CI: unknown (Zuul unreachable)"
    assert not (await c.builds(12)).known
    assert c.stats.failures == 2 and c.stats.reachable is False
    requests = c.stats.requests
    assert not (await c.enqueued(12)).known
    assert c.stats.requests == requests  # the failure is cached too: no request storm
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "is unreachable" in warnings[0].getMessage()

    await zuul.up()
    tick.now += 11
    assert (await c.enqueued(12)).known
    assert c.stats.reachable is True
    assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_wrong_tenant_and_garbage_are_unknown(zuul: ZuulEmulator) -> None:
    async with ZuulClient(zuul.url, "nope", cache_seconds=0) as c:
        result = await c.enqueued(1)
        assert not result.known and result.error and "HTTP 404" in result.error
    async with ZuulClient(zuul.url + "/t/example/build", "x", cache_seconds=0) as c:
        assert not (await c.builds(1)).known  # an HTML page where JSON was expected


async def test_a_caller_giving_up_does_not_cancel_the_shared_request(
        zuul: ZuulEmulator, client: tuple[ZuulClient, Tick]) -> None:
    c, _ = client
    await zuul.down("slow", delay=0.3)
    impatient = asyncio.ensure_future(c.enqueued(1))
    patient = asyncio.ensure_future(c.enqueued(1))
    await zuul.wait_for(lambda: zuul.in_flight)  # the request is at Zuul
    impatient.cancel()
    await zuul.up()  # answers the request now
    assert (await patient).known
    assert _status_calls(zuul) == 1


def test_from_settings(tmp_path: Path) -> None:
    settings = parse_settings(
        "governance: {repo: gov}\nzuul: {url: 'https://zuul.example.org/', tenant: t}\n",
        "govbot.yaml", base=tmp_path)
    assert settings.zuul is not None
    c = ZuulClient.from_settings(settings.zuul)
    assert (c.url, c.tenant, c.gerrit_username, c.verified_label, c.cache_seconds) == (
        "https://zuul.example.org", "t", "zuul", "Verified", 10.0)
    custom = parse_settings(
        "governance: {repo: gov}\nzuul: {url: u, tenant: t, gerrit_username: opendev-zuul,"
        " verified_label: CI-Verified, request_timeout: 2}\n", "govbot.yaml", base=tmp_path)
    assert custom.zuul is not None
    c = ZuulClient.from_settings(custom.zuul)
    assert (c.gerrit_username, c.verified_label) == ("opendev-zuul", "CI-Verified")
