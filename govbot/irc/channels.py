"""What the bot knows of the channels it is in: their topics, whether it is op there, and
which lines are history played back (IRCv3 batches).

A mixin for IrcClient, beside `Tracking` (membership and accounts). Topics come from
RPL_TOPIC (332, on join), RPL_NOTOPIC (331) and TOPIC lines; operator status from the
NAMES reply (353, the bot's own prefixes) and MODE lines naming the bot. With them
the meetings plugin restores the topic it found (MeetBot's `#endmeeting`), and the
service asks ChanServ for op when the bot rejoins without it (see service.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from govbot.irc.listener import ClientListener

log = logging.getLogger("govbot.irc.client")

#: Batch types whose lines are history played back, not said now.
HISTORY_BATCHES = frozenset({"chathistory", "znc.in/playback", "draft/chathistory"})
#: Channel modes at or above channel operator (halfop cannot set a +t topic everywhere).
OP_MODES = frozenset("oaq")


class ChannelState:
    """Mixed into IrcClient. State is per connection (reset with the client's)."""

    topics: dict[str, str]  # folded channel -> topic ("" when none is set)
    _batches: dict[str, str]  # open BATCH reference -> its type
    ops: set[str]  # folded channels where the bot is op or above
    listener: ClientListener
    nickname: str
    _nickname_prefixes: dict[str, str]

    if TYPE_CHECKING:
        def is_same_nick(self, left: str, right: str) -> bool: ...

        def _fold(self, name: str) -> str: ...

    def topic_of(self, channel: str) -> str | None:
        """The channel's topic as last seen ("" none), or None: not known (not joined)."""
        return self.topics.get(self._fold(channel))

    def is_op(self, channel: str) -> bool:
        return self._fold(channel) in self.ops

    async def on_raw_332(self, message: Any) -> None:
        # RPL_TOPIC: <me> <channel> :<topic>
        if len(message.params) >= 3:
            self.topics[self._fold(message.params[1])] = message.params[2]

    async def on_raw_331(self, message: Any) -> None:
        # RPL_NOTOPIC: <me> <channel> :No topic is set
        if len(message.params) >= 2:
            self.topics[self._fold(message.params[1])] = ""

    async def on_raw_topic(self, message: Any) -> None:
        # :nick!u@h TOPIC <channel> :<topic>
        if message.params:
            self.topics[self._fold(message.params[0])] = (
                message.params[1] if len(message.params) > 1 else "")

    def own_names_prefixes(self, channel: str, prefixes: str) -> None:
        """Called for the bot's own entry of a NAMES reply (353)."""
        modes = {self._nickname_prefixes.get(p, "") for p in prefixes}
        key = self._fold(channel)
        if modes & OP_MODES:
            self.ops.add(key)
        else:
            self.ops.discard(key)

    async def on_raw_366(self, message: Any) -> None:
        # RPL_ENDOFNAMES: <me> <channel> :End of /NAMES list. After our JOIN, the
        # moment we know whether we are op.
        if len(message.params) >= 2:
            channel = message.params[1]
            self.listener.irc_channel_synced(channel, self.is_op(channel))

    async def on_raw_mode(self, message: Any) -> None:
        # :who MODE <channel> <+o-v...> <args...>: follow our own op status only.
        if len(message.params) < 2 or message.params[0][:1] not in "#&+!":
            return
        key = self._fold(message.params[0])
        args = list(message.params[2:])
        adding = True
        with_arg = set(self._nickname_prefixes.values())
        for char in message.params[1]:
            if char in "+-":
                adding = char == "+"
                continue
            if char in with_arg or char in "beIkfjlL":  # modes that take an argument
                if not args or (char in "lLfj" and not adding):
                    continue  # -l takes none; nothing to consume
                target = args.pop(0)
                if char in OP_MODES and self.is_same_nick(target, self.nickname):
                    (self.ops.add if adding else self.ops.discard)(key)

    async def on_raw_batch(self, message: Any) -> None:
        # BATCH +ref type [params...] ... BATCH -ref (IRCv3 batch): only the type matters.
        if not message.params:
            return
        ref = message.params[0]
        if ref.startswith("+") and len(message.params) >= 2:
            self._batches[ref[1:]] = message.params[1].lower()
        elif ref.startswith("-"):
            self._batches.pop(ref[1:], None)

    def batch_type(self, tags: dict[str, str]) -> str:
        """The type of the batch a line belongs to ("" for none)."""
        return self._batches.get(tags.get("batch", ""), "")

    def forget_channel(self, channel: str) -> None:
        key = self._fold(channel)
        self.topics.pop(key, None)
        self.ops.discard(key)
