"""What IRC gives plugins: frozen, typed events with a lane each.

The dispatcher keeps the order of events within a lane, so every event of one
channel (messages, joins, parts, nick changes) is handled in the order the server
sent it, and a meeting plugin can map a nick to an account *at that moment*.
Private messages get the sender's lane (`irc:<nick>`).

`account` is the sender's services account as the server vouched for it
(IRCv3 account-tag, extended-join, account-notify or WHOIS) — never guessed from
a nick. None means "not logged in" (or, for joins and parts on networks without
extended-join, "not known": only messages are resolved by WHOIS).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

PartKind = Literal["part", "kick", "quit"]


def lane_of(name: str) -> str:
    """`irc:<channel or nick>`, lower-cased so `#Chan` and `#chan` share a lane."""
    return f"irc:{name.lower()}"


def _digest(*parts: object) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class IrcMessage:
    """A PRIVMSG or NOTICE received by the bot (in a channel, or in private)."""

    type_name: ClassVar[str] = "irc-message"
    actor: ClassVar[None] = None  # IRC has no Gerrit account (see govbot.events.Event)

    target: str  # what the sender addressed: a channel, or the bot's nick
    channel: str | None  # None for a private message
    nick: str
    account: str | None
    text: str  # CTCP ACTION ("/me") arrives without its \x01 wrapper, with action=True
    tags: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    notice: bool = False
    action: bool = False
    #: IRCv3 `msgid`: the server's id of this line (the same when it is played back).
    msgid: str | None = None
    #: Played back from history (a `chathistory` batch of InspIRCd's +H or
    #: draft/chathistory, a bouncer's `znc.in/playback`), not said just now: `time` is
    #: when it was said (server-time).
    history: bool = False
    #: Played back by a bouncer (ZNC), which stayed in the channel while the bot was
    #: away: its buffer starts where the bot left.
    bouncer: bool = False
    #: The sender's host (`nick!user@host`), for limits on people without an account:
    #: a nick is free to change, a host is not. None when the server did not say.
    host: str | None = None

    @property
    def lane(self) -> str:
        return lane_of(self.channel or self.nick)

    @property
    def private(self) -> bool:
        return self.channel is None

    @property
    def reply_to(self) -> str:
        return self.channel or self.nick

    @property
    def id(self) -> str:
        """A stable id for logs and envelopes: the server's msgid, else a digest.

        The digest includes the server time, so a replayed recording keeps its ids.
        """
        msgid = self.tags.get("msgid")
        if msgid:
            return f"irc-{msgid}"
        return "irc-" + _digest(self.time.isoformat(), self.target, self.nick, self.text,
                                self.notice)


@dataclass(frozen=True, slots=True)
class IrcJoin:
    """Someone (possibly the bot) joined a channel."""

    type_name: ClassVar[str] = "irc-join"
    actor: ClassVar[None] = None  # IRC has no Gerrit account (see govbot.events.Event)

    channel: str
    nick: str
    account: str | None  # from extended-join, else what the bot already knew
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def lane(self) -> str:
        return lane_of(self.channel)

    @property
    def id(self) -> str:
        return "irc-join-" + _digest(self.time.isoformat(), self.channel, self.nick)


@dataclass(frozen=True, slots=True)
class IrcPart:
    """Someone left a channel: PART, KICK (``by`` is the kicker) or QUIT (one per channel)."""

    type_name: ClassVar[str] = "irc-part"
    actor: ClassVar[None] = None  # IRC has no Gerrit account (see govbot.events.Event)

    channel: str
    nick: str
    kind: PartKind = "part"
    reason: str = ""
    by: str | None = None
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def lane(self) -> str:
        return lane_of(self.channel)

    @property
    def id(self) -> str:
        return "irc-part-" + _digest(self.time.isoformat(), self.channel, self.nick, self.kind)


@dataclass(frozen=True, slots=True)
class IrcNickChange:
    """A nick change, delivered once per channel the bot shares with that person.

    The account does not change with the nick; it is carried so that a plugin keeping
    a nick -> account map (meetings) can update it in the channel's order.
    """

    type_name: ClassVar[str] = "irc-nick"
    actor: ClassVar[None] = None  # IRC has no Gerrit account (see govbot.events.Event)

    channel: str
    old: str
    new: str
    account: str | None
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def lane(self) -> str:
        return lane_of(self.channel)

    @property
    def id(self) -> str:
        return "irc-nick-" + _digest(self.time.isoformat(), self.channel, self.old, self.new)


IrcEvent = IrcMessage | IrcJoin | IrcPart | IrcNickChange


def parse_server_time(value: str | None) -> dt.datetime | None:
    """IRCv3 server-time (`2024-05-01T12:00:00.123Z`) as an aware datetime, or None."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
