"""What the IRC client tells its owner: the `ClientListener` interface.

In its own module so that both halves of the client (client.py, the connection, and
tracking.py, the membership bookkeeping mixed into it) can name the listener without
importing each other; the service implements it.
"""

from __future__ import annotations

from typing import Protocol

from govbot.irc.events import IrcEvent


class ClientListener(Protocol):
    """What the service hears from the client. Called from the read loop: never block."""

    def irc_event(self, event: IrcEvent, resolve_account: bool) -> None:
        """A line became an event; `resolve_account`: the sender's account is not known
        yet and should be looked up (WHOIS) before the event is submitted."""

    async def irc_room(self) -> None:
        """Awaited by the read loop before each line: returns once the service can take
        more events. While it waits nothing is read, so TCP back-pressure slows the
        server instead of events being dropped (the one call that may block)."""

    def irc_ready(self) -> None:
        """Registration and login are complete (end of MOTD): the session may send."""

    def irc_nick_free(self) -> None:
        """Whoever held the configured nick quit or changed nick: it may be regained."""

    def irc_refused(self, code: str, target: str, reason: str) -> None:
        """The server refused a JOIN (banned, invite-only, key, registered-only: 471,
        473-475, 477) or another command (`code`, the numeric) about `target`."""

    def irc_channel_synced(self, channel: str, op: bool) -> None:
        """The bot's NAMES of `channel` ended (after its JOIN): `op` says if it is op."""

    def irc_topic_refused(self, channel: str, reason: str) -> None:
        """The server refused a TOPIC the bot sent (482: not a channel operator)."""
