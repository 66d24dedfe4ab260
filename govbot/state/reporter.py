"""Carries out `Remember` actions: a plugin's value written to its namespace."""

from __future__ import annotations

from govbot.actions import Action, Remember
from govbot.state.store import StateStore


class StateReporter:
    action_types: tuple[type[Action], ...] = (Remember,)

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def report(self, action: Action) -> None:
        assert isinstance(action, Remember)
        await self._store.set_value(action.plugin, action.key, action.value)
