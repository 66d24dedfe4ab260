"""The board lists the next month's deadlines, which the reminders plugin offers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from govbot.config.loader import load_config
from govbot.extensions import WebRequest
from govbot.offers import Deadlines
from govbot.plugin import MemoryState, NoGerrit, PluginContext, PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.plugins.governance.web.routes import board_page, upcoming_deadlines

ROOT = Path(__file__).resolve().parents[2]


def context(now: dt.datetime, *, with_reminders: bool = True) -> PluginContext:
    registry = PluginRegistry(load_plugins(["governance", "reminders"]))
    config = load_config(ROOT / "etc" / "governance", registry.config_sections()).config
    assert config is not None
    offers = registry.offers if with_reminders else {}
    return PluginContext("governance", "web", config, NoGerrit(), MemoryState(), now,
                         offers=offers)


def test_the_deadlines_of_the_next_30_days_soonest_first() -> None:
    ctx = context(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    found = upcoming_deadlines(ctx)
    assert [d.id for d in found] == ["tc-nominations-close"]
    assert found[0].at == dt.datetime(2026, 12, 1, 23, 45, tzinfo=dt.UTC)
    assert found[0].url == "https://governance.example.org/election/"
    # Two months on, the feature freeze is next; the election's is past.
    later = upcoming_deadlines(context(dt.datetime(2027, 2, 1, tzinfo=dt.UTC)))
    assert [d.id for d in later] == ["feature-freeze"]


def test_without_the_reminders_plugin_there_are_none_and_the_board_says_so() -> None:
    ctx = context(dt.datetime(2026, 11, 20, tzinfo=dt.UTC), with_reminders=False)
    assert ctx.offer(Deadlines) is None and upcoming_deadlines(ctx) == []


async def test_the_board_shows_each_deadline_with_its_link() -> None:
    request = WebRequest(method="GET", path="/", params={}, query={}, headers={}, body=b"")
    page = await board_page(request, context(dt.datetime(2026, 11, 20, tzinfo=dt.UTC)))
    assert page.status == 200
    assert ('<a href="https://governance.example.org/election/">TC election: nominations '
            'close</a>') in str(page.body)
    empty = await board_page(request, context(dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
                                              with_reminders=False))
    assert "None in the next 30 days." in str(empty.body)
