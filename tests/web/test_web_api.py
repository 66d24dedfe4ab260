"""The JSON API behind the pages, against a bot running with the emulator."""

from __future__ import annotations

import json

import aiohttp

from govbot.actions import ReloadConfig, Remember
from tests.gerrit.harness import ROOT
from tests.web.world import CONFIG, GOV, INFRA, WebWorld, get_json


async def test_the_board_lists_every_open_governed_change_with_its_verdict(
        world: WebWorld) -> None:
    answer = await get_json(world.url("/api/changes"))
    by_number = {c["number"]: c for c in answer["changes"]}
    ch = world.changes
    assert set(by_number) == {c.number for c in ch.values()}
    goals = by_number[ch["goals"].number]
    assert (goals["state"], goals["rule"], goals["body"], goals["project"]) == (
        "pending", "formal-vote", "tc", GOV)
    assert (goals["tally"]["yes"], goals["tally"]["no"]) == (1, 1)
    assert {m["person"] for m in goals["missing"]} == {
        "ada", "chiara", "eun-ji", "farah", "gustavo", "hana", "ivo"}
    assert by_number[ch["charter"].number]["state"] == "blocked"
    assert "charter-change" in by_number[ch["charter"].number]["why"]
    assert by_number[ch["infra"].number]["rule"] == "infra-council"
    assert by_number[ch["infra"].number]["project"] == INFRA
    bot = answer["bot"]
    assert bot["ready"] and len(bot["config_revision"]) == 40 and bot["config_errors"] == []


async def test_filters_and_the_waiting_on_view(world: WebWorld) -> None:
    ch = world.changes

    async def numbers(query: str) -> set[int]:
        return {c["number"] for c in (await get_json(world.url("/api/changes" + query)))
                ["changes"]}

    assert await numbers(f"?project={INFRA}") == {ch["infra"].number}
    assert await numbers("?state=blocked") == {ch["charter"].number}
    assert await numbers("?rule=formal-vote") == {ch["goals"].number}
    assert await numbers("?body=infra-council") == {ch["infra"].number}
    # chiara sits on the TC and on the infrastructure council: by id, Gerrit user or nick
    for name in ("chiara", "CHIARA", "chiara@example.org"):
        assert await numbers(f"?waiting={name}") == {
            ch["goals"].number, ch["docs"].number, ch["infra"].number}
    # bruno voted on the goals and owns the charter change; his IRC nick is bruno_o
    assert await numbers("?waiting=bruno_o") == {ch["docs"].number}
    assert await numbers("?waiting=bokafor") == {ch["docs"].number}
    answer = await get_json(world.url("/api/changes?waiting=nobody-at-all"))
    assert answer["changes"] == [] and answer["person"] is None


async def test_the_verdict_page_data_matches_gerrit_and_the_message_links_to_it(
        world: WebWorld) -> None:
    goals = world.changes["goals"]
    summary = await get_json(world.url(f"/api/changes/{goals.number}"))
    gerrit = world.emu.change(goals.number)
    # the vote table says exactly what Gerrit holds on the current patch set
    in_gerrit = {world.emu.account(a).username: vote.value
                 for a, vote in gerrit.votes_on().get("Rollcall-Vote", {}).items()}
    by_user = {world.config.people[m["person"]].gerrit_username: m["value"]
               for m in summary["members"] if m["value"] is not None}
    assert in_gerrit == by_user == {"bokafor": 1, "dvolk": -1}
    table = {m["person"]: m["value"] for m in summary["members"]}
    assert table["chiara"] is None and len(table) == 9
    assert [(o["person"], o["label"], o["value"]) for o in summary["other_labels"]] == [
        ("hana", "Code-Review", 1)]
    assert summary["other_labels"][0]["why"] == "another label: the rule reads Rollcall-Vote"
    assert summary["select"][0].startswith(f"project {GOV}")
    assert [h["state"] for h in summary["history"]] == ["pending"] * len(summary["history"])
    assert summary["earliest"].startswith("2026-11-09T09:00")
    message = world.posts(goals.number)[-1].body["message"]
    assert message.endswith(f"Details: https://govbot.example.org/change/{goals.number}")


