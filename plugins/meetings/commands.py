"""MeetBot's `#commands`, decided once per line: what a line does, and what the bot says.

The interpreter is pure: it reads the meeting (as folded so far), the line and an
`Env` holding everything the plugin looked up beforehand (the speaker's identity,
accounts of nicks named by `#chair`, the start policy's verdict, the electorates of
bodies), checks who may use the command and runs its step (`steps.py`). It returns
the line's effects (typed, `effects.py`), which go into the journal and are applied
by `Meeting.apply` — the same code whether live, resumed or recovered from a log.

The commands are one table, `COMMANDS` (govbot's `Command` data, MeetBot syntax):
name, aliases, usage, description, examples and who may use them. The plugin offers
them to the core's command registry (so a `#cmd` line reaches it as a command event),
`#commands`, `!help #cmd` and docs/meetings.md are made from it.

Permissions are MeetBot's (chairs: the starter and those added with `#chair`), but a
chair is a services account, never a nick (unless the operator trusts nicks on a
network without services). Refusals are said, briefly, rather than silently ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from govbot.actions import Action
from govbot.commands import Command, CommandCall, CommandHandler, parse_meetbot

from . import steps
from .effects import AddItem, Lurk
from .model import Meeting
from .steps import BARE_URL, Step
from .steps import Electorate as Electorate
from .steps import Env as Env
from .steps import Outcome as Outcome
from .steps import Said as Said

if TYPE_CHECKING:  # `govbot minutes` interprets a log without the plugin API's runtime
    from govbot.plugin import PluginContext

CHAIRS = "the chairs of the meeting"  # Command.who of the chair-only commands


def parse(text: str) -> tuple[str, str] | None:
    """`#Command args` -> ("command", "args") with aliases resolved; None otherwise.

    For lines that do not come through the core's command events (a raw log in
    `govbot minutes`); live, the core parsed the line already (`of_call`).
    """
    parsed = parse_meetbot(text)
    if parsed is None:
        return None
    return ALIASES.get(parsed[0], parsed[0]), parsed[1]


def of_call(call: CommandCall | None) -> tuple[str, str] | None:
    """A command event's (command, args), as the interpreter reads them."""
    return (call.name, call.args) if call is not None else None


def interpret(meeting: Meeting | None, line: Said, env: Env,
              parsed: tuple[str, str] | None) -> Outcome:
    """What `line` does; `parsed` is its (command, args) when it is a MeetBot command."""
    out = Outcome()
    if line.action or line.notice:
        return out  # logged, but "/me #agreed" is not a decision
    if meeting is None or not meeting.is_started:
        if parsed is not None and parsed[0] == "startmeeting":
            steps.start(line, env, parsed[1], out)
        return out
    if parsed is None:
        item = link_item(line.text)
        if item is not None:
            out.fx.append(item)
        return out
    name, arg = parsed
    handler = _STEPS.get(name)
    if handler is None:
        return out
    if name in CHAIR_ONLY and not meeting.is_chair(env.identity):
        if not (name == "endmeeting" and _orphaned(meeting, env)):
            out.said.append(_refusal(meeting, line, env, name))
            return _quiet(meeting, out)
    handler(meeting, line, env, arg, out)
    return _quiet(meeting, out)


def link_item(text: str) -> AddItem | None:
    """What a line that is no command does in a meeting: a LINK item when it starts
    with a URL (MeetBot's rule), else nothing."""
    text = text.strip()
    return AddItem("LINK", text) if BARE_URL.match(text) else None


def _quiet(meeting: Meeting, out: Outcome) -> Outcome:
    lurk = meeting.lurk
    for fx in out.fx:
        if isinstance(fx, Lurk):
            lurk = fx.on
    if lurk:  # a lurking bot records everything and says nothing
        out.said.clear()
        out.topic = None
    return out


def _orphaned(meeting: Meeting, env: Env) -> bool:
    last = meeting.last_chair_time or meeting.started
    return last is not None and env.now - last >= env.orphan_after


