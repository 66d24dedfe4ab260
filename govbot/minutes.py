"""Minutes are files: the reporter that carries out `WriteMinutes` (govbot.actions).

The meetings plugin renders the minutes (pure) and returns them in a `WriteMinutes`
action, which also says where (`directory`, None: this reporter's default) and
whether to publish them with git; this reporter writes them:

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

After a write, the files are handed to `on_written` (the daemon's minutes library,
govbot/state/search.py), which lists them for the web pages and indexes their text
for the full-text search; restricted minutes are not listed.

A write that fails (a full disk, a directory that cannot be made) is **kept and
retried** with backoff (govbot.backoff) until it succeeds, in the background: the
meeting's channel goes on meanwhile. A newer `WriteMinutes` of the same files
replaces a retry still waiting (it has the newer minutes). When the action asks for
it (`key` set), each outcome is handed to `on_outcome` as a core event, which the
daemon submits to the dispatcher in the action's `lane`: `MinutesWritten` once the
files exist (the meetings plugin says their URLs then, never before), `MinutesFailed`
after each failed try (it tells the channel once that the minutes are delayed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from govbot.actions import Action, GitPublishing, MinutesFiles, WriteMinutes
from govbot.backoff import backoff
from govbot.events import MinutesFailed, MinutesWritten

if TYPE_CHECKING:
    import asyncio

# asyncio is imported in the coroutines below, not here: `govbot minutes LOG` writes
# with `write` alone and runs without an event loop (CliCommand.loopless), and
# importing asyncio (and ssl with it) is 50 ms of that short process.

__all__ = ["GitPublishing", "MinutesFiles", "MinutesReporter", "UnsafePath", "WriteMinutes",
           "safe_target"]

log = logging.getLogger(__name__)


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


#: (the minutes directory, the action written) after each successful write.
WrittenHook = Callable[[Path, WriteMinutes], Awaitable[None]]
#: Where the outcome of an action with a `key` goes (the daemon: the dispatcher).
OutcomeHook = Callable[[MinutesWritten | MinutesFailed], Awaitable[None]]
_Slot = tuple[str, frozenset[str]]  # (directory, paths): what one retry would write


class MinutesReporter:
    action_types: tuple[type[Action], ...] = (WriteMinutes,)

    def __init__(self, directory: Path | str, *, git: GitPublishing | None = None,
                 file_mode: int = 0o644, on_written: WrittenHook | None = None,
                 on_outcome: OutcomeHook | None = None, retry_min: float = 1.0,
                 retry_max: float = 300.0) -> None:
        # The defaults for an action that names no directory and no git publishing.
        self.directory = Path(directory)
        self.git = git
        self.file_mode = file_mode
        self.on_written = on_written
        self.on_outcome = on_outcome
        self.retry_min, self.retry_max = retry_min, retry_max
        self.written = 0
        self.refused = 0
        self.failures = 0  # failed tries (each is retried)
        self.commits = 0
        self.push_failures = 0
        # One writer at a time: two meetings ending together must not interleave commits.
        self._lock = threading.Lock()
        self._retries: dict[_Slot, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def retrying(self) -> int:
        """Writes waiting for their next try."""
        return len(self._retries)

    async def report(self, action: Action) -> None:
        if not isinstance(action, WriteMinutes):
            return
        waiting = self._retries.pop(self._slot(action), None)
        if waiting is not None:  # these minutes are newer than the ones it would write
            waiting.cancel()
        await self._try(action, 1)

    async def aclose(self) -> None:
        """Stop retrying (at shutdown; the meeting's journal still has the minutes)."""
        import asyncio

        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _slot(self, action: WriteMinutes) -> _Slot:
        return (str(action.directory or self.directory), frozenset(action.files))

    async def _try(self, action: WriteMinutes, attempt: int) -> None:
        import asyncio

        try:
            paths = await asyncio.to_thread(self.write, action)
        except UnsafePath as exc:
            self.refused += 1
            log.error("event %s: minutes of %s not written: %s", action.event_id,
                      action.meeting, exc)
            self._tell(action, MinutesFailed(action.plugin, action.key, action.meeting,
                                             str(exc), attempt, None, action.lane))
            return
        except Exception as exc:  # a full disk, a file where a directory should be, git
            self.failures += 1
            delay = backoff(attempt, self.retry_min, self.retry_max)
            log.error("event %s: minutes of %s not written (try %d): %s; trying again in "
                      "%.1f s", action.event_id, action.meeting, attempt, exc, delay)
            self._tell(action, MinutesFailed(action.plugin, action.key, action.meeting,
                                             str(exc), attempt, delay, action.lane))
            self._retries[self._slot(action)] = self._spawn(
                self._retry(action, attempt + 1, delay))
            return
        log.info("event %s: minutes of %s written: %s%s", action.event_id, action.meeting,
                 ", ".join(paths), f" (try {attempt})" if attempt > 1 else "")
        if self.on_written is not None:
            try:
                await self.on_written(Path(action.directory or self.directory), action)
            except Exception:  # the minutes are written; only the web's listing lags
                log.exception("event %s: minutes of %s written but not indexed",
                              action.event_id, action.meeting)
        self._tell(action, MinutesWritten(
            action.plugin, action.key, action.meeting, tuple(paths),
            str(action.directory or self.directory), attempt, action.lane))

    async def _retry(self, action: WriteMinutes, attempt: int, delay: float) -> None:
        import asyncio

        await asyncio.sleep(delay)
        slot = self._slot(action)
        if self._retries.get(slot) is asyncio.current_task():
            del self._retries[slot]
        await self._try(action, attempt)

    def _tell(self, action: WriteMinutes, event: MinutesWritten | MinutesFailed) -> None:
        hook = self.on_outcome
        if hook is None or not action.key:
            return

        async def tell() -> None:
            try:
                await hook(event)
            except Exception:
                log.exception("minutes of %s: could not report %s", action.meeting,
                              event.type_name)
        # In a task of its own: the dispatcher may be waiting on this very report,
        # and a submit must never wait for it.
        self._spawn(tell())

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        import asyncio

        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- in the worker thread -------------------------------------------------------------
    def write(self, action: WriteMinutes) -> list[str]:
        """Write (and publish) now, blocking; the relative paths written. Raises UnsafePath."""
        directory = Path(action.directory) if action.directory else self.directory
        git = action.git if action.git is not None else self.git
        with self._lock:
            directory.mkdir(parents=True, exist_ok=True)
            root = directory.resolve()
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
            if git is not None and not action.restricted:
                self._publish(root, [rel for _, rel, _ in targets], action, git)
            return [rel for _, rel, _ in targets]

    def _publish(self, root: Path, paths: list[str], action: WriteMinutes,
                 spec: GitPublishing) -> None:
        import git  # GitPython: imported lazily, only deployments that publish need it

        try:
            repo = git.Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            repo = git.Repo.init(root, initial_branch=spec.branch)
        repo.index.add(paths)
        if repo.head.is_valid() and not repo.index.diff("HEAD"):
            return  # the same minutes again (#save twice, a replay): nothing to commit
        actor = git.Actor(spec.author_name, spec.author_email)
        repo.index.commit(f"Minutes of {action.meeting}\n\n" + "\n".join(paths),
                          author=actor, committer=actor)
        self.commits += 1
        if not spec.remote:
            return
        try:
            # A remote name or a URL: `git push` takes either.
            repo.git.push(spec.remote, f"HEAD:refs/heads/{spec.branch}")
        except git.GitCommandError as exc:
            self.push_failures += 1
            log.warning("minutes of %s committed but not pushed to %s: %s (the next "
                        "minutes push it again)", action.meeting, spec.remote,
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

