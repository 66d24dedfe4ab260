"""What a meeting line did, as data: one frozen dataclass per effect.

The command interpreter decides a line's effects once (`commands.interpret`); the
journal keeps them (`{"op": "start", ...}` in an entry's `fx` list, the form the bot
has always written) and `Meeting.apply` replays them, live, after a restart or in
`govbot minutes`. `encode` and `decode` are the two ends of that journal form:
`decode(encode(fx)) == fx` for every effect, and a journal written before effects
had types (the same dicts, with some keys absent in older versions) decodes to the
same effects. An `op` this version does not know is skipped, as it always was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class StartMeeting:
    op: ClassVar[str] = "start"
    channel: str
    owner: str  # the starter's identity (see model.identity_of): never removable
    name: str = ""  # normalised later; "" means the channel's default name
    topic: str | None = None  # the meeting topic given to #startmeeting
    sanctioned: bool = False  # a scheduled meeting of the channel (see policy)
    # The channel's topic when the meeting started, restored by #endmeeting (None: not
    # known, e.g. a journal from before this field, or no topic seen): left alone then.
    channel_topic: str | None = None


@dataclass(frozen=True, slots=True)
class AddItem:
    """An item of the minutes (#info, #agreed, ..., a bare URL as a LINK)."""

    op: ClassVar[str] = "item"
    kind: str  # one of model.ITEM_KINDS but TOPIC and VOTE
    text: str


@dataclass(frozen=True, slots=True)
class NewTopic:
    op: ClassVar[str] = "topic"
    text: str


@dataclass(frozen=True, slots=True)
class MeetingTopic:
    op: ClassVar[str] = "meetingtopic"
    text: str | None = None  # None: unset


@dataclass(frozen=True, slots=True)
class AddChair:
    op: ClassVar[str] = "chair"
    id: str  # the identity decided when #chair was said, never re-resolved
    nick: str


@dataclass(frozen=True, slots=True)
class RemoveChair:
    op: ClassVar[str] = "unchair"
    id: str


@dataclass(frozen=True, slots=True)
class Undo:
    op: ClassVar[str] = "undo"


@dataclass(frozen=True, slots=True)
class Rename:
    op: ClassVar[str] = "name"
    name: str


@dataclass(frozen=True, slots=True)
class Lurk:
    op: ClassVar[str] = "lurk"
    on: bool


@dataclass(frozen=True, slots=True)
class RestrictLogs:
    op: ClassVar[str] = "restrictlogs"


@dataclass(frozen=True, slots=True)
class Attendees:
    """Nicks counted as present without having said a line (#nick, #present)."""

    op: ClassVar[str] = "nicks"
    nicks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Alias:
    """`#here ALIAS` (hcoop-meetbot): the speaker also answers to ALIAS in action items."""

    op: ClassVar[str] = "alias"
    alias: str


@dataclass(frozen=True, slots=True)
class StartVote:
    op: ClassVar[str] = "startvote"
    question: str
    options: tuple[str, ...]
    # A vote bound to a body: its members and rules as they were when it started.
    body: str | None = None
    body_name: str | None = None
    members: tuple[str, ...] = ()
    quorum: int | None = None
    threshold: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CastVote:
    op: ClassVar[str] = "vote"
    voter: str
    option: str
    person: str | None = None


@dataclass(frozen=True, slots=True)
class EndVote:
    op: ClassVar[str] = "endvote"


@dataclass(frozen=True, slots=True)
class EndMeeting:
    op: ClassVar[str] = "end"


Effect = (StartMeeting | AddItem | NewTopic | MeetingTopic | AddChair | RemoveChair | Undo
          | Rename | Lurk | RestrictLogs | Attendees | Alias | StartVote | CastVote | EndVote
          | EndMeeting)

_BY_OP: dict[str, type[Effect]] = {
    cls.op: cls for cls in (StartMeeting, AddItem, NewTopic, MeetingTopic, AddChair,
                            RemoveChair, Undo, Rename, Lurk, RestrictLogs, Attendees,
                            Alias, StartVote, CastVote, EndVote, EndMeeting)
}
_FIELDS: dict[type[Effect], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _BY_OP.values()
}

#: Every op the journal may hold, for the docs and the tests.
OPS = tuple(_BY_OP)


def encode(effect: Effect) -> dict[str, Any]:
    """The journal form: `{"op": ..., field: value, ...}` (JSON-ready)."""
    out: dict[str, Any] = {"op": effect.op}
    for name in _FIELDS[type(effect)]:
        value = getattr(effect, name)
        out[name] = list(value) if isinstance(value, tuple) else (
            dict(value) if isinstance(value, Mapping) else value)
    return out


def decode(data: Mapping[str, Any]) -> Effect | None:
    """An effect from its journal form; None for an op this version does not know.

    Keys absent from older journals take the field's default; a missing required key
    raises (KeyError/TypeError), as reading such an entry always did.
    """
    cls = _BY_OP.get(data["op"])
    if cls is None:
        return None
    kwargs: dict[str, Any] = {
        name: tuple(data[name]) if isinstance(data[name], list) else data[name]
        for name in _FIELDS[cls] if name in data}
    return cls(**kwargs)
