"""Unit tests without servers: splitting, pacing, queueing, parsing, caching."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govbot.backoff import backoff
from govbot.commands import ParsedCommand, parse_command
from govbot.irc.accounts import AccountCache
from govbot.irc.client import parse_line, redact
from govbot.irc.events import IrcMessage, IrcPart, parse_server_time
from govbot.irc.sending import (
    LINE_LIMIT,
    Lane,
    Outgoing,
    SendQueue,
    TokenBucket,
    split_text,
    text_budget,
)

# --- splitting ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "limit", "pieces"), [
    ("short", 10, ["short"]),
    ("", 10, []),
    ("one two three", 7, ["one two", "three"]),
    ("one two three", 8, ["one two", "three"]),
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),  # no space: cut inside the word
    ("line one\nline two", 100, ["line one", "line two"]),
    ("a\r\n\r\nb\rc", 100, ["a", "b", "c"]),  # empty lines dropped
    ("nul\0byte", 100, ["nulbyte"]),
    ("\x02bold\x02 \x1ditalic\x1d", 100, ["\x02bold\x02 \x1ditalic\x1d"]),  # not line breaks
    ("ééééé", 5, ["éé", "éé", "é"]),  # 2-byte characters never cut in half
    ("日本語", 4, ["日", "本", "語"]),  # 3-byte
    ("🙂🙂", 5, ["🙂", "🙂"]),  # 4-byte
    ("ab 🙂🙂", 6, ["ab", "🙂", "🙂"]),
    ("word  two", 5, ["word ", "two"]),  # only the one space at the cut is dropped
])
def test_split_text(text: str, limit: int, pieces: list[str]) -> None:
    assert split_text(text, limit) == pieces


def test_split_text_replaces_lone_surrogates() -> None:
    assert split_text("bad \udce9 byte", 100) == ["bad ? byte"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")),
                        min_size=1, max_size=12), min_size=1, max_size=60),
       st.integers(min_value=48, max_value=400))
def test_split_words_reassemble_and_fit(words: list[str], limit: int) -> None:
    text = " ".join(words)
    pieces = split_text(text, limit)
    assert all(len(p.encode("utf-8")) <= limit for p in pieces)
    assert " ".join(pieces) == text  # words fit, so every cut was at a space


@given(st.text(max_size=600), st.integers(min_value=4, max_value=80))
def test_split_any_text_fits_and_keeps_the_non_spaces(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < len(p.encode("utf-8")) <= limit for p in pieces)
    clean = text.replace("\0", "").encode("utf-8", "replace").decode("utf-8")
    strip = str.maketrans("", "", " \r\n")
    assert "".join(pieces).translate(strip) == clean.translate(strip)


def test_budget_leaves_room_for_the_longest_prefix() -> None:
    budget = text_budget("PRIVMSG", "#openstack-tc", nick="govbot", username="govbot")
    worst = f":{'n' * 6}!{'u' * 10}@{'h' * 63} PRIVMSG #openstack-tc :".encode()
    assert len(worst) + budget + 2 <= LINE_LIMIT
    # NICKLEN from the server and a longer real prefix both shrink the budget.
    assert text_budget("PRIVMSG", "#x", nick="g", username="g", nick_limit=30) < \
        text_budget("PRIVMSG", "#x", nick="g", username="g")
    long_prefix = "govbot!govbot@" + "h" * 100
    assert text_budget("PRIVMSG", "#x", nick="govbot", username="govbot",
                       own_prefix=long_prefix) < text_budget("PRIVMSG", "#x", nick="govbot",
                                                             username="govbot")


# --- token bucket -----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(3, 2.0, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.try_take() == 0.0
    clock.now += 10  # refills only up to the burst
    assert [bucket.try_take() for _ in range(4)][-1] == pytest.approx(0.5)


def test_bucket_reservations_queue_up() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1, 4.0, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0.25, 0.5, 0.75])


def test_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1.0)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


async def test_bucket_acquire_sleeps_without_blocking_the_loop() -> None:
    bucket = TokenBucket(2, 50.0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    for _ in range(12):
        await bucket.acquire()
    elapsed = time.monotonic() - started
    task.cancel()
    assert elapsed == pytest.approx(10 / 50, abs=0.1)
    assert ticks > 10  # the loop kept running other tasks meanwhile


# --- the send queue ---------------------------------------------------------------------


def render(item: Outgoing) -> list[str]:
    if item.text is None:
        return [f"{item.command} {item.target}"]
    return [f"{item.command} {item.target} :{p}" for p in split_text(item.text, 10)]


def drain(queue: SendQueue) -> list[str]:
    lines = []
    while (taken := queue.next_line(render)) is not None:
        lines.append(taken[0])
    return lines


def test_queue_lanes_in_order_and_split_messages_stay_together() -> None:
    queue = SendQueue()
    queue.set_online(True)
    queue.put(Outgoing("PRIVMSG", "#a", "bulk one two three"))
    queue.put(Outgoing("PRIVMSG", "#a", "reply", lane=Lane.PRIORITY))
    queue.put(Outgoing("JOIN", "#b", None, Lane.CONTROL))
    first = queue.next_line(render)
    assert first == ("JOIN #b", Lane.CONTROL)
    queue.put(Outgoing("PRIVMSG", "#a", "late reply", lane=Lane.PRIORITY))
    assert drain(queue) == ["PRIVMSG #a :reply", "PRIVMSG #a :late reply",
                            "PRIVMSG #a :bulk one", "PRIVMSG #a :two three"]
    assert queue.stats.sent_messages == 3 and queue.stats.sent_lines == 5


def test_queue_keeps_messages_while_offline_but_not_session_commands() -> None:
    queue = SendQueue()
    assert queue.put(Outgoing("PRIVMSG", "#a", "kept"))
    assert not queue.put(Outgoing("WHOIS", "alice", None, Lane.CONTROL))
    queue.set_online(True)
    queue.put(Outgoing("JOIN", "#a", None, Lane.CONTROL))
    queue.set_online(False)
    queue.set_online(True)
    assert drain(queue) == ["PRIVMSG #a :kept"]
    assert queue.stats.dropped == 0


def test_messages_wait_until_the_session_commands_are_queued() -> None:
    queue = SendQueue()
    queue.put(Outgoing("PRIVMSG", "#a", "queued"))
    queue.open_control()  # registered: IDENTIFY and JOINs go first
    queue.put(Outgoing("JOIN", "#a", None, Lane.CONTROL))
    assert drain(queue) == ["JOIN #a"]
    queue.set_online(True)
    assert drain(queue) == ["PRIVMSG #a :queued"]


def test_droppable_queue_counts_instead_of_keeping() -> None:
    queue = SendQueue(droppable=True)
    queue.set_online(True)
    queue.put(Outgoing("PRIVMSG", "#a", "pending"))
    queue.set_online(False)  # what was waiting is dropped too
    assert not queue.put(Outgoing("PRIVMSG", "#a", "while offline"))
    assert queue.stats.dropped == 2 and len(queue) == 0


def test_queue_bound_drops_the_oldest_bulk_message() -> None:
    queue = SendQueue(max_queued=2)
    for n in range(3):
        queue.put(Outgoing("PRIVMSG", "#a", f"m{n}"))
    queue.put(Outgoing("PRIVMSG", "#a", "urgent", lane=Lane.PRIORITY))
    queue.set_online(True)
    assert drain(queue) == ["PRIVMSG #a :urgent", "PRIVMSG #a :m2"]
    assert queue.stats.dropped == 2


def test_push_back_resends_a_line_first() -> None:
    queue = SendQueue()
    queue.set_online(True)
    queue.put(Outgoing("PRIVMSG", "#a", "one"))
    queue.put(Outgoing("PRIVMSG", "#a", "two"))
    line, lane = queue.next_line(render) or ("", Lane.BULK)
    queue.push_back(line, lane)
    assert drain(queue) == ["PRIVMSG #a :one", "PRIVMSG #a :two"]


# --- commands ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "private", "expected"), [
    ("govbot: help", False, ParsedCommand("help", "", True)),
    ("govbot, help reload", False, ParsedCommand("help", "reload", True)),
    ("GovBot:help", False, ParsedCommand("help", "", True)),
    ("govbot :  vote  yes please ", False, ParsedCommand("vote", "yes please", True)),
    ("!help", False, ParsedCommand("help", "", False)),
    ("!Reload now", False, ParsedCommand("reload", "now", False)),
    ("!help", True, ParsedCommand("help", "", True)),
    ("help me", True, ParsedCommand("help", "me", True)),
    ("govbot: status", True, ParsedCommand("status", "", True)),
    ("hello govbot: help", False, None),
    ("govbot help", False, None),
    ("govbotx: help", False, None),
    ("!", False, None),
    ("! help", False, None),
    ("!!", False, None),
    ("!?", False, None),
    ("just chatting", False, None),
    ("govbot:", False, None),
    ("#startmeeting tc", False, None),
    ("", True, None),
])
def test_parse_command(text: str, private: bool, expected: ParsedCommand | None) -> None:
    assert parse_command(text, nick="govbot", prefix="!", private=private) == expected


def test_parse_command_other_prefix_and_nick() -> None:
    assert parse_command("%help", nick="gb_", prefix="%", private=False) == \
        ParsedCommand("help", "", False)
    assert parse_command("gb_: help", nick="gb_", prefix="%", private=False) == \
        ParsedCommand("help", "", True)
    assert parse_command("!help", nick="gb_", prefix="%", private=False) is None


# --- accounts, backoff, parsing, redaction --------------------------------------------------


def test_account_cache_learns_forgets_and_expires() -> None:
    clock = FakeClock()
    cache = AccountCache(str.lower, clock=clock, max_entries=2)
    cache.learn("Alice", "alice")
    cache.learn("bob", None)
    assert cache.lookup("alice", max_age=10) == (True, "alice")
    assert cache.lookup("BOB", max_age=10) == (True, None)  # known: not logged in
    clock.now += 11
    assert cache.lookup("alice", max_age=10) == (False, None)
    cache.learn("alice", "alice")
    cache.rename("alice", "alice_", keep=True)
    assert cache.lookup("alice_", max_age=10) == (True, "alice")
    assert cache.lookup("alice", max_age=10) == (False, None)
    cache.rename("alice_", "al", keep=False)
    assert cache.lookup("al", max_age=10) == (False, None)
    for nick in ("a", "b", "c"):
        cache.learn(nick, nick)
    assert len(cache) == 2 and cache.lookup("a", max_age=10) == (False, None)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    waits = [backoff(n, 1.0, 60.0, rng) for n in range(1, 12)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(60.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert max(waits) <= 60.0 and backoff(10_000, 1.0, 60.0) <= 60.0


def test_parse_line_is_lenient() -> None:
    message = parse_line(b"@account=alice;time=2024-05-01T12:00:00.123Z :alice!a@h "
                         b"PRIVMSG #tc :caf\xe9 \xff ok\r\n")
    assert message is not None
    assert message.command == "PRIVMSG"
    assert message.params == ["#tc", "caf\ufffd \ufffd ok"]
    assert message.tags["account"] == "alice"
    assert parse_line(b"\r\n") is None
    assert parse_line(b"@broken-tags-without-a-command\r\n") is None


@pytest.mark.parametrize(("line", "shown"), [
    ("AUTHENTICATE PLAIN", "AUTHENTICATE PLAIN"),
    ("AUTHENTICATE +", "AUTHENTICATE +"),
    ("AUTHENTICATE AGFsaWNlAHNlY3JldA==", "AUTHENTICATE <redacted>"),
    ("PASS hunter2", "PASS <redacted>"),
    ("PRIVMSG NickServ :IDENTIFY govbot hunter2", "PRIVMSG NickServ :IDENTIFY <redacted>"),
    ("privmsg nickserv :identify hunter2", "privmsg nickserv :identify <redacted>"),
    ("PRIVMSG #tc :IDENTIFY is a word", "PRIVMSG #tc :IDENTIFY is a word"),
])
def test_redact(line: str, shown: str) -> None:
    assert redact(line) == shown


def test_events_have_lanes_and_stable_ids() -> None:
    when = parse_server_time("2024-05-01T12:00:00.123Z")
    assert when == dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)
    assert parse_server_time("garbage") is None
    channel = IrcMessage("#TC", "#TC", "alice", "alice", "hi", {}, when)
    private = IrcMessage("govbot", None, "Alice", None, "hi", {}, when)
    assert channel.lane == "irc:#tc" and private.lane == "irc:alice"
    assert channel.id == IrcMessage("#TC", "#TC", "alice", "alice", "hi", {}, when).id
    assert channel.id != private.id
    assert IrcMessage("#tc", "#tc", "a", None, "x", {"msgid": "abc"}, when).id == "irc-abc"
    assert IrcPart("#TC", "bob", "quit", time=when).lane == "irc:#tc"
