"""Outgoing IRC: splitting at the protocol's byte limit, a token bucket, and the send queue.

pydle 1.2.0 defines flood-control constants but never uses them, and a flood
disconnect ("Excess Flood") loses everything queued on the server side, so the bot
paces itself: every line after registration goes through one queue drained at the
token bucket's rate by one task. Waiting is `asyncio.sleep`, never `time.sleep`:
the event loop keeps serving Gerrit and the dispatcher while IRC is throttled.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

#: RFC 1459/2812: a line is at most 512 bytes including the CR LF. IRCv3 tags sent by
#: the server have their own separate budget and do not count against it.
LINE_LIMIT = 512
#: Conservative lengths for the part of the relayed line the *server* adds in front:
#: ":nick!user@host ". 63 is HOSTLEN on the common ircds; user names are cut to 10
#: (USERLEN), plus a "~" when there is no ident.
HOST_LIMIT = 63
USER_LIMIT = 10

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` UTF-8 bytes each.

    Lines break at CR/LF (IRC cannot carry them) and empty lines are dropped (servers
    answer 412 "no text to send"). A line longer than `limit` is cut at the last space
    that fits, which is dropped, so joining the pieces of one line with single spaces
    gives it back; a word longer than `limit` is cut inside the word, but never inside
    a UTF-8 character. NUL bytes are removed and lone surrogates become "?".
    """
    if limit < 4:  # room for the longest UTF-8 character
        raise ValueError(f"byte limit {limit} is too small")
    text = text.replace("\0", "").encode("utf-8", "replace").decode("utf-8")
    pieces: list[str] = []
    for line in _LINE_BREAK.split(text):
        while line:
            data = line.encode("utf-8")
            if len(data) <= limit:
                pieces.append(line)
                break
            # The longest prefix that fits, in characters: decoding the first `limit`
            # bytes drops a character cut in half.
            fits = len(data[:limit].decode("utf-8", "ignore"))
            space = line.rfind(" ", 0, fits + 1)  # a space just after the prefix is fine
            if space > 0:
                pieces.append(line[:space])
                line = line[space + 1:]
            else:
                pieces.append(line[:fits])
                line = line[fits:]
    return pieces


def text_budget(command: str, target: str, *, nick: str, username: str,
                own_prefix: str | None = None, nick_limit: int = 0) -> int:
    """Bytes left for the text of `COMMAND target :text` once relayed by the server.

    Receivers get ":nick!user@host COMMAND target :text\\r\\n", and the server truncates
    (or refuses) beyond 512 bytes, so the budget assumes the longest prefix the server
    could put in front of us unless the real one, seen in our own JOIN echo, is longer.
    """
    nick_len = max(len(nick.encode()), nick_limit)
    user_len = max(len(username.encode()) + 1, USER_LIMIT)
    prefix = max(nick_len + 1 + user_len + 1 + HOST_LIMIT,
                 len(own_prefix.encode()) if own_prefix else 0)
    overhead = 1 + prefix + 1 + len(command) + 1 + len(target.encode()) + 2 + 2
    return LINE_LIMIT - overhead


class TokenBucket:
    """`burst` lines at once, then `per_second` on average. The clock is injectable."""

    def __init__(self, burst: int, per_second: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("rate: burst must be >= 1 and per_second > 0")
        self.burst = burst
        self.per_second = per_second
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.per_second)
        self._stamp = now

    def seconds_until_full(self) -> float:
        """How long until a whole burst may be sent again (0: it may now)."""
        self._refill()
        return max(0.0, (self.burst - self._tokens) / self.per_second)

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.per_second

    def reserve(self) -> float:
        """Take a token now, possibly on credit; return how long to wait before using it.

        Reserving (the balance may go negative) keeps waiters in order and needs no
        polling: the wait is exactly the time the bucket needs to refill.
        """
        self._refill()
        self._tokens -= 1
        return max(0.0, -self._tokens / self.per_second)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)


class Lane(IntEnum):
    """Drained strictly in this order."""

    CONTROL = 0  # JOIN, NICK, WHOIS, IDENTIFY: belong to the current connection
    PRIORITY = 1  # command replies, topics
    BULK = 2  # announcements, reminders


@dataclass(slots=True)
class Outgoing:
    """One message (or command) waiting to be sent."""

    command: str  # PRIVMSG, NOTICE, TOPIC, JOIN, NICK, WHOIS, ...
    target: str
    text: str | None = None  # the trailing parameter; None for commands without one
    lane: Lane = Lane.BULK
    split: bool = True  # PRIVMSG/NOTICE text is split; a TOPIC is cut to one line
    queued_at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class QueueStats:
    queued: int = 0  # messages accepted
    sent_lines: int = 0
    sent_messages: int = 0
    dropped: int = 0  # messages not delivered: droppable mode while offline, or overflow


