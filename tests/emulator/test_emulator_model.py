"""The change model on real git: commits, refs, patch set kinds, merges, pushes, tags,
the controllable clock, Python-API permission checks and wait_for."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest

from govbot.testing.gerrit import FakeClock, GerritEmulator, GerritError


def git(emu: GerritEmulator, project: str, *args: str) -> str:
    path = emu.project(project).repo.path
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                          check=True).stdout.strip()


async def test_patch_sets_are_real_commits(emu: GerritEmulator, people: Any) -> None:
    p = people.project
    tip = git(emu, p, "rev-parse", "refs/heads/master")
    change = await emu.create_change(p, "master", people.alice, "Add charter",
                                     {"charter.rst": "v1\n"}, body="Body text.")
    ps = change.current
    assert ps.parents == [tip]
    assert git(emu, p, "rev-parse", ps.ref) == ps.revision
    assert ps.ref == f"refs/changes/{change.number:02d}/{change.number}/1"
    assert git(emu, p, "show", f"{ps.revision}:charter.rst") == "v1"
    assert git(emu, p, "log", "-1", "--format=%B", ps.revision).endswith(
        f"Change-Id: {change.change_id}")
    assert git(emu, p, "log", "-1", "--format=%an <%ae> %at", ps.revision) == (
        f"Alice Liddell <alice@example.com> {int(emu.clock())}")
    assert change.change_id.startswith("I") and len(change.change_id) == 41
    assert await emu.read_file(p, ps.revision, "charter.rst") == b"v1\n"
    # the branch does not move until the change merges
    assert git(emu, p, "rev-parse", "refs/heads/master") == tip


async def test_patch_set_kinds_and_vote_copying(emu: GerritEmulator, people: Any) -> None:
    p = people.project
    change = await emu.create_change(p, "master", people.alice, "Subject", {"a.txt": "1\n"})
    await emu.review(change, people.bob, {"Code-Review": 2})
    await emu.review(change, people.bot, {"Verified": 1})

    ps2 = await emu.upload_patchset(change, people.alice, subject="Better subject")
    assert ps2.kind == "NO_CODE_CHANGE" and ps2.tree == change.patch_set(1).tree
    assert change.subject == "Better subject"
    assert change.vote_of(people.bob.account_id, "Code-Review") == 2  # copied
    assert change.vote_of(people.bot.account_id, "Verified") == 0  # not copyable

    await emu.push(p, "master", {"other.txt": "x\n"}, people.bob)
    ps3 = await emu.upload_patchset(change, people.alice, rebase=True)
    assert ps3.kind == "TRIVIAL_REBASE"
    assert ps3.parents == [git(emu, p, "rev-parse", "refs/heads/master")]
    assert git(emu, p, "show", f"{ps3.revision}:other.txt") == "x"  # rebased, not reverted
    assert change.vote_of(people.bob.account_id, "Code-Review") == 2

    ps4 = await emu.upload_patchset(change, people.bob, {"a.txt": "2\n"})
    assert ps4.kind == "REWORK"
    assert change.vote_of(people.bob.account_id, "Code-Review") == 0
    assert ps4.author_email == "alice@example.com"  # an amend keeps the author
    assert ps4.uploader == people.bob.account_id
    assert [f.path for f in ps4.files] == ["a.txt"]
    assert (ps4.insertions, ps4.deletions) == (1, 0)
    event = emu.events_of("patchset-created")[-1]
    assert event["patchSet"]["uploader"]["username"] == "bob"
    assert event["patchSet"]["author"]["username"] == "alice"
    assert event["patchSet"]["kind"] == "REWORK"


async def test_merge_fast_forward_and_merge_commit(emu: GerritEmulator, people: Any) -> None:
    p = people.project
    first = await emu.create_change(p, "master", people.alice, "First", {"a": "1\n"})
    second = await emu.create_change(p, "master", people.alice, "Second", {"b": "1\n"})
    assert await emu.merge(first, people.bob) == first.current.revision  # fast-forward
    new_tip = await emu.merge(second, people.bob)  # branch moved: merge commit
    parents = git(emu, p, "log", "-1", "--format=%P", new_tip).split()
    assert parents == [first.current.revision, second.current.revision]
    assert git(emu, p, "log", "-1", "--format=%s", new_tip) == 'Merge "Second"'
    assert second.status == "MERGED" and second.submitter == people.bob.account_id
    assert emu.events_of("change-merged", change=second)[0]["newRev"] == new_tip
    assert second.messages[-1].message == "Change has been successfully merged by Bob Builder"
    with pytest.raises(GerritError) as err:
        await emu.merge(second, people.bob)
    assert err.value.status == 409


async def test_merge_conflict_and_fast_forward_only(emu: GerritEmulator, people: Any) -> None:
    p = people.project
    one = await emu.create_change(p, "master", people.alice, "One", {"same.txt": "one\n"})
    two = await emu.create_change(p, "master", people.alice, "Two", {"same.txt": "two\n"})
    await emu.merge(one, people.bob)
    with pytest.raises(GerritError, match="path conflict") as err:
        await emu.merge(two, people.bob)
    assert err.value.status == 409 and two.is_open

    await emu.create_project("ff", submit_type="FAST_FORWARD_ONLY")
    a = await emu.create_change("ff", "master", people.alice, "A", {"a": "1\n"})
    b = await emu.create_change("ff", "master", people.alice, "B", {"b": "1\n"})
    await emu.merge(a, people.bob)
    with pytest.raises(GerritError, match="fast-forward"):
        await emu.merge(b, people.bob)


async def test_tags_branches_and_pushes(emu: GerritEmulator, people: Any) -> None:
    p = people.project
    pushed = await emu.push(p, "master", {"doc.txt": "d\n"}, people.alice, message="Docs")
    assert git(emu, p, "rev-parse", "refs/heads/master") == pushed
    tag = await emu.create_tag(p, "2024.1", people.alice, message="Release 2024.1")
    assert git(emu, p, "cat-file", "-t", tag) == "tag"
    assert git(emu, p, "rev-parse", "2024.1^{commit}") == pushed
    light = await emu.create_tag(p, "light", people.alice)
    assert light == pushed
    await emu.create_branch(p, "stable/2024.1", people.alice, revision=pushed)
    await emu.delete_branch(p, "stable/2024.1", people.alice)
    deleted = emu.events_of("ref-updated")[-1]["refUpdate"]
    assert deleted["refName"] == "refs/heads/stable/2024.1" and deleted["newRev"] == "0" * 40


async def test_clock_drives_all_timestamps(emu: GerritEmulator, people: Any,
                                           clock: FakeClock) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    created = int(clock.now)
    clock.advance(days=3)
    await emu.review(change, people.bob, {"Code-Review": 1})
    event = emu.events_of("comment-added")[-1]
    assert event["eventCreatedOn"] == created + 3 * 86400
    assert event["change"]["createdOn"] == created
    assert change.last_updated == created + 3 * 86400
    clock.advance(hours=1)
    ps2 = await emu.upload_patchset(change, people.alice, {"a": "2\n"})
    assert git(emu, people.project, "log", "-1", "--format=%ct", ps2.revision) == str(
        created + 3 * 86400 + 3600)


async def test_python_api_enforces_permissions(emu: GerritEmulator, people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    with pytest.raises(GerritError, match='Applying label "Rollcall-Vote": 1 is restricted'):
        await emu.review(change, people.alice, {"Rollcall-Vote": 1})
    await emu.review(change, people.alice, {"Rollcall-Vote": 1}, check_permissions=False)
    assert change.vote_of(people.alice.account_id, "Rollcall-Vote") == 1
    emu.grant(people.project, "Rollcall-Vote", "core", -1, 1)
    await emu.review(change, people.bob, {"Rollcall-Vote": -1})


async def test_reviewers_at_creation_and_private_visibility(emu: GerritEmulator,
                                                            people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "Secret",
                                     {"s": "1\n"}, private=True, reviewers=[people.carol])
    added = emu.events_of("reviewer-added", change=change)
    assert [e["reviewer"]["username"] for e in added] == ["carol"]
    assert emu.core.visible(change, people.carol.account_id)
    assert not emu.core.visible(change, people.eve.account_id)
    assert not emu.core.visible(change, None)


async def test_wait_for(emu: GerritEmulator, people: Any) -> None:
    change = await emu.create_change(people.project, "master", people.alice, "x", {"a": "1\n"})
    assert await emu.wait_for(lambda: change.number) == change.number  # already true
    with pytest.raises(TimeoutError):
        await emu.wait_for(lambda: emu.events_of("change-merged"), timeout=0.01)

    def broken() -> bool:
        if emu.events_of("topic-changed"):
            raise ValueError("predicate failed")
        return False

    waiter = asyncio.create_task(emu.wait_for(broken))
    await emu.set_topic(change, people.alice, "t")
    with pytest.raises(ValueError, match="predicate failed"):
        await waiter
