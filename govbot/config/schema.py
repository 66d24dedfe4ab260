"""A small declarative validation toolkit that reports every problem, not the first.

A check validates one value and, when it is wrong, records an error at the
value's `FILE:LINE` in a sink (anything with `error(where, message)`: the
loader's `SectionContext`, or `Issues` in tests) and carries on. Valid values
come back as `YamlMap`/`YamlList`/scalars, so positions survive validation.

A plugin validates its section in a few lines::

    CHANNEL = Schema({
        "events": Field(ListOf(Enum("patchset-created", "change-merged")), default=()),
        "projects": Field(ListOf(Pattern()), required=True),
    }, what="a channel")
    CHANNELS = MapOf(CHANNEL, key=Str(pattern=r"#\\S+", expected="a channel name"))

    def parse(files, ctx):
        return {f.path: CHANNELS.read_file(f, ctx) for f in files}
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from govbot.config.model import Source
from govbot.config.sections import ConfigFile
from govbot.config.yamlpos import (
    ConfigError,
    ConfigWarning,
    ItemError,
    YamlList,
    YamlMap,
    source_of,
)

__all__ = [
    "INVALID", "SLUG", "AnyValue", "Bool", "Check", "ConfigError", "ConfigWarning", "Either",
    "Enum", "ErrorSink", "Field", "Glob", "Int", "Issues", "ListOf", "MapOf", "Pattern",
    "Regex", "Schema", "Str", "describe", "did_you_mean",
]

SLUG = r"[a-z0-9]+(?:[-_.][a-z0-9]+)*"
"""Ids of people and bodies: lowercase, digits, and single '-', '_' or '.' between."""

_UNKNOWN = Source("<unknown>", 0)


class ErrorSink(Protocol):
    def error(self, where: Source, message: str) -> None:
        """Record one problem."""


@dataclass
class Issues:
    """A plain sink: collects errors and warnings in order."""

    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)

    def error(self, where: Source, message: str) -> None:
        self.errors.append(ConfigError(where, message))

    def warning(self, where: Source, message: str) -> None:
        self.warnings.append(ConfigWarning(where, message))

    def item_error(self, where: Source, message: str) -> None:
        self.warnings.append(ItemError(where, message))

    def extend(self, errors: Iterable[ConfigError]) -> None:
        for error in errors:
            if isinstance(error, ConfigWarning):
                self.warnings.append(error)
            else:
                self.errors.append(error)


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"

    def __bool__(self) -> bool:
        return False


INVALID: Any = _Invalid()
"""What a check returns for a value it has reported as wrong."""


def describe(value: Any) -> str:
    """What a value is, for 'got ...' in messages."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    return f"a {type(value).__name__}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`" (did you mean 'x'?)"` when a choice is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Check:
    """Validates one value. Subclasses set `expected`/`plural`/`types` and `validate`."""

    expected: str = "a value"  # "a string": used as "'x' must be {expected}"
    plural: str = "values"  # "strings": used as "a list of {plural}"
    types: tuple[type, ...] = (object,)  # Python types this check accepts at all

    def accepts(self, value: Any) -> bool:
        # YAML `true` is a Python int too; an integer field must not accept it.
        if isinstance(value, bool) and int in self.types and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def check(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        """Return the validated value, or report and return INVALID."""
        if not self.accepts(value):
            sink.error(where, f"{label} must be {self.expected}, got {describe(value)}")
            return INVALID
        return self.validate(value, where, label, sink)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        return value

    def read(self, value: Any, sink: ErrorSink, *, where: Source | None = None,
             label: str = "this value") -> Any:
        """Check a value taken out of a YAML tree (its own position is used when known)."""
        return self.check(value, where or source_of(value) or _UNKNOWN, label, sink)

    def read_file(self, file: ConfigFile, sink: ErrorSink) -> Any:
        """Check the whole content of one file of the config repo."""
        return self.check(file.data, source_of(file.data) or Source(file.path, 1),
                          "this file", sink)


class AnyValue(Check):
    expected = "a value"


class Str(Check):
    """A string, optionally matching a regex (the whole string)."""

    types = (str,)

    def __init__(self, *, pattern: str | None = None, expected: str = "a string",
                 plural: str | None = None, allow_empty: bool = False) -> None:
        self.expected = expected
        self.plural = plural or _plural(expected)
        self.pattern = re.compile(pattern) if pattern else None
        self.allow_empty = allow_empty

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if not value and not self.allow_empty:
            sink.error(where, f"{label} must not be empty; give {self.expected}")
            return INVALID
        if self.pattern is not None and not self.pattern.fullmatch(value):
            sink.error(where, f"{label} must be {self.expected}, got {value!r}")
            return INVALID
        return value


def _plural(expected: str) -> str:
    """'a person id' -> 'person ids' (good enough for messages; pass `plural` otherwise)."""
    for article in ("a ", "an "):
        if expected.startswith(article):
            return expected[len(article):] + "s"
    return expected


class Instant(Check):
    """A UTC instant: '2027-01-08 23:45' (an optional ' UTC' or 'Z' suffix, or an explicit
    offset, converted to UTC), a YAML timestamp, or a date (00:00 UTC)."""

    plural = "dates and times"
    types = (str, dt.date)

    def __init__(self, *, example: str = "2026-12-01 18:00") -> None:
        self.expected = f"a UTC date and time like '{example}'"

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if isinstance(value, dt.datetime):
            return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None
                    else value.astimezone(dt.UTC))
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
        text = value.strip().removesuffix("UTC").strip().replace("Z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            sink.error(where, f"{label} must be {self.expected}, got {value!r}")
            return INVALID
        return (moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None
                else moment.astimezone(dt.UTC))


class Int(Check):
    expected = "an integer"
    plural = "integers"
    types = (int,)

    def __init__(self, *, minimum: int | None = None) -> None:
        self.minimum = minimum

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if self.minimum is not None and value < self.minimum:
            sink.error(where, f"{label} must be at least {self.minimum}, got {value}")
            return INVALID
        return value


class Bool(Check):
    expected = "true or false"
    plural = "booleans"
    types = (bool,)


class Enum(Check):
    """One of a fixed set of strings."""

    types = (str,)

    def __init__(self, *values: str, plural: str = "names") -> None:
        self.values = values
        self.expected = "one of " + ", ".join(repr(v) for v in values)
        self.plural = plural

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if value not in self.values:
            sink.error(where, f"{label} must be {self.expected}, got {value!r}"
                              f"{did_you_mean(value, self.values)}")
            return INVALID
        return value


class Either(Check):
    """The first check whose Python type fits (e.g. a person id or an identity mapping)."""

    def __init__(self, *checks: Check, expected: str | None = None,
                 plural: str | None = None) -> None:
        self.checks = checks
        self.expected = expected or " or ".join(c.expected for c in checks)
        self.plural = plural or " or ".join(c.plural for c in checks)
        self.types = tuple(t for c in checks for t in c.types)

    def accepts(self, value: Any) -> bool:
        return any(c.accepts(value) for c in self.checks)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        check = next(c for c in self.checks if c.accepts(value))
        return check.check(value, where, label, sink)


class ListOf(Check):
    """A list whose items pass `item`; invalid items are reported and left out."""

    types = (list,)

    def __init__(self, item: Check, *, expected: str | None = None, single_ok: bool = False,
                 nonempty: bool = False) -> None:
        self.item = item
        self.expected = expected or f"a list of {item.plural}"
        self.plural = f"lists of {item.plural}"
        self.single_ok = single_ok  # `chair: alice` as well as `chair: [alice, bob]`
        self.nonempty = nonempty

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list) or (self.single_ok and self.item.accepts(value))

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if not isinstance(value, list):
            value = YamlList(where, [value], [where])
        if self.nonempty and not value:
            sink.error(where, f"{label} must not be empty; give {self.expected}")
        positioned = isinstance(value, YamlList)
        out = YamlList(value.source if positioned else where)
        check = self.item.check
        for index, item in enumerate(value):
            item_where = value.item_sources[index] if positioned else where
            checked = check(item, item_where, f"item {index + 1} of {label}", sink)
            if checked is not INVALID:
                out.append_item(checked, item_where)
        return out


