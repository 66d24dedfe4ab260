"""Who is where, and logged in as whom: membership and account tracking for IrcClient.

A mixin so that client.py keeps the connection and this file the bookkeeping. Accounts
are learned from every source the server offers: extended-join, account-notify,
account-tag (in client._text) and WHOIS (330, or 307 where services only say
"identified"); they are forgotten on NICK, QUIT, ACCOUNT and on leaving the last shared
channel, because after that the server would not tell us about changes.

Each JOIN, PART, KICK, QUIT and NICK becomes an event per channel, in the channel's lane.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from govbot.irc.accounts import AccountCache
from govbot.irc.events import IrcJoin, IrcNickChange, IrcPart, parse_server_time
from govbot.irc.listener import ClientListener

log = logging.getLogger("govbot.irc.client")


class Tracking:
    """Mixed into IrcClient (before pydle's classes, so these handlers win)."""

    #: How long a cached account may vouch for a nick. With account-notify in a shared
    #: channel the server reports every change; in a shared channel without it we still
    #: see NICK and QUIT but not a logout; elsewhere we see nothing.
    ACCOUNT_AGE_NOTIFIED = 3600.0
    ACCOUNT_AGE_SHARED = 300.0
    ACCOUNT_AGE_UNSEEN = 30.0

    # Set by IrcClient._reset_attributes or by pydle; declared for the type checker.
    members: dict[str, set[str]]
    channel_names: dict[str, str]
    accounts: AccountCache
    listener: ClientListener
    nickname: str
    main_nick: str
    own_prefix: str | None
    account: str | None
    logged_in: asyncio.Event
    _capabilities: dict[str, Any]
    _nickname_prefixes: dict[str, str]
    _whois_pending: dict[str, asyncio.Future[str | None]]
    _whois_found: dict[str, str | None]

    if TYPE_CHECKING:
        def is_same_nick(self, left: str, right: str) -> bool: ...

        def _parse_user(self, data: str | None) -> tuple[str | None, dict[str, str]]: ...

        def _fold(self, name: str) -> str: ...

        def own_names_prefixes(self, channel: str, prefixes: str) -> None: ...

        def forget_channel(self, channel: str) -> None: ...

    def account_max_age(self, nick: str) -> float:
        folded = self._fold(nick)
        if not any(folded in nicks for nicks in self.members.values()):
            return self.ACCOUNT_AGE_UNSEEN
        if self._capabilities.get("account-notify"):
            return self.ACCOUNT_AGE_NOTIFIED
        return self.ACCOUNT_AGE_SHARED

    # --- membership and accounts ----------------------------------------------------

    async def on_raw_join(self, message: Any) -> None:
        nick, _ = self._parse_user(message.source)
        if not nick or not message.params:
            return
        tags = tags_of(message)
        if self._capabilities.get("extended-join") and len(message.params) >= 3:
            account = None if message.params[1] == "*" else message.params[1]
            self.accounts.learn(nick, account)
        else:
            account = self.accounts.lookup(nick, max_age=self.account_max_age(nick))[1]
        own = self.is_same_nick(nick, self.nickname)
        if own:
            self.own_prefix = message.source
        for channel in message.params[0].split(","):
            key = self._fold(channel)
            if own:
                self.members[key] = set()
                self.channel_names[key] = channel
            elif key in self.members:
                self.members[key].add(self._fold(nick))
            self.listener.irc_event(IrcJoin(channel, nick, account, event_time(tags)), False)

    async def on_raw_353(self, message: Any) -> None:
        # NAMES: <me> <symbol> <channel> :[prefixes]nick[!user@host] ...
        if len(message.params) < 4:
            return
        nicks = self.members.get(self._fold(message.params[2]))
        if nicks is None:
            return
        prefixes = "".join(self._nickname_prefixes)
        for entry in message.params[3].split():
            nick = entry.lstrip(prefixes).split("!", 1)[0]
            if nick:
                nicks.add(self._fold(nick))
                if self.is_same_nick(nick, self.nickname):  # are we op? (channels.py)
                    self.own_names_prefixes(message.params[2],
                                            entry[:len(entry) - len(entry.lstrip(prefixes))])

    async def on_raw_part(self, message: Any) -> None:
        nick, _ = self._parse_user(message.source)
        if not nick or not message.params:
            return
        reason = message.params[1] if len(message.params) > 1 else ""
        for channel in message.params[0].split(","):
            self._leave(channel, nick)
            self.listener.irc_event(
                IrcPart(channel, nick, "part", reason, None, event_time(tags_of(message))), False)

    async def on_raw_kick(self, message: Any) -> None:
        kicker, _ = self._parse_user(message.source)
        if len(message.params) < 2:
            return
        reason = message.params[2] if len(message.params) > 2 else ""
        for channel in message.params[0].split(","):
            for target in message.params[1].split(","):
                self._leave(channel, target)
                if self.is_same_nick(target, self.nickname):
                    log.warning("irc: kicked from %s by %s: %s", channel, kicker, reason)
                self.listener.irc_event(IrcPart(channel, target, "kick", reason, kicker,
                                                event_time(tags_of(message))), False)

    def _leave(self, channel: str, nick: str) -> None:
        key = self._fold(channel)
        if self.is_same_nick(nick, self.nickname):
            self.members.pop(key, None)
            self.channel_names.pop(key, None)
            self.forget_channel(channel)
            return
        self.members.get(key, set()).discard(self._fold(nick))
        if not any(self._fold(nick) in nicks for nicks in self.members.values()):
            self.accounts.forget(nick)  # we would no longer see its NICK or QUIT

    async def on_raw_quit(self, message: Any) -> None:
        nick, _ = self._parse_user(message.source)
        if not nick or self.is_same_nick(nick, self.nickname):
            return
        reason = message.params[0] if message.params else ""
        folded = self._fold(nick)
        when = event_time(tags_of(message))
        for key, nicks in self.members.items():
            if folded in nicks:
                nicks.discard(folded)
                self.listener.irc_event(
                    IrcPart(self.channel_names.get(key, key), nick, "quit", reason, None, when),
                    False)
        self.accounts.forget(nick)
        if self.is_same_nick(nick, self.main_nick):
            self.listener.irc_nick_free()

    async def on_raw_nick(self, message: Any) -> None:
        old, _ = self._parse_user(message.source)
        if not old or not message.params:
            return
        new = message.params[0]
        if self.is_same_nick(old, self.nickname):
            # Also pydle's fake NICK on 001 ("<unregistered>" -> the nick we got).
            self.nickname = new
            if self.own_prefix and "!" in self.own_prefix:
                self.own_prefix = new + "!" + self.own_prefix.split("!", 1)[1]
            return
        self.accounts.rename(old, new, keep=bool(self._capabilities.get("account-notify")))
        account = self.accounts.lookup(new, max_age=self.ACCOUNT_AGE_NOTIFIED)[1]
        folded_old, folded_new = self._fold(old), self._fold(new)
        when = event_time(tags_of(message))
        for key, nicks in self.members.items():
            if folded_old in nicks:
                nicks.discard(folded_old)
                nicks.add(folded_new)
                self.listener.irc_event(
                    IrcNickChange(self.channel_names.get(key, key), old, new, account, when),
                    False)
        if self.is_same_nick(old, self.main_nick):
            self.listener.irc_nick_free()

    async def on_raw_account(self, message: Any) -> None:
        # account-notify: ":nick!u@h ACCOUNT <account>" ("*" = logged out).
        nick, _ = self._parse_user(message.source)
        if not nick or not message.params:
            return
        account = None if message.params[0] == "*" else message.params[0]
        if self.is_same_nick(nick, self.nickname):
            self.account = account
            if account:
                self.logged_in.set()
        self.accounts.learn(nick, account)

    # --- WHOIS, the fallback when the server sends no account tags ----------------------

    def whois_waiter(self, nick: str) -> tuple[asyncio.Future[str | None], bool]:
        """The future for a WHOIS of `nick`, and whether the caller must send the WHOIS."""
        key = self._fold(nick)
        future = self._whois_pending.get(key)
        if future is not None:
            return future, False
        future = asyncio.get_running_loop().create_future()
        self._whois_pending[key] = future
        self._whois_found[key] = None
        return future, True

    def whois_abandon(self, nick: str) -> None:
        key = self._fold(nick)
        future = self._whois_pending.pop(key, None)
        self._whois_found.pop(key, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def on_raw_330(self, message: Any) -> None:
        # RPL_WHOISACCOUNT: <me> <nick> <account> :is logged in as (Atheme, Solanum, ...)
        if len(message.params) >= 3:
            key = self._fold(message.params[1])
            if key in self._whois_pending:
                self._whois_found[key] = message.params[2]

    async def on_raw_307(self, message: Any) -> None:
        # "is identified for this nick" (Anope, OFTC): the account is the nick itself.
        if len(message.params) >= 2:
            key = self._fold(message.params[1])
            if key in self._whois_pending and self._whois_found.get(key) is None:
                self._whois_found[key] = message.params[1]

    async def on_raw_318(self, message: Any) -> None:
        # RPL_ENDOFWHOIS: what we found is the answer, including "not logged in".
        if len(message.params) >= 2:
            key = self._fold(message.params[1])
            future = self._whois_pending.pop(key, None)
            account = self._whois_found.pop(key, None)
            if future is not None:
                self.accounts.learn(message.params[1], account)
                if not future.done():
                    future.set_result(account)

    async def on_raw_401(self, message: Any) -> None:
        # No such nick: nobody to vouch for. (A 318 follows on some servers; harmless.)
        if len(message.params) >= 2:
            self.accounts.forget(message.params[1])
            key = self._fold(message.params[1])
            self._whois_found.pop(key, None)
            future = self._whois_pending.pop(key, None)
            if future is not None and not future.done():
                future.set_result(None)


def tags_of(message: Any) -> dict[str, str]:
    tags = getattr(message, "tags", None) or {}
    return {str(k): ("" if v is True or v is None else str(v)) for k, v in tags.items()}


def event_time(tags: dict[str, str]) -> dt.datetime:
    return parse_server_time(tags.get("time")) or dt.datetime.now(dt.UTC)
