"""The validation toolkit: each kind of problem, with its exact message."""

from __future__ import annotations

from typing import Any

import pytest

from govbot.config.model import Source
from govbot.config.schema import (
    INVALID,
    Bool,
    Check,
    Either,
    Enum,
    Field,
    Glob,
    Int,
    Issues,
    ListOf,
    MapOf,
    Pattern,
    Regex,
    Schema,
    Str,
)
from govbot.config.sections import ConfigFile
from govbot.config.yamlpos import YamlMap, load_yaml

HERE = Source("f.yaml", 7)

PERSON_IDS = ListOf(Str(expected="a person id", plural="person ids"))
BODY = Schema({
    "name": Field(Str(), required=True),
    "members": Field(PERSON_IDS, default=()),
    "label": Field(Str(), default="Code-Review"),
    "open": Field(Bool(), default=False),
}, what="a body")


def check(checker: Check, value: Any, label: str = "'x'") -> tuple[Any, list[str]]:
    issues = Issues()
    result = checker.check(value, HERE, label, issues)
    return result, [str(e) for e in issues.errors]


@pytest.mark.parametrize(("checker", "value", "message"), [
    (Str(), 3, "'x' must be a string, got an integer"),
    (Str(), "", "'x' must not be empty; give a string"),
    (Str(pattern=r"#\S+", expected="an IRC channel"), "tc",
     "'x' must be an IRC channel, got 'tc'"),
    (Int(), "12", "'x' must be an integer, got a string"),
    (Int(), True, "'x' must be an integer, got a boolean"),
    (Int(minimum=1), 0, "'x' must be at least 1, got 0"),
    (Bool(), "yes please", "'x' must be true or false, got a string"),
    (Enum("ptl", "distributed"), "distribute",
     "'x' must be one of 'ptl', 'distributed', got 'distribute' (did you mean 'distributed'?)"),
    (PERSON_IDS, "alice", "'x' must be a list of person ids, got a string"),
    (PERSON_IDS, ["alice", {"a": 1}], "item 2 of 'x' must be a person id, got a mapping"),
    (MapOf(Int(), item_label="count '{key}'"), {"a": "1"},
     "count 'a' must be an integer, got a string"),
    (Either(Str(), Int()), [1], "'x' must be a string or an integer, got a list"),
    (Regex(), "(unclosed",
     "'x' '(unclosed' is not a valid regular expression: missing ), unterminated subpattern "
     "at position 0"),
    (Pattern(), "^stable/(",
     "'x' '^stable/(' is not a valid regular expression: missing ), unterminated subpattern "
     "at position 8; fix it, or drop the leading '^' to match the text exactly"),
])
def test_wrong_values(checker: Check, value: Any, message: str) -> None:
    result, errors = check(checker, value)
    assert result is INVALID or errors
    assert errors == [f"f.yaml:7: {message}"]


@pytest.mark.parametrize(("glob", "problem"), [
    ("", "is empty; Gerrit file paths are relative to the repository root, "
         "like 'doc/source/*.rst'"),
    ("/charter.rst", "can never match: Gerrit file paths are relative to the repository root, "
                     "like 'doc/source/*.rst' (drop the leading '/')"),
    ("reference/", "can never match: Gerrit lists files, not directories "
                   "(write 'reference/**' for everything under it)"),
    ("doc/../charter.rst", "can never match: Gerrit paths have no '.' or '..' segments"),
    ("./charter.rst", "can never match: Gerrit paths have no '.' or '..' segments"),
    ("doc//x", "can never match: it has an empty path segment ('//')"),
    ("nova\\virt\\*", "contains '\\': Gerrit paths use '/' separators"),
])
def test_globs_that_cannot_match(glob: str, problem: str) -> None:
    _, errors = check(Glob(), glob, "'files'")
    assert errors == [f"f.yaml:7: 'files' {glob!r} {problem}"]