class MapOf(Check):
    """A mapping with free keys (ids, names) whose values pass `value`."""

    types = (Mapping,)

    def __init__(self, value: Check, *, key: Check | None = None,
                 expected: str | None = None, item_label: str = "'{key}'") -> None:
        self.key = key or Str()
        self.value = value
        self.expected = expected or f"a mapping of {self.key.plural} to {value.plural}"
        self.plural = "mappings"
        self.item_label = item_label  # e.g. "body '{key}'" names the value in messages

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        out = YamlMap(source_of(value) or where)
        for key, item in value.items():
            key_where = source_of(value, key) or where
            if self.key.check(key, key_where, f"key {key!r} of {label}", sink) is INVALID:
                continue
            checked = self.value.check(item, key_where, self.item_label.format(key=key), sink)
            if checked is not INVALID:
                out.set_item(key, checked, key_where)
        return out


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a `Schema`. A missing or empty optional key takes `default`."""

    check: Check
    required: bool = False
    default: Any = None
    doc: str = ""


class Schema(Check):
    """A mapping with known keys.

    `extra="error"` reports unknown keys with a did-you-mean hint; `extra="ignore"`
    is for formats govbot reads but does not own (openstack/governance files).
    The result has every declared key (defaults filled in), with its position.
    """

    types = (Mapping,)

    def __init__(self, fields: Mapping[str, Field], *, what: str = "",
                 expected: str = "a mapping", plural: str = "mappings",
                 extra: str = "error") -> None:
        self.fields = dict(fields)
        self._fields = tuple((name, spec, repr(name)) for name, spec in self.fields.items())
        self.what = what  # "a person": unknown key 'x' in a person
        self._in_what = f" in {what}" if what else ""
        self.expected = expected
        self.plural = plural
        self.extra = extra

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        # The hot loop of a big config: read positions straight from YamlMap.
        positioned = isinstance(value, YamlMap)
        here = value.source if positioned else where
        key_sources = value.key_sources if positioned else {}
        out = YamlMap(here)
        if self.extra == "error":
            for key in value:
                if key not in self.fields:
                    self._unknown(key, key_sources.get(key, here), sink)
        for name, spec, name_label in self._fields:
            key_where = key_sources.get(name, here)
            raw = value.get(name)
            if raw is None:
                if spec.required:
                    state = "has no value" if name in value else "is missing"
                    sink.error(key_where, f"required key {name!r} {state}{self._in_what}")
                checked = spec.default
            else:
                checked = spec.check.check(raw, key_where, name_label, sink)
                if checked is INVALID:
                    checked = spec.default
            out[name] = checked
            out.key_sources[name] = key_where
        return out

    def _unknown(self, key: Any, where: Source, sink: ErrorSink) -> None:
        hint = did_you_mean(str(key), self.fields) or (
            "; allowed keys: " + ", ".join(self.fields))
        sink.error(where, f"unknown key {key!r}{self._in_what}{hint}")


_GLOB_HINT = "Gerrit file paths are relative to the repository root, like 'doc/source/*.rst'"


class Regex(Check):
    """A Python regular expression that compiles."""

    expected = "a regular expression"
    plural = "regular expressions"
    types = (str,)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        return _compile(value, where, label, sink, hint="")


def _compile(value: str, where: Source, label: str, sink: ErrorSink, hint: str) -> Any:
    try:
        re.compile(value)
    except re.error as exc:
        sink.error(where, f"{label} {value!r} is not a valid regular expression: "
                          f"{exc.msg} at position {exc.pos}{hint}")
        return INVALID
    return value


class Pattern(Check):
    """The gerritbot convention: a string starting with '^' is a regex, else exact text."""

    expected = "a name or a '^regex'"
    plural = "names or '^regexes'"
    types = (str,)

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if not value:
            sink.error(where, f"{label} must not be empty; give {self.expected}")
            return INVALID
        if value.startswith("^"):
            return _compile(value, where, label, sink,
                            hint="; fix it, or drop the leading '^' to match the text exactly")
        return value


class Glob(Check):
    """A file glob that can match a Gerrit path (or a '^regex' when `allow_regex`)."""

    expected = "a file glob"
    plural = "file globs"
    types = (str,)

    def __init__(self, *, allow_regex: bool = True) -> None:
        self.allow_regex = allow_regex

    def validate(self, value: Any, where: Source, label: str, sink: ErrorSink) -> Any:
        if self.allow_regex and value.startswith("^"):
            return _compile(value, where, label, sink, hint="")
        problem = _glob_problem(value)
        if problem:
            sink.error(where, f"{label} {value!r} {problem}")
            return INVALID
        return value


def _glob_problem(glob: str) -> str:
    """Why a glob can never match a path as Gerrit reports it ('' when it can)."""
    if not glob:
        return f"is empty; {_GLOB_HINT}"
    if "\\" in glob:
        return "contains '\\': Gerrit paths use '/' separators"
    if glob.startswith("/"):
        return f"can never match: {_GLOB_HINT} (drop the leading '/')"
    if glob.endswith("/"):
        return (f"can never match: Gerrit lists files, not directories "
                f"(write '{glob}**' for everything under it)")
    segments = glob.split("/")
    if "" in segments:
        return "can never match: it has an empty path segment ('//')"
    if ".." in segments or "." in segments:
        return "can never match: Gerrit paths have no '.' or '..' segments"
    return ""
