"""The IRC reporter: Say, Notice and SetTopic become lines in the service's send queue.

Reporting never waits for the network: it queues and returns, so a slow or absent
IRC server cannot hold up a dispatcher lane (and with it a change's Gerrit vote).
Queued messages survive a disconnect and are sent after the next connection is
ready (see docs/irc.md). A message for a channel the bot is not in makes it join
that channel first (and keep it on the list it rejoins after a reconnect).

The reporter knows the service only as an `IrcSender` (say, notice, set_topic), so
service.py, which builds the reporter, is the one of the two that imports the other.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from govbot.actions import Action, Notice, Say, SetTopic

log = logging.getLogger(__name__)


class IrcSender(Protocol):
    """Where the reporter queues lines (`IrcService`). Each call returns at once: True if
    the message was queued, False if it was refused (bad target) or dropped."""

    def say(self, target: str, text: str, *, priority: bool = False) -> bool: ...

    def notice(self, target: str, text: str, *, priority: bool = False) -> bool: ...

    def set_topic(self, channel: str, topic: str) -> bool: ...


class IrcReporter:
    action_types: tuple[type[Action], ...] = (Say, Notice, SetTopic)

    def __init__(self, service: IrcSender, *, batch_window: float = 0.0) -> None:
        self._service = service
        self._window = batch_window
        self._batches: dict[tuple[str, str], list[str]] = {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}

    async def report(self, action: Action) -> None:
        service = self._service
        if isinstance(action, Say) and action.batch and self._window > 0:
            key = (action.target.lower(), action.batch)
            held = self._batches.setdefault(key, [])
            held.append(action.text)
            if key not in self._timers:
                self._timers[key] = asyncio.get_running_loop().call_later(
                    self._window, self._release, key)
            return
        if isinstance(action, Say):
            queued = service.say(action.target, action.text, priority=action.priority)
        elif isinstance(action, Notice):
            queued = service.notice(action.target, action.text, priority=action.priority)
        elif isinstance(action, SetTopic):
            queued = service.set_topic(action.channel, action.topic)
        else:
            return
        if not queued:
            log.debug("event %s: %s from %s not queued (see the IRC stats)",
                      action.event_id, action.kind, action.plugin)

    def _release(self, key: tuple[str, str]) -> None:
        self._timers.pop(key, None)
        texts = self._batches.pop(key, [])
        if texts:
            self._service.say(key[0], merge(texts))

    def flush(self) -> None:
        """Send every held batch now (at shutdown, before the queue is drained)."""
        for key, timer in list(self._timers.items()):
            timer.cancel()
            self._release(key)


def merge(texts: list[str]) -> str:
    """One line for several announcements about the same thing.

    They usually end alike ('... example/nova master: Fix it  URL'): the longest
    common ending, cut at a space, is said once after the differing beginnings.
    """
    unique = list(dict.fromkeys(texts))
    if len(unique) == 1:
        return unique[0]
    shortest = min(len(t) for t in unique)
    n = 0
    while n < shortest and len({t[len(t) - 1 - n] for t in unique}) == 1:
        n += 1
    common = unique[0][len(unique[0]) - n:] if n else ""
    cut = common.find(" ")
    if cut < 0 or not common[cut:].strip():
        return " | ".join(unique)
    common = common[cut:]
    heads = [t[: len(t) - len(common)] for t in unique]
    if any(not h.strip() for h in heads):
        return " | ".join(unique)
    return "; ".join(heads) + common