def _refusal(meeting: Meeting, line: Said, env: Env, name: str) -> str:
    text = (f"{line.nick}: #{name} is for the chairs of this meeting "
            f"({', '.join(meeting.chair_nicks())})")
    if name == "endmeeting":
        last = meeting.last_chair_time or meeting.started or env.now
        seconds = (env.orphan_after - (env.now - last)).total_seconds()
        left = max(1, -int(-seconds // 60))  # whole minutes, rounded up
        text += f"; anyone may end it if no chair speaks in the next {left} min"
    if env.identity is None:
        text += "; chairs are recognised by their services account and you are not logged in"
    return text


def _commands(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    word = arg.split()[0].lstrip("#").lower() if arg else ""
    command = BY_NAME.get(ALIASES.get(word, word))
    if command is not None:  # `#commands vote`: that command's help, from the table
        out.said.append(describe(command))
        return
    out.said.append("Available commands: " + " ".join("#" + c for c in ALL_COMMANDS))


def _help(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if arg:  # MeetBot's #help: a call for help, into the minutes
        out.fx.append(AddItem("HELP", arg))
    else:
        _commands(meeting, line, env, arg, out)


# -- the one table: Command data (help, who, aliases) and each command's step --------------
# The table is read at import (by the interpreter, `#commands`, the docs); the handler
# is the plugin instance's, bound by `bound()` in MeetingsPlugin.commands().
async def _unbound(call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
    raise RuntimeError("MeetBot commands are handled by MeetingsPlugin (see commands())")


def _meet(name: str, step: Step, usage: str, description: str, *, chair: bool = False,
          aliases: tuple[str, ...] = (), examples: tuple[str, ...] = ()
          ) -> tuple[Command, Step]:
    command = Command(name, _unbound, usage, description, examples or (usage,),
                      aliases=aliases, syntax="meetbot", who=CHAIRS if chair else None)
    return command, step


_TABLE: tuple[tuple[Command, Step], ...] = (
    _meet("startmeeting", steps.startmeeting, "startmeeting NAME",
          "Starts a meeting in this channel; you become its chair (logged in to services). "
          "The name is required, unless the meeting scheduled now gives it.",
          examples=("startmeeting tc",)),
    _meet("endmeeting", steps.end, "endmeeting",
          "Ends the meeting and publishes the minutes (anyone may, once no chair has "
          "spoken for an hour).", chair=True),
    _meet("topic", steps.topic, "topic TOPIC", "Starts a new topic (and sets the channel topic).",
          chair=True, examples=("topic Review of open changes",)),
    _meet("meetingtopic", steps.meetingtopic, "meetingtopic TEXT|none",
          "Sets (or clears) the meeting's own topic, shown beside the current topic.",
          chair=True, examples=("meetingtopic Weekly sync",)),
    _meet("agreed", steps.item("AGREED"), "agreed TEXT", "Records a decision.", chair=True,
          aliases=("agree",), examples=("agreed release on Friday",)),
    _meet("accepted", steps.item("ACCEPTED"), "accepted TEXT", "Records an acceptance.",
          chair=True, aliases=("accept",), examples=("accepted change 42",)),
    _meet("rejected", steps.item("REJECTED"), "rejected TEXT", "Records a rejection.",
          chair=True, aliases=("reject",), examples=("rejected change 43",)),
    _meet("failed", steps.item("FAILED"), "failed TEXT", "Records a proposal that failed.",
          chair=True, examples=("failed motion to adopt the logo",)),
    _meet("inconclusive", steps.item("INCONCLUSIVE"), "inconclusive TEXT",
          "Records a discussion that reached no decision.", chair=True,
          examples=("inconclusive naming of the release",)),
    _meet("chair", steps.chair, "chair NICK...", "Makes people chairs (by their services account).",
          chair=True, examples=("chair bruno farah",)),
    _meet("unchair", steps.unchair, "unchair NICK...",
          "Removes chairs (the starter stays chair).", chair=True,
          examples=("unchair farah",)),
    _meet("undo", steps.undo, "undo", "Removes the last item from the minutes.", chair=True),
    _meet("save", steps.save, "save", "Writes the minutes so far.", chair=True),
    _meet("restrictlogs", steps.restrict, "restrictlogs",
          "Keeps the minutes private: readable only by the bot's user, not published.",
          chair=True),
    _meet("lurk", steps.lurk(True), "lurk", "The bot records but says nothing.", chair=True),
    _meet("unlurk", steps.lurk(False), "unlurk", "The bot speaks again.", chair=True),
    _meet("startvote", steps.startvote, "startvote [BODY] QUESTION? OPTION, OPTION...",
          "Starts a vote (options default to Yes, No); bound to BODY, only its members "
          "count.", chair=True,
          examples=("startvote Adopt the charter? Yes, No, Abstain",
                    "startvote tc Adopt the charter?")),
    _meet("motion", steps.motion, "motion [BODY] TEXT",
          "Puts a formal motion to the vote: options +1, -1, 0 (bound to BODY as "
          "#startvote).", chair=True,
          examples=("motion adopt the charter", "motion tc adopt the charter")),
    _meet("endvote", steps.endvote, "endvote", "Ends the vote (or motion) and records its "
          "result.", chair=True, aliases=("close",)),
    _meet("action", steps.item("ACTION"), "action TEXT",
          "Records an action item (nicks in it say whose).",
          examples=("action farah to write the summary",)),
    _meet("info", steps.item("INFO"), "info TEXT", "Records information.",
          examples=("info the charter was published",)),
    _meet("idea", steps.item("IDEA"), "idea TEXT", "Records an idea.",
          examples=("idea a wiki page",)),
    _meet("help", _help, "help [TEXT]",
          "Records a call for help; alone, lists the commands.", aliases=("halp",),
          examples=("help someone to review change 43",)),
    _meet("link", steps.item("LINK"), "link URL [TEXT]",
          "Records a link (a line starting with a URL is one too).",
          examples=("link https://etherpad.example.org/p/tc",)),
    _meet("nick", steps.nick, "nick NICK...", "Counts people as present without a line said.",
          examples=("nick ghost, spirit",)),
    _meet("present", steps.present, "present [NICK...]",
          "Says you (and those named) are present.", examples=("present", "present carl")),
    _meet("here", steps.here, "here [ALIAS]",
          "Says you are present; with ALIAS, action items naming ALIAS are yours too.",
          examples=("here", "here bob")),
    _meet("listchairs", steps.listchairs, "listchairs", "Lists the chairs of the meeting."),
    _meet("vote", steps.vote, "vote OPTION",
          "Votes in the vote in progress: one of its options, +1, -1 or 0 on a #motion "
          "(your last vote counts).", examples=("vote yes", "vote +1")),
    _meet("showvote", steps.showvote, "showvote", "Shows the votes so far."),
    _meet("commands", _commands, "commands [COMMAND]",
          "Lists the commands, or explains one.", examples=("commands", "commands vote")),
    _meet("meetingname", steps.meetingname, "meetingname NAME",
          "Sets the meeting's name (the minutes' file name).",
          examples=("meetingname tc weekly",)),
)

#: MeetBot's commands, as Command data (bound to the plugin by MeetingsPlugin.commands).
COMMANDS: tuple[Command, ...] = tuple(c for c, _ in _TABLE)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
ALIASES: dict[str, str] = {a: c.name for c in COMMANDS for a in c.aliases}
CHAIR_ONLY = frozenset(c.name for c in COMMANDS if c.who == CHAIRS)
ALL_COMMANDS = tuple(sorted([*BY_NAME, *ALIASES]))
_STEPS: dict[str, Step] = {c.name: step for c, step in _TABLE}


def bound(handler: CommandHandler) -> list[Command]:
    """The table with `handler` (the plugin's) as every command's handler."""
    return [dataclasses.replace(c, handler=handler) for c in COMMANDS]


def describe(command: Command) -> str:
    """`#usage — description — also ... — e.g. ...`: the help said by `#commands NAME`."""
    parts = [f"#{command.usage}", command.description]
    if command.aliases:
        parts.append("also " + ", ".join(f"#{a}" for a in command.aliases))
    if command.examples:
        parts.append("e.g. " + "; ".join(f"#{e}" for e in command.examples))
    if command.who:
        parts.append(f"for {command.who}")
    return " — ".join(parts)


def markdown_table() -> str:
    """The command list of docs/meetings.md (a test keeps the two equal)."""
    rows = ["| command | what it does | who | also |", "|---|---|---|---|"]
    for c in COMMANDS:
        who = "chairs" if c.who == CHAIRS else "anyone"
        also = ", ".join(f"`#{a}`" for a in c.aliases)
        rows.append(f"| `#{c.usage}` | {c.description} | {who} | {also} |".replace(
            "|none", "\\|none"))
    return "\n".join(rows) + "\n"
