"""The core's side of a plugin's `govbot` subcommand: the `CliContext` it runs with.

A plugin's subcommand may not open sockets, databases or the config repo itself (it
imports only the plugin API). What it needs of them the core does here: the operator
settings, the governance config, a read-only Gerrit, the plugin's journals opened
read-only, and actions carried out by the core's own reporters.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govbot.actions import Action, WriteMinutes
from govbot.extensions import CliError, GerritReadError, GovernanceLoad, JournalReader

if TYPE_CHECKING:  # the settings (YAML, msgspec) and the plugin API are read when needed:
    # `govbot minutes LOG` uses neither
    from govbot.gerrit.rest import GerritRest
    from govbot.plugin import ChangeReader, Plugin
    from govbot.settings import GerritSettings, Settings
    from govbot.state.store import StateStore

__all__ = ["CoreCliContext"]


class CoreCliContext:
    """The `CliContext` of one plugin's subcommand. `plugins`: instances to use for
    their config sections instead of loading them (tests, embedders)."""

    def __init__(self, plugin: str, *, plugins: Mapping[str, Plugin] | None = None) -> None:
        self._plugin = plugin
        self._plugins = dict(plugins or {})
        self._scratch: list[tempfile.TemporaryDirectory[str]] = []  # removed at exit

    def close(self) -> None:
        for scratch in self._scratch:
            scratch.cleanup()
        self._scratch.clear()

    @property
    def plugin(self) -> str:
        return self._plugin

    def settings(self, path: Path) -> Settings:
        from govbot.settings import SettingsError, load_settings

        try:
            return load_settings(path)
        except SettingsError as exc:
            raise CliError(str(exc)) from None

    async def governance(self, *, settings: Settings | None = None,
                         directory: Path | None = None,
                         own_sections: bool = False) -> GovernanceLoad:
        from govbot.config.loader import load_config
        from govbot.plugin import PluginRegistry

        if own_sections:
            plugins = self._load([self._plugin])
        else:
            plugins = self._load(settings.plugins.enabled if settings is not None else None)
        sections = PluginRegistry(plugins).config_sections()
        if directory is None:
            if settings is None:
                raise CliError("no governance config: give a directory or the settings")
            # GitPython (~50 ms to import) only to clone: `govbot ical DIR` reads DIR.
            import git

            from govbot.config.repo import ConfigRepo
            from govbot.preflight import check_repo

            problems = check_repo(settings.governance.repo)
            if problems:
                raise CliError("\n".join(problems))
            # A throw-away checkout: a command that reads must create nothing in the
            # bot's state directory (which may not even exist on this machine).
            scratch = tempfile.TemporaryDirectory(prefix="govbot-cli-")
            self._scratch.append(scratch)
            repo = ConfigRepo(settings.governance.repo, settings.governance.branch,
                              settings.governance.subdir, Path(scratch.name) / "governance")
            try:
                await repo.refresh()
            except git.GitError as exc:
                raise CliError(f"governance.repo {settings.governance.repo}: cannot clone "
                               f"branch {settings.governance.branch}: "
                               f"{_git_reason(exc)}") from None
            directory = repo.root
        layout = settings.governance.layout.as_layout() if settings is not None else None
        import asyncio

        result = await asyncio.to_thread(load_config, Path(directory), sections, layout=layout)
        return GovernanceLoad(
            Path(directory), result.config, tuple(str(e) for e in result.errors),
            tuple(f"{w.source}: warning: {w.message}" for w in result.warnings
                  if w not in result.item_errors),
            tuple(result.files), tuple(str(e) for e in result.item_errors))

    def gerrit(self, settings: Settings) -> AbstractAsyncContextManager[ChangeReader]:
        from govbot.settings import SettingsError

        if settings.gerrit is None:
            raise CliError("the settings have no 'gerrit:' section")
        try:
            password = (settings.gerrit.http.password.resolve("gerrit.http.password")
                        if settings.gerrit.http else None)
        except SettingsError as exc:
            raise CliError(str(exc)) from None
        return _gerrit(settings.gerrit, password)

    def state(self, path: Path) -> AbstractAsyncContextManager[JournalReader]:
        return _journals(Path(path), self._plugin)

    async def carry_out(self, action: Action) -> Sequence[str]:
        if isinstance(action, WriteMinutes):
            from govbot.minutes import MinutesReporter, UnsafePath

            reporter = MinutesReporter(Path("."))
            directory = Path(action.directory) if action.directory else reporter.directory
            try:
                if _in_a_loop():
                    import asyncio

                    written = await asyncio.to_thread(reporter.write, action)
                else:  # a loop-less command (CliCommand.loopless): no loop to keep free
                    written = reporter.write(action)
            except (UnsafePath, OSError) as exc:
                raise CliError(str(exc)) from None
            return [str(directory / rel) for rel in written]
        raise CliError(f"{action.kind} cannot be carried out from the command line")

    def _load(self, names: Sequence[str] | None) -> list[Plugin]:
        from govbot.plugin_loader import BUILTIN_PLUGINS, load_plugins

        wanted = list(BUILTIN_PLUGINS) if names is None else list(names)
        missing = [n for n in wanted if n not in self._plugins]
        loaded = {p.name: p for p in load_plugins(missing)} if missing else {}
        return [self._plugins.get(n) or loaded[n] for n in wanted]


def _in_a_loop() -> bool:
    """Whether an event loop runs here; asyncio is not imported to find out (a
    loop-less command's process never imports it)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _git_reason(exc: Exception) -> str:
    """git's own complaint (its stderr), not GitPython's command dump."""
    stderr = str(getattr(exc, "stderr", "") or exc).strip().strip("'")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1].removeprefix("stderr: ").strip("'") if lines else str(exc)


