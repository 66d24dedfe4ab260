"""`reminders.yaml` (when and how to remind) and `deadlines.yaml` (dated events).

Both are optional; without `reminders.yaml` every meeting is reminded 10 minutes
before it starts and no digest is sent. docs/reminders.md has every key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from govbot.config.model import Source
from govbot.config.schema import (
    INVALID,
    SLUG,
    Bool,
    Check,
    ErrorSink,
    Field,
    Instant,
    ListOf,
    MapOf,
    Schema,
    Str,
    did_you_mean,
)
from govbot.config.sections import ConfigFile, SectionContext
from govbot.config.yamlpos import YamlList, YamlMap, source_of

from .irc_meetings import DAY, NICKS, OTHER_PLUGIN_PREFIX, TIME, Minutes

__all__ = [
    "DEADLINES_FILE", "REMINDERS_FILE", "Deadline", "Digest", "Grace", "MeetingOverride",
    "RemindersConfig", "parse_deadlines", "parse_reminders",
]

REMINDERS_FILE = "reminders.yaml"
DEADLINES_FILE = "deadlines.yaml"
_UNKNOWN = Source("<unknown>", 0)


class Duration(Check):
    """'7d', '1d 12h', '90m', '0', or a number of minutes."""

    expected = "a duration like '7d', '12h', '30m' or '1d 12h'"
    plural = "durations"
    types = (str, int)
    _PART = re.compile(r"(\d+)\s*([dhm])")

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if isinstance(value, int):
            if value < 0:
                sink.error(where, f"{label} must not be negative, got {value}")
                return INVALID
            return dt.timedelta(minutes=value)
        text = value.strip().lower()
        if text == "0":
            return dt.timedelta(0)
        if not text or self._PART.sub("", text).strip():
            sink.error(where, f"{label} must be {self.expected}, got {value!r}")
            return INVALID
        units = {"d": "days", "h": "hours", "m": "minutes"}
        total = dt.timedelta(0)
        for amount, unit in self._PART.findall(text):
            total += dt.timedelta(**{units[unit]: int(amount)})
        return total


DURATION = Duration()
BODY_ID = Str(pattern=SLUG, expected="a body id")
CHANNEL = Str(pattern=r"#\S+", expected="an IRC channel starting with '#' (quoted)")


@dataclass(frozen=True, slots=True)
class Grace:
    """How late a reminder that fell due while the bot was down may still be sent."""

    meetings: dt.timedelta = dt.timedelta(minutes=15)
    deadlines: dt.timedelta = dt.timedelta(hours=12)
    digests: dt.timedelta = dt.timedelta(hours=2)

    def of(self, kind: str) -> dt.timedelta:
        return {"meeting": self.meetings, "deadline": self.deadlines,
                "digest": self.digests}[kind]


@dataclass(frozen=True, slots=True, kw_only=True)
class MeetingOverride:
    minutes_before: int | None = None
    ping: tuple[str, ...] = ()
    ping_body: str | None = None
    remind: bool = True
    source: Source | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """A pending-vote digest at `time` (UTC) on `days` (0 = Monday; empty: every day)."""

    key: str
    time: dt.time
    days: tuple[int, ...] = ()
    bodies: tuple[str, ...] = ()  # empty: every body with a channel
    channel: str | None = None  # None: each body's own channel
    direct: bool = True  # also remind, one by one, members whose vote is overdue
    source: Source | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemindersConfig:
    grace: Grace = Grace()
    minutes_before: int = 10
    overrides: Mapping[str, MeetingOverride] = field(
        default_factory=lambda: MappingProxyType({}))
    digests: tuple[Digest, ...] = ()
    deadline_offsets: tuple[dt.timedelta, ...] = (dt.timedelta(days=1), dt.timedelta(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadline:
    id: str
    title: str
    at: dt.datetime
    channels: tuple[str, ...]
    url: str | None = None
    offsets: tuple[dt.timedelta, ...] | None = None  # None: reminders.yaml's default
    source: Source | None = None


_OVERRIDE = Schema({
    "minutes_before": Field(Minutes(maximum=7 * 24 * 60, minimum=0)),
    "ping": Field(NICKS, default=()),
    "ping_body": Field(BODY_ID),
    "remind": Field(Bool(), default=True),
}, what="a meeting's reminder settings")
_DIGEST = Schema({
    "name": Field(Str(pattern=SLUG, expected="a name (lowercase, digits, '-')")),
    "time": Field(TIME, required=True),
    "days": Field(ListOf(DAY, single_ok=True), default=()),
    "bodies": Field(ListOf(BODY_ID, single_ok=True), default=()),
    "channel": Field(CHANNEL),
    "direct": Field(Bool(), default=True),
}, what="a digest")
REMINDERS = Schema({
    "grace": Field(Schema({
        "meetings": Field(DURATION), "deadlines": Field(DURATION),
        "digests": Field(DURATION),
    }, what="'grace'")),
    "meetings": Field(Schema({
        "minutes_before": Field(Minutes(maximum=7 * 24 * 60, minimum=0), default=10),
        "overrides": Field(MapOf(_OVERRIDE, key=Str(expected="a meeting file name"),
                                 item_label="meeting '{key}'"), default={}),
    }, what="'meetings'")),
    "digests": Field(ListOf(_DIGEST), default=()),
    "deadlines": Field(Schema({"offsets": Field(ListOf(DURATION, nonempty=True))},
                              what="'deadlines'")),
}, what="reminders.yaml")
DEADLINE = Schema({
    "title": Field(Str(), required=True),
    "at": Field(Instant(), required=True),
    "channels": Field(ListOf(CHANNEL, single_ok=True), default=()),
    "body": Field(BODY_ID),
    "url": Field(Str()),
    "remind": Field(ListOf(DURATION, single_ok=True, nonempty=True)),
}, what="a deadline")
DEADLINES = MapOf(DEADLINE, key=Str(pattern=SLUG, expected="a deadline id"),
                  item_label="deadline '{key}'")


def parse_reminders(files: Sequence[ConfigFile], ctx: SectionContext) -> RemindersConfig:
    if not files:
        return RemindersConfig()
    data = REMINDERS.read_file(files[0], ctx)
    if data is INVALID or not isinstance(data, YamlMap):
        return RemindersConfig()
    base = Grace()
    grace_data = data["grace"] or {}
    grace = Grace(**{k: grace_data.get(k) or getattr(base, k)
                     for k in ("meetings", "deadlines", "digests")})
    meetings = data["meetings"] or {}
    overrides = {}
    for stem, spec in (meetings.get("overrides") or {}).items():
        where = source_of(meetings["overrides"], stem) or _UNKNOWN
        if not (ctx.root / "meetings" / f"{stem}.yaml").is_file() \
                or stem.startswith(OTHER_PLUGIN_PREFIX):
            known = sorted(p.stem for p in (ctx.root / "meetings").glob("*.yaml")
                           if not p.stem.startswith(OTHER_PLUGIN_PREFIX))
            ctx.error(where, f"no meeting file meetings/{stem}.yaml{did_you_mean(stem, known)}; "
                             "overrides are keyed by the file name without '.yaml'")
            continue
        _check_body(spec["ping_body"], spec.source_of("ping_body"), ctx, need_channel=False)
        overrides[stem] = MeetingOverride(
            minutes_before=spec["minutes_before"], ping=tuple(spec["ping"] or ()),
            ping_body=spec["ping_body"], remind=spec["remind"], source=where)
    digests = tuple(d for d in (_digest(item, where, ctx) for item, where
                                in (data["digests"] or YamlList(_UNKNOWN)).with_sources()) if d)
    offsets = (data["deadlines"] or {}).get("offsets")
    return RemindersConfig(
        grace=grace, minutes_before=meetings.get("minutes_before", 10),
        overrides=MappingProxyType(overrides), digests=digests,
        deadline_offsets=tuple(offsets) if offsets else RemindersConfig().deadline_offsets)


def _digest(spec: YamlMap, where: Source, ctx: SectionContext) -> Digest | None:
    if spec["time"] is None:
        return None
    bodies = tuple(spec["bodies"] or ())
    for index, body in enumerate(bodies):
        _check_body(body, spec["bodies"].source_of(index), ctx,
                    need_channel=spec["channel"] is None)
    days = tuple(sorted(set(spec["days"] or ())))
    key = spec["name"] or "digest-{}-{}-{}".format(
        f"{spec['time']:%H%M}", "".join(str(d) for d in days) or "daily",
        "+".join(bodies) or "all")
    return Digest(key=key, time=spec["time"], days=days, bodies=bodies,
                  channel=spec["channel"], direct=spec["direct"], source=where)


def _check_body(body: str | None, where: Source, ctx: SectionContext, *,
                need_channel: bool) -> None:
    if body is None:
        return
    found = ctx.bodies.get(body)
    if found is None:
        ctx.error(where, f"unknown body {body!r}{did_you_mean(body, ctx.bodies)}; bodies "
                         "are defined in bodies.yaml")
    elif need_channel and not found.channel:
        ctx.error(where, f"body {body!r} has no 'channel' in bodies.yaml; give it one, "
                         "or name a 'channel' here")


def parse_deadlines(files: Sequence[ConfigFile], ctx: SectionContext
                    ) -> tuple[Deadline, ...]:
    if not files:
        return ()
    data = DEADLINES.read_file(files[0], ctx)
    if data is INVALID:
        return ()
    found = []
    for ident, spec in data.items():
        where = source_of(data, ident) or _UNKNOWN
        if spec["title"] is None or spec["at"] is None:
            continue
        channels = list(spec["channels"] or ())
        body = spec["body"]
        _check_body(body, spec.source_of("body"), ctx, need_channel=True)
        if body in ctx.bodies and ctx.bodies[body].channel:
            channels.append(str(ctx.bodies[body].channel))
        if not channels and body is None:
            ctx.error(where, f"deadline {ident!r} says nowhere to remind: give 'channels' "
                             "or a 'body' with a channel")
        remind = spec["remind"]
        found.append(Deadline(id=ident, title=spec["title"], at=spec["at"],
                              channels=tuple(dict.fromkeys(channels)), url=spec["url"],
                              offsets=tuple(remind) if remind else None, source=where))
    return tuple(found)
