"""Merging a burst of announcements about one change into one line, and the IRC reporter
driven through its IrcSender Protocol (no connection needed)."""

from __future__ import annotations

import asyncio

import pytest

from govbot.actions import Notice, Say, SetTopic
from govbot.irc.reporter import IrcReporter, merge

URL = "https://review.example.org/c/nova/+/42"


@pytest.mark.parametrize(("texts", "merged"), [
    ([f"alice proposed nova master: Fix it  {URL}"], f"alice proposed nova master: Fix it  {URL}"),
    ([f"alice proposed nova master: Fix it  {URL}",
      f"bob voted Code-Review+1 on nova master: Fix it  {URL}"],
     f"alice proposed; bob voted Code-Review+1 on nova master: Fix it  {URL}"),
    ([f"Merged nova master: Fix it  {URL}", f"Merged nova master: Fix it  {URL}"],
     f"Merged nova master: Fix it  {URL}"),
    (["tag 1.0 pushed", "something else entirely"], "tag 1.0 pushed | something else entirely"),
])
def test_merge(texts: list[str], merged: str) -> None:
    assert merge(texts) == merged


class RecordingSender:
    """An IrcSender that keeps what it is given: the reporter needs nothing more."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str, bool]] = []
        self.said = asyncio.Event()

    def say(self, target: str, text: str, *, priority: bool = False) -> bool:
        self.lines.append(("PRIVMSG", target, text, priority))
        self.said.set()
        return True

    def notice(self, target: str, text: str, *, priority: bool = False) -> bool:
        self.lines.append(("NOTICE", target, text, priority))
        return True

    def set_topic(self, channel: str, topic: str) -> bool:
        self.lines.append(("TOPIC", channel, topic, False))
        return False  # refused: the reporter only logs it


async def test_the_reporter_needs_only_a_sender() -> None:
    sender = RecordingSender()
    reporter = IrcReporter(sender, batch_window=60.0)
    await reporter.report(Say(target="#dev", text="hello", priority=True))
    await reporter.report(Notice(target="alice", text="psst"))
    await reporter.report(SetTopic(channel="#dev", topic="Agenda"))
    await reporter.report(Say(target="#dev", text=f"alice proposed nova: Fix  {URL}", batch="42"))
    await reporter.report(Say(target="#DEV", text=f"bob merged nova: Fix  {URL}", batch="42"))
    assert len(sender.lines) == 3  # the batch is held for its window
    reporter.flush()
    assert sender.lines == [
        ("PRIVMSG", "#dev", "hello", True), ("NOTICE", "alice", "psst", False),
        ("TOPIC", "#dev", "Agenda", False),
        ("PRIVMSG", "#dev", f"alice proposed; bob merged nova: Fix  {URL}", False)]


async def test_a_held_batch_is_said_when_its_window_ends() -> None:
    sender = RecordingSender()
    reporter = IrcReporter(sender, batch_window=0.01)
    await reporter.report(Say(target="#dev", text="one", batch="42"))
    await reporter.report(Say(target="#dev", text="two", batch="42"))
    async with asyncio.timeout(5):
        await sender.said.wait()
    assert sender.lines == [("PRIVMSG", "#dev", "one | two", False)]
