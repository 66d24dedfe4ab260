"""Telling a broken file's follow-on errors ("echoes") from real ones.

When people.yaml, bodies.yaml or the projects file has errors, some of its people,
bodies or teams are missing, and every file naming them would report "unknown
body 'tc'" (with a did-you-mean that points somewhere wrong). Those errors only
exist because the first file is broken: `check-config` reports that file, and counts
the echoes instead of listing them (DESIGN.md: errors a user can act on).

An echo is recognised structurally, not by its wording: the views of people, bodies
and teams a plugin's section parser gets note each name looked up and not found
while their file is broken, and an error reported right after such a miss is an echo.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from govbot.config.model import Source
from govbot.config.schema import Issues
from govbot.config.yamlpos import ConfigError

V = TypeVar("V")


class Watched(Mapping[str, V]):
    """A read-only view of `data` that notes misses when `incomplete`."""

    def __init__(self, data: Mapping[str, V], *, incomplete: bool, misses: list[str]) -> None:
        self._data = data
        self._incomplete = incomplete
        self._misses = misses

    def __getitem__(self, key: str) -> V:
        try:
            return self._data[key]
        except KeyError:
            if self._incomplete:
                self._misses.append(key)
            raise

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class EchoFilter:
    """An error sink in front of `issues` that counts echoes instead of reporting them."""

    def __init__(self, issues: Issues, misses: list[str]) -> None:
        self.issues = issues
        self._misses = misses
        self.echoed = 0

    def _echo(self) -> bool:
        if self._misses:
            self._misses.clear()
            self.echoed += 1
            return True
        return False

    def error(self, where: Source, message: str) -> None:
        if not self._echo():
            self.issues.error(where, message)

    def item_error(self, where: Source, message: str) -> None:
        if not self._echo():
            self.issues.item_error(where, message)

    def warning(self, where: Source, message: str) -> None:
        self.issues.warning(where, message)

    def extend(self, errors: Iterable[ConfigError]) -> None:
        self.issues.extend(errors)
