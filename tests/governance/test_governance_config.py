"""rules.yaml errors: every kind, each with its exact `FILE:LINE: message`, read through
`load_config()` with only the governance section, as `govbot check-config` shows them.
The YAML of each case is written one line per item so the line numbers can be checked by eye.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govbot.config.yamlpos import ConfigError
from govbot.plugins.governance.model import RulesConfig
from tests.governance.kit import EXAMPLE, example, load, repo_with_rules


def errors(tmp_path: Path, lines: tuple[str, ...]) -> list[str]:
    result = load(repo_with_rules(tmp_path, "\n".join(lines) + "\n"))
    assert (result.config is None) == bool(result.errors)
    return [str(e) for e in result.errors]


def test_the_example_rules_load_clean() -> None:
    result = load(EXAMPLE)
    assert result.errors == []
    assert [w for w in result.lines() if w.startswith("rules.yaml")] == []
    _, rules = example()
    assert [r.name for r in rules.rules] == [
        "formal-vote", "charter-change", "normal-review", "typo-fix", "project-update",
        "liaison-update", "goal-update", "release-management", "revert", "compute-core",
        "infra-council"]
    assert len(rules.guards) == 1


@pytest.mark.parametrize("text", ["", "# nothing governed yet\n"])
def test_an_empty_file_governs_nothing(tmp_path: Path, text: str) -> None:
    result = load(repo_with_rules(tmp_path, text))
    assert result.errors == [] and result.config is not None
    assert result.config.section("governance") == RulesConfig()


def test_every_error_is_reported_not_only_the_first(tmp_path: Path) -> None:
    assert errors(tmp_path, (
        "rules:",
        "  a:",
        "    select: {projects: [x]}",
        "    body: tcc",
        "    require: [{yes_votes: 1}]",
        "  b:",
        "    select: {projects: [x]}",
        "    body: tc",
        "    require: [{yes_votes: 'ceil(n/'}, {open: {days: 7}}]",
    )) == [
        "rules.yaml:4: rule 'a': unknown body 'tcc' (did you mean 'tc'?); bodies are defined "
        "in bodies.yaml",
        "rules.yaml:9: 'yes_votes' 'ceil(n/' is not a valid threshold: expected a number, 'n', "
        "a function or '(', found the end (at character 8); write an integer or an expression "
        "of n with + - * /, ceil, floor, min, max",
        "rules.yaml:9: 'open' must say when the time starts: add 'since: first-revision' (new "
        "patch sets do not restart it) or 'since: latest-revision' (each new patch set "
        "restarts it)",
    ]


def test_errors_are_config_errors_with_a_source(tmp_path: Path) -> None:
    result = load(repo_with_rules(tmp_path, "rules: 1\n"))
    assert result.errors == [ConfigError(result.errors[0].source, result.errors[0].message)]
    assert str(result.errors[0].source) == "rules.yaml:1"


@pytest.mark.parametrize(("lines", "expected"), [
    pytest.param((
        'rule:',
        '  x: 1',
    ), [
        "rules.yaml:1: unknown key 'rule' in rules.yaml (did you mean 'rules'?)",
    ], id='top-unknown'),
    pytest.param((
        'rules: [a]',
    ), [
        "rules.yaml:1: 'rules' must be a mapping of rule names to rules, got a list",
    ], id='rules-not-map'),
    pytest.param((
        'rules:',
        '  Formal_Vote:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:2: rule 'Formal_Vote' must be a rule name like 'formal-vote', got "
        "'Formal_Vote'",
    ], id='rule-name'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    bdy: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:4: unknown key 'bdy' in rule 'r' (did you mean 'body'?)",
        "rules.yaml:5: rule 'r': 'yes_votes' counts the votes of the rule's body, and the rule "
        "has none; set 'body'",
    ], id='rule-unknown-key'),
    pytest.param((
        'rules:',
        '  r:',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:3: required key 'select' is missing in rule 'r'",
    ], id='no-select'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {hashtags: [x]}',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:3: required key 'projects' is missing in the 'select' of rule 'r'",
    ], id='no-projects'),
    pytest.param((
        'rules:',
        '  r:',
        "    select: {projects: ['^example/(']}",
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:3: item 1 of 'projects' '^example/(' is not a valid regular expression: "
        "missing ), unterminated subpattern at position 9; fix it, or drop the leading '^' to "
        'match the text exactly',
    ], id='bad-regex'),
    pytest.param((
        'rules:',
        '  r:',
        '    select:',
        '      projects: [a]',
        '      files: [/charter.rst]',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:5: item 1 of 'files' '/charter.rst' can never match: Gerrit file paths are "
        "relative to the repository root, like 'doc/source/*.rst' (drop the leading '/')",
    ], id='bad-glob'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tcc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:4: rule 'r': unknown body 'tcc' (did you mean 'tc'?); bodies are defined "
        'in bodies.yaml',
    ], id='unknown-body'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    label: Rollcall Vote',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:5: 'label' must be a Gerrit label name, got 'Rollcall Vote'",
    ], id='bad-label'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    no_value: 0',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:5: 'no_value' must be -1 or lower, got 0",
    ], id='no-value'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    yes_value: 0',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:5: 'yes_value' must be at least 1, got 0",
    ], id='yes-value'),
    pytest.param((
        'rules:',
        '  r:',
        '    select:',
        '      projects: [a]',
        '      owners: [adaa]',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:5: rule 'r': unknown person 'adaa' (did you mean 'ada'?); add them to "
        'people.yaml',
    ], id='unknown-owner'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
    ), [
        "rules.yaml:3: required key 'require' is missing in rule 'r'",
    ], id='require-missing'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require: []',
    ), [
        "rules.yaml:5: 'require' must not be empty; give a list of requirements",
    ], id='require-empty'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require: {yes_votes: 1}',
    ), [
        "rules.yaml:5: 'require' must be a list of requirements, got a mapping",
    ], id='require-not-list'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - yes_votes: 1',
        '        no_objection: true',
    ), [
        "rules.yaml:6: item 1 of 'require' must have exactly one key, the kind of requirement "
        '(yes_votes, more_yes_than_no, no_objection, open, lazy_consensus, quorum, veto, role, '
        "paths, all, any); got 'yes_votes', 'no_objection': write each requirement as its own "
        'list item',
    ], id='two-keys'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - yes_vote: 1',
    ), [
        "rules.yaml:6: item 1 of 'require' is an unknown requirement 'yes_vote' (did you mean "
        "'yes_votes'?)",
    ], id='unknown-kind'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - yes: 1',
    ), [
        "rules.yaml:6: item 1 of 'require': YAML reads the key 'yes' (or 'on', 'true') as "
        "true; write 'yes_votes: ...' for a yes-vote threshold",
    ], id='yaml-yes'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - yes_votes: ceil(n/)',
    ), [
        "rules.yaml:6: 'yes_votes' 'ceil(n/)' is not a valid threshold: expected a number, "
        "'n', a function or '(', found ')' (at character 8); write an integer or an expression "
        'of n with + - * /, ceil, floor, min, max',
    ], id='bad-expr'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - yes_votes: [1]',
    ), [
        "rules.yaml:6: 'yes_votes' must be a number or an expression of n like 'ceil(n/3)', "
        'got a list',
    ], id='expr-type'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    require:',
        '      - more_yes_than_no: true',
    ), [
        "rules.yaml:5: rule 'r': 'more_yes_than_no' counts the votes of the rule's body, and "
        "the rule has none; set 'body'",
    ], id='needs-body'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - open: {days: 7}',
    ), [
        "rules.yaml:6: 'open' must say when the time starts: add 'since: first-revision' (new "
        "patch sets do not restart it) or 'since: latest-revision' (each new patch set "
        'restarts it)',
    ], id='open-no-since'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - open: {days: 7, since: first-revison}',
    ), [
        "rules.yaml:6: 'since' must be one of 'first-revision', 'latest-revision', got "
        "'first-revison' (did you mean 'first-revision'?)",
    ], id='open-bad-since'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - open: {days: 0, since: first-revision}',
    ), [
        "rules.yaml:6: 'open' must last at least an hour; give 'days' or 'hours'",
    ], id='open-zero'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - open: {days: -1, since: first-revision}',
    ), [
        "rules.yaml:6: 'days' must be at least 0, got -1",
    ], id='open-negative'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - open: 7',
    ), [
        "rules.yaml:6: 'open' must be a mapping like {days: 7, since: first-revision}, got an "
        'integer',
    ], id='open-not-map'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - lazy_consensus: {weeks: 1}',
    ), [
        "rules.yaml:6: unknown key 'weeks' in 'lazy_consensus'; allowed keys: days, hours",
    ], id='lazy-unknown'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - no_objection: false',
    ), [
        "rules.yaml:6: 'no_objection' must be true; to drop the requirement, delete the line",
    ], id='false'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - no_objection: 1',
    ), [
        "rules.yaml:6: 'no_objection' must be true, got an integer",
    ], id='not-true'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - more_yes_than_no: {tie_breaker: chiar}',
    ), [
        "rules.yaml:6: rule 'r': body 'tc' has no role 'chiar' (did you mean 'chair'?)",
    ], id='tie-role'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: nova-core',
        '    require:',
        '      - veto: chair',
    ), [
        "rules.yaml:6: rule 'r': body 'nova-core' has no role 'chair'; add 'roles' to it in "
        'bodies.yaml',
    ], id='veto-role'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - yes_votes: {at_least: 2, cool_off: {}}',
    ), [
        "rules.yaml:6: 'cool_off' must last at least an hour; give 'days' or 'hours'",
    ], id='cool-zero'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - role: {role: ptl, team: compte}',
    ), [
        "rules.yaml:6: rule 'r': unknown team 'compte' (did you mean 'compute'?); teams come "
        'from the projects file',
    ], id='role-team'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - role: {role: chair, team_of: project}',
    ), [
        "rules.yaml:6: rule 'r': a team role must be 'ptl', 'leader', 'liaison' or "
        "'liaison:ROLE', got 'chair'",
    ], id='role-team-role'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - role: {role: ptl, team: compute, team_of: project}',
    ), [
        "rules.yaml:6: 'role' names where the role is held twice ('team' and 'team_of'); give "
        "only one of 'body', 'team' and 'team_of'",
    ], id='role-both'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        "      - role: {role: ptl, team_of: project, hashtag_prefix: 'team-'}",
    ), [
        "rules.yaml:6: 'hashtag_prefix' only applies with 'team_of: hashtag'",
    ], id='role-prefix'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - role: {role: ptl}',
    ), [
        "rules.yaml:6: rule 'r': body 'tc' has no role 'ptl'; its roles: chair, vice-chair",
    ], id='role-body-role'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    require:',
        '      - role: {role: chair}',
    ), [
        "rules.yaml:5: rule 'r': 'role' must say where the role is held: set 'body', 'team' or "
        "'team_of' (or the rule's 'body')",
    ], id='role-nowhere'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - role: {role: ptl, team_of: repo}',
    ), [
        "rules.yaml:6: 'team_of' must be one of 'project', 'hashtag', got 'repo'",
    ], id='role-team-of'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    require:',
        '      - paths:',
        "          - files: ['a/**']",
        '            body: nova-cor',
    ), [
        "rules.yaml:7: rule 'r': unknown body 'nova-cor' (did you mean 'nova-core'?); bodies "
        'are defined in bodies.yaml',
    ], id='paths-body'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    require:',
        '      - paths:',
        "          - files: ['a/']",
        '            body: nova-core',
    ), [
        "rules.yaml:6: item 1 of 'files' 'a/' can never match: Gerrit lists files, not "
        "directories (write 'a/**' for everything under it)",
    ], id='paths-glob'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    require:',
        '      - paths:',
        '          - body: nova-core',
    ), [
        "rules.yaml:6: required key 'files' is missing in a path owner",
    ], id='paths-missing'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    require:',
        '      - any: []',
    ), [
        "rules.yaml:6: 'any' must not be empty; give a list of requirements",
    ], id='any-empty'),
    pytest.param((
        'categories:',
        '  - projects: [a]',
        '    hashtags: [formal-vote, typo-fix]',
        'rules:',
        '  r:',
        '    select: {projects: [a], hashtags: [formal-vote]}',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:3: category 'typo-fix' is selected by no rule; add a rule with 'select: "
        "{hashtags: [typo-fix]}' or remove it",
    ], id='cat-unselected'),
    pytest.param((
        'categories:',
        '  - projects: [a]',
        '    hashtags: [formal-vote]',
        '    files:',
        '      - files: [charter.rst]',
        '        hashtag: charter-chang',
        'rules:',
        '  r:',
        '    select: {projects: [a], hashtags: [formal-vote]}',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:6: hashtag 'charter-chang' is not one of this guard's categories; add it "
        "to 'hashtags'",
    ], id='cat-file-hashtag'),
    pytest.param((
        'categories:',
        '  - projects: [a]',
        '    hashtags: [formal-vote, formal-vote]',
        'rules:',
        '  r:',
        '    select: {projects: [a], hashtags: [formal-vote]}',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:3: category 'formal-vote' is listed twice (also at rules.yaml:3)",
    ], id='cat-dup'),
    pytest.param((
        'categories:',
        '  - projects: [a]',
        'rules: {}',
    ), [
        "rules.yaml:2: required key 'hashtags' is missing in a category guard",
    ], id='cat-no-hashtags'),
    pytest.param((
        'rules:',
        '  r:',
        '    select: {projects: [a]}',
        '    body: tc',
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:5: duplicate key 'body' (also at rules.yaml:4); YAML would silently keep "
        'only the last one: remove or rename one',
    ], id='dup-key'),
    pytest.param((
        '- a',
        '- b',
    ), [
        "rules.yaml:1: this file must be a mapping with the keys 'rules' and 'categories', got "
        'a list',
    ], id='not-a-map'),
    pytest.param((
        'rules:',
        '  r:',
        "    select: {projects: [a], hashtags: ['formal vote']}",
        '    body: tc',
        '    require: [{yes_votes: 1}]',
    ), [
        "rules.yaml:3: item 1 of 'hashtags' must be a hashtag (no spaces or commas), got "
        "'formal vote'",
    ], id='hashtag-space'),
])
def test_config_error(tmp_path: Path, lines: tuple[str, ...], expected: list[str]) -> None:
    assert expected, "every case is an error case"
    assert errors(tmp_path, lines) == expected
