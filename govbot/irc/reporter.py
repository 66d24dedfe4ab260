"""The IRC reporter: Say, Notice and SetTopic become lines in the service's send queue.

Reporting never waits for the network: it queues and returns, so a slow or absent
IRC server cannot hold up a dispatcher lane (and with it a change's Gerrit vote).
Queued messages survive a disconnect and are sent after the next connection is
ready (see docs/irc.md). A message for a channel the bot is not in makes it join
that channel first (and keep it on the list it rejoins after a reconnect).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from govbot.actions import Action, Notice, Say, SetTopic

if TYPE_CHECKING:
    from govbot.irc.service import IrcService

log = logging.getLogger(__name__)


class IrcReporter:
    action_types: tuple[type[Action], ...] = (Say, Notice, SetTopic)

    def __init__(self, service: IrcService) -> None:
        self._service = service

    async def report(self, action: Action) -> None:
        service = self._service
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
