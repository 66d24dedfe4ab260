"""Who is logged in as whom: a bounded nick -> services account cache.

Authority comes from the account, so a stale entry is a security problem, not just
a wrong answer. Entries are therefore invalidated on every event that can change
the answer (NICK, QUIT, ACCOUNT, leaving the last shared channel, our own
disconnect) and expire after `max_age`, which the client chooses per lookup: long
when the server would tell us about changes (account-notify, shared channel), short
otherwise.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    account: str | None
    learned: float


class AccountCache:
    def __init__(self, normalize: Callable[[str], str] = str.lower, *,
                 max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.normalize = normalize
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def learn(self, nick: str, account: str | None) -> None:
        """Record what the server just said: `account`, or None for "not logged in"."""
        key = self.normalize(nick)
        self._entries[key] = _Entry(account, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def lookup(self, nick: str, *, max_age: float) -> tuple[bool, str | None]:
        """(known, account). Unknown when never learned, forgotten or older than max_age."""
        key = self.normalize(nick)
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if self._clock() - entry.learned > max_age:
            del self._entries[key]
            return False, None
        return True, entry.account

    def forget(self, nick: str) -> None:
        self._entries.pop(self.normalize(nick), None)

    def rename(self, old: str, new: str, *, keep: bool) -> None:
        """A nick change. Services accounts belong to the connection, so the entry may
        follow the nick (`keep`) when the server would tell us about later changes."""
        entry = self._entries.pop(self.normalize(old), None)
        self._entries.pop(self.normalize(new), None)
        if keep and entry is not None:
            self._entries[self.normalize(new)] = entry

    def clear(self) -> None:
        self._entries.clear()
