"""Minutes are files: the `WriteMinutes` action and the reporter that writes them.

The meetings plugin renders the minutes (pure) and returns them in a `WriteMinutes`
action; this reporter writes them under one configured directory:

- **safely**: every path is relative, and its resolved location (symlinks followed)
  must stay inside the directory, or the whole action is refused — a meeting name
  can never write `../../etc/passwd`;
- **atomically**: each file is written to a temporary file in its target directory,
  flushed and fsynced, then renamed over the old one, so a reader (the web server)
  sees the old minutes or the new ones, never half a file;
- **optionally versioned**: committed to a git repository (GitPython) and pushed, in
  a worker thread, so a slow remote never blocks the event loop. A failed push is
  logged and retried with the next minutes (the commit stays).

Restricted minutes (`#restrictlogs`) are written readable by the bot's user only
(0600) and are never committed or pushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from govbot.actions import Action

log = logging.getLogger(__name__)


class MinutesFiles(dict[str, str]):
    """Relative path -> content. Its repr names the files only: a dry run logs every
    action, and minutes can be megabytes."""

    def __repr__(self) -> str:
        size = sum(len(v) for v in self.values())
        return f"<{len(self)} files, {size:,} characters: {', '.join(sorted(self))}>"


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteMinutes(Action):
    """Write the files of one meeting's minutes (relative path -> content)."""

    meeting: str  # the meeting's name, for commit messages and logs
    files: dict[str, str] = field(default_factory=MinutesFiles)
    url_base: str = ""  # where the files are published (for logs)
    restricted: bool = False  # #restrictlogs: owner-only files, never published


class UnsafePath(ValueError):
    """A path that is absolute, odd, or resolves outside the minutes directory."""


def safe_target(root: Path, relative: str) -> Path:
    """Where `relative` lives under `root`, or UnsafePath. `root` must be resolved."""
    if not relative or "\x00" in relative or "\\" in relative:
        raise UnsafePath(f"refusing minutes path {relative!r}")
    pure = PurePosixPath(relative)
    # Only canonical relative paths: no "..", no "//" or "./" (so no two spellings of one
    # file), never absolute.
    if pure.is_absolute() or ".." in pure.parts or str(pure) != relative:
        raise UnsafePath(f"refusing minutes path {relative!r}: it must stay inside the "
                         "minutes directory")
    target = (root / pure).resolve()
    if not target.is_relative_to(root) or target == root:
        raise UnsafePath(f"refusing minutes path {relative!r}: it resolves to {target}, "
                         f"outside {root}")
    return target


@dataclass(frozen=True, slots=True)
class GitPublishing:
    """Commit the minutes to the repository at the minutes directory, and push."""

    remote: str | None = None  # a remote name or URL; None: commit only
    branch: str = "master"
    author_name: str = "govbot"
    author_email: str = "govbot@localhost"


class MinutesReporter:
    action_types: tuple[type[Action], ...] = (WriteMinutes,)

    def __init__(self, directory: Path | str, *, git: GitPublishing | None = None,
                 file_mode: int = 0o644) -> None:
        self.directory = Path(directory)
        self.git = git
        self.file_mode = file_mode
        self.written = 0
        self.refused = 0
        self.commits = 0
        self.push_failures = 0
        # One writer at a time: two meetings ending together must not interleave commits.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, default_dir: Path | str
                      ) -> MinutesReporter:
        """From `plugins.settings.meetings`: `minutes_dir`, `git: {remote, branch, ...}`."""
        directory = settings.get("minutes_dir") or default_dir
        spec = settings.get("git")
        git = None
        if spec:
            spec = spec if isinstance(spec, Mapping) else {}
            git = GitPublishing(remote=spec.get("remote"), branch=spec.get("branch", "master"),
                                author_name=spec.get("author_name", "govbot"),
                                author_email=spec.get("author_email", "govbot@localhost"))
        return cls(directory, git=git)

    async def report(self, action: Action) -> None:
        if not isinstance(action, WriteMinutes):
            return
        try:
            paths = await asyncio.to_thread(self.write, action)
        except UnsafePath as exc:
            self.refused += 1
            log.error("event %s: minutes of %s not written: %s", action.event_id,
                      action.meeting, exc)
            return
        log.info("event %s: minutes of %s written: %s", action.event_id, action.meeting,
                 ", ".join(paths))

    # -- in the worker thread -------------------------------------------------------------
    def write(self, action: WriteMinutes) -> list[str]:
        """Write (and publish) now, blocking; the relative paths written. Raises UnsafePath."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            root = self.directory.resolve()
            # Check every path before writing any: an action is written whole or not at all.
            targets = [(safe_target(root, rel), rel, text) for rel, text in action.files.items()]
            mode = 0o600 if action.restricted else self.file_mode
            for target, rel, text in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
                # A symlinked directory created meanwhile must not redirect the write.
                if not target.parent.resolve().is_relative_to(root):
                    raise UnsafePath(f"refusing minutes path {rel!r}: its directory left "
                                     f"{root}")
                _atomic_write(target, text, mode)
                self.written += 1
            if self.git is not None and not action.restricted:
                self._publish(root, [rel for _, rel, _ in targets], action)
            return [rel for _, rel, _ in targets]

    def _publish(self, root: Path, paths: list[str], action: WriteMinutes) -> None:
        import git  # GitPython: imported lazily, only deployments that publish need it

        assert self.git is not None
        try:
            repo = git.Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            repo = git.Repo.init(root, initial_branch=self.git.branch)
        repo.index.add(paths)
        if repo.head.is_valid() and not repo.index.diff("HEAD"):
            return  # the same minutes again (#save twice, a replay): nothing to commit
        actor = git.Actor(self.git.author_name, self.git.author_email)
        repo.index.commit(f"Minutes of {action.meeting}\n\n" + "\n".join(paths),
                          author=actor, committer=actor)
        self.commits += 1
        if not self.git.remote:
            return
        try:
            # A remote name or a URL: `git push` takes either.
            repo.git.push(self.git.remote, f"HEAD:refs/heads/{self.git.branch}")
        except git.GitCommandError as exc:
            self.push_failures += 1
            log.warning("minutes of %s committed but not pushed to %s: %s (the next "
                        "minutes push it again)", action.meeting, self.git.remote,
                        str(exc.stderr or exc).strip())


def _atomic_write(target: Path, text: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Syncing the directory makes the rename itself survive a power cut.
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

