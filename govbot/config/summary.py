"""`check-config`'s one-line summary of a loaded config, and what it says is wrong.

A config repo that loads but governs nothing is almost always the wrong directory
or an unrecognised layout, and silence would hide that: an empty or unrecognised
tree is an error, a tree with no rules a warning. The counts of plugin sections are
read by shape (`rules`, `meetings/*.yaml`, `unavailable`), as the core imports no
plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.config.loader import LoadResult
from govbot.config.model import Source
from govbot.config.yamlpos import ConfigError, ConfigWarning


@dataclass(frozen=True)
class Summary:
    line: str
    details: tuple[str, ...] = ()
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)


def _parts(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, Mapping) else [value]


def summarise(result: LoadResult) -> Summary:
    config = result.config
    if config is None:
        return Summary("")
    parts = [p for value in config.sections.values() for p in _parts(value)]
    rules = sum(len(getattr(p, "rules", ())) for p in parts)
    meeting_sets = [p for p in parts if hasattr(p, "unavailable")]
    meetings = [m for ms in meeting_sets for m in ms]
    # Files the loader could not read never reach the plugin: count those too.
    unavailable = sorted({f for ms in meeting_sets for f in ms.unavailable}
                         | {e.source.file for e in result.item_errors})
    owners = [*config.teams.values(), *config.groups.values()]
    repositories = {r for team in owners for r in team.repositories}
    line = (f"{len(result.files)} files: {len(config.people)} people, "
            f"{len(config.bodies)} bodies, {len(config.teams)} teams"
            + (f" (+{len(config.groups)} groups)" if config.groups else "")
            + f", {len(repositories)} repositories, {rules} rules, {len(meetings)} meetings"
            + (f" ({len(unavailable)} unavailable)" if unavailable else "")
            + (f", {len(config.retired)} retired teams" if config.retired else ""))
    reminded = sorted(
        f"{m.key} ({', '.join(sorted({s.irc for s in m.slots if s.irc}))})"
        for m in meetings if any(s.irc and s.recurrence.kind != "adhoc" for s in m.slots))
    details = (f"meetings reminded: {', '.join(reminded)}",) if reminded else ()
    if not result.files:
        return Summary(line, details, errors=[ConfigError(Source(".", 0), (
            "no file govbot reads is here (people.yaml, bodies.yaml, projects.yaml or "
            "reference/projects.yaml, rules.yaml, meetings/*.yaml, ...): is this the "
            "config repo's root, or its subdirectory?"))])
    warnings = []
    if not rules and not meetings and not config.bodies:
        warnings.append(ConfigWarning(Source(".", 0), (
            "this config governs nothing: no rules, no bodies and no meetings")))
    elif not rules:
        warnings.append(ConfigWarning(Source(".", 0), (
            "no rules: no change is governed (add rules.yaml; see docs/rules.md)")))
    return Summary(line, details, warnings=warnings)
