"""Gerrit's stream-events JSON, parsed once at the edge into frozen typed events.

The event classes are defined in `govbot.gerrit.event_types` and re-exported here,
where every caller imports them from; this module is the parser.

Every event type Gerrit documents has its own struct, chosen by the ``type`` field
(a msgspec tagged union, so one decode call builds the whole typed tree). The parser
accepts the variations real servers send:

- ``change.number`` / ``patchSet.number`` as strings (older Gerrit) or ints;
- top-level ``project`` as a string, or ``{"name": ...}`` (events-log output);
- approval values as strings in the stream (``"-1"``) and ints over REST;
- the webhooks plugin's shapes: ``changeKey`` as ``{"key": ...}`` (the stream writes
  ``{"id": ...}``), ``project`` as ``{"name": ...}``, and no ``eventCreatedOn``;
- branch names bare (``master``) or as full refs in ref-updated;
- unknown event types (plugin events such as ``ref-replicated``) and garbage lines,
  which are counted and logged, never raised.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from govbot.gerrit.event_types import (
    EVENT_TYPES,
    ZERO_SHA,
    Account,
    Approval,
    BatchRefUpdated,
    Change,
    ChangeAbandoned,
    ChangeDeleted,
    ChangeEvent,
    ChangeKey,
    ChangeMerged,
    ChangeRestored,
    CommentAdded,
    CommitReceived,
    CustomKeyedValuesChanged,
    DroppedOutput,
    Event,
    GerritEvent,
    HashtagsChanged,
    NameRef,
    PatchSet,
    PatchsetCreated,
    PrivateStateChanged,
    ProjectCreated,
    ProjectHeadUpdated,
    RefEvent,
    RefReceived,
    RefUpdate,
    RefUpdated,
    ReviewerAdded,
    ReviewerDeleted,
    TopicChanged,
    VoteDeleted,
    WipStateChanged,
    encode_event,
)

# An event's id is computed in its own module (with `equivalent_ids`); `event_id` is
# re-exported here, where callers have always found it.
from govbot.gerrit.identity import event_id

__all__ = [
    "EVENT_TYPES",
    "ZERO_SHA",
    "Account",
    "Approval",
    "BatchRefUpdated",
    "Change",
    "ChangeAbandoned",
    "ChangeDeleted",
    "ChangeEvent",
    "ChangeKey",
    "ChangeMerged",
    "ChangeRestored",
    "CommentAdded",
    "CommitReceived",
    "CustomKeyedValuesChanged",
    "DroppedOutput",
    "Event",
    "EventParser",
    "GerritEvent",
    "HashtagsChanged",
    "NameRef",
    "ParseError",
    "ParseStats",
    "Parsed",
    "PatchSet",
    "PatchsetCreated",
    "PrivateStateChanged",
    "ProjectCreated",
    "ProjectHeadUpdated",
    "RefEvent",
    "RefReceived",
    "RefUpdate",
    "RefUpdated",
    "ReviewerAdded",
    "ReviewerDeleted",
    "TopicChanged",
    "VoteDeleted",
    "WipStateChanged",
    "encode_event",
    "event_id",
    "is_noise",
    "parse_event",
]

log = logging.getLogger(__name__)


class _TypeOnly(msgspec.Struct):
    type: str = ""


class _Name(msgspec.Struct):
    name: str = ""


class _ChangeWhere(msgspec.Struct):
    project: str | _Name = ""


class _RefWhere(msgspec.Struct):
    project: str | _Name = ""
    ref_name: str = msgspec.field(default="", name="refName")


class _Where(msgspec.Struct):
    """Only what routing reads of an event line: its type and project (and a ref
    update's ref, for the NoteDb noise); msgspec skips the rest without building it,
    five times faster than the full decode."""

    type: str = ""
    change: _ChangeWhere | None = None
    project: str | _Name | None = None
    ref_update: _RefWhere | None = msgspec.field(default=None, name="refUpdate")


@functools.cache
def _decoders() -> tuple[msgspec.json.Decoder[Event], msgspec.json.Decoder[_TypeOnly],
                         msgspec.json.Decoder[_Where]]:
    """The decoders every parser shares, built once per process: building the one of
    every event class takes about 6 ms, which the first event of each source paid
    (msgspec's decoders are thread-safe and hold no state)."""
    # strict=False: "12" decodes as 12, which is how older Gerrit sends numbers.
    return (msgspec.json.Decoder(GerritEvent, strict=False), msgspec.json.Decoder(_TypeOnly),
            msgspec.json.Decoder(_Where))


_CHANGE, _REF, _OTHER = "change", "ref", "other"
#: Gerrit's type string -> the event class and where its project is.
_KINDS: dict[str, tuple[type[Event], str]] = {
    name: (cls, _CHANGE if issubclass(cls, ChangeEvent) else _REF if issubclass(cls, RefEvent)
           else _OTHER)
    for name, cls in EVENT_TYPES.items()
}


@dataclass(slots=True)
class ParseStats:
    """Counts of what the parser saw; exported as metrics and logged."""

    parsed: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    noise: int = 0
    #: Lines `decode_wanted` left undecoded: about a project no plugin wants.
    unwanted: int = 0


class ParseError(ValueError):
    """A line that is not a valid event of a known type."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A decoded event with its stable id (a digest of the raw line)."""

    id: str
    event: Event


class EventParser:
    """Turns raw stream lines into typed events; never raises on bad input.

    One instance per source, so its counters describe that source.
    """

    def __init__(self, *, drop_noise: bool = True) -> None:
        self._decoder, self._type_decoder, self._where_decoder = _decoders()
        self.drop_noise = drop_noise
        self.stats = ParseStats()

    @staticmethod
    def prepare() -> None:
        """Build the shared decoders now (the daemon's intake does at start, so that its
        first event does not wait for them)."""
        _decoders()

    def parse(self, line: bytes | str) -> Parsed | None:
        """Return the typed event, or None for unknown, malformed or noise lines."""
        event = self.decode(line)
        if event is None:
            return None
        try:
            return Parsed(event_id(event), event)
        except Exception as exc:  # an event whose id cannot be computed: never raised
            self._unreadable(line, exc)
            return None

    def decode(self, line: bytes | str) -> Event | None:
        """`parse` without the id: for a reader that first asks whether anyone wants the
        event (the id is a third of the parse; most events of a big Gerrit are about
        projects nobody acts on). `event_id(event)` gives it when needed."""
        try:
            raw = line.encode() if isinstance(line, str) else line
            event: Event = self._decoder.decode(raw)
            if self.drop_noise and is_noise(event):
                self.stats.noise += 1
                return None
        except msgspec.DecodeError as exc:
            self._reject(raw, exc)
            return None
        except Exception as exc:  # one line must never stop a source
            # RecursionError on a deeply nested line, a str that cannot be encoded:
            # counted and logged, never raised.
            self._unreadable(line, exc)
            return None
        self.stats.parsed[event.type_name] += 1
        return event

    def decode_wanted(self, line: bytes | str,
                      wanted: Callable[[type[Event], str | None], bool]) -> Event | None:
        """`decode`, after a look at only the line's type and project: when
        `wanted(event class, project)` is False (no plugin acts on such events; see
        `Dispatcher.wanted_kind`) the line is counted as unwanted and not decoded.

        A line the look cannot read is decoded in full, so it is counted and logged as
        `decode` would; one the look can read but the full decode would reject is
        counted as unwanted, not malformed (about a project nobody acts on, either way
        nothing is done with it)."""
        try:
            where = self._where_decoder.decode(line)
            cls, kind = _KINDS[where.type]
        except Exception:  # whatever is wrong with it (or an unknown type): `decode` says
            return self.decode(line)
        project: str | _Name | None = None
        if kind is _CHANGE:
            project = where.project
            if project is None and where.change is not None:
                project = where.change.project
        elif kind is _REF:
            update = where.ref_update
            if update is not None:
                ref = update.ref_name
                if self.drop_noise and ref.startswith("refs/changes/") \
                        and ref.endswith("/meta"):
                    self.stats.noise += 1
                    return None
                project = update.project
            else:
                project = ""
        if isinstance(project, _Name):
            project = project.name
        if not wanted(cls, project):
            self.stats.unwanted += 1
            return None
        return self.decode(line)

    def _unreadable(self, line: bytes | str, exc: Exception) -> None:
        self.stats.malformed += 1
        log.warning("unreadable Gerrit event (%s): %r...", type(exc).__name__,
                    bytes(line[:200]) if isinstance(line, bytes) else line[:200])

    def _reject(self, raw: bytes, exc: msgspec.DecodeError) -> None:
        try:
            type_name = self._type_decoder.decode(raw).type
        except Exception:  # malformed in any way: counted below
            type_name = ""
        if type_name and type_name not in EVENT_TYPES:
            self.stats.unknown[type_name] += 1
            log.debug("skipping unknown Gerrit event type %r", type_name)
            return
        self.stats.malformed += 1
        log.warning("malformed Gerrit event (%s): %r...", exc, raw[:200])


def parse_event(line: bytes | str) -> Event:
    """Parse one line strictly: raise ParseError for anything but a known event."""
    parser = EventParser(drop_noise=False)
    parsed = parser.parse(line)
    if parsed is None:
        if parser.stats.unknown:
            raise ParseError(f"unknown event type {next(iter(parser.stats.unknown))!r}")
        raise ParseError("malformed event line")
    return parsed.event


def is_noise(event: Event) -> bool:
    """NoteDb writes a `refs/changes/*/meta` ref-updated for every change mutation."""
    if isinstance(event, RefEvent):
        ref = event.ref_update.ref_name
        return ref.startswith("refs/changes/") and ref.endswith("/meta")
    return False
