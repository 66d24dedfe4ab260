"""The contract every event meets (`Event`), and the events the core itself produces
(config reloads, wake-ups, the outcome of writing minutes; Gerrit's are in
govbot.gerrit.events, IRC's in govbot.irc.events)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from govbot.gerrit.events import Account


class Event(Protocol):
    """What the dispatcher and the intake need of any event, whatever its source.

    The id is not the event's own: the source puts it on the envelope (a digest of
    what a Gerrit event says, an IRC message's msgid, a wake-up's key), since only the
    source knows what makes two deliveries the same event.
    """

    @property
    def type_name(self) -> str:
        """The kind of event, as logs and metrics name it (Gerrit's `type`)."""

    @property
    def lane(self) -> str:
        """Events sharing a lane are handled strictly in order (a change, a channel)."""

    @property
    def actor(self) -> Account | None:
        """The Gerrit account that caused the event; None when none did (IRC, the
        clock, the core). Events the bot's own account caused are dropped."""


if TYPE_CHECKING:
    # mypy checks here that every event type of the core meets the contract.
    from govbot.commands import CommandEvent
    from govbot.gerrit.events import GerritEvent
    from govbot.irc.events import IrcEvent

    def _gerrit(event: GerritEvent) -> Event:
        return event

    def _irc(event: IrcEvent) -> Event:
        return event

    def _core(event: ConfigReloaded | ConfigRejected | Wakeup | MinutesWritten
              | MinutesFailed) -> Event:
        return event

    def _command(event: CommandEvent) -> Event:
        return event


@dataclass(frozen=True, slots=True)
class ConfigReloaded:
    """A new governance config is in force (plugins re-evaluate what it affects)."""

    old_revision: str
    new_revision: str
    type_name = "config-reloaded"
    actor = None

    @property
    def lane(self) -> str:
        return "config"


@dataclass(frozen=True, slots=True)
class ConfigRejected:
    """A merged config revision failed to load; the previous one stays in force."""

    revision: str
    kept_revision: str
    errors: tuple[str, ...]
    type_name = "config-rejected"
    actor = None

    @property
    def lane(self) -> str:
        return "config"


@dataclass(frozen=True, slots=True)
class Wakeup:
    """The event a `WakeAt` turns into (govbot.scheduler fires it at its moment).

    Every plugin that handles wake-ups gets every plugin's: a handler should check
    `plugin == self.name` first.
    """

    plugin: str
    key: str
    due: dt.datetime
    lane_name: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    type_name = "wakeup"
    actor = None

    @property
    def lane(self) -> str:
        return self.lane_name or f"wakeup:{self.plugin}:{self.key}"


@dataclass(frozen=True, slots=True)
class MinutesWritten:
    """The core's minutes reporter wrote the files of a `WriteMinutes` that asked for
    its outcome (`key` set): they exist now, so their URLs may be said.

    Delivered in the action's `lane` (a meeting's channel), after the lines before it.
    """

    plugin: str  # the plugin whose WriteMinutes it was
    key: str  # the plugin's own name for these minutes (WriteMinutes.key)
    meeting: str
    paths: tuple[str, ...]  # relative to `directory`, as written
    directory: str
    attempts: int = 1  # 1: written at once; more: after that many tries
    lane_name: str = ""
    type_name = "minutes-written"
    actor = None

    @property
    def lane(self) -> str:
        return self.lane_name or f"minutes:{self.plugin}:{self.key}"

    @property
    def id(self) -> str:
        return f"minutes-written:{self.plugin}:{self.key}:{self.attempts}"


@dataclass(frozen=True, slots=True)
class MinutesFailed:
    """A try to write a `WriteMinutes` (with `key`) failed; the reporter tries again in
    `retry_in` seconds (None: never — an unsafe path, a refusal that no retry cures)."""

    plugin: str
    key: str
    meeting: str
    error: str  # what the system said, e.g. "[Errno 28] No space left on device"
    attempts: int
    retry_in: float | None
    lane_name: str = ""
    type_name = "minutes-failed"
    actor = None

    @property
    def lane(self) -> str:
        return self.lane_name or f"minutes:{self.plugin}:{self.key}"

    @property
    def id(self) -> str:
        return f"minutes-failed:{self.plugin}:{self.key}:{self.attempts}"
