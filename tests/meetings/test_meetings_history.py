"""Lines said while the bot was away: journaled from history once, in order, or a gap
marked in the log, the minutes and (once) the channel."""

from __future__ import annotations

import datetime as dt

from govbot.actions import Append
from govbot.irc.events import IrcMessage
from tests.meetings.kit import CHANNEL, Bot, file_of, minutes, texts


async def away_and_back() -> tuple[Bot, dt.datetime]:
    """A meeting with two lines, a restart, and the bot's JOIN; returns the restarted bot
    and the time of the last line it journaled."""
    bot = Bot()
    await bot.say("ada", "#startmeeting tc")
    await bot.say("farah", "before the crash")
    last = bot.now
    bot.now += dt.timedelta(seconds=40)
    again = bot.restarted()
    await again.join()
    return again, last


def played_back(bot: Bot, nick: str, text: str, seconds: int, msgid: str | None = None,
                last: dt.datetime | None = None) -> IrcMessage:
    base = last or bot.now
    return IrcMessage(target=CHANNEL, channel=CHANNEL, nick=nick, account=nick, text=text,
                      time=base + dt.timedelta(seconds=seconds), msgid=msgid, history=True)


async def test_played_back_lines_are_journaled_once_in_order() -> None:
    bot, last = await away_and_back()
    history = [played_back(bot, "ada", "farah: are you there?", -30, "m1", last),
               played_back(bot, "farah", "#info said while the bot was down", 5, "m2", last),
               played_back(bot, "ada", "#agreed keep going", 10, "m3", last)]
    older = played_back(bot, "farah", "before the crash", 0, None, last)  # journaled already
    for line in [older, *history, *history]:  # played back twice (a reconnect)
        await bot.line(line)
    said = texts(await bot.say("ada", "#endmeeting"))
    assert not any("not seen by the bot" in s for s in said)
    log = file_of(minutes(bot.actions), "log.txt")
    said_lines = [line.split(" ", 1)[1] for line in log.splitlines()
                  if not line.split(" ", 1)[1].startswith("<govbot>")]
    assert said_lines[-3:] == ["<farah> #info said while the bot was down",
                                 "<ada> #agreed keep going", "<ada> #endmeeting"]
    assert log.count("said while the bot was down") == 1
    assert log.count("keep going") == 1 and "are you there" not in log
    meeting_txt = file_of(minutes(bot.actions), "txt")
    assert "AGREED: keep going" in meeting_txt and "INFO: said while the bot was down" in \
        meeting_txt
    entries = [a.entry for a in bot.actions if isinstance(a, Append) and a.entry]
    assert [e.get("msgid") for e in entries if e.get("history")] == ["m2", "m3"]


async def test_without_history_the_gap_is_marked_once() -> None:
    bot, last = await away_and_back()
    joined = bot.now
    said = texts(await bot.say("ada", "anyone?"))
    assert said == [f"Note: lines between {last:%H:%M:%S} and {joined:%H:%M:%S} were not "
                    "seen by the bot (it was away and no channel history covered them): "
                    "they are not in the log or the minutes."]
    assert texts(await bot.say("ada", "still here")) == []  # said once
    written = minutes(await bot.say("ada", "#endmeeting"))
    assert f"*** lines between {last:%H:%M:%S} and" in file_of(written, "log.txt")
    text = file_of(written, "txt")
    assert f"GAP: lines between {last:%H:%M:%S} and {joined:%H:%M:%S} were not seen by the" \
        in text
    assert "(, " not in text  # the bot's own item has no nick
    assert '<span class="GAP">lines between' in file_of(written, "html")


async def test_history_that_starts_late_leaves_a_gap_before_it() -> None:
    bot, last = await away_and_back()
    await bot.line(played_back(bot, "farah", "only the newest lines", 20, "m9", last))
    said = texts(await bot.say("ada", "back"))
    first = last + dt.timedelta(seconds=20)
    assert said[0].startswith(f"Note: lines between {last:%H:%M:%S} and {first:%H:%M:%S} "
                              "were not seen")


async def test_a_played_back_command_is_not_answered_twice_by_the_core() -> None:
    # The service submits a history line as an IrcMessage, never as a command event:
    # only the meetings plugin reads it (as MeetBot would have, had it been there).
    bot, last = await away_and_back()
    actions = await bot.line(played_back(bot, "ada", "#topic Said while away", 5, "t1", last))
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None and meeting.topic == "Said while away"
    assert any(isinstance(a, Append) and a.entry.get("history") for a in actions)
