"""REST over real HTTP: prefix, auth, queries and paging, Set Review rules, events-log,
recording and fault injection."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from govbot.testing.gerrit import XSSI_PREFIX, Change, FakeClock, GerritEmulator
from govbot.testing.gerrit.client import RestClient, basic_auth_header

START = 1_700_000_000  # the clock fixture's start


def cid(change: Change) -> str:
    return f"{quote(change.project, safe='')}~{change.number}"


def review_path(change: Change, rev: str = "current") -> str:
    return f"/a/changes/{cid(change)}/revisions/{rev}/review"


async def test_json_has_xssi_prefix_and_errors_are_text(emu: GerritEmulator, people: Any) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(emu.http_url + "/config/server/version") as resp:
            assert resp.content_type == "application/json"
            assert await resp.text() == XSSI_PREFIX + '"3.9.1"\n'
        async with session.get(emu.http_url + "/changes/nope~1") as resp:
            assert resp.status == 404
            assert resp.content_type == "text/plain"
            assert await resp.text() == "Not found: nope~1\n"


async def test_authenticated_paths_need_basic_auth(emu: GerritEmulator, people: Any,
                                                   rest: RestClient) -> None:
    status, _ = await rest.get("/a/changes/")
    assert status == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"alice:wrong").decode()}
    assert (await rest.get("/a/changes/", headers=wrong))[0] == 401
    assert (await rest.get("/a/changes/", people.alice))[0] == 200
    assert (await rest.get("/changes/"))[0] == 200  # anonymous read
    assert await rest.get("/accounts/self") == (403, "Authentication required\n")
    async with aiohttp.ClientSession() as session:
        async with session.get(emu.http_url + "/a/changes/") as resp:
            assert resp.headers["WWW-Authenticate"] == 'Basic realm="Gerrit Code Review"'


async def test_query_paging(emu: GerritEmulator, people: Any, rest: RestClient,
                            clock: FakeClock) -> None:
    changes = []
    for i in range(5):
        clock.advance(minutes=1)
        changes.append(await emu.create_change(people.project, "master", people.alice, f"c{i}",
                                               {f"f{i}": "x\n"}))
    newest_first = [c.number for c in reversed(changes)]
    _, page1 = await rest.get("/changes/?q=status:open&n=2")
    _, page2 = await rest.get("/changes/?q=status:open&n=2&S=2")
    _, page3 = await rest.get("/changes/?q=status:open&n=2&S=4")
    assert [c["_number"] for c in page1 + page2 + page3] == newest_first
    assert page1[-1]["_more_changes"] is True and "_more_changes" not in page1[0]
    assert page2[-1]["_more_changes"] is True
    assert all("_more_changes" not in c for c in page3)
    _, limited = await rest.get("/changes/?q=status:open+limit:3")
    assert len(limited) == 3 and limited[-1]["_more_changes"] is True
    _, multi = await rest.get("/changes/?q=change:1&q=change:2")
    assert [[c["_number"] for c in page] for page in multi] == [[1], [2]]


@pytest.fixture
async def corpus(emu: GerritEmulator, people: Any, clock: FakeClock) -> dict[str, Change]:
    """Four changes with distinct attributes; the clock ends 3 days after the first."""
    p = people
    await emu.create_project("openstack/nova")
    await emu.create_branch(p.project, "stable", p.alice)
    charter = await emu.create_change(p.project, "master", p.alice, "Charter", {"c": "1\n"},
                                      hashtags=["charter"], topic="tc-vote")
    await emu.review(charter, p.bob, {"Code-Review": 2})
    await emu.review(charter, p.carol, {"Rollcall-Vote": -1})
    clock.advance(days=1)
    stable = await emu.create_change(p.project, "stable", p.bob, "Backport", {"s": "1\n"})
    await emu.merge(stable, p.bob)
    nova = await emu.create_change("openstack/nova", "master", p.alice, "Nova", {"n": "1\n"})
    await emu.abandon(nova, p.alice)
    clock.advance(days=2)
    wip = await emu.create_change(p.project, "master", p.carol, "Draft", {"w": "1\n"}, wip=True)
    await emu.review(wip, p.alice, {"Code-Review": 1})
    return {"charter": charter, "stable": stable, "nova": nova, "wip": wip}


@pytest.mark.parametrize(("query", "expected"), [
    ("status:open", {"charter", "wip"}),
    ("is:open", {"charter", "wip"}),
    ("status:merged", {"stable"}),
    ("status:abandoned", {"nova"}),
    ("is:closed", {"stable", "nova"}),
    ("project:openstack/nova", {"nova"}),
    ("project:openstack/governance branch:stable", {"stable"}),
    ("branch:master status:open", {"charter", "wip"}),
    ("hashtag:charter", {"charter"}),
    ("topic:tc-vote", {"charter"}),
    ("owner:alice", {"charter", "nova"}),
    ("owner:bob@example.com", {"stable"}),
    ("owner:1000002", {"wip"}),
    ("label:Code-Review=+2", {"charter"}),
    ("label:Code-Review=2", {"charter"}),
    ("label:Code-Review+1", {"wip"}),
    ("label:Code-Review>=1", {"charter", "wip"}),
    ("label:Code-Review=+2,user=bob", {"charter"}),
    ("label:Code-Review=+2,alice", set()),
    ("label:Rollcall-Vote=-1", {"charter"}),
    ("label:Rollcall-Vote<0", {"charter"}),
    ('after:"2023-11-16 00:00:00"', {"wip"}),
    ("since:2023-11-15", {"stable", "nova", "wip"}),
    ('before:"2023-11-15 00:00:00"', {"charter"}),
    ("-age:1d", {"wip"}),
    ("age:2d", {"charter", "stable", "nova"}),
    ("change:1", {"charter"}),
    ("is:wip", {"wip"}),
    ("status:open -is:wip", {"charter"}),
    ("status:open NOT is:wip", {"charter"}),
    ("status:merged OR status:abandoned", {"stable", "nova"}),
    ("(owner:alice OR owner:bob) status:open", {"charter"}),
    ("file:w", {"wip"}),
])
async def test_query_operators(rest: RestClient, corpus: dict[str, Change], query: str,
                               expected: set[str]) -> None:
    status, found = await rest.get("/changes/", params={"q": query})
    assert status == 200, found
    names = {n for n, c in corpus.items() if c.number in {f["_number"] for f in found}}
    assert names == expected


async def test_query_by_change_id_and_bad_operator(rest: RestClient,
                                                   corpus: dict[str, Change]) -> None:
    _, found = await rest.get("/changes/", params={"q": f"change:{corpus['nova'].change_id}"})
    assert [c["_number"] for c in found] == [corpus["nova"].number]
    status, text = await rest.get("/changes/", params={"q": "frobnicate:yes"})
    assert (status, text) == (400, "Unsupported operator frobnicate:yes\n")


async def test_query_options(rest: RestClient, people: Any, corpus: dict[str, Change]) -> None:
    charter = corpus["charter"]
    _, found = await rest.get("/a/changes/", people.alice, params={
        "q": "change:1", "o": ["DETAILED_LABELS", "CURRENT_REVISION", "CURRENT_FILES",
                               "MESSAGES", "DETAILED_ACCOUNTS"]})
    info = found[0]
    assert info["id"] == f"{charter.project}~{charter.number}"
    assert info["owner"] == {"_account_id": people.alice.account_id, "name": "Alice Liddell",
                             "email": "alice@example.com", "username": "alice"}
    assert info["topic"] == "tc-vote" and info["hashtags"] == ["charter"]
    cr = info["labels"]["Code-Review"]
    assert cr["approved"]["username"] == "bob"
    bob_vote = next(v for v in cr["all"] if v["_account_id"] == people.bob.account_id)
    assert bob_vote["value"] == 2 and bob_vote["date"].startswith("2023-11-14 22:13:20.")
    assert bob_vote["permitted_voting_range"] == {"min": -2, "max": 2}
    assert cr["values"][" 0"] == "No score" and "+2" in cr["values"]
    assert info["labels"]["Rollcall-Vote"]["rejected"]["username"] == "carol"
    assert info["permitted_labels"]["Code-Review"] == ["-2", "-1", " 0", "+1", "+2"]
    assert "Rollcall-Vote" not in info["permitted_labels"]
    rev = info["revisions"][info["current_revision"]]
    assert rev["_number"] == 1 and rev["ref"] == charter.current.ref and rev["kind"] == "REWORK"
    assert rev["files"] == {"c": {"status": "A", "lines_inserted": 1, "size_delta": 2,
                                  "size": 2}}
    messages = [m["message"] for m in info["messages"]]
    assert messages == ["Uploaded patch set 1.", "Patch Set 1: Code-Review+2",
                        "Patch Set 1: Rollcall-Vote-1"]
    assert info["messages"][0]["tag"] == "autogenerated:gerrit:newPatchSet"
    # Without DETAILED_ACCOUNTS, accounts are ids only, as in Gerrit
    _, plain = await rest.get("/changes/?q=change:1&o=DETAILED_LABELS")
    assert plain[0]["owner"] == {"_account_id": people.alice.account_id}
    assert "permitted_labels" not in plain[0]  # anonymous


async def test_change_identifiers_and_detail(rest: RestClient, people: Any,
                                             corpus: dict[str, Change]) -> None:
    c = corpus["charter"]
    for ident in (cid(c), str(c.number), c.change_id,
                  f"{quote(c.project, safe='')}~master~{c.change_id}"):
        status, info = await rest.get(f"/changes/{ident}")
        assert status == 200 and info["_number"] == c.number, ident
    _, detail = await rest.get(f"/a/changes/{cid(c)}/detail", people.bob)
    assert detail["labels"]["Code-Review"]["all"][0]["username"] == "bob"
    assert len(detail["messages"]) == 3
    assert (await rest.get(f"/changes/{quote(c.project, safe='')}~99"))[0] == 404


async def test_files_endpoint(emu: GerritEmulator, rest: RestClient, people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "Files",
                                     {"a.txt": "1\n2\n", "b.txt": "x\n"})
    ps2 = await emu.upload_patchset(change, people.alice, {"a.txt": "1\n3\n", "b.txt": None})
    for rev in ("current", "2", ps2.revision, ps2.revision[:8]):
        status, files = await rest.get(f"/changes/{cid(change)}/revisions/{rev}/files/")
        assert status == 200
        assert set(files) == {"/COMMIT_MSG", "a.txt"}, rev  # b.txt never reached the branch
    _, files1 = await rest.get(f"/changes/{cid(change)}/revisions/1/files")
    assert files1["a.txt"] == {"status": "A", "lines_inserted": 2, "size_delta": 4, "size": 4}
    assert files1["/COMMIT_MSG"]["status"] == "A"


async def test_review_success_records_vote_and_emits(emu: GerritEmulator, people: Any,
                                                     rest: RestClient) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    body = {"message": "Rule 'charter' applies.", "labels": {"Governance-Check": 1},
            "tag": "autogenerated:govbot:governance", "notify": "NONE",
            "omit_duplicate_comments": True}
    status, result = await rest.post(review_path(change), people.bot, json=body)
    assert (status, result) == (200, {"labels": {"Governance-Check": 1}})
    event = emu.events_of("comment-added")[-1]
    assert event["comment"] == "Patch Set 1: Governance-Check+1\n\nRule 'charter' applies."
    gc = next(a for a in event["approvals"] if a["type"] == "Governance-Check")
    assert gc == {"type": "Governance-Check", "description": "Governance-Check", "value": "1",
                  "oldValue": "0"}
    _, info = await rest.get(f"/changes/{cid(change)}?o=DETAILED_LABELS&o=MESSAGES")
    vote = info["labels"]["Governance-Check"]["all"][0]
    assert vote["value"] == 1 and vote["tag"] == "autogenerated:govbot:governance"
    assert info["messages"][-1]["tag"] == "autogenerated:govbot:governance"
    call = emu.rest_calls(method="POST", path_contains="/review")[0]
    assert (call.account, call.status, call.body) == ("govbot", 200, body)
    assert call.path == f"/a/changes/{change.project}~{change.number}/revisions/current/review"


@pytest.mark.parametrize(("who", "labels", "message", "status", "text"), [
    ("eve", {"Code-Review": 2}, "", 403, 'Applying label "Code-Review": 2 is restricted'),
    ("alice", {"Governance-Check": 1}, "", 403,
     'Applying label "Governance-Check": 1 is restricted'),
    ("govbot", {"Governance-Check": 2}, "", 400,
     'label "Governance-Check": 2 is not a valid value'),
    ("govbot", {"Nonsense": 1}, "", 400, 'label "Nonsense" is not a configured label'),
    ("govbot", {}, "x" * 16385, 400, "One or more comments were rejected in validation: "
     "Comment size exceeds limit (16385 > 16384)"),
])
async def test_review_rejections(emu: GerritEmulator, people: Any, rest: RestClient, who: str,
                                 labels: dict[str, int], message: str, status: int,
                                 text: str) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    before = len(emu.events)
    result = await rest.post(review_path(change), emu.account(who),
                             json={"labels": labels, "message": message})
    assert result == (status, text + "\n")
    assert len(emu.events) == before  # nothing recorded, nothing emitted


async def test_review_message_at_limit_is_accepted(emu: GerritEmulator, people: Any,
                                                   rest: RestClient) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    status, _ = await rest.post(review_path(change), people.bot, json={"message": "é" * 16384})
    assert status == 200


async def test_review_on_closed_changes(emu: GerritEmulator, people: Any,
                                        rest: RestClient) -> None:
    abandoned = await emu.create_change(people.project, "master", people.alice, "a", {"a": "1\n"})
    await emu.abandon(abandoned, people.alice)
    assert await rest.post(review_path(abandoned), people.bot,
                           json={"labels": {"Verified": 1}}) == (409, "change is closed\n")
    # a message alone is still allowed on a closed change, without approvals
    assert (await rest.post(review_path(abandoned), people.bot, json={"message": "hi"}))[0] == 200
    assert "approvals" not in emu.events_of("comment-added")[-1]

    merged = await emu.create_change(people.project, "master", people.alice, "m", {"m": "1\n"})
    await emu.review(merged, people.bob, {"Code-Review": 2})
    await emu.merge(merged, people.bob)
    assert await rest.post(review_path(merged), people.bot, json={
        "labels": {"Governance-Check": 1}}) == (
        409, "Voting on labels disallowed after submit: Governance-Check\n")
    assert await rest.post(review_path(merged), people.bob, json={
        "labels": {"Code-Review": 1}}) == (
        409, "Cannot reduce vote on labels for closed change: Code-Review\n")


async def test_review_on_outdated_patch_set(emu: GerritEmulator, people: Any,
                                            rest: RestClient) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    await emu.upload_patchset(change, people.alice, {"a": "2\n"})
    status, _ = await rest.post(review_path(change, "1"), people.bot,
                                json={"labels": {"Verified": 1}})
    assert status == 200  # Gerrit >= 3.7 records it on patch set 1 ...
    assert change.vote_of(people.bot.account_id, "Verified", 1) == 1
    assert change.vote_of(people.bot.account_id, "Verified") == 0  # ... not on the current one
    assert emu.events_of("comment-added")[-1]["patchSet"]["number"] == 1
    emu.settings.outdated_votes = "reject"
    status, text = await rest.post(review_path(change, "1"), people.bot,
                                   json={"labels": {"Verified": 1}})
    assert (status, text) == (409, "cannot vote on outdated patch set 1\n")


async def test_review_needs_authentication(emu: GerritEmulator, people: Any,
                                           rest: RestClient) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    path = review_path(change).removeprefix("/a")
    assert await rest.post(path, json={"labels": {}}) == (403, "Authentication required\n")
    assert (await rest.post(review_path(change), json={"labels": {}}))[0] == 401


async def test_accounts_and_groups(emu: GerritEmulator, people: Any, rest: RestClient) -> None:
    emu.add_group("governance", includes=["tc"])
    emu.add_group_member("governance", people.bot)
    for ident in ("self", str(people.carol.account_id), "carol", "carol@example.com"):
        status, info = await rest.get(f"/a/accounts/{ident}", people.carol)
        assert status == 200
        assert {k: info[k] for k in ("_account_id", "username", "email", "name")} == {
            "_account_id": people.carol.account_id, "username": "carol",
            "email": "carol@example.com", "name": "Carol Danvers"}
    assert (await rest.get("/a/accounts/nobody", people.carol))[0] == 404
    _, direct = await rest.get("/a/groups/governance/members/", people.bot)
    assert [m["username"] for m in direct] == ["govbot"]
    _, recursive = await rest.get("/a/groups/governance/members/?recursive", people.bot)
    assert sorted(m["username"] for m in recursive) == ["carol", "dave", "govbot"]
    uuid = emu.core.groups["tc"].uuid
    _, by_uuid = await rest.get(f"/a/groups/{uuid}/members/", people.bot)
    assert len(by_uuid) == 2


async def test_events_log(emu: GerritEmulator, people: Any, rest: RestClient,
                          clock: FakeClock) -> None:
    early = await emu.create_change(people.project, "master", people.alice, "early", {"a": "1\n"})
    clock.advance(hours=2)
    late = await emu.create_change(people.project, "master", people.alice, "late", {"b": "1\n"})
    status, text = await rest.get("/a/plugins/events-log/events/",
                                  people.bot, params={"t1": "2023-11-15 00:00:00"})
    assert status == 200
    events = [json.loads(line) for line in text.splitlines()]
    assert {e["change"]["number"] for e in events if "change" in e} == {late.number}
    created = next(e for e in events if e["type"] == "patchset-created")
    assert created["project"] == {"name": people.project}  # events-log's form
    _, everything = await rest.get("/a/plugins/events-log/events/", people.bot,
                                   params={"t1": str(START)})
    assert early.change_id in everything and len(everything.splitlines()) == len(emu.events)
    _, latest = await rest.get("/a/plugins/events-log/events/", people.bot)
    assert len(latest.splitlines()) == len(emu.events)  # no parameters: the latest events
    assert (await rest.get("/a/plugins/events-log/events/?x=1", people.bot))[0] == 400
    assert (await rest.get("/plugins/events-log/events/?t1=2023-11-14"))[0] == 401
    emu.events_log_enabled = False
    assert (await rest.get("/a/plugins/events-log/events/?t1=2023-11-14", people.bot))[0] == 404


async def test_rest_5xx_faults(emu: GerritEmulator, people: Any, rest: RestClient) -> None:
    emu.faults.fail_rest(2, status=502)
    assert (await rest.get("/changes/"))[0] == 502
    assert (await rest.get("/changes/"))[0] == 502
    assert (await rest.get("/changes/"))[0] == 200
    emu.faults.fail_rest(1, path_contains="/review")
    assert (await rest.get("/changes/"))[0] == 200
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    assert (await rest.post(review_path(change), people.bot, json={}))[0] == 503
    assert (await rest.post(review_path(change), people.bot, json={}))[0] == 200
    emu.faults.fail_rest_rate(0.5, seed=1)
    statuses = [(await rest.get("/changes/"))[0] for _ in range(20)]
    assert 0 < statuses.count(503) < 20 and statuses.count(200) > 0
    emu.faults.clear()
    assert [c.status for c in emu.rest_calls(status=502)] == [502, 502]


async def test_rest_slow_fault(emu: GerritEmulator, people: Any) -> None:
    emu.faults.slow_rest(5.0)
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        with pytest.raises(asyncio.TimeoutError):
            async with session.get(emu.http_url + "/changes/"):
                pass
    emu.faults.slow_rest(0)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(emu.http_url + "/changes/") as resp:
            assert resp.status == 200


async def test_wait_for_a_rest_call(emu: GerritEmulator, people: Any, rest: RestClient) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    task = asyncio.create_task(rest.post(review_path(change), people.bot,
                                         json={"labels": {"Verified": 1}}))
    calls = await emu.wait_for(lambda: emu.rest_calls(method="POST", path_contains="/review"))
    assert calls[0].body == {"labels": {"Verified": 1}}
    assert (await task)[0] == 200
    with pytest.raises(TimeoutError):
        await emu.wait_for(lambda: emu.rest_calls(method="DELETE"), timeout=0.05)


async def test_compact_json_when_asked(emu: GerritEmulator, people: Any) -> None:
    headers = {"Accept": "application/json", **basic_auth_header(people.alice)}
    async with aiohttp.ClientSession() as session:
        async with session.get(emu.http_url + "/a/accounts/self", headers=headers) as resp:
            text = await resp.text()
    assert text.startswith(XSSI_PREFIX + '{"registered_on":')


async def test_events_log_answers_at_most_return_limit_oldest_first(
        emu: GerritEmulator, people: Any, rest: RestClient, clock: FakeClock) -> None:
    assert emu.rest.events_log_limit == 5000  # the plugin's default returnLimit
    emu.rest.events_log_limit = 3
    for i in range(4):
        await emu.set_topic(await emu.create_change(
            people.project, "master", people.alice, f"c{i}", {f"f{i}": "1\n"}),
            people.alice, f"t{i}")
        clock.advance(1)
    path = "/a/plugins/events-log/events/"
    _, first = await rest.get(path, people.bot, params={"t1": str(START)})
    page = [json.loads(line) for line in first.splitlines()]
    assert page == [json.loads(line) for line in
                    (await rest.get(path, people.bot, params={"t1": str(START)}))[1].splitlines()]
    assert len(page) == 3 and page[0]["eventCreatedOn"] == emu.events[0]["eventCreatedOn"]
    # t1/t2 are whole seconds, inclusive at both ends
    _, window = await rest.get(path, people.bot,
                               params={"t1": str(START + 1), "t2": str(START + 1.9)})
    assert {json.loads(line)["eventCreatedOn"] for line in window.splitlines()} == {START + 1}
    _, latest = await rest.get(path, people.bot)
    assert [json.loads(line)["type"] for line in latest.splitlines()] == \
        [e["type"] for e in emu.events[-3:]]  # no parameters: the latest returnLimit events


async def test_raw_lines_reach_the_events_log(emu: GerritEmulator, people: Any,
                                              rest: RestClient) -> None:
    await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    emu.send_raw_line("{not json", created_on=START)
    _, text = await rest.get("/a/plugins/events-log/events/", people.bot,
                             params={"t1": str(START)})
    assert text.splitlines()[-1] == "{not json"


async def test_rest_fault_window_on_the_emulator_clock(
        emu: GerritEmulator, people: Any, rest: RestClient, clock: FakeClock) -> None:
    emu.faults.fail_rest_for(120, status=500, path_contains="/plugins/events-log/")
    path = "/a/plugins/events-log/events/?t1=2023-11-14"
    assert (await rest.get(path, people.bot))[0] == 500
    assert (await rest.get("/changes/"))[0] == 200  # other paths are not in the window
    clock.advance(119)
    assert (await rest.get(path, people.bot))[0] == 500
    clock.advance(1)  # two minutes of emulated time are over
    assert (await rest.get(path, people.bot))[0] == 200
