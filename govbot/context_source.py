"""What plugin handlers may read: the `ContextSource` each runner of the dispatcher
builds (the daemon, `govbot replay`, the benchmarks, tests), and the per-call
`PluginContext` it makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import msgspec

from govbot.config.model import GovernanceConfig
from govbot.context import (
    ChangeReader,
    IrcReader,
    MinutesLibrary,
    PluginContext,
    PluginSettings,
    ProposalChecker,
    StateReader,
    StatusReader,
)
from govbot.events import Event
from govbot.zuul.model import CiReader

__all__ = ["NO_SETTINGS", "ContextSource"]

#: A plugin's settings when the context source has none for it (replay, tests): the
#: plugin reads its own defaults (`PluginContext.settings_as`).
NO_SETTINGS = PluginSettings()


class ContextSource:
    """Supplies what handlers may read; the daemon, replay and tests each build one.

    `clock(event)` gives "now" for handling that event: the wall clock in the
    daemon, the event's own time (or a fixed `--now`) in a deterministic replay.
    `offers` (what plugins offer each other, `ctx.offer`) defaults to the registry's
    of the dispatcher it is given to.
    """

    def __init__(
        self,
        *,
        config: Callable[[], GovernanceConfig],
        gerrit: ChangeReader,
        state: Callable[[str], StateReader],
        clock: Callable[[Event], dt.datetime],
        settings: Mapping[str, msgspec.Struct] | None = None,
        proposals: ProposalChecker | None = None,
        irc: IrcReader | None = None,
        ci: CiReader | None = None,
        offers: Mapping[type, object] | None = None,
        bot_nick: str = "govbot",
        public_url: str = "",
        minutes: MinutesLibrary | None = None,
        status: StatusReader | None = None,
    ) -> None:
        self.config = config
        self.gerrit = gerrit
        self.state = state
        self.clock = clock
        self.settings = settings or {}
        self.proposals = proposals
        self.irc = irc
        self.ci = ci
        #: What plugins offer each other; None: the dispatcher fills in its registry's.
        self.offers = offers
        self.bot_nick = bot_nick
        self.public_url = public_url.rstrip("/")
        self.minutes = minutes
        self.status = status
        self._states: dict[str, StateReader] = {}

    def context(self, plugin: str, event_id: str, now: dt.datetime,
                config: GovernanceConfig) -> PluginContext:
        state = self._states.get(plugin)
        if state is None:
            state = self._states[plugin] = self.state(plugin)
        return PluginContext(plugin, event_id, config, self.gerrit, state, now,
                             self.settings.get(plugin, NO_SETTINGS), self.proposals, self.irc,
                             self.ci, self.offers or {}, bot_nick=self.bot_nick,
                             public_url=self.public_url, minutes=self.minutes,
                             status=self.status)
