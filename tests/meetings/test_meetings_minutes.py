"""The minutes: MeetBot's layout and names, no markup injection, decisions linked to Gerrit."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from govbot.actions import Append
from govbot.config.loader import load_config
from govbot.plugin import PluginRegistry
from govbot.plugins.meetings import plugin as meetings_plugin
from govbot.plugins.meetings.decisions import TAG, change_refs
from govbot.plugins.meetings.model import normalise_name
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.plugins.meetings.render import linkify
from tests.meetings.kit import EXAMPLE, Bot, FakeGerrit, file_of, minutes, votes


async def full_meeting() -> Bot:
    bot = Bot()
    bot.irc.accounts["bruno_o"] = "bruno"  # type: ignore[union-attr]
    script = [
        ("ada", "#startmeeting tc"),
        ("ada", "#topic Roll call"),
        ("chiara", "o/"),
        ("bruno_o", "o/"),
        ("ada", "#chair bruno_o"),
        ("ada", "#topic Charter amendment"),
        ("bruno_o", "#agreed adopt the amendment https://review.example.org/c/x/+/1"),
        ("chiara", "#action chiara to announce it on the mailing list"),
        ("chiara", "#action Bruno_O and ada to update the website"),
        ("farah", "#action someone to fix the CI job"),
        ("farah", "#idea a yearly summit"),
        ("ada", "#startvote tc Approve the budget? Yes, No"),
        ("ada", "#vote yes"), ("chiara", "#vote yes"), ("farah", "#vote no"),
        ("ivo", "#vote yes"), ("dvolk", "#vote yes"), ("guest", "#vote no"),
        ("ada", "#endvote"),
        ("ada", "#topic Open discussion"),
        ("ada", "#info nothing else"),
        ("ada", "#endmeeting"),
    ]
    for nick, text in script:
        await bot.say(nick, text, account="bruno" if nick == "bruno_o" else
                      (None if nick == "guest" else True))
    return bot


async def test_the_four_files_in_meetbots_layout() -> None:
    bot = await full_meeting()
    written = minutes(bot.actions)
    assert sorted(written.files) == [
        f"meetings/tc/2026/tc.2026-11-19-16.00.{ext}"
        for ext in ("html", "log.html", "log.txt", "txt")]
    assert written.meeting == "tc" and not written.restricted


async def test_html_minutes_content() -> None:
    html = file_of(minutes((await full_meeting()).actions), "html")
    assert "<title>#example-tc: tc</title>" in html
    # Summary by topic, items with (nick, time) links into the log.
    topics = re.findall(r'<span class="TOPIC">([^<]*)</span>', html)
    assert topics == ["Roll call", "Charter amendment", "Open discussion"]
    assert re.search(r'<span class="AGREED">adopt the amendment <a href="https://review'
                     r'.example.org/c/x/\+/1" rel="nofollow">[^<]*</a></span>\s*<span class='
                     r'"details">\(<a href="tc.2026-11-19-16.00.log.html#l-\d+">bruno_o</a>, '
                     r'16:03:30\)</span>', html)
    # Action items by person, matched as whole words in any case, and one UNASSIGNED.
    by_person = html.split("Action items, by person")[1].split("People present")[0]
    assert re.findall(r"<li>(\w+)\n", by_person) == ["ada", "bruno_o", "chiara"]
    assert "Bruno_O and ada to update the website" in by_person
    unassigned = by_person.split("UNASSIGNED")[1]
    assert re.findall(r"<li>([^<]+)</li>", unassigned) == ["someone to fix the CI job"]
    # People present with line counts, most first.
    present = html.split("People present (lines said)")[1]
    assert re.findall(r"<li>(\S+) \((\d+)\)</li>", present)[:3] == [
        ("ada", "10"), ("chiara", "4"), ("farah", "3")]
    # The vote and its declared result.
    assert "<b>Approve the budget?</b>" in html and "(bound to Technical Committee)" in html
    assert "Result: PASSED — 5 of 9 members of Technical Committee voted, quorum 5" in html
    assert "<td>No</td><td>1</td><td>farah</td><td>guest</td>" in html


async def test_text_minutes_have_the_flat_action_list_and_votes() -> None:
    text = file_of(minutes((await full_meeting()).actions), "txt")
    flat = text.split("\nAction items\n------------\n")[1].split("\n\n")[0]
    assert flat.splitlines() == ["* chiara to announce it on the mailing list",
                                 "* Bruno_O and ada to update the website",
                                 "* someone to fix the CI job"]
    assert "* UNASSIGNED\n  * someone to fix the CI job\n" in text
    assert "* Charter amendment  (ada, 16:03:00)\n  * AGREED: adopt the amendment" in text
    assert "  * Yes (4): ada, chiara, dvolk, ivo\n  * No (1): farah\n" in text
    assert "  * Non-binding: No: guest\n" in text


async def test_logs_have_every_line_with_anchors() -> None:
    bot = await full_meeting()
    written = minutes(bot.actions)
    log_txt = file_of(written, "log.txt").splitlines()
    assert log_txt[0] == "16:00:30 <ada> #startmeeting tc"
    assert "16:02:30 <govbot> Current chairs: ada bruno_o" in log_txt
    said = [line for line in log_txt if "<govbot>" not in line]
    assert len(said) == 22  # every line said, in order
    log_html = file_of(written, "log.html")
    assert log_html.count('<span id="l-') == len(log_txt)
    assert '<span class="topic">#topic Roll call</span>' in log_html


async def test_a_single_unassigned_action_is_kept() -> None:
    bot = Bot()
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#action write the release notes")
    await bot.say("ada", "#endmeeting")
    written = minutes(bot.actions)
    assert "* UNASSIGNED\n  * write the release notes\n" in file_of(written, "txt")
    assert "<li>write the release notes</li>" in file_of(written, "html").split("UNASSIGNED")[1]


INJECTIONS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
              "javascript:alert(1)", "https://x.org/\"onmouseover=\"alert(1)",
              "<a href='javascript:alert(1)'>click</a>"]


async def test_markup_injection_is_neutralised_in_every_html_file() -> None:
    bot = Bot()
    await bot.say("ada", '#startmeeting "><script>alert(1)</script>')
    for text in INJECTIONS:
        await bot.say("ada", f"#topic {text}")
        await bot.say("ada", f"#agreed {text}")
        await bot.say("farah", f"#action {text}")
        await bot.say("farah", text)
    await bot.say("ada", f"#startvote {INJECTIONS[0]}? {INJECTIONS[1]}, b")
    await bot.say("ada", "#endvote")
    await bot.say("ada", "#endmeeting")
    files = minutes(bot.actions).files
    short = next(iter(files)).rsplit("/", 1)[1].split(".")[0]  # the normalised name
    assert re.fullmatch(r"[a-z0-9_]+", short)
    for path, content in files.items():
        if not path.endswith("html"):
            continue
        assert "<script" not in content and "<img" not in content, path
        assert "&lt;script&gt;" in content and "onerror=alert" in content  # kept, as text
        assert "javascript:" not in re.sub(r">[^<]*<", "><", content), path  # never markup
        for href in re.findall(r'href="([^"]*)"', content):
            assert href.startswith(("https://x.org/", f"{short}.", "#l-",
                                    "https://meetings.example.org/meetings/")), href


def test_linkify_escapes_inside_and_around_links() -> None:
    assert str(linkify('a <b> https://x.org/?a=1&b="2" c')) == (
        'a &lt;b&gt; <a href="https://x.org/?a=1&amp;b=" rel="nofollow">https://x.org/?a=1&amp;'
        'b=</a>&quot;2&quot; c')
    assert str(linkify("\x02bold\x02 \x0304red")) == "bold red"


@pytest.mark.parametrize("given, name", [
    ("tc", "tc"), ("Nova Cells", "nova_cells"), ("../../etc", "______etc"),
    ("/etc/passwd", "_etc_passwd"), ("a\x00b", "a_b"), ("élan", "_lan"),
    ("openstack-tc", "openstack_tc"), ("x" * 200, "x" * 64)])
def test_meetbot_name_normalisation(given: str, name: str) -> None:
    assert normalise_name(given) == name


async def test_path_tricks_in_meetingname_stay_inside_the_minutes_directory() -> None:
    bot = Bot()
    await bot.say("ada", "#startmeeting ../../../etc/cron.d")
    await bot.say("farah", "#meetingname ../../etc")
    await bot.say("ada", "#endmeeting")
    for path in minutes(bot.actions).files:
        assert path.startswith("meetings/______etc/2026/______etc.2026-11-19-16.00."), path
        assert ".." not in Path(path).parts


# -- Gerrit ---------------------------------------------------------------------------------
def test_change_refs() -> None:
    text = ("see https://review.example.org/c/openstack/nova/+/912345/3 and "
            "https://review.example.org/#/c/77/, https://review.example.org/88 plus "
            "openstack/governance~42 but not a~b or ~5 or https://x.org/docs")
    assert change_refs(text) == ["openstack/nova~912345", "77", "88", "openstack/governance~42"]
    assert change_refs(text, "https://other.example.org") == ["openstack/governance~42"]


async def test_an_agreed_naming_a_change_gives_exactly_one_comment() -> None:
    gerrit = FakeGerrit()
    gerrit.add("example/compute", 7, patchset=3)
    bot = Bot(gerrit=gerrit)
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#agreed merge https://review.example.org/c/example/compute/+/7 now; "
                         "see also example/compute~7")
    await bot.say("ada", "#agreed merge example/compute~7 after all")
    await bot.say("ada", "#undo")  # undone: never posted
    await bot.say("ada", "#info example/compute~7 is only information")
    await bot.say("ada", "#agreed unknown/project~99 is not a change we can read")
    await bot.say("ada", "#rejected https://review.example.org/7 the old way")
    actions = await bot.say("ada", "#endmeeting")
    (vote,) = votes(actions)  # one comment on the change, listing its decisions
    assert (vote.change, vote.patchset, vote.labels, vote.tag) == ("example/compute~7", 3, {},
                                                                   TAG)
    base = "https://meetings.example.org/meetings/tc/2026/tc.2026-11-19-16.00"
    assert vote.message == (
        "Meeting tc in #example-tc (2026-11-19 16:00 UTC):\n\n"
        "AGREED: merge https://review.example.org/c/example/compute/+/7 now; see also "
        f"example/compute~7\n(ada, 16:01:00 UTC, {base}.log.html#l-5)\n\n"
        "REJECTED: https://review.example.org/7 the old way\n"
        f"(ada, 16:03:30 UTC, {base}.log.html#l-11)\n\n"
        f"Minutes: {base}.html")
    assert vote.fingerprint and len(vote.fingerprint) == 16
    assert gerrit.calls == ["example/compute~7", "unknown/project~99", "7"]


async def test_vote_results_and_actions_naming_changes_are_posted_too() -> None:
    gerrit = FakeGerrit()
    gerrit.add("example/governance", 12)
    bot = Bot(gerrit=gerrit)
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#startvote tc Approve example/governance~12?")
    await bot.say("ada", "#vote yes")
    await bot.say("ada", "#endvote")
    await bot.say("ada", "#action ada to merge https://review.example.org/12")
    actions = await bot.say("ada", "#endmeeting")
    (vote,) = votes(actions)
    assert vote.change == "example/governance~12"
    decisions = vote.message.split("\n\n")[1:3]
    assert decisions[0].startswith("VOTE: Approve example/governance~12?\nYes (1): ada\n"
                                   "No (0)\nResult: NO QUORUM")
    assert decisions[1].startswith("ACTION: ada to merge https://review.example.org/12\n")


async def test_restricted_meetings_post_nothing_to_gerrit() -> None:
    gerrit = FakeGerrit()
    gerrit.add("example/compute", 7)
    bot = Bot(gerrit=gerrit)
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#restrictlogs")
    await bot.say("ada", "#agreed example/compute~7")
    assert votes(await bot.say("ada", "#endmeeting")) == []


# -- meetbot.yaml ---------------------------------------------------------------------------
def test_meetbot_yaml_errors_are_reported_at_their_line(tmp_path: Path) -> None:
    for name in ("people.yaml", "bodies.yaml"):
        (tmp_path / name).write_text((EXAMPLE / name).read_text())
    (tmp_path / "meetbot.yaml").write_text(
        "votes:\n  tc: {quorum: ceil(n/), threshold: majority}\n"
        "  nosuch: {quorum: 2}\n  infra-council: {quorum: [1]}\n  nova-core: {treshold: 2}\n")
    result = load_config(tmp_path, PluginRegistry([MeetingsPlugin()]).config_sections())
    errors = [str(e) for e in result.errors]
    assert any(e.startswith("meetbot.yaml:2: votes: tc: expected a number") for e in errors)
    assert any(e.startswith("meetbot.yaml:3:") and "no body 'nosuch'" in e for e in errors)
    assert any(e.startswith("meetbot.yaml:4:") and "must be a number" in e for e in errors)
    assert any(e.startswith("meetbot.yaml:5:") and "treshold" in e for e in errors), errors


class HangingGerrit(FakeGerrit):
    async def get_change(self, change: str) -> None:
        await asyncio.Event().wait()


async def test_a_hanging_gerrit_never_keeps_a_meeting_open(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meetings_plugin, "GERRIT_TIMEOUT", 0.05)
    bot = Bot(gerrit=HangingGerrit())
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#agreed example/compute~7")
    actions = await bot.say("ada", "#endmeeting")
    assert votes(actions) == [] and minutes(actions)
    assert isinstance(actions[-1], Append) and actions[-1].close
