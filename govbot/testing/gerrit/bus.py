"""Where emitted events go: an ordered in-memory log, live subscribers (SSH streams), and
waiters that tests block on with :meth:`EventBus.wait_for`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from govbot.testing.gerrit.events import Event

T = TypeVar("T")
Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self.log: list[Event] = []
        self._subscribers: list[Subscriber] = []
        self._waiters: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        #: Fault injection: how many upcoming events (of ``duplicate_type``, if set) are
        #: delivered twice to subscribers.
        self.duplicate_next = 0
        self.duplicate_type: str | None = None

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Register ``subscriber``; returns the function that unregisters it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        self.log.append(event)
        copies = 1
        if self.duplicate_next > 0 and self.duplicate_type in (None, event.get("type")):
            self.duplicate_next -= 1
            copies = 2
        for subscriber in list(self._subscribers):
            for _ in range(copies):
                subscriber(event)
        self.notify()

    def notify(self) -> None:
        """Re-evaluate pending :meth:`wait_for` predicates; called on every state change."""
        for predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                value = predicate()
            except Exception as exc:  # the predicate's failure is the waiting test's failure
                future.set_exception(exc)
                continue
            if value:
                future.set_result(value)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Return ``predicate()``'s first truthy value, evaluated now and after each event
        or recorded REST call; ``TimeoutError`` after ``timeout`` seconds."""
        value = predicate()
        if value:
            return value
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"condition not met within {timeout}s: {predicate!r}") from None
        finally:
            self._waiters.remove(entry)
