"""The governance plugin's pages and their JSON API: each handler reads the plugin's own
state (what it remembered when it last decided on each open change) and renders a
Jinja2 template, autoescaped. None reads Gerrit: a board of 5,000 changes is one
state read and one render (benchmarks/web.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup, escape

from govbot.config.model import GovernanceConfig
from govbot.extensions import WebRequest, WebResponse, WebRoute
from govbot.offers import Deadlines, MeetingSchedules, ScheduledMeeting, UpcomingDeadline
from govbot.plugin import PluginContext

from ..ballot import PeopleIndex, format_value
from ..model import RulesConfig
from ..summary import ROW_PREFIX, key_of, loads
from .board import Filters, build_board

__all__ = ["environment", "html", "json_response", "routes"]

Rules = Callable[[GovernanceConfig], RulesConfig | None]
People = Callable[[GovernanceConfig], PeopleIndex]


def _when(value: str | None) -> str:
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    if moment.second or moment.microsecond:  # rounded up, like the Gerrit message
        moment = moment.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _vote(value: int | None) -> str:
    return format_value(value)


def _voter(m: Mapping[str, Any]) -> str:
    name = escape(m.get("name") or "")
    person = m.get("person")
    return f'<a href="/?waiting={quote(person)}">{name}</a>' if person else str(name)


def rows_html(rows: Sequence[Mapping[str, Any]]) -> Markup:
    """The board's table rows. Formatted here, not in a template loop: a Jinja loop with
    autoescaped fields costs several times more, and the board may list 20,000. Every
    value goes through `escape` (or `quote`) before it meets markup."""
    out = []
    for row in rows:
        number = int(row["number"])
        state = escape(row.get("state") or "")
        tally = row.get("tally") or {}
        body = escape(row.get("body") or "")
        where = escape(row.get("project") or "") + (Markup(" · ") + body if body else "")
        missing = ", ".join(_voter(m) for m in row.get("missing") or ())
        if row.get("earliest"):
            when = escape(_when(row["earliest"]))
        elif row.get("state") != "ready" and row.get("why"):
            when = escape(row["why"])
        else:
            when = Markup("")
        out.append(
            f'<tr class="change" data-number="{number}" data-state="{state}">'
            f'<td><a class="change-link" href="/change/{number}">{number}</a> '
            f'{escape(row.get("subject") or "")}<br><span class="muted">{where}</span></td>'
            f'<td><span class="state {state}">{state}</span></td>'
            f'<td class="tally">{int(tally.get("yes", 0))} yes, {int(tally.get("no", 0))} no'
            f'<br><span class="muted">{int(tally.get("voted", 0))} of '
            f'{int(tally.get("members", 0))} voted</span></td>'
            f'<td class="missing">{missing}</td><td>{when}</td></tr>')
    return Markup("\n".join(out))


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("govbot.plugins.governance.web", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    env.filters["when"] = _when
    env.filters["vote"] = _vote
    env.globals["rows_html"] = rows_html
    return env


def html(template: str, status: int = 200, **context: Any) -> WebResponse:
    body = environment().get_template(template).render(**context)
    return WebResponse(status, body, "text/html")


def json_response(value: Any, status: int = 200) -> WebResponse:
    return WebResponse(status, json.dumps(value, sort_keys=True, default=str),
                       "application/json")


async def _rows(ctx: PluginContext) -> list[dict[str, Any]]:
    return [v for _, v in await ctx.state.items(ROW_PREFIX) if isinstance(v, dict)]


def _query(filters: Filters) -> str:
    active = filters.active()
    return "?" + urlencode(active) if active else ""


async def board_page(request: WebRequest, ctx: PluginContext) -> WebResponse:
    filters = Filters.of(request.query)
    board = build_board(await _rows(ctx), filters, ctx.config)
    reader = ctx.status
    return html("board.html.j2", board=board, filters=filters, query=_query(filters),
                bot=reader.status() if reader is not None else None,
                meetings=upcoming_meetings(ctx), deadlines=upcoming_deadlines(ctx))


def upcoming_meetings(ctx: PluginContext, days: int = 7, limit: int = 20
                      ) -> list[ScheduledMeeting]:
    """The next week's meetings in the bodies' channels, from the schedules the reminders
    plugin offers (none when it is not enabled)."""
    schedules = ctx.offer(MeetingSchedules)
    if schedules is None:
        return []
    channels = sorted({b.channel for b in ctx.config.bodies.values() if b.channel})
    found = [m for channel in channels for m in schedules.meetings_at(
        ctx.config, channel, ctx.now, early=dt.timedelta(days=days))]
    return sorted(found, key=lambda m: (m.start, m.channel))[:limit]


def upcoming_deadlines(ctx: PluginContext, days: int = 30) -> list[UpcomingDeadline]:
    """The next month's deadlines, from the reminders plugin's `deadlines.yaml` (none when
    it is not enabled)."""
    deadlines = ctx.offer(Deadlines)
    if deadlines is None:
        return []
    return list(deadlines.deadlines_between(ctx.config, ctx.now,
                                            ctx.now + dt.timedelta(days=days)))


async def changes_api(request: WebRequest, ctx: PluginContext) -> WebResponse:
    filters = Filters.of(request.query)
    board = build_board(await _rows(ctx), filters, ctx.config)
    reader = ctx.status
    bot = dataclasses.asdict(reader.status()) if reader is not None else None
    return json_response({"changes": board.rows, "total": board.total,
                          "filters": filters.active(), "person": board.person, "bot": bot})


async def _summary(request: WebRequest, ctx: PluginContext) -> Mapping[str, Any] | None:
    number = request.params.get("number", "")
    if not number.isdigit():
        return None
    return loads(await ctx.state.get(key_of(int(number))))


async def change_page(request: WebRequest, ctx: PluginContext) -> WebResponse:
    summary = await _summary(request, ctx)
    if summary is None:
        return html("missing.html.j2", 404, number=request.params.get("number", ""))
    return html("change.html.j2", c=summary)


async def change_api(request: WebRequest, ctx: PluginContext) -> WebResponse:
    summary = await _summary(request, ctx)
    if summary is None:
        return json_response({"error": "not an open governed change"}, 404)
    return json_response(summary)


async def favicon(request: WebRequest, ctx: PluginContext) -> WebResponse:
    # Browsers ask for it on every page, the minutes files included: no content, no 404.
    return WebResponse(204, b"", "image/x-icon")


def routes(rules: Rules, people: People) -> Sequence[WebRoute]:
    from .simulate import simulator

    simulate = simulator(rules, people)
    return [
        WebRoute("GET", "/", board_page, "the governance board"),
        WebRoute("GET", "/api/changes", changes_api, "the board as JSON"),
        WebRoute("GET", "/change/{number}", change_page, "a change's verdict page"),
        WebRoute("GET", "/api/changes/{number}", change_api, "a change's verdict as JSON"),
        WebRoute("GET", "/simulate", simulate.page, "the rule simulator's form"),
        WebRoute("POST", "/simulate", simulate.page, "the rule simulator's form, answered"),
        WebRoute("POST", "/api/simulate", simulate.api, "the rule simulator"),
        WebRoute("GET", "/favicon.ico", favicon, "no icon (so no 404 in the console)"),
    ]
