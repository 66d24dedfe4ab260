"""YAML with positions: plain Python values that remember where they came from.

Mappings load as `YamlMap` (a `dict`) and sequences as `YamlList` (a `list`);
both carry `.source` and answer `source_of(key_or_index)`, so every later check
can say `FILE:LINE`. Scalars are the usual `yaml.safe_load` values.

Stricter than YAML on purpose: a key repeated in one mapping and a second
document in one file are errors, because YAML would silently keep one of the
values and a governance rule would quietly change meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from govbot.config.model import Source

# The C parser composes about ten times faster than the Python one; the walk that
# builds values from its nodes (`_Builder`) is Python, and still beats yaml.safe_load.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
# What yaml.safe_load builds for scalars; anything else (!!python/..., !!set) is refused.
_SCALAR_TAGS = frozenset("tag:yaml.org,2002:" + name for name in (
    "null", "bool", "int", "float", "binary", "timestamp", "str"))


class ConfigError(Exception):
    """One problem in the config repo, shown as `FILE:LINE: message`.

    It is an exception so that `load_yaml` can raise it, but most code collects
    instances in a list (see `govbot.config.schema.Issues`) and goes on.
    """

    kind = "error"

    def __init__(self, source: Source, message: str) -> None:
        super().__init__(source, message)
        self.source = source
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfigError):
            return NotImplemented
        return (type(self), self.source, self.message) == (
            type(other), other.source, other.message)

    def __hash__(self) -> int:
        return hash((type(self), self.source, self.message))

    def sort_key(self) -> tuple[str, int, str]:
        return (self.source.file, self.source.line, self.message)


class ConfigWarning(ConfigError):
    """Something suspicious that does not stop the config from loading.

    Same `FILE:LINE: message` text as an error; callers say "warning:" where they print it.
    """

    kind = "warning"


class ItemError(ConfigWarning):
    """An error that makes one item unavailable (a meeting file yaml2ical would reject),
    not the whole config: `check-config` reports it as an error and fails, while the
    daemon loads the rest. It is among the warnings so that it never blocks a load."""

    kind = "error"


class YamlMap(dict[Any, Any]):
    """A mapping that knows its own position and the line of each key.

    `key_sources` maps each key to its `Source`; change it only through `set_item`.
    """

    __slots__ = ("key_sources", "source")

    def __init__(self, source: Source, items: Iterable[tuple[Any, Any]] = (),
                 key_sources: dict[Any, Source] | None = None) -> None:
        super().__init__(items)
        self.source = source
        self.key_sources: dict[Any, Source] = dict(key_sources) if key_sources else {}

    def source_of(self, key: Any) -> Source:
        """The line of `key` (the line of the mapping when the key is absent)."""
        return self.key_sources.get(key, self.source)

    def set_item(self, key: Any, value: Any, source: Source) -> None:
        self[key] = value
        self.key_sources[key] = source


class YamlList(list[Any]):
    """A sequence that knows its own position and the line of each item.

    `item_sources[i]` is the `Source` of item i; change it only through `append_item`.
    """

    __slots__ = ("item_sources", "source")

    def __init__(self, source: Source, items: Iterable[Any] = (),
                 item_sources: Iterable[Source] = ()) -> None:
        super().__init__(items)
        self.source = source
        self.item_sources: list[Source] = list(item_sources) if item_sources else []

    def source_of(self, index: int) -> Source:
        """The line of item `index` (the line of the list when out of range)."""
        if -len(self.item_sources) <= index < len(self.item_sources):
            return self.item_sources[index]
        return self.source

    def append_item(self, value: Any, source: Source) -> None:
        self.append(value)
        self.item_sources.append(source)

    def with_sources(self) -> Iterator[tuple[Any, Source]]:
        """Each item with its source."""
        for index, item in enumerate(self):
            yield item, self.source_of(index)


def source_of(value: Any, key: Any = None, default: Source | None = None) -> Source | None:
    """Position of `value` (or of `value[key]`) when known, else `default`.

    Duck-typed so that checks work on plain dicts and lists too (plugin tests).
    """
    if key is not None:
        finder = getattr(value, "source_of", None)
        if finder is not None:
            return finder(key)  # type: ignore[no-any-return]
    found = getattr(value, "source", None)
    return found if isinstance(found, Source) else default


class _Composer(_BaseLoader):  # type: ignore[misc,valid-type]
    """The C composer, with the implicit-tag lookup cached per file.

    Keys like `name:` or `repos:` repeat thousands of times in a big repo; PyYAML
    runs its regexes for each one. A plain scalar's tag depends only on its text.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


