"""Load one checkout of the governance config repo into a `GovernanceConfig`.

Every problem in every file is collected (never only the first), and the
result carries no config at all when there is any error: a half-loaded config
must never govern (DESIGN.md, principle 5). A file that is a symlink out of the
checkout, or not a regular file (a FIFO, a device), is an error of that file and
is never opened: a merged `people.yaml -> /etc/passwd` must not be read.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from govbot.config.core import (
    BODIES_FILE,
    PEOPLE_FILE,
    body_from_members_file,
    parse_bodies,
    parse_people,
)
from govbot.config.echoes import EchoFilter, Watched
from govbot.config.layout import (
    SIG_GROUPS,
    TC_GROUPS,
    GovernanceLayout,
    parse_legacy,
    parse_repo_groups,
)
from govbot.config.model import Body, GovernanceConfig, Person, Source, Team
from govbot.config.projects_file import parse_projects
from govbot.config.schema import Issues, did_you_mean
from govbot.config.sections import ConfigFile, ConfigSection
from govbot.config.yamlpos import ConfigError, ConfigWarning, ItemError, parse_yaml_file

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

    @property
    def item_errors(self) -> list[ItemError]:
        """Errors that left one item out (a meeting file), not the whole config."""
        return [w for w in self.warnings if isinstance(w, ItemError)]

    def lines(self) -> list[str]:
        """`FILE:LINE: message` for every error (an item's among them), then
        `FILE:LINE: warning: ...` for warnings."""
        errors = sorted([*self.errors, *self.item_errors],
                        key=lambda e: (e.source.file, e.source.line))
        return [str(e) for e in errors] + [
            f"{w.source}: warning: {w.message}" for w in self.warnings
            if not isinstance(w, ItemError)]


@dataclass
class LoaderContext:
    """The concrete `SectionContext` a section's `parse` receives."""

    root: Path
    people: Mapping[str, Person]
    bodies: Mapping[str, Body]
    teams: Mapping[str, Team]
    plugin: str
    issues: Issues | EchoFilter

    def error(self, where: Source, message: str) -> None:
        self.issues.error(where, message)

    def warning(self, where: Source, message: str) -> None:
        self.issues.warning(where, message)

    def item_error(self, where: Source, message: str) -> None:
        """An error that leaves one item (a meeting) out; see `ItemError`."""
        self.issues.item_error(where, message)


class _Files:
    """Parses each file of the checkout once, however many sections claim it."""

    def __init__(self, root: Path, issues: Issues) -> None:
        self.root = root
        self.issues = issues
        self.parsed: dict[str, ConfigFile | None] = {}

    def read(self, name: str, *, last_key_wins: bool = False) -> ConfigFile | None:
        """The parsed file, or None when it is absent or broken (errors recorded)."""
        if name not in self.parsed:
            path = self.root / name
            # An absolute name is the operator's (`governance.layout.projects`), not the repo's.
            unsafe = _unsafe(Path("/") if Path(name).is_absolute() else self.root, path)
            if unsafe:
                self.issues.error(Source(name, 1), unsafe)
                self.parsed[name] = None
            elif not path.is_file():
                self.parsed[name] = None
            else:
                data, errors = parse_yaml_file(path, name, last_key_wins=last_key_wins)
                self.issues.extend(errors)
                broken = any(not isinstance(e, ConfigWarning) for e in errors)
                self.parsed[name] = None if broken else ConfigFile(name, data)
        return self.parsed[name]

    def data(self, name: str | None, *, last_key_wins: bool = False) -> Any:
        if name is None:
            return None
        read = self.read(name, last_key_wins=last_key_wins)
        return read.data if read else None

    def matching(self, pattern: str) -> list[str]:
        """Files matching a glob relative to the root, sorted; hidden paths skipped."""
        if not pattern or PurePosixPath(pattern).is_absolute() or ".." in pattern.split("/"):
            return []
        found = []
        for path in self.root.glob(pattern):
            relative = path.relative_to(self.root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            # A file that leaves the checkout is listed, so that `read` reports it.
            if path.is_file() or _unsafe(self.root, path):
                found.append(relative.as_posix())
        return sorted(found)


def _unsafe(root: Path, path: Path) -> str | None:
    """Why `path` must not be read (a link out of `root`, a special file), or None."""
    if not path.is_symlink() and not path.exists():
        return None
    try:
        resolved = path.resolve(strict=False)
        inside = resolved.is_relative_to(root.resolve())
        mode = path.stat().st_mode if path.exists() else None
    except (OSError, RuntimeError) as exc:  # a symlink loop, an unreadable directory
        return f"cannot be read safely: {exc}"
    if not inside:
        return (f"a symlink out of the config repository (to {resolved}); config files "
                "must be regular files inside it")
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "not a regular file (a FIFO, socket or device); config files must be files"
    return None


def load_config(root: Path, sections: Sequence[tuple[str, ConfigSection]], *,
                revision: str = "", projects_file: str | None = None,
                layout: GovernanceLayout | None = None) -> LoadResult:
    """Load the config repo checked out at `root`.

    `sections` are (plugin name, section) pairs, e.g. `PluginRegistry.config_sections()`.
    `layout` says where the teams, group repositories, members and legacy files are
    (default: the usual places, openstack/governance's `reference/` among them);
    `projects_file`, when given, is the teams file whatever the layout says (absent
    means no teams).

    An error in people, bodies or teams is reported as it is; the errors elsewhere
    that only echo it (a missing body in every rule, wrong did-you-means) are
    counted in one warning instead (see govbot/config/echoes.py).
    """
    root = Path(root)
    issues = Issues()
    if not root.is_dir():
        issues.error(Source(str(root), 0), "the config root is not a directory; check the "
                                            "repository path and its subdirectory")
        return LoadResult(None, issues.errors, [])
    files = _Files(root, issues)
    where = (layout or GovernanceLayout()).resolve(root, issues)
    if projects_file is not None:
        where["projects"] = projects_file
    claimed: set[str] = {PEOPLE_FILE, BODIES_FILE, *(f for f in where.values() if f)}
    broken: list[str] = []  # core files with errors, in the order found

    def note(file: str | None) -> bool:
        has = file is not None and any(e.source.file == file for e in issues.errors)
        if has and file is not None:
            broken.append(file)
        return has

    directory = parse_people(files.data(PEOPLE_FILE), PEOPLE_FILE, issues)
    # With people.yaml broken, "unknown person" elsewhere is an echo (see echoes.py).
    directory.incomplete = note(PEOPLE_FILE)
    bodies, members_files = parse_bodies(files.data(BODIES_FILE), BODIES_FILE, directory,
                                         issues, root=root)
    claimed.update(members_files)
    members = where["members"]
    if members and members not in members_files and "tc" not in bodies:
        # openstack/governance: the TC is its members file; no bodies.yaml needed.
        bodies["tc"] = body_from_members_file("tc", "Technical Committee", members, root,
                                              directory, issues)
        members_files.append(members)
    teams = parse_projects(files.data(where["projects"]), where["projects"] or "",
                           directory, issues)
    bodies_broken, teams_broken = note(BODIES_FILE), note(where["projects"])
    groups = {
        **parse_repo_groups(files.data(where["tc_repos"]), where["tc_repos"] or "", TC_GROUPS,
                            issues),
        **parse_repo_groups(files.data(where["sigs_repos"]), where["sigs_repos"] or "",
                            SIG_GROUPS, issues)}
    retired = parse_legacy(files.data(where["legacy"], last_key_wins=True),
                           where["legacy"] or "", issues)

    misses: list[str] = []  # names looked up in a broken file's view and not found
    echoes = EchoFilter(issues, misses)
    people_view = MappingProxyType(directory.people)
    bodies_view = MappingProxyType(bodies)
    teams_view = MappingProxyType(teams)
    people_seen = Watched(people_view, incomplete=directory.incomplete, misses=misses)
    bodies_seen = Watched(bodies_view, incomplete=bodies_broken, misses=misses,
                          tainted=frozenset(directory.tainted))
    teams_seen = Watched(teams_view, incomplete=teams_broken, misses=misses)
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
        config_files = [f for f in (_read_for(files, section, name) for name in names)
                        if f is not None]
        misses.clear()
        ctx = LoaderContext(root, people_seen, bodies_seen, teams_seen, plugin, echoes)
        parsed.setdefault(plugin, {})[section.pattern] = _parse_section(
            plugin, section, config_files, ctx, names)

    _warn_unclaimed(root, claimed, sections, issues)
    echoed = echoes.echoed + directory.echoed
    if broken and echoed:
        issues.warning(Source(broken[0], 1), (
            f"{echoed} more error(s) naming what {', '.join(broken)} would define are not "
            f"shown: fix {'it' if len(broken) == 1 else 'them'} first"))
    errors = sorted(issues.errors, key=lambda e: (e.source.file, e.source.line))
    # A file two sections read (meetings/meetbot-*.yaml) may be an item error for one
    # and an error for the other: say it once, as the error.
    blocking = {(e.source, e.message) for e in errors}
    warnings = sorted((w for w in issues.warnings if not (
        isinstance(w, ItemError) and (w.source, w.message) in blocking)),
        key=lambda w: (w.source.file, w.source.line))
    read = sorted({name for name, f in files.parsed.items() if f is not None}
                  | set(members_files))
    if errors:
        return LoadResult(None, errors, warnings, read)
    config = GovernanceConfig(
        people=people_view, bodies=bodies_view, teams=teams_view,
        sections=MappingProxyType({
            # One section: its value. Several: pattern -> value, in declaration order.
            plugin: next(iter(values.values())) if len(values) == 1 else values
            for plugin, values in parsed.items()}),
        revision=revision, groups=MappingProxyType(groups),
        retired=MappingProxyType(retired))
    return LoadResult(config, errors, warnings, read)


def _read_for(files: _Files, section: ConfigSection, name: str) -> ConfigFile | None:
    """Read one file of a section; a per-file section's unreadable file is left out."""
    if not section.per_file or name in files.parsed:  # read already: as it was read
        return files.read(name, last_key_wins=section.last_key_wins)
    scratch = Issues()
    own = _Files(files.root, scratch)
    read = own.read(name, last_key_wins=section.last_key_wins)
    if read is not None:  # a broken file stays unread, for a section that must fail
        files.parsed[name] = read
    files.issues.warnings.extend(scratch.warnings)
    for error in scratch.errors:
        files.issues.item_error(error.source, error.message)
    if scratch.errors:
        files.issues.warning(Source(name, 1), "this file cannot be read, so it is left out "
                                              "until it is fixed; the others are used")
    return read


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
