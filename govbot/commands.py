"""Chat commands for every plugin: the typed command event, parsing, authority, help.

A plugin offers `Command`s (re-exported by govbot.plugin): chat commands (`!cmd`,
`govbot: cmd`, `govbot, cmd`, plain `cmd` in private) and MeetBot commands (`#cmd`
in a channel). Help is data: every command has its usage, description, examples
and who may use it, and `help`, `#commands` and the docs are made from it.

An IRC line enters once (`CommandRouter.event_of`, called by the IRC service) and
becomes exactly one event: a `CommandEvent` when it is a command, else the
`IrcMessage` itself. A command event has the lane of the line's channel (or of the
private sender), so a channel's commands and chatter stay in the order said.

The dispatcher handles a `CommandEvent` (`CommandRouter.route` decides): the one
plugin offering the command is called with its own context under the dispatcher's
ordering, timeout and per-plugin stats; the router itself only answers what needs
no plugin (unknown commands, refusals, the rate limit) and its built-ins `help` and
`reload`. Authority is by *services account* mapped to a person in the governance
config, never by nick (anyone can take a nick).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

from govbot.actions import Action, ReloadConfig, Say

if TYPE_CHECKING:  # annotations only: `govbot minutes` reads the command table unloaded
    from govbot.config.model import GovernanceConfig, Person
    from govbot.context import PluginContext
    from govbot.irc.events import IrcMessage

log = logging.getLogger(__name__)

#: "chat": `!cmd`, `govbot: cmd`, private `cmd`. "meetbot": `#cmd` in a channel.
Syntax = Literal["chat", "meetbot"]
#: Names the router answers itself; no plugin may offer them as chat commands.
BUILTIN = ("help", "reload")

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_MEETBOT = re.compile(r"#(\w+)[ \t]*(.*)", re.DOTALL)
_MAX_RATE_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class CommandCall:
    """One command, as a handler receives it."""

    name: str  # the command's name (an alias said is resolved to it)
    args: str
    nick: str
    account: str | None  # services account, None when not logged in
    person: Person | None  # the config's person for that account
    channel: str | None  # None for a private message
    message: IrcMessage | None = None  # the line it was said in (time, exact text)

    @property
    def reply_to(self) -> str:
        return self.channel or self.nick


CommandHandler = Callable[[CommandCall, "PluginContext"], Awaitable[Sequence[Action]]]


@dataclass(frozen=True, slots=True)
class Command:
    """Help is data: `help` prints it, docs are generated from it, examples are tested.

    `usage` and `examples` are written without the prefix (`!` or `#`): the syntax
    adds it. `who` says who may use a command whose owner decides that at the time
    (MeetBot's chairs); it is shown by help, the router checks only `permission`.
    """

    name: str
    handler: CommandHandler
    usage: str
    description: str
    examples: tuple[str, ...] = ()
    # None: anyone. Otherwise "BODY" (any member) or "BODY:ROLE" (e.g. "tc:chair").
    permission: str | None = None
    aliases: tuple[str, ...] = ()
    syntax: Syntax = "chat"
    who: str | None = None

    @property
    def sigil(self) -> str:
        return "#" if self.syntax == "meetbot" else ""


@dataclass(frozen=True, slots=True)
class CommandEvent:
    """An IRC line that is a command; the one event for that line."""

    syntax: Syntax
    name: str  # as said, lower-cased (may be an alias)
    args: str
    addressed: bool  # by nick or in private; False for a bare prefix in a channel
    message: IrcMessage
    type_name: ClassVar[str] = "irc-command"

    @property
    def id(self) -> str:
        return self.message.id

    @property
    def lane(self) -> str:
        """The lane of the line's channel (or the private sender): IrcMessage's lane."""
        return self.message.lane

    @property
    def actor(self) -> None:
        return None  # a Gerrit account caused it: never (the bot ignores only those)

    @property
    def time(self) -> dt.datetime:
        return self.message.time


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str  # lower-cased
    args: str
    addressed: bool  # by nick or in private; False for a bare prefix in a channel


def parse_command(text: str, *, nick: str, prefix: str, private: bool) -> ParsedCommand | None:
    """Recognise `govbot: cmd`, `govbot, cmd`, `!cmd` and, in private, plain `cmd`.

    Returns None for anything else, including a lone prefix, `! cmd`, `!!` and
    names with punctuation, so ordinary chat never turns into a command.
    """
    text = text.strip()
    addressed = private
    match = re.match(rf"^{re.escape(nick)}\s*[:,]\s*(.*)$", text, re.IGNORECASE) if nick else None
    if match:
        rest, addressed = match.group(1), True
    elif prefix and text.startswith(prefix):
        rest = text[len(prefix):]
        if not rest or rest[0].isspace():
            return None
    elif private:
        rest = text
    else:
        return None
    name, _, args = rest.strip().partition(" ")
    if not _NAME.match(name):
        return None
    return ParsedCommand(name.lower(), args.strip(), addressed)


def parse_meetbot(text: str) -> tuple[str, str] | None:
    """`#Command args` -> ("command", "args"), MeetBot's syntax; None otherwise."""
    match = _MEETBOT.match(text.strip())
    if match is None:
        return None
    return match.group(1).lower(), match.group(2).strip()


def permitted(permission: str | None, person: Person | None, config: GovernanceConfig) -> bool:
    """None: anyone. "BODY": any member of that body. "BODY:ROLE": holders of that role."""
    if permission is None:
        return True
    if person is None:
        return False
    body_id, _, role = permission.partition(":")
    body = config.bodies.get(body_id)
    if body is None:
        return False  # a permission naming no body grants nothing
    return body.has_role(person.id, role) if role else person.id in body.members


def describe_permission(permission: str | None, config: GovernanceConfig) -> str:
    if permission is None:
        return "everyone"
    body_id, _, role = permission.partition(":")
    body = config.bodies.get(body_id)
    name = body.name if body else body_id
    return f"the {role} of {name}" if role else f"members of {name}"


class Named(Protocol):
    """Whose handler runs: a plugin, or the command router for its built-ins."""

    @property
    def name(self) -> str: ...


class _Owner:
    """The owner of the built-ins, for the dispatcher's stats: the router's name."""

    def __init__(self, name: str) -> None:
        self.name = name


@dataclass(frozen=True, slots=True)
class Route:
    """What the dispatcher does with one command event.

    `owner`/`command`/`call`: call `command.handler(call, ctx of owner)`; the
    `replies` (a refusal, an unknown-command answer) go out instead, or nothing.
    """

    owner: Named | None = None  # a Plugin, or the router for its built-ins
    command: Command | None = None
    call: CommandCall | None = None
    replies: tuple[Action, ...] = ()


#: registry key -> (the offering plugin, its command); see PluginRegistry.commands
CommandTable = Mapping[tuple[Syntax, str], tuple[Named, Command]]


class CommandRouter:
    """Commands in, decisions out: the parser at the IRC edge and the router at dispatch.

    Not a plugin: it calls no handler (the dispatcher does). Its replies and its
    built-ins are credited to `name` ("commands") in the dispatcher's stats.
    """

    name = "commands"
    emits: tuple[type[Action], ...] = (Say, ReloadConfig)

    def __init__(self, commands: CommandTable, *, prefix: str = "!", admins: str = "admins",
                 rate_limit: tuple[int, float] = (5, 30.0),
                 global_limit: tuple[int, float] = (30, 30.0)) -> None:
        self.owner = _Owner(self.name)
        builtins = [
            Command("help", self._help, "help [COMMAND]",
                    "Lists the commands you may use, or explains one.",
                    examples=("help", "help reload")),
            Command("reload", self._reload, "reload",
                    "Loads the governance config repository again now.",
                    examples=("reload",), permission=admins),
        ]
        self._commands: dict[tuple[Syntax, str], tuple[Named, Command]] = {
            ("chat", c.name): (self.owner, c) for c in builtins}
        self._commands.update({(syntax, name.lower()): found
                               for (syntax, name), found in commands.items()})
        self._meetbot = frozenset(name for syntax, name in self._commands if syntax == "meetbot")
        self.prefix = prefix
        self._rate_count, self._rate_window = rate_limit
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._warned: dict[tuple[str, str], float] = {}
        # Every command of everyone together: below the IRC send rate, so replies
        # can never back up, however many nicks (or hosts) take turns.
        self._global_count, self._global_window = global_limit
        self._global: deque[float] = deque()
        self._global_refused = 0
        self._global_logged = float("-inf")

    # --- at the edge: one event per line --------------------------------------------

    def event_of(self, message: IrcMessage, nick: str) -> IrcMessage | CommandEvent:
        """The line's one event: a CommandEvent when it is a command, else itself.

        A `#word` line is a MeetBot command only when some plugin offers `#word`;
        NOTICEs and `/me` lines are never commands (that is how bot loops start, and
        "/me #agreed" is no decision).
        """
        if message.notice or message.action:
            return message
        if message.channel is not None:
            meetbot = parse_meetbot(message.text)
            if meetbot is not None and meetbot[0] in self._meetbot:
                return CommandEvent("meetbot", meetbot[0], meetbot[1], True, message)
        parsed = parse_command(message.text, nick=nick, prefix=self.prefix,
                               private=message.private)
        if parsed is None:
            return message
        return CommandEvent("chat", parsed.name, parsed.args, parsed.addressed, message)

    # --- at dispatch ---------------------------------------------------------------------

    def lookup(self, syntax: Syntax, name: str) -> tuple[Named, Command] | None:
        return self._commands.get((syntax, name.lower()))

    def all_commands(self, syntax: Syntax = "chat") -> list[Command]:
        unique = {id(c): c for s, (_, c) in self._commands.items() if s[0] == syntax}
        return sorted(unique.values(), key=lambda c: c.name)

    def route(self, event: CommandEvent, config: GovernanceConfig, now: dt.datetime) -> Route:
        """Who handles `event`, or what to answer instead. Time is the event's
        (the dispatcher's clock), which keeps the rate limit deterministic in replays."""
        message = event.message
        person = config.person_by_irc_account(message.account) if message.account else None
        found = self.lookup(event.syntax, event.name)
        call = CommandCall(found[1].name if found else event.name, event.args, message.nick,
                           message.account, person, message.channel, message)
        if event.syntax == "meetbot":
            # No rate limit and no unknown-command answer: every MeetBot line is part of
            # a meeting's record, and its owner journals it whatever it decides.
            if found is None or not permitted(found[1].permission, person, config):
                return Route()
            return Route(found[0], found[1], call)
        allowed, warning = self._rate_check(call, now.timestamp(), found is not None)
        if not allowed:
            return Route(replies=(self._reply(call, warning),) if warning else ())
        if found is None:
            return Route(replies=self._unknown(call, event.addressed))
        owner, command = found
        if not permitted(command.permission, person, config):
            return Route(replies=(self._reply(call, self._refusal(call, command, config)),))
        return Route(owner, command, call)

    def failed(self, call: CommandCall, command: Command, event_id: str, *,
               timed_out: bool) -> Say:
        """The answer when the dispatcher cut or caught the handler (it logged why)."""
        if timed_out:
            return self._reply(call, f"{command.name} took too long; logged as {event_id}")
        return self._reply(call, f"internal error, logged as {event_id}")

    def _reply(self, call: CommandCall, text: str) -> Say:
        # In a channel, address the asker so the answer is findable in a busy channel.
        if call.channel:
            text = f"{call.nick}: {text}"
        return Say(target=call.reply_to, text=text, priority=True, plugin=self.name)

    def _rate_check(self, call: CommandCall, now: float, known: bool) -> tuple[bool, str | None]:
        """Per-person, per-command sliding window: (allowed, the one warning to give).

        Over the limit, the first refusal says so and the rest are silent, so a flood
        of commands can never make the bot flood the channel in turn. Someone without
        an account is limited by host (a new nick is free; a new host is not), and all
        commands together by the global budget, past which they are refused silently.
        """
        glob = self._global
        while glob and now - glob[0] >= self._global_window:
            glob.popleft()
        if len(glob) >= self._global_count:
            self._global_refused += 1
            if now - self._global_logged >= self._global_window:
                log.warning("command rate limit: the global budget of %d per %.0f s is used; "
                            "%d command(s) refused without a reply", self._global_count,
                            self._global_window, self._global_refused)
                self._global_logged, self._global_refused = now, 0
            return False, None
        host = call.message.host if call.message is not None else None
        who = (call.account.casefold() if call.account
               else "host:" + host.lower() if host else "nick:" + call.nick.lower())
        key = (who, call.name if known else "?")
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= self._rate_window:
            recent.popleft()
        if len(recent) < self._rate_count:
            recent.append(now)
            glob.append(now)
            self._warned.pop(key, None)
            if len(self._recent) > _MAX_RATE_KEYS:
                self._prune(now)
            return True, None
        if self._warned.get(key, float("-inf")) < recent[0]:
            self._warned[key] = now
            glob.append(now)  # the warning is a reply too
            log.info("command rate limit: %s used %s %d times in %.0f s", call.nick, call.name,
                     len(recent), self._rate_window)
            return False, (f"slow down: at most {self._rate_count} {call.name} "
                           f"per {self._rate_window:.0f} s")
        return False, None

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._recent.items()
                    if not v or now - v[-1] >= self._rate_window]:
            del self._recent[key]
            self._warned.pop(key, None)

    def _unknown(self, call: CommandCall, addressed: bool) -> tuple[Action, ...]:
        names = [c.name for c in self.all_commands()]
        close = difflib.get_close_matches(call.name, names, n=1, cutoff=0.6)
        if close:
            return (self._reply(call, f"unknown command {call.name!r}; did you mean "
                                      f"{close[0]!r}? ({self._hint()})"),)
        # A bare "!foo" may belong to another bot in the channel: only answer when the
        # message was addressed to us, or when it looks like a typo of one of ours.
        if addressed:
            return (self._reply(call, f"unknown command {call.name!r} ({self._hint()})"),)
        return ()

    def _hint(self) -> str:
        return f'say "{self.prefix}help" for the list' if self.prefix else 'say "help"'

    def _refusal(self, call: CommandCall, command: Command, config: GovernanceConfig) -> str:
        need = f"{command.name} is for {describe_permission(command.permission, config)}"
        if call.account is None:
            claimed = next((p for p in config.people.values()
                            if p.irc_nick and p.irc_nick.casefold() == call.nick.casefold()),
                           None)
            if claimed is not None and claimed.irc_account:
                return (f"{need}: you must be logged in to services as "
                        f"{claimed.irc_account} to use it")
            return f"{need}: you are not logged in to services"
        if call.person is None:
            return f"{need}: the services account {call.account} is not in the governance config"
        return f"{need}"

    # --- built-in commands ----------------------------------------------------------------

    def describe(self, command: Command, config: GovernanceConfig) -> str:
        """One command's help, from its data: usage — description — examples — who."""
        sigil = command.sigil or self.prefix
        parts = [f"{sigil}{command.usage}", command.description]
        if command.aliases:
            parts.append("also " + ", ".join(f"{sigil}{a}" for a in command.aliases))
        if command.examples:
            parts.append("e.g. " + "; ".join(f"{sigil}{e}" for e in command.examples))
        if command.permission is not None:
            parts.append(f"for {describe_permission(command.permission, config)}")
        if command.who:
            parts.append(f"for {command.who}")
        return " — ".join(parts)

    async def _help(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        config = ctx.config
        if call.args:
            word = call.args.split()[0]
            syntax: Syntax = "meetbot" if word.startswith("#") else "chat"
            name = word.lstrip("#" if syntax == "meetbot" else self.prefix).lower()
            found = self.lookup(syntax, name)
            if found is None:
                return self._unknown(dataclasses.replace(call, name=name), True)
            return [self._reply(call, self.describe(found[1], config))]
        usable = [c.name for c in self.all_commands()
                  if permitted(c.permission, call.person, config)]
        return [self._reply(call, f"commands you may use: {', '.join(usable)} "
                                  f'(say "{self.prefix}help COMMAND" for details)')]

    async def _reload(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        who = call.person.name if call.person else call.nick
        return [ReloadConfig(reason=f"requested on IRC by {who} ({call.account})"),
                self._reply(call, "reloading the governance config")]
