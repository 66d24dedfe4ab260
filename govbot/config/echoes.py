"""Telling a broken file's follow-on errors ("echoes") from real ones.

When people.yaml, bodies.yaml or the projects file has errors, some of its people,
bodies or teams are missing, and every file naming them would report "unknown
body 'tc'" (with a did-you-mean that points somewhere wrong). Those errors only
exist because the first file is broken: `check-config` reports that file, and counts
the echoes instead of listing them (DESIGN.md: errors a user can act on).

An echo is recognised structurally, not by its wording: the views of people, bodies
and teams a plugin's section parser gets note each name looked up and not found
while their file is broken. An error reported right after such a miss is an echo,
and so is every later error in that same file (a rule whose body is missing goes
on to fail every requirement that needed the body): that file is checked again,
in full, once the broken one is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from govbot.config.model import Source
from govbot.config.schema import Issues
from govbot.config.yamlpos import ConfigError

V = TypeVar("V")


class Watched(Mapping[str, V]):
    """A read-only view of `data` that notes misses when `incomplete`, and lookups of
    `tainted` entries (a body that lost a member to a broken people.yaml)."""

    def __init__(self, data: Mapping[str, V], *, incomplete: bool, misses: list[str],
                 tainted: frozenset[str] = frozenset()) -> None:
        self._data = data
        self._incomplete = incomplete
        self._misses = misses
        self._tainted = tainted

    def __getitem__(self, key: str) -> V:
        try:
            found = self._data[key]
        except KeyError:
            if self._incomplete:
                self._misses.append(key)
            raise
        if key in self._tainted:
            self._misses.append(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class EchoFilter:
    """An error sink in front of `issues` that counts echoes instead of reporting them."""

    def __init__(self, issues: Issues, misses: list[str]) -> None:
        self.issues = issues
        self._misses = misses
        self._tainted: set[str] = set()  # files whose later errors are echoes too
        self.echoed = 0

    def _echo(self, where: Source) -> bool:
        if self._misses:
            self._misses.clear()
            self._tainted.add(where.file)
        if where.file in self._tainted:
            self.echoed += 1
            return True
        return False

    def error(self, where: Source, message: str) -> None:
        if not self._echo(where):
            self.issues.error(where, message)

    def item_error(self, where: Source, message: str) -> None:
        if not self._echo(where):
            self.issues.item_error(where, message)

    def warning(self, where: Source, message: str) -> None:
        self.issues.warning(where, message)

    def extend(self, errors: Iterable[ConfigError]) -> None:
        self.issues.extend(errors)
