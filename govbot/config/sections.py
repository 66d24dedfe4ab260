"""How a plugin owns a part of the governance config repo.

A plugin lists `ConfigSection`s; the loader reads the matching YAML files (with
line numbers kept, see `govbot.config.yamlpos`), hands them to the section's
`parse`, and stores what it returns under the plugin's name in
`GovernanceConfig.sections`. `parse` reports problems through `ctx.error` and
never raises for bad input: every error is collected and shown as `FILE:LINE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from govbot.config.model import Body, Person, Source, Team


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """One YAML file of the config repo, parsed with positions.

    `data` is built from `yamlpos` containers: mappings and lists that know the
    `Source` of each key and item, and plain Python scalars.
    """

    path: str  # relative to the config root, with "/" separators
    data: Any


class SectionContext(Protocol):
    """What a section parser may see: the core config already loaded, and an error sink."""

    root: Path
    people: Mapping[str, Person]
    bodies: Mapping[str, Body]
    teams: Mapping[str, Team]

    def error(self, where: Source, message: str) -> None:
        """Record one problem; loading goes on so that every problem is reported."""


@dataclass(frozen=True, slots=True)
class ConfigSection:
    """Files a plugin owns: `pattern` is a path or glob relative to the config root."""

    pattern: str
    parse: Callable[[Sequence[ConfigFile], SectionContext], Any]
    description: str = ""
    required: bool = False
    # For formats other tools read with PyYAML (irc-meetings): a duplicate key is a
    # warning and its last value wins, as it does for them.
    last_key_wins: bool = False
    # One file, one item (a meeting): a file that cannot be read is reported (as a
    # warning naming it unavailable) and left out, and the other files still load.
    per_file: bool = False
