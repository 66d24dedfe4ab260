"""The governance config repo: a git checkout, and the holder of the config in force.

Every GitPython call runs in `asyncio.to_thread`: git may take seconds (network,
large fetches) and the event loop must keep draining the Gerrit stream.
Only merged config governs (DESIGN.md, principle 5): `ConfigHolder` swaps in a
new config only when it loads without errors, and otherwise keeps the last good one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath

import git

from govbot.config.layout import GovernanceLayout
from govbot.config.loader import LoadResult, load_config
from govbot.config.model import EMPTY_CONFIG, GovernanceConfig, Source
from govbot.config.safetar import UnsafeArchive, safe_extract
from govbot.config.sections import ConfigSection
from govbot.config.yamlpos import ConfigError, ItemError

log = logging.getLogger(__name__)

Listener = Callable[[GovernanceConfig, GovernanceConfig], Awaitable[None] | None]


class ConfigRepo:
    """A checkout of `url_or_path` at `branch`, kept in `workdir`, owned by the bot.

    The checkout is the bot's own: `refresh` hard-resets it and removes untracked
    files, so nobody should edit it by hand.
    """

    def __init__(self, url_or_path: str, branch: str = "master", subdir: str = "",
                 workdir: Path | str = "config-repo") -> None:
        self.url = str(url_or_path)
        self.branch = branch
        self.subdir = subdir.strip("/")
        self.workdir = Path(workdir)
        # One git operation at a time: fetches and resets must not interleave.
        self._lock = asyncio.Lock()

    @property
    def root(self) -> Path:
        """The config root inside the checkout."""
        return self.workdir / self.subdir if self.subdir else self.workdir

    async def refresh(self) -> str:
        """Clone on first use, else fetch and hard-reset to `origin/<branch>`; return the sha."""
        async with self._lock:
            return await asyncio.to_thread(self._refresh)

    def _refresh(self) -> str:
        if not (self.workdir / ".git").exists():
            self.workdir.parent.mkdir(parents=True, exist_ok=True)
            with git.Repo.clone_from(self.url, self.workdir, branch=self.branch) as repo:
                return str(repo.head.commit.hexsha)
        with git.Repo(self.workdir) as repo:
            tracking = f"refs/remotes/origin/{self.branch}"
            repo.git.fetch("origin", f"+refs/heads/{self.branch}:{tracking}")
            repo.git.reset("--hard", tracking)
            repo.git.clean("-fdx")
            return str(repo.head.commit.hexsha)

    async def fetch_ref(self, ref: str) -> str:
        """Fetch any ref (e.g. `refs/changes/45/12345/2`) from origin; return its sha."""
        async with self._lock:
            return await asyncio.to_thread(self._fetch_ref, ref)

    def _fetch_ref(self, ref: str) -> str:
        with git.Repo(self.workdir) as repo:
            repo.git.fetch("origin", ref)
            return str(repo.git.rev_parse("FETCH_HEAD^{commit}"))

    async def checkout_tree(self, sha: str, dest: Path) -> Path:
        """Write the tree of commit `sha` into `dest` (no .git); return its config root.

        The bot's checkout is left untouched, so a proposal is validated without
        ever becoming the config in force.
        """
        async with self._lock:
            await asyncio.to_thread(self._checkout_tree, sha, Path(dest))
        return Path(dest) / self.subdir if self.subdir else Path(dest)

    def _checkout_tree(self, sha: str, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        with git.Repo(self.workdir) as repo, tempfile.TemporaryFile() as archive:
            repo.archive(archive, treeish=sha, format="tar")
            archive.seek(0)
            # Not extractall(filter=...): Python 3.11.2 (Debian 12) lacks it.
            safe_extract(archive, dest)


class ConfigHolder:
    """Holds the config in force; `reload` swaps it only for a config without errors."""

    def __init__(self, repo: ConfigRepo, sections: Sequence[tuple[str, ConfigSection]], *,
                 projects_file: str | None = None,
                 layout: GovernanceLayout | None = None) -> None:
        self.repo = repo
        self.sections = tuple(sections)
        self.projects_file = projects_file  # overrides layout.projects when given
        self.layout = layout or GovernanceLayout()
        self._config = EMPTY_CONFIG
        self.revision = ""  # sha of the config in force ("" until the first good load)
        self.last_error_count = 0  # errors of the latest attempt (0 when it loaded)
        self.item_error_count = 0  # items (meeting files) the latest attempt left out
        self.last_result: LoadResult | None = None
        self._last_attempt = ""
        self._listeners: list[Listener] = []

    @property
    def config(self) -> GovernanceConfig:
        return self._config

    @property
    def loaded(self) -> bool:
        return bool(self.revision)

    @property
    def attempted_revision(self) -> str:
        """The newest revision a reload tried (in force, or rejected)."""
        return self._last_attempt

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(old, new)` after each successful swap (sync or async)."""
        self._listeners.append(listener)

    async def reload(self, *, force: bool = False) -> LoadResult:
        """Refresh the checkout and load it; swap only when there is no error.

        A sha already tried is not loaded again unless `force`: polling a broken
        branch must not log the same errors every minute.
        """
        try:
            sha = await self.repo.refresh()
        except (git.GitError, OSError) as exc:
            error = ConfigError(Source(self.repo.url, 0), f"cannot update the config repo: {exc}")
            log.error("config repo: %s", error.message)
            result = LoadResult(None, [error], [])
            self.last_error_count = 1
            self.last_result = result
            return result
        if sha == self._last_attempt and self.last_result is not None and not force:
            return self.last_result
        self._last_attempt = sha
        result = await asyncio.to_thread(
            load_config, self.repo.root, self.sections, revision=sha,
            projects_file=self.projects_file, layout=self.layout)
        self.last_result = result
        # Items left out (meeting files yaml2ical would reject): the rest is in force.
        self.item_error_count = len(result.item_errors)
        for warning in result.warnings:
            if isinstance(warning, ItemError):
                log.error("config %s: %s (this item is left out)", sha[:12], warning)
            else:
                log.warning("config %s: %s", sha[:12], warning)
        if result.config is None:
            self.last_error_count = len(result.errors)
            for error in result.errors:
                log.error("config %s: %s", sha[:12], error)
            log.error("config %s has %d error(s); keeping %s", sha[:12], len(result.errors),
                      self.revision[:12] or "the empty config")
            return result
        old, self._config = self._config, result.config
        self.revision = sha
        self.last_error_count = 0
        log.info("config %s loaded", sha[:12])
        await self._notify(old, result.config)
        return result

    async def _notify(self, old: GovernanceConfig, new: GovernanceConfig) -> None:
        for listener in self._listeners:
            try:
                outcome = listener(old, new)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # one listener's bug must not keep the others uninformed
                log.exception("config listener %r failed", listener)

    async def check_ref(self, ref: str) -> LoadResult:
        """Load a proposed commit (e.g. a Gerrit change ref) without putting it in force."""
        sha = await self.repo.fetch_ref(ref)
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="govbot-proposal-"))
        try:
            try:
                root = await self.repo.checkout_tree(sha, tmp)
            except UnsafeArchive as exc:  # a crafted tree: an error of that change
                return LoadResult(None, [ConfigError(Source(ref, 0), (
                    f"the proposed tree cannot be checked out safely: {exc}"))], [])
            return await asyncio.to_thread(
                load_config, root, self.sections, revision=sha,
                projects_file=self.projects_file, layout=self.layout)
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)

    async def check_files(self, files: Mapping[str, str]) -> LoadResult:
        """The merged tree with `files` written over it, loaded without putting it in
        force (the rule simulator's uploaded draft)."""
        bad = [path for path in files if not _inside(path)]
        if bad:
            return LoadResult(None, [ConfigError(Source(path, 0), (
                "an uploaded file must be a relative path inside the config tree"))
                for path in bad], [])
        if len(files) > MAX_UPLOADED_FILES or sum(map(len, files.values())) > MAX_UPLOADED_BYTES:
            return LoadResult(None, [ConfigError(Source("upload", 0), (
                f"at most {MAX_UPLOADED_FILES} files and {MAX_UPLOADED_BYTES} bytes "
                "may be uploaded"))], [])
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="govbot-draft-"))
        try:
            root = tmp / "tree"
            try:
                await asyncio.to_thread(_draft_tree, self.repo.root, root, files)
            except UnsafeArchive as exc:
                return LoadResult(None, [ConfigError(Source("upload", 0), str(exc))], [])
            return await asyncio.to_thread(
                load_config, root, self.sections, revision="draft",
                projects_file=self.projects_file, layout=self.layout)
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)


#: Bounds of an uploaded draft (the simulator is public by default).
MAX_UPLOADED_FILES = 200
MAX_UPLOADED_BYTES = 5 * 1024 * 1024


def _inside(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts \
        and parts[0] != ".git" and "\\" not in path and "\0" not in path


def _draft_tree(merged: Path, root: Path, files: Mapping[str, str]) -> None:
    """A copy of the merged tree (no .git, no links followed) with `files` over it."""
    if merged.is_dir():
        shutil.copytree(merged, root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    else:
        root.mkdir(parents=True)
    inside = root.resolve()
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        # A link in the merged tree must not carry a write out of the copy.
        if not target.parent.resolve().is_relative_to(inside):
            raise UnsafeArchive(f"{path}: leaves the config tree through a link")
        target.write_text(text, encoding="utf-8")