async def test_the_meetings_record_and_its_search(world: WebWorld) -> None:
    answer = await get_json(world.url("/api/meetings"))
    [meeting] = answer["meetings"]
    assert (meeting["name"], meeting["year"]) == ("example_tc", "2026")
    assert set(meeting["files"]) == {"html", "txt", "log_html", "log_txt"}
    async with aiohttp.ClientSession() as http:
        for key, url in meeting["files"].items():  # each file served as written
            async with http.get(world.url(url)) as resp:
                assert resp.status == 200
                written = next(v for k, v in world.minutes.items() if url.endswith(k))
                assert await resp.text() == written, key
        async with http.get(world.url(meeting["page"])) as resp:
            page = await resp.text()
            assert resp.status == 200 and "adopt the 2027 cycle goals as proposed" in page
        async with http.get(world.url("/meetings/example_tc/2026/../../etc")) as resp:
            assert resp.status == 404
    hits = (await get_json(world.url("/api/search?q=zebrafish")))["hits"]
    assert [(h["line"], h["url"]) for h in hits if h["path"].endswith(".log.txt")] == [
        (6, meeting["files"]["log_html"] + "#l-6")]
    agreed = (await get_json(world.url('/api/search?q="cycle goals as proposed"')))["hits"]
    assert any("#agreed" in h["text"] for h in agreed)
    assert (await get_json(world.url('/api/search?q=" AND OR *')))["hits"] == []


async def test_the_simulator_api_judges_a_described_change(world: WebWorld) -> None:
    spec = ("project: example/governance\nowner: ada\nfiles: [resolutions/x.rst]\n"
            "hashtags: [formal-vote]\npatchsets: [{created: 2026-11-02T09:00:00Z}]\n"
            "votes:\n" + "".join(f"  - {{who: {w}, label: Rollcall-Vote, value: 1}}\n"
                                 for w in ("bruno", "chiara", "dmitri"))
            + "now: 2026-11-10T09:00:00Z\n")
    async with aiohttp.ClientSession() as http:
        async with http.post(world.url("/api/simulate"), data=spec) as resp:
            result = await resp.json()
            assert resp.status == 200, result
        assert (result["state"], result["rule"]) == ("ready", "formal-vote")
        async with http.post(world.url("/api/simulate"), data="project: [") as resp:
            assert resp.status == 400 and "YAML" in (await resp.json())["error"]
        statuses = []
        for _ in range(12):  # the burst is 10 a client
            async with http.post(world.url("/api/simulate"), data=spec) as resp:
                statuses.append(resp.status)
        assert statuses[-1] == 429 and 200 in statuses


async def test_a_closed_change_leaves_the_board_and_its_page(world: WebWorld) -> None:
    charter = world.changes["charter"]
    await world.emu.abandon(charter, world.people["bruno"], "withdrawn")
    gone = f"board/{charter.number}"
    await world.recorder.wait_for(lambda actions: any(
        isinstance(a, Remember) and a.key == gone and a.value is None for a in actions), 10)
    await world.settle()
    numbers = {c["number"] for c in (await get_json(world.url("/api/changes")))["changes"]}
    assert charter.number not in numbers and len(numbers) == 3
    async with aiohttp.ClientSession() as http:
        async with http.get(world.url(f"/api/changes/{charter.number}")) as resp:
            assert resp.status == 404
        async with http.get(world.url(f"/change/{charter.number}")) as resp:
            assert resp.status == 404 and "No open governed change" in await resp.text()


async def test_a_rejected_config_and_its_errors_are_on_the_board(world: WebWorld) -> None:
    assert world.daemon is not None and world.daemon.config_holder is not None
    holder = world.daemon.config_holder
    in_force = holder.revision
    await world.emu.push(CONFIG, "master", {"rules.yaml": "rules: {broken: {select: 7}}\n"},
                         world.people["ada"])
    await world.recorder.wait_for(lambda actions: any(
        isinstance(a, ReloadConfig) for a in actions), 10)
    await world.settle()  # the reload it asked for is done
    bot = (await get_json(world.url("/api/changes")))["bot"]
    assert bot["config_revision"] == in_force != bot["attempted_revision"]
    assert bot["config_errors"] and all(e.startswith("rules.yaml:") for e in bot["config_errors"])
    async with aiohttp.ClientSession() as http, http.get(world.url("/")) as resp:
        page = await resp.text()
    assert 'id="config-errors"' in page and bot["config_errors"][0].split(":")[0] in page
    # The recent reloads, newest first: this rejection, then the start-up's load.
    rejected, *older = bot["reloads"]
    assert (rejected["outcome"], rejected["revision"]) == ("rejected",
                                                           bot["attempted_revision"])
    assert rejected["errors"] == bot["config_errors"][:50]
    assert older[-1]["reason"] == "start-up" and older[-1]["outcome"] == "loaded"
    assert 'id="reloads"' in page and "start-up · loaded" in page