class _Builder:
    """Turns a composed node tree into YamlMap/YamlList/scalars.

    Walking the nodes directly (rather than through PyYAML's generic constructor
    machinery) is what keeps a 1,000-project repo within the start-up budget.
    """

    def __init__(self, file: str, *, last_key_wins: bool = False) -> None:
        self.file = file
        self.problems: list[ConfigError] = []
        # Formats read as PyYAML reads them (irc-meetings, openstack's legacy.yaml):
        # a duplicate key is a warning and its last value wins, as it does for them.
        self.last_key_wins = last_key_wins
        self._constructor = yaml.constructor.SafeConstructor()
        self._sources: dict[int, Source] = {}  # one Source per line, shared
        self._built: dict[int, Any] = {}  # id(node) -> value: aliases share one value

    def at(self, node: yaml.Node) -> Source:
        line = node.start_mark.line + 1
        source = self._sources.get(line)
        if source is None:
            source = self._sources[line] = Source(self.file, line)
        return source

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.tag == _STR_TAG else self._scalar(node)
        built = self._built.get(id(node))
        if built is not None:
            return built
        if node.tag == _MAP_TAG and isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if node.tag == _SEQ_TAG and isinstance(node, yaml.SequenceNode):
            return self._sequence(node)
        self.problems.append(ConfigError(self.at(node), (
            f"unsupported YAML tag {node.tag!r}; use plain mappings and lists")))
        return None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self.problems.append(ConfigError(self.at(node), (
                f"unsupported YAML tag {node.tag!r}; config files hold plain values "
                "(quote the value if it is text)")))
            return None
        construct = self._constructor.yaml_constructors[node.tag]
        try:
            return construct(self._constructor, node)
        except (yaml.YAMLError, ValueError) as exc:
            self.problems.append(ConfigError(self.at(node), f"invalid YAML value: {exc}"))
            return None

    def _mapping(self, node: yaml.MappingNode) -> YamlMap:
        data = YamlMap(self.at(node))
        self._built[id(node)] = data  # before the children: recursive aliases resolve
        key_sources = data.key_sources
        explicit = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge(data, value_node)
            else:
                explicit.append((key_node, value_node))
        first_seen: dict[Any, Source] = {}
        for key_node, value_node in explicit:
            key = self.build(key_node)
            where = self.at(key_node)
            try:
                hash(key)
            except TypeError:
                self.problems.append(ConfigError(
                    where, "a mapping key must be a plain value, not a list or a mapping"))
                continue
            if key in first_seen and self.last_key_wins:
                self.problems.append(ConfigWarning(where, (
                    f"duplicate key {key!r} (also at {first_seen[key]}); the last one is "
                    "used, as PyYAML does: remove the other")))
            elif key in first_seen:
                self.problems.append(ConfigError(
                    where, f"duplicate key {key!r} (also at {first_seen[key]}); "
                           "YAML would silently keep only the last one: remove or rename one"))
                continue
            first_seen[key] = where
            data[key] = self.build(value_node)
            key_sources[key] = where
        return data

    def _merge(self, data: YamlMap, node: yaml.Node) -> None:
        """`<<: *base` or `<<: [*a, *b]`: explicit keys win, then earlier merges."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in reversed(sources):
            merged = self.build(source)
            if not isinstance(merged, YamlMap):
                self.problems.append(ConfigError(self.at(source), (
                    "a merge key '<<' needs a mapping or a list of mappings")))
                continue
            for key, value in merged.items():
                data.set_item(key, value, merged.source_of(key))

    def _sequence(self, node: yaml.SequenceNode) -> YamlList:
        data = YamlList(self.at(node))
        self._built[id(node)] = data
        build, at = self.build, self.at
        data.extend([build(item) for item in node.value])
        data.item_sources.extend([at(item) for item in node.value])
        return data


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> ConfigError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        line = mark.line + 1
        problem = exc.problem or "invalid YAML"
        # The C and the Python parsers word this one differently (problem vs context).
        if "single document" in f"{exc.problem} {exc.context}":
            return ConfigError(Source(file, line), (
                "a second YAML document starts here; a config file holds exactly one "
                "(remove the '---' separator or split the file)"))
        message = f"invalid YAML: {problem}"
        if exc.context:
            message += f" ({exc.context}"
            if exc.context_mark is not None and exc.context_mark.line + 1 != line:
                message += f" at line {exc.context_mark.line + 1}"
            message += ")"
        lines = text.splitlines()
        bad_line = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in bad_line[: mark.column + 1]:
            message += "; indent with spaces, YAML does not allow tabs"
        return ConfigError(Source(file, line), message)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        return ConfigError(Source(file, line), (
            f"invalid YAML: character U+{code:04X} is not allowed ({exc.reason}); "
            "remove it or quote it as an escape sequence"))
    return ConfigError(Source(file, 1), f"invalid YAML: {exc}")


def parse_yaml(text: str, file: str, *, last_key_wins: bool = False
               ) -> tuple[Any, list[ConfigError]]:
    """Parse one YAML document; return (data, errors) and never raise for bad input.

    `data` is None when there are errors (or when the file is empty). With
    `last_key_wins`, duplicate keys are `ConfigWarning`s among the errors and do
    not stop the data from being returned.
    """
    loader = _Composer(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        return None, [_syntax_error(exc, text, file)]
    finally:
        loader.dispose()
    if node is None:
        return None, []
    builder = _Builder(file, last_key_wins=last_key_wins)
    data = builder.build(node)
    if any(not isinstance(p, ConfigWarning) for p in builder.problems):
        return None, builder.problems
    return data, builder.problems


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document; raise the first `ConfigError` found."""
    data, errors = parse_yaml(text, file)
    if errors:
        raise errors[0]
    return data


def parse_yaml_file(path: Path, file: str, *, last_key_wins: bool = False
                    ) -> tuple[Any, list[ConfigError]]:
    """Read and parse `path`; `file` is the name shown in errors (relative to the root)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raw = path.read_bytes()
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [ConfigError(Source(file, line), "not valid UTF-8; save the file as UTF-8")]
    except OSError as exc:
        return None, [ConfigError(Source(file, 1), f"cannot read: {exc.strerror or exc}")]
    return parse_yaml(text, file, last_key_wins=last_key_wins)
