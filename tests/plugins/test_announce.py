"""The announce plugin: gerritbot's channel file in, one IRC line per channel out.

Events go through `govbot.replay.replay()` (the dispatcher, as in production), built
with `govbot.testing.samples`; config goes through `load_config()`, as
`govbot check-config` reads it (its errors are in test_announce_config.py).
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from govbot.actions import Say
from govbot.config.loader import LoadResult, load_config
from govbot.config.model import GovernanceConfig
from govbot.gerrit.events import ZERO_SHA, ChangeMerged, CommentAdded, parse_event
from govbot.plugin import MemoryState, NoGerrit, PluginContext, PluginRegistry
from govbot.plugins.announce.config import AnnounceConfig
from govbot.plugins.announce.plugin import MAX_LINE_BYTES, AnnouncePlugin, is_own_comment
from govbot.plugins.announce.settings import AnnounceSettings
from govbot.replay import replay
from govbot.testing.samples import account, change_event, comment_added, ref_updated

GOV = "example/governance"
URL = "https://review.example.org/c/example/governance/+/1234"
SUBJECT = "Add the thing"

# Who acted, per event type (notes/gerrit-events.md).
ACTOR_FIELD = {
    "patchset-created": "uploader", "change-merged": "submitter",
    "change-abandoned": "abandoner", "change-restored": "restorer",
    "hashtags-changed": "editor", "topic-changed": "changer",
    "wip-state-changed": "changer", "private-state-changed": "changer",
}


# --- helpers -------------------------------------------------------------------------

def load(tmp_path: Path, text: str) -> LoadResult:
    (tmp_path / "announcements.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(tmp_path, PluginRegistry([AnnouncePlugin()]).config_sections())


def config(tmp_path: Path, text: str) -> GovernanceConfig:
    result = load(tmp_path, text)
    assert result.config is not None, result.lines()
    return result.config


def change(type_name: str, *, project: str = GOV, branch: str = "master",
           subject: str = SUBJECT, actor: str = "alice", ps: int = 1,
           change_fields: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    event = change_event(type_name, project, 1234, ps=ps, branch=branch, subject=subject)
    if type_name in ACTOR_FIELD:
        event[ACTOR_FIELD[type_name]] = account(actor)
    event["change"].update(change_fields or {})
    event.update(fields)
    return event


def comment(votes: dict[str, int], old: dict[str, int] | None = None, *,
            text: str = "Looks good to me.", project: str = GOV) -> dict[str, Any]:
    return comment_added(project, 1234, "bob", votes, old=old, text=text, subject=SUBJECT)


async def said(cfg: GovernanceConfig, *events: dict[str, Any]) -> list[tuple[str, str]]:
    """(channel, text) of every action, after checking each is a bulk-queue Say."""
    lines = [json.dumps(e).encode() for e in events]
    outcome = await replay(lines, [AnnouncePlugin()], cfg)
    assert outcome.plugin_errors == {}
    for action in outcome.actions:
        assert isinstance(action, Say) and action.plugin == "announce"
        assert action.priority is False
    return [(a.target, a.text) for a in outcome.actions if isinstance(a, Say)]


# --- routing -------------------------------------------------------------------------

ROUTING = """\
example-tc:
  events: [patchset-created]
  projects: [example/governance]
  branches: [master]
"#example-dev":
  events: [patchset-created]
  projects: [example/compute, ^example/compute-.*]
  branches: [master, ^stable/.*]
docs:
  events: [patchset-created]
  projects: ["^example/docs?"]   # no branches: every branch
