"""What each MeetBot command does: the steps of the interpreter (`commands.interpret`).

A step reads the meeting (as folded so far), the line, the `Env` the plugin looked up
beforehand and the command's argument; it appends the line's effects (typed, see
`effects.py`) and the bot's answers to the `Outcome`. Steps are pure: the same
journal replays to the same meeting, live, resumed or recovered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .effects import (
    AddChair,
    AddItem,
    Alias,
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
    identity_of,
    irc_lower,
    normalise_name,
)
from .policy import StartCheck
from .votes import decide

#: A line that starts with one of these is a LINK item (MeetBot's list: test_urlMatching).
BARE_URL = re.compile(r"(?:(?:https?|ftp|ircs?|ssh)://|mailto:)\S", re.IGNORECASE)
ORPHAN_AFTER = dt.timedelta(minutes=60)
#: A step: (meeting, line, env, argument, outcome to fill in).
Step = Callable[["Meeting", "Said", "Env", str, "Outcome"], None]


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
    channel_topic: str | None = None  # the channel's topic before #startmeeting (None: unknown)
    # irc_lower(nick) -> in the channel now, for the nicks #chair names (absent: unknown)
    present: Mapping[str, bool] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    fx: list[Effect] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    topic: str | None = None  # a channel topic to set
    started: bool = False
    end: bool = False
    save: bool = False


def start(line: Said, env: Env, arg: str, out: Outcome) -> None:
    if env.identity is None:
        out.said.append(f"{line.nick}: to start a meeting you must be logged in to services: "
                        "a meeting's chair is recognised by account, not by nick")
        return
    check = env.start or StartCheck(True)
    if not check.allowed:
        out.said.append(f"{line.nick}: cannot start a meeting here: {check.refusal}")
        return
    name = normalise_name(arg or check.scheduled_name)
    if not name:  # OpenStack's MeetBot: a meeting is always named by its starter
        out.said.append("Error: A meeting name is required to start a meeting, "
                        "e.g. '#startmeeting tc'.")
        return
    out.fx.append(StartMeeting(line.channel, env.identity, name, arg or None,
                               bool(check.sanctioned), env.channel_topic))
    out.started = True
    # MeetBot sets the topic at once; hcoop-meetbot's form when there is no #topic yet.
    out.topic = topic_text("", arg or name)
    out.said += [f"Meeting started {asctime(line.time)} UTC. The chair is {line.nick}.",
                 "Useful commands: #action #agreed #help #info #idea #link #topic "
                 "#startvote.",
                 f"The meeting name has been set to '{name}'"]
    if check.hint:
        out.said.append(f"Note: {check.hint}")


def asctime(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%a %b %d %H:%M:%S %Y")


def topic_text(current: str, meeting_topic: str | None) -> str | None:
    if current and meeting_topic:
        return f"{current} (Meeting topic: {meeting_topic})"
    return current or meeting_topic or None  # never an empty or "(Meeting topic: x)" topic


# -- handlers: (meeting, line, env, arg, out) ---------------------------------------------
def end(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.fx.append(EndMeeting())
    out.end = True
    if meeting.channel_topic is not None:  # MeetBot restores the topic it found
        out.topic = meeting.channel_topic
    out.said.append(f"Meeting ended {asctime(line.time)} UTC.")
    if meeting.restricted:
        out.said.append("The minutes are restricted (#restrictlogs): not published.")
    elif env.links is not None:
        out.said += url_lines(env.links(meeting))


def url_lines(links: Mapping[str, str]) -> list[str]:
    """MeetBot's three lines naming the minutes at #endmeeting."""
    return [f"Minutes:        {links['html']}", f"Minutes (text): {links['txt']}",
            f"Log:            {links['log.html']}"]


