"""The parts behind the pages, each on its own: the state's prefix listing, the minutes
library and its search, the rate limit, the auth header, the simulator's command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from govbot.daemon import Daemon
from govbot.extensions import WebRequest, WebResponse, WebRoute
from govbot.plugin import Plugin, PluginContext
from govbot.plugins.governance.web.simulate import RateLimit
from govbot.settings import parse_settings
from govbot.state.search import MinutesIndex, fts_query
from govbot.state.store import StateStore
from tests.clikit import run_cli
from tests.test_daemon import governance_repo, settings_text  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


async def test_items_lists_one_plugins_keys_by_prefix_without_forgotten_ones(
        tmp_path: Path) -> None:
    async with StateStore(tmp_path / "db") as store:
        for plugin, key, value in (("governance", "board/1", {"n": 1}),
                                   ("governance", "board/2", None),
                                   ("governance", "board/10", {"n": 10}),
                                   ("governance", "boards", 1), ("governance", "change/1", 2),
                                   ("other", "board/3", {"n": 3})):
            await store.set_value(plugin, key, value)
        reader = store.reader("governance")
        assert await reader.items("board/") == [("board/1", {"n": 1}),
                                                ("board/10", {"n": 10})]
        assert [k for k, _ in await reader.items("")] == [
            "board/1", "board/10", "boards", "change/1"]


@pytest.mark.parametrize(("typed", "query"), [
    ("agreed", '"agreed"'),
    ('"cycle goals" adopt', '"cycle goals" "adopt"'),
    ("a AND b* OR:", '"a" "AND" "b*" "OR:"'),
    ('"unclosed', '"unclosed"'),
    ('  "" ', ""),
])
def test_a_search_is_words_and_phrases_never_fts_syntax(typed: str, query: str) -> None:
    assert fts_query(typed) == query


async def test_the_minutes_library_lists_serves_and_searches_what_was_written(
        tmp_path: Path) -> None:
    root = tmp_path / "minutes"
    (root / "m" / "2026").mkdir(parents=True)
    path = "meetings/m/2026/m.2026-11-19-16.00.log.txt"
    async with StateStore(tmp_path / "db") as store:
        library = MinutesIndex(store)
        (root / "meetings/m/2026").mkdir(parents=True)
        (root / path).write_text("16:00 <ada> #agreed ship it\n16:01 <bob> fine\n")
        await library.record(root, "m", {path: (root / path).read_text()})
        assert [h.line for h in await library.search("ship")] == [1]
        # written again (a #save, then #endmeeting): the old lines go, the new ones count
        (root / path).write_text("16:00 <ada> hello\n16:01 <ada> #agreed sail away\n")
        await library.record(root, "m", {path: (root / path).read_text()})
        assert await library.search("ship") == []
        assert [(h.line, h.text) for h in await library.search("sail")] == [
            (2, "16:01 <ada> #agreed sail away")]
        assert [f.path for f in await library.files()] == [path]
        assert await library.read(path) == (root / path).read_bytes()
        assert await library.read("meetings/m/2026/other.log.txt") is None
        # restricted minutes are neither listed nor searchable
        await library.record(root, "secret", {"meetings/s/2026/s.txt": "the zebra plan"},
                             restricted=True)
        assert await library.search("zebra") == []
        assert len(await library.files()) == 1


def test_the_rate_limit_allows_a_burst_then_one_request_per_interval() -> None:
    now = [0.0]
    limit = RateLimit(burst=3, rate=0.5, clock=lambda: now[0])
    assert [limit.wait("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.wait("a") == pytest.approx(2.0)
    assert limit.wait("b") == 0.0  # another client has its own bucket
    now[0] = 2.0
    assert limit.wait("a") == 0.0 and limit.wait("a") > 0


async def _page(request: WebRequest, ctx: PluginContext) -> WebResponse:
    return WebResponse(200, f"hello {request.headers.get('X-Forwarded-User')}")


class _Pages(Plugin):
    name = "pages"

    def web_routes(self) -> list[WebRoute]:
        return [WebRoute("GET", "/page", _page)]


async def test_with_auth_header_set_a_page_needs_it_and_health_does_not(
        tmp_path: Path, governance_repo: Path) -> None:  # noqa: F811
    text = settings_text(tmp_path, governance_repo).replace(
        "web: {", "web: {auth_header: X-Forwarded-User, ", 1)
    settings = parse_settings(text, "s.yaml", base=tmp_path)
    daemon = Daemon(settings, dry_run=True, plugins=[_Pages()])
    runner = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.started.wait(), 10)
    assert daemon.web is not None
    base = f"http://127.0.0.1:{daemon.web.bound_port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/page") as resp:
            assert resp.status == 401
        async with http.get(f"{base}/page", headers={"X-Forwarded-User": "ada"}) as resp:
            assert resp.status == 200 and await resp.text() == "hello ada"
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
    daemon.stop()
    assert await asyncio.wait_for(runner, 10) == 0


def test_govbot_simulate_judges_a_change_file_offline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    change = tmp_path / "change.yaml"
    change.write_text("project: example/governance\nowner: ada\n"
                      "files: [charter.rst]\nhashtags: [charter-change]\n"
                      "patchsets: [{created: 2026-11-02T09:00:00Z}]\n"
                      "now: 2026-11-03T09:00:00Z\n")
    config = str(ROOT / "etc" / "governance")
    status = run_cli("simulate", change, "--config-dir", config)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.startswith("Governance check: PENDING — rule charter-change")
    change.write_text("project: example/governance\nbogus: 1\n")
    assert run_cli("simulate", change, "--config-dir", config) == 2
    assert "unknown key(s) bogus" in capsys.readouterr().err
