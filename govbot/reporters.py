"""Reporters carry out actions. The core picks one reporter per action type.

Start-up fails when an enabled plugin may emit an action type that no reporter
handles, so a misconfiguration is seen at once rather than when the first vote
is due. In `--dry-run` the recording and logging reporters take every action.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from govbot.actions import Action
from govbot.context import TransientReadError

log = logging.getLogger(__name__)


class Reporter(Protocol):
    """Carries out actions of the types it lists. Called in a lane's order."""

    action_types: tuple[type[Action], ...]

    async def report(self, action: Action) -> None:
        """Act. Raise only for failures the reporter could not handle itself;
        `TransientReadError` when the outside system failed for a reason that passes
        (the dispatcher then calls the plugin again later)."""


class ReporterError(Exception):
    """No reporter for an action type that an enabled plugin emits."""


class ReporterSet:
    """Dispatch on the action's type; every matching reporter gets the action."""

    def __init__(self, reporters: Sequence[Reporter], *,
                 required: Iterable[type[Action]] = ()) -> None:
        self.reporters = tuple(reporters)
        self._by_type: dict[type[Action], tuple[Reporter, ...]] = {}
        missing = [t.__name__ for t in required if not self._for(t)]
        if missing:
            raise ReporterError(
                "no reporter handles " + ", ".join(sorted(missing))
                + ": enable the matching integration in the settings or run with --dry-run"
            )
        self.failures = 0

    def _for(self, action_type: type[Action]) -> tuple[Reporter, ...]:
        found = self._by_type.get(action_type)
        if found is None:
            found = tuple(r for r in self.reporters
                          if any(issubclass(action_type, t) for t in r.action_types))
            self._by_type[action_type] = found
        return found

    async def report(self, action: Action) -> None:
        for reporter in self._for(type(action)):
            try:
                await reporter.report(action)
            except TransientReadError:
                raise  # the dispatcher retries the plugin's event later
            except Exception:
                self.failures += 1
                log.exception("event %s: %s failed to report %s",
                              action.event_id, type(reporter).__name__, action.kind)


class RecordingReporter:
    """Keeps every action in order: used by --dry-run, replay and tests."""

    action_types: tuple[type[Action], ...] = (Action,)  # every action, plugins' own too

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self._waiters: list[tuple[Callable[[list[Action]], bool], asyncio.Future[None]]] = []

    async def report(self, action: Action) -> None:
        self.actions.append(action)
        for predicate, future in self._waiters:
            if not future.done() and predicate(self.actions):
                future.set_result(None)

    async def wait_for(self, predicate: Callable[[list[Action]], bool],
                       timeout: float = 5.0) -> list[Action]:
        """Wait (with a deadline) until `predicate(actions)` holds."""
        if not predicate(self.actions):
            waiter = (predicate, asyncio.get_running_loop().create_future())
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter[1], timeout)
            finally:
                self._waiters.remove(waiter)
        return self.actions

    def of_type(self, action_type: type[Action]) -> list[Action]:
        return [a for a in self.actions if isinstance(a, action_type)]


class LoggingReporter:
    """Logs each action in one readable line."""

    action_types: tuple[type[Action], ...] = (Action,)

    def __init__(self, *, prefix: str = "") -> None:
        self._prefix = prefix

    async def report(self, action: Action) -> None:
        log.info("%s%s", self._prefix, describe(action))


def describe(action: Action) -> str:
    """One line for humans, used by the logging reporter and `govbot replay`."""
    fields = action.to_dict()
    kind = fields.pop("action")
    plugin = fields.pop("plugin")
    event_id = fields.pop("event_id")
    body = " ".join(f"{k}={v!r}" for k, v in fields.items() if v not in ("", None, {}, ()))
    return f"[{plugin}] {kind} {body} (event {event_id})"
