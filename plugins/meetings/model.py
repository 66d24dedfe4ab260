"""A meeting's state as a pure fold over its journal.

Every line said in the channel while a meeting is open becomes one journal entry
(`Append(journal=<meeting id>, entry=...)`) carrying what the line *did* (its
effects, decided once by the command interpreter) and what the bot answered. The
state below is rebuilt by applying the entries in order, so a restarted bot, the
`govbot minutes` recovery command and the live plugin all see the same meeting.
Effects are data decided at the time (e.g. "bob's account is now a chair"), never
re-decided on replay: a nick's account or the config may have changed since.

Entry shapes (JSON, `time` is ISO 8601 UTC):
- `{"type": "line", "time", "nick", "account", "id", "text", "action"?, "notice"?,
  "fx": [effect...]?, "said": [bot reply...]?}` — one line received;
- `{"type": "nick", "time", "old", "new"}` — a nick change in the channel;
- `{"type": "bot", "time", "said": [...], "fx"?}` — the bot on its own (resume, reminder);
- `{"type": "gap", "time", "from", "to", "said"?}` — the bot missed the lines said between
  `from` and `to` (it was away and no history covered them): a GAP item and log line.

A line entry may carry `msgid` (IRCv3) and `history: true` (played back after the bot
was away); `heard` keeps each journaled line's key so a line played back twice (or
both seen live and played back) is journaled once.

Effects are frozen dataclasses, one per `op` (`effects.py`: start, item, topic,
meetingtopic, chair, unchair, undo, name, lurk, restrictlogs, nicks, alias, startvote, vote,
endvote, end); the journal holds them in their `{"op": ...}` form (`effects.encode`),
which is also the form every journal written before they had types is in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    decode,
)
from .votes import Ballot, Poll, VoteResult, decide

NAME_MAX = 64
_NOT_SAFE = re.compile(r"[^a-z0-9]")

#: Item kinds as MeetBot prints them.
DECISIONS = ("AGREED", "ACCEPTED", "REJECTED", "FAILED", "INCONCLUSIVE")
ITEM_KINDS = ("TOPIC", *DECISIONS, "ACTION", "INFO", "IDEA", "HELP", "LINK", "VOTE", "GAP")


def normalise_name(text: str) -> str:
    """MeetBot's file name rule: lower case, every non-alphanumeric becomes `_`.

    Only ASCII letters and digits survive, so no name can hold `/`, `.` or `..`:
    whatever a participant types, the minutes stay inside their directory.
    """
    return _NOT_SAFE.sub("_", text.strip().lower())[:NAME_MAX]


def default_name(channel: str) -> str:
    return normalise_name(channel.lstrip("#&")) or "meeting"


def irc_lower(nick: str) -> str:
    # RFC 1459 case mapping: []\\~ are the upper case of {}|^ (what ngircd and most use).
    return nick.lower().translate(_RFC1459)


_RFC1459 = str.maketrans("[]\\~", "{}|^")


def identity_of(account: str | None, nick: str, trust_nicks: bool) -> str | None:
    """Who speaks, for authority: the services account; the nick only if trusted."""
    if account:
        return "account:" + account.casefold()
    return "nick:" + irc_lower(nick) if trust_nicks else None


def parse_time(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class LogLine:
    n: int  # 1-based: the anchor `l-N` in the HTML log
    time: dt.datetime
    kind: str  # msg | action | notice | bot | event
    nick: str  # "" for the bot and for events
    text: str


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # one of ITEM_KINDS
    text: str
    nick: str
    time: dt.datetime
    line: int
    vote: VoteResult | None = None


class Meeting:
    """Mutable while folding; only `apply` changes it."""

    __slots__ = ("_attendees", "_heard", "_nick_display", "_unkeyed", "aliases", "chairs",
                 "channel", "channel_topic", "ended", "id", "items",
                 "last_chair_time", "lines", "lurk", "meeting_topic", "minutes_suffix",
                 "name", "owner", "owner_nick", "poll", "restricted", "sanctioned", "started")

    def __init__(self, journal_id: str) -> None:
        self.id = journal_id
        self.channel = ""
        self.channel_topic: str | None = None
        self.name = ""
        self.owner = ""  # identity of the starter: never removable
        self.owner_nick = ""
        self.chairs: dict[str, str] = {}  # identity -> nick (as last seen)
        self.aliases: dict[str, str] = {}  # nick -> the other names it answers to (#here)
        self._heard: set[str] = set()  # see `heard`
        # (msgid, time, nick, text) of the lines journaled since `heard` was last read.
        self._unkeyed: list[tuple[str | None, dt.datetime, str, str]] = []
        self.started: dt.datetime | None = None
        self.ended: dt.datetime | None = None
        self.last_chair_time: dt.datetime | None = None
        self.lines: list[LogLine] = []
        self.items: list[Item] = []
        self._attendees: dict[str, int] = {}  # irc_lower(nick) -> lines said
        self._nick_display: dict[str, str] = {}
        self.meeting_topic: str | None = None
        self.lurk = False
        self.restricted = False
        self.sanctioned = False
        self.poll: Poll | None = None
        # After the minutes' `<name>.<date>` when another meeting has those file names
        # (the same name twice in one minute): "-2", "-3"...; "" in the common case.
        self.minutes_suffix = ""

    # -- reading ------------------------------------------------------------------------
    @property
    def is_started(self) -> bool:
        return self.started is not None

    @property
    def topic(self) -> str:
        """The current topic: the last #topic still in the minutes (an #undo reverts it)."""
        return next((i.text for i in reversed(self.items) if i.kind == "TOPIC"), "")

    @property
    def heard(self) -> set[str]:
        """line_key() of every line journaled. Keyed when asked (lines played back
        after an absence): a fold or a recovery of 10,000 lines needs no key."""
        if self._unkeyed:
            self._heard.update(line_key(*raw) for raw in self._unkeyed)
            self._unkeyed.clear()
        return self._heard

    def attendees(self) -> list[tuple[str, int]]:
        """(nick, lines said), most lines first, as MeetBot lists them."""
        pairs = [(self._nick_display[k], c) for k, c in self._attendees.items()]
        return sorted(pairs, key=lambda p: (-p[1], p[0].lower()))

    def is_chair(self, identity: str | None) -> bool:
        return identity is not None and (identity == self.owner or identity in self.chairs)

    def chair_nicks(self) -> list[str]:
        names = {self.owner: self.owner_nick, **self.chairs}
        return sorted(names.values(), key=str.lower)

    @property
    def human_lines(self) -> int:
        """Lines people said (the bot's own and channel events not counted)."""
        return sum(1 for line in self.lines if line.kind in ("msg", "action", "notice"))

    @property
    def last_heard(self) -> dt.datetime | None:
        """When the last line anyone said was journaled (history after it is new)."""
        return next((line.time for line in reversed(self.lines)
                     if line.kind in ("msg", "action", "notice")), None)

    def votes(self) -> list[VoteResult]:
        return [i.vote for i in self.items if i.vote is not None]

    # -- folding ------------------------------------------------------------------------
    @classmethod
    def fold(cls, journal_id: str, entries: Iterable[Mapping[str, Any]]) -> Meeting:
        meeting = cls(journal_id)
        for entry in entries:
            meeting.apply(entry)
        return meeting

    def apply(self, entry: Mapping[str, Any], *, time: dt.datetime | None = None) -> None:
        """Fold one entry. `time`: the entry's time when the caller has it as a datetime
        (recovery from a log builds entries from datetimes; `entry["time"]` is not read)."""
        kind = entry.get("type")
        time = parse_time(entry["time"]) if time is None else time
        if kind == "line":
            nick = entry["nick"]
            line_kind = "action" if entry.get("action") else (
                "notice" if entry.get("notice") else "msg")
            n = self._log(time, line_kind, nick, entry["text"])
            self._unkeyed.append((entry.get("msgid"), time, nick, entry["text"]))
            self._count(nick, 1)
            for fx in _effects(entry):
                self._effect(fx, n, time, nick)
            if self.is_chair(entry.get("id")):
                self.last_chair_time = time
        elif kind == "nick":
            old, new = entry["old"], entry["new"]
            self._log(time, "event", "", f"{old} is now known as {new}")
            # A trusted-nick chair (networks without services) follows their nick.
            key = "nick:" + irc_lower(old)
            if key in self.chairs:
                del self.chairs[key]
                self.chairs["nick:" + irc_lower(new)] = new
            if self.owner == key:
                self.owner, self.owner_nick = "nick:" + irc_lower(new), new
        elif kind == "minutes-name":  # the file names' suffix, decided at #save/#endmeeting
            self.minutes_suffix = entry.get("suffix", "")
        elif kind == "gap":
            start, end = parse_time(entry["from"]), parse_time(entry["to"])
            text = gap_text(start, end)
            n = self._log(time, "event", "", text)
            self.items.append(Item("GAP", text, "", time, n))
        for text in entry.get("said", ()):
            self._log(time, "bot", "", text)
        if kind == "bot":  # the bot acting on its own (ending a superseded meeting)
            for fx in _effects(entry):
                self._effect(fx, len(self.lines), time, "")

    def _log(self, time: dt.datetime, kind: str, nick: str, text: str) -> int:
        n = len(self.lines) + 1
        self.lines.append(LogLine(n, time, kind, nick, text))
        return n

    def _count(self, nick: str, lines: int) -> None:
        key = irc_lower(nick)
        self._attendees[key] = self._attendees.get(key, 0) + lines
        self._nick_display.setdefault(key, nick)

    def _effect(self, fx: Effect, n: int, time: dt.datetime, nick: str) -> None:
        match fx:
            case StartMeeting():
                self.channel = fx.channel
                self.name = normalise_name(fx.name or "") or default_name(self.channel)
                self.owner, self.owner_nick = fx.owner, nick
                self.started = self.last_chair_time = time
                self.sanctioned = bool(fx.sanctioned)
                self.meeting_topic = fx.topic or None
                self.channel_topic = fx.channel_topic
            case AddItem():
                self.items.append(Item(fx.kind, fx.text, nick, time, n))
            case NewTopic():
                self.items.append(Item("TOPIC", fx.text, nick, time, n))
            case MeetingTopic():
                self.meeting_topic = fx.text or None
            case AddChair():
                self.chairs[fx.id] = fx.nick
                self._count(fx.nick, 0)
            case RemoveChair():
                self.chairs.pop(fx.id, None)
            case Undo():
                if self.items:
                    self.items.pop()
            case Rename():
                self.name = normalise_name(fx.name) or self.name
            case Lurk():
                self.lurk = bool(fx.on)
            case RestrictLogs():
                self.restricted = True
            case Attendees():
                for other in fx.nicks:
                    self._count(other, 0)
            case Alias():
                self._count(nick, 0)
                self.aliases[nick] = fx.alias
            case StartVote():
                self.poll = Poll(question=fx.question, options=tuple(fx.options),
                                 body=fx.body, body_name=fx.body_name,
                                 members=frozenset(fx.members), quorum=fx.quorum,
                                 threshold=dict(fx.threshold) if fx.threshold is not None
                                 else None, line=n)
            case CastVote():
                if self.poll is not None:
                    self.poll.ballots[fx.voter] = Ballot(nick, fx.option, fx.person)
            case EndVote():
                if self.poll is not None:
                    result = decide(self.poll)
                    self.items.append(Item("VOTE", result.summary, nick, time, n,
                                           vote=result))
                    self.poll = None
            case EndMeeting():
                self.ended = time


def line_key(msgid: str | None, time: dt.datetime, nick: str, text: str) -> str:
    """What makes a line the same line when played back: its msgid, else server time
    (to the second: not every server gives milliseconds), nick and text."""
    if msgid:
        return "msgid:" + msgid
    # Shortcuts for the usual case (UTC, whole seconds): a fold computes one per line.
    utc = time if time.tzinfo is dt.UTC else time.astimezone(dt.UTC)
    stamp = (utc.replace(microsecond=0) if utc.microsecond else utc).isoformat()
    return f"said:{stamp}\x1f{irc_lower(nick)}\x1f{text}"


def gap_text(start: dt.datetime, end: dt.datetime) -> str:
    return (f"lines between {start.astimezone(dt.UTC):%H:%M:%S} and "
            f"{end.astimezone(dt.UTC):%H:%M:%S} were not seen by the bot")


def _effects(entry: Mapping[str, Any]) -> list[Effect]:
    """An entry's effects, typed; each is decoded from the journal's `{"op": ...}` form."""
    return [fx for raw in entry.get("fx", ()) if (fx := decode(raw)) is not None]
