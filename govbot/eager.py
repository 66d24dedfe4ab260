"""Run a handler's coroutine without arming a timer when it never has to wait.

The dispatcher calls thousands of handlers a second; most decide without awaiting
anything that suspends, and a timer per call costs more than the handler itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")  # a handler's actions, or one action of a streaming handler


async def eager(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run a handler; apply the timeout only if it actually has to wait.

    Most handlers decide without awaiting anything that suspends. Arming a timer
    for each of them costs more than the handler itself, so the coroutine is
    first stepped directly; only when it suspends is the rest of it run under
    `asyncio.timeout`, delegated with `yield from` exactly as a Task would.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    except BaseException:
        coro.close()
        raise
    return await resume(coro, waiting_on, timeout)


async def resume(coro: Coroutine[Any, Any, T], waiting_on: Any, timeout: float) -> T:
    """The rest of a handler that was stepped once and yielded `waiting_on`, under
    `timeout` (for a caller that does the first step itself, as `eager` does)."""
    async with asyncio.timeout(timeout):
        rest: T = await _Resumed(coro, waiting_on)
    return rest


class _Resumed:
    """An awaitable that continues a coroutine that already yielded `first`."""

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self._coro, self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    return done.value
