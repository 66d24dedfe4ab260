"""Re-evaluation after a reload reads the open changes page by page through the REST
client, and decides the same whatever the page size (one whole page, or one change a
page)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from govbot.actions import Vote
from govbot.events import ConfigReloaded
from govbot.gerrit.rest import GerritRest
from govbot.plugin import MemoryState, PluginContext
from govbot.plugins.governance.plugin import GovernancePlugin
from tests.gerrit.test_governance_votes import GOV, World, clock, emu, world  # noqa: F401


class WholeQuery:
    """A ChangeReader whose pages are the whole query at once."""

    def __init__(self, rest: GerritRest) -> None:
        self.rest = rest

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        return await self.rest.get_change(change)

    async def query(self, query: str, *, limit: int = 500,
                    options: Sequence[str] | None = None) -> Sequence[Mapping[str, Any]]:
        return await self.rest.query(query, limit=limit, options=options)

    async def file_content(self, change: str, revision: str, path: str) -> bytes | None:
        return await self.rest.file_content(change, revision, path)

    async def query_pages(self, query: str, *, limit: int | None = 500,
                          options: Sequence[str] | None = None
                          ) -> AsyncIterator[Sequence[Mapping[str, Any]]]:
        yield await self.rest.query(query, limit=limit, options=options)


class OnePerPage(WholeQuery):
    """The REST client's pages, one change each, counted."""

    pages = 0

    async def query_pages(self, query: str, *, limit: int | None = 500,
                          options: Sequence[str] | None = None
                          ) -> AsyncIterator[Sequence[Mapping[str, Any]]]:
        async for page in self.rest.query_pages(query, limit=limit, options=options,
                                                page_size=1):
            self.pages += 1
            yield page


async def test_reload_reads_pages_and_decides_as_from_one_query(world: World) -> None:  # noqa: F811
    for n in range(3):
        await world.emu.create_change(GOV, "master", world.people["ada"], f"Goal {n}",
                                      {f"resolutions/g{n}.rst": "x\n"},
                                      hashtags=["formal-vote"])
    daemon = world.daemon
    assert daemon is not None and daemon.config_holder is not None
    assert daemon.gerrit is not None

    async def votes(reader: object) -> list[tuple[str, str]]:
        ctx = PluginContext("governance", "test", daemon.config_holder.config,  # type: ignore[union-attr]
                            reader, MemoryState(), world.clock.now())  # type: ignore[arg-type]
        actions = [a async for a in GovernancePlugin().on_reload(ConfigReloaded("a", "b"), ctx)]
        return sorted((a.change, a.fingerprint) for a in actions if isinstance(a, Vote))

    paged = OnePerPage(daemon.gerrit.rest)
    by_page = await votes(paged)
    assert len(by_page) >= 3 and paged.pages >= 3
    assert by_page == await votes(WholeQuery(daemon.gerrit.rest))
    assert by_page == await votes(daemon.gerrit.rest)


async def test_reload_yields_each_change_before_reading_the_next_page(world: World) -> None:  # noqa: F811
    for n in range(3):
        await world.emu.create_change(GOV, "master", world.people["ada"], f"Goal {n}",
                                      {f"resolutions/g{n}.rst": "x\n"},
                                      hashtags=["formal-vote"])
    daemon = world.daemon
    assert daemon is not None and daemon.config_holder is not None
    assert daemon.gerrit is not None
    paged = OnePerPage(daemon.gerrit.rest)
    ctx = PluginContext("governance", "test", daemon.config_holder.config, paged,  # type: ignore[arg-type]
                        MemoryState(), world.clock.now())
    pages_at_vote: list[int] = []
    async for action in GovernancePlugin().on_reload(ConfigReloaded("a", "b"), ctx):
        if isinstance(action, Vote):
            pages_at_vote.append(paged.pages)
    # A stream: each change's vote comes while its own page is the last one read, so
    # what the reload holds is a page, whatever the number of open changes.
    assert len(pages_at_vote) >= 3 and pages_at_vote == sorted(set(pages_at_vote))
    assert pages_at_vote[0] == 1
