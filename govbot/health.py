"""Readiness: each long-lived part says whether it is ready, since when, and why not.

`/readyz` (govbot.web) and the `govbot_ready` metric read these; nothing here polls.
A part owns one `Readiness` and updates it where it learns something (the Gerrit
stream on connect, disconnect and catch-up; the IRC service on registration and
joins). A *permanent fault* is one that retrying will not cure (a missing key file,
refused credentials, a host key mismatch, a channel that refuses the bot): it is
logged once as an error with the fix, shown in `/readyz`, and counted per kind, and
it keeps the part not ready until the part works again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PartStatus:
    """One part's readiness as `/readyz` shows it."""

    part: str
    ready: bool
    since: float  # wall-clock seconds when this state (ready or not, and why) began
    reason: str = ""  # why not ready; "" when ready
    fault: str = ""  # the permanent fault, with its fix, when there is one

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"ready": self.ready, "since": round(self.since, 3)}
        if self.reason:
            body["reason"] = self.reason
        if self.fault:
            body["fault"] = self.fault
        return body


class Readiness:
    """The readiness of one part, updated by its owner; `status()` is a snapshot."""

    def __init__(self, part: str, *, reason: str = "starting",
                 clock: Callable[[], float] = time.time) -> None:
        self.part = part
        self._clock = clock
        self._ready = False
        self._reason = reason
        self._fault = ""
        self._fault_kind = ""
        self._since = clock()
        #: Permanent faults seen, by kind (counted once per occurrence, not per retry).
        self.faults: Counter[str] = Counter()
        #: Set on every change (tests and waiters clear it, then wait).
        self.changed = asyncio.Event()

    def _moved(self) -> None:
        self._since = self._clock()
        self.changed.set()

    @property
    def ready(self) -> bool:
        return self._ready and not self._fault

    @property
    def fault(self) -> str:
        return self._fault

    def set(self, ready: bool, reason: str = "") -> None:
        """Ready, or not ready for `reason`; `since` moves only when either changes."""
        reason = "" if ready else (reason or "not ready")
        if (ready, reason) != (self._ready, self._reason):
            self._ready, self._reason = ready, reason
            self._moved()

    def set_fault(self, kind: str, message: str) -> None:
        """Record a permanent fault; logged as an error the first time it is seen."""
        if kind == self._fault_kind:
            self._fault = message  # the same fault again on a retry: said and counted
            return
        self.faults[kind] += 1
        self._fault_kind, self._fault = kind, message
        self._moved()
        log.error("%s: %s", self.part, message)

    def clear_fault(self) -> None:
        if self._fault:
            self._fault = self._fault_kind = ""
            self._moved()

    async def wait_until(self, predicate: Callable[[PartStatus], bool],
                         timeout: float = 10.0) -> PartStatus:
        """Wait (bounded) until `predicate(status())` holds; return that status."""
        async with asyncio.timeout(timeout):
            while not predicate(status := self.status()):
                self.changed.clear()
                await self.changed.wait()
        return status

    def status(self) -> PartStatus:
        reason = self._reason if not self._ready else ""
        if self._fault:
            reason = reason or "permanent fault"
        return PartStatus(self.part, self.ready, self._since, reason, self._fault)
