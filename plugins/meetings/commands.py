"""MeetBot's `#commands`, decided once per line: what a line does, and what the bot says.

The interpreter is pure: it reads the meeting (as folded so far), the line and an
`Env` holding everything the plugin looked up beforehand (the speaker's identity,
accounts of nicks named by `#chair`, the start policy's verdict, the electorates of
bodies). It returns the line's effects, which go into the journal and are applied
by `Meeting.apply` — the same code whether live, resumed or recovered from a log.

Permissions are MeetBot's (chairs: the starter and those added with `#chair`), but a
chair is a services account, never a nick (unless the operator trusts nicks on a
network without services). Refusals are said, briefly, rather than silently ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import (
    Meeting,
    default_name,
    identity_of,
    irc_lower,
    normalise_name,
)
from .policy import StartCheck
from .votes import decide

COMMAND = re.compile(r"#(\w+)[ \t]*(.*)", re.DOTALL)
BARE_URL = re.compile(r"(?:https?|ftp|irc|ssh)://\S", re.IGNORECASE)
ALIASES = {"agree": "agreed", "accept": "accepted", "reject": "rejected", "halp": "help",
           "here": "present"}
CHAIR_ONLY = frozenset({"endmeeting", "topic", "meetingtopic", "agreed", "accepted", "rejected",
                        "chair", "unchair", "undo", "save", "restrictlogs", "lurk", "unlurk",
                        "startvote", "endvote"})
ANYONE = frozenset({"startmeeting", "action", "info", "idea", "help", "link", "nick", "vote",
                    "showvote", "commands", "meetingname", "present"})
ALL_COMMANDS = tuple(sorted(CHAIR_ONLY | ANYONE | {"here", "agree", "accept", "reject",
                                                    "halp"}))
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
    fx: list[dict[str, Any]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    topic: str | None = None  # a channel topic to set
    started: bool = False
    end: bool = False
    save: bool = False


def parse(text: str) -> tuple[str, str] | None:
    """`#Command args` -> ("command", "args") with aliases resolved; None otherwise."""
    match = COMMAND.match(text.strip())
    if match is None:
        return None
    name = match.group(1).lower()
    return ALIASES.get(name, name), match.group(2).strip()


def interpret(meeting: Meeting | None, line: Said, env: Env) -> Outcome:
    out = Outcome()
    if line.action or line.notice:
        return out  # logged, but "/me #agreed" is not a decision
    parsed = parse(line.text)
    if meeting is None or not meeting.is_started:
        if parsed is not None and parsed[0] == "startmeeting":
            _start(line, env, parsed[1], out)
        return out
    if parsed is None:
        if BARE_URL.match(line.text.strip()):
            out.fx.append({"op": "item", "kind": "LINK", "text": line.text.strip()})
        return out
    name, arg = parsed
    handler = _HANDLERS.get(name)
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
        if fx["op"] == "lurk":
            lurk = bool(fx["on"])
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
    out.fx.append({"op": "start", "channel": line.channel, "name": name,
                   "owner": env.identity, "topic": arg or None,
                   "sanctioned": check.sanctioned})
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
    out.fx.append({"op": "end"})
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
        out.fx.append({"op": "topic", "text": arg})
        out.topic = _topic_text(arg, meeting.meeting_topic)


def _meetingtopic(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    text = None if arg.lower() in ("", "none", "unset") else arg
    out.fx.append({"op": "meetingtopic", "text": text})
    out.topic = _topic_text(meeting.topic, text)


def _item(kind: str) -> Callable[[Meeting, Said, Env, str, Outcome], None]:
    def add(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
        if arg:
            out.fx.append({"op": "item", "kind": kind, "text": arg})
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
            out.fx.append({"op": "chair", "id": who, "nick": nick})
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
            out.fx.append({"op": "unchair", "id": who})
    out.said.append("Current chairs: " + " ".join(sorted(chairs.values(), key=str.lower)))


def _undo(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if not meeting.items:
        out.said.append("There is nothing in the minutes to undo.")
        return
    last = meeting.items[-1]
    out.fx.append({"op": "undo"})
    out.said.append(f"Removing item from minutes: {last.kind}: {last.text}")
    if last.kind == "TOPIC":
        previous = next((i.text for i in reversed(meeting.items[:-1]) if i.kind == "TOPIC"), "")
        out.topic = _topic_text(previous, meeting.meeting_topic)


def _save(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.save = True


def _restrict(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.fx.append({"op": "restrictlogs"})
    out.said.append("Restricting the minutes: they will be readable only by the bot's "
                    "user, and not published")


def _lurk(on: bool) -> Callable[[Meeting, Said, Env, str, Outcome], None]:
    def set_lurk(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
        out.fx.append({"op": "lurk", "on": on})
    return set_lurk


def _meetingname(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    name = normalise_name(arg)
    if not name:
        out.said.append(f"{line.nick}: usage: #meetingname NAME")
        return
    out.fx.append({"op": "name", "name": name})
    out.said.append(f"The meeting name has been set to '{name}'")


def _nick(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if _nicks(arg):
        out.fx.append({"op": "nicks", "nicks": _nicks(arg)})


def _present(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    others = _nicks(arg)
    if others:  # the speaker is already counted: they said this line
        out.fx.append({"op": "nicks", "nicks": others})


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
    fx: dict[str, Any] = {"op": "startvote", "question": question.strip() + "?",
                          "options": options}
    if body is not None:
        fx.update(body=body.id, body_name=body.name, members=list(body.members),
                  quorum=body.quorum, threshold=body.threshold)
    out.fx.append(fx)
    out.said += [f"Begin voting on: {fx['question']} Valid vote options are "
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
    out.fx.append({"op": "vote", "voter": voter, "option": option, "person": env.person})
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
    out.fx.append({"op": "endvote"})
    out.said.append(f'Voted on "{result.question}" Results are')
    out.said += [f"{c.option} ({len(c.voters)}): {', '.join(c.voters)}".rstrip(": ")
                 for c in result.counts]
    if result.non_binding:
        out.said.append(f"Non-binding: {result.non_binding}")
    if result.verdict:
        out.said.append(result.verdict)


def _commands(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.said.append("Available commands: " + " ".join("#" + c for c in ALL_COMMANDS))


def _startmeeting(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.said.append(f"Can't start another meeting, one is in progress (started by "
                    f"{meeting.owner_nick}).")


_HANDLERS: dict[str, Callable[[Meeting, Said, Env, str, Outcome], None]] = {
    "endmeeting": _end, "topic": _topic, "meetingtopic": _meetingtopic,
    "agreed": _item("AGREED"), "accepted": _item("ACCEPTED"), "rejected": _item("REJECTED"),
    "chair": _chair, "unchair": _unchair, "undo": _undo, "save": _save,
    "restrictlogs": _restrict, "lurk": _lurk(True), "unlurk": _lurk(False),
    "startvote": _startvote, "endvote": _endvote, "startmeeting": _startmeeting,
    "action": _item("ACTION"), "info": _item("INFO"), "idea": _item("IDEA"),
    "help": _item("HELP"), "link": _item("LINK"), "nick": _nick, "vote": _vote,
    "showvote": _showvote, "commands": _commands, "meetingname": _meetingname,
    "present": _present,
}
