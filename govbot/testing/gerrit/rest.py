"""Gerrit's REST API subset, served by aiohttp.

JSON bodies start with Gerrit's XSSI guard ``)]}'`` and a newline; errors are plain text.
``/a/...`` requires HTTP basic auth with the account's HTTP password (401 otherwise);
the same paths without ``/a`` are anonymous reads. Every call is recorded (:class:`RestCall`)
and subject to the fault switches (delay, 5xx).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import html
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from govbot.testing.gerrit.changeinfo import ChangeFormatter, account_info, files_info, timestamp
from govbot.testing.gerrit.core import GerritCore, GerritError
from govbot.testing.gerrit.events import Event, dumps, to_events_log
from govbot.testing.gerrit.faults import Faults
from govbot.testing.gerrit.model import Account, Change, PatchSet
from govbot.testing.gerrit.query import parse

log = logging.getLogger(__name__)

XSSI_PREFIX = ")]}'\n"
# Typed request-storage keys where aiohttp has them (3.12+), plain strings before.
_key: Any = getattr(web, "RequestKey", lambda name, _type: name)
BODY_KEY = _key("gerrit_emulator_json_body", object)
ACCOUNT_KEY = _key("gerrit_emulator_account", str)
DETAIL_OPTIONS = ("LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "MESSAGES")
NOTIFY_VALUES = (None, "NONE", "OWNER", "OWNER_REVIEWERS", "ALL")


@dataclass
class RestCall:
    """One recorded HTTP request and the status it got."""

    method: str
    path: str
    query: dict[str, list[str]]
    account: str | None
    body: Any
    status: int
    time: float  # when it had arrived (its body read), before any delay or handling


@dataclass
class _Request:
    http: web.Request
    parts: list[str]
    caller: Account | None

    @property
    def caller_id(self) -> int | None:
        return self.caller.account_id if self.caller else None


class GerritRestServer:
    def __init__(self, core: GerritCore, faults: Faults, *, host: str, version: str) -> None:
        self.core = core
        self.faults = faults
        self.host = host
        self.version = version
        self.calls: list[RestCall] = []
        self.events_log_enabled = True
        self.events_log_limit = 5000
        #: Raw lines in the log: (eventCreatedOn, position among the events, text).
        self.events_log_raw: list[tuple[int, int, str]] = []
        self.events_log_max_age = 30 * 86400
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ----------------------------------------------------------------- plumbing
    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
        arrived = self.core.clock()  # the whole request is in; the rest is the server's time
        request[BODY_KEY] = body
        if self.faults.rest_delay:
            # A delay that stop() can cut short, so teardown never waits for a slow answer.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.faults.rest_delay)
        status = self.faults.take_rest_failure(request.path)
        if status is not None:
            response: web.StreamResponse = web.Response(
                status=status, text=f"{status} injected failure\n", content_type="text/plain")
        else:
            response = await handler(request)
        self.calls.append(RestCall(
            method=request.method, path=request.path,
            query={k: request.query.getall(k) for k in request.query},
            account=request.get(ACCOUNT_KEY), body=body, status=response.status,
            time=arrived))
        self.core.bus.notify()
        return response

    def _authenticate(self, request: web.Request) -> Account | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        acc = self.core.find_account(user)
        if acc is None or acc.username != user or acc.http_password != password:
            return None
        return acc

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [unquote(p) for p in request.rel_url.raw_path.split("/")[1:]]
        caller = None
        if parts and parts[0] == "a":
            caller = self._authenticate(request)
            if caller is None:
                return web.Response(status=401, text="Unauthorized\n", headers={
                    "WWW-Authenticate": 'Basic realm="Gerrit Code Review"'})
            request[ACCOUNT_KEY] = caller.username
            parts = parts[1:]
        req = _Request(request, parts, caller)
        try:
            return await self._route(req)
        except GerritError as err:
            return error(err.status, err.message)

    async def _route(self, req: _Request) -> web.StreamResponse:
        p, method = req.parts, req.http.method
        if p[:2] == ["plugins", "events-log"] and method == "GET":
            return self.events_log(req)
        if len(p) >= 4 and p[0] == "c" and p[-2] == "+" and method in ("GET", "HEAD"):
            return self.change_page(req, "/".join(p[1:-2]), p[-1])
        if p and p[0] == "changes" and len(p) <= 2 and not (p[1:] and p[1]) and method == "GET":
            return self.query(req)
        if p and p[0] == "changes" and len(p) >= 2:
            return await self.change_route(req, p[1], p[2:], method)
        if len(p) == 2 and p[0] == "accounts" and method == "GET":
            return self.account(req, p[1])
        if len(p) >= 2 and p[0] == "groups" and method == "GET":
            return self.group(req, p[1], p[2:])
        if p[:3] == ["config", "server", "version"] and method == "GET":
            return json_response(req.http, self.version)
        if method not in ("GET", "HEAD"):
            self._require_auth(req)
        raise GerritError(404, "Not Found")

    def _require_auth(self, req: _Request) -> Account:
        if req.caller is None:
            raise GerritError(403, "Authentication required")
        return req.caller

    # ----------------------------------------------------------------- changes
    def query(self, req: _Request) -> web.StreamResponse:
        q = req.http.query
        options = q.getall("o", [])
        try:
            limit = int(q.get("n") or q.get("limit") or 500)
            start = int(q.get("S") or q.get("start") or 0)
        except ValueError:
            raise GerritError(400, "Invalid limit or start") from None
        queries = q.getall("q", ["status:open"])
        fmt = ChangeFormatter(self.core, options, req.caller_id)
        results = []
        for text in queries:
            parsed = parse(text, self.core, req.caller_id)
            matches = sorted(
                (c for c in self.core.changes.values()
                 if self.core.visible(c, req.caller_id) and parsed.predicate(c)),
                key=lambda c: (-c.last_updated, -c.number))
            page_size = min(limit, parsed.limit) if parsed.limit is not None else limit
            page = [fmt.change(c) for c in matches[start:start + page_size]]
            if page and len(matches) > start + page_size:
                page[-1]["_more_changes"] = True
            results.append(page)
        return json_response(req.http, results[0] if len(results) == 1 else results)

    def change_page(self, req: _Request, project: str, number: str) -> web.StreamResponse:
        """A minimal change page, so the links the bot posts (`/c/PROJECT/+/N`) open."""
        change = self.find_change(f"{project}~{number}", req.caller_id)
        rows = [f"<h1>{html.escape(change.subject)}</h1>",
                f"<p>{html.escape(change.project)} change {change.number}, "
                f"{change.status}, patch set {len(change.patch_sets)}</p><ul>"]
        rows += [f"<li>{html.escape(m.message)}</li>" for m in change.messages]
        return web.Response(text="\n".join([*rows, "</ul>"]), content_type="text/html")

    def find_change(self, ident: str, caller: int | None) -> Change:
        parts = ident.split("~")
        found: list[Change] = []
        changes = self.core.changes.values()
        if len(parts) == 2 and parts[1].isdigit():
            found = [c for c in changes if c.project == parts[0] and c.number == int(parts[1])]
        elif len(parts) == 3:
            branch = parts[1].removeprefix("refs/heads/")
            found = [c for c in changes
                     if (c.project, c.branch, c.change_id) == (parts[0], branch, parts[2])]
        elif ident.isdigit():
            found = [c for c in changes if c.number == int(ident)]
        elif len(parts) == 1:
            found = [c for c in changes if c.change_id == ident]
        found = [c for c in found if self.core.visible(c, caller)]
        if len(found) > 1:
            raise GerritError(404, f"Multiple changes found for {ident}")
        if not found:
            raise GerritError(404, f"Not found: {ident}")
        return found[0]

    @staticmethod
    def find_revision(change: Change, rev: str) -> PatchSet:
        if rev == "current":
            return change.current
        for ps in change.patch_sets:
            if str(ps.number) == rev or (len(rev) >= 4 and ps.revision.startswith(rev)):
                return ps
        raise GerritError(404, f"Not found: {rev}")

    async def change_route(self, req: _Request, ident: str, rest: list[str],
                           method: str) -> web.StreamResponse:
        change = self.find_change(ident, req.caller_id)
        options = req.http.query.getall("o", [])
        if method == "GET" and (not rest or rest == [""]):
            return json_response(req.http, ChangeFormatter(
                self.core, options, req.caller_id).change(change))
        if method == "GET" and rest == ["detail"]:
            fmt = ChangeFormatter(self.core, [*DETAIL_OPTIONS, *options], req.caller_id)
            return json_response(req.http, fmt.change(change))
        if method == "GET" and rest in (["messages"], ["messages", ""]):
            fmt = ChangeFormatter(self.core, ["DETAILED_ACCOUNTS"], req.caller_id)
            return json_response(req.http, [fmt.message(m, change) for m in change.messages])
        if len(rest) >= 2 and rest[0] == "revisions":
            ps = self.find_revision(change, rest[1])
            tail = [r for r in rest[2:] if r]
            if method == "GET" and tail == ["files"]:
                return json_response(req.http, files_info(ps))
            if method == "GET" and len(tail) == 3 and tail[::2] == ["files", "content"]:
                return await self.file_content(change, ps, tail[1])
            if method == "POST" and tail == ["review"]:
                return self.review(req, change, ps)
        if method != "GET":
            self._require_auth(req)
        raise GerritError(404, "Not Found")

    async def file_content(self, change: Change, ps: PatchSet, path: str) -> web.Response:
        """Gerrit's `.../files/PATH/content`: base64 text, the file's type in a header."""
        repo = self.core.projects[change.project].repo
        data = await asyncio.to_thread(repo.read_file, ps.revision, path)
        if data is None:
            raise GerritError(404, f"Not found: {path}")
        return web.Response(text=base64.b64encode(data).decode("ascii"),
                            content_type="text/plain", charset="ISO-8859-1",
                            headers={"X-FYI-Content-Type": "text/plain",
                                     "X-FYI-Content-Encoding": "base64"})

    def review(self, req: _Request, change: Change, ps: PatchSet) -> web.StreamResponse:
        caller = self._require_auth(req)
        body = req.http.get(BODY_KEY)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise GerritError(400, "Invalid JSON input")
        if body.get("notify") not in NOTIFY_VALUES:
            raise GerritError(400, f"Invalid value for notify: {body.get('notify')}")
        labels = body.get("labels")
        if labels is not None and not isinstance(labels, dict):
            raise GerritError(400, "Invalid JSON input")
        reviewers = body.get("reviewers") or []
        if not isinstance(reviewers, list) or not all(
                isinstance(r, dict) and isinstance(r.get("reviewer"), str) for r in reviewers):
            raise GerritError(400, "Invalid JSON input")
        # ReviewInput.reviewers: added before the review, as Gerrit does (unknown: 400)
        for entry in reviewers:
            if self.core.find_account(entry["reviewer"]) is None:
                raise GerritError(400, f"{entry['reviewer']} does not identify a registered user")
        for entry in reviewers:
            self.core.add_reviewer(change, caller, entry["reviewer"],
                                   "CC" if entry.get("state") == "CC" else "REVIEWER")
        applied = self.core.review(
            change, caller, labels=labels, message=body.get("message"), tag=body.get("tag"),
            patch_set=ps.number, ready=bool(body.get("ready")),
            work_in_progress=bool(body.get("work_in_progress")))
        result: dict[str, Any] = {}
        if labels is not None:
            result["labels"] = applied
        return json_response(req.http, result)

    # ----------------------------------------------------------------- accounts, groups
    def account(self, req: _Request, ident: str) -> web.StreamResponse:
        if ident == "self":
            acc = self._require_auth(req)
        else:
            found = self.core.find_account(ident)
            if found is None:
                raise GerritError(404, f"Not found: {ident}")
            acc = found
        info = {"registered_on": timestamp(acc.registered_on), **account_info(acc)}
        return json_response(req.http, info)

    def group(self, req: _Request, ident: str, rest: list[str]) -> web.StreamResponse:
        group = next((g for g in self.core.groups.values()
                      if ident in (g.name, g.uuid, str(g.group_id))), None)
        if group is None:
            raise GerritError(404, f"Not found: {ident}")
        tail = [r for r in rest if r]
        if tail == ["members"]:
            recursive = "recursive" in req.http.query
            members = self.core.group_members(group, recursive)
            return json_response(req.http, [account_info(a) for a in members])
        if not tail:
            return json_response(req.http, {
                "id": group.uuid, "url": f"#/admin/groups/uuid-{group.uuid}",
                "options": {}, "group_id": group.group_id, "name": group.name})
        raise GerritError(404, "Not Found")

    # ----------------------------------------------------------------- events-log plugin
    def events_log(self, req: _Request) -> web.StreamResponse:
        if not self.events_log_enabled or req.parts[2:3] != ["events"]:
            raise GerritError(404, "Not Found")
        if req.caller is None:  # the plugin's servlet wants an identified user
            return web.Response(status=401, text="Unauthorized\n")
        q = req.http.query
        now = self.core.clock()
        oldest = now - self.events_log_max_age
        entries: list[tuple[float, int, str | Event]] = [
            (e["eventCreatedOn"], i, e) for i, e in enumerate(self.core.bus.log)
            if e["type"] != "dropped-output" and e["eventCreatedOn"] >= oldest]
        if self.events_log_raw:
            entries.extend(raw for raw in self.events_log_raw if raw[0] >= oldest)
            entries.sort(key=lambda entry: (entry[1], isinstance(entry[2], str)))
        if not req.http.query_string:  # the plugin's default query: the latest N events
            chosen = entries[-self.events_log_limit:]
        elif "t1" not in q and "t2" not in q:
            raise GerritError(400, "Bad Request")
        else:
            # The plugin's parser takes whole seconds only.
            t1 = int(parse_events_log_time(q.get("t1"), now))
            t2 = int(parse_events_log_time(q.get("t2"), now))
            low, high = min(t1, t2), max(t1, t2)
            chosen = [e for e in entries if low <= e[0] <= high]
            chosen = chosen[:self.events_log_limit]  # returnLimit, oldest first
        lines = "".join((e if isinstance(e, str) else dumps(to_events_log(e))) + "\n"
                        for _, _, e in chosen)
        # The plugin's servlet writes raw lines: no XSSI prefix, text/html.
        return web.Response(text=lines, content_type="text/html", charset="utf-8")


def parse_events_log_time(value: str | None, now: float) -> float:
    """``yyyy-MM-dd HH:mm:ss`` or ``yyyy-MM-dd`` (the plugin's formats, UTC here); also epoch
    seconds and ISO 8601 as conveniences."""
    if value is None:
        return now
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise GerritError(400, "Bad Request") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def json_response(request: web.Request, data: Any, status: int = 200) -> web.Response:
    """Gerrit's isPrettyPrint: ``pp=1|true`` decides if present, else pretty unless the
    client accepts ``application/json``."""
    pp = request.query.get("pp")
    compact = (pp not in ("1", "true") if pp is not None
               else "application/json" in request.headers.get("Accept", ""))
    text = json.dumps(data, ensure_ascii=False, indent=None if compact else 2,
                      separators=(",", ":") if compact else None)
    return web.Response(text=XSSI_PREFIX + text + "\n", status=status,
                        content_type="application/json", charset="utf-8")


def error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain",
                        charset="utf-8")
