"""#startvote / #vote / #showvote / #endvote: MeetBot's tally, and votes bound to a body."""

from __future__ import annotations

from govbot.plugins.meetings.votes import Ballot, Poll, VoteRules, decide
from tests.meetings.kit import CHANNEL, Bot, example_config, texts

# tc (etc/governance): ada bruno chiara dmitri eun-ji farah gustavo hana ivo — 9 members.
# Their accounts: ada bruno chiara dvolk eunji farah greis hnovak ivo.
TC = [("ada", "ada"), ("bruno_o", "bruno"), ("chiara", "chiara"), ("dvolk", "dvolk"),
      ("eunji", "eunji"), ("farah", "farah"), ("greis", "greis"), ("hana", "hnovak"),
      ("ivo", "ivo")]


async def meeting() -> Bot:
    bot = Bot()
    await bot.say("ada", "#startmeeting tc")
    return bot


def vote_of(bot: Bot) -> list[object]:
    meeting = bot.plugin.meeting_in(CHANNEL)
    assert meeting is not None
    return list(meeting.votes())


async def test_unbound_vote_defaults_to_yes_no_and_the_last_vote_counts() -> None:
    bot = await meeting()
    said = texts(await bot.say("ada", "#startvote Should we meet weekly?"))
    assert said == ["Begin voting on: Should we meet weekly? Valid vote options are Yes, No.",
                    "Vote using '#vote OPTION'. Only your last vote counts."]
    await bot.say("visitor", "#vote no", account=None)
    await bot.say("visitor", "#vote YES", account=None)
    await bot.say("farah", "#vote No")
    assert texts(await bot.say("farah", "#vote maybe")) == [
        "farah: 'maybe' is not a valid option; valid options are: Yes, No"]
    assert texts(await bot.say("ivo", "#showvote")) == [
        '"Should we meet weekly?" so far: Yes (1): visitor; No (1): farah']
    said = texts(await bot.say("ada", "#endvote"))
    assert said == ['Voted on "Should we meet weekly?" Results are', "Yes (1): visitor",
                    "No (1): farah"]
    (result,) = vote_of(bot)
    assert result.result is None  # type: ignore[attr-defined]


async def test_options_and_usage() -> None:
    bot = await meeting()
    assert texts(await bot.say("ada", "#startvote no question mark"))[0].startswith(
        "ada: usage: #startvote [BODY] Question? Option1, Option2")
    said = texts(await bot.say("ada", "#startvote Which day? Monday, tuesday, Monday"))
    assert said[0] == "Begin voting on: Which day? Valid vote options are Monday, tuesday."
    assert texts(await bot.say("ada", "#startvote Again?"))[0].startswith(
        'A vote is already in progress: "Which day?"')
    assert texts(await bot.say("farah", "#vote")) == [
        "farah: '' is not a valid option; valid options are: Monday, tuesday"]
    await bot.say("ada", "#endvote")
    assert texts(await bot.say("ada", "#vote Monday")) == ["ada: no vote is in progress"]
    assert texts(await bot.say("ada", "#showvote")) == ["ada: no vote is in progress"]


async def test_bound_vote_counts_only_members_by_account() -> None:
    bot = await meeting()
    said = texts(await bot.say("ada", "#startvote tc Adopt the charter? Yes, No, Abstain"))
    assert said[-1] == ("Only members of Technical Committee (9) count; quorum 5; it passes "
                        "with more than half of the votes cast.")
    for nick, account in TC[:5]:
        await bot.say(nick, "#vote Yes", account=account)
    await bot.say("farah", "#vote No")
    # The nick of a member without their account is not that member.
    said = texts(await bot.say("hana", "#vote No", account=None))
    assert said == ["hana: recorded as a non-binding vote: only members of Technical "
                    "Committee, recognised by their services account, count"]
    await bot.say("mallory", "#vote No", account="mallory")
    said = texts(await bot.say("ada", "#endvote"))
    assert said == ['Voted on "Adopt the charter?" Results are',
                    "Yes (5): ada, bruno_o, chiara, dvolk, eunji", "No (1): farah", "Abstain (0)",
                    "Non-binding: No: hana, mallory",
                    "Result: PASSED — 6 of 9 members of Technical Committee voted, quorum 5, "
                    "threshold more than half of the votes cast"]


async def test_bound_vote_without_quorum() -> None:
    bot = await meeting()
    await bot.say("ada", "#startvote tc Adopt the charter?")
    for nick, account in TC[:4]:
        await bot.say(nick, "#vote yes", account=account)
    for nick in ("x1", "x2", "x3"):
        await bot.say(nick, "#vote yes", account=nick)
    said = texts(await bot.say("ada", "#endvote"))
    assert said[-1] == ("Result: NO QUORUM — 4 of 9 members of Technical Committee voted, "
                        "quorum 5, threshold more than half of the votes cast")
    assert "Non-binding: Yes: x1, x2, x3" in said


async def test_a_member_voting_twice_under_two_nicks_counts_once() -> None:
    bot = await meeting()
    await bot.say("ada", "#startvote tc Q?")
    await bot.say("ivo", "#vote yes")
    await bot.say("ivo_phone", "#vote no", account="ivo")
    await bot.say("ada", "#showvote")
    (said,) = texts(await bot.say("ada", "#showvote"))
    assert said == '"Q?" so far: Yes (0); No (1): ivo_phone'


async def test_failed_and_tied_and_threshold_expressions() -> None:
    bot = Bot(config=example_config("votes:\n  tc: {quorum: 3, threshold: ceil(2*n/3)}\n"))
    await bot.say("ada", "#startmeeting tc")
    assert texts(await bot.say("ada", "#startvote tc Q?"))[-1].endswith(
        "quorum 3; it passes with 6 votes.")
    for nick, account in TC[:5]:
        await bot.say(nick, "#vote yes", account=account)
    assert texts(await bot.say("ada", "#endvote"))[-1].startswith("Result: FAILED — 5 of 9")


def poll(options: tuple[str, ...], votes: dict[str, str], *, threshold: dict[str, object]
         | None = None, quorum: int = 1) -> Poll:
    members = frozenset(f"p{i}" for i in range(9))
    p = Poll("Q?", options, body="tc", body_name="TC", members=members, quorum=quorum,
             threshold=threshold)
    for person, option in votes.items():
        p.ballots[person] = Ballot(person, option, person)
    return p


def test_decide_multi_option() -> None:
    result = decide(poll(("A", "B", "C"), {"p1": "A", "p2": "A", "p3": "B"}))
    assert (result.result, result.winner) == ("passed", "A")
    assert result.verdict.startswith("Result: PASSED (A) — 3 of 9 members of TC voted")
    tie = decide(poll(("A", "B"), {"p1": "A", "p2": "B"}))
    assert tie.result == "failed"
    plurality = decide(poll(("A", "B", "C"), {"p1": "A", "p2": "B", "p3": "C", "p4": "A"}))
    assert plurality.result == "failed"  # 2 of 4 is not more than half
    counted = decide(poll(("A", "B"), {"p1": "A"}, threshold={"kind": "count", "needed": 2}))
    assert counted.result == "failed"
    no = decide(poll(("Yes", "No"), {"p1": "No", "p2": "No", "p3": "Yes"}))
    assert (no.result, no.winner) == ("failed", None)


def test_vote_rules_snapshot() -> None:
    assert VoteRules.of().snapshot(9) == (5, {"kind": "majority"})
    assert VoteRules.of("floor(n/2)+1", "ceil(n/3)").snapshot(9) == (
        5, {"kind": "count", "needed": 3, "text": "ceil(n/3)"})