class _Gerrit:
    """A ChangeReader over REST whose failures are `GerritReadError`."""

    def __init__(self, rest: GerritRest) -> None:
        self._rest = rest

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        from govbot.gerrit.rest import GerritHttpError, GerritUnavailable

        try:
            return await self._rest.get_change(change)
        except (GerritHttpError, GerritUnavailable) as exc:
            raise GerritReadError(str(exc)) from exc

    async def query(self, query: str, *, limit: int = 500,
                    options: Sequence[str] | None = None) -> Sequence[Mapping[str, Any]]:
        from govbot.gerrit.rest import GerritHttpError, GerritUnavailable

        try:
            return await self._rest.query(query, limit=limit, options=options)
        except (GerritHttpError, GerritUnavailable) as exc:
            raise GerritReadError(str(exc)) from exc

    async def query_pages(self, query: str, *, limit: int | None = 500,
                          options: Sequence[str] | None = None
                          ) -> AsyncIterator[Sequence[Mapping[str, Any]]]:
        from govbot.gerrit.rest import GerritHttpError, GerritUnavailable

        try:
            async for page in self._rest.query_pages(query, limit=limit, options=options):
                yield page
        except (GerritHttpError, GerritUnavailable) as exc:
            raise GerritReadError(str(exc)) from exc

    async def file_content(self, change: str, revision: str, path: str) -> bytes | None:
        from govbot.gerrit.rest import GerritHttpError, GerritUnavailable

        try:
            return await self._rest.file_content(change, revision, path)
        except (GerritHttpError, GerritUnavailable) as exc:
            raise GerritReadError(str(exc)) from exc


@asynccontextmanager
async def _gerrit(settings: GerritSettings, password: str | None) -> AsyncIterator[ChangeReader]:
    from govbot.gerrit.rest import GerritRest

    # Few retries: a person is waiting at the terminal.
    rest = GerritRest(settings.url, timeout=settings.request_timeout,
                      username=settings.http.username if settings.http else None,
                      password=password, retries=2)
    try:
        yield _Gerrit(rest)
    finally:
        await rest.close()


class _Journals:
    """A JournalReader over one plugin's namespace of a read-only store."""

    def __init__(self, store: StateStore, plugin: str) -> None:
        self._store = store
        self._plugin = plugin

    async def journal(self, name: str) -> list[Any]:
        return await self._store.journal(self._plugin, name)

    async def journals(self) -> list[str]:
        return await self._store.journal_names(self._plugin)

    async def open_journals(self) -> list[str]:
        return await self._store.open_journals(self._plugin)


@asynccontextmanager
async def _journals(path: Path, plugin: str) -> AsyncIterator[JournalReader]:
    from govbot.state.store import StateError, StateStore

    try:
        store = await StateStore(path, read_only=True).__aenter__()
    except StateError as exc:
        raise CliError(str(exc)) from None
    try:
        yield _Journals(store, plugin)
    finally:
        await store.close()
