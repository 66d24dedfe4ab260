"""The meetings record on the web: `/meetings/` by name and year (the eavesdrop layout),
each meeting's page with its decisions, votes and action items, the four files served
as written, and a full-text search over every minutes and log (`/meetings/search`,
`/api/search`, `/api/meetings`).

Everything is read through the core's minutes library (`ctx.minutes`): the files the
minutes reporter wrote, and its FTS5 index. Restricted minutes are never in it, so they
are never listed, served or found. A search hit in a log links to the line's anchor
(`#l-N` of the `.log.html`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jinja2

from govbot.context import MinutesFile, MinutesLibrary
from govbot.extensions import WebRequest, WebResponse, WebRoute
from govbot.plugin import PluginContext

__all__ = ["MeetingRecord", "meetings_of", "web_routes"]

#: extension -> (key in the API, content type), longest first so `.log.txt` wins.
FORMATS = (("log.html", "log_html", "text/html"), ("log.txt", "log_txt", "text/plain"),
           ("html", "html", "text/html"), ("txt", "txt", "text/plain"))
_DECISIONS = ("#agreed", "#action", "#startvote", "#endvote", "#info", "#link", "#topic")


@dataclass
class MeetingRecord:
    name: str
    year: str
    stem: str  # the file name without its format, e.g. example_tc.2026-11-19-16.00
    meeting: str
    files: dict[str, str] = field(default_factory=dict)  # API key -> URL path

    @property
    def page(self) -> str:
        return f"/meetings/{quote(self.name)}/{quote(self.year)}/{quote(self.stem)}"


def _split(path: str) -> tuple[str, str, str, str] | None:
    """meetings/<name>/<year>/<stem>.<format> -> (name, year, stem, API key)."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "meetings":
        return None
    for ext, key, _ in FORMATS:
        if parts[3].endswith("." + ext):
            return parts[1], parts[2], parts[3][: -len(ext) - 1], key
    return None


def meetings_of(files: Sequence[MinutesFile]) -> list[MeetingRecord]:
    """The meetings among the files, by name, then newest first."""
    found: dict[tuple[str, str, str], MeetingRecord] = {}
    for f in files:
        split = _split(f.path)
        if split is None:
            continue
        name, year, stem, key = split
        record = found.setdefault((name, year, stem), MeetingRecord(name, year, stem, f.meeting))
        record.files[key] = "/" + quote(f.path)
    return sorted(found.values(), key=lambda r: (r.name, [-ord(c) for c in r.stem]))


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("govbot.plugins.meetings", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)


def _html(template: str, status: int = 200, **context: Any) -> WebResponse:
    return WebResponse(status, _env().get_template(template).render(**context), "text/html")


def _json(value: Any, status: int = 200) -> WebResponse:
    return WebResponse(status, json.dumps(value, sort_keys=True), "application/json")


def _library(ctx: PluginContext) -> MinutesLibrary | None:
    return getattr(ctx, "minutes", None)  # absent from cores that predate it


async def _records(ctx: PluginContext) -> list[MeetingRecord]:
    library = _library(ctx)
    return meetings_of(await library.files()) if library is not None else []


async def index_page(request: WebRequest, ctx: PluginContext) -> WebResponse:
    records = await _records(ctx)
    names: dict[str, dict[str, list[MeetingRecord]]] = {}
    for record in records:
        names.setdefault(record.name, {}).setdefault(record.year, []).append(record)
    return _html("web_index.html.j2", names=names, count=len(records))


async def meetings_api(request: WebRequest, ctx: PluginContext) -> WebResponse:
    return _json({"meetings": [{"name": r.name, "year": r.year, "stem": r.stem,
                                "meeting": r.meeting, "page": r.page, "files": r.files}
                               for r in await _records(ctx)]})


def _hit_url(path: str, line: int) -> str:
    if path.endswith(".log.txt"):
        return "/" + quote(path.removesuffix(".txt") + ".html") + f"#l-{line}"
    return "/" + quote(path.removesuffix(".txt") + ".html")


async def _search(request: WebRequest, ctx: PluginContext) -> tuple[str, list[dict[str, Any]]]:
    query = (request.query.get("q") or "").strip()[:200]
    library = _library(ctx)
    if not query or library is None:
        return query, []
    hits = await library.search(query, limit=100)
    return query, [{"path": h.path, "line": h.line, "text": h.text, "meeting": h.meeting,
                    "url": _hit_url(h.path, h.line)} for h in hits]


async def search_page(request: WebRequest, ctx: PluginContext) -> WebResponse:
    query, hits = await _search(request, ctx)
    return _html("web_search.html.j2", query=query, hits=hits)


async def search_api(request: WebRequest, ctx: PluginContext) -> WebResponse:
    query, hits = await _search(request, ctx)
    return _json({"query": query, "hits": hits})


async def file_or_meeting(request: WebRequest, ctx: PluginContext) -> WebResponse:
    """A file as written, or (no format in the name) the meeting's own page."""
    library = _library(ctx)
    p = request.params
    path = f"meetings/{p['name']}/{p['year']}/{p['file']}"
    if library is None:
        return WebResponse(404, "no minutes here\n")
    split = _split(path)
    if split is not None:
        body = await library.read(path)
        if body is None:
            return WebResponse(404, "no such minutes\n")
        kind = next(t for ext, _, t in FORMATS if path.endswith("." + ext))
        return WebResponse(200, body, kind)  # served as written
    record = next((r for r in await _records(ctx)
                   if (r.name, r.year, r.stem) == (p["name"], p["year"], p["file"])), None)
    if record is None:
        return WebResponse(404, "no such meeting\n")
    log = await library.read(f"meetings/{record.name}/{record.year}/{record.stem}.log.txt")
    items = []
    for n, line in enumerate((log or b"").decode("utf-8", "replace").splitlines(), 1):
        said = line.split("> ", 1)[1] if "> " in line else ""
        command = said.split(" ", 1)[0].lower()
        if command in _DECISIONS:
            items.append({"n": n, "kind": command[1:], "text": said[len(command):].strip(),
                          "line": line})
    return _html("web_meeting.html.j2", r=record, items=items)


def web_routes() -> Sequence[WebRoute]:
    return [
        WebRoute("GET", "/meetings/", index_page, "every meeting, by name and year"),
        WebRoute("GET", "/meetings/search", search_page, "full-text search of minutes and logs"),
        WebRoute("GET", "/meetings/{name}/{year}/{file}", file_or_meeting,
                 "a meeting's page, or one of its four files as written"),
        WebRoute("GET", "/api/meetings", meetings_api, "every meeting, as JSON"),
        WebRoute("GET", "/api/search", search_api, "full-text search, as JSON"),
    ]
