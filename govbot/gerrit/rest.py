"""Gerrit REST, through pygerrit2, always in worker threads.

pygerrit2 (requests underneath) blocks, so every call runs in a small thread
pool with one requests session per thread. Retries are ours, not urllib3's: a
5xx or a connection error is retried with exponential backoff and jitter, the
wait happening on the event loop (no thread is held while waiting), and each
attempt has a timeout. Client errors (4xx) are never retried. What is still failing
after the retries is transient for the plugins (`govbot.context.TransientReadError`):
`GerritServerError` (5xx) and `GerritUnavailable` are both, so the dispatcher retries
the event later instead of reporting it as failed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import requests
from pygerrit2 import GerritRestAPI, HTTPBasicAuth
from requests.adapters import HTTPAdapter

from govbot.backoff import backoff
from govbot.context import TransientReadError

log = logging.getLogger(__name__)

#: What a bot needs to judge a change, in one query (never one call per change).
CHANGE_OPTIONS = ("LABELS", "DETAILED_LABELS", "CURRENT_REVISION", "CURRENT_FILES",
                  "MESSAGES", "DETAILED_ACCOUNTS")


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


def http_error(method: str, endpoint: str, status: int, text: str) -> GerritHttpError:
    """The error for an answer with `status`: transient for 5xx, permanent otherwise."""
    kind = GerritServerError if status >= 500 else GerritHttpError
    return kind(method, endpoint, status, text)


def change_path(change: str) -> str:
    """`project~number` with the project URL-encoded, as REST wants it."""
    project, sep, number = change.rpartition("~")
    return f"{quote(project, safe='')}~{number}" if sep else quote(change, safe="")


class GerritRest:
    """Async facade over pygerrit2. Implements the plugins' `ChangeReader`."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 timeout: float = 30.0, retries: int = 5, backoff: float = 0.5,
                 max_backoff: float = 30.0, workers: int = 4) -> None:
        self.url = url.rstrip("/")
        self._auth = HTTPBasicAuth(username, password) if username and password else None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gerrit-rest")
        self._local = threading.local()
        self.calls = 0
        self.retried = 0
        self.failures = 0

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True)

    async def __aenter__(self) -> GerritRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _client(self) -> GerritRestAPI:
        client = getattr(self._local, "client", None)
        if client is None:
            # No urllib3 retries: we retry ourselves, without holding a thread.
            client = GerritRestAPI(self.url, auth=self._auth,
                                   adapter=HTTPAdapter(max_retries=0))
            self._local.client = client
        return client

    def _call(self, method: str, endpoint: str, kwargs: dict[str, Any]) -> Any:
        client = self._client()
        try:
            return getattr(client, method)(endpoint, timeout=self.timeout, **kwargs)
        except requests.HTTPError as exc:
            response = exc.response
            status = response.status_code if response is not None else 0
            text = response.text if response is not None else str(exc)
            raise http_error(method.upper(), endpoint, status, text) from None

    async def request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        """One REST call with retries on 5xx and connection errors."""
        loop = asyncio.get_running_loop()
        for attempt in range(self.retries + 1):
            self.calls += 1
            try:
                return await loop.run_in_executor(self._pool, self._call, method, endpoint,
                                                  kwargs)
            except GerritHttpError as exc:
                if exc.status < 500 or attempt == self.retries:
                    self.failures += 1
                    raise
                problem: str = f"HTTP {exc.status}"
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.retries:
                    self.failures += 1
                    raise GerritUnavailable(f"{method.upper()} {endpoint}: {exc}") from None
                problem = type(exc).__name__
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
        try:
            found = await self.get(f"/changes/{change_path(change)}",
                                   params={"o": list(CHANGE_OPTIONS)})
        except GerritHttpError as exc:
            if exc.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    async def query(self, query: str, *, limit: int | None = 500,
                    options: Sequence[str] | None = None,
                    page_size: int = 250) -> Sequence[Mapping[str, Any]]:
        """All pages of a change query, up to `limit` changes (None: all of them;
        `options`: the `o=` values, None: CHANGE_OPTIONS)."""
        options = CHANGE_OPTIONS if options is None else options
        found: list[Mapping[str, Any]] = []
        while limit is None or len(found) < limit:
            size = page_size if limit is None else min(page_size, limit - len(found))
            page = await self.get("/changes/", params={
                "q": query, "o": list(options), "n": size, "S": len(found)})
            if not isinstance(page, list) or not page:
                break
            found.extend(page)
            if not page[-1].get("_more_changes"):
                break
        return found

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
