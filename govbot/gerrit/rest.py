"""Gerrit REST over aiohttp, on the event loop, with connections kept alive.

Every call is a coroutine on the daemon's own loop: no worker threads, so nothing
competes with the event loop for the GIL, and one keep-alive connection pool per
loop serves every call (pygerrit2/requests cost about 2.4 ms of CPU per vote POST
and held the GIL against the loop; see the README's dependencies paragraph).
Retries are ours: a 5xx or a connection error or timeout is retried with
exponential backoff and jitter (govbot/backoff.py), each attempt with its own
timeout. Client errors (4xx) are never retried. `_failed_attempt` is the one place
that decides what a failed attempt means.

Answers are decoded as pygerrit2 did: JSON (`application/json`) without Gerrit's
`)]}'` XSSI guard, anything else as text. With credentials every path goes under
`/a/` with basic auth; without them, `~/.netrc` is asked for the host, as
pygerrit2 did. Changes are also read typed (`get_change_info`, `change_info_pages`):
the answer's bytes decoded straight into `govbot.gerrit.changes.ChangeInfo` structs,
no dicts built on the way (what the governance plugin reads).
What is still failing after the retries is transient for the plugins
(`govbot.context.TransientReadError`): `GerritServerError` (5xx) and `GerritUnavailable`
are both, so the dispatcher retries the event later instead of reporting it as failed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import netrc
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import msgspec
from yarl import URL

from govbot.backoff import backoff
from govbot.context import TransientReadError
from govbot.gerrit.changes import ChangeInfo, ChangeInfoDecoder
from govbot.stats import Histogram

log = logging.getLogger(__name__)

#: What a bot needs to judge a change, in one query (never one call per change).
CHANGE_OPTIONS = ("LABELS", "DETAILED_LABELS", "CURRENT_REVISION", "CURRENT_FILES",
                  "MESSAGES", "DETAILED_ACCOUNTS")
XSSI_PREFIX = b")]}'"
_JSON_DECODER = msgspec.json.Decoder()
_CHANGE_INFO = ChangeInfoDecoder()


class GerritHttpError(Exception):
    """Gerrit answered with an error status (after retries, for 5xx)."""

    def __init__(self, method: str, endpoint: str, status: int, text: str) -> None:
        super().__init__(f"{method} {endpoint}: HTTP {status}: {text.strip()[:300]}")
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.text = text


class GerritServerError(GerritHttpError, TransientReadError):
    """Gerrit answered 5xx, still after the retries: transient, the event is retried."""


class GerritUnavailable(TransientReadError):
    """Gerrit could not be reached (connection refused, timeouts) after retries."""


@dataclass(frozen=True)
class _Failure:
    """What one failed attempt means: retry it or not, and what to raise at the end."""

    problem: str  # for the retry log line
    retry: bool
    error: Exception


def _failed_attempt(method: str, endpoint: str, exc: Exception) -> _Failure | None:
    """The classification of a failed attempt; None: not a transport failure (re-raise)."""
    if isinstance(exc, GerritHttpError):
        return _Failure(f"HTTP {exc.status}", exc.status >= 500, exc)
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError
                  | asyncio.TimeoutError):
        # Refused, reset, closed early, cut short in the body, or too slow.
        what = type(exc).__name__
        return _Failure(what, True,
                        GerritUnavailable(f"{method.upper()} {endpoint}: {what}: {exc}"))
    return None


def http_error(method: str, endpoint: str, status: int, text: str) -> GerritHttpError:
    """The error for an answer with `status`: transient for 5xx, permanent otherwise."""
    kind = GerritServerError if status >= 500 else GerritHttpError
    return kind(method, endpoint, status, text)


def change_path(change: str) -> str:
    """`project~number` with the project URL-encoded, as REST wants it."""
    project, sep, number = change.rpartition("~")
    return f"{quote(project, safe='')}~{number}" if sep else quote(change, safe="")


def _basic(username: str, password: str) -> str:
    # The header itself: aiohttp 3.14 deprecates BasicAuth objects and `auth=`.
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _netrc_auth(url: str) -> str | None:
    """Credentials for the host from ~/.netrc, if any (what pygerrit2 did without auth)."""
    host = urlsplit(url).hostname
    try:
        found = netrc.netrc().authenticators(host) if host else None
    except (OSError, netrc.NetrcParseError):
        return None
    if not found or not found[0] or not found[2]:
        return None
    return _basic(found[0], found[2])


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """requests' encoding of params: a list value repeats its key (`o=A&o=B`)."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        for item in value if isinstance(value, list | tuple) else (value,):
            pairs.append((key, str(item)))
    return pairs