"""


@pytest.mark.parametrize(("project", "branch", "channels"), [
    (GOV, "master", ["#example-tc"]),                              # exact project, branch
    (GOV, "stable/2026.1", []),                                    # branch not listed
    ("example/governance-sigs", "master", []),                     # exact is not a prefix
    ("example/compute", "master", ["#example-dev"]),
    ("example/compute-api", "master", ["#example-dev"]),           # project regex
    ("example/compute-api", "stable/2026.1", ["#example-dev"]),    # branch regex
    ("example/compute", "unstable/2026.1", []),                    # regexes match fully
    ("example/compute", "feature/gpu", []),
    ("example/computer", "master", []),
    ("example/docs", "feature/gpu", ["#docs"]),                    # branches omitted
    ("example/doc", "master", ["#docs"]),
    ("example/docs-theme", "master", []),                          # full match, not prefix
    ("other/compute-api", "master", []),
])
async def test_routes_by_project_and_branch(tmp_path: Path, project: str, branch: str,
                                            channels: list[str]) -> None:
    got = await said(config(tmp_path, ROUTING),
                     change("patchset-created", project=project, branch=branch))
    assert [target for target, _ in got] == channels


async def test_only_listed_events_are_announced(tmp_path: Path) -> None:
    cfg = config(tmp_path, ROUTING)
    assert await said(cfg, change("change-merged"), change("change-abandoned"),
                      comment({"Code-Review": 2}, {"Code-Review": 0})) == []


async def test_one_line_per_channel_for_overlapping_channels(tmp_path: Path) -> None:
    cfg = config(tmp_path, """\
        a: {events: [change-merged], projects: [example/governance]}
        b: {events: [change-merged], projects: ["^example/.*"]}
        c: {events: [change-merged], projects: [example/compute]}
        """)
    text = f"Merged example/governance master: {SUBJECT}  {URL}"
    assert await said(cfg, change("change-merged")) == [("#a", text), ("#b", text)]


# --- each event's message ------------------------------------------------------------

EVERYTHING = """\
all:
  events: [patchset-created, change-merged, change-abandoned, change-restored,
           comment-added, hashtags-changed, topic-changed, wip-state-changed,
           private-state-changed, ref-updated]
  projects: [example/governance]