class SendQueue:
    """Three lanes of outgoing messages that survive reconnects.

    A connection opens the queue in two steps: `open_control()` once registered (only
    CONTROL commands flow: IDENTIFY, JOINs), then `set_online(True)` when the channels
    are joined, so a message queued during an outage never overtakes the JOIN of its
    channel. While offline, PRIVMSG/NOTICE/TOPIC messages are kept and sent after the
    next connection is ready (unless `droppable`: then they are counted as dropped).
    CONTROL commands belong to one connection and are discarded when it ends. At most
    `max_queued` messages wait; beyond that the oldest bulk message is dropped and
    counted, so an outage of days cannot grow memory without bound.
    """

    def __init__(self, *, droppable: bool = False, max_queued: int = 2000) -> None:
        self.droppable = droppable
        self.max_queued = max_queued
        self.stats = QueueStats()
        self.online = False  # messages flow
        self.control_open = False  # session commands flow (connected and registered)
        self._lanes: tuple[deque[Outgoing], ...] = (deque(), deque(), deque())
        # The head message of a lane that is being sent line by line, split already.
        self._pending_lines: dict[Lane, deque[str]] = {}
        self._sendable = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()

    def __len__(self) -> int:
        return sum(len(lane) for lane in self._lanes)

    def messages_waiting(self) -> int:
        return len(self._lanes[Lane.PRIORITY]) + len(self._lanes[Lane.BULK])

    def put(self, item: Outgoing) -> bool:
        """Queue an item; False when it was dropped (and counted) instead."""
        if item.lane is Lane.CONTROL:
            if not self.control_open:
                return False  # the next connection makes its own JOINs and WHOISes
        else:
            self.stats.queued += 1
            if self.droppable and not self.control_open:
                self.stats.dropped += 1
                return False
            if self.messages_waiting() >= self.max_queued:
                self._drop_oldest()
        self._lanes[item.lane].append(item)
        self._changed()
        return True

    def _drop_oldest(self) -> None:
        for lane in (Lane.BULK, Lane.PRIORITY):
            if self._lanes[lane]:
                self._lanes[lane].popleft()
                self._pending_lines.pop(lane, None)
                self.stats.dropped += 1
                return

    def open_control(self) -> None:
        """Registered: session commands may flow; messages wait for `set_online(True)`."""
        self.control_open = True
        self._changed()

    def set_online(self, online: bool) -> None:
        """Mark the connection ready or gone; going offline discards session commands."""
        self.online = online
        if online:
            self.control_open = True
        else:
            self.control_open = False
            self._lanes[Lane.CONTROL].clear()
            self._pending_lines.pop(Lane.CONTROL, None)
            if self.droppable:
                for lane in (Lane.PRIORITY, Lane.BULK):
                    self.stats.dropped += len(self._lanes[lane])
                    self._lanes[lane].clear()
                    self._pending_lines.pop(lane, None)
        self._changed()

    def _open_lanes(self) -> tuple[Lane, ...]:
        if self.online:
            return (Lane.CONTROL, Lane.PRIORITY, Lane.BULK)
        return (Lane.CONTROL,) if self.control_open else ()

    def _changed(self) -> None:
        if any(self._lanes[lane] for lane in self._open_lanes()):
            self._sendable.set()
        else:
            self._sendable.clear()
        if any(self._lanes):
            self._empty.clear()
        else:
            self._empty.set()

    async def wait_sendable(self) -> None:
        await self._sendable.wait()

    async def wait_empty(self) -> None:
        await self._empty.wait()

    def next_line(self, render: Callable[[Outgoing], list[str]]) -> tuple[str, Lane] | None:
        """Remove and return the next wire line (without CR LF) and its lane.

        Lanes are served in order (control, priority, bulk), only those open.
        `render` turns a message into its wire lines at send time, when the budget
        (which depends on the current nick and host) is known. A message split into
        several lines stays at the head of its lane until its last line is out, so a
        reply never interleaves with another message in the same lane.
        """
        for key in self._open_lanes():
            lane = self._lanes[key]
            if not lane:
                continue
            lines = self._pending_lines.get(key)
            if lines is None:
                lines = self._pending_lines[key] = deque(render(lane[0]))
            if not lines:  # nothing to send (empty text)
                lane.popleft()
                del self._pending_lines[key]
                self._changed()
                return self.next_line(render)
            line = lines.popleft()
            self.stats.sent_lines += 1
            if not lines:
                item = lane.popleft()
                del self._pending_lines[key]
                if item.lane is not Lane.CONTROL:
                    self.stats.sent_messages += 1
                self._changed()
            return line, key
        return None

    def push_back(self, line: str, lane: Lane) -> None:
        """Return a line that could not be written (connection lost) to its lane's head."""
        self.stats.sent_lines -= 1
        pending = self._pending_lines.get(lane)
        if pending is not None:
            pending.appendleft(line)
        else:
            # The message had no lines left: re-queue it as a raw line.
            self._lanes[lane].appendleft(Outgoing("RAW", "", line, lane, split=False))
            self._pending_lines[lane] = deque([line])
            if lane is not Lane.CONTROL:
                self.stats.sent_messages -= 1
        self._changed()