def _decode(content: bytes, content_type: str, charset: str | None,
            decode: Callable[[bytes], Any] = _JSON_DECODER.decode) -> Any:
    """pygerrit2's decoding: stripped; JSON without the XSSI guard, or text. `decode`
    reads the JSON (a typed decoder builds structs straight from the bytes)."""
    content = content.strip()
    if content_type != "application/json":
        return content.decode(charset or "utf-8", errors="replace")
    if not content:
        return ""
    if content.startswith(XSSI_PREFIX):
        content = content[len(XSSI_PREFIX):]
    return decode(content)


class GerritRest:
    """Async Gerrit REST client. Implements the plugins' `ChangeReader`."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 timeout: float = 30.0, retries: int = 5, backoff: float = 0.5,
                 max_backoff: float = 30.0, workers: int = 4) -> None:
        self.url = url.rstrip("/")
        self._auth = _basic(username, password) if username and password \
            else _netrc_auth(self.url)
        # Authenticated REST lives under /a/ (Gerrit's rule; pygerrit2 added it too).
        self._base = self.url.removesuffix("/a") + ("/a" if self._auth else "")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._connections = workers  # concurrent connections per loop, as threads were
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self.calls = 0
        self.retried = 0
        self.failures = 0
        self.latency = Histogram()  # seconds per attempt, answered or not

    def _client(self) -> aiohttp.ClientSession:
        """The session of the running loop, made on first use (one per loop: a
        session belongs to the loop it was made on)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"Authorization": self._auth} if self._auth else None,
                # As requests' timeout: connecting and each read, not the whole answer.
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout,
                                              sock_read=self.timeout),
                # No proxy lookup from the environment per call (requests' trust_env cost).
                trust_env=False, raise_for_status=False)
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> GerritRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _attempt(self, method: str, endpoint: str, params: Mapping[str, Any] | None,
                       body: Mapping[str, Any] | None, headers: Mapping[str, str] | None,
                       decode: Callable[[bytes], Any]) -> Any:
        """One HTTP exchange; an error status is a GerritHttpError."""
        # encoded=True: the path is already quoted (change_path) and must stay so (%2F).
        url = URL(self._base + "/" + endpoint.lstrip("/"), encoded=True)
        async with self._client().request(
                method.upper(), url, params=_query(params) or None,
                data=None if body is None else msgspec.json.encode(body),
                headers={"Accept": "application/json",
                         **({} if body is None else
                            {"Content-Type": "application/json;charset=UTF-8"}),
                         **(headers or {})}) as response:
            content = await response.read()
            if response.status >= 400:
                text = content.decode(response.charset or "utf-8", errors="replace")
                raise http_error(method.upper(), endpoint, response.status, text)
            return _decode(content, response.content_type, response.charset, decode)

    async def request(self, method: str, endpoint: str, *,
                      params: Mapping[str, Any] | None = None,
                      json: Mapping[str, Any] | None = None,
                      headers: Mapping[str, str] | None = None,
                      decode: Callable[[bytes], Any] = _JSON_DECODER.decode) -> Any:
        """One REST call with retries on 5xx, connection errors and timeouts. `decode`
        reads a JSON answer (without the guard); the default gives dicts and lists."""
        for attempt in range(self.retries + 1):
            self.calls += 1
            started = time.monotonic()
            try:
                return await self._attempt(method, endpoint, params, json, headers, decode)
            except Exception as exc:
                failure = _failed_attempt(method, endpoint, exc)
                if failure is None:
                    raise
                if not failure.retry or attempt == self.retries:
                    self.failures += 1
                    raise failure.error from None
                problem = failure.problem
            finally:
                self.latency.observe(time.monotonic() - started)
            self.retried += 1
            wait = backoff(attempt + 1, self.backoff, self.max_backoff)
            log.warning("gerrit %s %s: %s; retry %d/%d in %.1f s", method.upper(), endpoint,
                        problem, attempt + 1, self.retries, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def get(self, endpoint: str, **kwargs: Any) -> Any:
        return await self.request("get", endpoint, **kwargs)

    async def post(self, endpoint: str, body: Mapping[str, Any]) -> Any:
        return await self.request("post", endpoint, json=dict(body))

    # -- ChangeReader -------------------------------------------------------------
    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        found = await self._change(change, _JSON_DECODER.decode)
        return found if isinstance(found, dict) else None

    async def get_change_info(self, change: str) -> ChangeInfo | None:
        """`get_change` decoded straight into a typed ChangeInfo (govbot.gerrit.changes)."""
        found = await self._change(change, _CHANGE_INFO.change)
        return found if isinstance(found, ChangeInfo) else None

    async def _change(self, change: str, decode: Callable[[bytes], Any]) -> Any:
        try:
            return await self.request("get", f"/changes/{change_path(change)}",
                                      params={"o": list(CHANGE_OPTIONS)}, decode=decode)
        except GerritHttpError as exc:
            if exc.status == 404:
                return None
            raise

    async def query(self, query: str, *, limit: int | None = 500,
                    options: Sequence[str] | None = None,
                    page_size: int = 250) -> Sequence[Mapping[str, Any]]:
        """All pages of a change query, up to `limit` changes (None: all of them;
        `options`: the `o=` values, None: CHANGE_OPTIONS)."""
        found: list[Mapping[str, Any]] = []
        async for page in self.query_pages(query, limit=limit, options=options,
                                           page_size=page_size):
            found.extend(page)
        return found

    async def query_pages(self, query: str, *, limit: int | None = 500,
                          options: Sequence[str] | None = None, page_size: int = 250
                          ) -> AsyncIterator[Sequence[Mapping[str, Any]]]:
        """The changes of `query`, one page at a time as Gerrit answers them, so a
        reader of thousands of changes holds one page, not all of them."""
        async for page in self._pages(query, limit, options, page_size,
                                      _JSON_DECODER.decode):
            yield page
            if not page[-1].get("_more_changes"):
                break

    async def change_info_pages(self, query: str, *, limit: int | None = 500,
                                options: Sequence[str] | None = None, page_size: int = 250
                                ) -> AsyncIterator[Sequence[ChangeInfo]]:
        """`query_pages` decoded straight into typed ChangeInfos: no dicts are built, and
        what govbot does not read is skipped by the decoder."""
        async for page in self._pages(query, limit, options, page_size, _CHANGE_INFO.page):
            yield page
            if not page[-1].more_changes:
                break

    async def _pages(self, query: str, limit: int | None, options: Sequence[str] | None,
                     page_size: int, decode: Callable[[bytes], Any]
                     ) -> AsyncIterator[list[Any]]:
        """The non-empty pages of `query` as `decode` reads them; the caller stops at the
        one Gerrit marks as the last (`_more_changes` absent on its last change)."""
        options = CHANGE_OPTIONS if options is None else options
        seen = 0
        while limit is None or seen < limit:
            size = page_size if limit is None else min(page_size, limit - seen)
            page = await self.get("/changes/", params={
                "q": query, "o": list(options), "n": size, "S": seen}, decode=decode)
            if not isinstance(page, list) or not page:
                break
            seen += len(page)
            yield page

    async def file_content(self, change: str, revision: str, path: str) -> bytes | None:
        """`GET .../revisions/R/files/PATH/content`: Gerrit answers the bytes in base64."""
        try:
            text = await self.get(f"/changes/{change_path(change)}/revisions/"
                                  f"{quote(str(revision), safe='')}/files/"
                                  f"{quote(path, safe='')}/content")
        except GerritHttpError as exc:
            if exc.status == 404:
                return None
            raise
        raw = text.encode("ascii") if isinstance(text, str) else bytes(text or b"")
        return base64.b64decode(raw)

    async def review(self, change: str, revision: str | int,
                     body: Mapping[str, Any]) -> Any:
        return await self.post(f"/changes/{change_path(change)}/revisions/{revision}/review",
                               body)

    async def events_log(self, since: str, until: str | None = None) -> list[str] | None:
        """Events of `since`..`until` (inclusive, 'YYYY-MM-DD HH:MM:SS' UTC; no `until`:
        up to now) from the events-log plugin, oldest first and at most its
        `returnLimit`, as JSON lines; None when the server has no such plugin."""
        params = {"t1": since} if until is None else {"t1": since, "t2": until}
        try:
            text = await self.get("/plugins/events-log/events/", params=params)
        except GerritHttpError as exc:
            if exc.status == 404:
                return None
            raise
        if isinstance(text, list | dict):  # a server that answered one JSON value
            items = text if isinstance(text, list) else [text]
            return [json.dumps(item) for item in items]
        return [line for line in str(text).splitlines() if line.strip()]
