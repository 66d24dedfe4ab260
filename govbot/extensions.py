"""What a plugin contributes besides handlers: `govbot` subcommands and web pages.

The core never names a plugin. A plugin declares its subcommands
(`Plugin.cli_commands()`, `CliCommand`) and its web routes (`Plugin.web_routes()`,
`WebRoute`); `govbot/cli.py` and `govbot/web.py` list what the plugins offer, and
refuse at start-up two contributions that claim the same subcommand or path (or one
the core has).

A subcommand runs with a `CliContext`: what the core does for it that a plugin may
not do itself (read the operator settings and the governance config, read Gerrit,
read the plugin's state, carry out an action through the core's reporters). A web
handler gets a `WebRequest` and the plugin's usual read-only `PluginContext`, and
returns a `WebResponse`; aiohttp stays in the core.

This module is imported whenever `govbot` starts (to list subcommands), so it
imports nothing heavy: the types it names from elsewhere are for type checkers only.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from govbot.actions import Action
    from govbot.config.model import GovernanceConfig
    from govbot.context import ChangeReader, PluginContext
    from govbot.settings import Settings

__all__ = [
    "CliCommand", "CliContext", "CliError", "GerritReadError", "GovernanceLoad",
    "JournalReader", "WebHandler", "WebRequest", "WebResponse", "WebRoute",
]


# -- the command line -----------------------------------------------------------------------
class CliError(Exception):
    """A subcommand cannot go on: the core prints `error: MESSAGE` and exits `status`."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class GerritReadError(Exception):
    """Gerrit did not answer a read: an HTTP error, or unreachable after retries."""


@dataclass(frozen=True, slots=True)
class GovernanceLoad:
    """The governance config as the core loaded it for a subcommand."""

    directory: Path  # the checkout that was read
    config: GovernanceConfig | None  # None: it has errors
    errors: tuple[str, ...] = ()  # `FILE:LINE: message` each
    warnings: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # the files read, relative to `directory`
    # Errors that left one item out (a meeting file) while the rest loaded.
    item_errors: tuple[str, ...] = ()


class JournalReader(Protocol):
    """Read-only view of one plugin's journals in a state database (the command-line
    cousin of the `StateReader` a handler gets)."""

    async def journal(self, name: str) -> list[Any]:
        """The entries of journal `name`, in order (empty: no such journal)."""

    async def journals(self) -> list[str]:
        """Every journal of the plugin, sorted by name."""

    async def open_journals(self) -> list[str]:
        """The journals never closed (e.g. a meeting a crash interrupted)."""


class CliContext(Protocol):
    """What the core does for a subcommand. Failures raise `CliError`, which the core
    prints as `error: ...` with its exit status."""

    @property
    def plugin(self) -> str:
        """The name of the plugin whose subcommand runs."""

    def settings(self, path: Path) -> Settings:
        """The operator settings file at `path`, validated (errors name FILE:LINE)."""

    async def governance(self, *, settings: Settings | None = None,
                         directory: Path | None = None,
                         own_sections: bool = False) -> GovernanceLoad:
        """Load the governance config from `directory`, or else from the settings'
        config repo (fetched into the state workdir). The sections parsed are those of
        the plugins the settings enable (every built-in without settings), or with
        `own_sections` only this plugin's. Errors are in the result, not raised."""

    def gerrit(self, settings: Settings) -> AbstractAsyncContextManager[ChangeReader]:
        """A read-only Gerrit (REST, with the settings' HTTP credentials), closed on
        exit. Its reads raise `GerritReadError`. The settings must have `gerrit:`."""

    def state(self, path: Path) -> AbstractAsyncContextManager[JournalReader]:
        """This plugin's journals in the state database at `path`, opened read-only;
        a database that does not exist is an error, never created."""

    async def carry_out(self, action: Action) -> Sequence[str]:
        """Carry out `action` through the core's reporter for it (e.g. `WriteMinutes`
        through the minutes reporter, with the same path checks and atomic writes);
        returns what was done (the paths written)."""


@dataclass(frozen=True, slots=True)
class CliCommand:
    """A `govbot NAME ...` subcommand.

    `add_arguments(parser)` declares its options on an argparse parser;
    `run(args, ctx)` carries it out and returns the exit status. Every `govbot`
    invocation builds every parser, so the module that declares a command imports
    only what `add_arguments` needs; what `run` needs it imports inside `run`.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, CliContext], Coroutine[Any, Any, int]]
    description: str | None = None  # the subcommand's --help text (default: `help`)
    #: For a command that, with these arguments, never waits on anything (it reads and
    #: writes local files): True runs `run` to its end without an event loop, so the
    #: process does not import asyncio (50 ms of a short command's start). `run` must
    #: then not await anything that suspends; if it does, the command fails with an
    #: error naming it. The context's `carry_out` works either way.
    loopless: Callable[[argparse.Namespace], bool] | None = None


# -- the web server -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WebRequest:
    """An HTTP request, as much of it as a plugin page needs."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)  # the route's `{name}` parts
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    remote: str = ""  # the peer's address (the proxy's, behind a reverse proxy)


@dataclass(frozen=True, slots=True)
class WebResponse:
    """What a plugin page answers. A `str` body is sent as UTF-8."""

    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/plain"


WebHandler = Callable[[WebRequest, "PluginContext"], Awaitable[WebResponse]]


@dataclass(frozen=True, slots=True)
class WebRoute:
    """`method path` served by `handler`. A path may have `{name}` parts (they arrive
    in `request.params`); one path belongs to one plugin."""

    method: str
    path: str
    handler: WebHandler
    description: str = ""

