"""An event's identity: the same event gets one id however it reached the bot.

The stream, the events-log, a webhook and a REST backfill each deliver a Gerrit event
in their own JSON; `event_id` digests what the event says and when, so the intake
can handle it once (see govbot/intake.py). The events module defines what an
event says (`_key()`) and when (`identity_time`) per type; this module only digests.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import msgspec

__all__ = ["Identified", "equivalent_ids", "event_id"]


class Identified(Protocol):
    """What an event offers for its id (every `govbot.gerrit.events.Event`)."""

    def _key(self) -> tuple[object, ...]: ...

    @property
    def identity_time(self) -> int: ...


_encode = msgspec.json.Encoder().encode


def event_id(event: Identified) -> str:
    """A stable id for an event, the same however it reached us.

    The stream, the events-log backfill and a webhook send one event in slightly
    different JSON (`project` as a string or an object, numbers as strings or ints,
    `changeKey.id` or `.key`, key order, with or without `eventCreatedOn`), and a
    REST backfill re-creates events with fewer fields; so the id digests what the
    event *says* (`_key()`: type, change, patch set, actor, the votes it changed,
    its comment...) and its time to the second (`identity_time`), not its bytes.
    It is what de-duplication compares. Two 32-bit checksums (64 bits) of msgspec's
    encoding are cheap on the hot path and enough to tell apart events sent close
    together.
    """
    return _digest(event._key(), event.identity_time)


def equivalent_ids(event: Identified) -> tuple[str, ...]:
    """`event_id` first, then the ids the same event has one second either side.

    A source that re-creates an event (the REST backfill takes the message's time,
    a webhook without `eventCreatedOn` the change's `lastUpdated`) can be a second
    off the stream's clock; the intake treats all three as the same event.
    """
    key, when = event._key(), event.identity_time
    if not when:
        return (_digest(key, when),)
    return (_digest(key, when), _digest(key, when - 1), _digest(key, when + 1))


def _digest(key: tuple[object, ...], when: int) -> str:
    data = _encode((*key, when))
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"
