"""Reading govbot.yaml against its types, with every problem as `FILE:LINE: message`.

msgspec stops at the first problem and names no key inside a mapping (a channel's
settings are `$.channels[...]` to it), so `Where.check` walks the expected types
itself and reports every unknown key (with the nearest known one), missing key and
wrong value it finds; the line is that of the deepest key of the path in the YAML.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import msgspec
import yaml

T = TypeVar("T")


class Where:
    """Turns problems at a key path into `FILE:LINE: message (at a.b.c)` lines."""

    def __init__(self, filename: str, node: yaml.Node | None) -> None:
        self.filename = filename
        self.node = node

    def error(self, path: Sequence[str], message: str, fix: str = "") -> str:
        """`FILE:LINE: message (at a.b.c); fix`, the line of the deepest key of `path`."""
        where = f" (at {'.'.join(path)})" if path else ""
        line = "" if self.node is None else f":{_line_of(self.node, list(path))}"
        return f"{self.filename}{line}: {message}{where}{'; ' + fix if fix else ''}"

    def line_of_error(self, error: str) -> int:
        number = error[len(self.filename) + 1:].partition(":")[0]
        return int(number) if number.isdigit() else 0

    def plugin_errors(self, raw: Mapping[str, Any], types: Mapping[str, type[msgspec.Struct]],
                      known: typing.Iterable[str]) -> list[str]:
        """The problems of `plugins.settings`: `types` are the enabled plugins' settings
        types, `known` the names of every plugin that could be enabled."""
        errors = []
        known = list(known)
        for name, value in raw.items():
            path = ["plugins", "settings", name]
            settings_type = types.get(name)
            enabled = ", ".join(types) or "none"
            if settings_type is None and name in known:
                errors.append(self.error(
                    path, f"settings for plugin '{name}', which is not enabled",
                    f"add it to plugins.enabled (enabled: {enabled}) or remove these settings"))
            elif settings_type is None:
                errors.append(self.error(
                    path, f"settings for '{name}', which is no plugin",
                    f"{_did_you_mean(name, known)}plugins: {', '.join(known) or 'none'}"))
            else:
                errors += self.check(value or {}, settings_type, path)
        return errors

    def check(self, value: Any, expected: Any, path: list[str]) -> list[str]:
        """Every problem of `value` read as type `expected` (msgspec stops at the first,
        and names no key inside a mapping: this walks the types to find them all)."""
        struct = _struct_in(expected, value)
        if struct is not None:
            fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
            errors = [self.error([*path, str(key)], f"unknown setting '{key}'",
                                 _did_you_mean(str(key), fields) + _SEE)
                      for key in value if key not in fields]
            for key, f in fields.items():
                if key in value:
                    errors += self.check(value[key], f.type, [*path, key])
                elif f.required:
                    errors.append(self.error(path, f"missing required setting '{key}'", _SEE))
            return errors
        if typing.get_origin(expected) is dict and isinstance(value, dict):
            key_type, value_type = typing.get_args(expected)
            errors = []
            for key, item in value.items():
                errors += self.check(key, key_type, [*path, str(key)])
                errors += self.check(item, value_type, [*path, str(key)])
            return errors
        if typing.get_origin(expected) in (list, tuple) and isinstance(value, list):
            (item_type, *_) = typing.get_args(expected)
            return [e for n, item in enumerate(value)
                    for e in self.check(item, item_type, [*path, str(n)])]
        errors = []
        self.convert(value, expected, path, errors)
        return errors

    def convert(self, value: Any, expected: type[T], path: list[str],
                errors: list[str]) -> T | None:
        try:
            return msgspec.convert(value, expected)
        except msgspec.ValidationError as exc:
            message, keys = _split_msgspec_error(str(exc))
            choices = _choices(expected)
            fix = f"expected one of: {', '.join(map(str, choices))}; {_SEE}" if choices else _SEE
            errors.append(self.error([*path, *keys], _friendly(message), fix))
            return None


def _struct_in(expected: Any, value: Any) -> type[msgspec.Struct] | None:
    """The struct type `value` (a mapping) is read as, if `expected` is or holds one."""
    if not isinstance(value, dict):
        return None
    if isinstance(expected, type) and issubclass(expected, msgspec.Struct):
        return expected
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        structs = [a for a in typing.get_args(expected)
                   if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        if len(structs) == 1:
            return structs[0]
    return None


_SEE = "see docs/settings.md"


def _choices(expected: Any) -> list[object]:
    """The values a `Literal` (or an optional one) allows; none for other types."""
    if typing.get_origin(expected) is Literal:
        return list(typing.get_args(expected))
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        return [c for a in typing.get_args(expected) for c in _choices(a)]
    return []


def _did_you_mean(key: str, known: typing.Iterable[str]) -> str:
    """`did you mean 'x'? ` for the nearest of `known`, or nothing."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _split_msgspec_error(text: str) -> tuple[str, list[str]]:
    message, _, where = text.partition(" - at `")
    path = re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]", where.rstrip("`"))
    keys = [a or b for a, b in path]
    unknown = re.search(r"unknown field `([^`]+)`", message)
    if unknown:
        keys.append(unknown.group(1))
    return message, keys


def _friendly(message: str) -> str:
    message = re.sub(r"Object contains unknown field `([^`]+)`", r"unknown setting '\1'", message)
    message = message.replace("Invalid enum value", "invalid value")
    return re.sub(r"Object missing required field `([^`]+)`", r"missing required setting '\1'",
                  message)


def _line_of(node: yaml.Node | None, path: list[str]) -> int:
    """The line of the deepest node along `path` that exists (1-based)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            return line
    return line
