"""Which plugin handlers an event goes to.

The registry answers by event class (`PluginRegistry.handlers_for`); a plugin may
also say it has nothing to do with a project (`Plugin.wants`). The answer depends
only on the event's class, its project and the loaded config, so it is worked out
once per such triple and remembered until the config changes: an event about a
project nobody acts on then costs one dictionary look-up, and the dispatcher can
finish it without a lane, a context or a handler call.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from govbot.config.model import GovernanceConfig
from govbot.context import PluginContext
from govbot.events import Event
from govbot.plugin import Handler, Plugin, PluginRegistry

log = logging.getLogger(__name__)

Routed = tuple[tuple[Plugin, Handler], ...]

#: Remembered (class, project) answers per config; past this many the table starts
#: over (a Gerrit with tens of thousands of projects must not grow it without end).
MAX_ROUTES = 100_000


class Routes:
    def __init__(self, registry: PluginRegistry,
                 context: Callable[[str, str, dt.datetime, GovernanceConfig], PluginContext]
                 ) -> None:
        self._registry = registry
        self._context = context
        #: Plugins that override `wants`: only they are asked.
        self._asking = frozenset(p.name for p in registry.plugins
                                 if type(p).wants is not Plugin.wants)
        self._config: GovernanceConfig | None = None
        self._routes: dict[tuple[type, str | None], Routed] = {}

    def handlers(self, event: Event, config: GovernanceConfig) -> Routed:
        """The handlers to call for `event` under `config`, in plugin order."""
        project = getattr(event, "project", None)
        return self.for_kind(type(event), project if type(project) is str else None, config)

    def for_kind(self, event_type: type, project: str | None, config: GovernanceConfig
                 ) -> Routed:
        """The handlers for events of `event_type` about `project` (None: not about one
        project, so every handler of the class)."""
        if config is not self._config:
            self._config, self._routes = config, {}
        key = (event_type, project)
        routed = self._routes.get(key)
        if routed is None:
            routed = found = self._registry.handlers_for(event_type)
            if project is not None and found and self._asking:
                # `wants` must not depend on the clock; it gets the wall clock's now.
                now = dt.datetime.now(dt.UTC)
                routed = tuple(
                    (plugin, handler) for plugin, handler in found
                    if plugin.name not in self._asking
                    or self._wants(plugin, event_type, project, now, config))
            if len(self._routes) >= MAX_ROUTES:
                self._routes = {}
            self._routes[key] = routed
        return routed

    def _wants(self, plugin: Plugin, event_type: type, project: str, now: dt.datetime,
               config: GovernanceConfig) -> bool:
        try:
            return plugin.wants(event_type, project,
                                self._context(plugin.name, "routing", now, config))
        except Exception:  # a plugin's bug must not lose its events: it gets them all
            log.exception("plugin %s: wants(%s, %r) failed; it is called for such events",
                          plugin.name, event_type.__name__, project)
            return True
