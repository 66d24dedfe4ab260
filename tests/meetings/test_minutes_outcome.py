"""The meetings plugin and the minutes' outcome: unique file names, URLs only once written.

The kit delivers `MinutesWritten` after each final `WriteMinutes` (as the core's
reporter does once the files exist); `write_minutes = False` holds it back, as a
reporter whose writes fail.
"""

from __future__ import annotations

from govbot.actions import Action, Append, Remember
from govbot.events import MinutesFailed, MinutesWritten
from tests.meetings.kit import CHANNEL, Bot, minutes, texts

URL = "https://meetings.example.org/meetings/tc/2026/"


async def meeting(bot: Bot, name: str = "tc", channel: str = CHANNEL) -> list[Action]:
    await bot.say("ada", f"#startmeeting {name}", channel=channel, minutes=0.1)
    return list(await bot.say("ada", "#endmeeting", channel=channel, minutes=0.1))


async def test_the_same_name_twice_in_one_minute_gets_a_suffix_not_the_same_files() -> None:
    bot = Bot()
    first = minutes(await meeting(bot))
    second_actions = await meeting(bot)
    second = minutes(second_actions)
    assert sorted(first.files)[0] == "meetings/tc/2026/tc.2026-11-19-16.00.html"
    assert sorted(second.files)[0] == "meetings/tc/2026/tc.2026-11-19-16.00-2.html"
    assert not set(first.files) & set(second.files)
    # The URLs said and the links inside the files name the second meeting's files.
    assert f"Minutes:        {URL}tc.2026-11-19-16.00-2.html" in texts(second_actions)
    assert "tc.2026-11-19-16.00-2.log.html" in next(
        v for k, v in second.files.items() if k.endswith("-2.txt"))
    # A third, after a restart (claims are in the plugin's state), gets "-3".
    again = bot.restarted()
    third = minutes(await meeting(again))
    assert sorted(third.files)[0] == "meetings/tc/2026/tc.2026-11-19-16.00-3.html"
    # The common case keeps MeetBot's names: another name, another minute.
    other = minutes(await meeting(again, "board"))
    assert sorted(other.files)[0] == "meetings/board/2026/board.2026-11-19-16.00.html"


async def test_the_suffix_is_journaled_so_a_restart_renders_the_same_names() -> None:
    bot = Bot()
    await meeting(bot)
    bot.write_minutes = False  # the second one's files are never written
    actions = await meeting(bot)
    assert any(isinstance(a, Append) and a.entry.get("type") == "minutes-name"
               for a in actions)
    assert any(isinstance(a, Remember) for a in actions)
    again = bot.restarted()  # the journal is still open: finished at the next start
    redone = await again.join()
    assert sorted(minutes(redone).files)[0].endswith("16.00-2.html")


async def test_no_urls_and_no_close_until_the_files_exist() -> None:
    bot = Bot()
    bot.write_minutes = False
    await bot.say("ada", "#startmeeting tc")
    ended = await bot.say("ada", "#endmeeting")
    assert texts(ended) == ["Meeting ended Thu Nov 19 16:01:00 2026 UTC."]
    assert not any(isinstance(a, Append) and a.close for a in ended)
    written = minutes(ended)
    assert written.key and written.lane == "irc:#example-tc"
    # The log keeps MeetBot's lines where MeetBot has them.
    log = next(v for k, v in written.files.items() if k.endswith(".log.txt"))
    assert "Minutes (text):" in log
    failed = MinutesFailed("meetings", written.key, "tc", "[Errno 28] No space left on device",
                           1, 1.0, written.lane)
    told = await bot._run(bot.plugin.on_minutes_failed, failed)
    assert texts(told) == ["The minutes of the meeting 'tc' are delayed: they could not be "
                           "written ([Errno 28] No space left on device). Retrying; the links "
                           "follow once they are written."]
    again = MinutesFailed("meetings", written.key, "tc", "[Errno 28] No space left on device",
                          2, 2.0, written.lane)
    assert await bot._run(bot.plugin.on_minutes_failed, again) == []  # told once
    assert await bot.state.open_journals() != []
    done = await bot._run(bot.plugin.on_minutes_written, MinutesWritten(
        "meetings", written.key, "tc", tuple(written.files), "", 3, written.lane))
    assert texts(done) == ["The minutes of the meeting 'tc' are written now.",
                           f"Minutes:        {URL}tc.2026-11-19-16.00.html",
                           f"Minutes (text): {URL}tc.2026-11-19-16.00.txt",
                           f"Log:            {URL}tc.2026-11-19-16.00.log.html"]
    assert isinstance(done[-1], Append) and done[-1].close
    assert await bot.state.open_journals() == []
    # Another plugin's outcome, or a second one, is not ours to act on.
    assert await bot._run(bot.plugin.on_minutes_written, MinutesWritten(
        "meetings", written.key, "tc", (), "", 4, written.lane)) == []
