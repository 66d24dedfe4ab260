"""Load one checkout of the governance config repo into a `GovernanceConfig`.

Every problem in every file is collected (never only the first), and the
result carries no config at all when there is any error: a half-loaded config
must never govern (DESIGN.md, principle 5).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from govbot.config.core import BODIES_FILE, PEOPLE_FILE, parse_bodies, parse_people
from govbot.config.model import Body, GovernanceConfig, Person, Source, Team
from govbot.config.projects_file import PROJECTS_FILE, parse_projects
from govbot.config.schema import Issues, did_you_mean
from govbot.config.sections import ConfigFile, ConfigSection
from govbot.config.yamlpos import ConfigError, ConfigWarning, parse_yaml_file

log = logging.getLogger(__name__)


@dataclass
class LoadResult:
    """What a load produced: a config only when there is no error."""

    config: GovernanceConfig | None
    errors: list[ConfigError]
    warnings: list[ConfigWarning]
    files: list[str] = field(default_factory=list)  # files read, relative to the root

    @property
    def ok(self) -> bool:
        return self.config is not None

    def lines(self) -> list[str]:
        """`FILE:LINE: message` for every error, then `FILE:LINE: warning: ...` for warnings."""
        return [str(e) for e in self.errors] + [
            f"{w.source}: warning: {w.message}" for w in self.warnings]


@dataclass
class LoaderContext:
    """The concrete `SectionContext` a section's `parse` receives."""

    root: Path
    people: Mapping[str, Person]
    bodies: Mapping[str, Body]
    teams: Mapping[str, Team]
    plugin: str
    issues: Issues

    def error(self, where: Source, message: str) -> None:
        self.issues.error(where, message)

    def warning(self, where: Source, message: str) -> None:
        self.issues.warning(where, message)


class _Files:
    """Parses each file of the checkout once, however many sections claim it."""

    def __init__(self, root: Path, issues: Issues) -> None:
        self.root = root
        self.issues = issues
        self.parsed: dict[str, ConfigFile | None] = {}

    def read(self, name: str) -> ConfigFile | None:
        """The parsed file, or None when it is absent or broken (errors recorded)."""
        if name not in self.parsed:
            path = self.root / name
            if not path.is_file():
                self.parsed[name] = None
            else:
                data, errors = parse_yaml_file(path, name)
                self.issues.extend(errors)
                self.parsed[name] = None if errors else ConfigFile(name, data)
        return self.parsed[name]

    def matching(self, pattern: str) -> list[str]:
        """Files matching a glob relative to the root, sorted; hidden paths skipped."""
        if not pattern or PurePosixPath(pattern).is_absolute() or ".." in pattern.split("/"):
            return []
        found = []
        for path in self.root.glob(pattern):
            relative = path.relative_to(self.root)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                found.append(relative.as_posix())
        return sorted(found)


def load_config(root: Path, sections: Sequence[tuple[str, ConfigSection]], *,
                revision: str = "", projects_file: str = PROJECTS_FILE) -> LoadResult:
    """Load the config repo checked out at `root`.

    `sections` are (plugin name, section) pairs, e.g. `PluginRegistry.config_sections()`.
    `projects_file` is the teams file, relative to the root; absent means no teams.
    """
    root = Path(root)
    issues = Issues()
    if not root.is_dir():
        issues.error(Source(str(root), 0), "the config root is not a directory; check the "
                                            "repository path and its subdirectory")
        return LoadResult(None, issues.errors, [])
    files = _Files(root, issues)
    claimed: set[str] = {PEOPLE_FILE, BODIES_FILE, projects_file}

    people_file = files.read(PEOPLE_FILE)
    directory = parse_people(people_file.data if people_file else None, PEOPLE_FILE, issues)
    bodies_file = files.read(BODIES_FILE)
    bodies, members_files = parse_bodies(
        bodies_file.data if bodies_file else None, BODIES_FILE, directory, issues, root=root)
    claimed.update(members_files)
    teams_file = files.read(projects_file)
    teams = parse_projects(teams_file.data if teams_file else None, projects_file,
                           directory, issues)

    people_view = MappingProxyType(directory.people)
    bodies_view = MappingProxyType(bodies)
    teams_view = MappingProxyType(teams)
    parsed: dict[str, dict[str, Any]] = {}
    for plugin, section in sections:
        names = files.matching(section.pattern)
        claimed.update(names)
        if not names and section.required:
            issues.error(Source(section.pattern, 1), (
                f"missing: plugin {plugin!r} requires a file matching {section.pattern!r}"
                + (f" ({section.description})" if section.description else "")
                + "; create it"))
            continue
        config_files = [f for f in (files.read(name) for name in names) if f is not None]
        ctx = LoaderContext(root, people_view, bodies_view, teams_view, plugin, issues)
        parsed.setdefault(plugin, {})[section.pattern] = _parse_section(
            plugin, section, config_files, ctx, names)

    _warn_unclaimed(root, claimed, sections, issues)
    errors = sorted(issues.errors, key=lambda e: (e.source.file, e.source.line))
    warnings = sorted(issues.warnings, key=lambda w: (w.source.file, w.source.line))
    read = sorted(name for name, f in files.parsed.items() if f is not None)
    if errors:
        return LoadResult(None, errors, warnings, read)
    config = GovernanceConfig(
        people=people_view, bodies=bodies_view, teams=teams_view,
        sections=MappingProxyType({
            # One section: its value. Several: pattern -> value, in declaration order.
            plugin: next(iter(values.values())) if len(values) == 1 else values
            for plugin, values in parsed.items()}),
        revision=revision)
    return LoadResult(config, errors, warnings, read)


def _parse_section(plugin: str, section: ConfigSection, config_files: list[ConfigFile],
                   ctx: LoaderContext, names: list[str]) -> Any:
    try:
        return section.parse(config_files, ctx)
    except Exception as exc:  # a plugin bug must become an error line, never a crash
        log.exception("plugin %s raised while parsing %s", plugin, section.pattern)
        where = Source(names[0] if names else section.pattern, 1)
        ctx.error(where, (
            f"plugin {plugin!r} crashed while reading {section.pattern!r}: "
            f"{type(exc).__name__}: {exc} (a bug in the plugin: report it with this line)"))
        return None


def _warn_unclaimed(root: Path, claimed: set[str],
                    sections: Sequence[tuple[str, ConfigSection]], issues: Issues) -> None:
    """Warn about root YAML files nobody reads: usually a typo like `peple.yaml`."""
    known = sorted({PEOPLE_FILE, BODIES_FILE} | {
        s.pattern for _, s in sections if not any(c in s.pattern for c in "*?[")})
    for path in sorted(root.glob("*.y*ml")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        if path.name in claimed or path.name.startswith("."):
            continue
        issues.warning(Source(path.name, 1), (
            f"not used by any plugin or by the core{did_you_mean(path.name, known)}"))