async def test_the_simulator_judges_under_a_proposed_config_change(world: WebWorld) -> None:
    rules = (ROOT / "etc" / "governance" / "rules.yaml").read_text()
    shorter = rules.replace("- open: {days: 7, since: first-revision}   # new patch sets",
                            "- open: {days: 1, since: first-revision}   # new patch sets", 1)
    assert shorter != rules
    proposal = await world.emu.create_change(CONFIG, "master", world.people["ada"],
                                             "Formal votes in a day", {"rules.yaml": shorter})
    ref = proposal.current.ref
    spec = ("project: example/governance\nowner: ada\nfiles: [resolutions/x.rst]\n"
            "hashtags: [formal-vote]\npatchsets: [{created: 2026-11-02T09:00:00Z}]\n"
            "votes:\n" + "".join(f"  - {{who: {w}, label: Rollcall-Vote, value: 1}}\n"
                                 for w in ("bruno", "chiara", "dmitri"))
            + "now: 2026-11-04T09:00:00Z\n")
    async with aiohttp.ClientSession() as http:
        async with http.post(world.url("/api/simulate"), data=spec) as resp:
            merged = await resp.json()
        async with http.post(world.url("/api/simulate"), data=spec,
                             params={"config_ref": ref}) as resp:
            proposed = await resp.json()
            assert resp.status == 200, proposed
        async with http.post(world.url("/api/simulate"), data=spec,
                             params={"config_ref": "refs/heads/master"}) as resp:
            assert resp.status == 400 and "a change ref" in (await resp.json())["error"]
    assert (merged["state"], merged["config"]) == ("pending", "merged")
    assert (proposed["state"], proposed["config"]) == ("ready", ref)


async def test_the_simulator_judges_under_an_uploaded_draft(world: WebWorld) -> None:
    rules = (ROOT / "etc" / "governance" / "rules.yaml").read_text()
    shorter = rules.replace("- open: {days: 7, since: first-revision}   # new patch sets",
                            "- open: {days: 1, since: first-revision}   # new patch sets", 1)
    base = ("project: example/governance\nowner: ada\nfiles: [resolutions/x.rst]\n"
            "hashtags: [formal-vote]\npatchsets: [{created: 2026-11-02T09:00:00Z}]\n"
            "votes:\n" + "".join(f"  - {{who: {w}, label: Rollcall-Vote, value: 1}}\n"
                                 for w in ("bruno", "chiara", "dmitri"))
            + "now: 2026-11-04T09:00:00Z\n")

    def with_files(files: dict[str, str]) -> str:
        return base + "config_files: " + json.dumps(files) + "\n"

    async with aiohttp.ClientSession() as http:
        async with http.post(world.url("/api/simulate"),
                             data=with_files({"rules.yaml": shorter})) as resp:
            drafted = await resp.json()
            assert resp.status == 200, drafted
        # The other files are the merged tree's: only rules.yaml changed.
        assert (drafted["state"], drafted["config"]) == ("ready", "draft")
        async with http.post(world.url("/api/simulate"),
                             data=with_files({"rules.yaml": "rules: {broken: {select: 7}}\n"})
                             ) as resp:
            answer = await resp.json()
            assert resp.status == 400 and "rules.yaml:" in answer["error"], answer
        async with http.post(world.url("/api/simulate"),
                             data=with_files({"../outside.yaml": "x: 1\n"})) as resp:
            answer = await resp.json()
            assert resp.status == 400 and "inside the config tree" in answer["error"], answer
