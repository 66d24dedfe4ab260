"""The event contract (govbot.events.Event): every event has a type name, a lane and an
actor; a Gerrit event's actor is the field Gerrit documents for its type, named once.

That each event class is assignable to the Protocol is checked by mypy (see the end of
the Protocol in govbot/events.py); these tests check the values.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from govbot.events import ConfigRejected, ConfigReloaded
from govbot.gerrit import events as ev
from govbot.gerrit.events import EVENT_TYPES, CommitReceived, parse_event
from govbot.irc.events import IrcJoin, IrcMessage, IrcNickChange, IrcPart
from govbot.scheduler import Wakeup
from govbot.testing.samples import ALL_TYPES, account, ref_updated, sample_event

#: Who caused each event, per Gerrit's stream-events documentation
#: (Documentation/cmd-stream-events.html); commit-received names its uploader and, as a
#: ref event, may carry the submitter instead.
DOCUMENTED_ACTOR: dict[str, tuple[str, ...]] = {
    "patchset-created": ("uploader",),
    "comment-added": ("author",),
    "change-merged": ("submitter",),
    "change-abandoned": ("abandoner",),
    "change-restored": ("restorer",),
    "change-deleted": ("deleter",),
    "reviewer-added": ("adder",),
    "reviewer-deleted": ("remover",),
    "vote-deleted": ("remover",),
    "topic-changed": ("changer",),
    "hashtags-changed": ("editor",),
    "custom-keyed-values-changed": ("editor",),
    "wip-state-changed": ("changer",),
    "private-state-changed": ("changer",),
    "ref-updated": ("submitter",),
    "ref-received": ("submitter",),
    "commit-received": ("uploader", "submitter"),
    "batch-ref-updated": ("submitter",),
    "project-created": (),
    "project-head-updated": (),
    "dropped-output": (),
}


def test_the_table_covers_every_gerrit_event_type() -> None:
    assert set(DOCUMENTED_ACTOR) == set(EVENT_TYPES) == set(ALL_TYPES)


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_the_actor_is_the_documented_field(type_name: str) -> None:
    cls = EVENT_TYPES[type_name]
    assert cls.actor_fields == DOCUMENTED_ACTOR[type_name]
    event = parse_event(json.dumps(sample_event(type_name)))
    assert type(event) is cls and event.type_name == type_name
    fields = DOCUMENTED_ACTOR[type_name]
    expected = next((getattr(event, f) for f in fields if getattr(event, f) is not None), None)
    assert event.actor == expected
    assert (expected is not None and bool(expected.username)) == bool(fields)


@pytest.mark.parametrize("cls", [ev.Event, *EVENT_TYPES.values(), ev.ChangeEvent,
                                 ev.RefEvent])
def test_actor_is_one_shared_property_and_each_class_names_its_field(cls: type) -> None:
    """No class re-implements `actor`: it names its field, the base reads it."""
    owners = [c for c in cls.__mro__ if "actor" in vars(c)]
    assert owners == [ev.Event]
    for name in cls.actor_fields:  # type: ignore[attr-defined]
        assert name in cls.__struct_fields__  # type: ignore[attr-defined]


def test_commit_received_falls_back_from_uploader_to_submitter() -> None:
    line = ref_updated("example/x", "refs/heads/master", who="carol") | {
        "type": "commit-received"}
    event = parse_event(json.dumps(line))
    assert isinstance(event, CommitReceived) and event.actor == event.submitter
    event = parse_event(json.dumps(line | {"uploader": account("alice")}))
    assert event.actor is not None and event.actor.username == "alice"


def test_events_from_other_sources_have_no_gerrit_actor() -> None:
    now = dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)
    events = [
        IrcMessage("#tc", "#tc", "alice", "alice", "hello", time=now),
        IrcJoin("#TC", "alice", None, time=now),
        IrcPart("#tc", "alice", time=now),
        IrcNickChange("#tc", "alice", "alice_", "alice", time=now),
        ConfigReloaded("a", "b"),
        ConfigRejected("c", "b", ("meh",)),
        Wakeup("reminders", "digest:d", now),
    ]
    assert [(e.type_name, e.lane, e.actor) for e in events] == [
        ("irc-message", "irc:#tc", None),
        ("irc-join", "irc:#tc", None),
        ("irc-part", "irc:#tc", None),
        ("irc-nick", "irc:#tc", None),
        ("config-reloaded", "config", None),
        ("config-rejected", "config", None),
        ("wakeup", "wakeup:reminders:digest:d", None),
    ]
