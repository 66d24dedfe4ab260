"""Chat commands for every plugin: parsing, authority by account, rate limits, help.

A plugin offers `Command`s (govbot.plugin); the router is the one plugin that
handles `IrcMessage`s addressed to the bot, finds the command, checks its
`permission` against the sender's *services account* mapped to a person in the
governance config (never the nick: anyone can take a nick), and calls the owning
plugin's handler with that plugin's own context.

Wiring (the router needs the other plugins' commands, and is a plugin itself):

    base = PluginRegistry(plugins)
    router = CommandRouter(base.commands, contexts, prefix="!", nick=lambda: irc.nick)
    registry = PluginRegistry([*plugins, router])
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import logging
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from govbot.actions import Action, ReloadConfig, Say
from govbot.config.model import GovernanceConfig, Person
from govbot.dispatcher import ContextSource
from govbot.irc.events import IrcMessage
from govbot.plugin import Command, CommandCall, Plugin, PluginContext, PluginError

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_MAX_RATE_KEYS = 10_000


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


class CommandRouter(Plugin):
    """The `commands` plugin: routes chat commands to the plugins that offer them."""

    name: ClassVar[str] = "commands"
    emits: ClassVar[tuple[type[Action], ...]] = (Say, ReloadConfig)

    def __init__(self, commands: Mapping[str, tuple[Plugin, Command]], contexts: ContextSource,
                 *, prefix: str, nick: Callable[[], str], admins: str = "admins",
                 rate_limit: tuple[int, float] = (5, 30.0),
                 handler_timeout: float = 30.0) -> None:
        builtins = {
            "help": Command("help", self._help, "help [COMMAND]",
                            "Lists the commands you may use, or explains one.",
                            examples=("help", "help reload")),
            "reload": Command("reload", self._reload, "reload",
                              "Loads the governance config repository again now.",
                              examples=("reload",), permission=admins),
        }
        clash = sorted(set(builtins) & {name.lower() for name in commands})
        if clash:
            raise PluginError(f"command(s) {', '.join(clash)} are built into the router")
        self._commands = commands
        self._builtins = builtins
        self._contexts = contexts
        self.prefix = prefix
        self._nick = nick
        self._rate_count, self._rate_window = rate_limit
        self._handler_timeout = handler_timeout
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._warned: dict[tuple[str, str], float] = {}

    def handlers(self) -> Mapping[type, Any]:
        return {IrcMessage: self.on_message}

    def lookup(self, name: str) -> tuple[Plugin, Command] | None:
        if name in self._builtins:
            return self, self._builtins[name]
        found = self._commands.get(name)
        if found is None:  # plugins may register mixed-case names
            found = next((v for k, v in self._commands.items() if k.lower() == name), None)
        return found

    def all_commands(self) -> list[Command]:
        commands = [*self._builtins.values(), *(c for _, c in self._commands.values())]
        return sorted(commands, key=lambda c: c.name)

    # --- one message --------------------------------------------------------------------

    async def on_message(self, event: IrcMessage, ctx: PluginContext) -> Sequence[Action]:
        actions = await self._route(event, ctx)
        return [a if a.event_id else dataclasses.replace(a, event_id=ctx.event_id)
                for a in actions]

    async def _route(self, event: IrcMessage, ctx: PluginContext) -> Sequence[Action]:
        if event.notice or event.action:
            return ()  # never answer a NOTICE (that is how bot loops start)
        parsed = parse_command(event.text, nick=self._nick(), prefix=self.prefix,
                               private=event.private)
        if parsed is None:
            return ()
        config = ctx.config
        person = config.person_by_irc_account(event.account) if event.account else None
        call = CommandCall(parsed.name, parsed.args, event.nick, event.account, person,
                           event.channel)
        found = self.lookup(parsed.name)
        allowed, warning = self._rate_check(call, ctx.now.timestamp(), found is not None)
        if not allowed:
            return [self._reply(call, warning)] if warning else ()
        if found is None:
            return self._unknown(call, parsed.addressed)
        plugin, command = found
        if not permitted(command.permission, person, config):
            return [self._reply(call, self._refusal(call, command, config))]
        plugin_ctx = (ctx if plugin is self
                      else self._contexts.context(plugin.name, ctx.event_id, ctx.now, config))
        try:
            async with asyncio.timeout(self._handler_timeout):
                actions = await command.handler(call, plugin_ctx)
        except TimeoutError:
            log.error("event %s: command %s of plugin %s timed out after %.0f s",
                      ctx.event_id, command.name, plugin.name, self._handler_timeout)
            return [self._reply(call, f"{command.name} took too long; logged as {ctx.event_id}")]
        except Exception:
            log.exception("event %s: command %s of plugin %s failed (by %s, account %s)",
                          ctx.event_id, command.name, plugin.name, call.nick, call.account)
            return [self._reply(call, f"internal error, logged as {ctx.event_id}")]
        # Stamped with the owning plugin: the dispatcher would otherwise credit the router.
        return [a if a.plugin else dataclasses.replace(a, plugin=plugin.name)
                for a in actions or ()]

    def _reply(self, call: CommandCall, text: str) -> Say:
        # In a channel, address the asker so the answer is findable in a busy channel.
        if call.channel:
            text = f"{call.nick}: {text}"
        return Say(target=call.reply_to, text=text, priority=True, plugin=self.name)

    def _rate_check(self, call: CommandCall, now: float, known: bool) -> tuple[bool, str | None]:
        """Per-person, per-command sliding window: (allowed, the one warning to give).

        Over the limit, the first refusal says so and the rest are silent, so a flood
        of commands can never make the bot flood the channel in turn. Time is the
        event's (`ctx.now`), which keeps replays deterministic.
        """
        who = call.account.casefold() if call.account else "nick:" + call.nick.lower()
        key = (who, call.name if known else "?")
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= self._rate_window:
            recent.popleft()
        if len(recent) < self._rate_count:
            recent.append(now)
            self._warned.pop(key, None)
            if len(self._recent) > _MAX_RATE_KEYS:
                self._prune(now)
            return True, None
        if self._warned.get(key, float("-inf")) < recent[0]:
            self._warned[key] = now
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

    def _unknown(self, call: CommandCall, addressed: bool) -> Sequence[Action]:
        names = [c.name for c in self.all_commands()]
        close = difflib.get_close_matches(call.name, names, n=1, cutoff=0.6)
        if close:
            return [self._reply(call, f"unknown command {call.name!r}; did you mean "
                                      f"{close[0]!r}? ({self._hint()})")]
        # A bare "!foo" may belong to another bot in the channel: only answer when the
        # message was addressed to us, or when it looks like a typo of one of ours.
        if addressed:
            return [self._reply(call, f"unknown command {call.name!r} ({self._hint()})")]
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

    async def _help(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        config = ctx.config
        if call.args:
            name = call.args.split()[0].lstrip(self.prefix).lower()
            found = self.lookup(name)
            if found is None:
                return self._unknown(dataclasses.replace(call, name=name), True)
            command = found[1]
            parts = [f"{self.prefix}{command.usage}", command.description]
            if command.examples:
                parts.append("e.g. " + "; ".join(f"{self.prefix}{e}" for e in command.examples))
            if command.permission is not None:
                parts.append(f"for {describe_permission(command.permission, config)}")
            return [self._reply(call, " — ".join(parts))]
        usable = [c.name for c in self.all_commands()
                  if permitted(c.permission, call.person, config)]
        return [self._reply(call, f"commands you may use: {', '.join(usable)} "
                                  f'(say "{self.prefix}help COMMAND" for details)')]

    async def _reload(self, call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
        who = call.person.name if call.person else call.nick
        return [ReloadConfig(reason=f"requested on IRC by {who} ({call.account})"),
                self._reply(call, "reloading the governance config")]