def topic(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if arg:
        out.fx.append(NewTopic(arg))
        out.topic = topic_text(arg, meeting.meeting_topic)


def meetingtopic(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    text = None if arg.lower() in ("", "none", "unset") else arg
    out.fx.append(MeetingTopic(text))
    out.topic = topic_text(meeting.topic, text)


def item(kind: str) -> Callable[[Meeting, Said, Env, str, Outcome], None]:
    def add(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
        if arg:
            out.fx.append(AddItem(kind, arg))
    return add


def nicks(arg: str) -> list[str]:
    return [n for n in re.split(r"[,\s]+", arg) if n]


def chair(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    added: dict[str, str] = {}
    for nick in nicks(arg):
        if env.present.get(irc_lower(nick)) is False:
            out.said.append(f"Warning: Nick not in channel: {nick}")
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


def unchair(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    chairs = {meeting.owner: meeting.owner_nick, **meeting.chairs}
    for nick in nicks(arg):
        folded = irc_lower(nick)
        who = next((i for i, n in chairs.items() if irc_lower(n) == folded),
                   env.resolved.get(folded))
        if who == meeting.owner:
            out.said.append(f"{meeting.owner_nick} started the meeting and stays its chair")
        elif who in chairs:
            del chairs[who]
            out.fx.append(RemoveChair(who))
    out.said.append("Current chairs: " + " ".join(sorted(chairs.values(), key=str.lower)))


def undo(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if not meeting.items:
        out.said.append("There is nothing in the minutes to undo.")
        return
    last = meeting.items[-1]
    out.fx.append(Undo())
    out.said.append(f"Removing item from minutes: {last.kind}: {last.text}")
    if last.kind == "TOPIC":
        previous = next((i.text for i in reversed(meeting.items[:-1]) if i.kind == "TOPIC"), "")
        out.topic = topic_text(previous, meeting.meeting_topic)


def save(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.save = True


def restrict(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.fx.append(RestrictLogs())
    out.said.append("Restricting the minutes: they will be readable only by the bot's "
                    "user, and not published")


def lurk(on: bool) -> Callable[[Meeting, Said, Env, str, Outcome], None]:
    def set_lurk(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
        out.fx.append(Lurk(on))
    return set_lurk


def meetingname(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    name = normalise_name(arg)
    if not name:
        out.said.append(f"{line.nick}: usage: #meetingname NAME")
        return
    out.fx.append(Rename(name))
    out.said.append(f"The meeting name has been set to '{name}'")


def nick(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if nicks(arg):
        out.fx.append(Attendees(tuple(nicks(arg))))


def here(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    """hcoop-meetbot's `#here [ALIAS]`: present (this line counts), and also known as ALIAS
    when action items are assigned."""
    alias = arg.split()[0] if arg.split() else ""
    if alias and irc_lower(alias) != irc_lower(line.nick):
        out.fx.append(Alias(alias))


def listchairs(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.said.append("Current chairs: " + " ".join(meeting.chair_nicks()))


def present(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    others = nicks(arg)
    if others:  # the speaker is already counted: they said this line
        out.fx.append(Attendees(tuple(others)))


def startvote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if _vote_open(meeting, out):
        return
    body, text = _body_of(env, arg)
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
    # The question as typed ("Merge 912399 ?" keeps its space): it is quoted back.
    _open_vote((question + mark).strip(), options, body, out)


MOTION_OPTIONS = ("+1", "-1", "0")


def motion(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    """meetingology's formal motion: `#motion TEXT`, then `#vote +1|-1|0`, `#close`."""
    if _vote_open(meeting, out):
        return
    body, text = _body_of(env, arg)
    if not text.strip():
        out.said.append(f"{line.nick}: usage: #motion [BODY] TEXT (then #vote +1, -1 or 0)")
        return
    _open_vote(text.strip(), list(MOTION_OPTIONS), body, out)


def _vote_open(meeting: Meeting, out: Outcome) -> bool:
    if meeting.poll is not None:
        out.said.append(f'A vote is already in progress: "{meeting.poll.question}" '
                        "(#endvote it first)")
    return meeting.poll is not None


def _body_of(env: Env, arg: str) -> tuple[Electorate | None, str]:
    first, _, rest = arg.partition(" ")
    body = env.bodies.get(first.lower()) if rest else None
    return body, rest if body is not None else arg


def _open_vote(question: str, options: list[str], body: Electorate | None,
               out: Outcome) -> None:
    fx = StartVote(question, tuple(options))
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


def vote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
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


def showvote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    if meeting.poll is None:
        out.said.append(f"{line.nick}: no vote is in progress")
        return
    result = decide(meeting.poll)
    out.said.append(f'"{meeting.poll.question}" so far: {result.tally}')
    if result.non_binding:
        out.said.append(f"Non-binding: {result.non_binding}")


def endvote(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
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


def startmeeting(meeting: Meeting, line: Said, env: Env, arg: str, out: Outcome) -> None:
    out.said.append(f"Can't start another meeting, one is in progress (started by "
                    f"{meeting.owner_nick}).")
