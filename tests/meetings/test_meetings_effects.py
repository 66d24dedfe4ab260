"""Effects are typed; the journal keeps their `{"op": ...}` form, old journals included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govbot.actions import Append
from govbot.plugins.meetings import effects as fx
from govbot.plugins.meetings.model import Meeting
from govbot.plugins.meetings.recovery import from_journal
from govbot.plugins.meetings.render import render
from tests.meetings.kit import T0, Bot, JournalState, minutes, texts

DATA = Path(__file__).parent / "data"
#: Recorded with the bot as it was before effects had types (commit 5f9a0a4).
OLD_JOURNAL = DATA / "journal-dict-form.jsonl"
OLD_MINUTES = DATA / "journal-dict-form.minutes.json"

ONE_OF_EACH: list[fx.Effect] = [
    fx.StartMeeting("#tc", "account:ada", "tc", "Weekly", True),
    fx.AddItem("INFO", "text"), fx.NewTopic("a topic"), fx.MeetingTopic(None),
    fx.MeetingTopic("sync"), fx.AddChair("account:bruno", "bruno_o"),
    fx.RemoveChair("account:bruno"), fx.Undo(), fx.Rename("tc_weekly"), fx.Lurk(True),
    fx.RestrictLogs(), fx.Attendees(("ghost", "spirit")), fx.Alias("bob"),
    fx.StartMeeting("#tc", "account:ada", "tc", None, False, "Welcome to #tc"),
    fx.StartVote("Lunch?", ("pizza", "salad")),
    fx.StartVote("Adopt?", ("Yes", "No"), "tc", "Technical Committee", ("ada", "bruno"), 2,
                 {"kind": "majority"}),
    fx.CastVote("person:ada", "Yes", "ada"), fx.CastVote("nick:eve", "No"), fx.EndVote(),
    fx.EndMeeting(),
]


def old_entries() -> tuple[str, list[dict[str, Any]]]:
    rows = [json.loads(line) for line in OLD_JOURNAL.read_text().splitlines()]
    return rows[0]["journal"], [row["entry"] for row in rows]


def test_every_op_has_a_type_and_round_trips_through_json() -> None:
    assert {type(e).op for e in ONE_OF_EACH} == set(fx.OPS)
    for effect in ONE_OF_EACH:
        stored = json.loads(json.dumps(fx.encode(effect)))
        assert stored["op"] == effect.op
        assert fx.decode(stored) == effect


@pytest.mark.parametrize(("old", "new"), [
    # Keys older versions did not write take the field's default.
    ({"op": "start", "channel": "#tc", "owner": "account:ada"},
     fx.StartMeeting("#tc", "account:ada")),
    ({"op": "vote", "voter": "nick:eve", "option": "Yes"}, fx.CastVote("nick:eve", "Yes")),
    ({"op": "startvote", "question": "Q?", "options": ["Yes", "No"]},
     fx.StartVote("Q?", ("Yes", "No"))),
    ({"op": "lurk", "on": False, "by": "someone"}, fx.Lurk(False)),  # extra keys ignored
    ({"op": "save"}, None),  # an op this version does not know: skipped, as always
])
def test_old_dict_forms_decode(old: dict[str, Any], new: fx.Effect | None) -> None:
    assert fx.decode(old) == new


def test_a_journal_in_the_old_dict_form_replays_to_the_same_minutes() -> None:
    name, entries = old_entries()
    meeting = Meeting.fold(name, entries)
    files = render(meeting, bot_nick="govbot", url_base="https://meetings.example.org", now=T0)
    assert files == json.loads(OLD_MINUTES.read_text())
    # `govbot minutes` reads the same export.
    again = from_journal(OLD_JOURNAL.read_text(), "x")
    assert render(again, bot_nick="govbot", url_base="https://meetings.example.org",
                  now=T0) == files


#: The meeting recorded in OLD_JOURNAL, line by line (nick, text).
SCRIPT = [
    ("ada", "#startmeeting tc Weekly TC"),
    ("ada", "#meetingtopic Weekly sync"),
    ("ada", "#topic Old business"),
    ("ada", "#chair bruno_o farah"),
    ("farah", "#info the charter was published"),
    ("farah", "#idea a wiki page"),
    ("bruno_o", "#action bruno_o to write the summary"),
    ("ada", "#link https://review.example.org/c/example/compute/+/42"),
    ("farah", "https://etherpad.example.org/p/tc see this"),
    ("ada", "#agreed keep the old business short"),
    ("ada", "#undo"),
    ("ada", "#accepted change 42 https://review.example.org/c/example/compute/+/42"),
    ("ada", "#rejected the wiki idea"),
    ("visitor", "#help someone to review 43"),
    ("visitor", "#nick ghost, spirit"),
    ("ada", "#present carl"),
    ("ada", "#unchair farah"),
    ("ada", "#meetingname tc weekly"),
    ("ada", "#lurk"),
    ("ada", "#info said while lurking"),
    ("ada", "#unlurk"),
    ("ada", "#startvote tc Adopt the charter? Yes, No, Abstain"),
    ("ada", "#vote yes"),
    ("bruno_o", "#vote no"),
    ("visitor", "#vote yes"),
    ("ada", "#showvote"),
    ("ada", "#endvote"),
    ("ada", "#startvote Lunch? pizza, salad"),
    ("farah", "#vote pizza"),
    ("ada", "#endvote"),
    ("ada", "#topic New business"),
    ("ada", "#meetingtopic none"),
    ("farah", "plain chatter !status"),
    ("ada", "#restrictlogs"),
    ("ada", "#endmeeting"),
]


async def test_the_same_meeting_today_journals_the_same_effects_and_minutes() -> None:
    bot = Bot()
    bot.irc.accounts.update({"bruno_o": "bruno", "farah": "farah"})  # type: ignore[union-attr]
    for n, (nick, text) in enumerate(SCRIPT):
        account = None if nick == "visitor" else ("bruno" if nick == "bruno_o" else True)
        await bot.say(nick, text, account=account)
        if n == 16:
            await bot.nick_change("farah", "farah_away", account="farah")
            await bot.nick_change("farah_away", "farah", account="farah")
    [name] = bot.state.journals
    new = bot.state.journals[name]
    old_name, old = old_entries()
    assert name == old_name and len(new) == len(old)
    for now, before in zip(new, old, strict=True):
        assert {k: v for k, v in now.items() if k != "fx"} == \
            {k: v for k, v in before.items() if k != "fx"}
        assert [fx.decode(e) for e in now.get("fx", ())] == \
            [fx.decode(e) for e in before.get("fx", ())]
    meeting = Meeting.fold(name, new)
    assert render(meeting, bot_nick="govbot", url_base="https://meetings.example.org",
                  now=T0) == json.loads(OLD_MINUTES.read_text())


async def test_a_bot_resumes_an_open_journal_in_the_old_form() -> None:
    name, entries = old_entries()
    state = JournalState()
    state.journals[name] = entries[:-1]  # the bot died before #endmeeting
    bot = Bot(state=state)
    bot.now = T0.replace(hour=17)
    said = texts(await bot.join())
    assert said[0].startswith("Resuming the meeting 'tc_weekly' after a restart")
    actions = await bot.say("ada", "#endmeeting")
    written = minutes(actions)
    closed = [a for a in actions if isinstance(a, Append) and a.close]
    assert closed and written.restricted
    log = next(v for k, v in written.files.items() if k.endswith(".log.txt"))
    assert "<ada> #startvote tc Adopt the charter? Yes, No, Abstain" in log
    assert "<farah> plain chatter !status" in log
