"""Fault injection switches, flipped by tests at runtime (``emu.faults``)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from govbot.testing.gerrit.bus import EventBus


@dataclass
class Faults:
    bus: EventBus
    rest_fail_next: int = 0
    rest_fail_rate: float = 0.0
    rest_fail_status: int = 503
    #: Only requests whose path contains this string are failed (None: all).
    rest_fail_path: str | None = None
    #: Seconds every REST answer is delayed by.
    rest_delay: float = 0.0
    #: ``time.monotonic()`` until which SSH connections are refused; inf = until accept_ssh().
    ssh_refuse_until: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    #: The emulator's clock: fault windows are measured on it, so a test with a
    #: `FakeClock` opens a two-minute window and ends it with `clock.advance(120)`.
    clock: Callable[[], float] = time.time
    #: REST calls (whose path contains ``window_path``, if set) fail with ``window_status``
    #: while ``clock() < window_until``.
    window_until: float = 0.0
    window_status: int = 500
    window_path: str | None = None

    def fail_rest(self, count: int = 1, *, status: int = 503,
                  path_contains: str | None = None) -> None:
        """Answer the next ``count`` REST calls (matching ``path_contains``) with ``status``."""
        self.rest_fail_next, self.rest_fail_status = count, status
        self.rest_fail_path = path_contains

    def fail_rest_rate(self, rate: float, *, status: int = 503, seed: int | None = 0,
                       path_contains: str | None = None) -> None:
        """Fail each REST call with probability ``rate`` (deterministic for a given seed)."""
        self.rest_fail_rate, self.rest_fail_status = rate, status
        self.rest_fail_path = path_contains
        self.rng = random.Random(seed)

    def fail_rest_for(self, seconds: float, *, status: int = 500,
                      path_contains: str | None = None) -> None:
        """Fail every matching REST call for ``seconds`` of the emulator's clock."""
        self.window_until, self.window_status = self.clock() + seconds, status
        self.window_path = path_contains

    def slow_rest(self, delay: float) -> None:
        self.rest_delay = delay

    def refuse_ssh(self, seconds: float | None = None) -> None:
        """Refuse SSH connections for ``seconds``, or until :meth:`accept_ssh`."""
        self.ssh_refuse_until = math.inf if seconds is None else time.monotonic() + seconds

    def accept_ssh(self) -> None:
        self.ssh_refuse_until = 0.0

    def ssh_refusing(self) -> bool:
        return time.monotonic() < self.ssh_refuse_until

    def duplicate_events(self, count: int = 1, *, event_type: str | None = None) -> None:
        """Deliver each of the next ``count`` events (of ``event_type``, if given) twice on every
        stream, as Gerrit does when an event is retried."""
        self.bus.duplicate_next, self.bus.duplicate_type = count, event_type

    def clear(self) -> None:
        self.rest_fail_next, self.rest_fail_rate, self.rest_delay = 0, 0.0, 0.0
        self.rest_fail_path, self.ssh_refuse_until = None, 0.0
        self.bus.duplicate_next = 0
        self.window_until, self.window_path = 0.0, None

    def take_rest_failure(self, path: str) -> int | None:
        """The status to fail this request with, consuming one of ``fail_rest``'s count."""
        if self.clock() < self.window_until and (self.window_path is None
                                                 or self.window_path in path):
            return self.window_status
        if self.rest_fail_path is not None and self.rest_fail_path not in path:
            return None
        if self.rest_fail_next > 0:
            self.rest_fail_next -= 1
            return self.rest_fail_status
        if self.rest_fail_rate and self.rng.random() < self.rest_fail_rate:
            return self.rest_fail_status
        return None
