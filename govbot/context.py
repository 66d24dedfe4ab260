"""What a handler may read: the read-only `PluginContext` and the narrow readers in it.

Its own module, below govbot.plugin, govbot.commands and govbot.extensions, because all
three hand a context to plugin code: keeping it here is what keeps them free of import
circles. Plugins import these names from govbot.plugin, which re-exports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import msgspec

from govbot.config.model import GovernanceConfig
from govbot.zuul.model import CiReader

if TYPE_CHECKING:
    # PEP 747: `type[T]` would refuse a Protocol class (mypy's type-abstract).
    from typing_extensions import TypeForm

T = TypeVar("T")


class TransientReadError(Exception):
    """A read failed for a reason that passes: Gerrit answering 5xx or not at all (a
    timeout, a refused connection), the state database busy. The core's readers raise it
    (Gerrit's REST reader wraps its 5xx and timeouts in it) and the dispatcher recognises
    it: the event stays pending and that plugin is called again with backoff, its
    change's lane waiting meanwhile; after a bounded number of tries the event is parked
    (`govbot inbox retry`). Any other exception is permanent: reported once, not retried.
    A plugin that catches broad exceptions must re-raise this one
    (`except TransientReadError: raise` before `except Exception`)."""


class ChangeReader(Protocol):
    """Read-only Gerrit access. Results are Gerrit's REST JSON (ChangeInfo). For typed
    changes read through `govbot.gerrit.changes` (`read_change`, `change_pages`): the
    core's REST reader decodes them straight into structs, any other reader's JSON is
    converted."""

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        """Return the change `project~number` with labels, revisions and messages."""

    async def query(self, query: str, *, limit: int = 500,
                    options: Sequence[str] | None = None) -> Sequence[Mapping[str, Any]]:
        """Run a change query (all pages, up to `limit`). `options` are Gerrit's `o=`
        options; None: what judging a change needs (labels, messages, the current
        revision and files, detailed accounts). Ask for less when reading thousands."""

    def query_pages(self, query: str, *, limit: int | None = 500,
                    options: Sequence[str] | None = None
                    ) -> AsyncIterator[Sequence[Mapping[str, Any]]]:
        """The same query, one page at a time as Gerrit answers it: a reader of
        thousands of changes then holds one page, not all of them."""

    async def file_content(self, change: str, revision: str, path: str) -> bytes | None:
        """The content of `path` in `revision` (a sha or patch set number) of `change`
        (`project~number`); None when the file is not there (deleted, or no such change)."""


class StateReader(Protocol):
    """Read-only view of the plugin's own namespace in the state store."""

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored with `Remember(key=...)` by this plugin."""

    async def journal(self, name: str) -> list[Any]:
        """The entries appended with `Append(journal=name)`, in order."""

    async def open_journals(self) -> list[str]:
        """Journals of this plugin with entries that were never closed."""

    async def items(self, prefix: str) -> list[tuple[str, Any]]:
        """Every (key, value) this plugin remembered under a key starting with `prefix`,
        sorted by key; values remembered as None are left out. One read for all of them,
        so a page listing thousands of remembered summaries costs one query."""


@dataclass(frozen=True, slots=True)
class MinutesFile:
    """One file of minutes the core wrote, relative to its minutes directory."""

    path: str  # e.g. "example_tc/2026/example_tc.2026-11-19-16.00.html"
    meeting: str  # the meeting's name as the plugin gave it (WriteMinutes.meeting)
    written_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One line of minutes or of a log that matched a full-text search."""

    path: str  # the text file the line is in (a .txt or .log.txt)
    line: int  # 1-based line number in that file; a log's line n is `#l-n` of its .log.html
    text: str  # the whole line
    meeting: str


class MinutesLibrary(Protocol):
    """Read-only view of the minutes the core wrote (not restricted ones), and a
    full-text search over them (SQLite FTS5 in the state database, updated as the
    minutes reporter writes)."""

    async def files(self) -> Sequence[MinutesFile]:
        """Every minutes file written, sorted by path."""

    async def read(self, path: str) -> bytes | None:
        """The file at `path` (as `files()` lists it), or None: not a known file."""

    async def search(self, query: str, *, limit: int = 50) -> Sequence[SearchHit]:
        """Lines matching `query` (words, all of them; "quoted phrases"), best first."""


@dataclass(frozen=True, slots=True)
class ConfigReload:
    """One reload of the governance config that changed something, or failed."""

    at: dt.datetime
    reason: str  # "start-up", "poll", "merged change 42", "requested on IRC by ..."
    outcome: str  # "loaded", "rejected" or "failed" (could not be fetched)
    revision: str  # the revision tried
    errors: tuple[str, ...] = ()  # `FILE:LINE: message` when rejected; the error if failed


@dataclass(frozen=True, slots=True)
class BotStatus:
    """The bot's own state, for a page to show (the board's footer)."""

    ready: bool  # started and not stopping (what /healthz answers 200 for)
    config_revision: str  # the config in force ("" for a plain directory)
    attempted_revision: str  # the newest revision a reload tried
    config_errors: tuple[str, ...]  # `FILE:LINE: message` of that attempt, if rejected
    events_pending: int  # events accepted and not yet handled
    reloads: tuple[ConfigReload, ...] = ()  # the recent ones, newest first


class StatusReader(Protocol):
    def status(self) -> BotStatus:
        """The bot's state now (cheap: read from memory)."""


class IrcReader(Protocol):
    """Read-only IRC facts a plugin may need (e.g. `#chair NICK` resolves an account)."""

    async def account_of(self, nick: str) -> str | None:
        """The services account `nick` is logged in as right now (None: not logged in)."""

    def topic_of(self, channel: str) -> str | None:
        """The channel's topic as the bot last saw it ("" none; None: not known)."""

    def in_channel(self, channel: str, nick: str) -> bool | None:
        """Whether `nick` is in `channel` now (None: the bot is not there to see)."""


class ProposalChecker(Protocol):
    """Loads a proposed governance config (a Gerrit change of the config repo)."""

    async def check_ref(self, ref: str) -> Sequence[str]:
        """Return the `FILE:LINE: message` errors of the config at `ref` (empty: valid)."""

    async def config_at(self, ref: str) -> tuple[GovernanceConfig | None, Sequence[str]]:
        """The config at `ref` as it would load (None: it does not) and its errors; for
        the rule simulator judging under a proposed config."""

    async def config_with(self, files: Mapping[str, str]
                          ) -> tuple[GovernanceConfig | None, Sequence[str]]:
        """The merged config with `files` (path relative to the config root -> text)
        put over it, as it would load, and its errors; for the rule simulator judging
        an uploaded draft. Paths that leave the tree are errors, never written."""


class NoGerrit:
    """A ChangeReader for contexts without Gerrit (replay of recorded events)."""

    async def get_change(self, change: str) -> Mapping[str, Any] | None:
        return None

    async def query(self, query: str, *, limit: int = 500,
                    options: Sequence[str] | None = None) -> Sequence[Mapping[str, Any]]:
        return ()

    async def query_pages(self, query: str, *, limit: int | None = 500,
                          options: Sequence[str] | None = None
                          ) -> AsyncIterator[Sequence[Mapping[str, Any]]]:
        return
        yield  # an async generator of no pages

    async def file_content(self, change: str, revision: str, path: str) -> bytes | None:
        return None


class MemoryState:
    """A StateReader over plain dicts (replay, tests)."""

    def __init__(self, values: Mapping[str, Any] | None = None,
                 journals: Mapping[str, list[Any]] | None = None) -> None:
        self._values = dict(values or {})
        self._journals = {k: list(v) for k, v in (journals or {}).items()}

    async def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    async def journal(self, name: str) -> list[Any]:
        return list(self._journals.get(name, ()))

    async def open_journals(self) -> list[str]:
        return sorted(self._journals)

    async def items(self, prefix: str) -> list[tuple[str, Any]]:
        return sorted((k, v) for k, v in self._values.items()
                      if k.startswith(prefix) and v is not None)


class PluginSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of a plugin's operator settings (`plugins.settings.<name>`) and of the
    structs nested in them. Subclasses inherit `forbid_unknown_fields`, so a typo in
    the operator's file is a start-up error with FILE:LINE, never a silent default.
    Itself, it is the settings of a plugin that takes none: any key is an error."""


SettingsT = TypeVar("SettingsT", bound=msgspec.Struct)


class PluginContext(msgspec.Struct, frozen=True):
    """What one handler call may read. Built per call, so it must be cheap: a frozen
    msgspec struct is built in C, several times faster than a frozen dataclass."""

    plugin: str
    event_id: str
    config: GovernanceConfig
    gerrit: ChangeReader
    state: StateReader
    now: dt.datetime
    #: The operator's settings for this plugin, an instance of its `settings_type`.
    settings: msgspec.Struct = msgspec.field(default_factory=PluginSettings)
    proposals: ProposalChecker | None = None  # None when no config repo can be fetched
    irc: IrcReader | None = None  # None when IRC is off (replay, no irc: settings)
    ci: CiReader | None = None  # Zuul's live view; None without a zuul: section (replay)
    # What the enabled plugins offer each other (govbot.offers), by Protocol.
    offers: Mapping[type, object] = msgspec.field(default_factory=dict)
    bot_nick: str = "govbot"  # the bot's own IRC nick (the settings' irc.nick)
    public_url: str = ""  # the web server's public root (web.public_url), no trailing /
    minutes: MinutesLibrary | None = None  # the minutes written; None: no web, no state
    status: StatusReader | None = None  # the bot's readiness and config; None: no daemon

    def offer(self, protocol: TypeForm[T]) -> T | None:
        """The enabled plugin's implementation of `protocol` (a Protocol of
        govbot.offers), or None when no enabled plugin offers it: the caller then
        does without, and logs why."""
        return cast("T | None", self.offers.get(cast(type, protocol)))

    def settings_as(self, settings_type: type[SettingsT]) -> SettingsT:
        """`settings` typed as the plugin's own `settings_type`; its defaults when the
        context carries none (replay, benchmarks and unit tests build it without)."""
        settings = self.settings
        if isinstance(settings, settings_type):
            return settings
        if type(settings) is PluginSettings:
            return settings_type()
        raise TypeError(f"plugin {self.plugin}: settings are a {type(settings).__name__}, "
                        f"not a {settings_type.__name__}")

