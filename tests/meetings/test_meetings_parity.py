"""Where MeetBot's users rely on its behaviour: topics, names, minutes' formats, links,
warnings; and the commands of its successors (hcoop-meetbot, meetingology).

MeetBot's own test meetings (its command set, URL matching, a late end, action items
matched to nicks) are here in our words, driven through the plugin's handlers.
"""

from __future__ import annotations

import re

from govbot.plugins.meetings.commands import ALL_COMMANDS, BY_NAME
from govbot.plugins.meetings.model import Meeting
from govbot.plugins.meetings.recovery import from_log
from govbot.plugins.meetings.render import url_warning
from tests.meetings.kit import CHANNEL, T0, Bot, FakeIrc, file_of, minutes, texts, topics


async def started(**kw: object) -> Bot:
    bot = Bot(**kw)  # type: ignore[arg-type]
    await bot.say("ada", "#startmeeting tc")
    return bot


async def test_the_topic_is_set_at_startmeeting_and_restored_at_endmeeting() -> None:
    irc = FakeIrc(topics={CHANNEL: "Welcome to the TC | agenda: wiki/TC"})
    bot = Bot(irc=irc)
    assert topics(await bot.say("ada", "#startmeeting tc")) == ["tc"]
    assert topics(await bot.say("ada", "#topic Roll call")) == ["Roll call (Meeting topic: tc)"]
    assert topics(await bot.say("ada", "#endmeeting")) == ["Welcome to the TC | agenda: wiki/TC"]
    # After a restart the topic to restore comes from the journal.
    bot = Bot(irc=irc)
    await bot.say("ada", "#startmeeting tc")
    again = bot.restarted()
    await again.join()
    assert topics(await again.say("ada", "#endmeeting")) == [
        "Welcome to the TC | agenda: wiki/TC"]


async def test_an_unknown_topic_is_left_alone_at_the_end() -> None:
    bot = await started()  # FakeIrc knows no topic: nothing to restore
    assert topics(await bot.say("ada", "#endmeeting")) == []


async def test_startmeeting_needs_a_name() -> None:
    bot = Bot()
    said = texts(await bot.say("ada", "#startmeeting"))
    assert said == ["Error: A meeting name is required to start a meeting, "
                    "e.g. '#startmeeting tc'."]
    assert bot.plugin.meeting_in(CHANNEL) is None
    assert BY_NAME["startmeeting"].usage == "startmeeting NAME"


async def test_text_minutes_are_meetbots_times_urls_and_wrapping() -> None:
    bot = await started()
    long = "the " + "very " * 20 + "long item"
    await bot.say("ada", f"#info {long}")
    text = file_of(minutes(await bot.say("ada", "#endmeeting")), "txt")
    started_line = " ".join(text.split("\n\n\n")[1].split())
    assert started_line == ("Meeting started by ada at 16:00:30 UTC. The full logs are "
                            "available at https://meetings.example.org/meetings/tc/2026/"
                            "tc.2026-11-19-16.00.log.html .")
    assert "Meeting ended at 16:01:30 UTC." in text
    for line in text.splitlines():
        assert len(line) <= 72 or " " not in line.strip(), line  # only unbreakable URLs
    wrapped = text[text.index("* INFO: the very"):].split("\n")
    assert wrapped[1].startswith("    very")  # continuations indented under the item


async def test_a_late_end_says_only_the_time() -> None:
    # MeetBot's test_lateEnd: ended the next day, the line still reads HH:MM:SS UTC.
    bot = await started()
    said = texts(await bot.say("ada", "#endmeeting", minutes=60 * 26))
    assert said[0] == "Meeting ended Fri Nov 20 18:00:30 2026 UTC."
    meeting_txt = file_of(minutes(bot.actions), "txt")
    assert re.search(r"^Meeting ended at 18:00:30 UTC\.$", meeting_txt, re.MULTILINE)


def test_a_minutes_url_ending_in_meetings_is_warned_about() -> None:
    assert url_warning("https://example.org") is None
    warning = url_warning("https://example.org/meetings/")
    assert warning is not None and "https://example.org/meetings/meetings/" in warning


async def test_url_matching_as_meetbot() -> None:
    # MeetBot's test_urlMatching: a line that starts with a URL of these schemes is a link.
    bot = await started()
    urls = ["http://example.org/a", "https://example.org/b", "ftp://example.org/c",
            "irc://irc.oftc.net/#example", "mailto:tc@example.org", "ssh://git.example.org"]
    for url in urls:
        await bot.say("farah", f"{url} see this")
    await bot.say("farah", "javascript:alert(1) is no link")
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    assert [i.text for i in meeting.items if i.kind == "LINK"] == [
        f"{u} see this" for u in urls]
    html = file_of(minutes(await bot.say("ada", "#endmeeting")), "html")
    for url in urls:
        assert f'<a href="{url}" rel="nofollow">{url}</a>' in html
    assert 'href="javascript' not in html


