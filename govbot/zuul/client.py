"""Zuul's REST API (aiohttp): is a change enqueued, and what did its builds say.

Every call has a timeout, answers are cached briefly (`zuul.cache_seconds`), and
concurrent callers asking the same question share one request. Zuul being down,
slow or answering garbage never raises into the bot: the answer says
`known=False`, `stats.failures` counts it, and one WARNING line says Zuul is
unreachable (then one INFO line when it answers again, not a line per call).
Failed answers are cached like good ones, so re-evaluating thousands of changes
while Zuul is down costs one timeout per cache period, not one per change.

The status endpoint returns the whole tenant (megabytes on a large site), so it is
fetched once per cache period and kept only as an index (change, patchset) ->
pipelines.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp

from govbot.zuul.model import Builds, CiStatus, Enqueued
from govbot.zuul.status import enqueued_pipelines, parse_builds, status_index, telling_build

if TYPE_CHECKING:
    from govbot.settings import ZuulSettings

__all__ = ["ZuulClient", "ZuulStats"]

log = logging.getLogger(__name__)

_MAX_CACHED = 2048  # build answers kept at most; expired ones are dropped first


@dataclass
class ZuulStats:
    """Counters for metrics and tests (mutable on purpose: the client updates them)."""

    requests: int = 0  # HTTP requests sent
    failures: int = 0  # requests without a usable answer: CI was shown as unknown
    cache_hits: int = 0
    last_error: str | None = None
    reachable: bool | None = None  # None until the first request


class _Failed:
    """A cached failure: the reason, shown in logs (never raised)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class ZuulClient:
    """Implements `govbot.zuul.model.CiReader`."""

    def __init__(self, url: str, tenant: str, *, connect_timeout: float = 2.0,
                 request_timeout: float = 5.0, cache_seconds: float = 10.0,
                 gerrit_username: str = "zuul", verified_label: str = "Verified",
                 builds_limit: int = 20, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url.rstrip("/")
        self.tenant = tenant
        self._gerrit_username = gerrit_username
        self._verified_label = verified_label
        self.cache_seconds = cache_seconds
        self.builds_limit = builds_limit
        self._timeout = aiohttp.ClientTimeout(total=request_timeout, connect=connect_timeout,
                                              sock_connect=connect_timeout)
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._cache: dict[Hashable, tuple[float, Any]] = {}
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self.stats = ZuulStats()

    @classmethod
    def from_settings(cls, settings: ZuulSettings, *,
                      clock: Callable[[], float] = time.monotonic) -> ZuulClient:
        return cls(settings.url, settings.tenant, connect_timeout=settings.connect_timeout,
                   request_timeout=settings.request_timeout,
                   cache_seconds=settings.cache_seconds,
                   gerrit_username=settings.gerrit_username,
                   verified_label=settings.verified_label, clock=clock)

    @property
    def gerrit_username(self) -> str:
        return self._gerrit_username

    @property
    def verified_label(self) -> str:
        return self._verified_label

    async def close(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ZuulClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the questions ----------------------------------------------------------------
    async def enqueued(self, change: int, patchset: int | None = None) -> Enqueued:
        """The pipelines this change (this patch set, when given) is live in now."""
        index = await self._cached("status", self._fetch_status)
        if isinstance(index, _Failed):
            return Enqueued(known=False, error=index.reason)
        return Enqueued(enqueued_pipelines(index, change, patchset))

    async def builds(self, change: int, *, patchset: int | None = None,
                     limit: int | None = None) -> Builds:
        """The change's builds (of this patch set, when given), newest first."""
        limit = limit or self.builds_limit
        params = {"change": str(change), "limit": str(limit)}
        if patchset is not None:
            params["patchset"] = str(patchset)

        async def fetch() -> Any:
            data = await self._get(f"/api/tenant/{quote(self.tenant, safe='')}/builds",
                                   params)
            return parse_builds(data, self.url, self.tenant)

        found = await self._cached(("builds", change, patchset, limit), fetch)
        if isinstance(found, _Failed):
            return Builds(known=False, error=found.reason)
        return Builds(found)

    async def ci_status(self, change: int, patchset: int, *,
                        last_build: bool = True) -> CiStatus:
        """Enqueued somewhere? Else (with `last_build`) how its latest run ended."""
        queued = await self.enqueued(change, patchset)
        if not queued.known:
            return CiStatus(known=False, error=queued.error)
        if queued.pipelines or not last_build:
            return CiStatus(known=True, pipelines=queued.pipelines)
        builds = await self.builds(change, patchset=patchset)
        if not builds.known:
            return CiStatus(known=False, error=builds.error)
        return CiStatus(known=True, last_build=telling_build(builds.builds))

    # -- plumbing ---------------------------------------------------------------------
    async def _fetch_status(self) -> Mapping[tuple[int, int], tuple[str, ...]]:
        data = await self._get(f"/api/tenant/{quote(self.tenant, safe='')}/status", {})
        if not isinstance(data, Mapping) or not isinstance(data.get("pipelines"), list):
            raise ValueError("the status answer has no 'pipelines' list")
        return status_index(data)

    async def _cached(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> Any:
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            self.stats.cache_hits += 1
            return hit[1]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._answer(fetch))
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._store, key))
        # Shielded: a caller timing out must not cancel the answer others wait for.
        return await asyncio.shield(task)

    def _store(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        self._inflight.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        if len(self._cache) >= _MAX_CACHED:
            now = self._clock()
            for old in [k for k, (expires, _) in self._cache.items() if expires <= now]:
                del self._cache[old]
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
        self._cache[key] = (self._clock() + self.cache_seconds, task.result())

    async def _answer(self, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """The fetched value, or a `_Failed` saying why: never an exception."""
        try:
            value = await fetch()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # whatever Zuul does, the bot carries on
            reason = _reason(exc)
            self.stats.failures += 1
            self.stats.last_error = reason
            if self.stats.reachable is not False:
                log.warning("zuul: %s (tenant %s) is unreachable: %s; CI is shown as "
                            "unknown until it answers", self.url, self.tenant, reason)
            else:
                log.debug("zuul: still unreachable: %s", reason)
            self.stats.reachable = False
            return _Failed(reason)
        if self.stats.reachable is False:
            log.info("zuul: %s answers again", self.url)
        self.stats.reachable = True
        return value

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers={"Accept": "application/json"})
        self.stats.requests += 1
        async with self._session.get(self.url + path, params=params) as response:
            if response.status != 200:
                text = (await response.text())[:200].strip()
                raise _HttpError(f"GET {path}: HTTP {response.status}"
                                 + (f": {text}" if text else ""))
            return await response.json(content_type=None)


class _HttpError(Exception):
    pass


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, _HttpError):
        return str(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or exc.os_error})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