"""
AT = f"example/governance master: {SUBJECT}  {URL}"


@pytest.mark.parametrize(("event", "text"), [
    pytest.param(change("patchset-created"), f"alice proposed {AT}", id="proposed"),
    pytest.param(change("patchset-created", ps=3), f"alice updated {AT}", id="updated"),
    pytest.param(change("patchset-created", ps=2, patchSet={
        **change_event("patchset-created", GOV, 1234, ps=2)["patchSet"],
        "kind": "TRIVIAL_REBASE"}), f"alice rebased {AT}", id="rebased"),
    pytest.param(change("change-merged", actor="zuul"), f"Merged {AT}", id="merged"),
    pytest.param(change("change-abandoned", reason="superseded"), f"alice abandoned {AT}",
                 id="abandoned"),
    pytest.param(change("change-restored"), f"alice restored {AT}", id="restored"),
    pytest.param(change("hashtags-changed", added=["formal-vote"], removed=[]),
                 f"alice added hashtags formal-vote to {AT}", id="hashtag-added"),
    pytest.param(change("hashtags-changed", added=[], removed=["formal-vote"]),
                 f"alice removed hashtags formal-vote from {AT}", id="hashtag-removed"),
    pytest.param(change("hashtags-changed", added=["a", "b"], removed=["c"]),
                 f"alice added hashtags a, b and removed hashtags c on {AT}",
                 id="hashtags-both"),
    pytest.param(change("topic-changed", change_fields={"topic": "cycle-goals"}),
                 f"alice set topic cycle-goals on {AT}", id="topic-set"),
    pytest.param(change("topic-changed", oldTopic="old", change_fields={"topic": "new"}),
                 f"alice changed topic from old to new on {AT}", id="topic-changed"),
    pytest.param(change("topic-changed", oldTopic="old"),
                 f"alice removed topic old from {AT}", id="topic-removed"),
    pytest.param(change("wip-state-changed", change_fields={"wip": True}),
                 f"alice marked example/governance master work in progress: {SUBJECT}  {URL}",
                 id="wip"),
    pytest.param(change("wip-state-changed"),
                 f"alice marked example/governance master ready for review: {SUBJECT}  {URL}",
                 id="ready"),
    pytest.param(change("private-state-changed", change_fields={"private": True}),
                 f"alice marked example/governance master private: {SUBJECT}  {URL}",
                 id="private"),
    pytest.param(change("private-state-changed"),
                 f"alice marked example/governance master public: {SUBJECT}  {URL}",
                 id="public"),
    pytest.param(comment({}, text="Please split this."), f"bob commented on {AT}",
                 id="commented"),
    pytest.param(comment({"Code-Review": 1, "Verified": 1}, {"Code-Review": 0}),
                 f"bob voted Code-Review+1 on {AT}", id="voted-only-changed"),
    pytest.param(comment({"Code-Review": 0}, {"Code-Review": 2}),
                 f"bob voted Code-Review+0 on {AT}", id="vote-reset"),
    pytest.param(ref_updated(GOV, "refs/tags/1.2.0", old=ZERO_SHA, who="carol"),
                 "tag 1.2.0 pushed to example/governance by carol", id="tag"),
])
async def test_message_of_each_event(tmp_path: Path, event: dict[str, Any], text: str) -> None:
    assert await said(config(tmp_path, EVERYTHING), event) == [("#all", text)]


@pytest.mark.parametrize("event", [
    pytest.param(change("hashtags-changed", added=[], removed=[]), id="no-hashtag-change"),
    pytest.param(change("topic-changed"), id="no-topic-either-side"),
    pytest.param(comment({"Code-Review": 2}, text=""), id="repeated-vote-no-words"),
    pytest.param(change("patchset-created", change_fields={"private": True}),
                 id="private-change"),
    pytest.param(comment({"Code-Review": 2}, {"Code-Review": 0}) | {
        "change": {**comment({})["change"], "private": True}}, id="vote-on-private-change"),
    pytest.param(change("reviewer-added", reviewer=account("dave"), adder=account("alice")),
                 id="not-an-announced-event"),
])
async def test_nothing_to_say(tmp_path: Path, event: dict[str, Any]) -> None:
    assert await said(config(tmp_path, EVERYTHING), event) == []


# --- vote filters: changed votes only, old gerritbot codes mapped ----------------------

VOTES = """\
tc:
  events: [vote:Rollcall-Vote=+1, x-crvw-minus-2, x-vrif-minus-1, x-workflow-plus-1]
  projects: [example/governance]
gate:
  events:
    - comment-added: {label: Verified, value: -2}
    - vote:Code-Review             # any new Code-Review vote
  projects: [example/governance]
