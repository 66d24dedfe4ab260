"""Minutes rendered again from a journal or a raw log, for `govbot minutes` (cli.py).

Two inputs are understood:

- an exported **journal**, JSON lines: one entry per line as the plugin journaled it
  (or `{"entry": {...}}` rows, as a state dump gives them). The minutes are exactly
  what the bot would have written: the journal is the meeting.
- a raw **text log** (MeetBot's `.log.txt`, or an IRC client's log with
  `[HH:MM(:SS)] <nick> text` lines). There are no accounts in a log, so authority
  goes by nick (the `#startmeeting` speaker and those they `#chair`); the bot's own
  lines are kept as they were said. A log without `#startmeeting` is taken whole,
  its first speaker as the chair.

The result is the `WriteMinutes` the bot would have returned, in the usual
`meetings/<name>/<YYYY>/...` layout; the command has the core's minutes reporter write
it (same path checks, same atomic writes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govbot.actions import MinutesFiles, WriteMinutes
from govbot.extensions import CliError

from .commands import Env, Said, interpret, link_item, parse
from .effects import encode
from .model import Meeting, default_name, identity_of, irc_lower, normalise_name
from .render import links, render

_LINE = re.compile(r"^\[?(?:(?P<date>\d{4}-\d{2}-\d{2})[T ])?(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
                   r"\]?\s+(?P<rest>.*)$")
_SAID = re.compile(r"^<[@+%&~ ]?(?P<nick>[^>\s]+)>\s?(?P<text>.*)$")
# MeetBot's own `[HH:MM:SS] <nick> text`, what _LINE then _SAID read, in one match.
_MEETBOT = re.compile(r"\[(\d{1,2}):(\d{2}):(\d{2})\]\s+<[@+%&~ ]?([^>\s]+)>\s?(.*)")
_ACTION = re.compile(r"^\*\s+(?P<nick>[^\s*]+)\s(?P<text>.*)$")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# The bot's own answers that say a vote is bound, and that a vote did not count: a log
# has no accounts, so these lines are what binds a vote again (steps.startvote, vote).
_BOUND = re.compile(r"^Only members of (?P<name>.+) \((?P<size>\d+)\) count; quorum "
                    r"(?P<quorum>\d+); it passes with (?P<rule>.+)\.$")
_BEGIN = re.compile(r"^Begin voting on: (?P<question>.+?) Valid vote options are ")
_NON_BINDING = re.compile(r"^(?P<nick>\S+): recorded as a non-binding vote")


def read_source(path: Path, date: dt.date | None) -> tuple[str, dt.date]:
    """The text of a journal or log file, and the day a raw log starts."""
    try:
        return path.read_text(encoding="utf-8", errors="replace"), date or _date_of(path)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def recover(text: str, what: str, out_dir: Path, *, url_base: str = "",
            bot_nick: str = "govbot", channel: str | None = None,
            date: dt.date | None = None, name: str | None = None) -> WriteMinutes:
    """The minutes of a journal's or a log's text, to be written under `out_dir`; `what`
    names the input in messages. CliError: not a journal or log (2), no meeting (1)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    meeting: Meeting | None
    try:
        if first.lstrip().startswith("{"):
            meeting = from_journal(text, Path(what).stem)
        else:
            meeting = from_log(text, date or dt.datetime.now(dt.UTC).date(),
                               channel=channel or "#meeting", bot_nick=bot_nick, name=name)
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{what}: not a meeting journal or log: {exc}") from None
    if meeting is None or not meeting.is_started:
        raise CliError(f"{what}: no meeting found", status=1)
    if name:
        meeting.name = normalise_name(name) or meeting.name
    files = render(meeting, bot_nick=bot_nick, url_base=url_base)
    return WriteMinutes(meeting=meeting.name, files=MinutesFiles(files), url_base=url_base,
                        directory=str(out_dir))


def from_journal(text: str, journal_id: str) -> Meeting:
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: {exc.msg}") from None
        entry = row.get("entry", row) if isinstance(row, dict) else None
        if not isinstance(entry, dict) or "type" not in entry:
            raise ValueError(f"line {number}: not a journal entry")
        journal_id = str(row.get("journal", journal_id))
        entries.append(entry)
    return Meeting.fold(journal_id, entries)


def _date_of(path: Path) -> dt.date:
    found = _DATE.search(path.name)
    if found:
        return dt.date(*(int(g) for g in found.groups()))
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()


def _parse_log(text: str, day: dt.date) -> Iterator[tuple[dt.datetime, str, str, str]]:
    """(time, kind, nick, text) per line; the day rolls over when the clock goes back."""
    last: dt.datetime | None = None
    hour = dt.timedelta(hours=1)
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        kind: str | None = "msg"
        if usual := _MEETBOT.fullmatch(line):
            hours, minutes, seconds, nick, words = usual.groups()
        else:
            match = _LINE.match(line)
            if match is None:
                continue
            if match.group("date"):
                day = dt.date.fromisoformat(match.group("date"))
            hours, minutes, seconds = [*match.group("time").split(":"), "0"][:3]
            rest = match.group("rest")
            if said := _SAID.match(rest):
                nick, words = said.group("nick"), said.group("text")
            elif action := _ACTION.match(rest):
                kind, nick, words = "action", action.group("nick"), action.group("text")
            else:
                kind = None  # not a line said; its time still counts for the day
        when = dt.datetime(day.year, day.month, day.day, int(hours) % 24, int(minutes),
                           int(seconds), tzinfo=dt.UTC)
        if last is not None and when < last - hour:
            day += dt.timedelta(days=1)
            when += dt.timedelta(days=1)
        last = when
        if kind is not None:
            yield when, kind, nick, words


