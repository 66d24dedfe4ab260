"""MeetBot's `#commands`, decided once per line: what a line does, and what the bot says.

The interpreter is pure: it reads the meeting (as folded so far), the line and an
`Env` holding everything the plugin looked up beforehand (the speaker's identity,
accounts of nicks named by `#chair`, the start policy's verdict, the electorates of
bodies). It returns the line's effects, which go into the journal and are applied
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
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govbot.actions import Action
from govbot.commands import Command, CommandCall, CommandHandler, parse_meetbot
from govbot.plugin import PluginContext

from .effects import (
    AddChair,
    AddItem,
    Attendees,
    CastVote,
    Effect,
    EndMeeting,
    EndVote,
    Lurk,
    MeetingTopic,
    NewTopic,
    RemoveChair,
    Rename,
    RestrictLogs,
    StartMeeting,
    StartVote,
    Undo,
)
from .model import (
    Meeting,
    default_name,
    identity_of,
    irc_lower,
    normalise_name,
)
from .policy import StartCheck
from .votes import decide

BARE_URL = re.compile(r"(?:https?|ftp|irc|ssh)://\S", re.IGNORECASE)
CHAIRS = "the chairs of the meeting"  # Command.who of the chair-only commands
ORPHAN_AFTER = dt.timedelta(minutes=60)


@dataclass(frozen=True, slots=True)
class Said:
    """One line received in the channel."""

    channel: str
    time: dt.datetime
    nick: str
    account: str | None
    text: str
    action: bool = False
    notice: bool = False


@dataclass(frozen=True, slots=True)
class Electorate:
    """A body a vote may be bound to, with its rules already applied to its size."""

    id: str
    name: str
    members: tuple[str, ...]  # person ids
    quorum: int
    threshold: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Env:
    now: dt.datetime
    identity: str | None  # the speaker, see identity_of
    person: str | None = None  # the speaker's person id in the config
    trust_nicks: bool = False
    orphan_after: dt.timedelta = ORPHAN_AFTER
    resolved: Mapping[str, str | None] = field(default_factory=dict)  # irc_lower(nick) -> id
    can_resolve: bool = True  # False: no IRC connection to ask for accounts
    start: StartCheck | None = None
    bodies: Mapping[str, Electorate] = field(default_factory=dict)
    links: Callable[[Meeting], Mapping[str, str]] | None = None  # ext -> URL of the minutes


@dataclass(slots=True)
class Outcome:
    fx: list[Effect] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    topic: str | None = None  # a channel topic to set
    started: bool = False
    end: bool = False
    save: bool = False


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
            _start(line, env, parsed[1], out)
        return out
    if parsed is None:
        if BARE_URL.match(line.text.strip()):
            out.fx.append(AddItem("LINK", line.text.strip()))
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
        left = max(1, int((env.orphan_after - (env.now - last)).total_seconds() // 60) + 1)
        text += (f"; anyone may end it once no chair has spoken for "
                 f"{int(env.orphan_after.total_seconds() // 60)} minutes (in {left} min)")
    if env.identity is None:
        text += "; chairs are recognised by their services account and you are not logged in"
    return text


def _start(line: Said, env: Env, arg: str, out: Outcome) -> None:
    if env.identity is None:
        out.said.append(f"{line.nick}: to start a meeting you must be logged in to services: "
                        "a meeting's chair is recognised by account, not by nick")
        return
    check = env.start or StartCheck(True)
    if not check.allowed:
        out.said.append(f"{line.nick}: cannot start a meeting here: {check.refusal}")
        return
    name = normalise_name(arg or check.scheduled_name) or default_name(line.channel)
    out.fx.append(StartMeeting(line.channel, env.identity, name, arg or None,
                               bool(check.sanctioned)))
    out.started = True
    out.said += [f"Meeting started {_asctime(line.time)} UTC. The chair is {line.nick}.",
                 "Useful commands: #action #agreed #help #info #idea #link #topic "
                 "#startvote.",
                 f"The meeting name has been set to '{name}'"]
    if check.hint:
        out.said.append(f"Note: {check.hint}")


def _asctime(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%a %b %d %H:%M:%S %Y")


def _topic_text(current: str, meeting_topic: str | None) -> str | None:
    if current and meeting_topic:
        return f"{current} (Meeting topic: {meeting_topic})"
    return current or meeting_topic or None  # never an empty or "(Meeting topic: x)" topic


# -- handlers: (meeting, line, env, arg, out) ---------------------------------------------
def _end(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.fx.append(EndMeeting())
    out.end = True
    out.said.append(f"Meeting ended {_asctime(line.time)} UTC.")
    if meeting.restricted:
        out.said.append("The minutes are restricted (#restrictlogs): not published.")
    elif env.links is not None:
        links = env.links(meeting)
        out.said += [f"Minutes:        {links['html']}", f"Minutes (text): {links['txt']}",
                     f"Log:            {links['log.html']}"]


def _topic(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if arg:
        out.fx.append(NewTopic(arg))
        out.topic = _topic_text(arg, meeting.meeting_topic)


def _meetingtopic(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    text = None if arg.lower() in ("", "none", "unset") else arg
    out.fx.append(MeetingTopic(text))
    out.topic = _topic_text(meeting.topic, text)


def _item(kind: str) -> Callable[[Meeting, Said, Env, str, Outcome], None]:
    def add(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
        if arg:
            out.fx.append(AddItem(kind, arg))
    return add


def _nicks(arg: str) -> list[str]:
    return [n for n in re.split(r"[,\s]+", arg) if n]


def _chair(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    added: dict[str, str] = {}
    for nick in _nicks(arg):
        who = env.resolved.get(irc_lower(nick))
        if who is None and env.trust_nicks and not env.can_resolve:
            who = identity_of(None, nick, True)
        if who is None:
            out.said.append(f"cannot make {nick} a chair: " + (
                f"{nick} is not logged in to services (chairs are recognised by account)"
                if env.can_resolve else "their services account cannot be checked here"))
            continue
        if who != meeting.owner and who not in meeting.chairs and who not in added:
            added[who] = nick
            out.fx.append(AddChair(who, nick))
    chairs = {meeting.owner: meeting.owner_nick, **meeting.chairs, **added}
    out.said.append("Current chairs: " + " ".join(sorted(chairs.values(), key=str.lower)))


def _unchair(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    chairs = {meeting.owner: meeting.owner_nick, **meeting.chairs}
    for nick in _nicks(arg):
        folded = irc_lower(nick)
        who = next((i for i, n in chairs.items() if irc_lower(n) == folded),
                   env.resolved.get(folded))
        if who == meeting.owner:
            out.said.append(f"{meeting.owner_nick} started the meeting and stays its chair")
        elif who in chairs:
            del chairs[who]
            out.fx.append(RemoveChair(who))
    out.said.append("Current chairs: " + " ".join(sorted(chairs.values(), key=str.lower)))


def _undo(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if not meeting.items:
        out.said.append("There is nothing in the minutes to undo.")
        return
    last = meeting.items[-1]
    out.fx.append(Undo())
    out.said.append(f"Removing item from minutes: {last.kind}: {last.text}")
    if last.kind == "TOPIC":
        previous = next((i.text for i in reversed(meeting.items[:-1]) if i.kind == "TOPIC"), "")
        out.topic = _topic_text(previous, meeting.meeting_topic)


def _save(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.save = True


def _restrict(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.fx.append(RestrictLogs())
    out.said.append("Restricting the minutes: they will be readable only by the bot's "
                    "user, and not published")


def _lurk(on: bool) -> Callable[[Meeting, Said, Env, str, Outcome], None]:
    def set_lurk(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
        out.fx.append(Lurk(on))
    return set_lurk


def _meetingname(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    name = normalise_name(arg)
    if not name:
        out.said.append(f"{line.nick}: usage: #meetingname NAME")
        return
    out.fx.append(Rename(name))
    out.said.append(f"The meeting name has been set to '{name}'")


def _nick(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if _nicks(arg):
        out.fx.append(Attendees(tuple(_nicks(arg))))


def _present(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    others = _nicks(arg)
    if others:  # the speaker is already counted: they said this line
        out.fx.append(Attendees(tuple(others)))


def _startvote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if meeting.poll is not None:
        out.said.append(f'A vote is already in progress: "{meeting.poll.question}" '
                        "(#endvote it first)")
        return
    first, _, rest = arg.partition(" ")
    body = env.bodies.get(first.lower()) if rest else None
    text = rest if body is not None else arg
    question, mark, tail = text.rpartition("?")
    if not mark or not question.strip():
        out.said.append(f"{line.nick}: usage: #startvote [BODY] Question? Option1, Option2 "
                        "(the question ends with '?'; options default to Yes, No)")
        return
    options: list[str] = []
    for option in (o.strip() for o in tail.split(",")):
        if option and option.casefold() not in (o.casefold() for o in options):
            options.append(option)
    options = options or ["Yes", "No"]
    if len(options) < 2:
        out.said.append(f"{line.nick}: a vote needs at least two options")
        return
    fx = StartVote(question.strip() + "?", tuple(options))
    if body is not None:
        fx = dataclasses.replace(fx, body=body.id, body_name=body.name, members=body.members,
                                 quorum=body.quorum, threshold=body.threshold)
    out.fx.append(fx)
    out.said += [f"Begin voting on: {fx.question} Valid vote options are "
                 f"{', '.join(options)}.",
                 "Vote using '#vote OPTION'. Only your last vote counts."]
    if body is not None:
        rule = ("more than half of the votes cast" if body.threshold["kind"] == "majority"
                else f"{body.threshold['needed']} votes")
        out.said.append(f"Only members of {body.name} ({len(body.members)}) count; quorum "
                        f"{body.quorum}; it passes with {rule}.")


def _vote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    poll = meeting.poll
    if poll is None:
        out.said.append(f"{line.nick}: no vote is in progress")
        return
    option = poll.match(arg)
    if option is None:
        out.said.append(f"{line.nick}: {arg!r} is not a valid option; valid options are: "
                        f"{', '.join(poll.options)}")
        return
    member = poll.body is not None and env.person is not None and env.person in poll.members
    if member:
        voter = "person:" + str(env.person)
    else:
        voter = env.identity or identity_of(None, line.nick, True) or line.nick
    out.fx.append(CastVote(voter, option, env.person))
    if poll.body is not None and not member:
        out.said.append(f"{line.nick}: recorded as a non-binding vote: only members of "
                        f"{poll.body_name or poll.body}, recognised by their services "
                        "account, count")


def _showvote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if meeting.poll is None:
        out.said.append(f"{line.nick}: no vote is in progress")
        return
    result = decide(meeting.poll)
    out.said.append(f'"{meeting.poll.question}" so far: {result.tally}')
    if result.non_binding:
        out.said.append(f"Non-binding: {result.non_binding}")


def _endvote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if meeting.poll is None:
        out.said.append("No vote is in progress.")
        return
    result = decide(meeting.poll)
    out.fx.append(EndVote())
    out.said.append(f'Voted on "{result.question}" Results are')
    out.said += [f"{c.option} ({len(c.voters)}): {', '.join(c.voters)}".rstrip(": ")
                 for c in result.counts]
    if result.non_binding:
        out.said.append(f"Non-binding: {result.non_binding}")
    if result.verdict:
        out.said.append(result.verdict)


def _commands(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    command = BY_NAME.get(arg.split()[0].lstrip("#").lower()) if arg else None
    if command is not None:  # `#commands vote`: that command's help, from the table
        out.said.append(describe(command))
        return
    out.said.append("Available commands: " + " ".join("#" + c for c in ALL_COMMANDS))


def _help(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if arg:  # MeetBot's #help: a call for help, into the minutes
        out.fx.append(AddItem("HELP", arg))
    else:
        _commands(meeting, line, env, arg, out)


def _startmeeting(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.said.append(f"Can't start another meeting, one is in progress (started by "
                    f"{meeting.owner_nick}).")


# -- the one table: Command data (help, who, aliases) and each command's step --------------
Step = Callable[[Meeting, Said, Env, str, Outcome], None]


async def _unbound(call: CommandCall, ctx: PluginContext) -> Sequence[Action]:
    raise RuntimeError("MeetBot commands are handled by MeetingsPlugin (see commands())")


def _meet(name: str, step: Step, usage: str, description: str, *, chair: bool = False,
          aliases: tuple[str, ...] = (), examples: tuple[str, ...] = ()
          ) -> tuple[Command, Step]:
    command = Command(name, _unbound, usage, description, examples or (usage,),
                      aliases=aliases, syntax="meetbot", who=CHAIRS if chair else None)
    return command, step


_TABLE: tuple[tuple[Command, Step], ...] = (
    _meet("startmeeting", _startmeeting, "startmeeting [NAME]",
          "Starts a meeting in this channel; you become its chair (logged in to services).",
          examples=("startmeeting tc",)),
    _meet("endmeeting", _end, "endmeeting",
          "Ends the meeting and publishes the minutes (anyone may, once no chair has "
          "spoken for an hour).", chair=True),
    _meet("topic", _topic, "topic TOPIC", "Starts a new topic (and sets the channel topic).",
          chair=True, examples=("topic Review of open changes",)),
    _meet("meetingtopic", _meetingtopic, "meetingtopic TEXT|none",
          "Sets (or clears) the meeting's own topic, shown beside the current topic.",
          chair=True, examples=("meetingtopic Weekly sync",)),
    _meet("agreed", _item("AGREED"), "agreed TEXT", "Records a decision.", chair=True,
          aliases=("agree",), examples=("agreed release on Friday",)),
    _meet("accepted", _item("ACCEPTED"), "accepted TEXT", "Records an acceptance.",
          chair=True, aliases=("accept",), examples=("accepted change 42",)),
    _meet("rejected", _item("REJECTED"), "rejected TEXT", "Records a rejection.",
          chair=True, aliases=("reject",), examples=("rejected change 43",)),
    _meet("chair", _chair, "chair NICK...", "Makes people chairs (by their services account).",
          chair=True, examples=("chair bruno farah",)),
    _meet("unchair", _unchair, "unchair NICK...",
          "Removes chairs (the starter stays chair).", chair=True,
          examples=("unchair farah",)),
    _meet("undo", _undo, "undo", "Removes the last item from the minutes.", chair=True),
    _meet("save", _save, "save", "Writes the minutes so far.", chair=True),
    _meet("restrictlogs", _restrict, "restrictlogs",
          "Keeps the minutes private: readable only by the bot's user, not published.",
          chair=True),
    _meet("lurk", _lurk(True), "lurk", "The bot records but says nothing.", chair=True),
    _meet("unlurk", _lurk(False), "unlurk", "The bot speaks again.", chair=True),
    _meet("startvote", _startvote, "startvote [BODY] QUESTION? OPTION, OPTION...",
          "Starts a vote (options default to Yes, No); bound to BODY, only its members "
          "count.", chair=True,
          examples=("startvote Adopt the charter? Yes, No, Abstain",
                    "startvote tc Adopt the charter?")),
    _meet("endvote", _endvote, "endvote", "Ends the vote and records its result.",
          chair=True),
    _meet("action", _item("ACTION"), "action TEXT",
          "Records an action item (nicks in it say whose).",
          examples=("action farah to write the summary",)),
    _meet("info", _item("INFO"), "info TEXT", "Records information.",
          examples=("info the charter was published",)),
    _meet("idea", _item("IDEA"), "idea TEXT", "Records an idea.",
          examples=("idea a wiki page",)),
    _meet("help", _help, "help [TEXT]",
          "Records a call for help; alone, lists the commands.", aliases=("halp",),
          examples=("help someone to review change 43",)),
    _meet("link", _item("LINK"), "link URL [TEXT]",
          "Records a link (a line starting with a URL is one too).",
          examples=("link https://etherpad.example.org/p/tc",)),
    _meet("nick", _nick, "nick NICK...", "Counts people as present without a line said.",
          examples=("nick ghost, spirit",)),
    _meet("present", _present, "present [NICK...]",
          "Says you (and those named) are present.", aliases=("here",),
          examples=("present", "present carl")),
    _meet("vote", _vote, "vote OPTION", "Votes in the vote in progress (your last vote counts).",
          examples=("vote yes",)),
    _meet("showvote", _showvote, "showvote", "Shows the votes so far."),
    _meet("commands", _commands, "commands [COMMAND]",
          "Lists the commands, or explains one.", examples=("commands", "commands vote")),
    _meet("meetingname", _meetingname, "meetingname NAME",
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
