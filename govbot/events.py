"""Events the core itself produces (Gerrit's are in govbot.gerrit.events, IRC's in
govbot.irc.events, wake-ups in govbot.scheduler)."""

from __future__ import annotations

from dataclasses import dataclass


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
