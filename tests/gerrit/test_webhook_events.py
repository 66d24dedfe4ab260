"""Gerrit's webhooks plugin, in the shape its recorded bodies have, and event identity.

The webhooks plugin (Gerrit 3.x) serialises events a little differently from
stream-events: `changeKey` as `{"key": ...}`, `project` as `{"name": ...}` (in
`refUpdate` too), and, as some deliveries and backfills do, no `eventCreatedOn`
(the change's `lastUpdated` still says when). Each type it sends must decode, and
one event arriving from the stream, the events-log, a webhook and a REST backfill
must get one id and one action.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from govbot.actions import Action, Say
from govbot.gerrit import events as ev
from govbot.gerrit.backfill import events_from_change, gerrit_time
from govbot.gerrit.identity import equivalent_ids
from govbot.intake import Intake
from govbot.plugin import Plugin, PluginContext
from govbot.state.store import StateStore
from govbot.testing.samples import ALL_TYPES, BASE_TIME, comment_added, sample_event
from tests.helpers import make_dispatcher


def stream_shape(data: dict[str, Any]) -> dict[str, Any]:
    """As stream-events writes it, with `lastUpdated` the time of this very update."""
    data = copy.deepcopy(data)
    if "change" in data:
        data["change"]["lastUpdated"] = data["eventCreatedOn"]
    return data


def webhook_shape(data: dict[str, Any], *, with_time: bool = False) -> dict[str, Any]:
    """The same event as the webhooks plugin posts it."""
    data = copy.deepcopy(stream_shape(data))
    if not with_time:
        del data["eventCreatedOn"]
    if "changeKey" in data:
        data["changeKey"] = {"key": data["changeKey"]["id"]}
    if isinstance(data.get("project"), str):
        data["project"] = {"name": data["project"]}
    for update in [data.get("refUpdate"), *data.get("refUpdates", ())]:
        if update and isinstance(update.get("project"), str):
            update["project"] = {"name": update["project"]}
    return data


CHANGE_TYPES = [t for t in ALL_TYPES if "change" in sample_event(t)]


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_every_type_decodes_in_the_webhook_shape(type_name: str) -> None:
    stream = ev.parse_event(json.dumps(stream_shape(sample_event(type_name))))
    hooked = ev.parse_event(json.dumps(webhook_shape(sample_event(type_name), with_time=True)))
    assert type(hooked) is type(stream)
    assert hooked.actor == stream.actor
    if isinstance(hooked, ev.ChangeEvent):
        assert isinstance(stream, ev.ChangeEvent)
        assert hooked.change_key is not None and hooked.change_key.key
        assert hooked.change_key.value == stream.change.id
        assert hooked.project == stream.project == "example/governance"
    if isinstance(hooked, ev.RefEvent):
        assert hooked.project == "example/governance"
    assert ev.event_id(hooked) == ev.event_id(stream)


@pytest.mark.parametrize("type_name", CHANGE_TYPES)
def test_without_event_created_on_the_id_is_the_same(type_name: str) -> None:
    """Seen once with `eventCreatedOn` and once without: one id, not two."""
    stream = ev.parse_event(json.dumps(stream_shape(sample_event(type_name))))
    hooked = ev.parse_event(json.dumps(webhook_shape(sample_event(type_name))))
    assert hooked.created_on == 0
    assert hooked.identity_time == stream.identity_time == BASE_TIME
    assert ev.event_id(hooked) == ev.event_id(stream)


def test_a_real_webhook_body_decodes() -> None:
    """Field for field as a recorded Gerrit 3.x webhook comment-added."""
    body = {
        "author": {"name": "Bob Example", "email": "bob@example.org", "username": "bob"},
        "approvals": [{"type": "Code-Review", "description": "Code-Review", "value": "2",
                       "oldValue": "0"}, {"type": "Verified", "description": "Verified",
                                          "value": "0"}],
        "comment": "Patch Set 3: Code-Review+2\n\nThanks.",
        "patchSet": {"number": 3, "revision": "a" * 40, "parents": ["b" * 40],
                     "ref": "refs/changes/34/1234/3", "createdOn": BASE_TIME - 50,
                     "kind": "REWORK", "sizeInsertions": 3, "sizeDeletions": 0},
        "change": {"project": "example/governance", "branch": "master",
                   "id": "I8473b95934b5732ac55d26311a706c9c2bde9940", "number": 1234,
                   "subject": "Add a team", "owner": {"name": "Alice", "username": "alice"},
                   "url": "https://review.example.org/c/example/governance/+/1234",
                   "status": "NEW", "lastUpdated": BASE_TIME, "createdOn": BASE_TIME - 900},
        "project": {"name": "example/governance"},
        "refName": "refs/heads/master",
        "changeKey": {"key": "I8473b95934b5732ac55d26311a706c9c2bde9940"},
        "type": "comment-added",
    }
    event = ev.parse_event(json.dumps(body))
    assert isinstance(event, ev.CommentAdded)
    assert event.change_key == ev.ChangeKey(key="I8473b95934b5732ac55d26311a706c9c2bde9940")
    assert event.identity_time == BASE_TIME
    assert [a.value for a in event.approvals if a.changed] == [2]


def change_info(vote: dict[str, Any]) -> dict[str, Any]:
    """What REST answers for the change of `vote` (DETAILED_LABELS, MESSAGES...)."""
    change = vote["change"]
    bob = {"_account_id": 2, **vote["author"]}
    return {
        "project": change["project"], "branch": change["branch"], "change_id": change["id"],
        "_number": change["number"], "subject": change["subject"], "status": "NEW",
        "owner": change["owner"], "created": gerrit_time(change["createdOn"]),
        "updated": gerrit_time(vote["eventCreatedOn"]), "current_revision": "r1",
        "revisions": {"r1": {"_number": 1, "created": gerrit_time(BASE_TIME - 3600)}},
        "labels": {"Rollcall-Vote": {"all": [{**bob, "value": 1}]}},
        # REST's clock for the message can be a second off the stream's.
        "messages": [{"author": bob, "date": gerrit_time(vote["eventCreatedOn"] + 1),
                      "message": vote["comment"], "_revision_number": 1}],
    }


class Count(Plugin):
    name = "count"

    def handlers(self) -> dict[type, Any]:
        return {ev.ChangeEvent: self.on}

    async def on(self, event: ev.ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
        return [Say(target="#x", text=f"{event.type_name} {event.change.number}")]


async def test_one_event_from_four_sources_is_one_action(tmp_path: Path) -> None:
    vote = stream_shape(comment_added("example/governance", 1234, "bob",
                                      {"Rollcall-Vote": 1}, old={"Rollcall-Vote": 0}))
    legacy = stream_shape(comment_added("example/governance", 1234, "bob",
                                        {"Rollcall-Vote": 1}, old={"Rollcall-Vote": 0},
                                        legacy=True))
    [recreated] = [e for e in events_from_change(change_info(vote), BASE_TIME - 60)
                   if e["type"] == "comment-added"]
    sources = {"stream": vote, "events-log": legacy, "webhook": webhook_shape(vote),
               "backfill": recreated}
    parsed = {name: ev.parse_event(json.dumps(d)) for name, d in sources.items()}
    ids = {name: ev.event_id(e) for name, e in parsed.items()}
    assert ids["stream"] == ids["events-log"] == ids["webhook"]
    # The backfill's copy is a second later: one of the stream copy's equivalent ids.
    assert ids["backfill"] in equivalent_ids(parsed["stream"])
    dispatcher, recorder = make_dispatcher([Count()])
    async with StateStore(tmp_path / "s.db") as store:
        intake = Intake(store, dispatcher)
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(dispatcher.run())
            for source, data in sources.items():
                await intake.accept(source, [json.dumps(data).encode()])
            await dispatcher.join()
            await intake.flush()
            runner.cancel()
        assert [a.text for a in recorder.actions if isinstance(a, Say)] == [
            "comment-added 1234"]
        assert intake.duplicates == 3
        assert await store.inbox_pending() == []


def test_a_backfill_at_the_same_second_gets_the_very_same_id() -> None:
    vote = stream_shape(comment_added("example/governance", 1234, "bob",
                                      {"Rollcall-Vote": 1}, old={"Rollcall-Vote": 0}))
    info = change_info(vote)
    info["messages"][0]["date"] = gerrit_time(vote["eventCreatedOn"])
    [recreated] = [e for e in events_from_change(info, BASE_TIME - 60)
                   if e["type"] == "comment-added"]
    four = [vote, webhook_shape(vote), recreated,
            stream_shape(comment_added("example/governance", 1234, "bob",
                                       {"Rollcall-Vote": 1}, old={"Rollcall-Vote": 0},
                                       legacy=True))]
    assert len({ev.event_id(ev.parse_event(json.dumps(d))) for d in four}) == 1


async def test_a_second_comment_a_minute_later_is_its_own_event(tmp_path: Path) -> None:
    first = stream_shape(comment_added("example/governance", 1234, "bob", {}, text="recheck"))
    again = stream_shape(comment_added("example/governance", 1234, "bob", {}, text="recheck",
                                       when=BASE_TIME + 60))
    dispatcher, recorder = make_dispatcher([Count()])
    async with StateStore(tmp_path / "s.db") as store:
        intake = Intake(store, dispatcher)
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(dispatcher.run())
            await intake.accept("stream", [json.dumps(first).encode()])
            await intake.accept("webhook", [json.dumps(webhook_shape(again)).encode()])
            await dispatcher.join()
            runner.cancel()
        assert len([a for a in recorder.actions if isinstance(a, Say)]) == 2


async def post_to_receiver(bodies: Sequence[bytes]) -> list[bytes]:
    """POST each body to a real WebhookReceiver over HTTP; the lines it accepted."""
    from aiohttp import ClientSession, web

    from govbot.gerrit.webhook import WebhookReceiver

    received: list[bytes] = []

    async def accept(source: str, lines: Sequence[bytes]) -> Sequence[object]:
        assert source == "webhook"
        received.extend(lines)
        return list(lines)

    app = web.Application()
    WebhookReceiver("s3cret", accept).add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with ClientSession() as http:
            for body in bodies:
                async with http.post(f"http://127.0.0.1:{port}/gerrit/webhook?secret=s3cret",
                                     data=body) as resp:
                    assert resp.status == 202
    finally:
        await runner.cleanup()
    return received


async def test_the_receiver_reads_pretty_bodies_and_gson_suppliers() -> None:
    """Gson without the stream's adapters writes a memoized supplier as itself."""
    stream = stream_shape(sample_event("ref-updated"))
    hooked = webhook_shape(sample_event("ref-updated"), with_time=True)
    hooked["submitter"] = {"delegate": {}, "initialized": True, "value": hooked["submitter"]}
    hooked["refUpdate"] = {"initialized": True, "value": hooked["refUpdate"]}
    merged = webhook_shape(sample_event("change-merged"), with_time=True)
    merged["submitter"] = {"delegate": {}}  # never computed: no value at all
    lines = await post_to_receiver([
        json.dumps(hooked, indent=2).encode(),
        json.dumps(merged).encode(),
        (json.dumps(webhook_shape(sample_event("patchset-created"))) + "\n"
         + json.dumps(webhook_shape(sample_event("change-abandoned"))) + "\n").encode(),
    ])
    events = [ev.parse_event(line) for line in lines]
    assert [e.type_name for e in events] == ["ref-updated", "change-merged", "patchset-created",
                                             "change-abandoned"]
    original = ev.parse_event(json.dumps(stream))
    assert isinstance(events[0], ev.RefUpdated) and isinstance(original, ev.RefUpdated)
    assert events[0].submitter == original.submitter is not None
    assert (events[0].project, events[0].ref_update.new_rev) == (
        original.project, original.ref_update.new_rev)
    assert ev.event_id(events[0]) == ev.event_id(original)
    assert isinstance(events[1], ev.ChangeMerged) and events[1].submitter is None