@pytest.mark.parametrize("glob", [
    "reference/charter.rst", "nova/virt/libvirt/**", "*.rst", "doc/*/index.rst",
    "^nova/virt/(libvirt|xenapi)/.*", ".zuul.yaml",
])
def test_globs_that_can_match(glob: str) -> None:
    assert check(Glob(), glob) == (glob, [])


def test_pattern_exact_text_is_not_a_regex() -> None:
    assert check(Pattern(), "openstack/nova(") == ("openstack/nova(", [])


def test_schema_collects_every_problem() -> None:
    data = load_yaml("name: 5\nmembrs: [a]\nmembers: alice\nopen: maybe\n", "bodies.yaml")
    issues = Issues()
    BODY.read(data, issues)
    assert [str(e) for e in issues.errors] == [
        "bodies.yaml:2: unknown key 'membrs' in a body (did you mean 'members'?)",
        "bodies.yaml:1: 'name' must be a string, got an integer",
        "bodies.yaml:3: 'members' must be a list of person ids, got a string",
        "bodies.yaml:4: 'open' must be true or false, got a string",
    ]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    issues = Issues()
    BODY.read(load_yaml("name: x\nzzz: 1\n", "f.yaml"), issues)
    assert [str(e) for e in issues.errors] == [
        "f.yaml:2: unknown key 'zzz' in a body; allowed keys: name, members, label, open"]


def test_missing_required_key_points_at_the_mapping() -> None:
    issues = Issues()
    data = load_yaml("tc:\n  label: Rollcall-Vote\n", "bodies.yaml")
    BODY.read(data["tc"], issues)
    assert [str(e) for e in issues.errors] == [
        "bodies.yaml:2: required key 'name' is missing in a body"]


def test_required_key_without_value() -> None:
    issues = Issues()
    BODY.read(load_yaml("name:\n", "bodies.yaml"), issues)
    assert [str(e) for e in issues.errors] == [
        "bodies.yaml:1: required key 'name' has no value in a body"]


def test_valid_mapping_fills_defaults_and_keeps_positions() -> None:
    issues = Issues()
    result = BODY.read(load_yaml("name: TC\nmembers:\n  - a\n  - b\n", "f.yaml"), issues)
    assert issues.errors == []
    assert isinstance(result, YamlMap)
    assert result == {"name": "TC", "members": ["a", "b"], "label": "Code-Review",
                      "open": False}
    assert result["members"].source_of(1) == Source("f.yaml", 4)


def test_single_value_accepted_as_a_list_when_asked() -> None:
    chairs = ListOf(Str(), single_ok=True)
    assert check(chairs, "alice") == (["alice"], [])


def test_extra_keys_ignored_for_foreign_formats() -> None:
    team = Schema({"ptl": Field(Str())}, extra="ignore")
    issues = Issues()
    assert team.read(load_yaml("ptl: a\nmission: x\n", "f.yaml"), issues) == {"ptl": "a"}
    assert issues.errors == []


def test_read_file_for_plugins() -> None:
    issues = Issues()
    channels = MapOf(Schema({"projects": Field(ListOf(Pattern()), required=True)},
                            what="a channel"))
    file = ConfigFile("announce.yaml", load_yaml("'#a':\n  projects: ['^x(']\n",
                                                 "announce.yaml"))
    channels.read_file(file, issues)
    assert [str(e) for e in issues.errors] == [
        "announce.yaml:2: item 1 of 'projects' '^x(' is not a valid regular expression: "
        "missing ), unterminated subpattern at position 2; fix it, or drop the leading '^' "
        "to match the text exactly"]
    issues = Issues()
    channels.read_file(ConfigFile("announce.yaml", None), issues)
    assert [str(e) for e in issues.errors] == [
        "announce.yaml:1: this file must be a mapping of strings to mappings, "
        "got nothing (an empty value)"]


def test_plain_dicts_work_without_positions() -> None:
    issues = Issues()
    BODY.read({"name": 1}, issues, where=HERE)
    assert [str(e) for e in issues.errors] == ["f.yaml:7: 'name' must be a string, got an integer"]