"""


@pytest.mark.parametrize(("votes", "old", "expected"), [
    ({"Rollcall-Vote": 1}, {"Rollcall-Vote": 0}, [("#tc", "bob voted Rollcall-Vote+1")]),
    ({"Rollcall-Vote": 1}, {"Rollcall-Vote": -1}, [("#tc", "bob voted Rollcall-Vote+1")]),
    # Repeated without oldValue: the author's current vote, not a change.
    ({"Rollcall-Vote": 1}, {}, []),
    # oldValue equal to value: nothing changed either.
    ({"Rollcall-Vote": 1}, {"Rollcall-Vote": 1}, []),
    ({"Rollcall-Vote": -1}, {"Rollcall-Vote": 0}, []),
    # x-crvw-minus-2 means Code-Review changed to -2 on modern Gerrit.
    ({"Code-Review": -2}, {"Code-Review": 0},
     [("#tc", "bob voted Code-Review-2"), ("#gate", "bob voted Code-Review-2")]),
    ({"Code-Review": -2}, {}, []),
    ({"Code-Review": 1}, {"Code-Review": 0}, [("#gate", "bob voted Code-Review+1")]),
    # Several matching votes: still one line per channel, each naming its own matches.
    ({"Code-Review": -2, "Verified": -1}, {"Code-Review": 0, "Verified": 0},
     [("#tc", "bob voted Code-Review-2 Verified-1"), ("#gate", "bob voted Code-Review-2")]),
    ({"Code-Review": -2, "Rollcall-Vote": 1}, {"Rollcall-Vote": 0},
     [("#tc", "bob voted Rollcall-Vote+1")]),
    ({"Verified": -2}, {"Verified": 1}, [("#gate", "bob voted Verified-2")]),
    ({"Workflow": 1}, {"Workflow": 0}, [("#tc", "bob voted Workflow+1")]),
    # Gerrit 2.x codes never come from a modern server; they are not label names.
    ({"CRVW": -2}, {"CRVW": 0}, []),
])
async def test_vote_filters(tmp_path: Path, votes: dict[str, int], old: dict[str, int],
                            expected: list[tuple[str, str]]) -> None:
    got = await said(config(tmp_path, VOTES), comment(votes, old))
    assert got == [(channel, f"{text} on {AT}") for channel, text in expected]


@pytest.mark.parametrize(("event", "text"), [
    (comment({"Code-Review": -2}, {"Code-Review": 0}), "bob voted Code-Review-2 on"),
    (comment({"Code-Review": -2}), "bob commented on"),  # repeated vote, with words
    (comment({"Code-Review": -2}, text=""), None),        # repeated vote, no words
])
async def test_comment_added_and_a_filter_give_one_line(
        tmp_path: Path, event: dict[str, Any], text: str | None) -> None:
    cfg = config(tmp_path, """\
        both: {events: [comment-added, x-crvw-minus-2], projects: [example/governance]}
        """)
    assert await said(cfg, event) == ([("#both", f"{text} {AT}")] if text else [])


# --- ref-updated: tags only ------------------------------------------------------------

TAGS = """\
releases:
  events: [ref-updated]
  projects: [example/compute, ^example/compute-.*]
  branches: [master]     # branches do not apply to tags