async def test_chair_of_a_nick_not_in_the_channel_warns() -> None:
    irc = FakeIrc(accounts={"farah": "farah"}, members={"ada", "farah"})
    bot = await started(irc=irc)
    said = texts(await bot.say("ada", "#chair farah nobody_here"))
    assert "Warning: Nick not in channel: nobody_here" in said
    assert "Warning: Nick not in channel: farah" not in said
    assert said[-1] == "Current chairs: ada farah"


async def test_a_vote_question_is_kept_as_typed() -> None:
    bot = await started()
    said = texts(await bot.say("ada", "#startvote Merge 912399 ? Yes, No"))
    assert said[0] == "Begin voting on: Merge 912399 ? Valid vote options are Yes, No."


async def test_a_bound_vote_survives_rendering_from_the_text_log() -> None:
    bot = await started()
    await bot.say("ada", "#startvote tc Adopt the charter? Yes, No")
    for nick, account in (("bruno_o", "bruno"), ("farah", "farah"), ("visitor", None)):
        await bot.say(nick, "#vote yes", account=account)
    await bot.say("ada", "#endvote")
    written = minutes(await bot.say("ada", "#endmeeting"))
    [name] = bot.state.journals
    [live] = Meeting.fold(name, bot.state.journals[name]).votes()
    again = from_log(file_of(written, "log.txt"), T0.date(), channel=CHANNEL,
                     bot_nick="govbot")
    assert again is not None
    [vote] = again.votes()
    assert live.body_name == "Technical Committee" and live.non_binding == "Yes: visitor"
    for field in ("question", "counts", "body_name", "electorate", "quorum", "cast",
                  "result", "threshold"):
        assert getattr(vote, field) == getattr(live, field), field


# --- the successors' commands --------------------------------------------------------

async def test_here_with_an_alias_assigns_action_items() -> None:
    bot = await started()
    await bot.say("bruno_o", "#here bruno")
    await bot.say("ada", "#action bruno to write the summary")
    await bot.say("ada", "#action BRUNO_O to check it")
    await bot.say("ada", "#action brunosaur is nobody")
    text = file_of(minutes(await bot.say("ada", "#endmeeting")), "txt")
    by_person = text.split("Action items, by person")[1]
    assert ("* bruno_o\n  * bruno to write the summary\n  * BRUNO_O to check it\n"
            in by_person)
    assert "* UNASSIGNED\n  * brunosaur is nobody\n" in by_person


async def test_action_items_match_whole_nicks_in_any_case() -> None:
    # MeetBot's test_actionNickMatching, where it matched substrings: "ad" is not "ada".
    bot = await started()
    await bot.say("ad", "hello")
    await bot.say("ada", "#action ADA and farah[m] review")
    await bot.say("farah[m]", "ok")
    text = file_of(minutes(await bot.say("ada", "#endmeeting")), "txt")
    by_person = text.split("Action items, by person")[1].split("People present")[0]
    assert "* ad\n" not in by_person
    assert "* ada\n  * ADA and farah[m] review\n" in by_person
    assert "* farah[m]\n  * ADA and farah[m] review\n" in by_person


async def test_failed_and_inconclusive_are_decisions_in_the_minutes() -> None:
    bot = await started()
    await bot.say("ada", "#failed the logo motion")
    await bot.say("ada", "#inconclusive naming the release")
    refused = texts(await bot.say("farah", "#failed something"))
    assert refused[0].startswith("farah: #failed is for the chairs of this meeting")
    html = file_of(minutes(await bot.say("ada", "#endmeeting")), "html")
    assert '<span class="FAILED">the logo motion</span>' in html
    assert '<span class="INCONCLUSIVE">naming the release</span>' in html


async def test_a_motion_is_voted_with_plus_one_minus_one_zero_and_closed() -> None:
    bot = await started()
    said = texts(await bot.say("ada", "#motion adopt the charter"))
    assert said[0] == "Begin voting on: adopt the charter Valid vote options are +1, -1, 0."
    await bot.say("farah", "#vote +1")
    await bot.say("bruno_o", "#vote -1")
    await bot.say("ivo", "#vote +1")
    said = texts(await bot.say("ada", "#close"))
    assert said[:3] == ['Voted on "adopt the charter" Results are', "+1 (2): farah, ivo",
                        "-1 (1): bruno_o"]


async def test_listchairs_and_commands() -> None:
    bot = await started(irc=FakeIrc(accounts={"farah": "farah"}))
    await bot.say("ada", "#chair farah")
    assert texts(await bot.say("ivo", "#listchairs")) == ["Current chairs: ada farah"]
    listed = texts(await bot.say("ivo", "#commands"))[0]
    for name in ("here", "nick", "accepted", "failed", "inconclusive", "motion", "vote",
                 "close", "save", "meetingname", "unchair", "listchairs", "commands"):
        assert name in ALL_COMMANDS and f"#{name}" in listed.split()
    assert texts(await bot.say("ivo", "#commands motion"))[0].startswith(
        "#motion [BODY] TEXT — Puts a formal motion to the vote")


async def test_save_writes_the_minutes_so_far() -> None:
    bot = await started()
    await bot.say("ada", "#info one")
    written = minutes(await bot.say("ada", "#save"))
    assert "Meeting still in progress." in file_of(written, "txt")
    assert bot.plugin.meeting_in(CHANNEL) is not None
