"""The loader: core files, plugin sections, and how every problem is reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conftest import PEOPLE, PROJECT_ROOT, Loader, Writer, errors_of

from govbot.config.loader import load_config
from govbot.config.schema import Field, Glob, ListOf, MapOf, Pattern, Schema, Str
from govbot.config.sections import ConfigFile, ConfigSection, SectionContext

# A plugin section written with the toolkit, as a plugin author would.
RULE = Schema({
    "body": Field(Str(), required=True),
    "projects": Field(ListOf(Pattern()), default=()),
    "files": Field(ListOf(Glob()), default=()),
}, what="a rule")
RULES = MapOf(RULE, item_label="rule '{key}'")


def parse_rules(files: Sequence[ConfigFile], ctx: SectionContext) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for file in files:
        for name, rule in (RULES.read_file(file, ctx) or {}).items():
            if rule["body"] and rule["body"] not in ctx.bodies:
                ctx.error(rule.source_of("body"), f"rule {name!r}: unknown body {rule['body']!r}")
            rules[name] = rule
    return rules


RULES_SECTION = ("governance", ConfigSection("rules/*.yaml", parse_rules, "voting rules"))
BODIES = "tc:\n  members: [alice, bob]\n"


def test_plugin_section_gets_its_files_sorted(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": BODIES,
             "rules__b.yaml": "second: {body: tc}\n",
             "rules__a.yaml": "first: {body: tc, projects: ['^example/.*'], files: ['*.rst']}\n"})
    result = load([RULES_SECTION])
    assert errors_of(result) == []
    rules = result.config.section("governance")  # type: ignore[union-attr]
    assert list(rules) == ["first", "second"]
    assert rules["first"]["files"] == ["*.rst"]
    assert result.files == ["bodies.yaml", "people.yaml", "rules/a.yaml", "rules/b.yaml"]


def test_bad_glob(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": BODIES,
             "rules__a.yaml": "charter:\n  body: tc\n  files:\n    - /reference/charter.rst\n"})
    assert errors_of(load([RULES_SECTION])) == [
        "rules/a.yaml:4: item 1 of 'files' '/reference/charter.rst' can never match: Gerrit "
        "file paths are relative to the repository root, like 'doc/source/*.rst' (drop the "
        "leading '/')"]


def test_bad_regex(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": BODIES,
             "rules__a.yaml": "r:\n  body: tc\n  projects: ['^openstack/(nova|neutron']\n"})
    assert errors_of(load([RULES_SECTION])) == [
        "rules/a.yaml:3: item 1 of 'projects' '^openstack/(nova|neutron' is not a valid "
        "regular expression: missing ), unterminated subpattern at position 11; fix it, or "
        "drop the leading '^' to match the text exactly"]


def test_section_context_errors_and_core_view(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": BODIES,
             "rules__a.yaml": "r:\n  body: council\n"})
    result = load([RULES_SECTION])
    assert result.config is None
    assert errors_of(result) == ["rules/a.yaml:2: rule 'r': unknown body 'council'"]


def test_plugin_parse_that_raises(write: Writer, load: Loader) -> None:
    def broken(files: Sequence[ConfigFile], ctx: SectionContext) -> Any:
        return files[0].data["missing"]

    write(**{"meetings.yaml": "tc: {}\n"})
    result = load([("meetings", ConfigSection("meetings.yaml", broken))])
    assert result.config is None
    assert errors_of(result) == [
        "meetings.yaml:1: plugin 'meetings' crashed while reading 'meetings.yaml': "
        "KeyError: 'missing' (a bug in the plugin: report it with this line)"]


def test_required_section_missing(load: Loader) -> None:
    section = ConfigSection("meetings/*.yaml", lambda files, ctx: None,
                            "irc-meetings schedules", required=True)
    assert errors_of(load([("meetings", section)])) == [
        "meetings/*.yaml:1: missing: plugin 'meetings' requires a file matching "
        "'meetings/*.yaml' (irc-meetings schedules); create it"]


def test_optional_section_missing_gets_no_files(load: Loader) -> None:
    seen: list[Sequence[ConfigFile]] = []

    def parse(files: Sequence[ConfigFile], ctx: SectionContext) -> str:
        seen.append(files)
        return "parsed"

    result = load([("announce", ConfigSection("announce.yaml", parse))])
    assert seen == [[]] and result.config.section("announce") == "parsed"  # type: ignore[union-attr]


def test_plugin_with_two_sections(write: Writer, load: Loader) -> None:
    write(**{"a.yaml": "1\n", "b.yaml": "2\n"})
    result = load([("p", ConfigSection("a.yaml", lambda f, c: f[0].data)),
                   ("p", ConfigSection("b.yaml", lambda f, c: f[0].data))])
    assert result.config.section("p") == {"a.yaml": 1, "b.yaml": 2}  # type: ignore[union-attr]


def test_syntax_error_in_a_plugin_file_skips_only_that_file(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": BODIES,
             "rules__a.yaml": "ok: {body: tc}\n", "rules__b.yaml": "bad: {body: tc\n"})
    result = load([RULES_SECTION])
    assert errors_of(result) == [
        "rules/b.yaml:2: invalid YAML: did not find expected ',' or '}' "
        "(while parsing a flow mapping at line 1)"]


def test_unclaimed_root_yaml_is_a_warning(write: Writer, load: Loader) -> None:
    write(**{"peple.yaml": PEOPLE, "notes.txt": "x", "docs__extra.yaml": "a: 1\n",
             ".zuul.yaml": "- job: {name: x}\n", "rules__a.yaml": "{}\n"})
    result = load([RULES_SECTION])
    assert errors_of(result) == []
    assert [str(w) for w in result.warnings] == [
        "peple.yaml:1: not used by any plugin or by the core "
        "(did you mean 'people.yaml'?)"]


def test_errors_are_sorted_by_file_then_line(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": "- id: a\n  name: 1\n- id: b\n  nam: B\n",
             "bodies.yaml": "tc:\n  members: [zz]\n"})
    result = load()
    # bodies.yaml's 'zz' is not reported: with people.yaml broken it is an echo.
    assert [(e.source.file, e.source.line) for e in result.errors] == [
        ("people.yaml", 2), ("people.yaml", 3), ("people.yaml", 4)]
    write(**{"people.yaml": "- {id: a, name: A}\n",
             "bodies.yaml": "tc:\n  members: [a]\n  label: 1\n",
             "projects.yaml": "nova:\n  leadership_type: 7\n"})
    assert [(e.source.file, e.source.line) for e in load().errors] == [
        ("bodies.yaml", 3), ("projects.yaml", 2)]


def test_empty_repo_loads_an_empty_config(load: Loader) -> None:
    result = load(revision="abc")
    assert result.ok and result.config is not None
    assert (dict(result.config.people), result.config.revision) == ({}, "abc")


def test_example_config_loads_without_errors_or_warnings() -> None:
    result = load_config(PROJECT_ROOT / "etc" / "governance", [])
    assert errors_of(result) == []
    # Plugins' files are not claimed here (no plugin sections given): only the core's count.
    core = {"people.yaml", "bodies.yaml", "projects.yaml"}
    assert [str(w) for w in result.warnings if w.source.file in core] == []
    config = result.config
    assert config is not None
    tc = config.bodies["tc"]
    assert (tc.size, tc.label, tc.channel) == (9, "Rollcall-Vote", "#example-tc")
    assert tc.roles["chair"] and tc.roles["vice-chair"]
    council = config.bodies["infra-council"]
    infra_ptl = config.teams["infrastructure"].ptl["person"]
    assert council.size == 5 and council.roles["chair"] == (infra_ptl,)
    assert infra_ptl in council.members
    assert {b for b in config.bodies if b.startswith("nova")} == {
        "nova-core", "nova-libvirt-core", "nova-xen-core"}
    assert all(config.bodies[b].label == "Code-Review" for b in ("nova-core", "nova-xen-core"))
    on_several = [p for p in config.people
                  if sum(p in config.bodies[b].members for b in config.bodies) > 1]
    assert on_several
    assert set(config.teams) == {"compute", "infrastructure", "docs", "release-management"}
    assert all(team.ptl.get("person") in config.people for team in config.teams.values())


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    result = load_config(tmp_path / "nope", [])
    assert errors_of(result) == [
        f"{tmp_path / 'nope'}:0: the config root is not a directory; check the repository "
        "path and its subdirectory"]
