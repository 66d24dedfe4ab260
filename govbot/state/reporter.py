"""Carries out `Remember` and `Append`: a plugin's values and journals, in its namespace."""

from __future__ import annotations

from govbot.actions import Action, Append, Remember
from govbot.state.store import StateStore


class StateReporter:
    action_types: tuple[type[Action], ...] = (Remember, Append)

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def report(self, action: Action) -> None:
        if isinstance(action, Remember):
            await self._store.set_value(action.plugin, action.key, action.value)
        elif isinstance(action, Append):
            await self._store.journal_append(action.plugin, action.journal,
                                             action.entry or None, action.close)
