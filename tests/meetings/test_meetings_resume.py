"""A meeting is a fold of its journal: a restarted bot carries on where it was."""

from __future__ import annotations

from govbot.actions import Append, Vote, WakeAt
from govbot.plugins.meetings.model import Meeting
from govbot.plugins.meetings.render import render
from tests.meetings.kit import CHANNEL, Bot, FakeGerrit, file_of, minutes, texts


async def first_half() -> Bot:
    bot = Bot()
    bot.irc.accounts["bruno_o"] = "bruno"  # type: ignore[union-attr]
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#topic Before the crash")
    await bot.say("ada", "#chair bruno_o")
    await bot.say("farah", "#action farah to write it down")
    await bot.say("ada", "#startvote Keep going?")
    await bot.say("farah", "#vote yes")
    return bot


async def test_a_restarted_bot_resumes_and_says_so() -> None:
    before = await first_half()
    bot = before.restarted()
    actions = await bot.join()
    said = texts(actions)
    assert said == ["Resuming the meeting 'tc' after a restart of the bot (started by ada; "
                    "6 lines kept). Carry on."]
    assert [a.entry["type"] for a in actions if isinstance(a, Append)] == ["bot"]
    assert await bot.join() == []  # said once
    # Chairs, the vote in progress and the minutes so far all survived.
    await bot.say("bruno_o", "#agreed after the restart", account="bruno")
    await bot.say("ada", "#vote yes")
    said = texts(await bot.say("ada", "#endvote"))
    assert said[:2] == ['Voted on "Keep going?" Results are', "Yes (2): ada, farah"]
    written = minutes(await bot.say("ada", "#endmeeting"))
    log = file_of(written, "log.txt")
    for line in ("<ada> #topic Before the crash", "<farah> #action farah to write it down",
                 "<govbot> Resuming the meeting 'tc'", "<bruno_o> #agreed after the restart",
                 "<ada> #endmeeting"):
        assert line in log
    html = file_of(written, "html")
    assert "Before the crash" in html and "after the restart" in html
    assert "farah to write it down" in html.split("Action items, by person")[1]


async def test_any_first_event_resumes_a_meeting() -> None:
    bot = (await first_half()).restarted()
    actions = await bot.say("farah", "are we still on?")
    assert texts(actions)[0].startswith("Resuming the meeting 'tc'")
    # the line itself was journaled after the resume notice
    appended = [a.entry for a in actions if isinstance(a, Append)]
    assert [e["type"] for e in appended] == ["bot", "line"]


async def test_the_cache_is_exactly_the_fold_of_the_journal() -> None:
    bot = await first_half()
    live = bot.plugin.meeting_in(CHANNEL)
    assert live is not None
    folded = Meeting.fold(live.id, await bot.state.journal(live.id))
    assert render(folded) == render(live)
    assert folded.chairs == live.chairs and folded.poll == live.poll


async def test_a_crash_between_endmeeting_and_closing_is_finished_at_the_next_start() -> None:
    gerrit = FakeGerrit()
    gerrit.add("example/compute", 7)
    bot = Bot(gerrit=gerrit)
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#agreed example/compute~7 goes in")
    # The bot dies right after journaling the #endmeeting line: nothing else happened.
    bot.state.record = lambda actions: None  # type: ignore[method-assign]
    ended = await bot.say("ada", "#endmeeting")
    line = next(a for a in ended if isinstance(a, Append) and not a.close)
    state = bot.state
    del state.record
    state.record([line])
    again = Bot(state=state, gerrit=gerrit)
    again.now = bot.now
    actions = await again.join()
    base = "https://meetings.example.org/meetings/tc/2026/tc.2026-11-19-16.00"
    # Then, once the files exist (MinutesWritten), the URLs nobody was given before.
    assert texts(actions) == ["The minutes of this meeting were not all written before a "
                              "restart; writing them now.",
                              f"Minutes:        {base}.html", f"Minutes (text): {base}.txt",
                              f"Log:            {base}.log.html"]
    assert "Meeting ended" in file_of(minutes(actions), "log.txt")
    (vote,) = [a for a in actions if isinstance(a, Vote)]
    (first_vote,) = [a for a in ended if isinstance(a, Vote)]
    assert vote.fingerprint == first_vote.fingerprint  # the Gerrit reporter posts it once
    assert isinstance(actions[-1], Append) and actions[-1].close
    assert await state.open_journals() == []


async def test_a_wakeup_after_a_restart_resumes_too() -> None:
    before = await first_half()
    meeting = before.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    bot = before.restarted()
    actions = await bot.wakeup(meeting.id)
    assert texts(actions)[0].startswith("Resuming the meeting")
    assert isinstance(actions[-1], WakeAt)

URL = "https://meetings.example.org"


async def test_two_open_meetings_in_one_channel_end_the_older() -> None:
    first = Bot()
    await first.say("ada", "#startmeeting one")
    other = Bot()  # e.g. a journal left by an older version: cannot happen live
    other.now = first.now
    await other.say("ada", "#startmeeting two", minutes=5)
    first.state.journals.update(other.state.journals)
    bot = first.restarted()
    actions = await bot.join()
    said = texts(actions)
    assert said[0] == ("The minutes of this meeting were not all written before a restart; "
                       "writing them now.")
    assert said[1].startswith("Resuming the meeting 'two'")
    # 'one' was ended: its URLs follow once its files are written (MinutesWritten).
    assert said[2:] == [f"{label}{URL}/meetings/one/2026/one.2026-11-19-16.00.{ext}"
                        for label, ext in (("Minutes:        ", "html"),
                                           ("Minutes (text): ", "txt"),
                                           ("Log:            ", "log.html"))]
    assert minutes(actions).meeting == "one"
    assert len(await bot.state.open_journals()) == 1


async def test_the_start_up_event_resumes_at_once_and_later_reloads_do_nothing() -> None:
    from govbot.events import ConfigReloaded

    bot = (await first_half()).restarted()
    actions = await bot._run(bot.plugin.on_start, ConfigReloaded("", "abc"))
    assert texts(actions) == ["Resuming the meeting 'tc' after a restart of the bot "
                              "(started by ada; 6 lines kept). Carry on."]
    assert await bot._run(bot.plugin.on_start, ConfigReloaded("abc", "def")) == []
    assert texts(await bot.say("farah", "are we still on?")) == []  # said once only
