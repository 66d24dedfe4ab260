"""What the service does for each channel it is in: ask for op and history after a JOIN,
say once that a topic was refused, and answer the plugins' questions about a channel
(`IrcReader.topic_of`, `in_channel`).

A mixin of `IrcService` (service.py), for the `ClientListener` calls that came with
channel topics, op status and history (channels.py is the client's half).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from govbot.irc.sending import Lane, Outgoing, SendQueue

if TYPE_CHECKING:
    from govbot.irc.client import IrcClient

log = logging.getLogger("govbot.irc.service")

CHATHISTORY_LINES = 100  # asked for after each JOIN where draft/chathistory is offered


class ChannelDuties:
    """Mixed into IrcService, which sets these attributes."""

    client: IrcClient
    queue: SendQueue
    _topic_warned: set[str]

    if TYPE_CHECKING:
        def say(self, target: str, text: str, *, priority: bool = False) -> bool: ...

    def irc_channel_synced(self, channel: str, op: bool) -> None:
        if self.client.capabilities.get("draft/chathistory"):
            # IRCv3 chathistory: the server plays nothing back unasked. The answer is a
            # `chathistory` batch, journaled by the meetings plugin (once per line).
            self.queue.put(Outgoing("RAW", "", f"CHATHISTORY LATEST {channel} * "
                                    f"{CHATHISTORY_LINES}", Lane.CONTROL))
        # Rejoined without op (a restart, a reconnect, a netsplit): ChanServ gives it
        # back when the bot's account has the access (auto-op flags need no asking, and
        # an account without access just gets ChanServ's refusal notice).
        if not op and self.client.account and self.queue.control_open:
            log.info("irc: joined %s without op; asking ChanServ for it", channel)
            self.queue.put(Outgoing("PRIVMSG", "ChanServ", f"OP {channel}", Lane.CONTROL,
                                    split=False))

    def irc_topic_refused(self, channel: str, reason: str) -> None:
        key = self.client._fold(channel)
        if key in self._topic_warned:
            return  # said once: the channel knows, the log has the rest
        self._topic_warned.add(key)
        self.say(channel, f"I cannot set the topic of {channel}: I am not a channel "
                          "operator here and the topic is locked (+t). The minutes still "
                          "list each #topic.", priority=True)

    def topic_of(self, channel: str) -> str | None:
        """The channel's topic as last seen ("" none); None: not known."""
        return self.client.topic_of(channel)

    def in_channel(self, channel: str, nick: str) -> bool | None:
        """Whether `nick` is in `channel` now; None when the bot is not there itself."""
        members = self.client.members.get(self.client._fold(channel))
        return None if members is None else self.client._fold(nick) in members