def from_log(text: str, day: dt.date, *, channel: str, bot_nick: str,
             name: str | None = None) -> Meeting | None:
    """Replay a text log through the interpreter, with authority by nick."""
    # (time, kind, nick, text, parsed command): each line parsed once.
    rows = [(when, kind, nick, said, parse(said) if kind == "msg" and nick != bot_nick
             else None) for when, kind, nick, said in _parse_log(text, day)]
    if not rows:
        return None
    starts = [i for i, row in enumerate(rows) if (row[4] or ("", ""))[0] == "startmeeting"]
    begin = starts[0] if starts else 0
    meeting = Meeting(f"{channel}/recovered")
    if not starts:  # a partial log: its first speaker chairs it
        first = next(r for r in rows if r[2] != bot_nick)
        meeting.apply({"type": "line", "nick": first[2],
                       "id": identity_of(None, first[2], True), "text": first[3],
                       "fx": [{"op": "start", "channel": channel, "name": name or "",
                               "owner": identity_of(None, first[2], True)}]}, time=first[0])
        begin = rows.index(first) + 1
    ended = False
    identities: dict[str, str | None] = {}  # nick -> identity_of (a log has a few dozen)
    for when, kind, nick, said_text, parsed in rows[begin:]:
        if ended and nick != bot_nick:
            break  # the bot's answers to #endmeeting belong to the meeting; the rest not
        if nick == bot_nick:
            meeting.apply({"type": "bot", "said": [said_text]}, time=when)
            _rebind(meeting, said_text)
            continue
        if nick not in identities:
            identities[nick] = identity_of(None, nick, True)
        identity = identities[nick]
        # The entry `Meeting.apply` folds, its time given as the datetime it is.
        entry: dict[str, Any] = {"type": "line", "nick": nick, "id": identity,
                                 "text": said_text}
        if kind == "action":
            entry["action"] = True
        if parsed is None:  # no command (what `interpret` does then, without an Env)
            item = link_item(said_text) if kind == "msg" and meeting.is_started else None
            if item is not None:
                entry["fx"] = [encode(item)]
            if meeting.is_started:
                meeting.apply(entry, time=when)
            continue
        if parsed == ("startmeeting", "") and not meeting.is_started:
            # A log of a MeetBot that allowed no name: recovered under the channel's.
            parsed = ("startmeeting", name or default_name(channel))
        env = Env(now=when, identity=identity, trust_nicks=True, can_resolve=False,
                  links=lambda m: links(m, ""))
        line = Said(channel, when, nick, None, said_text, action=kind == "action")
        out = interpret(meeting if meeting.is_started else None, line, env, parsed)
        if out.fx:
            entry["fx"] = [encode(fx) for fx in out.fx]  # what was said back is logged
        if meeting.is_started or out.started:
            meeting.apply(entry, time=when)
            if any(fx.op == "vote" for fx in out.fx):
                _bound_ballot(meeting, nick)
        ended = ended or out.end
    return meeting


def _rebind(meeting: Meeting, said: str) -> None:
    """The bot's lines of a log that bind the vote in progress to a body again.

    The log names the body, its size, quorum and rule but not its members: each voter
    counts as a member (`_bound_ballot`) unless the bot answered that their vote was
    non-binding, which it does for every non-member.
    """
    poll = meeting.poll
    if poll is None:
        return
    if begin := _BEGIN.match(said):  # without the body's name the question has it
        poll.question = begin.group("question")
    elif (bound := _BOUND.match(said)) and poll.body is None:
        rule = bound.group("rule")
        needed = re.match(r"(\d+) votes", rule)
        poll.body = poll.body_name = bound.group("name")
        poll.quorum = int(bound.group("quorum"))
        poll.threshold = ({"kind": "count", "needed": int(needed.group(1))} if needed
                          else {"kind": "majority"})
        poll.members = frozenset(f"seat:{n}" for n in range(int(bound.group("size"))))
    elif (other := _NON_BINDING.match(said)) and poll.body is not None:
        person = "log:" + irc_lower(other.group("nick"))
        if person in poll.members:
            poll.members = (poll.members - {person}) | {f"seat:{len(poll.members)}"}
        for ballot_key, ballot in list(poll.ballots.items()):
            if ballot.person == person:
                poll.ballots[ballot_key] = dataclasses.replace(ballot, person=None)


def _bound_ballot(meeting: Meeting, nick: str) -> None:
    """A vote just cast in a rebound poll: the voter takes a member's seat."""
    poll = meeting.poll
    if poll is None or poll.body is None:
        return
    person = "log:" + irc_lower(nick)
    for key, ballot in list(poll.ballots.items()):
        if irc_lower(ballot.nick) == irc_lower(nick) and ballot.person is None:
            poll.ballots[key] = dataclasses.replace(ballot, person=person)
            if person not in poll.members:
                seats = sorted(m for m in poll.members if m.startswith("seat:"))
                if seats:
                    poll.members = (poll.members - {seats[-1]}) | {person}

