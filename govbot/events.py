"""Events the core itself produces: config reloads and wake-ups (Gerrit's are in
govbot.gerrit.events, IRC's in govbot.irc.events)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
