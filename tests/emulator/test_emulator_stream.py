"""stream-events over real SSH: event JSON field for field, filtering, commands, auth."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from govbot.testing.gerrit import FakeClock, GerritEmulator
from govbot.testing.gerrit.client import ssh_connect, stream_events

START = 1_700_000_000  # the clock fixture's start

CHANGE_EVENT_KEYS = {"change", "project", "refName", "changeKey", "type", "eventCreatedOn"}
CHANGE_KEYS = {"project", "branch", "id", "number", "subject", "owner", "url", "commitMessage",
               "createdOn", "status"}
PATCHSET_KEYS = {"number", "revision", "parents", "ref", "uploader", "createdOn", "author",
                 "kind", "sizeInsertions", "sizeDeletions"}


def account(acc: object) -> dict[str, str]:
    return {"name": acc.name, "email": acc.email, "username": acc.username}  # type: ignore[attr-defined]


async def test_gerrit_version(emu: GerritEmulator, people: Any) -> None:
    async with ssh_connect(emu, people.alice) as conn:
        result = await conn.run("gerrit version")
    assert result.stdout == "gerrit version 3.9.1\n"
    assert result.exit_status == 0


@pytest.mark.parametrize(("command", "stderr"), [
    ("gerrit ls-things", "fatal: gerrit: ls-things: not found\n"),
    ("rm -rf /", "fatal: rm: not found\n"),
    ("gerrit stream-events --bogus", 'fatal: "--bogus" is not a valid option\n'),
])
async def test_unknown_command_fails_like_gerrit(emu: GerritEmulator, people: Any,
                                                 command: str, stderr: str) -> None:
    async with ssh_connect(emu, people.alice) as conn:
        result = await conn.run(command)
    assert result.exit_status == 1
    assert result.stderr == stderr
    assert result.stdout == ""


async def test_wrong_key_is_rejected(emu: GerritEmulator, people: Any) -> None:
    emu.generate_ssh_key(people.alice)
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        async with ssh_connect(emu, people.alice, key=stranger):
            pass


async def test_key_of_another_user_is_rejected(emu: GerritEmulator, people: Any) -> None:
    bobs_key = emu.generate_ssh_key(people.bob)
    with pytest.raises(asyncssh.PermissionDenied):
        async with ssh_connect(emu, people.alice, key=bobs_key):
            pass


async def test_host_key_is_checked_against_known_hosts(emu: GerritEmulator,
                                                       people: Any) -> None:
    assert emu.known_hosts.startswith(f"[127.0.0.1]:{emu.ssh_port} ssh-ed25519 ")
    assert emu.host_key.export_public_key().decode().split()[1] in emu.known_hosts


async def test_patchset_created_and_comment_added_fields(emu: GerritEmulator,
                                                         people: Any) -> None:
    async with stream_events(emu, people.bot, "patchset-created", "comment-added") as s:
        change = await emu.create_change(people.project, "master", people.alice, "Add charter",
                                         {"charter.rst": "one\ntwo\n"}, body="Why.")
        created = await s.next()
        await emu.review(change, people.carol, {"Rollcall-Vote": 1}, "I agree")
        first = await s.next()
        await emu.review(change, people.carol, {"Rollcall-Vote": -1}, "Changed my mind")
        second = await s.next()

    assert created["type"] == "patchset-created"
    assert set(created) == CHANGE_EVENT_KEYS | {"patchSet", "uploader"}
    assert list(created)[-2:] == ["type", "eventCreatedOn"]  # Gson's field order
    assert created["eventCreatedOn"] == START
    assert created["project"] == people.project
    assert created["refName"] == "refs/heads/master"
    assert created["changeKey"] == {"id": change.change_id}
    assert created["uploader"] == account(people.alice)
    c = created["change"]
    assert set(c) == CHANGE_KEYS  # no topic/hashtags/wip/private when unset; no open/lastUpdated
    assert c["number"] == change.number and isinstance(c["number"], int)
    assert c["owner"] == account(people.alice)
    assert c["status"] == "NEW"
    assert c["url"] == f"{emu.http_url}/c/{people.project}/+/{change.number}"
    assert c["commitMessage"] == f"Add charter\n\nWhy.\n\nChange-Id: {change.change_id}\n"
    ps = created["patchSet"]
    assert set(ps) == PATCHSET_KEYS
    assert ps["number"] == 1
    assert ps["revision"] == change.current.revision and len(ps["revision"]) == 40
    assert ps["ref"] == f"refs/changes/{change.number:02d}/{change.number}/1"
    assert ps["kind"] == "REWORK"
    assert (ps["sizeInsertions"], ps["sizeDeletions"]) == (2, 0)

    assert first["type"] == "comment-added"
    assert first["author"] == account(people.carol)
    assert first["comment"] == "Patch Set 1: Rollcall-Vote+1\n\nI agree"
    approvals = {a["type"]: a for a in first["approvals"]}
    assert approvals["Rollcall-Vote"] == {"type": "Rollcall-Vote", "description": "Rollcall-Vote",
                                          "value": "1", "oldValue": "0"}
    # every other label is repeated with the author's current value and no oldValue
    assert approvals["Code-Review"] == {"type": "Code-Review", "description": "Code-Review",
                                        "value": "0"}
    assert all(isinstance(a["value"], str) for a in first["approvals"])

    changed = {a["type"]: a for a in second["approvals"]}["Rollcall-Vote"]
    assert changed["value"] == "-1" and changed["oldValue"] == "1"
    assert second["comment"] == "Patch Set 1: Rollcall-Vote-1\n\nChanged my mind"


async def test_comment_added_repeats_other_votes_without_old_value(
        emu: GerritEmulator, people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    await emu.review(change, people.bot, {"Verified": 1})
    async with stream_events(emu, people.bob, "comment-added") as s:
        await emu.review(change, people.bot, {"Governance-Check": 1}, "Rule ok")
        event = await s.next()
    approvals = {a["type"]: a for a in event["approvals"]}
    assert approvals["Verified"] == {"type": "Verified", "description": "Verified", "value": "1"}
    assert approvals["Governance-Check"]["oldValue"] == "0"
    assert event["comment"] == "Patch Set 1: Governance-Check+1\n\nRule ok"


async def test_plain_comment_has_prefix_without_votes(emu: GerritEmulator,
                                                      people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    async with stream_events(emu, people.bob, "comment-added") as s:
        await emu.review(change, people.eve, message="Just a remark")
        event = await s.next()
    assert event["comment"] == "Patch Set 1:\n\nJust a remark"
    assert all("oldValue" not in a for a in event["approvals"])


async def test_every_change_event_type(emu: GerritEmulator, people: Any) -> None:
    a, b = people.alice, people.bob
    async with stream_events(emu, a) as s:  # the owner also sees the private phase
        change = await emu.create_change(people.project, "master", a, "Governed", {"f": "1\n"})
        await emu.set_topic(change, a, "tc-election")
        await emu.set_hashtags(change, a, add=["gov", "charter"])
        await emu.set_hashtags(change, a, remove=["gov"])
        await emu.set_wip(change, a, True)
        await emu.set_wip(change, a, False)
        await emu.set_private(change, a, True)
        await emu.set_private(change, a, False)
        await emu.add_reviewer(change, a, b)
        await emu.review(change, b, {"Code-Review": 2})
        await emu.delete_vote(change, a, b, "Code-Review")
        await emu.review(change, b, {"Code-Review": 1})
        await emu.remove_reviewer(change, a, b)
        await emu.abandon(change, a, "not now")
        await emu.restore(change, a, "now")
        await emu.upload_patchset(change, a, {"g": "2\n"})
        new_rev = await emu.merge(change, b)
        other = await emu.create_change(people.project, "master", a, "Doomed", {"h": "1\n"})
        await emu.delete_change(other, a)
        received = []
        while not (received and received[-1]["type"] == "change-deleted"):
            received.append(await s.next())

    assert [e for e in received if e["type"] != "ref-updated"] == [
        e for e in emu.events[-len(received):] if e["type"] != "ref-updated"]
    by_type: dict[str, list[dict]] = {}
    for e in received:
        by_type.setdefault(e["type"], []).append(e)
    topic = by_type["topic-changed"][0]
    assert set(topic) == CHANGE_EVENT_KEYS | {"changer"}  # oldTopic null -> absent
    assert topic["change"]["topic"] == "tc-election"
    added, removed = by_type["hashtags-changed"]
    assert added["added"] == ["charter", "gov"] and "removed" not in added
    assert added["hashtags"] == ["charter", "gov"] and added["editor"] == account(a)
    assert removed["removed"] == ["gov"] and "added" not in removed
    assert removed["change"]["hashtags"] == ["charter"]
    wip_on, wip_off = by_type["wip-state-changed"]
    assert wip_on["change"]["wip"] is True and "wip" not in wip_off["change"]
    assert set(wip_on) == CHANGE_EVENT_KEYS | {"changer", "patchSet"}
    private_on, _ = by_type["private-state-changed"]
    assert private_on["change"]["private"] is True and private_on["changer"] == account(a)
    added_rev = by_type["reviewer-added"][0]
    assert added_rev["reviewer"] == account(b) and added_rev["adder"] == account(a)
    vote_deleted = by_type["vote-deleted"][0]
    assert vote_deleted["reviewer"] == account(b) and vote_deleted["remover"] == account(a)
    assert vote_deleted["approvals"] == [{"type": "Code-Review", "description": "Code-Review",
                                          "value": "0", "oldValue": "2"}]
    assert vote_deleted["comment"] == "Removed Code-Review+2 by Bob Builder <bob@example.com>\n"
    rev_deleted = by_type["reviewer-deleted"][0]
    assert rev_deleted["approvals"][0]["oldValue"] == "1"
    assert rev_deleted["comment"].startswith("Removed reviewer Bob Builder with the following")
    abandoned = by_type["change-abandoned"][0]
    assert abandoned["abandoner"] == account(a) and abandoned["reason"] == "not now"
    assert abandoned["change"]["status"] == "ABANDONED"
    restored = by_type["change-restored"][0]
    assert restored["restorer"] == account(a) and restored["reason"] == "now"
    merged = by_type["change-merged"][0]
    assert merged["submitter"] == account(b) and merged["newRev"] == new_rev
    assert merged["change"]["status"] == "MERGED" and merged["patchSet"]["number"] == 2
    assert set(merged) == CHANGE_EVENT_KEYS | {"submitter", "newRev", "patchSet"}
    deleted = by_type["change-deleted"][0]
    assert deleted["deleter"] == account(a) and deleted["change"]["number"] == other.number
    branch_updates = [e for e in by_type["ref-updated"]
                      if e["refUpdate"]["refName"] == "refs/heads/master"]
    assert branch_updates[-1]["refUpdate"]["newRev"] == new_rev
    assert branch_updates[-1]["submitter"] == account(b)
    meta = [e for e in by_type["ref-updated"] if e["refUpdate"]["refName"].endswith("/meta")]
    assert len(meta) >= 15  # NoteDb noise on every mutation
    assert meta[0]["refUpdate"]["oldRev"] == "0" * 40


async def test_stream_only_delivers_new_events(emu: GerritEmulator, people: Any) -> None:
    await emu.create_change(people.project, "master", people.alice, "before", {"a": "1\n"})
    async with stream_events(emu, people.bot, "patchset-created") as s:
        await emu.create_change(people.project, "master", people.alice, "after", {"b": "1\n"})
        event = await s.next()
    assert event["change"]["subject"] == "after"


async def test_subscribe_filter(emu: GerritEmulator, people: Any) -> None:
    async with ssh_connect(emu, people.bot) as conn:
        process = await conn.create_process(
            "gerrit stream-events -s topic-changed --subscribe=hashtags-changed")
        await emu.wait_for(lambda: emu.stream_count == 1)
        change = await emu.create_change(people.project, "master", people.alice, "x",
                                         {"a": "1\n"})
        await emu.review(change, people.bob, {"Code-Review": 1})
        await emu.set_hashtags(change, people.alice, add=["x"])
        await emu.set_topic(change, people.alice, "t")
        got = [json.loads(await asyncio.wait_for(process.stdout.readline(), 5))
               for _ in range(2)]
    assert [e["type"] for e in got] == ["hashtags-changed", "topic-changed"]


async def test_project_and_ref_events(emu: GerritEmulator, people: Any) -> None:
    async with stream_events(emu, people.bot, "project-created", "ref-updated") as s:
        await emu.create_project("openstack/nova")
        created = await s.next()
        initial = await s.next()
        pushed = await emu.push("openstack/nova", "master", {"README": "hi\n"}, people.alice)
        push_event = await s.next()
        await emu.create_branch("openstack/nova", "stable/2024.1", people.alice)
        branch_event = await s.next()
        await emu.create_tag("openstack/nova", "1.0.0", people.alice, message="Release 1.0.0")
        tag_event = await s.next()
    assert created == {"projectName": "openstack/nova", "headName": "refs/heads/master",
                       "type": "project-created", "eventCreatedOn": START}
    assert initial["refUpdate"]["oldRev"] == "0" * 40
    assert push_event["refUpdate"] == {"oldRev": initial["refUpdate"]["newRev"],
                                       "newRev": pushed, "refName": "refs/heads/master",
                                       "project": "openstack/nova"}
    assert push_event["submitter"] == account(people.alice)
    assert branch_event["refUpdate"]["oldRev"] == "0" * 40
    assert branch_event["refUpdate"]["newRev"] == pushed
    assert branch_event["refUpdate"]["refName"] == "refs/heads/stable/2024.1"
    assert tag_event["refUpdate"]["refName"] == "refs/tags/1.0.0"


async def test_legacy_switch(emu: GerritEmulator, people: Any) -> None:
    emu.legacy_events = True
    async with stream_events(emu, people.bot, "patchset-created", "ref-updated") as s:
        change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
        event = await s.next_of("patchset-created")
        tip = await emu.push(people.project, "master", {"b": "2\n"}, people.alice)
        ref = await s.next_of("ref-updated")
        while ref["refUpdate"]["newRev"] != tip:
            ref = await s.next_of("ref-updated")
    assert event["change"]["number"] == str(change.number)
    assert event["patchSet"]["number"] == "1"
    assert event["project"] == {"name": people.project}
    assert ref["refUpdate"]["refName"] == "master"
    assert emu.events_of("patchset-created")[-1]["project"] == people.project  # log stays modern


async def test_meta_ref_noise_switch(emu: GerritEmulator, people: Any) -> None:
    emu.meta_ref_events = False
    async with stream_events(emu, people.bot, "ref-updated", "topic-changed") as s:
        change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
        await emu.set_topic(change, people.alice, "t")
        first, second = await s.next(), await s.next()
    assert first["refUpdate"]["refName"] == change.current.ref
    assert second["type"] == "topic-changed"


async def test_unknown_and_plugin_events_pass_through(emu: GerritEmulator,
                                                      people: Any) -> None:
    async with stream_events(emu, people.bot) as s:
        plugin_event = {"type": "ref-replicated", "project": people.project,
                        "ref": "refs/heads/master"}
        emu.emit_raw(dict(plugin_event))
        event = await s.next()
    assert event == {**plugin_event, "eventCreatedOn": START}


async def test_slow_reader_gets_dropped_output(tmp_path: Path, clock: FakeClock) -> None:
    async with GerritEmulator(tmp_path, clock=clock, stream_buffer=4) as emu:
        reader = emu.add_account("reader")
        # A tiny SSH window: the client stops accepting data after a few KiB until it reads.
        async with stream_events(emu, reader, window=4096, max_pktsize=4096) as s:
            pad = "x" * 2000
            for i in range(200):
                emu.emit_raw({"type": "x-test", "seq": i, "pad": pad})
                await asyncio.sleep(0)  # let the writer run, as a real server would
            assert emu.ssh.sessions and next(iter(emu.ssh.sessions)).dropped_count > 0
            received = []
            while not received or received[-1]["type"] != "dropped-output":
                received.append(await s.next())
            emu.emit_raw({"type": "x-test", "seq": 999})
            after = await s.next()
    seqs = [e["seq"] for e in received[:-1]]
    assert seqs == list(range(len(seqs)))  # what arrived before the gap is contiguous
    assert len(seqs) < 200
    assert set(received[-1]) == {"type", "eventCreatedOn"}
    assert after["seq"] == 999


async def test_drop_streams_fault(emu: GerritEmulator, people: Any) -> None:
    async with stream_events(emu, people.bot) as s:
        assert emu.drop_streams() == 1
        with pytest.raises((EOFError, asyncssh.Error, ConnectionError)):
            await s.next()
        await emu.wait_for(lambda: emu.stream_count == 0)


async def test_refuse_ssh_fault(emu: GerritEmulator, people: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("govbot.testing.gerrit.faults.time.monotonic", lambda: now[0])
    emu.faults.refuse_ssh(seconds=30)
    with pytest.raises((asyncssh.Error, OSError)):
        async with ssh_connect(emu, people.alice):
            pass
    now[0] += 31  # the outage is over
    async with ssh_connect(emu, people.alice) as conn:
        assert (await conn.run("gerrit version")).exit_status == 0
    emu.faults.refuse_ssh()  # until switched back
    now[0] += 10_000
    with pytest.raises((asyncssh.Error, OSError)):
        async with ssh_connect(emu, people.alice):
            pass
    emu.faults.accept_ssh()
    async with ssh_connect(emu, people.alice) as conn:
        assert (await conn.run("gerrit version")).exit_status == 0


async def test_duplicate_event_fault(emu: GerritEmulator, people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    async with stream_events(emu, people.bot, "topic-changed") as s:
        emu.faults.duplicate_events(1, event_type="topic-changed")
        await emu.set_topic(change, people.alice, "one")
        await emu.set_topic(change, people.alice, "two")
        got = [await s.next() for _ in range(3)]
    assert got[0] == got[1]
    assert [e["change"]["topic"] for e in got] == ["one", "one", "two"]
    assert len(emu.events_of("topic-changed")) == 2  # the log holds each event once


async def test_events_are_json_lines(emu: GerritEmulator, people: Any) -> None:
    async with ssh_connect(emu, people.bot) as conn:
        process = await conn.create_process("gerrit stream-events -s comment-added")
        await emu.wait_for(lambda: emu.stream_count == 1)
        change = await emu.create_change(people.project, "master", people.alice, "ü", {"a": "1\n"})
        await emu.review(change, people.bob, {"Code-Review": 1}, "naïve ✓")
        line = await asyncio.wait_for(process.stdout.readline(), 5)
    assert line.endswith("\n") and "\n" not in line[:-1]
    assert json.loads(line)["comment"].endswith("naïve ✓")


async def test_private_change_events_only_reach_those_who_see_it(emu: GerritEmulator,
                                                                  people: Any) -> None:
    async with stream_events(emu, people.eve, "patchset-created") as outsider, \
            stream_events(emu, people.carol, "patchset-created") as reviewer:
        await emu.create_change(people.project, "master", people.alice, "Secret", {"s": "1\n"},
                                private=True, reviewers=[people.carol])
        await emu.create_change(people.project, "master", people.alice, "Public", {"p": "1\n"})
        assert (await reviewer.next())["change"]["subject"] == "Secret"
        assert (await outsider.next())["change"]["subject"] == "Public"
