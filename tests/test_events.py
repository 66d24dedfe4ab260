"""Parsing Gerrit's stream JSON into typed events, including the real variations."""

from __future__ import annotations

import json

import pytest

from govbot.gerrit import events as ev
from govbot.testing.samples import ALL_TYPES, comment_added, ref_updated, sample_event


@pytest.mark.parametrize("type_name", ALL_TYPES)
@pytest.mark.parametrize("legacy", [False, True], ids=["modern", "legacy"])
def test_every_documented_type_parses_to_its_class(type_name: str, legacy: bool) -> None:
    line = json.dumps(sample_event(type_name, legacy=legacy))
    event = ev.parse_event(line)
    assert type(event) is ev.EVENT_TYPES[type_name]
    assert event.created_on > 0
    if isinstance(event, ev.ChangeEvent):
        assert event.project == "example/governance"
        assert event.change.number == 1234  # int whether sent as "1234" or 1234
        assert event.patch_set is not None and event.patch_set.number == 1
        assert event.lane == "change:example/governance~1234"
        assert event.actor is not None and event.actor.username


def test_numbers_as_strings_and_ints_give_the_same_event() -> None:
    modern = ev.parse_event(json.dumps(sample_event("patchset-created")))
    legacy = ev.parse_event(json.dumps(sample_event("patchset-created", legacy=True)))
    assert isinstance(modern, ev.PatchsetCreated) and isinstance(legacy, ev.PatchsetCreated)
    assert modern.change == legacy.change
    assert modern.project == legacy.project == "example/governance"


def test_project_as_object_from_events_log() -> None:
    data = ref_updated("example/docs", "refs/tags/2.0", legacy=True)
    data["refUpdate"]["project"] = {"name": "example/docs"}
    event = ev.parse_event(json.dumps(data))
    assert isinstance(event, ev.RefUpdated)
    assert event.project == "example/docs"


def test_approvals_as_strings_or_ints_and_old_value() -> None:
    data = comment_added("p", 1, "bob", {"Code-Review": 2, "Verified": 1},
                         old={"Code-Review": 0})
    data["approvals"].append({"type": "Workflow", "value": -1})  # int, as over REST
    event = ev.parse_event(json.dumps(data))
    assert isinstance(event, ev.CommentAdded)
    votes = {a.type: (a.value, a.old_value, a.changed) for a in event.approvals}
    assert votes == {"Code-Review": (2, 0, True), "Verified": (1, None, False),
                     "Workflow": (-1, None, False)}
    assert event.comment.startswith("Patch Set 1: Code-Review+2\n\n")
    assert event.text == "Looks good to me."


def test_comment_without_text_has_empty_text() -> None:
    data = comment_added("p", 1, "bob", {"Code-Review": 1}, old={"Code-Review": 0}, text="")
    event = ev.parse_event(json.dumps(data))
    assert isinstance(event, ev.CommentAdded)
    assert event.comment == "Patch Set 1: Code-Review+1" and event.text == ""


def test_bare_branch_names_in_ref_updated() -> None:
    event = ev.parse_event(json.dumps(ref_updated("p", "master")))
    assert isinstance(event, ev.RefUpdated)
    assert event.ref_update.full_ref == "refs/heads/master"


def test_branch_creation_and_deletion() -> None:
    created = ev.parse_event(json.dumps(ref_updated("p", "refs/heads/stable", old=ev.ZERO_SHA)))
    deleted = ev.parse_event(json.dumps(ref_updated("p", "refs/heads/old", new=ev.ZERO_SHA)))
    assert isinstance(created, ev.RefUpdated) and created.ref_update.created
    assert isinstance(deleted, ev.RefUpdated) and deleted.ref_update.deleted


@pytest.mark.parametrize("line", [
    b"", b"garbage", b"[1, 2]", b'{"no": "type"}', b'{"type": 3}',
    b'{"type": "comment-added"}',  # no change
    b'{"type": "patchset-created", "change": {"project": "p", "branch": "b", "number": "x"}}',
    b"\xff\xfe not utf-8",
])
def test_malformed_lines_are_counted_never_raised(line: bytes) -> None:
    parser = ev.EventParser()
    assert parser.parse(line) is None
    assert parser.stats.malformed == 1
    with pytest.raises(ev.ParseError):
        ev.parse_event(line)


@pytest.mark.parametrize("type_name", ["ref-replicated", "ref-replication-done", "x-custom"])
def test_unknown_types_are_counted_and_skipped(type_name: str) -> None:
    parser = ev.EventParser()
    assert parser.parse(json.dumps({"type": type_name, "eventCreatedOn": 1})) is None
    assert parser.stats.unknown == {type_name: 1}
    assert parser.stats.malformed == 0


def test_notedb_meta_ref_updates_are_noise() -> None:
    parser = ev.EventParser()
    meta = json.dumps(ref_updated("p", "refs/changes/34/1234/meta"))
    assert parser.parse(meta) is None
    assert parser.stats.noise == 1
    assert ev.EventParser(drop_noise=False).parse(meta) is not None


def test_ids_are_stable_per_line_and_differ_between_lines() -> None:
    a = json.dumps(sample_event("change-merged")).encode()
    b = json.dumps(sample_event("change-abandoned")).encode()
    parser = ev.EventParser()
    first, again, other = parser.parse(a), parser.parse(a + b"\n"), parser.parse(b)
    assert first is not None and again is not None and other is not None
    assert first.id == again.id != other.id


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_ids_ignore_representation(type_name: str) -> None:
    """The stream, events-log and webhooks send one event in different JSON forms."""
    modern = sample_event(type_name)
    legacy = sample_event(type_name, legacy=True)
    reordered = dict(reversed(list(modern.items())))
    parser = ev.EventParser(drop_noise=False)
    ids = {parser.parse(json.dumps(d)).id for d in (modern, legacy, reordered)}  # type: ignore[union-attr]
    assert len(ids) == 1


def test_ids_tell_apart_what_differs() -> None:
    base = comment_added("p", 1, "bob", {"Code-Review": 1}, old={"Code-Review": 0})
    variants = [base,
                comment_added("p", 1, "bob", {"Code-Review": 2}, old={"Code-Review": 0}),
                comment_added("p", 1, "carol", {"Code-Review": 1}, old={"Code-Review": 0}),
                comment_added("p", 2, "bob", {"Code-Review": 1}, old={"Code-Review": 0}),
                comment_added("p", 1, "bob", {"Code-Review": 1}, old={"Code-Review": 0},
                              text="other words"),
                comment_added("p", 1, "bob", {"Code-Review": 1}, old={"Code-Review": 0},
                              when=1_790_000_001)]
    parser = ev.EventParser()
    assert len({parser.parse(json.dumps(v)).id for v in variants}) == len(variants)  # type: ignore[union-attr]


def test_extra_fields_from_newer_gerrit_are_ignored() -> None:
    data = sample_event("patchset-created")
    data["newField"] = {"nested": [1, 2]}
    data["change"]["cherryPickOf"] = 12
    assert isinstance(ev.parse_event(json.dumps(data)), ev.PatchsetCreated)


def test_encode_round_trip() -> None:
    event = ev.parse_event(json.dumps(sample_event("comment-added")))
    assert ev.parse_event(ev.encode_event(event)) == event