"""


@pytest.mark.parametrize(("event", "expected"), [
    (ref_updated("example/compute", "refs/tags/1.2.0", old=ZERO_SHA, who="carol"),
     [("#releases", "tag 1.2.0 pushed to example/compute by carol")]),
    (ref_updated("example/compute-api", "refs/tags/2026.1.0rc1", old=ZERO_SHA, who="carol",
                 legacy=True),
     [("#releases", "tag 2026.1.0rc1 pushed to example/compute-api by carol")]),
    (ref_updated("example/docs", "refs/tags/1.2.0", old=ZERO_SHA), []),        # project
    (ref_updated("example/compute", "refs/heads/master"), []),                # a branch push
    (ref_updated("example/compute", "refs/heads/stable/1", old=ZERO_SHA), []),  # new branch
    (ref_updated("example/compute", "master"), []),                           # bare branch
    (ref_updated("example/compute", "refs/tags/1.2.0", new=ZERO_SHA), []),    # deleted tag
    (ref_updated("example/compute", "refs/tags/1.2.0"), []),                  # moved tag
])
async def test_tags_are_announced_branches_are_not(
        tmp_path: Path, event: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert await said(config(tmp_path, TAGS), event) == expected


# --- hostile and long text -------------------------------------------------------------

@pytest.mark.parametrize(("raw", "clean"), [
    ("\x02Bold\x02 \x1ditalic\x1d \x1funder\x1f \x16rev\x16 \x0freset",
     "Bold italic under rev reset"),
    ("\x0304,12red\x03 and \x0312blue\x03 \x03plain", "red and blue plain"),
    ("\x01ACTION waves\x01", "ACTION waves"),
    ("Fix it\r\nPRIVMSG #other :pwned", "Fix it PRIVMSG #other :pwned"),
    ("tab\there\x00nul\x7fdel\u202eevil", "tab herenuldelevil"),
])
async def test_control_characters_are_stripped(tmp_path: Path, raw: str, clean: str) -> None:
    cfg = config(tmp_path, EVERYTHING)
    got = await said(cfg, change("patchset-created", subject=raw, actor="\x01mallory"),
                     change("topic-changed", change_fields={"topic": "a\nb\x03"},
                            subject=raw))
    assert got == [("#all", f"mallory proposed example/governance master: {clean}  {URL}"),
                   ("#all", f"alice set topic a b on example/governance master: {clean}  {URL}")]
    for _, text in got:
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


@pytest.mark.parametrize(("subject", "branch"), [
    ("Rework the scheduler " * 20, "master"),
    ("é" * 300, "master"),                                    # multi-byte: bytes count
    ("\U0001f600" * 150, "master"),                          # the byte budget binds
    ("Rework the scheduler " * 20, "feature/" + "x" * 300),
])
async def test_long_text_is_clipped_and_the_url_kept(tmp_path: Path, subject: str,
                                                     branch: str) -> None:
    cfg = config(tmp_path, "all: {events: [patchset-created], projects: [example/governance]}")
    [(_, text)] = await said(cfg, change("patchset-created", subject=subject, branch=branch))
    assert text.endswith(f"...  {URL}")
    assert len(text.encode()) <= MAX_LINE_BYTES
    assert text.startswith("alice proposed example/governance ")
    clipped = text.partition(": ")[2]
    assert 40 <= len(clipped) - len(URL) - 2 <= 100


async def test_url_falls_back_to_the_operator_setting(tmp_path: Path) -> None:
    cfg = config(tmp_path, EVERYTHING)
    event = parse_event(json.dumps(change("change-merged") | {
        "change": {**change("change-merged")["change"], "url": None}}))
    ctx = PluginContext("announce", "e1", cfg, NoGerrit(), MemoryState(),
                        dt.datetime.now(dt.UTC), AnnounceSettings(gerrit_url="https://gerrit.test/"))
    assert isinstance(event, ChangeMerged)
    [action] = await AnnouncePlugin().on_change(event, ctx)
    assert isinstance(action, Say)
    assert action.text.endswith("  https://gerrit.test/c/example/governance/+/1234")


def test_own_comments_are_recognised_by_their_tag() -> None:
    # The stream does not carry a comment's tag today; a source that does gets this.
    tagged = [cast(CommentAdded, SimpleNamespace(tag=tag))
              for tag in ("autogenerated:govbot:governance", "autogenerated:zuul")]
    assert [is_own_comment(event) for event in tagged] == [True, False]
    streamed = parse_event(json.dumps(comment({"Code-Review": 1})))
    assert isinstance(streamed, CommentAdded) and not is_own_comment(streamed)


# --- the config file -------------------------------------------------------------------

GERRITBOT_FILE = """\
openstack-tc:
  events:
    - patchset-created
    - change-merged
    - x-vrif-minus-1
  projects:
    - openstack/governance
    - ^openstack/.*-specs
  branches:
    - master
    - ^stable/.*
"""


async def test_reads_a_gerritbot_file_as_is(tmp_path: Path) -> None:
    cfg = config(tmp_path, GERRITBOT_FILE)
    parsed = cfg.section("announce")
    assert isinstance(parsed, AnnounceConfig)
    [channel] = parsed.channels
    assert channel.name == "#openstack-tc"
    assert channel.source.line == 1
    got = await said(
        cfg,
        change("patchset-created", project="openstack/nova-specs", branch="stable/2026.1"),
        comment_added("openstack/governance", 7, "zuul", {"Verified": -1}, old={"Verified": 0},
                      subject="Add the thing"),
        change("change-merged", project="openstack/nova"))
    assert got == [
        ("#openstack-tc", "alice proposed openstack/nova-specs stable/2026.1: Add the thing  "
                          "https://review.example.org/c/openstack/nova-specs/+/1234"),
        ("#openstack-tc", "zuul voted Verified-1 on openstack/governance master: Add the thing  "
                          "https://review.example.org/c/openstack/governance/+/7"),
    ]
