"""YAML with positions: values, lines, and the strictness YAML itself lacks."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from govbot.config.model import Source
from govbot.config.yamlpos import (
    ConfigError,
    YamlList,
    YamlMap,
    load_yaml,
    parse_yaml,
    source_of,
)


def test_containers_remember_lines() -> None:
    data = load_yaml("a: 1\nb:\n  - x\n  - {y: 2}\nc:\n  d: true\n", "f.yaml")
    assert isinstance(data, YamlMap) and isinstance(data, dict)
    assert data == {"a": 1, "b": ["x", {"y": 2}], "c": {"d": True}}
    assert data.source == Source("f.yaml", 1)
    assert data.source_of("b") == Source("f.yaml", 2)
    assert isinstance(data["b"], YamlList)
    assert data["b"].source_of(0) == Source("f.yaml", 3)
    assert data["b"][1].source == Source("f.yaml", 4)
    assert data["c"].source_of("d") == Source("f.yaml", 6)
    assert data.source_of("missing") == data.source
    assert source_of(data, "a") == Source("f.yaml", 1)
    assert source_of(42, default=Source("x", 9)) == Source("x", 9)


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!python/object:os.system {}\n",
     "f.yaml:1: unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'; "
     "use plain mappings and lists"),
    ("a: 1\nb: !!python/name:os.system ''\n",
     "f.yaml:2: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'; "
     "config files hold plain values (quote the value if it is text)"),
    ("a: !!set {x}\n",
     "f.yaml:1: unsupported YAML tag 'tag:yaml.org,2002:set'; use plain mappings and lists"),
])
def test_safe_semantics_only(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, "f.yaml")
    assert str(caught.value) == message


def test_scalars_as_safe_load_builds_them() -> None:
    text = "a: ~\nb: yes\nc: 0x1F\nd: 1.5\ne: 2026-01-02\nf: '2026.1'\ng: !!str 12\n"
    assert load_yaml(text, "f.yaml") == yaml.safe_load(text)


def test_bad_explicit_scalar() -> None:
    _, errors = parse_yaml("a: 1\nb: !!int twelve\n", "f.yaml")
    assert [e.source.line for e in errors] == [2]
    assert errors[0].message.startswith("invalid YAML value:")


def test_recursive_alias() -> None:
    data = load_yaml("a: &x\n  self: *x\n", "f.yaml")
    assert data["a"]["self"] is data["a"]


def test_duplicate_key_is_an_error() -> None:
    _, errors = parse_yaml("name: a\nlabel: x\nname: b\n", "bodies.yaml")
    assert [str(e) for e in errors] == [
        "bodies.yaml:3: duplicate key 'name' (also at bodies.yaml:1); YAML would silently "
        "keep only the last one: remove or rename one"]


def test_every_duplicate_key_is_reported() -> None:
    _, errors = parse_yaml("a: 1\na: 2\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    assert [e.source.line for e in errors] == [2, 5]


def test_merge_keys_are_not_duplicates() -> None:
    data = load_yaml("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert data["m"] == {"x": 1, "y": 3}
    assert data["m"].source_of("y") == Source("f.yaml", 4)


def test_syntax_error_names_the_line() -> None:
    text = "people:\n  - id: a\n    name: [unclosed\n  - id: b\n"
    _, errors = parse_yaml(text, "people.yaml")
    assert [str(e) for e in errors] == [
        "people.yaml:4: invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence at line 3)"]


def test_bad_indentation() -> None:
    _, errors = parse_yaml("a:\n  b: 1\n c: 2\n", "f.yaml")
    assert [str(e) for e in errors] == [
        "f.yaml:3: invalid YAML: did not find expected key "
        "(while parsing a block mapping at line 1)"]


def test_tab_indentation_gets_a_hint() -> None:
    _, errors = parse_yaml("a:\n\tb: 1\n", "f.yaml")
    assert str(errors[0]).startswith("f.yaml:2: invalid YAML:")
    assert str(errors[0]).endswith("indent with spaces, YAML does not allow tabs")


def test_two_documents_are_an_error() -> None:
    _, errors = parse_yaml("---\na: 1\n---\nb: 2\n", "f.yaml")
    assert [str(e) for e in errors] == [
        "f.yaml:3: a second YAML document starts here; a config file holds exactly one "
        "(remove the '---' separator or split the file)"]


def test_unhashable_key() -> None:
    _, errors = parse_yaml("? [a, b]\n: 1\n", "f.yaml")
    assert [str(e) for e in errors] == [
        "f.yaml:1: a mapping key must be a plain value, not a list or a mapping"]


def test_control_character() -> None:
    _, errors = parse_yaml("a: 1\nb: \x07\n", "f.yaml")
    assert str(errors[0]).startswith("f.yaml:2: invalid YAML: character U+0007 is not allowed")


def test_empty_file_is_none() -> None:
    assert parse_yaml("", "f.yaml") == (None, [])
    assert parse_yaml("# only a comment\n", "f.yaml") == (None, [])


def test_aliases_share_content() -> None:
    data = load_yaml("a: &x [1, 2]\nb: *x\n", "f.yaml")
    assert data["a"] == data["b"] == [1, 2]


_scalars = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
_keys = st.text(min_size=1, max_size=10) | st.integers()
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)


def _walk(value: object, lines: int) -> None:
    if isinstance(value, dict):
        assert isinstance(value, YamlMap) and 1 <= value.source.line <= lines
        for key, item in value.items():
            assert 1 <= value.source_of(key).line <= lines
            _walk(item, lines)
    elif isinstance(value, list):
        assert isinstance(value, YamlList) and 1 <= value.source.line <= lines
        for index, item in enumerate(value):
            assert 1 <= value.source_of(index).line <= lines
            _walk(item, lines)


@given(_values, st.booleans())
def test_same_values_as_safe_load(value: object, flow: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    expected = yaml.safe_load(text)
    data = load_yaml(text, "f.yaml")
    assert data == expected or (isinstance(expected, float) and math.isclose(data, expected))
    _walk(data, len(text.splitlines()) + 1)  # YAML also breaks lines at U+0085 etc.
