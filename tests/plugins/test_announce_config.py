"""announcements.yaml: gerritbot's channel format validated, every error at its FILE:LINE.

Errors are asserted exactly as `govbot check-config` prints them, through
`load_config()` with only this plugin's section (the behaviour is in test_announce.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from govbot.actions import Say
from govbot.config.loader import LoadResult, load_config
from govbot.config.schema import Issues
from govbot.config.yamlpos import parse_yaml_file
from govbot.plugin import PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.plugins.announce.config import AnnounceConfig, parse_channels
from govbot.plugins.announce.plugin import AnnouncePlugin

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, text: str) -> LoadResult:
    (tmp_path / "announcements.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(tmp_path, PluginRegistry([AnnouncePlugin()]).config_sections())


def test_the_example_file_in_etc_loads_clean() -> None:
    data, problems = parse_yaml_file(ROOT / "etc/governance/announcements.yaml",
                                     "announcements.yaml")
    issues = Issues()
    parsed = parse_channels(data, "announcements.yaml", issues)
    assert problems == [] and issues.errors == []
    assert [c.name for c in parsed.channels] == ["#example-tc", "#example-dev"]
    dev = parsed.channels[1]
    assert {(v.label, v.value) for v in dev.votes} == {
        ("Verified", -2), ("Workflow", 1), ("Code-Review", -2)}


def test_is_a_builtin_plugin() -> None:
    [plugin] = load_plugins(["announce"])
    assert isinstance(plugin, AnnouncePlugin) and plugin.emits == (Say,)


@pytest.mark.parametrize("text", ["", "# nothing announced yet\n"])
def test_an_empty_file_announces_nothing(tmp_path: Path, text: str) -> None:
    result = load(tmp_path, text)
    assert result.config is not None and result.errors == []
    assert result.config.section("announce") == AnnounceConfig()


F = "announcements.yaml"
REGEX_HINT = "; fix it, or drop the leading '^' to match the text exactly"


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("tc:\n  events: [patchset-create]\n  projects: [a]\n",
                 [f"{F}:2: item 1 of 'events' is an unknown event 'patchset-create' "
                  "(did you mean 'patchset-created'?)"], id="unknown-event"),
    pytest.param("tc:\n  events: [frobnicate]\n  projects: [a]\n",
                 [f"{F}:2: item 1 of 'events' is an unknown event 'frobnicate'; known events: "
                  "patchset-created, change-merged, change-abandoned, change-restored, "
                  "comment-added, hashtags-changed, topic-changed, wip-state-changed, "
                  "private-state-changed, ref-updated"], id="unknown-event-no-hint"),
    pytest.param("tc:\n  events: [x-crvw-minus-22, x-vrif-minsu-1]\n  projects: [a]\n",
                 [f"{F}:2: item 2 of 'events' is an unknown event 'x-vrif-minsu-1' "
                  "(did you mean 'x-vrif-minus-1'?)"], id="legacy-typo"),
    pytest.param("tc:\n  events:\n    - x-aprv-plus-1\n  projects: [a]\n",
                 [f"{F}:3: item 1 of 'events' 'x-aprv-plus-1' uses an unknown gerritbot label "
                  "code 'aprv'; known codes: crvw (Code-Review), vrif (Verified), workflow "
                  "(Workflow); for any other label write 'vote:LABEL=VALUE'"],
                 id="legacy-unknown-code"),
    pytest.param("tc:\n  events: [x-crvw-plus-0]\n  projects: [a]\n",
                 [f"{F}:2: item 1 of 'events' 'x-crvw-plus-0' filters on a vote of 0; use "
                  "'vote:LABEL=0' to announce votes being reset"], id="legacy-zero"),
    pytest.param("tc:\n  events: ['vote:Code-Review=+x']\n  projects: [a]\n",
                 [f"{F}:2: item 1 of 'events' 'vote:Code-Review=+x' is not a vote filter; "
                  "write 'vote:LABEL=VALUE' like 'vote:Code-Review=-2', or 'vote:LABEL' for "
                  "any new vote on that label"], id="bad-vote-string"),
    pytest.param("tc:\n  events:\n    - patchset-created: {label: Code-Review}\n"
                 "  projects: [a]\n",
                 [f"{F}:3: item 1 of 'events': only 'comment-added' takes a vote filter, "
                  "not 'patchset-created'"], id="filter-on-wrong-event"),
    pytest.param("tc:\n  events:\n    - coment-added: {label: Code-Review}\n"
                 "  projects: [a]\n",
                 [f"{F}:3: item 1 of 'events' is an unknown event 'coment-added' "
                  "(did you mean 'comment-added'?)"], id="filter-event-typo"),
    pytest.param("tc:\n  events:\n    - comment-added: {label: Code-Review}\n"
                 "      change-merged: {}\n  projects: [a]\n",
                 [f"{F}:3: item 1 of 'events' must have exactly one key, 'comment-added', "
                  "got 2 keys"], id="filter-two-keys"),
    pytest.param("tc:\n  events:\n    - comment-added:\n        label: Code-Review\n"
                 "        valeu: -2\n  projects: [a]\n",
                 [f"{F}:5: unknown key 'valeu' in a vote filter (did you mean 'value'?)"],
                 id="filter-unknown-key"),
    pytest.param("tc:\n  events:\n    - comment-added: {value: -2}\n  projects: [a]\n",
                 [f"{F}:3: required key 'label' is missing in a vote filter"],
                 id="filter-no-label"),
    pytest.param("tc:\n  events:\n    - comment-added: {label: Code Review, value: true}\n"
                 "  projects: [a]\n",
                 [f"{F}:3: 'label' must be a Gerrit label name, got 'Code Review'",
                  f"{F}:3: 'value' must be a vote value like -2 or +1, got a boolean"],
                 id="filter-bad-types"),
    pytest.param("tc:\n  events:\n    - comment-added: Code-Review\n  projects: [a]\n",
                 [f"{F}:3: 'comment-added' must be a mapping, got a string"],
                 id="filter-not-a-mapping"),
    pytest.param("tc:\n  events: [3]\n  projects: [a]\n",
                 [f"{F}:2: item 1 of 'events' must be an event name, a gerritbot filter like "
                  "'x-crvw-minus-2', 'vote:LABEL=VALUE' or a mapping {comment-added: "
                  "{label: ..., value: ...}}, got an integer"], id="event-not-a-string"),
    pytest.param("tc:\n  events: patchset-created\n  projects: [a]\n",
                 [f"{F}:2: 'events' must be a list of events, got a string"],
                 id="events-not-a-list"),
    pytest.param("tc:\n  events: []\n  projects: [a]\n",
                 [f"{F}:2: 'events' must not be empty; give a list of events"],
                 id="events-empty"),
    pytest.param("tc:\n  events: [change-merged]\n  projects:\n    - ^example/(\n",
                 [f"{F}:4: item 1 of 'projects' '^example/(' is not a valid regular "
                  f"expression: missing ), unterminated subpattern at position 9{REGEX_HINT}"],
                 id="bad-project-regex"),
    pytest.param("tc:\n  events: [change-merged]\n  projects: [a]\n  branches: ['^stable/[']\n",
                 [f"{F}:4: item 1 of 'branches' '^stable/[' is not a valid regular "
                  f"expression: unterminated character set at position 8{REGEX_HINT}"],
                 id="bad-branch-regex"),
    pytest.param("tc:\n  events: [change-merged]\n  projects: {a: b}\n",
                 [f"{F}:3: 'projects' must be a list of names or '^regexes', got a mapping"],
                 id="projects-not-a-list"),
    pytest.param("tc:\n  events: [change-merged]\n  projects: [a, 7]\n",
                 [f"{F}:3: item 2 of 'projects' must be a name or a '^regex', got an integer"],
                 id="project-not-a-string"),
    pytest.param("tc:\n  events: [change-merged]\n",
                 [f"{F}:2: required key 'projects' is missing in channel '#tc'"],
                 id="projects-missing"),
    pytest.param("tc:\n  events: [change-merged]\n  projects: [a]\n  branch: [master]\n",
                 [f"{F}:4: unknown key 'branch' in channel '#tc' (did you mean 'branches'?)"],
                 id="unknown-key"),
    pytest.param("tc: [change-merged]\n",
                 [f"{F}:1: channel '#tc' must be a mapping, got a list"],
                 id="channel-not-a-mapping"),
    pytest.param("- tc\n",
                 [f"{F}:1: this file must be a mapping of IRC channel names to channels, "
                  "got a list"], id="file-not-a-mapping"),
    pytest.param("bad channel:\n  events: [change-merged]\n  projects: [a]\n",
                 [f"{F}:1: channel 'bad channel' must be an IRC channel name like "
                  "'example-tc' or '#example-tc', got 'bad channel'"], id="bad-channel-name"),
    pytest.param("tc: {events: [change-merged], projects: [a]}\n"
                 "'#TC': {events: [patchset-created], projects: [b]}\n",
                 [f"{F}:2: channel '#TC' is already configured at {F}:1; merge the two "
                  "entries"], id="duplicate-channel"),
])
def test_config_errors(tmp_path: Path, text: str, expected: list[str]) -> None:
    result = load(tmp_path, text)
    assert result.config is None
    assert [str(e) for e in result.errors] == expected
