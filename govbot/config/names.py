"""Names as gerritbot's configs write them: '^...' is a regex that must match the whole
name, anything else is the exact name. Shared by every plugin that selects projects,
branches or topics, so the convention behaves the same everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Names:
    exact: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()
    everything: bool = False  # stands for a list that was left out: "any name"

    @classmethod
    def of(cls, items: Iterable[str]) -> Names:
        exact, patterns = set(), []
        for item in items:
            if item.startswith("^"):
                patterns.append(re.compile(item))
            else:
                exact.add(item)
        return cls(frozenset(exact), tuple(patterns))

    @property
    def empty(self) -> bool:
        return not self.everything and not self.exact and not self.patterns

    def matches(self, name: str) -> bool:
        # The set lookup first: most entries are exact names, and this runs per event.
        return (self.everything or name in self.exact
                or any(p.fullmatch(name) for p in self.patterns))


ANY_NAME = Names(everything=True)
NO_NAMES = Names()  # an empty set: immutable, so one instance serves as every default
