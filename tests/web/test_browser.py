"""The pages in a real browser (Debian's chromium, via selenium), against a bot running
with the emulator and the example governance data (world.py).

Each test also checks that no page logged a console error. With GOVBOT_SCREENSHOTS set
to a directory, `test_screenshots` writes the README's pictures there:

    GOVBOT_SCREENSHOTS=docs/images .venv/bin/python -m pytest -q tests/web -k screenshots
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import PHONE, Browser, chrome_driver
from tests.web.world import INFRA, WebWorld, get_json


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    yield from chrome_driver()


@pytest.fixture
async def browser(driver: Any, world: WebWorld) -> AsyncIterator[Browser]:
    page = Browser(driver, world.base)
    await page.resize(1200, 900)
    await page.console_errors()  # forget an earlier test's
    yield page
    assert await page.console_errors() == []


async def _numbers(page: Browser) -> set[int]:
    return {int(n) for n in await page.attrs("tr.change", "data-number")}


async def test_the_board_shows_each_change_its_verdict_and_missing_voters(
        browser: Browser, world: WebWorld) -> None:
    ch = world.changes
    await browser.open("/")
    assert await _numbers(browser) == {c.number for c in ch.values()}
    states = dict(zip(await browser.attrs("tr.change", "data-number"),
                      await browser.attrs("tr.change", "data-state"), strict=True))
    assert states == {str(ch["goals"].number): "pending", str(ch["charter"].number): "blocked",
                      str(ch["docs"].number): "pending", str(ch["infra"].number): "pending"}
    row = f'tr.change[data-number="{ch["goals"].number}"]'
    [missing] = await browser.texts(f"{row} td.missing")
    assert missing.split(", ") == [world.config.people[p].name for p in (
        "ada", "chiara", "eun-ji", "farah", "gustavo", "hana", "ivo")]
    [tally] = await browser.texts(f"{row} td.tally")
    assert tally.startswith("1 yes, 1 no")
    assert await browser.texts("h2[id^=rule-]") != []
    assert (await browser.texts("#status"))[0].startswith("ready config ")
    # the Technical Committee meets on Thursdays at 15:00 (etc/governance/meetings/tc.yaml)
    assert "Thu 2026-11-05 15:00 UTC: tc in #example-tc (chair Ada Lindqvist (ada))" in (
        await browser.texts("li.upcoming"))


async def test_each_filter_and_the_waiting_on_view_change_the_list(
        browser: Browser, world: WebWorld) -> None:
    ch = world.changes
    await browser.open("/")
    await browser.choose("#filter-project", INFRA)
    await browser.click("#apply")
    assert await _numbers(browser) == {ch["infra"].number}
    await browser.open("/")
    await browser.choose("#filter-state", "blocked")
    await browser.click("#apply")
    assert await _numbers(browser) == {ch["charter"].number}
    await browser.open("/")
    await browser.choose("#filter-rule", "formal-vote")
    await browser.click("#apply")
    assert await _numbers(browser) == {ch["goals"].number}
    await browser.open("/")
    await browser.choose("#filter-body", "infra-council")
    await browser.click("#apply")
    assert await _numbers(browser) == {ch["infra"].number}
    await browser.open("/")
    await browser.fill("#filter-waiting", "bruno_o")  # an IRC nick
    await browser.click("#apply")
    assert await _numbers(browser) == {ch["docs"].number}
    assert (await browser.texts("h1"))[0] == "Waiting on Bruno Okafor"
    # a missing voter's name links to what waits on them
    await browser.open("/")
    await browser.click(f'tr.change[data-number="{ch["infra"].number}"] td.missing a')
    assert "waiting=" in await browser.url()
    assert ch["infra"].number in await _numbers(browser)


async def test_a_change_link_opens_its_verdict_page_matching_gerrit(
        browser: Browser, world: WebWorld) -> None:
    goals = world.changes["goals"]
    await browser.open("/")
    await browser.click(f'tr.change[data-number="{goals.number}"] a.change-link')
    assert (await browser.url()).endswith(f"/change/{goals.number}")
    assert await browser.texts("#verdict") == ["pending"]
    assert (await browser.texts("#rule"))[0].startswith("formal-vote")
    people = await browser.attrs("#votes tr.vote", "data-person")
    values = await browser.attrs("#votes tr.vote", "data-value")
    shown = {world.config.people[p].gerrit_username: int(v)
             for p, v in zip(people, values, strict=True) if v}
    gerrit = world.emu.change(goals.number).votes_on().get("Rollcall-Vote", {})
    assert shown == {world.emu.account(a).username: vote.value for a, vote in gerrit.items()}
    assert len(people) == 9  # every member, voted or not
    assert "2026-11-09 09:00 UTC" in (await browser.texts("#earliest"))[0]
    assert await browser.texts("#history li") != []
    message = world.posts(goals.number)[-1].body["message"]
    assert message.rsplit("Details: ", 1)[1].endswith(f"/change/{goals.number}")


async def test_the_minutes_pages_render_their_links_resolve_and_search_jumps_to_the_line(
        browser: Browser, world: WebWorld) -> None:
    await browser.open("/meetings/")
    links = await browser.attrs("a.file", "href")
    assert len(links) == 4
    for link in links:
        await browser.open(link)
        assert "no such" not in (await browser.texts("body"))[0]
    await browser.open("/meetings/")
    await browser.click("a.meeting-link")
    assert "adopt the 2027 cycle goals as proposed" in " ".join(await browser.texts("#items li"))
    await browser.open("/meetings/")
    await browser.fill("#q", "cycle goals as proposed")
    await browser.click("#go")
    hits = await browser.texts("li.hit")
    assert any("#agreed" in h for h in hits)
    await browser.click('a.hit-link[href*=".log.html#"]')  # the log's line, not the minutes
    url = await browser.url()
    assert url.endswith(".log.html#l-4")
    assert "#agreed" in await browser.script("return document.getElementById('l-4').textContent")


async def test_the_simulator_form_gives_the_verdict_the_api_gives(
        browser: Browser, world: WebWorld) -> None:
    await browser.open("/simulate")
    text = await browser.script("return document.getElementById('change').value")
    await browser.click("#run")
    [shown] = await browser.texts("#verdict")
    import aiohttp

    async with aiohttp.ClientSession() as http, \
            http.post(world.url("/api/simulate"), data=text) as resp:
        api = await resp.json()
    assert shown == api["state"] and (await browser.texts("#message"))[0] == api["message"]


async def test_a_phone_sized_viewport_has_no_horizontal_scroll(
        browser: Browser, world: WebWorld) -> None:
    await browser.resize(*PHONE)
    meeting = (await get_json(world.url("/api/meetings")))["meetings"][0]["page"]
    for path in ("/", f"/change/{world.changes['goals'].number}", "/?waiting=chiara",
                 "/meetings/", meeting, "/meetings/search?q=goals", "/simulate"):
        await browser.open(path)
        width = await browser.script("return window.innerWidth")
        scroll = await browser.script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0] and scroll <= width, (path, scroll, width)


async def test_screenshots(browser: Browser, world: WebWorld) -> None:
    """The README's pictures (only with GOVBOT_SCREENSHOTS=DIR)."""
    target = os.environ.get("GOVBOT_SCREENSHOTS")
    if not target:
        pytest.skip("set GOVBOT_SCREENSHOTS=docs/images to write the screenshots")
    await browser.resize(1100, 1150)
    await browser.open("/")
    await browser.screenshot(Path(target) / "board.png")
    await browser.resize(1100, 1300)
    await browser.open(f"/change/{world.changes['goals'].number}")
    await browser.screenshot(Path(target) / "verdict.png")
