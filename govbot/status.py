"""The daemon's state as plain data for the pages (`ctx.status`, govbot.context.StatusReader):
ready or not, the config in force, the errors of a rejected reload, the events pending.
Read from memory on each call, like `/healthz`."""

from __future__ import annotations

from typing import Any

from govbot.context import BotStatus

__all__ = ["DaemonStatus"]


class DaemonStatus:
    def __init__(self, daemon: Any) -> None:
        self._daemon = daemon  # a govbot.daemon.Daemon (Any: the daemon imports this)

    def status(self) -> BotStatus:
        d = self._daemon
        holder = d.config_holder
        errors: tuple[str, ...] = ()
        if holder is not None and holder.last_error_count and holder.last_result is not None:
            errors = tuple(str(e) for e in holder.last_result.errors)
        return BotStatus(
            ready=d.started.is_set() and not d.stopping.is_set(),
            config_revision=holder.revision if holder is not None else "",
            attempted_revision=holder.attempted_revision if holder is not None else "",
            config_errors=errors,
            events_pending=d.dispatcher.pending if d.dispatcher is not None else 0,
            reloads=tuple(d.recent_reloads))
