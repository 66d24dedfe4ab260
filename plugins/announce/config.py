"""`announcements.yaml`: gerritbot's channel file, read as-is, plus modern vote filters.

The file maps IRC channels to what they want to hear about::

    openstack-tc:                 # '#' optional: gerritbot files leave it out
      events:
        - patchset-created
        - x-crvw-minus-2          # gerritbot's Gerrit 2.x filter: Code-Review changed to -2
        - vote:Rollcall-Vote=+1   # govbot: any label, any value
        - comment-added: {label: Code-Review, value: -2}
      projects: [openstack/governance, ^openstack/.*-specs]   # '^': a regex, full match
      branches: [master, ^stable/.*]                          # optional: every branch

Every problem is reported at its `FILE:LINE` through the section context, and the
parsed result is frozen data the plugin can share between concurrent handlers.
docs/announcements.md is the user-facing description.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from govbot.config.model import Source
from govbot.config.names import ANY_NAME, Names
from govbot.config.schema import (
    INVALID,
    Check,
    Either,
    ErrorSink,
    Field,
    Int,
    ListOf,
    Pattern,
    Schema,
    Str,
    describe,
    did_you_mean,
)
from govbot.config.sections import ConfigFile, SectionContext
from govbot.config.yamlpos import source_of
from govbot.gerrit.events import Approval

ANNOUNCEMENTS_FILE = "announcements.yaml"

#: The events a channel may list, by their Gerrit stream names.
EVENT_NAMES: tuple[str, ...] = (
    "patchset-created", "change-merged", "change-abandoned", "change-restored",
    "comment-added", "hashtags-changed", "topic-changed", "wip-state-changed",
    "private-state-changed", "ref-updated",
)

#: gerritbot's filters use Gerrit 2.x label codes, which modern Gerrit never sends
#: (that is why they stopped matching); each maps to today's label name.
LEGACY_LABELS: dict[str, str] = {"crvw": "Code-Review", "vrif": "Verified",
                                 "workflow": "Workflow"}
_LEGACY_RE = re.compile(r"x-([a-z]+)-(minus|plus)-(\d+)")
# Gerrit label names: letters, digits and dashes, not starting with a dash.
LABEL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9-]*"
_VOTE_RE = re.compile(rf"vote:({LABEL_PATTERN})(?:=([+-]?\d+))?")
_VALUE_RE = r"[+-]?\d+"
# Anything IRC accepts in a channel name: no spaces, commas or control characters.
_CHANNEL_RE = r"#{0,2}[^\s,#\x00-\x1f\x7f][^\s,\x00-\x1f\x7f]*"

#: Every string form, for did-you-mean hints on typos.
KNOWN_STRINGS: tuple[str, ...] = EVENT_NAMES + tuple(
    f"x-{code}-{sign}-{n}" for code in LEGACY_LABELS for sign in ("minus", "plus")
    for n in (1, 2))


# gerritbot's name convention, shared with the governance rules.
NameMatcher = Names
ALL_NAMES = ANY_NAME


@dataclass(frozen=True, slots=True)
class VoteFilter:
    """'A vote on `label` CHANGED to `value`' (any value when None).

    A changed vote is one Gerrit reports with `oldValue`; comment-added repeats the
    author's other current votes without it, and those must not be announced again.
    """

    label: str
    value: int | None
    written: str  # as the file spelled it, for logs and docs

    def matches(self, approval: Approval) -> bool:
        return (approval.changed and approval.type == self.label
                and (self.value is None or approval.value == self.value))


@dataclass(frozen=True, slots=True)
class Channel:
    name: str  # always with its '#'
    events: frozenset[str]
    votes: tuple[VoteFilter, ...]
    projects: NameMatcher
    branches: NameMatcher
    source: Source

    def routes(self, project: str, branch: str | None) -> bool:
        """Project and branch match (`branch` None: a tag, where branches do not apply)."""
        return self.projects.matches(project) and (
            branch is None or self.branches.matches(branch))


@dataclass(frozen=True, slots=True)
class AnnounceConfig:
    channels: tuple[Channel, ...] = ()
    # event name -> channels listening to it, computed once so a handler only looks
    # at channels that could want its event.
    by_event: Mapping[str, tuple[Channel, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, channels: Sequence[Channel]) -> AnnounceConfig:
        by_event: dict[str, list[Channel]] = {}
        for channel in channels:
            names = set(channel.events)
            if channel.votes:
                names.add("comment-added")  # a vote filter listens to comment-added
            for name in names:
                by_event.setdefault(name, []).append(channel)
        return cls(tuple(channels),
                   MappingProxyType({k: tuple(v) for k, v in by_event.items()}))

    def listening(self, event_name: str) -> tuple[Channel, ...]:
        return self.by_event.get(event_name, ())


EMPTY = AnnounceConfig()


class EventEntry(Check):
    """One item of `events`: an event name, a gerritbot filter, or a vote filter."""

    expected = ("an event name, a gerritbot filter like 'x-crvw-minus-2', "
                "'vote:LABEL=VALUE' or a mapping {comment-added: {label: ..., value: ...}}")
    plural = "events"
    types = (str, Mapping)

    _FILTER = Schema({
        "label": Field(Str(pattern=LABEL_PATTERN, expected="a Gerrit label name"),
                       required=True),
        "value": Field(Either(Int(), Str(pattern=_VALUE_RE, expected="a vote like '+1'"),
                              expected="a vote value like -2 or +1")),
    }, what="a vote filter")

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if isinstance(value, str):
            return self._string(value, where, label, sink)
        return self._mapping(value, where, label, sink)

    def _string(self, value: str, where: Source, label: str, sink: ErrorSink) -> Any:
        if value in EVENT_NAMES:
            return value
        legacy = _LEGACY_RE.fullmatch(value)
        if legacy:
            code, sign, number = legacy.groups()
            if code not in LEGACY_LABELS:
                known = ", ".join(f"{c} ({name})" for c, name in LEGACY_LABELS.items())
                sink.error(where, f"{label} {value!r} uses an unknown gerritbot label code "
                                  f"{code!r}; known codes: {known}; for any other label "
                                  "write 'vote:LABEL=VALUE'")
                return INVALID
            if int(number) == 0:
                sink.error(where, f"{label} {value!r} filters on a vote of 0; "
                                  "use 'vote:LABEL=0' to announce votes being reset")
                return INVALID
            amount = int(number) * (-1 if sign == "minus" else 1)
            return VoteFilter(LEGACY_LABELS[code], amount, value)
        if value.startswith("vote:"):
            vote = _VOTE_RE.fullmatch(value)
            if vote is None:
                sink.error(where, f"{label} {value!r} is not a vote filter; write "
                                  "'vote:LABEL=VALUE' like 'vote:Code-Review=-2', or "
                                  "'vote:LABEL' for any new vote on that label")
                return INVALID
            number = vote.group(2)
            return VoteFilter(vote.group(1), None if number is None else int(number), value)
        hint = did_you_mean(value, KNOWN_STRINGS) or (
            "; known events: " + ", ".join(EVENT_NAMES))
        sink.error(where, f"{label} is an unknown event {value!r}{hint}")
        return INVALID

    def _mapping(self, value: Mapping[Any, Any], where: Source, label: str,
                 sink: ErrorSink) -> Any:
        if len(value) != 1:
            sink.error(where, f"{label} must have exactly one key, 'comment-added', "
                              f"got {len(value)} keys")
            return INVALID
        key, spec = next(iter(value.items()))
        if key != "comment-added":
            if key in EVENT_NAMES:
                sink.error(where, f"{label}: only 'comment-added' takes a vote filter, "
                                  f"not {key!r}")
            else:
                sink.error(where, f"{label} is an unknown event {key!r}"
                                  f"{did_you_mean(str(key), ['comment-added'])}")
            return INVALID
        checked = self._FILTER.check(spec, source_of(spec) or where,
                                     "'comment-added'", sink)
        if checked is INVALID or checked["label"] is None:
            return INVALID
        raw = checked["value"]
        amount = None if raw is None else int(raw)
        written = f"comment-added: {{label: {checked['label']}, value: {raw}}}"
        return VoteFilter(checked["label"], amount, written)


def _channel_schema(name: str) -> Schema:
    # A schema per channel so that messages name it: "... is missing in channel '#x'".
    return Schema({
        "events": Field(ListOf(EventEntry(), nonempty=True), required=True,
                        doc="events and vote filters to announce"),
        "projects": Field(ListOf(Pattern(), nonempty=True), required=True,
                          doc="project names or '^regexes'"),
        "branches": Field(ListOf(Pattern(), nonempty=True), default=None,
                          doc="branch names or '^regexes'; omitted: every branch"),
    }, what=f"channel {name!r}")


_CHANNEL_NAME = Str(pattern=_CHANNEL_RE,
                    expected="an IRC channel name like 'example-tc' or '#example-tc'")


def channel_name(key: str) -> str:
    """gerritbot writes channels without their '#'; IRC needs it."""
    return key if key.startswith("#") else f"#{key}"


def parse_channels(data: Any, path: str, sink: ErrorSink) -> AnnounceConfig:
    """Validate one announcements file's content; report every problem to `sink`."""
    if data is None:  # an empty file: no channels yet
        return EMPTY
    here = source_of(data) or Source(path, 1)
    if not isinstance(data, Mapping):
        sink.error(here, "this file must be a mapping of IRC channel names to channels, "
                         f"got {describe(data)}")
        return EMPTY
    channels: list[Channel] = []
    seen: dict[str, Source] = {}
    for key, body in data.items():
        where = source_of(data, key) or here
        if _CHANNEL_NAME.check(key, where, f"channel {key!r}", sink) is INVALID:
            continue
        name = channel_name(key)
        # IRC channel names ignore case: '#TC' and 'tc' are one channel.
        folded = name.lower()
        if folded in seen:
            sink.error(where, f"channel {name!r} is already configured at {seen[folded]}; "
                              "merge the two entries")
            continue
        seen[folded] = where
        spec = _channel_schema(name).check(body, where, f"channel {name!r}", sink)
        if spec is INVALID or not spec["events"] or not spec["projects"]:
            continue
        events = [e for e in spec["events"] if isinstance(e, str)]
        votes = tuple(e for e in spec["events"] if isinstance(e, VoteFilter))
        branches = spec["branches"]
        channels.append(Channel(
            name=name, events=frozenset(events), votes=votes,
            projects=NameMatcher.of(spec["projects"]),
            branches=ALL_NAMES if branches is None else NameMatcher.of(branches),
            source=where))
    return AnnounceConfig.of(channels)


def parse_announcements(files: Sequence[ConfigFile], ctx: SectionContext) -> AnnounceConfig:
    """The ConfigSection parser: no file means no announcements."""
    if not files:
        return EMPTY
    return parse_channels(files[0].data, files[0].path, ctx)
