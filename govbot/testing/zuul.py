"""A minimal Zuul API server for tests, and Zuul's reports on the Gerrit emulator.

`ZuulEmulator` serves, over real HTTP on 127.0.0.1 (a random port), the parts of
Zuul's REST API govbot reads, in Zuul's documented JSON shapes:

- `GET /api/tenant/{t}/status`: pipelines, change queues, heads of queue items
  (`id` "NNN,P", `live`, `jobs`, ...);
- `GET /api/tenant/{t}/builds?change=&patchset=&pipeline=&job_name=&result=&limit=&skip=`
  (newest first) and `GET /api/tenant/{t}/build/{uuid}`;
- `GET /api/tenants`, and tiny pages at `/t/{t}/build/{uuid}` and
  `/t/{t}/buildset/{uuid}` so the links in reports resolve.

Tests drive it: `enqueue` / `dequeue` a change in a pipeline, `add_build`, and
`down("refused" | "error" | "slow")` / `up()` for outages. Every request is
recorded in `requests` once answered (`in_flight` counts those still waiting);
`wait_for(predicate)` re-checks as each one arrives and is answered.

`zuul_report(gerrit, change, zuul_account, result=...)` makes the Gerrit
emulator's Zuul account vote Verified with the comment Zuul writes ("Build
succeeded (check pipeline)." and a line per job with its build link). Examples:
docs/zuul.md, "Testing with the emulators".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from govbot.testing.gerrit import Account, Change, GerritEmulator

__all__ = ["FAILURE_DOCS", "ReportedBuild", "ZuulEmulator", "ZuulRequest", "zuul_report"]

DEPENDENT = ("gate",)  # pipelines whose items share a queue (Zuul's "dependent" manager)
FAILURE_DOCS = "https://docs.example.org/ci.html#automated-testing"
_PUBLIC = "https://zuul.example.org"


@dataclass(frozen=True)
class ZuulRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class _Item:
    change: int
    patchset: int
    project: str
    pipeline: str
    jobs: tuple[str, ...]
    enqueued_at: float
    queue: str
    live: bool = True


@dataclass(frozen=True)
class ReportedBuild:
    """What a test says one job did, for `zuul_report`."""

    job: str
    result: str = "SUCCESS"
    seconds: int = 130
    voting: bool = True


def _number(change: Change | int) -> int:
    return change if isinstance(change, int) else change.number


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class ZuulEmulator:
    tenant: str = "example"
    public_url: str | None = None  # links in reports; default: this server's own URL
    gerrit_url: str = "https://review.example.org"
    clock: Callable[[], float] = time.time
    pipelines: list[str] = field(default_factory=lambda: ["check", "gate", "post"])
    requests: list[ZuulRequest] = field(default_factory=list)
    builds: list[dict[str, Any]] = field(default_factory=list)  # newest last
    mode: str = "up"  # "up", "refused", "error", "slow"

    def __post_init__(self) -> None:
        self._items: list[_Item] = []
        self.in_flight = 0  # requests received and not yet answered
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port = 0
        self._changed = asyncio.Event()
        self._released = asyncio.Event()
        self._error_status = 500
        self._delay = 30.0

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> ZuulEmulator:
        app = web.Application(middlewares=[self._middleware])
        t = "/api/tenant/{tenant}"
        app.router.add_get(f"{t}/status", self._status)
        app.router.add_get(f"{t}/builds", self._builds)
        app.router.add_get(f"{t}/build/{{uuid}}", self._build)
        app.router.add_get("/api/tenants", self._tenants)
        app.router.add_get("/t/{tenant}/{kind:build|buildset}/{uuid}", self._page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self._listen()
        return self

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await self._site.start()
        if not self._port:  # the first start picks a free port; up() reuses it
            self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def __aenter__(self) -> ZuulEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def web_url(self) -> str:
        return (self.public_url or self.url).rstrip("/")

    # -- faults ---------------------------------------------------------------------
    async def down(self, mode: str = "refused", *, status: int = 500,
                   delay: float = 30.0) -> None:
        """"refused": nothing listens on the port (open connections are dropped);
        "error": every request gets `status`; "slow": answers wait `delay` seconds."""
        if mode not in ("refused", "error", "slow"):
            raise ValueError(f"unknown mode {mode!r}")
        self.mode, self._error_status, self._delay = mode, status, delay
        self._released.clear()
        if mode == "refused" and self._site is not None:
            await self._site.stop()
            self._site = None

    async def up(self) -> None:
        if self.mode == "refused" and self._runner is not None:
            await self._listen()
        self.mode = "up"
        self._released.set()

    # -- the model tests drive --------------------------------------------------------
    def enqueue(self, change: Change | int, patchset: int | None = None,
                pipeline: str = "check", *, project: str | None = None,
                jobs: Sequence[str] = ("tox-py311",), queue: str = "integrated",
                live: bool = True) -> None:
        number = _number(change)
        if patchset is None:
            patchset = change.current.number if isinstance(change, Change) else 1
        if project is None:
            project = change.project if isinstance(change, Change) else "example/project"
        if pipeline not in self.pipelines:
            self.pipelines.append(pipeline)
        self._items.append(_Item(number, patchset, project, pipeline, tuple(jobs),
                                 self.clock(), queue if pipeline in DEPENDENT else "", live))

    def dequeue(self, change: Change | int, patchset: int | None = None,
                pipeline: str | None = None) -> int:
        """Remove the change's items (of that patch set / pipeline); returns how many."""
        number = _number(change)
        keep = [i for i in self._items if not (
            i.change == number and (patchset is None or i.patchset == patchset)
            and (pipeline is None or i.pipeline == pipeline))]
        removed = len(self._items) - len(keep)
        self._items = keep
        return removed

    def enqueued(self, change: Change | int) -> list[str]:
        number = _number(change)
        return sorted({i.pipeline for i in self._items if i.change == number})

    def add_build(self, change: Change | int, patchset: int, job: str,
                  result: str | None = "SUCCESS", *, pipeline: str = "check",
                  project: str | None = None, voting: bool = True, seconds: float = 130.0,
                  buildset: str | None = None, branch: str = "master") -> dict[str, Any]:
        """Record a finished build (`result=None`: still running); returns its JSON."""
        number = _number(change)
        if project is None:
            project = change.project if isinstance(change, Change) else "example/project"
        seq = next(self._ids)
        uuid = hashlib.sha1(f"{self.tenant}/{number}/{patchset}/{job}/{seq}".encode()
                            ).hexdigest()[:32]
        end = self.clock()
        build = {
            "_id": seq, "uuid": uuid, "job_name": job, "result": result, "held": False,
            "start_time": _iso(end - seconds), "end_time": _iso(end) if result else None,
            "duration": float(seconds) if result else None, "voting": voting,
            "log_url": f"https://logs.example.org/{number}/{patchset}/{pipeline}/{job}/"
                       f"{uuid[:7]}/" if result else None,
            "nodeset": "ubuntu-jammy", "error_detail": None, "final": result is not None,
            "artifacts": [], "provides": [], "project": project, "branch": branch,
            "pipeline": pipeline, "change": number, "patchset": str(patchset),
            "ref": f"refs/changes/{number % 100:02d}/{number}/{patchset}", "newrev": None,
            "ref_url": f"{self.gerrit_url}/{number}", "event_id": uuid[::-1],
            "buildset": {"uuid": buildset or uuid[::-1]},
        }
        self.builds.append(build)
        return build

    def build_url(self, uuid: str, kind: str = "build") -> str:
        return f"{self.web_url}/t/{self.tenant}/{kind}/{uuid}"

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Return predicate()'s first truthy value, re-checked as each request arrives
        and as it is answered."""
        async with asyncio.timeout(timeout):
            while not (value := predicate()):
                self._changed.clear()
                await self._changed.wait()
            return value

    # -- HTTP -------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
        status = 0
        self.in_flight += 1
        self._changed.set()
        try:
            if self.mode == "refused":
                # A pooled connection opened before the outage: drop it like a dead host
                # (the response below is never sent; status 0 records "no answer").
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=503)
            if self.mode == "slow":
                # Released early by up() or stop(), so a test's teardown never waits.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), self._delay)
            if self.mode == "error":
                response: web.StreamResponse = web.Response(
                    status=self._error_status, text="Internal Server Error")
            elif request.match_info.get("tenant", self.tenant) != self.tenant:
                response = web.json_response(
                    {"error": f"Tenant {request.match_info['tenant']} does not exist"},
                    status=404)
            else:
                response = await handler(request)
            status = response.status if self.mode != "refused" else 0
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            self.in_flight -= 1
            self.requests.append(ZuulRequest(request.method, request.path,
                                             dict(request.query), status))
            self._changed.set()

    def _item_json(self, item: _Item, ahead: _Item | None,
                   behind: Sequence[_Item]) -> dict[str, Any]:
        def ref(i: _Item) -> str:
            return f"{i.change},{i.patchset}"
        return {
            "id": ref(item), "ref": f"refs/changes/{item.change % 100:02d}/{item.change}/"
                                    f"{item.patchset}",
            "project": item.project, "url": f"{self.gerrit_url}/c/{item.project}/+/"
                                            f"{item.change}",
            "live": item.live, "active": True, "zuul_ref": f"Z{item.change:08x}",
            "enqueue_time": int(item.enqueued_at * 1000), "remaining_time": 120_000,
            "item_ahead": ref(ahead) if ahead else None,
            "items_behind": [ref(b) for b in behind], "failing_reasons": [],
            "jobs": [{"name": job, "uuid": None, "url": None, "report_url": None,
                      "result": None, "voting": True, "elapsed_time": None,
                      "remaining_time": 120_000, "pipeline": item.pipeline,
                      "queued": True, "tries": 1} for job in item.jobs],
        }

    async def _status(self, request: web.Request) -> web.Response:
        pipelines = []
        for name in self.pipelines:
            items = [i for i in self._items if i.pipeline == name]
            queues: dict[str, list[list[dict[str, Any]]]] = {}
            if name in DEPENDENT:
                for queue in dict.fromkeys(i.queue for i in items):
                    line = [i for i in items if i.queue == queue]
                    queues[queue] = [[self._item_json(i, line[n - 1] if n else None,
                                                      line[n + 1:n + 2])
                                      for n, i in enumerate(line)]]
            else:
                queues[""] = [[self._item_json(i, None, ())] for i in items]
            pipelines.append({
                "name": name, "description": f"The {name} pipeline.", "state": "normal",
                "manager": "dependent" if name in DEPENDENT else "independent",
                "trigger_events": 0, "management_events": 0, "result_events": 0,
                "change_queues": [{"name": q, "window": 20 if q else 0, "heads": heads}
                                  for q, heads in queues.items()]})
        return web.json_response({
            "zuul_version": "9.5.0", "last_reconfigured": 1_700_000_000_000,
            "trigger_event_queue": {"length": 0}, "management_event_queue": {"length": 0},
            "result_event_queue": {"length": 0}, "pipelines": pipelines})

    async def _builds(self, request: web.Request) -> web.Response:
        q = request.query
        found = list(reversed(self.builds))
        for key, field_name in (("change", "change"), ("patchset", "patchset"),
                                ("pipeline", "pipeline"), ("job_name", "job_name"),
                                ("result", "result"), ("project", "project"),
                                ("uuid", "uuid")):
            if key in q:
                found = [b for b in found if str(b[field_name]) == q[key]]
        skip = int(q.get("skip", "0"))
        limit = int(q.get("limit", "50"))
        return web.json_response(found[skip:skip + limit])

    async def _build(self, request: web.Request) -> web.Response:
        uuid = request.match_info["uuid"]
        for build in self.builds:
            if build["uuid"] == uuid:
                return web.json_response(build)
        return web.json_response({"error": f"Build {uuid} not found"}, status=404)

    async def _tenants(self, request: web.Request) -> web.Response:
        return web.json_response([{"name": self.tenant, "projects": 1, "queue": len(
            self._items)}])

    async def _page(self, request: web.Request) -> web.Response:
        kind, uuid = request.match_info["kind"], request.match_info["uuid"]
        return web.Response(text=f"<html><body>Zuul {kind} {uuid}</body></html>",
                            content_type="text/html")


# -- Zuul's reports on the Gerrit emulator ----------------------------------------------

_fallback_ids = itertools.count(1)


def _elapsed(seconds: int) -> str:
    # Zuul's own formatting (zuul/reporter/__init__.py).
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    if h:
        return f" in {h}h {m:02d}m {s:02d}s"
    if m:
        return f" in {m}m {s:02d}s"
    return f" in {s}s"


def _builds_of(result: str, builds: Sequence[str | tuple[str, str] | ReportedBuild]
               ) -> list[ReportedBuild]:
    if not builds:
        return [ReportedBuild("tox-py311", result, 130 if result == "SUCCESS" else 182)]
    out = []
    for b in builds:
        if isinstance(b, ReportedBuild):
            out.append(b)
        elif isinstance(b, tuple):
            out.append(ReportedBuild(b[0], b[1]))
        else:
            out.append(ReportedBuild(b, result))
    return out


async def zuul_report(emu: GerritEmulator, change: Change, account: Account,
                      result: str = "SUCCESS", pipeline: str = "check",
                      builds: Sequence[str | tuple[str, str] | ReportedBuild] = (), *,
                      zuul: ZuulEmulator | None = None, label: str = "Verified",
                      vote: int | None = None, patch_set: int | None = None) -> str:
    """Vote `label` +1 (SUCCESS) or -1 (anything else) as Zuul's `account`, with Zuul's
    comment listing each build's link. `builds`: job names (taking `result`),
    (job, result) pairs or `ReportedBuild`s; default one `tox-py311` job. With `zuul`,
    the builds are also recorded there and the change leaves that pipeline, so the
    REST API and the comment agree. Returns the comment as Zuul wrote it."""
    patchset = patch_set or change.current.number
    jobs = _builds_of(result, builds)
    base, tenant = (zuul.web_url, zuul.tenant) if zuul is not None else (_PUBLIC, "example")
    seed = f"{change.number}/{patchset}/{pipeline}/{next(_fallback_ids)}"
    buildset = hashlib.sha1(seed.encode()).hexdigest()[:32]
    lines = []
    for job in jobs:
        if zuul is not None:
            uuid = zuul.add_build(change, patchset, job.job, job.result, pipeline=pipeline,
                                  voting=job.voting, seconds=job.seconds,
                                  buildset=buildset)["uuid"]
        else:
            uuid = hashlib.sha1(f"{seed}/{job.job}".encode()).hexdigest()[:32]
        voting = "" if job.voting else " (non-voting)"
        lines.append(f"- {job.job} {base}/t/{tenant}/build/{uuid} : {job.result}"
                     f"{_elapsed(job.seconds)}{voting}")
    if zuul is not None:
        zuul.dequeue(change, patchset, pipeline)
    succeeded = result == "SUCCESS"
    head = (f"Build succeeded ({pipeline} pipeline)." if succeeded else
            f"Build failed ({pipeline} pipeline).  For information on how to proceed, "
            f"see\n{FAILURE_DOCS}")
    text = f"{head}\n{base}/t/{tenant}/buildset/{buildset}\n\n" + "\n".join(lines) + "\n"
    value = vote if vote is not None else (1 if succeeded else -1)
    await emu.review(change, account, {label: value}, text, tag=f"autogenerated:zuul:{pipeline}",
                     patch_set=patchset)
    return text
